#define BOOST_TEST_MODULE kpt_unit
#include <boost/test/unit_test.hpp>
