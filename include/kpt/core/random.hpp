#pragma once
// Random numbers for kpt. Two kinds:
//  - kpt::rng: a small sequential generator (xoshiro256**) whose state can be saved in a
//    checkpoint and restored bit for bit;
//  - counter_uniform(seed, i): the i-th number of a stream as a pure function, so that
//    parallel code (dropout masks, data samples) gives the same values with any thread count.
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string_view>

namespace kpt {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a of some bytes: a stable 64-bit hash of names (seeds per file, fingerprints of listings).
// Pass the previous result as h to hash several pieces as one.
constexpr std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (const unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
constexpr float counter_uniform(std::uint64_t seed, std::uint64_t i) {
  return float(splitmix64(splitmix64(seed) ^ i) >> 40) * 0x1.0p-24f;
}

class rng {
 public:
  using result_type = std::uint64_t;
  explicit rng(std::uint64_t seed = 0) { reseed(seed); }
  void reseed(std::uint64_t seed) {
    for (auto& s : s_) s = seed = splitmix64(seed);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type(0); }
  result_type operator()() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double((*this)() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) (n > 0), without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = max() - max() % n;
    std::uint64_t x;
    do x = (*this)();
    while (x >= limit);
    return x % n;
  }
  // Standard normal (Box-Muller; one value per call, so the state stays simple to save).
  double normal() {
    double u1;
    do u1 = uniform();
    while (u1 <= 0.0);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * uniform());
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  std::array<std::uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<std::uint64_t, 4>& s) { s_ = s; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace kpt
