#define BOOST_TEST_MODULE kpt_parity
#include <boost/test/unit_test.hpp>
