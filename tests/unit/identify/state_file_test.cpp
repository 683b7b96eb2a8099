// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "daemon/identify/state_file.hpp"
#include "tests/unit/support/captured_log.hpp"
#include "tests/unit/support/packets.hpp"
#include "tests/unit/support/printers.hpp"

using namespace sara;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A fresh folder per case, removed with everything in it at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        char dir_template[] = "/tmp/sara-state-file-XXXXXX";
        path = ::mkdtemp(dir_template);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_file)

BOOST_AUTO_TEST_CASE(save_then_load_keeps_sessions_and_flows) {
    TempDir dir;
    // A folder that does not exist yet: saving creates it.
    const std::string path = (dir.path / "lib" / "state").string();
    ManualClock clock;
    SessionTable before(SessionTableLimits{}, {30s, 30s}, clock);
    const SessionId call = before.create_session(ServiceProtocol::sip, "1-42@198.18.1.2", 1);
    before.session(call).node = 2;
    before.add_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000), call, FlowIdentity::secondary);
    test::CapturedLog captured;
    BOOST_TEST(save_state(before, path, captured.log));
    BOOST_TEST(fs::exists(path));
    BOOST_TEST(!fs::exists(path + ".tmp"));
    BOOST_TEST(captured.str().find("state: saved 1 sessions to " + path) != std::string::npos);

    SessionTable after(SessionTableLimits{}, {30s, 30s}, clock);
    const std::optional<SnapshotLoad> load = load_state(after, path, false, captured.log);
    BOOST_REQUIRE(load.has_value());
    BOOST_TEST(load->error == "");
    BOOST_TEST(load->sessions == 1u);
    BOOST_TEST(load->flows == 1u);
    const SessionId c = after.find_session(ServiceProtocol::sip, "1-42@198.18.1.2");
    BOOST_REQUIRE(c != kNoSession);
    BOOST_TEST(after.session(c).node == 2);
    BOOST_TEST(after.find_flow(test::udp_key("198.18.1.2", 20000, "198.18.100.10", 6000))->session == c);
    BOOST_TEST(fs::exists(path));  // kept: periodic saves replace it
}

BOOST_AUTO_TEST_CASE(load_without_periodic_saves_removes_the_file) {
    TempDir dir;
    const std::string path = (dir.path / "state").string();
    ManualClock clock;
    SessionTable table(SessionTableLimits{}, {30s, 30s}, clock);
    test::CapturedLog captured;
    BOOST_REQUIRE(save_state(table, path, captured.log));
    BOOST_TEST(load_state(table, path, true, captured.log).has_value());
    BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(commit_renames_the_temporary_file_over_the_old_one) {
    TempDir dir;
    const std::string path = (dir.path / "state").string();
    std::ofstream(path) << "old\n";
    std::ofstream out(state_tmp_path(path), std::ios::trunc);
    out << "new\n";
    BOOST_TEST(read_file(path) == "old\n");  // until the commit, the previous file stands
    test::CapturedLog captured;
    BOOST_TEST(commit_state(path, out, captured.log));
    BOOST_TEST(read_file(path) == "new\n");
    BOOST_TEST(!fs::exists(path + ".tmp"));
    BOOST_TEST(captured.str() == "");
}

BOOST_AUTO_TEST_CASE(a_failed_commit_is_reported_and_keeps_the_previous_file) {
    TempDir dir;
    const std::string path = (dir.path / "state").string();
    std::ofstream(path) << "old\n";
    std::ofstream out(state_tmp_path(path), std::ios::trunc);
    out << "new\n";
    out.flush();
    fs::remove(path + ".tmp");  // the rename has nothing to move
    test::CapturedLog captured;
    BOOST_TEST(!commit_state(path, out, captured.log));
    BOOST_TEST(read_file(path) == "old\n");
    BOOST_TEST(captured.str().find("state: cannot rename " + path + ".tmp to " + path) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(periodic_save_in_slices_commits_a_loadable_file) {
    TempDir dir;
    const std::string path = (dir.path / "state").string();
    ManualClock clock;
    SessionTableLimits one_shard;  // a slice also pays once per shard it leaves
    one_shard.max_flows = 1024;
    SessionTable table(one_shard, {30s, 30s}, clock);
    for (int i = 0; i < 5; ++i) table.create_session(ServiceProtocol::sip, "call-" + std::to_string(i), 1);
    test::CapturedLog captured;
    PeriodicSave save(path);
    bool done = false;
    for (int steps = 0; !done && steps < 100; ++steps) {
        done = save.writer.step(table, 2);
        save.writer.flush();
    }
    BOOST_REQUIRE(done);
    BOOST_TEST(commit_state(path, save.out, captured.log));
    SessionTable after(SessionTableLimits{}, {30s, 30s}, clock);
    const std::optional<SnapshotLoad> load = load_state(after, path, false, captured.log);
    BOOST_REQUIRE(load.has_value());
    BOOST_TEST(load->sessions == 5u);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_no_state) {
    TempDir dir;
    ManualClock clock;
    SessionTable table(SessionTableLimits{}, {30s, 30s}, clock);
    test::CapturedLog captured;
    BOOST_TEST(!load_state(table, (dir.path / "absent").string(), true, captured.log).has_value());
    BOOST_TEST(table.session_count() == 0u);
    BOOST_TEST(captured.str() == "");
}

BOOST_AUTO_TEST_CASE(a_garbled_file_is_reported_and_what_came_before_stays) {
    TempDir dir;
    const std::string path = (dir.path / "state").string();
    ManualClock clock;
    SessionTable good(SessionTableLimits{}, {30s, 30s}, clock);
    good.create_session(ServiceProtocol::sip, "kept@198.18.1.2", 1);
    test::CapturedLog captured;
    BOOST_REQUIRE(save_state(good, path, captured.log));
    std::ofstream(path, std::ios::app) << "this is no record\n";

    SessionTable table(SessionTableLimits{}, {30s, 30s}, clock);
    const std::optional<SnapshotLoad> load = load_state(table, path, false, captured.log);
    BOOST_REQUIRE(load.has_value());
    BOOST_TEST(load->error != "");
    BOOST_TEST(load->sessions == 1u);
    BOOST_TEST(table.find_session(ServiceProtocol::sip, "kept@198.18.1.2") != kNoSession);
    BOOST_TEST(captured.str().find("state: " + path + ": ") != std::string::npos);
    BOOST_TEST(captured.str().find("the rest was ignored") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
