#define BOOST_TEST_MODULE kpt_grad
#include <boost/test/unit_test.hpp>
