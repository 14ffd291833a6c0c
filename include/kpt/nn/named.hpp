#pragma once
// nn::named<"conv1a", Spec>: gives a layer (or a stack) its state_dict name: its entries are
// "conv1a.weight", "conv1a.0.weight", ... nn::get<"conv1a">(net) returns the bound layer.
//
// nn::unused<Spec>: a layer that is bound and owns its parameters (so they are initialised,
// visited, saved and loaded) but is skipped by forward: x passes through unchanged. This mirrors
// PyTorch modules that allocate a layer they do not call (KeyPointNet's convFb without upsampling),
// so the state_dicts still match.
#include "kpt/nn/module.hpp"

namespace kpt::nn {

template <fixed_string Name, class S>
struct named {
  static_assert(Name.length > 0, "nn::named<Name, Spec>: Name must not be empty");
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    using inner_type = bind_t<S, Ctx, T, B>;
    using inner_out = typename bind_one<S, Ctx, T, B>::out;
    using out_ctx = ctx<inner_out::channels, named, typename inner_out::tap_list>;
    static constexpr bool names_itself = true;
    static constexpr auto name = Name;
    static constexpr bool is_fork = detail::is_fork<inner_type>();

    inner_type inner;

    explicit bound(rng& g) : inner(detail::make<inner_type>(g)) {}
    explicit bound(rng&& g) : bound(g) {}
    bound() : bound(rng(0)) {}

    auto run(const tensor<T, B>& x, tap_env<T, B>& env) { return detail::run(inner, x, env); }
    auto forward(const tensor<T, B>& x) {
      tap_env<T, B> env;
      return run(x, env);
    }
    template <class F>
    void visit(path& p, F& f) {
      const auto old = p.push(Name.view());
      detail::visit(inner, p, f);
      p.pop(old);
    }
    void train(bool on = true) { detail::train(inner, on); }
    void reset_parameters(rng& g) { detail::reset(inner, g); }

    template <fixed_string N>
    static constexpr bool has = N == Name || detail::has_named<N, inner_type>();
    template <fixed_string N>
    auto& get() {
      if constexpr (N == Name) return inner;
      else return detail::get<N>(inner);
    }
  };
};

template <class S>
struct unused {
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    using inner_type = bind_t<S, Ctx, T, B>;
    using out_ctx = Ctx;  // forward passes x through
    // Named exactly as the inner layer would be.
    static constexpr bool names_itself = detail::names_itself<inner_type>();
    static constexpr bool transparent = detail::transparent<inner_type>();

    inner_type inner;

    explicit bound(rng& g) : inner(detail::make<inner_type>(g)) {}
    explicit bound(rng&& g) : bound(g) {}
    bound() : bound(rng(0)) {}

    tensor<T, B> forward(const tensor<T, B>& x) const { return x; }
    template <class F>
    void visit(path& p, F& f) {
      detail::visit(inner, p, f);
    }
    void train(bool on = true) { detail::train(inner, on); }
    void reset_parameters(rng& g) { detail::reset(inner, g); }

    template <fixed_string N>
    static constexpr bool has = detail::has_named<N, inner_type>();
    template <fixed_string N>
    auto& get() {
      return detail::get<N>(inner);
    }
  };
};

}  // namespace kpt::nn
