// SPDX-License-Identifier: GPL-2.0-or-later
// A thin layer over yaml-cpp for config files: parse text into a node tree (syntax errors
// become one positioned ConfigError instead of an exception) and read typed fields from it.
// Every reader appends a positioned error for a bad value and returns false, so a loader can
// carry on and report every mistake in a file at once. Nothing here throws.
//
// Positions: yaml-cpp marks are 0-based; ConfigError positions are 1-based. A value that is
// missing or empty (`key:`) is reported at its key, since yaml-cpp marks an empty value at
// whatever token follows it.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "common/config/config_errors.hpp"
#include "common/net/endpoint.hpp"
#include "common/net/ip_address.hpp"
#include "common/net/mac_address.hpp"

// The parser's own recursion guard (yaml-cpp >= 0.7, a DepthGuard in every node handler) is
// what bounds block-style nesting such as `- - - - x`; refuse to build against a yaml-cpp
// without it rather than run a config parser that a crafted file can overflow the stack of.
#if !__has_include(<yaml-cpp/depthguard.h>)
#error "yaml-cpp >= 0.7 (with DepthGuard) is required"
#endif

namespace sara {

// `200ms`, `30s`, `1.5s`, `2m`: a non-negative decimal number and a unit (ns, us, ms, s, m, h),
// no space. A bare number has no unit and is rejected. nullopt if invalid, if it is not a whole
// number of nanoseconds, or if it exceeds about 292 years.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// Larger config texts are refused before parsing (a dispatcher config is a few KiB).
inline constexpr size_t max_config_bytes = 1 << 20;
// Deepest flow nesting (`[`, `{`) accepted; checked on the raw text before yaml-cpp sees it.
// Block nesting is bounded by yaml-cpp's DepthGuard (see above). The schema needs depth 4.
inline constexpr int max_flow_nesting = 64;

// Parses `text` as exactly one YAML document. On a syntax error, a second document, an empty
// text, flow nesting deeper than max_flow_nesting or text over max_config_bytes, adds one error
// and returns nullopt.
std::optional<YAML::Node> parse_yaml_text(ConfigErrorList& errors, std::string_view text);

// Reads the file named by errors.file() and parses it as parse_yaml_text does. A file that
// cannot be read gives one error without a position.
std::optional<YAML::Node> load_yaml_file(ConfigErrorList& errors);

// Adds an error at a yaml-cpp mark (no position if the mark is null).
void report(ConfigErrorList& errors, const YAML::Mark& at, std::string message);

// One value to read: the node, where it is, and its path for messages ("queue.max_len",
// "nodes[2].mac"). `present` is false for a key that is not in the file.
struct Field {
    bool present = false;
    YAML::Node value;
    YAML::Mark key_mark;  // the key's position; for a list element, the element's
    std::string path;

    // Where to report a problem with the value: the value itself, or its key if it is empty.
    YAML::Mark mark() const;
    bool is_null() const { return present && value.IsNull(); }
};

// The root of a document as a Field (path "" is printed as "top level").
Field root_field(const YAML::Node& root);

// A YAML mapping checked against the keys it may hold. Construction reports, each at the
// offending key: non-string keys, duplicate keys (yaml-cpp keeps both silently), and unknown
// keys (naming the allowed ones). A field that is present but not a mapping is reported as
// such; then every get() is absent and require() reports nothing more.
class MapReader {
public:
    MapReader(ConfigErrorList& errors, const Field& field, std::initializer_list<std::string_view> allowed);

    bool is_map() const { return is_map_; }
    const Field& field() const { return field_; }

    // The value of `key` (first occurrence), or a Field with present == false.
    Field get(std::string_view key) const;
    // As get(), and a missing key is an error at the mapping's position.
    Field require(std::string_view key);

private:
    struct Entry {
        std::string key;
        YAML::Node value;
        YAML::Mark key_mark;
    };
    ConfigErrorList& errors_;
    Field field_;
    bool is_map_ = false;
    std::vector<Entry> entries_;
};

// The elements of a list as Fields (path "services[0]", ...). A present field that is not a
// list is an error. Stops early once `errors` is full.
std::vector<Field> list_items(ConfigErrorList& errors, const Field& field);

// The scalar text of a field, or nullptr after reporting that it is not a scalar (a mapping,
// a list or nothing). `expected` completes "expected ..." in that message.
const std::string* scalar_text(ConfigErrorList& errors, const Field& field, std::string_view expected);

// A value echoed back in a message: at most 40 bytes, quoted, control bytes as \xNN.
std::string quoted(std::string_view text);

// --- typed readers -------------------------------------------------------------------------

// Any type with `static std::optional<T> parse(std::string_view)`: reports "PATH: expected
// EXPECTED, got 'TEXT'" when the scalar does not parse; `what` names the scalar's kind.
template <typename T>
bool read_parsed(ConfigErrorList& errors, const Field& field, std::string_view what, std::string_view expected,
                 T& out) {
    const std::string* text = scalar_text(errors, field, what);
    if (text == nullptr) return false;
    const std::optional<T> value = T::parse(*text);
    if (!value) {
        report(errors, field.mark(), field.path + ": expected " + std::string(expected) + ", got " + sara::quoted(*text));
        return false;
    }
    out = *value;
    return true;
}

// Each does nothing and returns false for an absent field (the target keeps its default),
// writes `out` and returns true for a valid value, and reports and returns false otherwise.

bool read_int64(ConfigErrorList& errors, const Field& field, int64_t& out, int64_t min, int64_t max);

// A decimal integer in [min, max].
template <std::integral T>
    requires(!std::same_as<T, bool> && std::numeric_limits<T>::max() <= std::numeric_limits<int64_t>::max())
bool read_integer(ConfigErrorList& errors, const Field& field, T& out, T min, T max) {
    int64_t value = 0;
    if (!read_int64(errors, field, value, static_cast<int64_t>(min), static_cast<int64_t>(max))) return false;
    out = static_cast<T>(value);
    return true;
}

// A decimal number in [min, max] (no inf or nan).
bool read_number(ConfigErrorList& errors, const Field& field, double& out, double min, double max);
// A number in [0, 1].
bool read_fraction(ConfigErrorList& errors, const Field& field, double& out);
// `true` or `false` (YAML 1.2; `yes`/`no`/`on`/`off` are rejected as ambiguous).
bool read_bool(ConfigErrorList& errors, const Field& field, bool& out);
// A non-empty string.
bool read_string(ConfigErrorList& errors, const Field& field, std::string& out);
// A name for logs, metrics labels and saractl: 1..64 of [A-Za-z0-9._-].
bool read_name(ConfigErrorList& errors, const Field& field, std::string& out);
// An absolute path of at most max_length bytes.
bool read_absolute_path(ConfigErrorList& errors, const Field& field, std::string& out, size_t max_length = 4095);
// A duration (see parse_duration) in [min, max]; the millisecond form also requires a whole
// number of milliseconds.
bool read_duration(ConfigErrorList& errors, const Field& field, std::chrono::nanoseconds& out,
                   std::chrono::nanoseconds min, std::chrono::nanoseconds max);
bool read_duration(ConfigErrorList& errors, const Field& field, std::chrono::milliseconds& out,
                   std::chrono::milliseconds min, std::chrono::milliseconds max);
bool read_ip(ConfigErrorList& errors, const Field& field, IpAddress& out);
// `addr:port` / `[v6]:port`.
bool read_endpoint(ConfigErrorList& errors, const Field& field, Endpoint& out);
// A unicast, non-zero MAC address.
bool read_mac(ConfigErrorList& errors, const Field& field, MacAddress& out);
// 1..65535.
bool read_port(ConfigErrorList& errors, const Field& field, uint16_t& out);

// One of `names`; returns its index. The message lists the allowed values.
bool read_choice(ConfigErrorList& errors, const Field& field, std::span<const std::string_view> names, size_t& index);

template <class E>
struct EnumName {
    std::string_view name;
    E value;
};

template <class E>
bool read_enum(ConfigErrorList& errors, const Field& field, E& out, std::initializer_list<EnumName<E>> choices) {
    std::vector<std::string_view> names;
    names.reserve(choices.size());
    for (const EnumName<E>& choice : choices) names.push_back(choice.name);
    size_t index = 0;
    if (!read_choice(errors, field, names, index)) return false;
    out = choices.begin()[index].value;
    return true;
}

// A list read element by element with read_one(errors, element_field, T&) -> bool. With
// `allow_single`, a lone scalar counts as a one-element list (`transport: tcp`). Writes `out`
// only if every element is valid; an empty list is valid (callers that need items check).
template <class T, class ReadOne>
bool read_list(ConfigErrorList& errors, const Field& field, std::vector<T>& out, ReadOne read_one,
               bool allow_single = false) {
    if (!field.present) return false;
    std::vector<Field> items;
    if (allow_single && field.value.IsScalar())
        items.push_back(field);
    else
        items = list_items(errors, field);
    if (!field.value.IsSequence() && !(allow_single && field.value.IsScalar())) return false;
    std::vector<T> values;
    bool ok = true;
    for (const Field& item : items) {
        T value{};
        if (read_one(errors, item, value))
            values.push_back(std::move(value));
        else
            ok = false;
    }
    if (ok) out = std::move(values);
    return ok;
}

}  // namespace sara
