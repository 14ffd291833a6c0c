#pragma once
// kpt::gradcheck: compares the tape's gradients with central finite differences, in double.
//
// The function may return any shape; it is reduced to the scalar s = sum(out * r) with fixed
// random weights r, so one backward gives every input's gradient and a mistake in any output
// element shows. At most `max_samples` coordinates of each input are perturbed.
// A coordinate passes when |analytic - numeric| <= atol or <= rtol * max(|analytic|, |numeric|).
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>
#include <utility>
#include <string>
#include <vector>

#include "kpt/autograd/backward.hpp"
#include "kpt/core/random.hpp"

namespace kpt {

struct gradcheck_options {
  double eps = 1e-6;      // finite-difference step
  double rtol = 1e-5;     // relative tolerance (r)
  double atol = 1e-7;     // absolute tolerance (a)
  int max_samples = 48;   // coordinates checked per input (all when the input is smaller)
  std::uint64_t seed = 7; // for the projection weights and the sampled coordinates
};

struct gradcheck_result {
  bool ok = true;
  double max_abs_error = 0, max_rel_error = 0;
  int checked = 0;
  std::string report;  // the failing coordinates, one line each (empty when ok)
  explicit operator bool() const { return ok; }
};

template <HostBackend B, class F>
gradcheck_result gradcheck(F&& f, std::vector<tensor<double, B>> inputs, const gradcheck_options& opt = {}) {
  using tensor_t = tensor<double, B>;
  for (auto& x : inputs) x = x.clone().requires_grad_();
  rng gen(opt.seed);

  auto evaluate = [&](const char* when) {
    tensor_t out = f(std::as_const(inputs));
    require<error>(out.defined(), "gradcheck: the function returned an undefined tensor");
    for (index_t i = 0; i < out.numel(); ++i)
      require<numeric_error>(std::isfinite(out.data()[i]), "gradcheck: the function returned a non-finite value (",
                             out.data()[i], ") at element ", i, " of its output of shape ", out.shape().str(),
                             " ", when, "; check the inputs are inside the op's domain");
    return out;
  };

  tensor_t out = evaluate("at the unperturbed inputs");
  auto weights = tensor_t::empty(out.shape());
  for (auto& w : weights.values()) w = gen.uniform(-1.0, 1.0);
  auto project = [&](const tensor_t& o) {
    double s = 0;
    for (index_t i = 0; i < o.numel(); ++i) s += o.data()[i] * weights.data()[i];
    return s;
  };

  gradcheck_result res;
  std::ostringstream report;
  const bool any_grad = out.requires_grad();
  if (any_grad) autograd::backward(out, weights);

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    auto& x = inputs[k];
    const index_t n = x.numel();
    std::vector<index_t> coords(static_cast<std::size_t>(n));
    std::iota(coords.begin(), coords.end(), index_t(0));
    if (n > opt.max_samples) {
      for (index_t i = 0; i < opt.max_samples; ++i) std::swap(coords[i], coords[i + gen.below(n - i)]);
      coords.resize(std::size_t(opt.max_samples));
    }
    const tensor_t grad = x.grad();
    for (index_t c : coords) {
      double& v = x.data()[c];
      const double saved = v;
      double plus, minus;
      {
        no_grad guard;
        v = saved + opt.eps;
        plus = project(evaluate("with an input perturbed by +eps"));
        v = saved - opt.eps;
        minus = project(evaluate("with an input perturbed by -eps"));
      }
      v = saved;
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double analytic = grad.defined() ? grad.data()[c] : 0.0;
      const double abs_err = std::abs(analytic - numeric);
      const double rel_err = abs_err / std::max({std::abs(analytic), std::abs(numeric), 1e-300});
      res.max_abs_error = std::max(res.max_abs_error, abs_err);
      res.max_rel_error = std::max(res.max_rel_error, abs_err <= opt.atol ? 0.0 : rel_err);
      ++res.checked;
      if (abs_err > opt.atol && rel_err > opt.rtol) {
        res.ok = false;
        report << "input " << k << " element " << c << ": analytic " << analytic << ", numeric " << numeric
               << " (abs " << abs_err << ", rel " << rel_err << ")\n";
      }
    }
  }
  res.report = report.str();
  return res;
}

}  // namespace kpt
