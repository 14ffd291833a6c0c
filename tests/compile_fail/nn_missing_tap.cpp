// nn::from<"skp"> with only a tap named "skip" in scope (a typo).
// expect: kpt::nn: nn::from<Name> refers to a tap that is not in scope; add nn::tag<Name>
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/nn/tap.hpp"

int main() {
  using namespace kpt::nn;
  net<seq<conv2d<16, 3>, tag<"skip">, conv2d<8, 3>, concat<from<"skp">>>, 3, float, kpt::cpu_ref> n;
  (void)n;
}
