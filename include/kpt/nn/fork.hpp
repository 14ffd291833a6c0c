#pragma once
// nn::fork<Trunk, Heads...>: runs Trunk, feeds its output to every head (in order) and returns a
// std::tuple of the head outputs. Taps declared in the trunk (nn::tag) are visible in the heads.
// A fork adds no name level: the trunk's and heads' entries appear under the enclosing name, as
// in a PyTorch module whose forward calls a shared encoder and several heads; a head that is a
// single unnamed layer is named by its position (trunk 0, heads 1, 2, ...).
#include <tuple>

#include "kpt/nn/module.hpp"

namespace kpt::nn {

template <class Trunk, class... Heads>
struct fork {
  static_assert(sizeof...(Heads) >= 1, "nn::fork<Trunk, Heads...>: give at least one head");
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    using trunk_type = bind_t<Trunk, Ctx, T, B>;
    using trunk_out = typename bind_one<Trunk, Ctx, T, B>::out;
    static_assert(!detail::is_fork<trunk_type>(),
                  "kpt::nn: the trunk of an nn::fork is itself a fork; make the inner fork's heads heads of "
                  "the outer one");
    using heads_type = std::tuple<bind_t<Heads, trunk_out, T, B>...>;
    // Nothing may follow a fork in a seq (checked there); channels 0 marks that.
    using out_ctx = ctx<0, fork, typename Ctx::tap_list>;
    static constexpr bool transparent = true;
    static constexpr bool is_fork = true;
    static constexpr std::size_t n_heads = sizeof...(Heads);

    trunk_type trunk;
    heads_type heads;
    bool training = true;

    explicit bound(rng& g)
        : trunk(detail::make<trunk_type>(g)), heads(make_heads(g, std::make_index_sequence<n_heads>{})) {}
    explicit bound(rng&& g) : bound(g) {}
    bound() : bound(rng(0)) {}

    auto run(const tensor<T, B>& x, tap_env<T, B>& env) {
      const auto y = detail::run(trunk, x, env);
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        // Braced: heads run in order (their dropout masks and tap writes are sequenced).
        return std::tuple{detail::run(std::get<I>(heads), y, env)...};
      }(std::make_index_sequence<n_heads>{});
    }
    auto forward(const tensor<T, B>& x) {
      tap_env<T, B> env;
      return run(x, env);
    }
    auto operator()(const tensor<T, B>& x) { return forward(x); }

    template <class F>
    void visit(path& p, F& f) {
      detail::visit_child<false>(trunk, 0, p, f);
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (detail::visit_child<false>(std::get<I>(heads), I + 1, p, f), ...);
      }(std::make_index_sequence<n_heads>{});
    }
    void train(bool on = true) {
      training = on;
      detail::train(trunk, on);
      std::apply([on](auto&... h) { (detail::train(h, on), ...); }, heads);
    }
    void eval() { train(false); }
    void reset_parameters(rng& g) {
      detail::reset(trunk, g);
      std::apply([&g](auto&... h) { (detail::reset(h, g), ...); }, heads);
    }

    template <fixed_string N>
    static constexpr bool has = detail::has_named<N, trunk_type>() ||
                                (detail::has_named<N, bind_t<Heads, trunk_out, T, B>>() || ...);
    template <fixed_string N>
    auto& get() {
      static_assert(has<N>, "nn::get<Name>: no nn::named<Name, ...> in this fork");
      if constexpr (detail::has_named<N, trunk_type>()) {
        return detail::get<N>(trunk);
      } else {
        constexpr std::size_t i = detail::index_of_named<N, bind_t<Heads, trunk_out, T, B>...>();
        return detail::get<N>(std::get<i>(heads));
      }
    }

   private:
    template <std::size_t... I>
    static heads_type make_heads(rng& g, std::index_sequence<I...>) {
      return heads_type{detail::make<std::tuple_element_t<I, heads_type>>(g)...};
    }
  };
};

// The I-th head of a fork.
template <std::size_t I, class Fork>
auto& head(Fork& f) {
  return std::get<I>(f.heads);
}

}  // namespace kpt::nn
