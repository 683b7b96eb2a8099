// SPDX-License-Identifier: GPL-2.0-or-later
// The one config loader (config_loader.hpp) with a two-field schema of the test's own: the
// file and text paths, errors naming the file with their positions and in file order, a
// syntax error or an unreadable file that stops before the schema reader, and an exception a
// reader throws turned into an error (the loaders' "never throws").
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "common/config/config_loader.hpp"
#include "common/config/yaml_reader.hpp"

namespace sara {
namespace {

struct TinyConfig {
    uint32_t size = 7;
    uint32_t count = 0;  // required
};

void read_tiny(ConfigErrorList& errors, const YAML::Node& root, TinyConfig& config) {
    MapReader top(errors, root_field(root), {"size", "count"});
    if (!top.is_map()) return;
    read_integer<uint32_t>(errors, top.get("size"), config.size, 1, 100);
    read_integer<uint32_t>(errors, top.require("count"), config.count, 1, 10);
}

BOOST_AUTO_TEST_SUITE(config_loader)

BOOST_AUTO_TEST_CASE(text_fills_the_config_and_keeps_defaults) {
    const ConfigLoad<TinyConfig> load = load_config_text<TinyConfig>("count: 3\n", "tiny.yaml", read_tiny);
    BOOST_TEST(load.ok());
    BOOST_TEST(load.config.count == 3u);
    BOOST_TEST(load.config.size == 7u);
}

BOOST_AUTO_TEST_CASE(every_error_names_the_file_in_file_order) {
    const ConfigLoad<TinyConfig> load =
        load_config_text<TinyConfig>("size: 500\ncolour: red\ncount: 0\n", "tiny.yaml", read_tiny);
    BOOST_TEST(!load.ok());
    BOOST_TEST_INFO(format_config_errors(load.errors));
    BOOST_TEST_REQUIRE(load.errors.size() == 3u);
    for (const ConfigError& e : load.errors) BOOST_TEST(e.file == "tiny.yaml");
    BOOST_TEST(load.errors[0].line == 1);
    BOOST_TEST(load.errors[1].line == 2);
    BOOST_TEST(load.errors[2].line == 3);
}

BOOST_AUTO_TEST_CASE(a_syntax_error_is_one_error_and_the_reader_is_not_called) {
    bool called = false;
    const auto load = load_config_text<TinyConfig>("count: [1,\n", "tiny.yaml",
                                                   [&](ConfigErrorList&, const YAML::Node&, TinyConfig&) {
                                                       called = true;
                                                   });
    BOOST_TEST(!called);
    BOOST_TEST(load.errors.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_throwing_reader_becomes_an_error) {
    const auto load = load_config_text<TinyConfig>("count: 1\n", "tiny.yaml",
                                                   [](ConfigErrorList&, const YAML::Node&, TinyConfig&) {
                                                       throw std::runtime_error("boom");
                                                   });
    BOOST_TEST_REQUIRE(load.errors.size() == 1u);
    BOOST_TEST(load.errors[0].line == 0);
    BOOST_TEST(load.errors[0].message == "internal error while reading the config: boom");
}

BOOST_AUTO_TEST_CASE(a_file_is_read_and_its_errors_name_its_path) {
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("sara-config-loader-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path) << "count: 2\nsize: 0\n";
    const ConfigLoad<TinyConfig> load = load_config_file<TinyConfig>(path.string(), read_tiny);
    std::filesystem::remove(path);
    BOOST_TEST_REQUIRE(load.errors.size() == 1u);
    BOOST_TEST(load.errors[0].file == path.string());
    BOOST_TEST(load.errors[0].line == 2);
    BOOST_TEST(load.config.count == 2u);
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_is_one_error_without_a_position) {
    const ConfigLoad<TinyConfig> load = load_config_file<TinyConfig>("/nonexistent/tiny.yaml", read_tiny);
    BOOST_TEST_REQUIRE(load.errors.size() == 1u);
    BOOST_TEST(load.errors[0].file == "/nonexistent/tiny.yaml");
    BOOST_TEST(load.errors[0].line == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
