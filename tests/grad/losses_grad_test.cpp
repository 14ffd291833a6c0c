// gradcheck (double) of the SuperPoint and KP2D losses (include/kpt/losses/) w.r.t. every
// differentiable input, on 32x48 images with D = 8, cpu_ref and cpu. Inputs are drawn away from
// selection ties and thresholds (association, border, inlier), so finite differences do not cross
// a discrete decision. KP2D terms whose coordinates are detached (L_desc, L_mse) are checked
// w.r.t. descriptors / scores, and their coordinate gradient must be exactly zero.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/losses/kp2d.hpp"
#include "kpt/losses/superpoint.hpp"

using namespace kpt;
using kpt::test::random_tensor;
using geometry::homography;

namespace {

homography mild_homography(rng& g, double w, double h, double shift, double persp) {
  homography a = homography::Identity();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) a(r, c) += g.uniform(-0.06, 0.06);
  a(2, 0) = g.uniform(-persp, persp), a(2, 1) = g.uniform(-persp, persp), a(2, 2) = 1;
  a(0, 2) = g.uniform(-shift, shift), a(1, 2) = g.uniform(-shift, shift);
  return geometry::compose(geometry::translation(w / 2, h / 2), geometry::compose(a, geometry::translation(-w / 2, -h / 2)));
}

template <class B>
void superpoint_gradcheck() {
  const index_t n = 2, d = 8, hc = 4, wc = 6;
  rng g(11);
  auto semi = random_tensor<double, B>({n, 65, hc, wc}, 1, -3, 3);
  auto wsemi = random_tensor<double, B>({n, 65, hc, wc}, 2, -3, 3);
  auto desc = random_tensor<double, B>({n, d, hc, wc}, 3, -0.6, 0.6);
  auto wdesc = random_tensor<double, B>({n, d, hc, wc}, 4, -0.6, 0.6);
  auto lab = tensor<std::int64_t, cpu_ref>::empty({n, hc, wc});
  for (auto& v : lab.values()) v = std::int64_t(g.below(65));
  const auto labels = lab.template to<B>();
  auto vm = tensor<double, cpu_ref>::empty({n, hc, wc});
  for (auto& v : vm.values()) v = g.uniform() < 0.75 ? 1.0 : 0.0;
  vm.values()[0] = 1;
  const auto valid = vm.template to<B>();
  const std::vector<homography> hs = {mild_homography(g, 48, 32, 6, 1e-3), mild_homography(g, 48, 32, 6, 1e-3)};

  auto r1 = gradcheck<B>([&](const auto& in) { return losses::detector_loss(in[0], labels, valid); }, {semi});
  BOOST_TEST(r1.ok, r1.report);
  auto r2 = gradcheck<B>([&](const auto& in) { return losses::descriptor_loss(in[0], in[1], hs, valid); }, {desc, wdesc});
  BOOST_TEST(r2.ok, r2.report);
  losses::superpoint_loss_options opt;
  opt.lambda = 0.01;
  opt.descriptor.radius = 7.5;
  auto r3 = gradcheck<B>(
      [&](const auto& in) {
        return losses::superpoint_loss(in[0], in[1], labels, labels, in[2], in[3], hs, {}, valid, opt).total;
      },
      {semi, wsemi, desc, wdesc});
  BOOST_TEST(r3.ok, r3.report);
}

// KP2D inputs on 32x48 (4x6 cells, 8 interior), dense maps 8x12: target keypoints are the warped
// source points plus noise, a few elsewhere; scores distinct.
struct kp2d_inputs {
  std::vector<tensor<double, cpu_ref>> x;  // s_s, p_s, F_s, s_t, p_t, F_t
  std::vector<homography> hn;
};

kp2d_inputs make_kp2d(std::uint64_t seed) {
  const index_t b = 2, hc = 4, wc = 6, m = hc * wc, d = 8;
  const double w = 48, h = 32;
  rng g(seed);
  kp2d_inputs k;
  auto ps = tensor<double, cpu_ref>::empty({b, 2, hc, wc}), pt = ps.clone();
  for (index_t i = 0; i < b; ++i) {
    homography a = homography::Identity();
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 2; ++c) a(r, c) += g.uniform(-0.05, 0.05);
    k.hn.push_back(a);
    const auto hp = geometry::normalized_h_to_pixel(a, {32, 48});
    for (index_t y = 0; y < hc; ++y)
      for (index_t x = 0; x < wc; ++x) {
        const double px = 8.0 * double(x) + 3.5 + g.uniform(-3, 3), py = 8.0 * double(y) + 3.5 + g.uniform(-3, 3);
        ps.at({i, 0, y, x}) = px, ps.at({i, 1, y, x}) = py;
        auto q = geometry::apply(hp, {px, py});
        if (g.uniform() < 0.2) q = {g.uniform(0, w - 1), g.uniform(0, h - 1)};
        else q += geometry::point2(g.uniform(-2.5, 2.5), g.uniform(-2.5, 2.5));
        pt.at({i, 0, y, x}) = q.x(), pt.at({i, 1, y, x}) = q.y();
      }
  }
  auto scores = [&](std::uint64_t s) {  // a random permutation of distinct values
    auto t = tensor<double, cpu_ref>::empty({b, 1, hc, wc});
    rng gs(s);
    for (index_t i = 0; i < b; ++i) {
      std::vector<double> v(static_cast<std::size_t>(m));
      for (index_t j = 0; j < m; ++j) v[std::size_t(j)] = (double(j) + 0.5) / double(m);
      std::shuffle(v.begin(), v.end(), gs);
      std::copy(v.begin(), v.end(), t.values().begin() + i * m);
    }
    return t;
  };
  k.x = {scores(seed + 1), ps, random_tensor<double>({b, d, 8, 12}, seed + 2), scores(seed + 3), pt,
         random_tensor<double>({b, d, 8, 12}, seed + 4)};
  return k;
}

template <class B>
std::vector<tensor<double, B>> on(const std::vector<tensor<double, cpu_ref>>& v) {
  std::vector<tensor<double, B>> o;
  for (const auto& t : v) o.push_back(t.template to<B>());
  return o;
}

template <class B>
void kp2d_gradcheck() {
  for (std::uint64_t seed : {100u, 200u, 300u}) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      const auto k = make_kp2d(seed);
      const auto x = on<B>(k.x);
      losses::kp2d_loss_options opt;
      opt.min_border_cells = 4;
      opt.io_points = 10;
      opt.io_inlier_threshold = 20;
      opt.io_min_inliers = 0;
      const auto w = tensor<double, B>::from({1, 5, 1, 1}, {0.3, -0.2, 0.25, 0.1, -0.5});
      auto ionet = [&](const tensor<double, B>& in) { return tanh(add_scalar(sum(in * w, {1}, true), 0.1)); };
      // The full set with some inputs replaced by the gradcheck's copies.
      auto run = [&](std::vector<tensor<double, B>> all) {
        return losses::kp2d_loss(losses::kp2d_outputs<double, B>{all[0], all[1], all[2]},
                                 losses::kp2d_outputs<double, B>{all[3], all[4], all[5]}, k.hn, opt, ionet);
      };
      auto with = [&](const std::vector<int>& which, const auto& in) {
        auto all = x;
        for (std::size_t i = 0; i < which.size(); ++i) all[std::size_t(which[i])] = in[i];
        return all;
      };
      auto pick = [&](const std::vector<int>& which) {
        std::vector<tensor<double, B>> o;
        for (int i : which) o.push_back(x[std::size_t(i)]);
        return o;
      };
      {  // the drawn case exercises every term
        const auto r = run(x);
        BOOST_TEST(r.valid_cells > 4);
        BOOST_TEST(r.triplet_images == 2);
        BOOST_TEST(r.io_active);
      }
      gradcheck_options go;
      go.atol = 1e-6;
      const std::vector<int> coords = {1, 4}, scores_coords = {0, 1, 3, 4}, descs = {2, 5}, scores = {0, 3},
                             io_inputs = {1, 2, 4, 5};
      auto loc = gradcheck<B>([&](const auto& in) { return run(with(coords, in)).loc; }, pick(coords), go);
      BOOST_TEST(loc.ok, "L_loc\n" << loc.report);
      auto usp = gradcheck<B>([&](const auto& in) { return run(with(scores_coords, in)).usp; }, pick(scores_coords), go);
      BOOST_TEST(usp.ok, "L_usp\n" << usp.report);
      auto mse = gradcheck<B>([&](const auto& in) { return run(with(scores, in)).mse; }, pick(scores), go);
      BOOST_TEST(mse.ok, "L_mse\n" << mse.report);
      auto desc = gradcheck<B>([&](const auto& in) { return run(with(descs, in)).desc; }, pick(descs), go);
      BOOST_TEST(desc.ok, "L_desc\n" << desc.report);
      auto io = gradcheck<B>([&](const auto& in) { return run(with(io_inputs, in)).io; }, pick(io_inputs), go);
      BOOST_TEST(io.ok, "L_io\n" << io.report);

      // Detached coordinates: no gradient from L_desc or L_mse into the keypoint positions.
      for (int term = 0; term < 2; ++term) {
        auto all = x;
        for (int i : coords) all[std::size_t(i)] = x[std::size_t(i)].clone().requires_grad_();
        for (int i : descs) all[std::size_t(i)] = x[std::size_t(i)].clone().requires_grad_();
        for (int i : scores) all[std::size_t(i)] = x[std::size_t(i)].clone().requires_grad_();
        const auto r = run(all);
        (term == 0 ? r.desc : r.mse).backward();
        for (int i : coords) {
          bool zero = true;
          if (all[std::size_t(i)].grad().defined())
            for (double v : all[std::size_t(i)].grad().to_vector()) zero = zero && v == 0.0;
          BOOST_TEST(zero, (term == 0 ? "L_desc" : "L_mse") << " has a gradient into coordinate input " << i);
        }
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(superpoint_losses_pass_gradcheck_cpu_ref) { superpoint_gradcheck<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(superpoint_losses_pass_gradcheck_cpu) { superpoint_gradcheck<cpu>(); }
BOOST_AUTO_TEST_CASE(kp2d_losses_pass_gradcheck_cpu_ref) { kp2d_gradcheck<cpu_ref>(); }
BOOST_AUTO_TEST_CASE(kp2d_losses_pass_gradcheck_cpu) { kp2d_gradcheck<cpu>(); }
