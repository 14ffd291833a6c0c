#pragma once
// Whether ops record themselves on the tape. Per thread, on by default.
namespace kpt {

namespace autograd::detail {
inline bool& grad_enabled_flag() {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace autograd::detail

inline bool grad_enabled() { return autograd::detail::grad_enabled_flag(); }

// RAII guard: no op records a tape node while it lives (inference, optimiser updates).
class no_grad {
 public:
  no_grad() : previous_(grad_enabled()) { autograd::detail::grad_enabled_flag() = false; }
  ~no_grad() { autograd::detail::grad_enabled_flag() = previous_; }
  no_grad(const no_grad&) = delete;
  no_grad& operator=(const no_grad&) = delete;

 private:
  bool previous_;
};

}  // namespace kpt
