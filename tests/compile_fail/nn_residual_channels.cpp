// The body of a residual turns 4 channels into 8, so it cannot be added to its input.
// expect: kpt::nn channel mismatch: the body of nn::residual ends with a different channel count than the layer before the residual outputs
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/relu.hpp"
#include "kpt/nn/layers/residual.hpp"
#include "kpt/nn/seq.hpp"

int main() {
  using namespace kpt::nn;
  net<seq<conv2d<4, 3>, residual<conv2d<8, 1>, relu>>, 1, float, kpt::cpu_ref> n;
  (void)n;
}
