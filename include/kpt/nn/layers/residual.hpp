#pragma once
// nn::residual<Body...>: y = body(x) + x, where the body is nn::seq<Body...>. The body must end
// with as many channels as enter it (checked at compile time). A residual adds no name level: its
// body's entries are named as if the body stood in the enclosing stack (IO-Net's "0s0", "0s1").
#include "kpt/nn/module.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/ops/binary.hpp"

namespace kpt::nn {

template <class... Body>
struct residual {
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    using body_spec = std::conditional_t<sizeof...(Body) == 1 && (composite_spec<Body> && ...),
                                         std::tuple_element_t<0, std::tuple<Body...>>, seq<Body...>>;
    using body_type = bind_t<body_spec, Ctx, T, B>;
    using body_out = typename bind_one<body_spec, Ctx, T, B>::out;
    static_assert(body_out::channels == Ctx::channels,
                  "kpt::nn channel mismatch: the body of nn::residual ends with a different channel count than "
                  "the layer before the residual outputs, so the two cannot be added; make the body's last layer "
                  "output as many channels as enter the residual");
    // Taps declared in the body stay inside it.
    using out_ctx = ctx<Ctx::channels, residual, typename Ctx::tap_list>;
    static constexpr bool transparent = true;

    body_type body;

    explicit bound(rng& g) : body(detail::make<body_type>(g)) {}
    explicit bound(rng&& g) : bound(g) {}
    bound() : bound(rng(0)) {}

    tensor<T, B> run(const tensor<T, B>& x, tap_env<T, B>& env) { return kpt::add(detail::run(body, x, env), x); }
    tensor<T, B> forward(const tensor<T, B>& x) {
      tap_env<T, B> env;
      return run(x, env);
    }
    template <class F>
    void visit(path& p, F& f) {
      detail::visit(body, p, f);
    }
    void train(bool on = true) { detail::train(body, on); }
    void reset_parameters(rng& g) { detail::reset(body, g); }

    template <fixed_string N>
    static constexpr bool has = detail::has_named<N, body_type>();
    template <fixed_string N>
    auto& get() {
      return detail::get<N>(body);
    }
  };
};

}  // namespace kpt::nn
