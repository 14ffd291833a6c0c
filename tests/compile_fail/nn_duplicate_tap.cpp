// Two taps named "skip" in the same scope.
// expect: kpt::nn: a tap of this name is already in scope
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/nn/tap.hpp"

int main() {
  using namespace kpt::nn;
  net<seq<tag<"skip">, conv2d<8, 3>, tag<"skip">>, 3, float, kpt::cpu_ref> n;
  (void)n;
}
