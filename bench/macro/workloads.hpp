#pragma once
// The cases of kpt-bench: each builds its model and inputs once (make) and returns the step that
// is timed. FLOP counts are the convolutions' multiply-adds (x2), computed from the configs.
#include <functional>
#include <string>
#include <vector>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/backends/cpu.hpp"
#include "kpt/core/random.hpp"
#include "kpt/models/keypointnet.hpp"
#include "kpt/models/superpoint.hpp"

namespace kpt::bench {

struct workload {
  std::string name;
  int images = 1;          // images per step (training: source + target)
  double gflop = 0;        // per step
  int default_repeat = 5;
  std::function<std::function<void()>()> make;
};

inline double conv_gflop(double cin, double cout, double k, double h, double w) {
  return 2.0 * cin * cout * k * k * h * w * 1e-9;
}

// One image of H x W through SuperPoint's convolutions (SPEC 1.1).
template <class C>
double superpoint_gflop(double H, double W) {
  const auto w = C::widths;
  double g = 0, h = H, x = W, in = C::in_channels;
  for (int s = 0; s < 4; ++s) {
    g += conv_gflop(in, w[s], 3, h, x) + conv_gflop(w[s], w[s], 3, h, x);
    in = w[s];
    if (s < 3) h /= 2, x /= 2;
  }
  g += conv_gflop(in, C::head_width, 3, h, x) + conv_gflop(C::head_width, C::cell * C::cell + 1, 1, h, x);
  if (C::descriptor_head)
    g += conv_gflop(in, C::head_width, 3, h, x) + conv_gflop(C::head_width, C::descriptor_size, 1, h, x);
  return g;
}

// One image of H x W through KeyPointNet's convolutions (SPEC 5.1).
template <class C>
double keypointnet_gflop(double H, double W) {
  const auto w = C::widths;
  double g = 0, h = H, x = W, in = C::color ? 3 : 1;
  for (int s = 0; s < 4; ++s) {
    g += conv_gflop(in, w[s], 3, h, x) + conv_gflop(w[s], w[s], 3, h, x);
    in = w[s];
    if (s < 3) h /= 2, x /= 2;
  }
  const double c5 = C::head_width;
  g += 3 * conv_gflop(in, c5, 3, h, x);                                 // convDa, convPa, convFa
  g += conv_gflop(c5, 1, 3, h, x) + conv_gflop(c5, 2, 3, h, x);         // convDb, convPb
  if (C::upsample) {
    g += conv_gflop(c5, C::upsample_width, 3, h, x);                    // convFb
    const double skip = w[2], up = C::upsample_width / 4.0;
    g += conv_gflop(up + skip, c5, 3, 2 * h, 2 * x) + conv_gflop(c5, C::descriptor_size, 3, 2 * h, 2 * x);
  } else {
    g += conv_gflop(c5, c5, 3, h, x) + conv_gflop(c5, C::descriptor_size, 3, h, x);
  }
  return g;
}

template <class T>
T uniform_tensor(const kpt::shape& s, std::uint64_t seed) {
  rng g(seed);
  auto t = T::empty(s);
  for (auto& v : t.values()) v = static_cast<typename T::value_type>(g.uniform(0.0, 1.0));
  return t;
}

template <class Config>
workload infer_superpoint(const char* name, index_t H, index_t W) {
  return {name, 1, superpoint_gflop<Config>(double(H), double(W)), 5, [H, W] {
            auto model = std::make_shared<models::superpoint<Config, float, cpu>>(1);
            model->eval();
            auto x = uniform_tensor<tensor<float, cpu>>({1, Config::in_channels, H, W}, 2);
            return std::function<void()>([model, x] {
              no_grad guard;
              auto out = model->forward(x);
              (void)out;
            });
          }};
}

template <class Config>
workload infer_keypointnet(const char* name, index_t H, index_t W) {
  using model_t = models::keypointnet<Config, float, cpu>;
  return {name, 1, keypointnet_gflop<Config>(double(H), double(W)), 5, [H, W] {
            auto model = std::make_shared<model_t>(1);
            model->eval();
            auto x = model_t::normalize_input(uniform_tensor<tensor<float, cpu>>({1, 3, H, W}, 2));
            return std::function<void()>([model, x] {
              no_grad guard;
              auto out = model->forward(x);
              (void)out;
            });
          }};
}

std::vector<workload> training_workloads();  // training.cpp

inline const std::vector<workload>& workloads() {
  static const std::vector<workload> all = [] {
    std::vector<workload> v = {
        infer_superpoint<models::superpoint_magicleap>("infer_superpoint_240", 240, 320),
        infer_superpoint<models::superpoint_magicleap>("infer_superpoint_480", 480, 640),
        infer_keypointnet<models::keypointnet_v4>("infer_keypointnet_240", 240, 320),
        infer_keypointnet<models::keypointnet_v4>("infer_keypointnet_480", 480, 640),
    };
    for (auto& w : training_workloads()) v.push_back(std::move(w));
    return v;
  }();
  return all;
}

}  // namespace kpt::bench
