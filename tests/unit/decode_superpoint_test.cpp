// decode::superpoint_heatmap / superpoint_keypoints / decode_superpoint (SPEC 1.4-1.5): both
// softmax variants against their formulas, the depth-to-space index order, threshold, NMS, border
// removal, top-k order and descriptor sampling on hand-built heatmaps, and a semi tensor whose
// single strong logit must land on a known pixel.
#include "support.hpp"

#include <cmath>

#include "kpt/decode/superpoint.hpp"

using namespace kpt;
namespace tt = boost::test_tools;
using kpt::test::random_tensor;

namespace {

// heat [h, w] with the given (x, y, value) entries, zero elsewhere.
tensor<float, cpu_ref> heat_with(index_t h, index_t w, std::initializer_list<std::array<double, 3>> pts) {
  auto t = tensor<float, cpu_ref>::zeros({h, w});
  for (const auto& p : pts) t.data()[index_t(p[1]) * w + index_t(p[0])] = float(p[2]);
  return t;
}

// x, y, score of every keypoint, flattened.
std::vector<float> rows(const decode::keypoints<float, cpu_ref>& k) { return k.xys().to_vector(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(decode_superpoint)

BOOST_AUTO_TEST_CASE(heatmap_is_softmax_then_depth_to_space) {
  const index_t n = 2, hc = 3, wc = 4;
  const auto semi = random_tensor<float>({n, 65, hc, wc}, 7, -3.0, 3.0);
  for (auto variant : {decode::softmax_variant::magicleap, decode::softmax_variant::exact}) {
    const auto heat = decode::superpoint_heatmap(semi, variant);
    BOOST_TEST_REQUIRE(heat.shape() == (kpt::shape{n, 8 * hc, 8 * wc}));
    for (index_t b = 0; b < n; ++b)
      for (index_t h = 0; h < hc; ++h)
        for (index_t w = 0; w < wc; ++w) {
          double sum = 0, top = -1e30;
          for (index_t c = 0; c < 65; ++c) top = std::max(top, double(semi.at({b, c, h, w})));
          for (index_t c = 0; c < 65; ++c) sum += std::exp(double(semi.at({b, c, h, w})));
          for (index_t c = 0; c < 64; ++c) {
            const double e = std::exp(double(semi.at({b, c, h, w})));
            const double p = variant == decode::softmax_variant::magicleap ? e / (sum + 1e-5) : e / sum;
            // heatmap[8h + i, 8w + j] = prob[8i + j, h, w]
            BOOST_TEST(heat.at({b, 8 * h + c / 8, 8 * w + c % 8}) == p, tt::tolerance(1e-5));
          }
        }
  }
}

BOOST_AUTO_TEST_CASE(magicleap_softmax_has_no_max_subtraction) {
  // All logits -20: the exact softmax is 1/65 everywhere; magicleap's +1e-5 dominates the sum.
  const auto semi = tensor<float, cpu_ref>::full({1, 65, 1, 1}, -20.f);
  const double e = std::exp(-20.0);
  BOOST_TEST(decode::superpoint_heatmap(semi, decode::softmax_variant::exact).at({0, 3, 5}) == 1.0 / 65, tt::tolerance(1e-6));
  BOOST_TEST(decode::superpoint_heatmap(semi, decode::softmax_variant::magicleap).at({0, 3, 5}) == e / (65 * e + 1e-5),
             tt::tolerance(1e-5));
  // A single image [65, Hc, Wc] gives a single heatmap.
  BOOST_TEST(decode::superpoint_heatmap(tensor<float, cpu_ref>::zeros({65, 2, 3})).shape() == (kpt::shape{16, 24}));
  BOOST_CHECK_THROW(decode::superpoint_heatmap(tensor<float, cpu_ref>::zeros({1, 64, 2, 3})), shape_error);
}

BOOST_AUTO_TEST_CASE(threshold_nms_border_and_order) {
  // 32 x 32, border 4 keeps x, y in [4, 27].
  const auto heat = heat_with(32, 32, {{10, 10, 0.9},    // suppressed
                                       {12, 11, 0.95},   // kept, and suppresses (10, 10) (2 px away)
                                       {2, 16, 0.8},     // removed by the border (x < 4)
                                       {20, 20, 0.3},    // kept
                                       {29, 20, 0.6},    // removed by the border (x >= 28)
                                       {27, 27, 0.5},    // kept (x = 27 = W - 5)
                                       {24, 4, 0.014},   // below the threshold 0.015
                                       {4, 24, 0.015}}); // at the threshold: kept (>=)
  const auto k = decode::superpoint_keypoints(heat);
  const std::vector<float> expected = {12, 11, 0.95f, 27, 27, 0.5f, 20, 20, 0.3f, 4, 24, 0.015f};
  BOOST_TEST(rows(k) == expected, tt::per_element());
  BOOST_TEST(!k.has_descriptors());
  // The border point suppresses its neighbour before it is removed (magicleap: NMS, then border).
  const auto near_border = heat_with(32, 32, {{2, 16, 0.8}, {5, 16, 0.7}});
  BOOST_TEST(decode::superpoint_keypoints(near_border).size() == 0);
  decode::superpoint_decode_options no_border;
  no_border.border = 0;
  BOOST_TEST(decode::superpoint_keypoints(near_border, {}, no_border).size() == 1);
  // Top-k keeps the best, in order.
  decode::superpoint_decode_options top2;
  top2.top_k = 2;
  const std::vector<float> best2 = {12, 11, 0.95f, 27, 27, 0.5f};
  BOOST_TEST(rows(decode::superpoint_keypoints(heat, {}, top2)) == best2, tt::per_element());
  // Without NMS both (10, 10) and (12, 11) stay; with box NMS of side 4 (offset (2, 1)) only one.
  decode::superpoint_decode_options none, box;
  none.nms = decode::nms_variant::none;
  box.nms = decode::nms_variant::box;
  BOOST_TEST(decode::superpoint_keypoints(heat, {}, none).size() == 5);
  BOOST_TEST(decode::superpoint_keypoints(heat, {}, box).size() == 4);
  decode::superpoint_decode_options mp;
  mp.nms = decode::nms_variant::maxpool;
  BOOST_TEST(rows(decode::superpoint_keypoints(heat, {}, mp)) == expected, tt::per_element());
}

BOOST_AUTO_TEST_CASE(one_strong_logit_lands_on_its_pixel) {
  // 4 x 4 cells (32 x 32). Dustbin logit 10 everywhere (heat ~ e^-10, below the threshold); in cell
  // (row 1, col 2) channel 8*3 + 5 = 29 has logit 10: heat[8 + 3, 16 + 5] = [11, 21] ~ 0.5.
  auto semi = tensor<float, cpu_ref>::zeros({1, 65, 4, 4});
  for (index_t i = 0; i < 16; ++i) semi.data()[64 * 16 + i] = 10.f;
  semi.at({0, 29, 1, 2}) = 10.f;
  // Descriptors: D = 3, the map's value depends on the cell, so sampling shows where it read.
  auto desc = tensor<float, cpu_ref>::zeros({1, 3, 4, 4});
  for (index_t i = 0; i < 16; ++i) desc.data()[i] = 1.f, desc.data()[16 + i] = float(i % 4), desc.data()[32 + i] = float(i / 4);
  const auto out = decode::decode_superpoint(semi, desc);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  const auto& k = out[0];
  BOOST_TEST_REQUIRE(k.size() == 1);
  BOOST_TEST(k.xy.at({0, 0}) == 21.f);  // x: column 8 * 2 + 5
  BOOST_TEST(k.xy.at({0, 1}) == 11.f);  // y: row 8 * 1 + 3
  const double e10 = std::exp(10.0);
  BOOST_TEST(k.score.at({0}) == e10 / (2 * e10 + 63 + 1e-5), tt::tolerance(1e-5));
  // magicleap convention: u = 21/8 - 0.5 = 2.125, v = 11/8 - 0.5 = 0.875 -> (1, u, v) normalised.
  BOOST_TEST_REQUIRE(k.desc.shape() == (kpt::shape{1, 3}));
  const double n = std::sqrt(1 + 2.125 * 2.125 + 0.875 * 0.875);
  BOOST_TEST(k.desc.at({0, 0}) == 1 / n, tt::tolerance(1e-5));
  BOOST_TEST(k.desc.at({0, 1}) == 2.125 / n, tt::tolerance(1e-5));
  BOOST_TEST(k.desc.at({0, 2}) == 0.875 / n, tt::tolerance(1e-5));
  // The same on the cpu backend.
  const auto c = decode::decode_superpoint(semi.to<cpu>(), desc.to<cpu>());
  BOOST_TEST(c[0].xy.to_vector() == k.xy.to_vector(), tt::per_element());
  BOOST_TEST(c[0].desc.to_vector() == k.desc.to_vector(), tt::per_element());
  // Mismatched descriptor map.
  BOOST_CHECK_THROW(decode::decode_superpoint(semi, tensor<float, cpu_ref>::zeros({1, 3, 4, 5})), shape_error);
}

BOOST_AUTO_TEST_CASE(keypoints_helpers) {
  decode::keypoints<float, cpu_ref> k;
  k.xy = tensor<float, cpu_ref>::from({3, 2}, {1, 2, 3, 4, 5, 6});
  k.score = tensor<float, cpu_ref>::from({3}, {0.2f, 0.7f, 0.2f});
  k.desc = tensor<float, cpu_ref>::from({3, 1}, {10, 20, 30});
  const auto t = decode::top_k(k, 2);
  BOOST_TEST(t.xy.to_vector() == (std::vector<float>{3, 4, 1, 2}), tt::per_element());  // tie: the first 0.2 wins
  BOOST_TEST(t.desc.to_vector() == (std::vector<float>{20, 10}), tt::per_element());
  BOOST_TEST(k.xys().to_vector() == (std::vector<float>{1, 2, 0.2f, 3, 4, 0.7f, 5, 6, 0.2f}), tt::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
