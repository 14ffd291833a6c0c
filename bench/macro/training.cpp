// kpt-bench training cases: one optimisation step on 8 source + 8 target images at 240x320 —
// both forwards, the full loss of the paper (SuperPoint: detector on both + descriptor hinge;
// KP2D V4: location, triplet, usp, score MSE and the IO-Net term), backward, Adam. Inputs are
// random images related by a mild homography; only the timing matters here.
#include <cmath>
#include <memory>

#include "kpt/losses/kp2d.hpp"
#include "kpt/losses/superpoint.hpp"
#include "kpt/models/ionet.hpp"
#include "kpt/nn/visit.hpp"
#include "kpt/optim/adam.hpp"
#include "workloads.hpp"

namespace kpt::bench {

namespace {

constexpr index_t batch = 8, H = 240, W = 320;

using T = float;
using tensor_t = tensor<T, cpu>;

// A small rotation and shift about the image centre, in pixels (image -> warped).
geometry::homography mild_homography(index_t i) {
  const double a = 0.05 * double(i % 3 - 1), c = std::cos(a), s = std::sin(a);
  geometry::homography h;
  h << c, -s, 4.0 * double(i % 2), s, c, -3.0, 0, 0, 1;
  return geometry::compose(geometry::translation(W / 2.0, H / 2.0), geometry::compose(h, geometry::translation(-W / 2.0, -H / 2.0)));
}

template <class Model>
std::shared_ptr<optim::adam<T, cpu>> adam_over(Model& m) {
  std::vector<optim::param<T, cpu>> ps;
  nn::visit_trainable(m, [&](const std::string& name, tensor_t& t) { ps.push_back({name, t}); });
  return std::make_shared<optim::adam<T, cpu>>(std::move(ps), optim::adam_options{.lr = 1e-4});
}

workload train_superpoint() {
  using C = models::superpoint_magicleap;
  return {"train_superpoint_240_b8", int(2 * batch), 3 * 2 * double(batch) * superpoint_gflop<C>(H, W), 3, [] {
            auto model = std::make_shared<models::superpoint<C, T, cpu>>(1);
            auto opt = adam_over(*model);
            const auto x = uniform_tensor<tensor_t>({batch, 1, H, W}, 2), xw = uniform_tensor<tensor_t>({batch, 1, H, W}, 3);
            rng g(4);
            std::vector<std::int64_t> l1(std::size_t(batch * (H / 8) * (W / 8))), l2(l1.size());
            for (auto& v : l1) v = std::int64_t(g.below(65));
            for (auto& v : l2) v = std::int64_t(g.below(65));
            const auto labels = tensor<std::int64_t, cpu>::from({batch, H / 8, W / 8}, l1);
            const auto warped_labels = tensor<std::int64_t, cpu>::from({batch, H / 8, W / 8}, l2);
            std::vector<geometry::homography> hs;
            for (index_t i = 0; i < batch; ++i) hs.push_back(mild_homography(i));
            return std::function<void()>([=] {
              auto a = model->forward(x);
              auto b = model->forward(xw);
              auto loss = losses::superpoint_loss(a.semi, b.semi, labels, warped_labels, a.desc, b.desc, hs);
              opt->zero_grad();
              loss.total.backward();
              opt->step();
            });
          }};
}

workload train_keypointnet() {
  using C = models::keypointnet_v4;
  using net_t = models::keypointnet<C, T, cpu>;
  using io_t = models::ionet<models::ionet_kp2d, T, cpu>;
  return {"train_keypointnet_240_b8", int(2 * batch), 3 * 2 * double(batch) * keypointnet_gflop<C>(H, W), 3, [] {
            auto model = std::make_shared<net_t>(1);
            auto io = std::make_shared<io_t>(2);
            auto opt = adam_over(*model);
            nn::visit_trainable(*io, [&](const std::string& name, tensor_t& t) { opt->add_param_group({{"io." + name, t}}, {.lr = 1e-4}); });
            const auto x = net_t::normalize_input(uniform_tensor<tensor_t>({batch, 3, H, W}, 2));
            const auto xw = net_t::normalize_input(uniform_tensor<tensor_t>({batch, 3, H, W}, 3));
            // KP2D's H maps normalised source (warped) coordinates to the target (SPEC 6.1).
            std::vector<geometry::homography> hs;
            for (index_t i = 0; i < batch; ++i)
              hs.push_back(geometry::pixel_h_to_normalized(geometry::invert(mild_homography(i)), {H, W}));
            return std::function<void()>([=] {
              auto s = model->forward(xw);  // source = the augmented image
              auto t = model->forward(x);
              auto loss = losses::kp2d_loss<T, cpu>({s.score, s.coord, s.desc}, {t.score, t.coord, t.desc}, hs, {},
                                                    [&](const tensor_t& in) { return io->forward(in); });
              opt->zero_grad();
              loss.total.backward();
              opt->step();
            });
          }};
}

}  // namespace

std::vector<workload> training_workloads() { return {train_superpoint(), train_keypointnet()}; }

}  // namespace kpt::bench
