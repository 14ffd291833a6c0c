// A layer after a fork: the fork's output is a tuple of head outputs, not a tensor.
// expect: kpt::nn: nn::fork returns one output per head \(a std::tuple\) and must be the last element of a nn::seq
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/nn/fork.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/relu.hpp"
#include "kpt/nn/seq.hpp"

int main() {
  using namespace kpt::nn;
  // (qualified: POSIX declares a function ::fork)
  net<seq<conv2d<8, 3>, kpt::nn::fork<relu, conv2d<2, 1>, conv2d<3, 1>>, conv2d<4, 1>>, 3, float, kpt::cpu_ref> n;
  (void)n;
}
