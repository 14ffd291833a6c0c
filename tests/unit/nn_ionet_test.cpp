// models::ionet: parameter count, state_dict keys equal to KP2D's InlierNet(blocks=4), forward.
#include "support.hpp"
#include "nn_entries.hpp"

#include "kpt/models/ionet.hpp"

using namespace kpt;
using kpt::test::entries;
using kpt::test::random_tensor;
using kpt::test::split;

namespace {

// torch 1.13 InlierNet(blocks=4) state_dict ("key:shape"), SPEC 5.2 / Appendix B.
const std::string ionet_keys =
    "p_in.0.weight:128x5x1x1 ""p_in.1.weight:128 ""p_in.1.bias:128 ""p_in.1.running_mean:128 "
    "p_in.1.running_var:128 ""p_in.1.num_batches_tracked: ""0s0.weight:128x128x1x1 ""0s0.bias:128 "
    "0s1.weight:128 ""0s1.bias:128 ""0s1.running_mean:128 ""0s1.running_var:128 "
    "0s1.num_batches_tracked: ""0s2.weight:128x128x1x1 ""0s2.bias:128 ""0s3.weight:128 ""0s3.bias:128 "
    "0s3.running_mean:128 ""0s3.running_var:128 ""0s3.num_batches_tracked: ""1s0.weight:128x128x1x1 "
    "1s0.bias:128 ""1s1.weight:128 ""1s1.bias:128 ""1s1.running_mean:128 ""1s1.running_var:128 "
    "1s1.num_batches_tracked: ""1s2.weight:128x128x1x1 ""1s2.bias:128 ""1s3.weight:128 ""1s3.bias:128 "
    "1s3.running_mean:128 ""1s3.running_var:128 ""1s3.num_batches_tracked: ""2s0.weight:128x128x1x1 "
    "2s0.bias:128 ""2s1.weight:128 ""2s1.bias:128 ""2s1.running_mean:128 ""2s1.running_var:128 "
    "2s1.num_batches_tracked: ""2s2.weight:128x128x1x1 ""2s2.bias:128 ""2s3.weight:128 ""2s3.bias:128 "
    "2s3.running_mean:128 ""2s3.running_var:128 ""2s3.num_batches_tracked: ""3s0.weight:128x128x1x1 "
    "3s0.bias:128 ""3s1.weight:128 ""3s1.bias:128 ""3s1.running_mean:128 ""3s1.running_var:128 "
    "3s1.num_batches_tracked: ""3s2.weight:128x128x1x1 ""3s2.bias:128 ""3s3.weight:128 ""3s3.bias:128 "
    "3s3.running_mean:128 ""3s3.running_var:128 ""3s3.num_batches_tracked: ""p_out.weight:1x128x1x1 "
    "p_out.bias:1 ";

}  // namespace

BOOST_AUTO_TEST_CASE(nn_ionet_parameter_count_and_keys) {
  models::ionet<models::ionet_kp2d> io;
  BOOST_TEST(nn::count_parameters(io) == 135169);
  BOOST_TEST(entries(io) == split(ionet_keys), boost::test_tools::per_element());
  BOOST_TEST(nn::at<1>(nn::get<"p_in">(io.net)).options.momentum == 0.9);
  BOOST_TEST(nn::get<"2s3">(io).options.momentum == 0.1);  // models forward nn::get to their network
}

BOOST_AUTO_TEST_CASE(nn_ionet_forward_shapes_and_modes) {
  models::ionet<models::ionet_kp2d> io(5);
  auto x = random_tensor<float, cpu>({2, 5, 300, 1}, 1);
  for (bool training : {true, false}) {
    io.train(training);
    auto y = io.forward(x);
    BOOST_TEST(y.shape() == (shape{2, 1, 300, 1}));
  }
  // [N, 5, P] is the same input.
  auto y3 = io.forward(x.view_as({2, 5, 300}));
  BOOST_TEST(kpt::test::max_rel_diff(y3, io.forward(x)) == 0.0);
  BOOST_TEST(nn::get<"0s1">(io.net).num_batches_tracked.item() == 1);
  BOOST_CHECK_THROW(io.forward(tensor<float, cpu>::zeros({2, 4, 300, 1})), shape_error);
  BOOST_CHECK_THROW(io.forward(tensor<float, cpu>::zeros({2, 5, 300, 2})), shape_error);
}
