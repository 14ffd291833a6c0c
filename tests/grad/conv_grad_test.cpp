#include "support.hpp"

#include <optional>
#include <string>

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/ops/conv.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {

struct conv_case {
  index_t n, c, h, w, o, kh, kw, stride, padding;
  bool bias;
};

std::string describe(const conv_case& k) {
  std::ostringstream os;
  os << "x [" << k.n << ", " << k.c << ", " << k.h << ", " << k.w << "] w [" << k.o << ", " << k.c << ", " << k.kh
     << ", " << k.kw << "] stride " << k.stride << " padding " << k.padding << (k.bias ? " bias" : " no bias");
  return os.str();
}

// conv2d, or with a slope conv2d_leaky_relu.
template <class B>
void check_conv2d(const conv_case& k, std::uint64_t seed, std::optional<double> slope = std::nullopt) {
  auto x = random_tensor<double, B>({k.n, k.c, k.h, k.w}, seed);
  auto w = random_tensor<double, B>({k.o, k.c, k.kh, k.kw}, seed + 1);
  std::vector<tensor<double, B>> in{x, w};
  if (k.bias) in.push_back(random_tensor<double, B>({k.o}, seed + 2));
  const conv2d_options opt{k.stride, k.padding};
  auto r = gradcheck<B>(
      [&](const auto& v) {
        const auto bias = v.size() > 2 ? v[2] : tensor<double, B>{};
        return slope ? conv2d_leaky_relu(v[0], v[1], bias, opt, *slope) : conv2d(v[0], v[1], bias, opt);
      },
      in);
  BOOST_TEST(r.ok, describe(k) << (slope ? " slope " + std::to_string(*slope) : std::string()) << " on " << B::name
                               << ":\n"
                               << r.report);
}

template <class B>
void check_conv1d(index_t n, index_t c, index_t l, index_t o, index_t kw, index_t stride, index_t padding, bool bias,
                  std::uint64_t seed) {
  auto x = random_tensor<double, B>({n, c, l}, seed);
  auto w = random_tensor<double, B>({o, c, kw}, seed + 1);
  std::vector<tensor<double, B>> in{x, w};
  if (bias) in.push_back(random_tensor<double, B>({o}, seed + 2));
  const conv1d_options opt{stride, padding};
  auto r = gradcheck<B>(
      [&](const auto& v) { return conv1d(v[0], v[1], v.size() > 2 ? v[2] : tensor<double, B>{}, opt); }, in);
  BOOST_TEST(r.ok, "conv1d x [" << n << ", " << c << ", " << l << "] k " << kw << " stride " << stride << " padding "
                                << padding << " on " << B::name << ":\n"
                                << r.report);
}

// Odd sizes, stride 2, padding 0/1/2, batch > 1, with and without bias, 1x1, 3x3 and
// non-square kernels; some with more than 8 output channels and 48 output positions so the
// cpu backend's register tiles have full and partial edges.
const std::vector<conv_case> cases = {
    {1, 1, 5, 5, 1, 3, 3, 1, 0, false}, {2, 3, 7, 6, 4, 3, 3, 1, 1, true},  {3, 2, 9, 7, 5, 3, 3, 2, 1, true},
    {2, 4, 8, 9, 3, 1, 1, 1, 0, true},  {2, 3, 5, 7, 6, 1, 1, 2, 2, false}, {1, 3, 9, 8, 2, 3, 2, 1, 2, true},
    {2, 2, 7, 11, 3, 1, 3, 2, 0, false}, {2, 5, 6, 5, 4, 2, 5, 1, 2, true},  {1, 2, 11, 10, 3, 5, 3, 3, 1, true},
    {2, 5, 13, 11, 19, 3, 3, 1, 1, true}, {1, 6, 15, 13, 10, 3, 3, 2, 2, false},
    // Stride 1 with rows of 8+ doubles: the cpu backend's direct path (AVX-512, AVX2), unpadded too.
    {1, 3, 9, 12, 9, 3, 3, 1, 0, true},
};

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_passes_gradcheck) {
  std::uint64_t seed = 100;
  for (const auto& k : cases) {
    check_conv2d<cpu_ref>(k, seed);
    check_conv2d<cpu>(k, seed);
    seed += 3;
  }
}

// The fused activation's derivative comes from the output's sign: ReLU and a leaky slope, with and
// without bias, stride 1 and 2.
BOOST_AUTO_TEST_CASE(conv2d_leaky_relu_passes_gradcheck) {
  std::uint64_t seed = 400;
  for (const double slope : {0.0, 0.2})
    for (const auto& k : {cases[1], cases[2], cases[4], cases[9], cases[11]}) {
      check_conv2d<cpu_ref>(k, seed, slope);
      check_conv2d<cpu>(k, seed, slope);
      seed += 3;
    }
}

BOOST_AUTO_TEST_CASE(conv1d_passes_gradcheck) {
  std::uint64_t seed = 200;
  for (auto [n, c, l, o, k, s, p, b] : std::vector<std::tuple<index_t, index_t, index_t, index_t, index_t, index_t,
                                                              index_t, bool>>{{2, 3, 11, 4, 3, 1, 1, true},
                                                                              {1, 2, 9, 3, 1, 1, 0, false},
                                                                              {3, 4, 13, 5, 5, 2, 2, true},
                                                                              {2, 5, 60, 17, 3, 2, 0, false}}) {
    check_conv1d<cpu_ref>(n, c, l, o, k, s, p, b, seed);
    check_conv1d<cpu>(n, c, l, o, k, s, p, b, seed);
    seed += 3;
  }
}

BOOST_AUTO_TEST_CASE(conv2d_gradient_only_to_the_inputs_that_need_it) {
  // Weight alone, then input alone: the other gradients stay undefined, the asked one is right.
  auto x = random_tensor<double, cpu>({2, 3, 6, 5}, 7);
  auto w = random_tensor<double, cpu>({4, 3, 3, 3}, 8).requires_grad_();
  auto y = conv2d(x, w, {}, {1, 1});
  autograd::backward(y, tensor<double, cpu>::ones(y.shape()));
  BOOST_TEST(!x.grad().defined());
  BOOST_TEST(w.grad().defined());
  const auto wd = w.detach();
  auto r = gradcheck<cpu>([&](const auto& v) { return conv2d(v[0], wd, {}, {2, 1}); }, {x});
  BOOST_TEST(r.ok, r.report);
}
