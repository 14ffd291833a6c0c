#pragma once
// nn::seq<Specs...>: a flat stack. Each element is bound to the output context of the one before
// (so input channels are deduced), the bound layers live in a std::tuple, and forward folds x
// through them. Only the last element may return something other than a tensor (an nn::fork).
//
// Names (visit_params) follow torch.nn.Sequential: an element is named by its position (0, 1, ...)
// unless it is nn::named<"x", ...> or adds no level (nn::fork, nn::residual, nn::unused of such).
// Parameter-free elements (relu, pools, taps) take positions too, exactly as in PyTorch.
//
// A conv2d absorbs what follows it where it can (nn/conv_fusion.hpp): a batch_norm in eval mode
// (folded into its weights), then, under no_grad, a relu or leaky_relu (applied by the
// convolution kernel); a nested seq that is exactly conv2d, batch_norm absorbs the activation
// after it likewise.
#include <optional>
#include <tuple>

#include "kpt/autograd/grad_mode.hpp"
#include "kpt/nn/conv_fusion.hpp"
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

  auto run(const tensor<T, B>& x, tap_env<T, B>& env) { return run_from<0>(x, env); }
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

  // Elements I.. applied in turn (x itself when I == size), a convolution together with what it
  // absorbs (nn/conv_fusion.hpp).
  template <std::size_t I>
  auto run_from(tensor<T, B> x, tap_env<T, B>& env) {
    if constexpr (I == size) {
      return x;
    } else {
      using L = std::tuple_element_t<I, tuple_type>;
      if constexpr (conv_bn_at<I>()) {
        const auto& conv = detail::unwrap_named(std::get<I>(layers));
        const auto& bn = detail::unwrap_named(std::get<I + 1>(layers));
        if (!bn.options.training) {
          if constexpr (absorbs_activation<I + 2>())
            if (const auto slope = fused_slope<I + 2>())
              return then_run<I + 3>(detail::conv_bn_eval(conv, bn, x, slope), x, env);
          return then_run<I + 2>(detail::conv_bn_eval(conv, bn, x, std::nullopt), x, env);
        }
      } else if constexpr (detail::conv2d_layer<detail::unwrapped_t<L>> && absorbs_activation<I + 1>()) {
        const auto& conv = detail::unwrap_named(std::get<I>(layers));
        if (const auto slope = fused_slope<I + 1>())
          return then_run<I + 2>(detail::conv_activated(conv, x, conv.weight, conv.bias, slope), x, env);
      } else if constexpr (detail::is_conv_bn_stack<detail::unwrapped_t<L>>() && absorbs_activation<I + 1>()) {
        const auto& stack = detail::unwrap_named(std::get<I>(layers));
        const auto& bn = detail::unwrap_named(std::get<1>(stack.layers));
        if (!bn.options.training)
          if (const auto slope = fused_slope<I + 1>())
            return then_run<I + 2>(
                detail::conv_bn_eval(detail::unwrap_named(std::get<0>(stack.layers)), bn, x, slope), x, env);
      }
      if constexpr (I + 1 == size) return detail::run(std::get<I>(layers), x, env);
      else return then_run<I + 1>(detail::run(std::get<I>(layers), x, env), x, env);
    }
  }
  // Elements J.. on y, the output of the ones before, once their input x is let go: an
  // intermediate result that nothing else holds (no op saved it) is freed as soon as it is used,
  // not when the whole stack returns.
  template <std::size_t J>
  auto then_run(tensor<T, B> y, tensor<T, B>& x, tap_env<T, B>& env) {
    x = {};
    return run_from<J>(std::move(y), env);
  }
  // Whether elements I, I + 1 are a conv2d and a batch_norm.
  template <std::size_t I>
  static consteval bool conv_bn_at() {
    if constexpr (I + 1 < size)
      return detail::conv_bn_pair<std::tuple_element_t<I, tuple_type>, std::tuple_element_t<I + 1, tuple_type>>;
    else return false;
  }
  // Whether element J is an activation a convolution before it may absorb, and its slope when it
  // does now: under no_grad, with a slope >= 0 (leaky_relu's may be made negative at run time).
  template <std::size_t J>
  static consteval bool absorbs_activation() {
    if constexpr (J < size) return detail::activation_layer<detail::unwrapped_t<std::tuple_element_t<J, tuple_type>>>;
    else return false;
  }
  template <std::size_t J>
  std::optional<double> fused_slope() {
    if (kpt::grad_enabled()) return std::nullopt;
    const double slope = detail::unwrap_named(std::get<J>(layers)).fused_slope();
    if (slope >= 0) return slope;
    return std::nullopt;
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
