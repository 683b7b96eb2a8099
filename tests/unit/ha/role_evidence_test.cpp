// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "daemon/ha/role_evidence.hpp"

using namespace sara;

BOOST_AUTO_TEST_SUITE(role_evidence)

BOOST_AUTO_TEST_CASE(role_file_records) {
    struct Case {
        const char* description;
        const char* text;
        bool valid;
        HaRole role;
    };
    const Case cases[] = {
        {"the hook's record", "master 4242 123456 0f1e2d3c-aaaa\n", true, HaRole::master},
        {"backup", "backup 7 1 b", true, HaRole::backup},
        {"fault", "fault 7 1 b\nignored second line", true, HaRole::fault},
        {"an older hook's one-word file names no writer", "master\n", false, HaRole::backup},
        {"empty", "", false, HaRole::backup},
        {"unknown role", "primary 7 1 b", false, HaRole::backup},
        {"pid 0", "master 0 1 b", false, HaRole::backup},
        {"pid not a number", "master x 1 b", false, HaRole::backup},
        {"no boot id", "master 7 1", false, HaRole::backup},
        {"a fifth field", "master 7 1 b extra", false, HaRole::backup},
        {"negative ticks", "master 7 -1 b", false, HaRole::backup},
    };
    for (const Case& c : cases) {
        BOOST_TEST_INFO(c.description);
        const auto r = parse_role_record(c.text);
        BOOST_TEST(r.has_value() == c.valid);
        if (r && c.valid) BOOST_TEST((r->role == c.role));
    }
    const auto r = parse_role_record("master 4242 123456 0f1e2d3c-aaaa\n");
    BOOST_TEST(r->pid == 4242);
    BOOST_TEST(r->start_ticks == 123456u);
    BOOST_TEST(r->boot_id == "0f1e2d3c-aaaa");
}

BOOST_AUTO_TEST_CASE(proc_stat_fields) {
    // proc(5): comm is field 2 and may hold spaces and ')'; starttime is field 22.
    const char* stat = "4242 (keep alived) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
                       "150 25 0 0 20 0 5 0 987654 123456789 2000";
    BOOST_TEST(proc_stat_comm(stat) == "keep alived");
    BOOST_TEST(proc_stat_start_ticks(stat).value() == 987654u);
    BOOST_TEST(proc_stat_comm("4242 keepalived S") == "");
    BOOST_TEST(!proc_stat_start_ticks("4242 (keepalived) S 1").has_value());
}

BOOST_AUTO_TEST_CASE(start_role_needs_a_living_writer_and_the_address) {
    const RoleRecord master{HaRole::master, 7, 1, "b"};
    const RoleRecord fault{HaRole::fault, 7, 1, "b"};
    struct Case {
        const char* description;
        StartEvidence evidence;
        HaRole expected;
    };
    const Case cases[] = {
        {"no role file", {std::nullopt, false, true}, HaRole::backup},
        {"sarad alone restarted on the master: keepalived still runs and holds the address",
         {master, true, true}, HaRole::master},
        {"no floating address configured: the living keepalived's word", {master, true, std::nullopt}, HaRole::master},
        {"whole-box crash: the file's keepalived died (the stale address may still be up)",
         {master, false, true}, HaRole::backup},
        {"keepalived said master but has left it since (address gone)", {master, true, false}, HaRole::backup},
        {"a living keepalived in FAULT", {fault, true, false}, HaRole::fault},
        {"a dead keepalived's FAULT", {fault, false, false}, HaRole::backup},
    };
    for (const Case& c : cases) {
        BOOST_TEST_INFO(c.description);
        BOOST_TEST((start_role(c.evidence) == c.expected));
    }
}

BOOST_AUTO_TEST_CASE(writer_alive_only_for_this_boots_keepalived_with_its_start_time) {
    std::ifstream boot_file("/proc/sys/kernel/random/boot_id");
    std::string boot;
    std::getline(boot_file, boot);
    std::ifstream stat_file("/proc/self/stat");
    std::stringstream stat;
    stat << stat_file.rdbuf();
    const uint64_t start = proc_stat_start_ticks(stat.str()).value();
    // This process is not keepalived: even its exact identity is refused.
    BOOST_TEST(!record_writer_alive(RoleRecord{HaRole::master, int(getpid()), start, boot}));
    BOOST_TEST(!record_writer_alive(RoleRecord{HaRole::master, int(getpid()), start, "another-boot"}));
    BOOST_TEST(!record_writer_alive(RoleRecord{HaRole::master, 999999999, start, boot}));
}

BOOST_AUTO_TEST_SUITE_END()
