// Detection average precision (eval/detection_ap.hpp) on hand-computed cases.
#include <boost/test/unit_test.hpp>

#include <vector>

#include "kpt/eval/detection_ap.hpp"

using namespace kpt;
using geometry::point2;

namespace {
eval::scored_keypoints detections(const std::vector<float>& rows) { return eval::scored_keypoints::from_rows(rows); }
}  // namespace

BOOST_AUTO_TEST_SUITE(eval_detection_ap)

// Sorted by score: tp (gt 0), fp (gt 0 already taken), fp (nothing near), tp (gt 1 at 3.6 px).
// precision 1, 1/2, 1/3, 1/2; recall 1/2, 1/2, 1/2, 1 -> AP = 1 * 1/2 + 1/2 * 1/2 = 3/4.
BOOST_AUTO_TEST_CASE(one_image_by_hand) {
  eval::detection_counter c(4.0);
  const std::vector<point2> gt = {{10, 10}, {50, 50}};
  c.add(detections({11, 10, 0.9f, 10, 12, 0.8f, 100, 100, 0.7f, 52, 53, 0.6f}), gt);
  const auto r = c.result();
  BOOST_TEST(r.average_precision == 0.75, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.precision == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.recall == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.true_positives == 2);
  BOOST_TEST(r.detections == 4);
}

// A second image pooled with the first: its detection at exactly 4 px is correct (<=), and the
// pooled ranking .95 tp, .9 tp, .8 fp, .7 fp, .65 fp, .6 tp over 3 points gives
// AP = 1/3 + 1/3 + 1/2 * 1/3 = 5/6.
BOOST_AUTO_TEST_CASE(images_are_pooled_by_score) {
  eval::detection_counter c(4.0);
  c.add(detections({11, 10, 0.9f, 10, 12, 0.8f, 100, 100, 0.7f, 52, 53, 0.6f}), std::vector<point2>{{10, 10}, {50, 50}});
  c.add(detections({5, 9, 0.95f, 30, 30, 0.65f}), std::vector<point2>{{5, 5}});
  const auto r = c.result();
  BOOST_TEST(r.average_precision == 5.0 / 6.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(r.images == 2);
  BOOST_TEST(r.ground_truth == 3);
}

// Interpolated precision (rpautrat's compute_pr): ranking tp, fp, tp, tp over 3 points has raw
// precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1; the precision at recall 2/3 becomes 3/4
// (the best at any higher recall), so AP = 1/3 + 3/4 * 1/3 + 3/4 * 1/3 = 5/6, not the raw 0.8056.
BOOST_AUTO_TEST_CASE(precision_is_interpolated) {
  eval::detection_counter c(4.0);
  c.add(detections({10, 10, 0.9f, 70, 70, 0.8f, 30, 30, 0.7f, 50, 50, 0.6f}),
        std::vector<point2>{{10, 10}, {30, 30}, {50, 50}});
  BOOST_TEST(c.result().average_precision == 5.0 / 6.0, boost::test_tools::tolerance(1e-12));
}

// rpautrat's ground truth: rounded, clipped into the image, duplicates merged.
BOOST_AUTO_TEST_CASE(pixel_ground_truth_rounds_clips_and_merges) {
  const std::vector<point2> raw = {{3.4, 5.6}, {3.2, 6.4}, {159.7, -0.2}, {10.5, 2.49}};
  const auto gt = eval::pixel_ground_truth(raw, {120, 160});
  BOOST_TEST_REQUIRE(gt.size() == 3u);
  BOOST_TEST((gt[0] == point2(3, 6)));
  BOOST_TEST((gt[1] == point2(159, 0)));
  BOOST_TEST((gt[2] == point2(10, 2)));  // 10.5 rounds half to even
}

BOOST_AUTO_TEST_CASE(perfect_and_empty) {
  eval::detection_counter perfect(4.0);
  perfect.add(detections({1, 2, 0.5f, 30, 40, 0.4f}), std::vector<point2>{{30, 40}, {1, 2}});
  BOOST_TEST(perfect.result().average_precision == 1.0, boost::test_tools::tolerance(1e-12));
  eval::detection_counter none(4.0);
  none.add(detections({}), std::vector<point2>{{3, 3}});
  BOOST_TEST(none.result().average_precision == 0.0);
  BOOST_TEST(none.result().recall == 0.0);
  BOOST_CHECK_THROW(eval::detection_counter(0.0), value_error);
}

BOOST_AUTO_TEST_SUITE_END()
