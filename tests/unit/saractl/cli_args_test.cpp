// SPDX-License-Identifier: GPL-2.0-or-later
// saractl's command line: table-driven, one description per case; plus the request lines
// each command sends.
#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <string_view>
#include <vector>

#include "saractl/cli_args.hpp"

using namespace sara::ctl;

namespace {

CtlParse parse(std::initializer_list<std::string_view> words) {
    const std::vector<std::string_view> v(words);
    return parse_ctl_args(v);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(saractl_cli_args)

BOOST_AUTO_TEST_CASE(valid_command_lines) {
    struct Case {
        const char* what;
        std::vector<std::string_view> argv;
        CtlCommand command;
        std::string socket;
        bool json;
        std::optional<uint32_t> node;
        size_t limit;
        uint32_t target;
    };
    const Case cases[] = {
        {"status with the default socket", {"status"}, CtlCommand::status, kDefaultSocket, false, {}, 1000, 0},
        {"--socket before the command", {"--socket", "/tmp/s", "nodes"}, CtlCommand::nodes, "/tmp/s", false, {}, 1000,
         0},
        {"--socket=PATH after the command", {"stats", "--socket=/x/y.sock"}, CtlCommand::stats, "/x/y.sock", false, {},
         1000, 0},
        {"--json anywhere", {"role", "--json"}, CtlCommand::role, kDefaultSocket, true, {}, 1000, 0},
        {"sessions filtered and limited", {"sessions", "--node", "2", "--limit=5"}, CtlCommand::sessions,
         kDefaultSocket, false, 2u, 5, 0},
        {"drain a node", {"drain", "3"}, CtlCommand::drain, kDefaultSocket, false, {}, 1000, 3},
        {"undrain a node with --json first", {"--json", "undrain", "65535"}, CtlCommand::undrain, kDefaultSocket, true,
         {}, 1000, 65535},
        {"--help wins over anything", {"nodes", "--help"}, CtlCommand::help, kDefaultSocket, false, {}, 1000, 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const CtlParse p = parse_ctl_args(c.argv);
            BOOST_TEST(p.error == "");
            BOOST_TEST(int(p.args.command) == int(c.command));
            BOOST_TEST(p.args.socket == c.socket);
            BOOST_TEST(p.args.json == c.json);
            BOOST_TEST((p.args.node == c.node));
            BOOST_TEST(p.args.limit == c.limit);
            BOOST_TEST(p.args.target == c.target);
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_command_lines_say_why) {
    struct Case {
        const char* what;
        std::vector<std::string_view> argv;
        std::string error;
    };
    const Case cases[] = {
        {"nothing", {}, "no command given"},
        {"unknown command", {"restart"}, "unknown command 'restart'"},
        {"unknown option", {"--verbose", "status"}, "unknown option --verbose"},
        {"--socket without a value", {"status", "--socket"}, "--socket needs a value"},
        {"--socket=", {"status", "--socket="}, "--socket needs a path"},
        {"drain without a node", {"drain"}, "drain needs a NODE id"},
        {"undrain with a name", {"undrain", "node1"}, "NODE must be a node id (1-65535), not 'node1'"},
        {"drain node 0", {"drain", "0"}, "NODE must be a node id (1-65535), not '0'"},
        {"drain a node id too large", {"drain", "65536"}, "NODE must be a node id (1-65535), not '65536'"},
        {"two nodes", {"drain", "1", "2"}, "unexpected argument '2'"},
        {"operand for status", {"status", "1"}, "unexpected argument '1'"},
        {"--node not a number", {"sessions", "--node", "x"}, "--node wants a node id (1-65535), not 'x'"},
        {"--limit 0", {"sessions", "--limit", "0"}, "--limit wants a number from 1 to 1000000, not '0'"},
        {"--limit negative", {"sessions", "--limit=-1"}, "--limit wants a number from 1 to 1000000, not '-1'"},
        {"--node on nodes", {"nodes", "--node", "1"}, "--node, --limit, --key and --client apply to `sessions` only"},
        {"--key on stats", {"stats", "--key", "c1"}, "--node, --limit, --key and --client apply to `sessions` only"},
        {"--key and --client", {"sessions", "--key=c1", "--client=198.18.1.2"}, "--key and --client: give one"},
        {"--key with --node", {"sessions", "--key", "c1", "--node", "1"},
         "--node lists a node's sessions; --key and --client find a session wherever it is"},
        {"--key with --limit", {"sessions", "--key", "c1", "--limit", "5"},
         "--limit does not apply to --key (a key names one session)"},
        {"--key empty", {"sessions", "--key="}, "--key needs a value"},
        {"--key without a value", {"sessions", "--key"}, "--key needs a value"},
        {"--key with a newline (a second request line)", {"sessions", "--key", "c1\nstats"},
         "--key may not contain control characters"},
        {"--client with a tab", {"sessions", "--client", "198.18.1.2\t"}, "--client may not contain control characters"},
        {"an unknown role", {"role", "primary"}, "role must be master, backup or fault, not 'primary'"},
        {"--ready with a role", {"role", "master", "--ready"}, "--ready applies to `role` alone"},
        {"--ready on status", {"status", "--ready"}, "--ready applies to `role` alone"},
        {"two roles", {"role", "master", "backup"}, "unexpected argument 'backup'"},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) { BOOST_TEST(parse_ctl_args(c.argv).error == c.error); }
    }
}

BOOST_AUTO_TEST_CASE(request_lines) {
    BOOST_TEST(request_line(CtlCommand::status, {}) == "stats");
    BOOST_TEST(request_line(CtlCommand::status, {}, true) == "nodes");
    BOOST_TEST(request_line(CtlCommand::drain, parse({"drain", "7"}).args) == "drain 7");
    BOOST_TEST(request_line(CtlCommand::undrain, parse({"undrain", "7"}).args) == "undrain 7");
    BOOST_TEST(request_line(CtlCommand::role, {}) == "role");
    BOOST_TEST(request_line(CtlCommand::role, parse({"role", "master"}).args) == "role master");
    BOOST_TEST(request_line(CtlCommand::role, parse({"role", "fault"}).args) == "role fault");
    BOOST_TEST(request_line(CtlCommand::role, parse({"--ready", "role"}).args) == "role ready");
    BOOST_TEST(request_line(CtlCommand::sessions, parse({"sessions", "--limit", "20"}).args) == "sessions 20");
    // Filtering by node happens here, so sarad is asked for every session.
    BOOST_TEST(request_line(CtlCommand::sessions, parse({"sessions", "--node", "1"}).args) == "sessions 1000000");
    // Finding one call: sarad looks it up (the table has an index by key; a client needs a scan).
    BOOST_TEST(request_line(CtlCommand::sessions, parse({"sessions", "--key", "a b@x"}).args) == "lookup key a b@x");
    BOOST_TEST(request_line(CtlCommand::sessions, parse({"sessions", "--client=[2001:db8::1]:5060"}).args) ==
               "lookup client [2001:db8::1]:5060 1000");
    BOOST_TEST(request_line(CtlCommand::sessions, parse({"sessions", "--client", "198.18.1.2", "--limit", "3"}).args) ==
               "lookup client 198.18.1.2 3");
}

BOOST_AUTO_TEST_CASE(usage_lists_every_command_and_exit_code) {
    const std::string u = usage_text();
    for (const char* word : {"status", "nodes", "sessions", "--key CALL-ID", "--client ADDR[:PORT]", "stats",
                             "drain NODE", "undrain NODE", "role", "--json",
                             "--socket PATH", "exit codes", "  3  sarad unreachable"})
        BOOST_TEST_CONTEXT(word) { BOOST_TEST(u.find(word) != std::string::npos); }
}

BOOST_AUTO_TEST_SUITE_END()
