// Built against an installed kpt: a gradient through the cpu backend.
#include <kpt/backends/cpu.hpp>
#include <kpt/ops/binary.hpp>

#include <cstdio>

int main() {
  using T = kpt::tensor<float, kpt::cpu>;
  auto a = T::from({3}, {1.f, 2.f, 3.f}).requires_grad_();
  auto b = T::from({3}, {4.f, 5.f, 6.f});
  auto y = kpt::mul(a, b);
  kpt::autograd::backward(y, T::ones({3}));
  const auto g = a.grad().to_vector();
  std::printf("grad = %g %g %g\n", g[0], g[1], g[2]);
  return g[0] == 4.f && g[1] == 5.f && g[2] == 6.f ? 0 : 1;
}
