// SPDX-License-Identifier: GPL-2.0-or-later
// `--check-config` reads the `auth:` key file as start does: an unreadable key is an error at
// auth.key_file's file:line:col (all three daemons share the section and the check).
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "common/config/gateway_config.hpp"
#include "common/wire/configured_key.hpp"

namespace sara::wire {

BOOST_AUTO_TEST_SUITE(configured_key)

BOOST_AUTO_TEST_CASE(a_missing_key_is_an_error_at_the_key_file_line) {
    AuthConfig auth;
    auth.key_file = "/nonexistent/sara-test/cluster.key";
    auth.key_file_line = 7;
    auth.key_file_column = 17;
    const auto error = check_configured_key("agent.yaml", auth);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(format_config_error(*error) ==
               "agent.yaml:7:17: error: auth.key_file: /nonexistent/sara-test/cluster.key: not found");
}

BOOST_AUTO_TEST_CASE(the_default_key_file_has_no_position_and_auth_none_needs_no_key) {
    AuthConfig auth;
    auth.key_file = "/nonexistent/sara-test/cluster.key";  // as if the default, not in the file
    const auto error = check_configured_key("gw.yaml", auth);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(format_config_error(*error).rfind("gw.yaml: error: auth.key_file: ", 0) == 0);
    auth.enabled = false;
    BOOST_TEST(!check_configured_key("gw.yaml", auth).has_value());
}

BOOST_AUTO_TEST_CASE(a_readable_key_passes_and_the_loaders_record_its_position) {
    char dir_template[] = "/tmp/sara-configured-key-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    BOOST_TEST_REQUIRE(dir != nullptr);
    const std::string path = std::string(dir) + "/cluster.key";
    { std::ofstream(path) << std::string(64, 'a') << "\n"; }
    BOOST_TEST_REQUIRE(::chmod(path.c_str(), 0600) == 0);
    const std::string auth_line = "auth: {key_file: " + path + "}\n";
    const ConfigLoad<GatewayConfig> gw = load_gateway_config_from_string(
        "vip: 198.18.100.10\ninterface: lan0\ndispatchers: ['198.18.2.1:7402']\n" + auth_line, "gw.yaml");
    BOOST_TEST_INFO(format_config_errors(gw.errors));
    BOOST_TEST_REQUIRE(gw.ok());
    BOOST_TEST(gw.config.auth.key_file_line == 4);
    BOOST_TEST(gw.config.auth.key_file_column == 18);
    BOOST_TEST(!check_configured_key("gw.yaml", gw.config.auth).has_value());
    ::unlink(path.c_str());
    const auto missing = check_configured_key("gw.yaml", gw.config.auth);
    BOOST_TEST_REQUIRE(missing.has_value());
    BOOST_TEST(missing->line == 4);
    ::rmdir(dir);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::wire
