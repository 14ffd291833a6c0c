#pragma once
// kpt's exception types. Every message names the operation, the offending value and,
// where there is one, the fix.
#include <sstream>
#include <stdexcept>
#include <string>

namespace kpt {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Shapes or ranks that do not fit an operation.
struct shape_error : error {
  using error::error;
};
// An argument with a value out of its domain (negative stride, bad axis, ...).
struct value_error : error {
  using error::error;
};
// A file that is missing, unreadable, truncated or of the wrong format.
struct io_error : error {
  using error::error;
};
// Misuse of the tape: backward from a non-scalar, twice through a freed graph, ...
struct autograd_error : error {
  using error::error;
};
// NaN or Inf where a finite number is required.
struct numeric_error : error {
  using error::error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

// Throws E with the concatenation of parts when cond is false. Always on (never an assert).
template <class E = error, class... Parts>
inline void require(bool cond, const Parts&... parts) {
  if (!cond) throw E(detail::concat(parts...));
}

}  // namespace kpt
