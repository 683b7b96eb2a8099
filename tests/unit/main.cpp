// SPDX-License-Identifier: GPL-2.0-or-later
// The one translation unit that defines the Boost.Test module; every other test file only
// declares suites and cases.
#define BOOST_TEST_MODULE sara_unit_tests
#include <boost/test/unit_test.hpp>
