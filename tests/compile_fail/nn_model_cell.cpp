// The encoder has three 2x2 pools; a config cannot ask for 4-pixel cells.
// expect: models::superpoint<Config>: Config::cell must be 8
#include "kpt/backends/cpu_ref.hpp"
#include "kpt/models/superpoint.hpp"

struct bad : kpt::models::superpoint_magicleap {
  static constexpr int cell = 4;
};

int main() {
  kpt::models::superpoint<bad, float, kpt::cpu_ref> m;
  (void)m;
}
