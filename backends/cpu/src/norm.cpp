// Dispatch of the normalisation kernels to the best compiled arch; the running-stat update is a
// loop over channels, too small to dispatch.
#include "kpt/backends/cpu/norm.hpp"

#include "arch.hpp"
#include "norm_simd.hpp"

namespace kpt::kernels {

namespace {
template <class T>
void update_running(index_t c, const T* mean, const T* var, index_t count, double momentum, T* rm, T* rv) {
  const double unbias = double(count) / double(count - 1);
  for (index_t i = 0; i < c; ++i) {
    rm[i] = T((1 - momentum) * double(rm[i]) + momentum * double(mean[i]));
    rv[i] = T((1 - momentum) * double(rv[i]) + momentum * double(var[i]) * unbias);
  }
}
}  // namespace

#define KPT_NORM(T)                                                                                          \
  void norm_stats(cpu, const norm_geom& g, const T* x, T* mean, T* var) {                                    \
    cpu_detail::dispatch([&](auto arch) { cpu_detail::norm_stats_simd(arch, g, x, mean, var); });            \
  }                                                                                                          \
  void norm_forward(cpu, const norm_geom& g, const T* x, const T* mean, const T* var, const T* weight,       \
                    const T* bias, double eps, T* y) {                                                       \
    cpu_detail::dispatch(                                                                                    \
        [&](auto arch) { cpu_detail::norm_forward_simd(arch, g, x, mean, var, weight, bias, eps, y); });      \
  }                                                                                                          \
  void norm_update_running(cpu, index_t c, const T* mean, const T* var, index_t count, double momentum,     \
                           T* running_mean, T* running_var) {                                                \
    update_running(c, mean, var, count, momentum, running_mean, running_var);                               \
  }                                                                                                          \
  void norm_backward(cpu, const norm_geom& g, const T* gy, const T* x, const T* mean, const T* var,         \
                     const T* weight, double eps, bool batch_stats, T* gx, T* gweight, T* gbias) {            \
    cpu_detail::dispatch([&](auto arch) {                                                                    \
      cpu_detail::norm_backward_simd(arch, g, gy, x, mean, var, weight, eps, batch_stats, gx, gweight, gbias); \
    });                                                                                                      \
  }
KPT_NORM(float)
KPT_NORM(double)
#undef KPT_NORM

}  // namespace kpt::kernels
