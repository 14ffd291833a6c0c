#pragma once
// models::model_base<Spec, InChannels, T, B>: what every model wrapper shares, so that a model
// class only adds its forward (input checks, output struct) and its config checks:
//   net                      the nn::net stack (public: nn::visit_params(model.net, f) and friends)
//   train(bool), eval(), is_training()    BatchNorm / dropout mode, remembered for forward
//   reset_parameters(rng&)   initialise again, as PyTorch's defaults
//   visit(path, f)           lets nn::visit_params(model, f) walk the model itself
//   has<Name>, get<Name>()   lookup of nn::named layers (nn::get<"conv1a">(model))
#include <cstdint>

#include "kpt/core/random.hpp"
#include "kpt/nn/module.hpp"
#include "kpt/nn/visit.hpp"

namespace kpt::models {

template <class Spec, int InChannels, class T, class B>
class model_base {
 public:
  using spec = Spec;
  using net_type = nn::net<Spec, InChannels, T, B>;
  using tensor_type = tensor<T, B>;

  net_type net;

  void train(bool on = true) {
    training_ = on;
    net.train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void reset_parameters(rng& g) { net.reset_parameters(g); }
  template <class F>
  void visit(nn::path& p, F& f) {
    nn::detail::visit(net, p, f);
  }
  template <nn::fixed_string N>
  static constexpr bool has = nn::detail::has_named<N, net_type>();
  template <nn::fixed_string N>
  auto& get() {
    return nn::detail::get<N>(net);
  }

 protected:
  explicit model_base(rng& g) : net(g) {}
  explicit model_base(std::uint64_t seed) : net(rng(seed)) {}

 private:
  bool training_ = true;
};

}  // namespace kpt::models
