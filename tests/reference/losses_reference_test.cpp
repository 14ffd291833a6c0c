// The SuperPoint (SPEC 2.2-2.3) and KP2D (SPEC 6.1-6.6b) losses against an independent PyTorch
// implementation (tools/make_loss_fixtures.py; fixtures in tests/data/losses): every term's value
// and its gradient w.r.t. every input, on cpu_ref and cpu, float and double. A gradient the
// fixture does not store is zero in torch (e.g. L_desc w.r.t. the detached coordinates) and must
// be zero or absent here.
#include "fixtures.hpp"

#include <map>

#include "kpt/losses/kp2d.hpp"
#include "kpt/losses/superpoint.hpp"

using namespace kpt;
using kpt::reference::fixture;

namespace {

const std::string family = "../losses";  // fixtures.hpp's root() is tests/data/reference

std::vector<geometry::homography> load_homographies(const fixture& f) {
  const auto h = f.reference("homographies");
  std::vector<geometry::homography> out(std::size_t(h.size(0)));
  for (index_t b = 0; b < h.size(0); ++b)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) out[std::size_t(b)](r, c) = h.at({b, r, c});
  return out;
}

template <class T, class B>
void check_grads(const fixture& f, const std::string& term, const std::map<std::string, tensor<T, B>>& inputs,
                 double tol) {
  for (const auto& [name, x] : inputs) {
    const std::string g = "d" + term + "_" + name;
    if (f.has(g)) {
      f.check(x.grad(), g, tol);
    } else {
      bool zero = true;
      if (x.grad().defined())
        for (T v : x.grad().to_vector()) zero = zero && v == T(0);
      BOOST_TEST(zero, f.dir().filename().string() << ": " << g << " must be zero (torch has no gradient) on "
                                                   << B::name);
    }
  }
}

// Runs `term_of(inputs)` once per term (a backward frees the graph) and checks value and gradients.
template <class T, class B, class Make>
void check_terms(const fixture& f, const std::vector<std::string>& terms, std::map<std::string, tensor<T, B>>& inputs,
                 Make&& compute, double grad_tol = reference::rtol<T>) {
  for (const auto& term : terms) {
    for (auto& [n, x] : inputs) x.zero_grad();
    const tensor<T, B> y = compute(term);
    f.check(y, term);
    if (y.requires_grad()) y.backward();
    check_grads(f, term, inputs, grad_tol);
  }
}

// KP2D gradients in float: pixel coordinates up to 63 carry ~4e-6 px of rounding, and the terms
// cancel (d - mean d, differences of unit descriptors), so small gradient entries near the 1 %
// floor of fixtures.hpp differ by up to 1.9e-4 of that floor (measured; ~2e-6 of the largest
// entry). Values and double results keep the house tolerances.
template <class T>
inline constexpr double kp2d_grad_tol = std::is_same_v<T, float> ? 5e-4 : reference::rtol<T>;

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_losses)

BOOST_AUTO_TEST_CASE(superpoint_losses_match_torch) {
  const std::set<std::string> cases = {"superpoint_paper", "superpoint_rp_radius"};
  for (const auto& name : cases) {
    const fixture f(family, name);
    const auto hs = load_homographies(f);
    reference::on_every_backend([&]<class T, class B>() {
      std::map<std::string, tensor<T, B>> in;
      for (const char* n : {"semi", "warped_semi", "desc", "warped_desc"}) in[n] = f.input<T, B>(n).requires_grad_();
      const auto labels = f.index<B>("labels"), wlabels = f.index<B>("warped_labels");
      const bool masked = f.flag("masked");
      const auto valid = masked ? f.input<T, B>("cell_valid") : tensor<T, B>{};
      const auto wvalid = masked ? f.input<T, B>("warped_cell_valid") : tensor<T, B>{};
      losses::superpoint_loss_options opt;
      opt.lambda = f.param("lambda_");
      opt.descriptor.lambda_d = f.param("lambda_d");
      opt.descriptor.radius = f.param("radius");
      check_terms<T, B>(f, {"detector", "warped_detector", "descriptor", "total"}, in, [&](const std::string& term) {
        auto r = losses::superpoint_loss(in["semi"], in["warped_semi"], labels, wlabels, in["desc"], in["warped_desc"],
                                         hs, valid, wvalid, opt);
        return term == "detector" ? r.detector : term == "warped_detector" ? r.warped_detector
                                             : term == "descriptor"        ? r.descriptor
                                                                           : r.total;
      });
    });
  }
}

BOOST_AUTO_TEST_CASE(kp2d_losses_match_torch) {
  const std::set<std::string> cases = {"kp2d_io_active", "kp2d_defaults"};
  BOOST_TEST(reference::cases_on_disk(family) ==
                 (std::set<std::string>{"kp2d_io_active", "kp2d_defaults", "superpoint_paper", "superpoint_rp_radius"}),
             boost::test_tools::per_element());
  for (const auto& name : cases) {
    const fixture f(family, name);
    const auto hs = load_homographies(f);
    losses::kp2d_loss_options opt;
    opt.assoc_threshold = f.param("assoc_threshold");
    opt.relax = f.param("relax");
    opt.margin = f.param("margin");
    opt.min_border_cells = f.integer("min_border_cells");
    opt.io_points = f.integer("io_points");
    opt.io_inlier_threshold = f.param("io_inlier_threshold");
    opt.io_min_inliers = f.integer("io_min_inliers");
    opt.weights = {f.param("w_loc"), f.param("w_desc"), f.param("w_usp"), f.param("w_mse"), f.param("w_io")};
    reference::on_every_backend([&]<class T, class B>() {
      std::map<std::string, tensor<T, B>> in;
      for (const char* n : {"source_score", "source_coord", "source_desc", "target_score", "target_coord", "target_desc"})
        in[n] = f.input<T, B>(n).requires_grad_();
      // The fixtures' stand-in for IO-Net: tanh(sum_c w_c x_c + b) (tools/make_loss_fixtures.py).
      const auto w = tensor<T, B>::from({1, 5, 1, 1}, {T(0.3), T(-0.2), T(0.25), T(0.1), T(-0.5)});
      auto ionet = [&](const tensor<T, B>& x) { return tanh(add_scalar(sum(x * w, {1}, true), 0.1)); };
      check_terms<T, B>(f, {"loc", "desc", "usp", "mse", "io", "total"}, in, [&](const std::string& term) {
        const losses::kp2d_outputs<T, B> src{in["source_score"], in["source_coord"], in["source_desc"]};
        const losses::kp2d_outputs<T, B> tgt{in["target_score"], in["target_coord"], in["target_desc"]};
        auto r = losses::kp2d_loss(src, tgt, hs, opt, ionet);
        if (term == "total") {  // diagnostics, once
          BOOST_TEST(r.border_cells == f.integer("border_cells"));
          BOOST_TEST(r.valid_cells == f.integer("valid_cells"));
          BOOST_TEST(r.triplet_images == f.integer("triplet_images"));
          BOOST_TEST(r.io_inliers == f.integer("io_inliers"));
          BOOST_TEST(r.io_active == f.flag("io_active"));
          BOOST_TEST(std::abs(r.recall - f.param("recall")) < 1e-12);
        }
        return term == "loc" ? r.loc : term == "desc" ? r.desc : term == "usp" ? r.usp
                                   : term == "mse"    ? r.mse : term == "io"   ? r.io : r.total;
      }, kp2d_grad_tol<T>);
    });
  }
}

BOOST_AUTO_TEST_SUITE_END()
