#pragma once
// What the nn / model tests compare state_dicts with: "name:d0xd1..." per entry (a scalar has no
// dimensions), in visiting order, against a space-separated list of the same strings.
#include <string>
#include <vector>

#include "kpt/nn/visit.hpp"

namespace kpt::test {

template <class Net>
std::vector<std::string> entries(Net& net) {
  std::vector<std::string> out;
  nn::visit_params(net, [&](const std::string& name, auto& t) {
    std::string s = name + ":";
    for (int i = 0; i < t.rank(); ++i) s += (i ? "x" : "") + std::to_string(t.size(i));
    out.push_back(s);
  });
  return out;
}

// "a b c " -> {"a", "b", "c"}.
inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t j = s.find(' ', i);
    out.push_back(s.substr(i, j - i));
    i = j == std::string::npos ? s.size() : j + 1;
  }
  return out;
}

}  // namespace kpt::test
