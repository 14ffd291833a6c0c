// A tap of 16 channels added to the output of an 8-channel conv.
// expect: kpt::nn channel mismatch: nn::add<nn::from<Name>> adds the tap to the output of the previous layer, and the two have different channel counts
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/nn/tap.hpp"

int main() {
  using namespace kpt::nn;
  net<seq<conv2d<16, 3>, tag<"skip">, conv2d<8, 3>, add<from<"skip">>>, 3, float, kpt::cpu_ref> n;
  (void)n;
}
