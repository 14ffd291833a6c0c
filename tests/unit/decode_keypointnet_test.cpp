// decode::keypointnet_*: positions from known tanh offsets (cell centre + ratio * 3.5 * offset,
// clamped; SPEC 5.1), the border-cell mask, per-cell descriptors from a dense map with
// align_corners = true, and decode_keypointnet's threshold (> 0), top-k order and descriptor rows.
#include "support.hpp"

#include "kpt/decode/keypointnet.hpp"

using namespace kpt;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(decode_keypointnet)

BOOST_AUTO_TEST_CASE(coordinates_from_offsets) {
  // 3 x 4 cells: a 24 x 32 image.
  auto off = tensor<float, cpu_ref>::zeros({1, 2, 3, 4});
  off.at({0, 0, 1, 2}) = 0.5f;   // x = 16 + 3.5 + 7 * 0.5 = 23
  off.at({0, 1, 1, 2}) = -0.5f;  // y = 8 + 3.5 - 3.5 = 8
  off.at({0, 1, 0, 0}) = -1.f;   // y = 3.5 - 7 -> clamped to 0
  off.at({0, 0, 2, 3}) = 1.f;    // x = 24 + 3.5 + 7 = 34.5 -> clamped to W - 1 = 31
  off.at({0, 0, 0, 1}) = -0.9f;  // x = 8 + 3.5 - 6.3 = 5.2
  const auto c = decode::keypointnet_coordinates(off, 2.0);
  BOOST_TEST(c.at({0, 0, 1, 2}) == 23.f, tt::tolerance(1e-6f));
  BOOST_TEST(c.at({0, 1, 1, 2}) == 8.f, tt::tolerance(1e-6f));
  BOOST_TEST(c.at({0, 1, 0, 0}) == 0.f);
  BOOST_TEST(c.at({0, 0, 2, 3}) == 31.f);
  BOOST_TEST(c.at({0, 0, 0, 1}) == 5.2f, tt::tolerance(1e-5f));
  BOOST_TEST(c.at({0, 0, 2, 1}) == 11.5f);  // zero offset: the cell centre 8j + 3.5
  BOOST_TEST(c.at({0, 1, 2, 1}) == 19.5f);  // 8i + 3.5
  // Without cross-border regression (ratio 1) the offsets reach +-3.5: x = 16 + 3.5 + 1.75.
  BOOST_TEST(decode::keypointnet_coordinates(off, 1.0).at({0, 0, 1, 2}) == 21.25f, tt::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(border_mask) {
  const auto m = decode::keypointnet_border_mask(3, 4);
  BOOST_TEST(m.to_vector() == (std::vector<float>{0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}), tt::per_element());
}

BOOST_AUTO_TEST_CASE(dense_descriptors_align_corners) {
  // Dense map 2 x 6 x 8 for a 24 x 32 image: channel 0 = u + 10 v, channel 1 = 1.
  const index_t hd = 6, wd = 8;
  auto dense = tensor<float, cpu_ref>::empty({1, 2, hd, wd});
  for (index_t i = 0; i < hd * wd; ++i) dense.data()[i] = float(i % wd + 10 * (i / wd)), dense.data()[hd * wd + i] = 1.f;
  auto coord = tensor<float, cpu_ref>::empty({1, 2, 1, 2});
  coord.data()[0] = 31.f, coord.data()[1] = 10.f;  // x of the two cells
  coord.data()[2] = 23.f, coord.data()[3] = 7.f;   // y
  const auto d = decode::keypointnet_descriptors(dense, coord, 24, 32);
  BOOST_TEST_REQUIRE(d.shape() == (kpt::shape{1, 2, 1, 2}));
  const double xs[2] = {31, 10}, ys[2] = {23, 7};
  for (int k = 0; k < 2; ++k) {
    const double a = xs[k] * 7 / 31 + 10 * ys[k] * 5 / 23, n = std::hypot(a, 1.0);  // u = x (Wd-1)/(W-1)
    BOOST_TEST(d.at({0, 0, 0, k}) == a / n, tt::tolerance(1e-5));
    BOOST_TEST(d.at({0, 1, 0, k}) == 1 / n, tt::tolerance(1e-5));
  }
}

BOOST_AUTO_TEST_CASE(decode_keeps_positive_cells_by_score) {
  // 3 x 3 cells; the border cells have score 0 (masked), the centre 0.4, plus two more cells.
  auto score = tensor<float, cpu_ref>::zeros({1, 1, 3, 3});
  score.at({0, 0, 1, 1}) = 0.4f;
  score.at({0, 0, 0, 2}) = 0.9f;
  score.at({0, 0, 2, 0}) = 0.4f;
  auto coord = tensor<float, cpu_ref>::empty({1, 2, 3, 3});
  for (index_t i = 0; i < 9; ++i) coord.data()[i] = float(100 + i), coord.data()[9 + i] = float(200 + i);
  auto desc = tensor<float, cpu_ref>::empty({1, 2, 3, 3});
  for (index_t i = 0; i < 9; ++i) desc.data()[i] = float(i), desc.data()[9 + i] = float(-i);
  const auto k = decode::decode_keypointnet(score, coord, desc)[0];
  // Sorted by score; the tie (cells 4 and 6, both 0.4) in row-major order.
  BOOST_TEST(k.xys().to_vector() == (std::vector<float>{102, 202, 0.9f, 104, 204, 0.4f, 106, 206, 0.4f}), tt::per_element());
  BOOST_TEST(k.desc.to_vector() == (std::vector<float>{2, -2, 4, -4, 6, -6}), tt::per_element());
  decode::keypointnet_decode_options o;
  o.top_k = 2;
  BOOST_TEST(decode::decode_keypointnet(score, coord, desc, o)[0].size() == 2);
  o.top_k = 0;
  o.threshold = 0.4;  // strict: 0.4 is dropped
  BOOST_TEST(decode::decode_keypointnet(score, coord, desc, o)[0].size() == 1);
  // Training-mode dense descriptors are refused with a pointer to keypointnet_descriptors.
  BOOST_CHECK_THROW(decode::decode_keypointnet(score, coord, tensor<float, cpu_ref>::zeros({1, 2, 6, 6})), shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
