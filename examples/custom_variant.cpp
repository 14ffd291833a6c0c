// A user-defined KeyPointNet variant: half the widths of KP2D's V4 and 128-d descriptors. A model
// is a config struct; inherit a shipped one and override what differs.
#include <cstdio>

#include "kpt/backends/cpu.hpp"
#include "kpt/models/keypointnet.hpp"

struct half_keypointnet : kpt::models::keypointnet_v4 {
  static constexpr std::array<int, 4> widths = {16, 32, 64, 128};  // encoder stages
  static constexpr int head_width = 128;                           // score / location / descriptor heads
  static constexpr int upsample_width = 256;                       // convFb, pixel-shuffled to 64
  static constexpr int descriptor_size = 128;
};

int main() {
  kpt::models::keypointnet<half_keypointnet> net(/*seed=*/42);
  std::printf("half-width KeyPointNet: %lld parameters (V4: 5312227)\n",
              static_cast<long long>(kpt::nn::count_parameters(net)));
  net.eval();
  auto out = net.forward(kpt::tensor<float, kpt::cpu>::zeros({1, 3, 64, 80}));
  std::printf("score %s, coord %s, descriptors %s\n", out.score.shape().str().c_str(),
              out.coord.shape().str().c_str(), out.desc.shape().str().c_str());
}
