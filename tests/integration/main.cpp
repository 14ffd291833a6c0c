#define BOOST_TEST_MODULE kpt_integration
#include <boost/test/unit_test.hpp>
