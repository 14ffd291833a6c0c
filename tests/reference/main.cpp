#define BOOST_TEST_MODULE kpt_reference
#include <boost/test/unit_test.hpp>
