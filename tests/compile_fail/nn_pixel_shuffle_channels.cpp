// A 65-channel conv feeding pixel_shuffle<2>: 65 is not a multiple of 2*2.
// expect: kpt::nn channel mismatch: nn::pixel_shuffle<R> needs the previous layer to output a multiple of R.R channels
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/pixel_shuffle.hpp"
#include "kpt/nn/seq.hpp"

int main() {
  kpt::nn::net<kpt::nn::seq<kpt::nn::conv2d<65, 1>, kpt::nn::pixel_shuffle<2>>, 3, float, kpt::cpu_ref> net;
  (void)net;
}
