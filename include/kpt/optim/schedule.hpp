#pragma once
// Learning-rate schedules as closed forms of the epoch. A schedule gives a factor; apply()
// sets every group's lr to its initial lr times that factor (as PyTorch's schedulers scale each
// group's initial_lr), so groups with different learning rates keep their ratio.
//
//   optim::kp2d_halving sched;                    // KP2D: 1e-3 for epochs 0-39, 5e-4 for 40-49
//   for (int epoch = 0; epoch < 50; ++epoch) { optim::apply(opt, sched, epoch); ... }
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kpt/core/error.hpp"

namespace kpt::optim {

// factor = gamma ^ floor(epoch / step_size)   (torch.optim.lr_scheduler.StepLR, closed form)
struct step_decay {
  std::int64_t step_size = 1;
  double gamma = 0.1;
  double factor(std::int64_t epoch) const {
    require<value_error>(step_size > 0, "step_decay: step_size ", step_size, " must be positive");
    require<value_error>(epoch >= 0, "step_decay: epoch ", epoch, " is negative");
    return std::pow(gamma, double(epoch / step_size));
  }
};

// factor = gamma ^ (number of milestones <= epoch)   (MultiStepLR)
struct multi_step_decay {
  std::vector<std::int64_t> milestones;
  double gamma = 0.1;
  double factor(std::int64_t epoch) const {
    const auto passed = std::count_if(milestones.begin(), milestones.end(), [&](std::int64_t m) { return m <= epoch; });
    return std::pow(gamma, double(passed));
  }
};

// KP2D (train_keypoint_net.py): lr = base * 0.5 ^ min(floor(epoch / period), max_halvings),
// period = 40 / repeat epochs (SPEC 6.7), set at the start of each epoch.
struct kp2d_halving {
  double period = 40;
  std::int64_t max_halvings = 4;
  double factor(std::int64_t epoch) const {
    require<value_error>(period > 0, "kp2d_halving: period ", period, " must be positive");
    require<value_error>(epoch >= 0, "kp2d_halving: epoch ", epoch, " is negative");
    const double halvings = std::min(std::floor(double(epoch) / period), double(max_halvings));
    return std::pow(0.5, halvings);
  }
};

// lr of every group of `opt` := its initial lr * schedule.factor(epoch).
template <class Optimizer, class Schedule>
void apply(Optimizer& opt, const Schedule& schedule, std::int64_t epoch) {
  const double f = schedule.factor(epoch);
  for (std::size_t g = 0; g < opt.num_groups(); ++g) opt.options(g).lr = opt.initial_lr(g) * f;
}

}  // namespace kpt::optim
