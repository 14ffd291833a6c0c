#include "support.hpp"

#include "kpt/ops/binary.hpp"

using namespace kpt;
using T = tensor<float, cpu_ref>;

BOOST_AUTO_TEST_SUITE(tensor_basics)

BOOST_AUTO_TEST_CASE(factories_and_access) {
  auto t = T::from({2, 3}, {1, 2, 3, 4, 5, 6});
  BOOST_TEST(t.rank() == 2);
  BOOST_TEST(t.numel() == 6);
  BOOST_TEST(t.at({1, 2}) == 6.f);
  BOOST_TEST(t.size(-1) == 3);
  BOOST_TEST(T::zeros({4}).to_vector() == std::vector<float>(4, 0.f));
  BOOST_TEST(T::scalar(2.5f).item() == 2.5f);
  BOOST_TEST(T::scalar(1.f).rank() == 0);
  auto c = t.clone();
  c.at({0, 0}) = 9;
  BOOST_TEST(t.at({0, 0}) == 1.f);  // clone is deep
  auto v = t.view_as({3, 2});
  v.at({0, 0}) = 7;
  BOOST_TEST(t.at({0, 0}) == 7.f);  // view shares the buffer
}

BOOST_AUTO_TEST_CASE(rank_over_five_is_a_shape_error) {
  BOOST_CHECK_EXCEPTION(T::zeros({1, 1, 1, 1, 1, 1}), shape_error, [](const shape_error& e) {
    return std::string(e.what()).find("exceeds kpt::max_rank") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(buffers_are_aligned_for_simd) {
  auto t = tensor<float, cpu>::empty({3, 5});
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0u);
}

BOOST_AUTO_TEST_CASE(bad_indices_and_axes) {
  auto t = T::zeros({2, 3});
  BOOST_CHECK_THROW(t.at({2, 0}), value_error);
  BOOST_CHECK_THROW(t.at({0}), shape_error);
  BOOST_CHECK_THROW(t.size(2), value_error);
  BOOST_CHECK_THROW(t.item(), shape_error);
  BOOST_CHECK_THROW(T::from({2}, {1.f, 2.f, 3.f}), shape_error);
  BOOST_CHECK_THROW(t.view_as({4}), shape_error);
}

BOOST_AUTO_TEST_CASE(mismatched_shapes_name_the_op_and_both_shapes) {
  auto a = T::zeros({2, 3}), b = T::zeros({4, 3});
  BOOST_CHECK_EXCEPTION(add(a, b), shape_error, [](const shape_error& e) {
    const std::string m = e.what();
    return m.find("add") != std::string::npos && m.find("[2, 3]") != std::string::npos &&
           m.find("[4, 3]") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(broadcasting_forward) {
  auto a = T::from({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = T::from({3}, {10, 20, 30});
  BOOST_TEST((a + b).to_vector() == (std::vector<float>{11, 22, 33, 14, 25, 36}));
  auto c = T::from({2, 1}, {1, 2});
  BOOST_TEST((a * c).to_vector() == (std::vector<float>{1, 2, 3, 8, 10, 12}));
  BOOST_TEST((a - T::scalar(1)).to_vector() == (std::vector<float>{0, 1, 2, 3, 4, 5}));
  BOOST_TEST((T::scalar(6) / c).to_vector() == (std::vector<float>{6, 3}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(autograd_engine)

BOOST_AUTO_TEST_CASE(gradients_accumulate_when_a_tensor_is_used_twice) {
  auto x = T::from({2}, {3, 4}).requires_grad_();
  auto y = x * x + x;  // dy/dx = 2x + 1
  autograd::backward(y, T::ones({2}));
  BOOST_TEST(x.grad().to_vector() == (std::vector<float>{7, 9}));
  // A second forward and backward adds to the leaf's gradient.
  auto z = x * T::scalar(2);
  autograd::backward(z, T::ones({2}));
  BOOST_TEST(x.grad().to_vector() == (std::vector<float>{9, 11}));
  x.zero_grad();
  BOOST_TEST(!x.grad().defined());
}

BOOST_AUTO_TEST_CASE(backward_from_a_non_scalar_is_an_error) {
  auto x = T::from({2}, {3, 4}).requires_grad_();
  auto y = x * x;
  BOOST_CHECK_EXCEPTION(y.backward(), autograd_error, [](const autograd_error& e) {
    return std::string(e.what()).find("needs a scalar") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(backward_twice_through_a_freed_graph_is_an_error) {
  auto x = T::from({1}, {3}).requires_grad_();
  auto y = x * x;
  y.backward();
  BOOST_CHECK_THROW(y.backward(), autograd_error);
}

BOOST_AUTO_TEST_CASE(no_grad_and_detach_record_nothing) {
  auto x = T::from({1}, {3}).requires_grad_();
  {
    no_grad guard;
    auto y = x * x;
    BOOST_TEST(!y.requires_grad());
  }
  auto d = x.detach();
  BOOST_TEST(!d.requires_grad());
  BOOST_TEST(!(d * d).requires_grad());
  BOOST_CHECK_THROW((d * d).backward(), autograd_error);
}

BOOST_AUTO_TEST_CASE(broadcast_gradients_sum_to_the_input_shape) {
  auto a = T::from({2, 3}, {1, 2, 3, 4, 5, 6}).requires_grad_();
  auto b = T::from({3}, {1, 1, 2}).requires_grad_();
  autograd::backward(a * b, T::ones({2, 3}));
  BOOST_TEST(b.grad().to_vector() == (std::vector<float>{5, 7, 9}));
  BOOST_TEST(a.grad().to_vector() == (std::vector<float>{1, 1, 2, 1, 1, 2}));
}

BOOST_AUTO_TEST_SUITE_END()
