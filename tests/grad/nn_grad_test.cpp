// Gradients through nn stacks (seq, fork, residual, skip taps, BatchNorm in both modes, replayed
// dropout) and tiny configs of the three models, against finite differences in double, on
// cpu_ref and cpu. Every trainable parameter is a gradcheck input, not only x.
#include "support.hpp"

#include "kpt/autograd/gradcheck.hpp"
#include "kpt/models/ionet.hpp"
#include "kpt/models/keypointnet.hpp"
#include "kpt/models/superpoint.hpp"
#include "kpt/nn/fork.hpp"
#include "kpt/nn/layers/batch_norm.hpp"
#include "kpt/nn/layers/conv1d.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/dropout2d.hpp"
#include "kpt/nn/layers/instance_norm.hpp"
#include "kpt/nn/layers/l2_normalize.hpp"
#include "kpt/nn/layers/leaky_relu.hpp"
#include "kpt/nn/layers/max_pool.hpp"
#include "kpt/nn/layers/pixel_shuffle.hpp"
#include "kpt/nn/layers/relu.hpp"
#include "kpt/nn/layers/residual.hpp"
#include "kpt/nn/layers/sigmoid.hpp"
#include "kpt/nn/layers/tanh.hpp"
#include "kpt/nn/named.hpp"
#include "kpt/nn/seq.hpp"
#include "kpt/nn/tap.hpp"
#include "kpt/nn/visit.hpp"
#include "kpt/ops/shape.hpp"

using namespace kpt;
using kpt::test::random_tensor;

namespace {

// One tensor from whatever a network returns: a tensor, a tuple of tensors, or a model output
// struct (flattened and concatenated).
template <class B>
tensor<double, B> flat(const tensor<double, B>& t) {
  return reshape(t, {-1});
}
template <class B, class... Ts>
tensor<double, B> flat(const std::tuple<Ts...>& t) {
  return std::apply([](const auto&... x) { return concat(std::vector<tensor<double, B>>{flat<B>(x)...}, 0); }, t);
}

// gradcheck of y = net(x) with respect to x and every trainable parameter of net. `before` runs
// before each evaluation (to replay dropout masks); `out` maps the network's result to a tensor.
template <class B, class Net, class Out, class Before>
void check_net(Net& net, const tensor<double, B>& x, Out out, Before before, const char* what, int unused = 0) {
  std::vector<tensor<double, B>> inputs{x};
  nn::visit_trainable(net, [&](const std::string&, tensor<double, B>& p) { inputs.push_back(p.detach()); });
  const auto r = gradcheck<B>(
      [&](const std::vector<tensor<double, B>>& in) {
        std::size_t k = 1;
        nn::visit_trainable(net, [&](const std::string&, tensor<double, B>& p) { p = in[k++]; });
        before();
        return out(net.forward(in[0]));
      },
      inputs, gradcheck_options{.eps = 1e-6, .rtol = 1e-5, .atol = 1e-7, .max_samples = 12});
  BOOST_TEST(r.ok, what << " (" << B::name << "), " << inputs.size() << " inputs:\n" << r.report);
  // The net now holds gradcheck's tensors: every parameter it uses got a non-zero gradient, so the
  // check above really went through the parameters.
  int without = 0;
  nn::visit_trainable(net, [&](const std::string&, tensor<double, B>& p) {
    const auto g = p.grad();
    bool nonzero = false;
    if (g.defined())
      for (double v : g.to_vector()) nonzero = nonzero || v != 0.0;
    without += !nonzero;
  });
  BOOST_TEST(without == unused, what << " (" << B::name << "): parameters without gradient");
}
template <class B, class Net>
void check_net(Net& net, const tensor<double, B>& x, const char* what) {
  check_net<B>(net, x, [](const auto& y) { return flat<B>(y); }, [] {}, what);
}

// Tiny configs of the models, so finite differences over every parameter stay cheap.
struct tiny_superpoint : models::superpoint_magicleap {
  static constexpr std::array<int, 4> widths = {2, 3, 3, 4};
  static constexpr int head_width = 5;
  static constexpr int descriptor_size = 3;
};
struct tiny_superpoint_bn : tiny_superpoint {
  static constexpr bool batch_norm = true;
};
struct tiny_keypointnet : models::keypointnet_v4 {
  static constexpr std::array<int, 4> widths = {2, 2, 3, 4};
  static constexpr int head_width = 4;
  static constexpr int upsample_width = 8;
  static constexpr int descriptor_size = 3;
  static constexpr bool dropout = false;
};
struct tiny_keypointnet_v0 : tiny_keypointnet {
  static constexpr double cross_ratio = 1.0;
  static constexpr bool upsample = false;
};
struct tiny_ionet : models::ionet_kp2d {
  static constexpr int width = 4;
  static constexpr int blocks = 2;
};

template <class B>
void stacks_pass_gradcheck() {
  {
    using spec = nn::seq<nn::conv2d<3, 3>, nn::batch_norm<>, nn::leaky_relu<0.1>, nn::max_pool<2>, nn::conv2d<4, 1, nn::no_bias>,
                         nn::tanh>;
    nn::net<spec, 2, double, B> net(rng(1));
    check_net<B>(net, random_tensor<double, B>({2, 2, 6, 8}, 1), "seq with BatchNorm (training)");
    net.eval();
    // Eval: running statistics (moved away from 0 / 1 by the training forwards above).
    check_net<B>(net, random_tensor<double, B>({2, 2, 6, 8}, 2), "seq with BatchNorm (eval)");
  }
  {
    using spec = nn::fork<nn::seq<nn::conv2d<3, 3>, nn::relu>, nn::seq<nn::conv2d<1, 1>, nn::sigmoid>,
                          nn::seq<nn::conv2d<4, 3>, nn::l2_normalize<1>>, nn::seq<nn::conv2d<8, 1>, nn::pixel_shuffle<2>>>;
    nn::net<spec, 2, double, B> net(rng(2));
    check_net<B>(net, random_tensor<double, B>({2, 2, 4, 5}, 3), "fork with three heads");
  }
  {
    using spec = nn::seq<nn::conv2d<3, 1>, nn::residual<nn::conv2d<3, 1>, nn::instance_norm<>, nn::batch_norm<>, nn::relu>,
                         nn::residual<nn::conv2d<3, 1>, nn::tanh>>;
    nn::net<spec, 2, double, B> net(rng(3));
    check_net<B>(net, random_tensor<double, B>({2, 2, 7, 1}, 4), "residual blocks (IO-Net style)");
    nn::net<nn::residual<nn::conv1d<2, 3>, nn::instance_norm<>>, 2, double, B> r1(rng(4));
    check_net<B>(r1, random_tensor<double, B>({3, 2, 6}, 5), "residual conv1d");
  }
  {
    using spec = nn::seq<nn::conv2d<2, 3>, nn::tag<"skip">, nn::max_pool<2>, nn::conv2d<8, 1>, nn::pixel_shuffle<2>,
                         nn::concat<nn::from<"skip">>, nn::conv2d<2, 3>, nn::add<nn::from<"skip">>, nn::sigmoid>;
    nn::net<spec, 1, double, B> net(rng(5));
    check_net<B>(net, random_tensor<double, B>({2, 1, 4, 6}, 6), "skip taps: concat and add");
  }
  {
    // Dropout in training: the call counter is reset before every evaluation, so each sees the same mask.
    using spec = nn::seq<nn::conv2d<6, 1>, nn::named<"d", nn::dropout2d<0.3>>, nn::conv2d<2, 1>>;
    nn::net<spec, 2, double, B> net(rng(6));
    check_net<B>(net, random_tensor<double, B>({2, 2, 3, 3}, 7), [](const auto& y) { return flat<B>(y); },
                 [&] { nn::get<"d">(net).calls = 0; }, "dropout2d replayed");
  }
}

template <class B>
void models_pass_gradcheck() {
  auto sp_out = [](const auto& o) { return concat(std::vector<tensor<double, B>>{flat<B>(o.semi), flat<B>(o.desc)}, 0); };
  auto kp_out = [](const auto& o) {
    return concat(std::vector<tensor<double, B>>{flat<B>(o.score), flat<B>(o.coord), flat<B>(o.desc)}, 0);
  };
  auto none = [] {};
  {
    models::superpoint<tiny_superpoint, double, B> m(1);
    check_net<B>(m, random_tensor<double, B>({1, 1, 16, 24}, 1, 0, 1), sp_out, none, "tiny superpoint");
    models::superpoint<tiny_superpoint_bn, double, B> bn(2);
    check_net<B>(bn, random_tensor<double, B>({2, 1, 16, 16}, 2, 0, 1), sp_out, none, "tiny superpoint with BN");
  }
  {
    models::keypointnet<tiny_keypointnet, double, B> m(3);
    const auto x = random_tensor<double, B>({2, 3, 24, 32}, 3, -0.2, 0.2);
    check_net<B>(m, x, kp_out, none, "tiny keypointnet (training)");
    m.eval();  // descriptors sampled at the keypoints: gradients through grid_sample's grid as well
    check_net<B>(m, x, kp_out, none, "tiny keypointnet (eval)");
    models::keypointnet<tiny_keypointnet_v0, double, B> v0(4);
    // convFb (conv weight, BN weight and bias) is allocated but unused without upsampling.
    check_net<B>(v0, random_tensor<double, B>({1, 3, 24, 24}, 4, -0.2, 0.2), kp_out, none, "tiny keypointnet v0", 3);
  }
  {
    models::ionet<tiny_ionet, double, B> m(5);
    check_net<B>(m, random_tensor<double, B>({2, 5, 9, 1}, 5), [](const auto& y) { return flat<B>(y); }, none,
                 "tiny ionet");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(nn_stacks_pass_gradcheck) {
  stacks_pass_gradcheck<cpu_ref>();
  stacks_pass_gradcheck<cpu>();
}

BOOST_AUTO_TEST_CASE(nn_models_pass_gradcheck) {
  models_pass_gradcheck<cpu_ref>();
  models_pass_gradcheck<cpu>();
}
