// decode::sample_descriptors: each of the five pixel -> map conventions (SPEC 1.6) against its
// explicit formula (a bilinear sample of a linear map is exact), zeros vs border padding,
// normalisation, and errors.
#include "support.hpp"

#include "kpt/decode/sampling.hpp"

using namespace kpt;
namespace tt = boost::test_tools;

namespace {

// [1, hc, wc] with value u + 10 v at column u, row v (a linear function: bilinear is exact).
tensor<float, cpu_ref> linear_map(index_t hc, index_t wc) {
  auto m = tensor<float, cpu_ref>::empty({1, hc, wc});
  for (index_t v = 0; v < hc; ++v)
    for (index_t u = 0; u < wc; ++u) m.data()[v * wc + u] = float(u + 10 * v);
  return m;
}

double sample_one(const tensor<float, cpu_ref>& map, double x, double y, index_t h, index_t w,
                  const decode::sampling_convention& c) {
  const auto xy = tensor<float, cpu_ref>::from({1, 2}, {float(x), float(y)});
  return decode::sample_descriptors(map, xy, h, w, c, false).item();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decode_sampling)

BOOST_AUTO_TEST_CASE(conventions_match_their_formulas) {
  const index_t h = 48, w = 64, hc = 6, wc = 8;
  const auto map = linear_map(hc, wc);
  const double x = 21, y = 13;
  struct expect {
    decode::sampling_convention c;
    double u, v;
  };
  const expect cases[] = {
      {decode::sampling::magicleap, 21.0 / 8 - 0.5, 13.0 / 8 - 0.5},                  // x/(W/2)-1, align_corners=False
      {decode::sampling::magicleap_torch04, 21.0 * 7 / 64, 13.0 * 5 / 48},           // x (Wc-1)/W
      {decode::sampling::pixel_centre, 21.5 / 8 - 0.5, 13.5 / 8 - 0.5},               // (x+0.5)/8 - 0.5
      {decode::sampling::tf_resize, 21.0 / 8, 13.0 / 8},                              // x/8
      {decode::sampling::kp2d, 21.0 * 7 / 63, 13.0 * 5 / 47},                         // x (Wc-1)/(W-1)
  };
  for (const auto& e : cases) {
    BOOST_TEST(e.c.u(x, w, wc) == e.u, tt::tolerance(1e-12));
    BOOST_TEST(sample_one(map, x, y, h, w, e.c) == e.u + 10 * e.v, tt::tolerance(1e-5));
  }
  // Pixel centres of cells: magicleap puts cell c's centre at pixel 8c + 4, pixel_centre at 8c + 3.5.
  BOOST_TEST(decode::sampling::magicleap.u(8 * 3 + 4, w, wc) == 3.0);
  BOOST_TEST(decode::sampling::pixel_centre.u(8 * 3 + 3.5, w, wc) == 3.0);
  BOOST_TEST(decode::sampling::kp2d.u(double(w - 1), w, wc) == double(wc - 1));
  BOOST_TEST((decode::sampling::by_name("tf_resize").padding == decode::sample_padding::border));
  BOOST_CHECK_THROW(decode::sampling::by_name("bicubic"), value_error);
}

BOOST_AUTO_TEST_CASE(zeros_and_border_padding) {
  const index_t h = 32, w = 32;
  const auto ones = tensor<float, cpu_ref>::ones({1, 4, 4});
  // magicleap at x = 0: u = -0.5, half of the weight falls outside (zeros): 0.5. y = 12: v = 1.
  BOOST_TEST(sample_one(ones, 0, 12, h, w, decode::sampling::magicleap) == 0.5, tt::tolerance(1e-6));
  // Corner: a quarter inside.
  BOOST_TEST(sample_one(ones, 0, 0, h, w, decode::sampling::magicleap) == 0.25, tt::tolerance(1e-6));
  // tf_resize at x = 31: u = 3.875, the tap at 4 is clamped to 3: 1.
  BOOST_TEST(sample_one(ones, 31, 31, h, w, decode::sampling::tf_resize) == 1.0, tt::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(rows_are_unit_vectors_of_the_bilinear_mix) {
  // D = 2: channel 0 linear, channel 1 constant 3.
  const index_t hc = 4, wc = 4;
  auto map = tensor<float, cpu_ref>::empty({2, hc, wc});
  for (index_t i = 0; i < hc * wc; ++i) map.data()[i] = float(i % wc + 10 * (i / wc)), map.data()[hc * wc + i] = 3.f;
  const auto xy = tensor<float, cpu_ref>::from({2, 2}, {12.f, 20.f, 5.f, 9.f});
  const auto d = decode::sample_descriptors(map, xy, 32, 32, decode::sampling::kp2d);
  BOOST_TEST(d.shape() == (kpt::shape{2, 2}));
  const double pts[2][2] = {{12, 20}, {5, 9}};
  for (int k = 0; k < 2; ++k) {
    const double a = pts[k][0] * 3 / 31 + 10 * pts[k][1] * 3 / 31, b = 3, n = std::hypot(a, b);
    BOOST_TEST(d.at({k, 0}) == a / n, tt::tolerance(1e-5));
    BOOST_TEST(d.at({k, 1}) == b / n, tt::tolerance(1e-5));
  }
  BOOST_CHECK_THROW(decode::sample_descriptors(map, tensor<float, cpu_ref>::zeros({2, 3}), 32, 32, decode::sampling::kp2d),
                    shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
