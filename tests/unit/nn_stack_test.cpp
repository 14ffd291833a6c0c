// nn stacks: channel deduction, names (PyTorch state_dict rules), taps, fork, residual, unused,
// train/eval switching, initialisation statistics.
#include "support.hpp"
#include "nn_entries.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "kpt/nn/fork.hpp"
#include "kpt/nn/layers/batch_norm.hpp"
#include "kpt/nn/layers/conv1d.hpp"
#include "kpt/nn/layers/conv2d.hpp"
#include "kpt/nn/layers/dropout2d.hpp"
#include "kpt/nn/layers/identity.hpp"
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

using namespace kpt;
using kpt::test::entries;
using kpt::test::random_tensor;
using kpt::test::split;

namespace {

using D = tensor<double, cpu_ref>;

}  // namespace

BOOST_AUTO_TEST_CASE(nn_seq_deduces_input_channels_and_names_like_torch_sequential) {
  // torch.nn.Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), Conv2d(8, 4, 1), BatchNorm2d(4), MaxPool2d(2))
  using spec = nn::seq<nn::conv2d<8, 3>, nn::relu, nn::conv2d<4, 1>, nn::batch_norm<>, nn::max_pool<2>>;
  using net_t = nn::net<spec, 3, double, cpu_ref>;
  static_assert(std::tuple_element_t<2, net_t::tuple_type>::in_channels == 8);
  static_assert(net_t::out_ctx::channels == 4);
  rng g(1);
  net_t net(g);
  BOOST_TEST(entries(net) == split("0.weight:8x3x3x3 0.bias:8 2.weight:4x8x1x1 2.bias:4 3.weight:4 3.bias:4 "
                                   "3.running_mean:4 3.running_var:4 3.num_batches_tracked:"),
             boost::test_tools::per_element());
  auto y = net.forward(random_tensor<double>({2, 3, 6, 10}, 2));
  BOOST_TEST(y.shape() == (shape{2, 4, 3, 5}));
  BOOST_TEST(nn::count_parameters(net) == 8 * 3 * 9 + 8 + 4 * 8 + 4 + 4 + 4);
  BOOST_TEST(nn::count_buffers(net) == 4 + 4 + 1);
}

BOOST_AUTO_TEST_CASE(nn_named_nested_seq_fork_residual_and_unused_names) {
  using block = nn::seq<nn::conv2d<6, 3, nn::no_bias>, nn::batch_norm<>>;
  using spec = nn::fork<nn::seq<nn::named<"enc", block>, nn::leaky_relu<>, nn::residual<nn::named<"r0", nn::conv2d<6, 1>>, nn::relu>>,
                        nn::seq<nn::named<"headA", nn::conv2d<2, 1>>, nn::sigmoid>,
                        nn::seq<nn::unused<nn::named<"spare", nn::conv2d<5, 3>>>, nn::named<"headB", nn::conv2d<3, 1>>>>;
  nn::net<spec, 1, double, cpu_ref> net;
  BOOST_TEST(entries(net) == split("enc.0.weight:6x1x3x3 enc.1.weight:6 enc.1.bias:6 enc.1.running_mean:6 "
                                   "enc.1.running_var:6 enc.1.num_batches_tracked: r0.weight:6x6x1x1 r0.bias:6 "
                                   "headA.weight:2x6x1x1 headA.bias:2 spare.weight:5x6x3x3 spare.bias:5 "
                                   "headB.weight:3x6x1x1 headB.bias:3"),
             boost::test_tools::per_element());
  BOOST_TEST(nn::duplicate_names(net).empty());
  auto [a, b] = net.forward(random_tensor<double>({2, 1, 5, 7}, 3));
  BOOST_TEST(a.shape() == (shape{2, 2, 5, 7}));
  BOOST_TEST(b.shape() == (shape{2, 3, 5, 7}));
  // nn::get finds named layers through every container.
  BOOST_TEST(nn::get<"r0">(net).weight.shape() == (shape{6, 6, 1, 1}));
  BOOST_TEST(nn::get<"spare">(net).weight.shape() == (shape{5, 6, 3, 3}));
  BOOST_TEST(nn::at<1>(nn::get<"enc">(net)).options.momentum == 0.1);
}

BOOST_AUTO_TEST_CASE(nn_duplicate_names_reports_collisions) {
  // Two unnamed sub-stacks inside a fork both name their first conv "0".
  nn::net<nn::fork<nn::conv2d<2, 1>, nn::seq<nn::conv2d<2, 1>>, nn::seq<nn::conv2d<2, 1>>>, 1, double, cpu_ref> net;
  const auto d = nn::duplicate_names(net);
  BOOST_TEST(d == std::vector<std::string>({"0.bias", "0.weight"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nn_taps_concat_add_and_from) {
  using spec = nn::seq<nn::conv2d<4, 3>, nn::tag<"skip">, nn::max_pool<2>, nn::conv2d<16, 1>, nn::pixel_shuffle<2>,
                       nn::add<nn::from<"skip">>, nn::concat<nn::from<"skip">>, nn::tag<"wide">, nn::conv2d<3, 1>,
                       nn::concat<nn::from<"wide">, nn::from<"skip">>>;
  using net_t = nn::net<spec, 2, double, cpu_ref>;
  static_assert(net_t::out_ctx::channels == 3 + 8 + 4);
  net_t net;
  auto x = random_tensor<double>({1, 2, 4, 6}, 5);
  auto y = net.forward(x);
  BOOST_TEST(y.shape() == (shape{1, 15, 4, 6}));
  // The tail of y is the tap "skip" itself: the first conv's output.
  auto skip = nn::at<0>(net).forward(x);
  const auto yv = y.to_vector(), sv = skip.to_vector();
  double worst = 0;
  for (index_t c = 0; c < 4; ++c)
    for (index_t k = 0; k < 24; ++k) worst = std::max(worst, std::abs(yv[std::size_t((11 + c) * 24 + k)] - sv[std::size_t(c * 24 + k)]));
  BOOST_TEST(worst == 0.0);

  // from<> switches the current tensor back to a tap.
  nn::net<nn::seq<nn::tag<"in">, nn::conv2d<5, 3>, nn::from<"in">, nn::relu>, 2, double, cpu_ref> back;
  BOOST_TEST(kpt::test::max_rel_diff(back.forward(x), relu(x)) == 0.0);
}

BOOST_AUTO_TEST_CASE(nn_taps_declared_in_a_fork_trunk_are_visible_in_heads) {
  using spec = nn::fork<nn::seq<nn::conv2d<3, 3>, nn::tag<"t">, nn::max_pool<2>>,
                        nn::seq<nn::conv2d<4, 1>, nn::pixel_shuffle<2>, nn::concat<nn::from<"t">>>, nn::seq<nn::from<"t">>>;
  nn::net<spec, 1, double, cpu_ref> net;
  auto [a, b] = net.forward(random_tensor<double>({2, 1, 6, 8}, 7));
  BOOST_TEST(a.shape() == (shape{2, 4, 6, 8}));
  BOOST_TEST(b.shape() == (shape{2, 3, 6, 8}));
}

BOOST_AUTO_TEST_CASE(nn_residual_adds_the_input) {
  nn::net<nn::residual<nn::conv2d<3, 3>, nn::tanh>, 3, double, cpu_ref> r;
  auto x = random_tensor<double>({1, 3, 4, 5}, 9);
  auto expect = add(tanh(nn::at<0>(r.body).forward(x)), x);
  BOOST_TEST(kpt::test::max_rel_diff(r.forward(x), expect) == 0.0);
}

BOOST_AUTO_TEST_CASE(nn_conv1d_instance_norm_l2_normalize_layers) {
  nn::net<nn::seq<nn::conv1d<4, 3>, nn::instance_norm<>, nn::l2_normalize<1>>, 2, double, cpu_ref> net;
  BOOST_TEST(entries(net) == split("0.weight:4x2x3 0.bias:4"), boost::test_tools::per_element());
  auto y = net.forward(random_tensor<double>({3, 2, 9}, 11));
  BOOST_TEST(y.shape() == (shape{3, 4, 9}));
  // Unit norm over the channels at every position.
  for (index_t n = 0; n < 3; ++n)
    for (index_t l = 0; l < 9; ++l) {
      double s = 0;
      for (index_t c = 0; c < 4; ++c) s += y.at({n, c, l}) * y.at({n, c, l});
      BOOST_TEST(std::abs(s - 1.0) < 1e-12);
    }
  // Options: stride and explicit padding; no bias.
  nn::net<nn::conv2d<2, 4, nn::stride<2>, nn::pad<1>, nn::no_bias>, 3, double, cpu_ref> c;
  BOOST_TEST(!c.bias.defined());
  BOOST_TEST(c.forward(random_tensor<double>({1, 3, 8, 8}, 1)).shape() == (shape{1, 2, 4, 4}));
}

BOOST_AUTO_TEST_CASE(nn_train_eval_switches_batch_norm) {
  using spec = nn::seq<nn::named<"bn", nn::batch_norm<0.25>>>;
  nn::net<spec, 3, double, cpu_ref> net;
  auto& bn = nn::get<"bn">(net);
  auto x = random_tensor<double>({4, 3, 2, 3}, 13, 1.0, 3.0);
  // Training: batch statistics (output mean 0 per channel), running stats move by momentum.
  auto y = net.forward(x);
  BOOST_TEST(bn.num_batches_tracked.item() == 1);
  for (index_t c = 0; c < 3; ++c) {
    double mean = 0, xm = 0, xv = 0;
    for (index_t n = 0; n < 4; ++n)
      for (index_t k = 0; k < 6; ++k) {
        mean += y.at({n, c, k / 3, k % 3});
        xm += x.at({n, c, k / 3, k % 3});
      }
    mean /= 24;
    xm /= 24;
    for (index_t n = 0; n < 4; ++n)
      for (index_t k = 0; k < 6; ++k) xv += std::pow(x.at({n, c, k / 3, k % 3}) - xm, 2);
    BOOST_TEST(std::abs(mean) < 1e-12);
    BOOST_TEST(std::abs(bn.running_mean.at({c}) - 0.25 * xm) < 1e-12);
    BOOST_TEST(std::abs(bn.running_var.at({c}) - (0.75 + 0.25 * xv / 23)) < 1e-12);  // unbiased
  }
  // Eval: running statistics, nothing updated.
  net.eval();
  BOOST_TEST(!bn.options.training);
  const auto rm = bn.running_mean.to_vector();
  auto z = net.forward(x);
  BOOST_TEST(bn.num_batches_tracked.item() == 1);
  BOOST_TEST(bn.running_mean.to_vector() == rm, boost::test_tools::per_element());
  const double expect = (x.at({1, 2, 1, 0}) - bn.running_mean.at({2})) / std::sqrt(bn.running_var.at({2}) + 1e-5);
  BOOST_TEST(std::abs(z.at({1, 2, 1, 0}) - expect) < 1e-12);
  net.train();
  net.forward(x);
  BOOST_TEST(bn.num_batches_tracked.item() == 2);
  // A rejected input (4 channels for a 3-channel BatchNorm) changes no state.
  BOOST_CHECK_THROW(net.forward(D::zeros({2, 4, 2, 2})), shape_error);
  BOOST_TEST(bn.num_batches_tracked.item() == 2);
}

BOOST_AUTO_TEST_CASE(nn_train_eval_switches_dropout_and_masks_are_reproducible) {
  using spec = nn::fork<nn::identity, nn::named<"d", nn::dropout2d<0.5>>>;
  auto x = D::ones({2, 16, 3, 3});
  nn::net<spec, 16, double, cpu_ref> a(rng(5)), b(rng(5));
  auto [ya] = a.forward(x);
  auto [yb] = b.forward(x);
  BOOST_TEST(ya.to_vector() == yb.to_vector(), boost::test_tools::per_element());  // same seed, same mask
  // Whole planes are dropped or scaled by 2.
  int dropped = 0;
  for (index_t n = 0; n < 2; ++n)
    for (index_t c = 0; c < 16; ++c) {
      const double v = ya.at({n, c, 0, 0});
      BOOST_TEST((v == 0.0 || v == 2.0));
      for (index_t k = 0; k < 9; ++k) BOOST_TEST(ya.at({n, c, k / 3, k % 3}) == v);
      dropped += v == 0.0;
    }
  BOOST_TEST(dropped > 0);
  BOOST_TEST(dropped < 32);
  auto [ya2] = a.forward(x);  // the next call draws a new mask
  BOOST_TEST(ya2.to_vector() != ya.to_vector());
  a.eval();
  auto [ye] = a.forward(x);
  BOOST_TEST(ye.to_vector() == x.to_vector(), boost::test_tools::per_element());
  // Replaying: reset the call counter.
  nn::get<"d">(b).calls = 0;
  auto [yb2] = b.forward(x);
  BOOST_TEST(yb2.to_vector() == ya.to_vector(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nn_init_matches_pytorch_defaults) {
  // Conv weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)).
  using spec = nn::seq<nn::named<"c", nn::conv2d<64, 3>>, nn::named<"bn", nn::batch_norm<>>, nn::named<"c1", nn::conv1d<32, 5>>>;
  nn::net<spec, 48, double, cpu_ref> net(rng(42));
  auto check_uniform = [](const D& t, double bound, const char* what) {
    BOOST_TEST_CONTEXT(what) {
      const auto v = t.to_vector();
      double mean = 0, m2 = 0, lo = 1e9, hi = -1e9;
      for (double e : v) {
        mean += e;
        lo = std::min(lo, e);
        hi = std::max(hi, e);
      }
      mean /= double(v.size());
      for (double e : v) m2 += (e - mean) * (e - mean);
      const double var = m2 / double(v.size());
      const double n = double(v.size());
      BOOST_TEST(lo >= -bound);
      BOOST_TEST(hi <= bound);
      BOOST_TEST(hi > bound * (1 - 20 / n));  // the range is used (fails for a narrower distribution)
      BOOST_TEST(std::abs(mean) < 5 * bound / std::sqrt(3 * n));
      BOOST_TEST(std::abs(var / (bound * bound / 3) - 1) < 6 * std::sqrt(0.8 / n));  // var of U(-b, b) = b^2 / 3
    }
  };
  auto& c = nn::get<"c">(net);
  check_uniform(c.weight, 1 / std::sqrt(48.0 * 9), "conv2d weight");
  check_uniform(c.bias, 1 / std::sqrt(48.0 * 9), "conv2d bias");
  auto& c1 = nn::get<"c1">(net);
  check_uniform(c1.weight, 1 / std::sqrt(64.0 * 5), "conv1d weight");
  auto& bn = nn::get<"bn">(net);
  BOOST_TEST(bn.weight.to_vector() == std::vector<double>(64, 1.0), boost::test_tools::per_element());
  BOOST_TEST(bn.bias.to_vector() == std::vector<double>(64, 0.0), boost::test_tools::per_element());
  BOOST_TEST(bn.running_var.to_vector() == std::vector<double>(64, 1.0), boost::test_tools::per_element());
  BOOST_TEST(bn.num_batches_tracked.item() == 0);
  // Parameters require grad, buffers do not.
  nn::visit_params(net, [](const std::string& name, auto& t, nn::param_kind kind) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(t.requires_grad() == (kind == nn::param_kind::parameter)); }
  });
}

BOOST_AUTO_TEST_CASE(nn_init_is_seeded_and_reset_parameters_replays_it) {
  using spec = nn::seq<nn::conv2d<4, 3>, nn::batch_norm<>, nn::relu, nn::conv2d<2, 1>>;
  nn::net<spec, 3, float, cpu_ref> a(rng(7)), b(rng(7)), c(rng(8));
  std::vector<float> va, vb, vc;
  auto grab = [](auto& net, std::vector<float>& out) {
    out.clear();
    nn::visit_trainable(net, [&](const std::string&, tensor<float, cpu_ref>& t) {
      for (float v : t.values()) out.push_back(v);
    });
  };
  grab(a, va);
  grab(b, vb);
  grab(c, vc);
  BOOST_TEST(va == vb, boost::test_tools::per_element());
  BOOST_TEST(va != vc);
  rng g(7);
  nn::init(c, g);
  grab(c, vc);
  BOOST_TEST(va == vc, boost::test_tools::per_element());
  // Parameters of different layers are different draws.
  BOOST_TEST(nn::at<0>(a).weight.values()[0] != nn::at<3>(a).weight.values()[0]);
}

BOOST_AUTO_TEST_CASE(nn_visit_trainable_skips_buffers) {
  nn::net<nn::seq<nn::conv2d<2, 1, nn::no_bias>, nn::batch_norm<>>, 1, double, cpu_ref> net;
  std::vector<std::string> names;
  nn::visit_trainable(net, [&](const std::string& n, D& t) {
    names.push_back(n);
    BOOST_TEST(t.requires_grad());
  });
  BOOST_TEST(names == std::vector<std::string>({"0.weight", "1.weight", "1.bias"}), boost::test_tools::per_element());
}

// A stack starting with conv2d + batch_norm runs them, in eval mode, as one convolution with the
// BatchNorm folded in: same values and gradients as the ops one after the other (in double, so to
// rounding), and a two-element stack's result comes from the convolution. In training mode the
// BatchNorm runs on its own.
BOOST_AUTO_TEST_CASE(nn_seq_folds_eval_batch_norm_into_the_conv) {
  using plain = nn::seq<nn::conv2d<5, 3>, nn::batch_norm<>>;
  using named = nn::seq<nn::named<"conv", nn::conv2d<5, 3, nn::no_bias>>, nn::named<"bn", nn::batch_norm<>>>;
  using then_relu = nn::seq<nn::conv2d<5, 3>, nn::batch_norm<>, nn::relu>;
  auto check = [](auto& net, auto& conv, auto& bn, bool with_relu) {
    bn.weight = random_tensor<double, cpu>({5}, 21, 0.5, 2.0).requires_grad_();
    bn.bias = random_tensor<double, cpu>({5}, 22).requires_grad_();
    bn.running_mean = random_tensor<double, cpu>({5}, 23);
    bn.running_var = random_tensor<double, cpu>({5}, 24, 0.2, 3.0);
    net.eval();
    auto x = random_tensor<double, cpu>({2, 3, 6, 7}, 25).requires_grad_();
    auto y = net.forward(x);
    if (!with_relu) BOOST_TEST(y.grad_fn()->name() == "conv2d");
    auto xr = x.detach().requires_grad_();
    auto yr = kpt::batch_norm(kpt::conv2d(xr, conv.weight, conv.bias, conv.options), bn.weight, bn.bias,
                              bn.running_mean, bn.running_var, bn.options);
    if (with_relu) yr = kpt::relu(yr);
    BOOST_TEST(kpt::test::max_rel_diff(y, yr) < 1e-12);
    auto g = random_tensor<double, cpu>(y.shape(), 26);
    const auto grads = [&](auto out, auto in) {
      for (auto* p : {&conv.weight, &bn.weight, &bn.bias}) p->zero_grad();
      autograd::backward(out, g);
      return std::vector<tensor<double, cpu>>{in.grad(), conv.weight.grad().clone(), bn.weight.grad().clone(),
                                              bn.bias.grad().clone()};
    };
    const auto folded = grads(y, x), reference = grads(yr, xr);
    for (std::size_t i = 0; i < folded.size(); ++i)
      BOOST_TEST(kpt::test::max_rel_diff(folded[i], reference[i]) < 1e-12);
    net.train();
    if (!with_relu) BOOST_TEST(net.forward(x).grad_fn()->name() == "batch_norm");
  };
  nn::net<plain, 3, double, cpu> a(rng(1));
  check(a, nn::at<0>(a), nn::at<1>(a), false);
  nn::net<named, 3, double, cpu> b(rng(2));
  check(b, nn::get<"conv">(b), nn::get<"bn">(b), false);
  nn::net<then_relu, 3, double, cpu> c(rng(3));
  check(c, nn::at<0>(c), nn::at<1>(c), true);
}

// A conv2d absorbs the relu or leaky_relu after it (its kernel applies it) under no_grad; so does
// a nested conv2d + batch_norm stack in eval mode. With gradients on, the ops run one by one.
// Either way the same values (and gradients) as the layers one by one; a leaky_relu whose slope
// is made negative at run time runs on its own.
BOOST_AUTO_TEST_CASE(nn_seq_runs_the_activation_in_the_conv) {
  using block = nn::seq<nn::conv2d<4, 3, nn::no_bias>, nn::batch_norm<>>;
  using stack = nn::seq<nn::conv2d<5, 3>, nn::relu, nn::named<"block", block>, nn::leaky_relu<0.1>>;
  nn::net<stack, 3, double, cpu> net(rng(4));
  auto& conv = nn::at<0>(net);
  auto& inner = nn::get<"block">(net);
  auto& bconv = nn::at<0>(inner);
  auto& bn = nn::at<1>(inner);
  auto& act = nn::at<3>(net);
  bn.running_mean = random_tensor<double, cpu>({4}, 31);
  bn.running_var = random_tensor<double, cpu>({4}, 32, 0.2, 3.0);
  const auto x0 = random_tensor<double, cpu>({2, 3, 7, 6}, 33);
  const auto g = random_tensor<double, cpu>({2, 4, 7, 6}, 34);
  const auto params = [&] {
    return std::vector<tensor<double, cpu>*>{&conv.weight, &conv.bias, &bconv.weight, &bn.weight, &bn.bias};
  };
  // The output, then the gradients of x and of every parameter.
  const auto run = [&](auto&& f) {
    for (auto* p : params()) p->zero_grad();
    auto x = x0.clone().requires_grad_();
    auto y = f(x);
    autograd::backward(y, g);
    std::vector<tensor<double, cpu>> out{y.detach(), x.grad()};
    for (auto* p : params()) out.push_back(p->grad().clone());
    return out;
  };
  const auto one_by_one = [&](const tensor<double, cpu>& x) {
    const auto h = kpt::relu(kpt::conv2d(x, conv.weight, conv.bias, conv.options));
    const auto c = kpt::batch_norm(kpt::conv2d(h, bconv.weight, {}, bconv.options), bn.weight, bn.bias,
                                   bn.running_mean, bn.running_var, bn.options);
    return kpt::leaky_relu(c, act.slope);
  };
  const auto check = [&](const char* what) {
    BOOST_TEST_CONTEXT(what) {
      {
        no_grad guard;  // fused
        BOOST_TEST(kpt::test::max_rel_diff(net.forward(x0), one_by_one(x0)) < 1e-12);
      }
      const auto got = run([&](const auto& x) { return net.forward(x); }), want = run(one_by_one);
      for (std::size_t i = 0; i < got.size(); ++i) BOOST_TEST(kpt::test::max_rel_diff(got[i], want[i]) < 1e-12);
    }
  };
  net.eval();
  check("eval");
  act.slope = -0.1;
  check("eval, negative slope");
  act.slope = 0.1;
  net.train();  // BatchNorm on batch statistics (the reference's runs update the running ones too)
  check("training");
}
