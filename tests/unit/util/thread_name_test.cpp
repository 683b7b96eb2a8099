// SPDX-License-Identifier: GPL-2.0-or-later
// name_this_thread (thread_name.hpp): the name /proc shows for the thread, which
// make bench-datapath reads to find sarad's queue threads; a long name is cut to the
// kernel's 15 characters rather than refused (the thread would keep its old name).
#include <boost/test/unit_test.hpp>

#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "common/util/thread_name.hpp"

namespace sara {
namespace {

// What /proc says the calling thread is called.
std::string proc_name_of_this_thread() {
    std::ifstream in("/proc/self/task/" + std::to_string(gettid()) + "/comm");
    std::string name;
    std::getline(in, name);
    return name;
}

std::string name_in_a_thread(const std::string& name) {
    std::string seen;
    std::thread t([&] {
        name_this_thread(name);
        seen = proc_name_of_this_thread();
    });
    t.join();
    return seen;
}

BOOST_AUTO_TEST_SUITE(thread_name)

BOOST_AUTO_TEST_CASE(the_thread_is_shown_by_its_name) {
    BOOST_TEST(name_in_a_thread("sara-queue3") == "sara-queue3");
}

BOOST_AUTO_TEST_CASE(a_name_longer_than_the_kernel_keeps_is_cut_not_refused) {
    BOOST_TEST(name_in_a_thread("sara-heartbeat-listener") == "sara-heartbeat-");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
