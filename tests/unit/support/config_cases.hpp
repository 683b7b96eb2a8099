// SPDX-License-Identifier: GPL-2.0-or-later
// What the config loaders' tests share: a table row of YAML and the errors it must produce
// (position and a part of the message), its check, and finding a sample file in etc/.
#pragma once

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "common/config/config_errors.hpp"

namespace sara::test {

struct ExpectedError {
    int line;
    int column;
    std::string message_part;  // a substring of the message
};

struct ConfigErrorCase {
    const char* description;
    std::string yaml;
    std::vector<ExpectedError> errors;  // in file order
};

// Exactly the expected errors, in order, each naming `file_name`.
inline void check_config_errors(const std::vector<ConfigError>& errors, const ConfigErrorCase& c,
                                const std::string& file_name) {
    BOOST_TEST_INFO("errors:\n" << format_config_errors(errors));
    BOOST_TEST_REQUIRE(errors.size() == c.errors.size());
    for (size_t i = 0; i < c.errors.size(); ++i) {
        const ConfigError& got = errors[i];
        const ExpectedError& want = c.errors[i];
        BOOST_TEST_INFO("error " << i << ": " << format_config_error(got));
        BOOST_TEST(got.file == file_name);
        BOOST_TEST(got.line == want.line);
        BOOST_TEST(got.column == want.column);
        BOOST_TEST(got.message.find(want.message_part) != std::string::npos);
    }
}

// `relative` (e.g. "etc/dispatcher.yaml"), found from the working directory or from the
// calling test's source file upwards; `relative` itself if neither has it.
inline std::string find_sample(const std::string& relative, const char* source_file) {
    std::vector<std::filesystem::path> starts = {std::filesystem::current_path(),
                                                 std::filesystem::path(source_file).parent_path()};
    for (std::filesystem::path dir : starts) {
        for (int up = 0; up < 6 && !dir.empty(); ++up, dir = dir.parent_path()) {
            if (std::filesystem::exists(dir / relative)) return (dir / relative).string();
            if (dir == dir.parent_path()) break;
        }
    }
    return relative;
}

}  // namespace sara::test
