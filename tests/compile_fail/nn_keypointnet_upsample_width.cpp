// A KeyPointNet variant whose convFb width (upsample_width = 130) cannot be pixel-shuffled by 2.
// expect: kpt::nn channel mismatch: nn::pixel_shuffle<R> needs the previous layer to output a multiple of R.R channels
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/models/keypointnet.hpp"

struct bad : kpt::models::keypointnet_v4 {
  static constexpr int upsample_width = 130;
};

int main() {
  kpt::models::keypointnet<bad, float, kpt::cpu_ref> m;
  (void)m;
}
