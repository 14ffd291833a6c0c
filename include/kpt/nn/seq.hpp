#pragma once
// nn::seq<Specs...>: a flat stack. Each element is bound to the output context of the one before
// (so input channels are deduced), the bound layers live in a std::tuple, and forward folds x
// through them. Only the last element may return something other than a tensor (an nn::fork).
//
// Names (visit_params) follow torch.nn.Sequential: an element is named by its position (0, 1, ...)
// unless it is nn::named<"x", ...> or adds no level (nn::fork, nn::residual, nn::unused of such).
// Parameter-free elements (relu, pools, taps) take positions too, exactly as in PyTorch.
//
// A stack that starts with a conv2d and a batch_norm (KP2D's conv blocks, rpautrat's SuperPoint
// blocks with BatchNorm before the ReLU) runs them as one convolution with the BatchNorm folded in
// while the BatchNorm is in eval mode (nn/conv_bn.hpp).
#include <tuple>

#include "kpt/nn/conv_bn.hpp"
#include "kpt/nn/module.hpp"

namespace kpt::nn {

namespace detail {
template <class... Ls>
struct type_list {};

template <class Ctx, class T, class B, class Done, class... Specs>
struct bind_seq;
template <class Ctx, class T, class B, class... Done>
struct bind_seq<Ctx, T, B, type_list<Done...>> {
  using tuple = std::tuple<Done...>;
  using out = Ctx;
};
template <class Ctx, class T, class B, class... Done, class S, class... Rest>
struct bind_seq<Ctx, T, B, type_list<Done...>, S, Rest...>
    : bind_seq<typename bind_one<S, Ctx, T, B>::out, T, B, type_list<Done..., bind_t<S, Ctx, T, B>>, Rest...> {};

template <class... Ls>
consteval bool fork_is_last() {
  constexpr bool forks[] = {is_fork<Ls>()...};
  for (std::size_t i = 0; i + 1 < sizeof...(Ls); ++i)
    if (forks[i]) return false;
  return true;
}
}  // namespace detail

template <class... Specs>
struct seq {
  static_assert(sizeof...(Specs) > 0, "nn::seq<>: a stack needs at least one layer");
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound;
};

template <class... Specs>
template <class Ctx, class T, class B>
struct seq<Specs...>::bound {
  using binding = detail::bind_seq<Ctx, T, B, detail::type_list<>, Specs...>;
  using tuple_type = typename binding::tuple;
  using out_ctx = typename binding::out;
  static constexpr std::size_t size = sizeof...(Specs);
  static constexpr bool is_seq = true;

  tuple_type layers;
  bool training = true;

  explicit bound(rng& g) : layers(make_layers(g, std::make_index_sequence<size>{})) {}
  explicit bound(rng&& g) : bound(g) {}
  // Initialised from kpt::rng(0).
  bound() : bound(rng(0)) {}

  auto run(const tensor<T, B>& x, tap_env<T, B>& env) {
    if constexpr (size >= 2) {
      if constexpr (detail::conv_bn_pair<std::tuple_element_t<0, tuple_type>, std::tuple_element_t<1, tuple_type>>) {
        auto& bn = detail::unwrap_named(std::get<1>(layers));
        if (!bn.options.training)
          return run_from<2>(detail::conv_bn_eval(detail::unwrap_named(std::get<0>(layers)), bn, x), env);
      }
    }
    return run_from<0>(x, env);
  }
  auto forward(const tensor<T, B>& x) {
    tap_env<T, B> env;
    return run(x, env);
  }
  auto operator()(const tensor<T, B>& x) { return forward(x); }

  template <class F>
  void visit(path& p, F& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (detail::visit_child<true>(std::get<I>(layers), I, p, f), ...);
    }(std::make_index_sequence<size>{});
  }
  void train(bool on = true) {
    training = on;
    std::apply([on](auto&... l) { (detail::train(l, on), ...); }, layers);
  }
  void eval() { train(false); }

  // Elements First.. applied in turn (x itself when First == size).
  template <std::size_t First>
  auto run_from(const tensor<T, B>& x, tap_env<T, B>& env) {
    if constexpr (First == size) {
      return x;
    } else {
      tensor<T, B> y = x;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((y = detail::run(std::get<First + I>(layers), y, env)), ...);
      }(std::make_index_sequence<size - 1 - First>{});
      return detail::run(std::get<size - 1>(layers), y, env);
    }
  }
  void reset_parameters(rng& g) {
    std::apply([&g](auto&... l) { (detail::reset(l, g), ...); }, layers);
  }

  template <fixed_string Name>
  static constexpr bool has = [] {
    return []<class... Ls>(std::type_identity<std::tuple<Ls...>>) {
      return (detail::has_named<Name, Ls>() || ...);
    }(std::type_identity<tuple_type>{});
  }();
  template <fixed_string Name>
  auto& get() {
    static_assert(has<Name>, "nn::get<Name>: no nn::named<Name, ...> in this stack");
    constexpr std::size_t i = []<class... Ls>(std::type_identity<std::tuple<Ls...>>) {
      return detail::index_of_named<Name, Ls...>();
    }(std::type_identity<tuple_type>{});
    return detail::get<Name>(std::get<i>(layers));
  }

 private:
  template <std::size_t... I>
  static tuple_type make_layers(rng& g, std::index_sequence<I...>) {
    // A braced list is evaluated left to right: layers are initialised in state_dict order.
    return tuple_type{detail::make<std::tuple_element_t<I, tuple_type>>(g)...};
  }

  static_assert([]<class... Ls>(std::type_identity<std::tuple<Ls...>>) {
    return detail::fork_is_last<Ls...>();
  }(std::type_identity<tuple_type>{}),
                "kpt::nn: nn::fork returns one output per head (a std::tuple) and must be the last element of "
                "a nn::seq; move the layers after the fork into its heads");
};

// The I-th bound layer of a seq.
template <std::size_t I, class Seq>
auto& at(Seq& s) {
  return std::get<I>(s.layers);
}

}  // namespace kpt::nn
