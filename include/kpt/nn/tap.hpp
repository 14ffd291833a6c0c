#pragma once
// Named taps: skip connections inside flat stacks.
//   nn::tag<"skip">                       stores the current tensor under "skip"; x passes through
//   nn::from<"skip">                      replaces the current tensor by the stored one
//   nn::concat<nn::from<"skip">, ...>     concatenates [x, skip, ...] along the channels
//   nn::add<nn::from<"skip">>             x + skip (same channels, checked at compile time)
// A tap is visible to every layer after its tag in the same stack, including nested stacks and
// the heads of a fork whose trunk declared it; taps declared inside a residual body or a fork
// head stay there. The channel counts of taps are tracked at compile time like any other.
#include <vector>

#include "kpt/nn/module.hpp"
#include "kpt/ops/binary.hpp"
#include "kpt/ops/shape.hpp"

namespace kpt::nn {

template <fixed_string Name>
struct tag {
  static_assert(Name.length > 0, "nn::tag<Name>: Name must not be empty");
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    static_assert(std::is_void_v<typename find_tap<Name, typename Ctx::tap_list>::type>,
                  "kpt::nn: a tap of this name is already in scope (an earlier nn::tag with the same name); give "
                  "each nn::tag a distinct name");
    static constexpr int slot = Ctx::tap_list::count;
    using out_ctx = ctx<Ctx::channels, typename Ctx::prev,
                        typename push_tap<typename Ctx::tap_list, tap_entry<Name, Ctx::channels, slot>>::type>;

    tensor<T, B> run(const tensor<T, B>& x, tap_env<T, B>& env) {
      env.store(slot, x);
      return x;
    }
    tensor<T, B> forward(const tensor<T, B>& x) { return x; }
  };
};

template <fixed_string Name>
struct from {
  static constexpr bool composite = true;

  // The tap_entry of Name in Ctx (a compile error naming the fix when there is none).
  template <class Ctx>
  static constexpr auto entry() {
    using E = typename find_tap<Name, typename Ctx::tap_list>::type;
    static_assert(!std::is_void_v<E>,
                  "kpt::nn: nn::from<Name> refers to a tap that is not in scope; add nn::tag<Name> after the "
                  "layer whose output you want to reuse, earlier in the same stack (or in the fork's trunk)");
    if constexpr (std::is_void_v<E>) return tap_entry<Name, 1, 0>{};
    else return E{};
  }
  template <class Ctx>
  using entry_t = decltype(entry<Ctx>());

  template <class Ctx, class T, class B>
  struct bound {
    using E = entry_t<Ctx>;
    using out_ctx = ctx<E::channels, from, typename Ctx::tap_list>;
    tensor<T, B> run(const tensor<T, B>&, tap_env<T, B>& env) { return env.load(E::slot); }
  };
};

namespace detail {
template <class S>
constexpr bool is_from = false;
template <fixed_string Name>
constexpr bool is_from<from<Name>> = true;
}  // namespace detail

template <class... Sources>
struct concat {
  static_assert(sizeof...(Sources) >= 1 && (detail::is_from<Sources> && ...),
                "nn::concat<Sources...>: give one or more nn::from<\"name\"> taps to concatenate after x");
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    static constexpr int channels = Ctx::channels + (Sources::template entry_t<Ctx>::channels + ...);
    using out_ctx = ctx<channels, concat, typename Ctx::tap_list>;
    tensor<T, B> run(const tensor<T, B>& x, tap_env<T, B>& env) {
      return kpt::concat(std::vector<tensor<T, B>>{x, env.load(Sources::template entry_t<Ctx>::slot)...}, 1);
    }
  };
};

template <class Source>
struct add {
  static_assert(detail::is_from<Source>, "nn::add<Source>: Source must be nn::from<\"name\">");
  static constexpr bool composite = true;

  template <class Ctx, class T, class B>
  struct bound {
    using E = typename Source::template entry_t<Ctx>;
    static_assert(E::channels == Ctx::channels,
                  "kpt::nn channel mismatch: nn::add<nn::from<Name>> adds the tap to the output of the previous "
                  "layer, and the two have different channel counts; make the previous layer output as many "
                  "channels as the layer before nn::tag<Name>");
    using out_ctx = ctx<Ctx::channels, add, typename Ctx::tap_list>;
    tensor<T, B> run(const tensor<T, B>& x, tap_env<T, B>& env) { return kpt::add(x, env.load(E::slot)); }
  };
};

}  // namespace kpt::nn
