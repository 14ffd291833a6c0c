#pragma once
// The protocol every nn building block follows, and the compile-time machinery that binds a stack.
//
// A *spec* is an empty type naming a layer and its hyper-parameters: nn::conv2d<64, 3>, nn::relu,
// nn::seq<...>. Specs never hold tensors. Binding a spec to an input context (channel count, the
// layer before it, the named taps in scope) and to a scalar type and backend gives the *bound
// layer*, a plain struct with tensors and forward(x):
//
//   leaf spec S:       template <int In> static constexpr int out_channels;   // Out as a function of In
//                      template <int In, class T, class B> struct layer;      // the bound layer
//                      optional: template <class Prev, int In> static consteval bool check();
//                        (static_asserts about the input; Prev is the spec that produced it, so
//                         a failure's instantiation context names both layers)
//   composite spec S:  static constexpr bool composite = true;
//                      template <class Ctx, class T, class B> struct bound;   // with `using out_ctx`
//
// A bound layer L (leaf or composite) may have, each optional:
//   L(kpt::rng&)                     construct and initialise (PyTorch's default init)
//   void reset_parameters(kpt::rng&) initialise again
//   tensor forward(const tensor&)    the layer's map
//   R run(const tensor&, tap_env&)   forward with the named taps in scope (taps, containers)
//   void visit(path&, F&)            f(name, tensor&, param_kind) for every state_dict entry
//   void train(bool)                 switch training behaviour (BatchNorm, dropout)
//   static constexpr bool transparent = true      adds no name level (fork, residual, unused)
//   static constexpr bool names_itself = true     nn::named: gives its own name level
//   has<Name>, get<Name>()           lookup of nn::named layers inside (nn::get<"conv1a">(net))
// nn::net<Spec, InChannels, T, B> is the bound type of a whole stack.
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "kpt/core/random.hpp"
#include "kpt/core/tensor.hpp"

namespace kpt::nn {

// ---- compile-time strings (tap and layer names as template arguments) ----------------------
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string() = default;
  constexpr fixed_string(const char (&s)[N]) {
    for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
  }
  static constexpr std::size_t length = N - 1;
  constexpr std::string_view view() const { return {chars, N - 1}; }
};

template <std::size_t N, std::size_t M>
constexpr bool operator==(const fixed_string<N>& a, const fixed_string<M>& b) {
  return a.view() == b.view();
}

namespace detail {
constexpr std::size_t digits(unsigned v) { return v < 10 ? 1 : 1 + digits(v / 10); }
}  // namespace detail

// The decimal digits of I followed by Suffix: number_name<3, "s1">() == "3s1" (IO-Net's keys).
template <unsigned I, fixed_string Suffix = "">
consteval auto number_name() {
  constexpr std::size_t d = detail::digits(I);
  fixed_string<d + Suffix.length + 1> out;
  unsigned v = I;
  for (std::size_t k = d; k-- > 0; v /= 10) out.chars[k] = char('0' + v % 10);
  for (std::size_t k = 0; k < Suffix.length; ++k) out.chars[d + k] = Suffix.chars[k];
  return out;
}

// ---- the binding context ----------------------------------------------------------------------
// A named tap in scope: its name, its channel count and the run-time slot it is stored in.
template <fixed_string Name, int Channels, int Slot>
struct tap_entry {
  static constexpr auto name = Name;
  static constexpr int channels = Channels;
  static constexpr int slot = Slot;
};
template <class... Entries>
struct taps {
  static constexpr int count = int(sizeof...(Entries));
};

// The "previous layer" of the first layer of a stack.
template <int Channels>
struct input {};

// What flows between specs while a stack is bound: the channel count, the spec that produced
// it (named in static_assert contexts) and the taps in scope.
template <int Channels, class Prev, class Taps = taps<>>
struct ctx {
  static constexpr int channels = Channels;
  using prev = Prev;
  using tap_list = Taps;
};

// Finds a tap by name: `type` is its tap_entry, or void when none has that name.
template <fixed_string Name, class Taps>
struct find_tap {
  using type = void;
};
template <fixed_string Name, class E, class... Es>
struct find_tap<Name, taps<E, Es...>> {
  using type =
      std::conditional_t<E::name == Name, E, typename find_tap<Name, taps<Es...>>::type>;
};

template <class Taps, class E>
struct push_tap;
template <class... Es, class E>
struct push_tap<taps<Es...>, E> {
  using type = taps<Es..., E>;
};

// ---- run-time state -------------------------------------------------------------------------
// The tensors stored by nn::tag during one forward, by slot.
template <class T, class B>
struct tap_env {
  std::vector<tensor<T, B>> slots;
  void store(int slot, tensor<T, B> t) {
    if (slots.size() <= std::size_t(slot)) slots.resize(std::size_t(slot) + 1);
    slots[std::size_t(slot)] = std::move(t);
  }
  const tensor<T, B>& load(int slot) const { return slots[std::size_t(slot)]; }
};

// Whether a state_dict entry is a trainable parameter (requires_grad, in PyTorch's
// named_parameters) or a buffer (BatchNorm running_mean, running_var, num_batches_tracked).
enum class param_kind { parameter, buffer };

// The dotted name of the layer being visited ("conv1a.0").
class path {
 public:
  // Appends one level; returns what pop() needs to undo it.
  std::size_t push(std::string_view part) {
    const std::size_t old = s_.size();
    if (!s_.empty()) s_ += '.';
    s_ += part;
    return old;
  }
  void pop(std::size_t old) { s_.resize(old); }
  std::string join(std::string_view leaf) const { return s_.empty() ? std::string(leaf) : s_ + "." + std::string(leaf); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// ---- binding ----------------------------------------------------------------------------------
template <class S>
concept composite_spec = requires { requires S::composite; };

namespace detail {
template <class S, class Prev, int In>
consteval bool run_check() {
  if constexpr (requires { S::template check<Prev, In>(); }) return S::template check<Prev, In>();
  else return true;
}
}  // namespace detail

// bind_one<S, Ctx, T, B>::type is the bound layer, ::out its output context.
template <class S, class Ctx, class T, class B>
struct bind_one {
  static constexpr int in = Ctx::channels;
  static_assert(detail::run_check<S, typename Ctx::prev, in>());
  using type = typename S::template layer<in, T, B>;
  using out = ctx<S::template out_channels<in>, S, typename Ctx::tap_list>;
};
template <composite_spec S, class Ctx, class T, class B>
struct bind_one<S, Ctx, T, B> {
  using type = typename S::template bound<Ctx, T, B>;
  using out = typename type::out_ctx;
};

template <class S, class Ctx, class T, class B>
using bind_t = typename bind_one<S, Ctx, T, B>::type;

// The bound type of a whole stack whose input has InChannels channels.
template <class Spec, int InChannels, class T = float, class B = cpu>
using net = bind_t<Spec, ctx<InChannels, input<InChannels>>, T, B>;

// ---- calling the optional members -------------------------------------------------------------
namespace detail {

template <class L>
L make(rng& g) {
  if constexpr (std::constructible_from<L, rng&>) return L(g);
  else return L{};
}

template <class L, class T, class B>
auto run(L& l, const tensor<T, B>& x, tap_env<T, B>& env) {
  if constexpr (requires { l.run(x, env); }) return l.run(x, env);
  else return l.forward(x);
}

template <class L, class F>
void visit(L& l, path& p, F& f) {
  if constexpr (requires { l.visit(p, f); }) l.visit(p, f);
}

template <class L>
void train(L& l, bool on) {
  if constexpr (requires { l.train(on); }) l.train(on);
}

template <class L>
void reset(L& l, rng& g) {
  if constexpr (requires { l.reset_parameters(g); }) l.reset_parameters(g);
}

template <class L>
constexpr bool transparent() {
  if constexpr (requires { L::transparent; }) return L::transparent;
  else return false;
}
template <class L>
constexpr bool names_itself() {
  if constexpr (requires { L::names_itself; }) return L::names_itself;
  else return false;
}

// Does L (or a layer inside it) carry nn::named<Name, ...>?
template <fixed_string Name, class L>
constexpr bool has_named() {
  if constexpr (requires { L::template has<Name>; }) return L::template has<Name>;
  else return false;
}

template <class L>
constexpr bool is_seq() {
  if constexpr (requires { L::is_seq; }) return L::is_seq;
  else return false;
}
template <class L>
constexpr bool is_fork() {
  if constexpr (requires { L::is_fork; }) return L::is_fork;
  else return false;
}

// The layer named Name inside l (l must have it).
template <fixed_string Name, class L>
auto& get(L& l) {
  return l.template get<Name>();
}

// Visits child l of a container: an element that names itself (nn::named) or adds no level
// (fork, residual) is visited at the container's path; any other is given the name `index`.
template <bool IndexSeqs, class L, class F>
void visit_child(L& l, std::size_t index, path& p, F& f) {
  if constexpr (names_itself<L>() || transparent<L>() || (!IndexSeqs && is_seq<L>())) {
    visit(l, p, f);
  } else {
    const auto old = p.push(std::to_string(index));
    visit(l, p, f);
    p.pop(old);
  }
}

// The index of the first type in Ls... that carries nn::named<Name, ...>.
template <fixed_string Name, class... Ls>
consteval std::size_t index_of_named() {
  constexpr bool found[] = {has_named<Name, Ls>()..., false};
  std::size_t i = 0;
  while (i < sizeof...(Ls) && !found[i]) ++i;
  return i;
}

// Uniform(-bound, bound) values in t, drawn from g in row-major order.
template <class T, class B>
void fill_uniform(tensor<T, B>& t, rng& g, double bound) {
  std::vector<T> v(std::size_t(t.numel()));
  for (auto& e : v) e = T(g.uniform(-bound, bound));
  B::copy_from_host(t.data(), v.data(), v.size());
}

}  // namespace detail

// The bound layer named Name (by nn::named) inside net, found depth-first:
// nn::get<"conv1a">(net).weight.
template <fixed_string Name, class L>
auto& get(L& net) {
  static_assert(detail::has_named<Name, L>(), "nn::get<Name>(net): net has no nn::named<Name, ...>");
  return detail::get<Name>(net);
}

// ---- initialisation ---------------------------------------------------------------------------
// PyTorch's default for Conv and Linear: kaiming_uniform_(a = sqrt(5)) on the weight, whose bound
// gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)) is exactly 1 / sqrt(fan_in); the bias is
// uniform(-1 / sqrt(fan_in), 1 / sqrt(fan_in)). fan_in = in_channels * kernel elements.
template <class T, class B>
void init_conv(tensor<T, B>& weight, tensor<T, B>& bias, rng& g) {
  const index_t fan_in = weight.numel() / weight.size(0);
  const double bound = 1.0 / std::sqrt(double(fan_in));
  detail::fill_uniform(weight, g, bound);
  if (bias.defined()) detail::fill_uniform(bias, g, bound);
}

// A fresh trainable parameter of the given shape (values to be filled by the caller).
template <class T, class B>
tensor<T, B> make_parameter(const kpt::shape& s) {
  auto t = tensor<T, B>::zeros(s);
  t.requires_grad_(true);
  return t;
}

}  // namespace kpt::nn
