#define BOOST_TEST_MODULE kpt_cuda
#include <boost/test/unit_test.hpp>
