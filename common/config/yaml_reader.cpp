// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <yaml-cpp/eventhandler.h>

namespace sara {

std::string quoted(std::string_view text) {
    // Values are echoed back in messages; keep them short and on one line.
    constexpr size_t max_shown = 40;
    std::string out = "'";
    for (char c : text.substr(0, max_shown)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    if (text.size() > max_shown) out += "...";
    out += "'";
    return out;
}

namespace {


std::string describe(const Field& field) {
    if (!field.present || field.value.IsNull()) return "nothing";
    if (field.value.IsMap()) return "a mapping";
    if (field.value.IsSequence()) return "a list";
    if (field.value.IsScalar()) return quoted(field.value.Scalar());
    return "nothing";
}

std::string path_name(const Field& field) { return field.path.empty() ? "top level" : field.path; }

std::string join(std::span<const std::string_view> names) {
    std::string out;
    for (std::string_view name : names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The offset of the first '[' or '{' nested deeper than `limit`, outside comments and quoted
// scalars, or npos. A heuristic that knows only enough YAML to skip brackets in comments and
// quotes; it decides whether the text is handed to yaml-cpp at all. Where it guesses wrong it
// undercounts (an apostrophe inside a plain scalar opens a "quote" it never leaves), and
// yaml-cpp's own depth guard remains behind it.
size_t find_too_deep_flow(std::string_view text, int limit) {
    enum class State { plain, single_quoted, double_quoted } state = State::plain;
    int depth = 0;
    char previous = '\n';
    for (size_t i = 0; i < text.size(); previous = text[i], ++i) {
        const char c = text[i];
        switch (state) {
        case State::single_quoted:
            if (c == '\'') {
                if (i + 1 < text.size() && text[i + 1] == '\'')
                    ++i;  // '' is an escaped quote
                else
                    state = State::plain;
            }
            break;
        case State::double_quoted:
            if (c == '\\' && i + 1 < text.size())
                ++i;
            else if (c == '"')
                state = State::plain;
            break;
        case State::plain:
            if (c == '#' && is_space(previous)) {
                while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
            } else if ((c == '\'' || c == '"') &&
                       (is_space(previous) || std::strchr("[{,:-?", previous) != nullptr)) {
                state = c == '\'' ? State::single_quoted : State::double_quoted;
            } else if (c == '[' || c == '{') {
                if (++depth > limit) return i;
            } else if ((c == ']' || c == '}') && depth > 0) {
                --depth;
            }
            break;
        }
    }
    return std::string_view::npos;
}

// Counts the documents a YAML::Parser reports and remembers where the second one starts.
class DocumentCounter final : public YAML::EventHandler {
public:
    int documents = 0;
    YAML::Mark second_start = YAML::Mark::null_mark();

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (++documents == 2) second_start = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

}  // namespace

// --- durations -----------------------------------------------------------------------------

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    struct Unit {
        std::string_view suffix;
        int64_t nanoseconds;
    };
    // Longer suffixes first so that "ms" is not read as "m" + garbage.
    static constexpr Unit units[] = {{"ns", 1},
                                     {"us", 1'000},
                                     {"ms", 1'000'000},
                                     {"s", 1'000'000'000},
                                     {"m", 60'000'000'000},
                                     {"h", 3'600'000'000'000}};
    const Unit* unit = nullptr;
    for (const Unit& u : units) {
        if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
            unit = &u;
            break;
        }
    }
    if (unit == nullptr) return std::nullopt;
    const std::string_view number = text.substr(0, text.size() - unit->suffix.size());
    const size_t dot = number.find('.');
    const std::string_view whole = number.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
    const auto all_digits = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (whole.empty() || !all_digits(whole) || !all_digits(fraction)) return std::nullopt;
    if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;  // "1.s"

    int64_t whole_value = 0;
    const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), whole_value);
    if (ec != std::errc{} || end != whole.data() + whole.size()) return std::nullopt;
    int64_t total = 0;
    if (__builtin_mul_overflow(whole_value, unit->nanoseconds, &total)) return std::nullopt;

    // fraction * unit / 10^digits must be a whole number of nanoseconds. Trailing zeros carry
    // no precision; what remains has at most 9 digits for any unit (1 ns = 10^-9 s).
    std::string_view significant = fraction;
    while (!significant.empty() && significant.back() == '0') significant.remove_suffix(1);
    if (significant.size() > 12) return std::nullopt;
    int64_t fraction_value = 0;
    int64_t scale = 1;
    for (char c : significant) {
        fraction_value = fraction_value * 10 + (c - '0');
        scale *= 10;
    }
    // fraction_value < 10^12 and unit <= 3.6e12: the product can exceed int64, use 128 bits.
    const __int128 scaled = static_cast<__int128>(fraction_value) * unit->nanoseconds;
    if (scaled % scale != 0) return std::nullopt;
    if (__builtin_add_overflow(total, static_cast<int64_t>(scaled / scale), &total)) return std::nullopt;
    return std::chrono::nanoseconds(total);
}

// --- parsing -------------------------------------------------------------------------------

void report(ConfigErrorList& errors, const YAML::Mark& at, std::string message) {
    if (at.is_null())
        errors.add(0, 0, std::move(message));
    else
        errors.add(at.line + 1, at.column + 1, std::move(message));
}

std::optional<YAML::Node> parse_yaml_text(ConfigErrorList& errors, std::string_view text) {
    if (text.size() > max_config_bytes) {
        errors.add(0, 0, "file is larger than " + std::to_string(max_config_bytes) + " bytes");
        return std::nullopt;
    }
    if (const size_t at = find_too_deep_flow(text, max_flow_nesting); at != std::string_view::npos) {
        const std::string_view before = text.substr(0, at);
        const size_t line_start = before.rfind('\n');
        const auto line = static_cast<int>(std::count(before.begin(), before.end(), '\n') + 1);
        const auto column = static_cast<int>(line_start == std::string_view::npos ? at + 1 : at - line_start);
        errors.add(line, column, "YAML nesting deeper than " + std::to_string(max_flow_nesting) + " levels");
        return std::nullopt;
    }
    // Not YAML::LoadAll: on some malformed input yaml-cpp 0.7's parser stops advancing and
    // LoadAll collects empty documents until memory runs out (found by fuzz_config, see
    // tests/fuzz/regressions/config/loadall-endless-documents.yaml; upstream PR
    // jbeder/yaml-cpp#1319). Count documents with a bounded loop instead, then build the
    // first one's tree with YAML::Load, which reads one document only.
    DocumentCounter counter;
    YAML::Node root;
    try {
        const std::string input(text);
        std::istringstream stream(input);
        YAML::Parser parser(stream);
        while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
        }
        if (counter.documents == 1) root = YAML::Load(input);
    } catch (const YAML::DeepRecursion& e) {
        report(errors, e.mark, "YAML nesting deeper than yaml-cpp accepts (" + std::to_string(e.depth()) + " levels)");
        return std::nullopt;
    } catch (const YAML::Exception& e) {
        report(errors, e.mark, "YAML syntax: " + e.msg);
        return std::nullopt;
    } catch (const std::exception& e) {
        errors.add(0, 0, std::string("YAML parser failed: ") + e.what());
        return std::nullopt;
    }
    if (counter.documents == 0) {
        errors.add(1, 1, "file is empty");
        return std::nullopt;
    }
    if (counter.documents > 1) {
        const YAML::Mark& at = counter.second_start;
        const bool explicit_start = at.pos >= 0 && static_cast<size_t>(at.pos) < text.size() &&
                                    (text.substr(static_cast<size_t>(at.pos)).starts_with("---") ||
                                     text.substr(static_cast<size_t>(at.pos)).starts_with("%"));
        report(errors, at,
               explicit_start ? "only one YAML document is allowed" : "YAML syntax: unexpected text after the document");
        return std::nullopt;
    }
    return root;
}

std::optional<YAML::Node> load_yaml_file(ConfigErrorList& errors) {
    std::ifstream in(errors.file(), std::ios::binary);
    if (!in) {
        errors.add(0, 0, std::string("cannot open: ") + std::strerror(errno));
        return std::nullopt;
    }
    std::string text(max_config_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) {
        errors.add(0, 0, std::string("cannot read: ") + std::strerror(errno));
        return std::nullopt;
    }
    text.resize(static_cast<size_t>(in.gcount()));
    return parse_yaml_text(errors, text);
}

// --- fields and mappings -------------------------------------------------------------------

YAML::Mark Field::mark() const {
    if (!present || value.IsNull() || value.Mark().is_null()) return key_mark;
    return value.Mark();
}

Field root_field(const YAML::Node& root) {
    Field field;
    field.present = true;
    field.value = root;
    field.key_mark = root.Mark();
    return field;
}

MapReader::MapReader(ConfigErrorList& errors, const Field& field, std::initializer_list<std::string_view> allowed)
    : errors_(errors), field_(field) {
    if (!field.present) return;
    if (!field.value.IsMap()) {
        report(errors, field.mark(), path_name(field) + ": expected a mapping, got " + describe(field));
        return;
    }
    is_map_ = true;
    const std::vector<std::string_view> allowed_keys(allowed);
    const std::string prefix = field.path.empty() ? "" : field.path + ": ";
    std::unordered_map<std::string, int> first_line;  // key -> 1-based line of its first use
    for (auto it = field.value.begin(); it != field.value.end() && !errors.full(); ++it) {
        // it-> yields a temporary pair: copy the (cheap, shared) node handles out of it.
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        if (!key.IsScalar()) {
            report(errors, key.Mark(), prefix + "keys must be plain strings");
            continue;
        }
        const std::string& name = key.Scalar();
        const auto [seen, inserted] = first_line.try_emplace(name, key.Mark().line + 1);
        if (!inserted) {
            report(errors, key.Mark(), prefix + "duplicate key " + quoted(name) + " (first given at line " +
                                           std::to_string(seen->second) + ")");
            continue;
        }
        if (std::find(allowed_keys.begin(), allowed_keys.end(), name) == allowed_keys.end()) {
            std::string message = prefix + "unknown key " + quoted(name) + "; allowed: " + join(allowed_keys);
            if (name == "<<") message += " (YAML merge keys are not supported)";
            report(errors, key.Mark(), std::move(message));
            continue;
        }
        entries_.push_back(Entry{name, value, key.Mark()});
    }
}

Field MapReader::get(std::string_view key) const {
    Field out;
    out.path = field_.path.empty() ? std::string(key) : field_.path + "." + std::string(key);
    for (const Entry& entry : entries_) {
        if (entry.key == key) {
            out.present = true;
            out.value = entry.value;
            out.key_mark = entry.key_mark;
            break;
        }
    }
    return out;
}

Field MapReader::require(std::string_view key) {
    Field out = get(key);
    if (!out.present && is_map_)
        report(errors_, field_.mark(),
               (field_.path.empty() ? std::string() : field_.path + ": ") + "missing required key " + quoted(key));
    return out;
}

std::vector<Field> list_items(ConfigErrorList& errors, const Field& field) {
    std::vector<Field> items;
    if (!field.present) return items;
    if (!field.value.IsSequence()) {
        report(errors, field.mark(), path_name(field) + ": expected a list, got " + describe(field));
        return items;
    }
    size_t index = 0;
    for (auto it = field.value.begin(); it != field.value.end() && !errors.full(); ++it, ++index) {
        Field item;
        item.present = true;
        item.value = static_cast<const YAML::Node&>(*it);
        item.key_mark = it->Mark().is_null() ? field.mark() : it->Mark();
        item.path = path_name(field) + "[" + std::to_string(index) + "]";
        items.push_back(std::move(item));
    }
    return items;
}

const std::string* scalar_text(ConfigErrorList& errors, const Field& field, std::string_view expected) {
    if (!field.present) return nullptr;
    if (!field.value.IsScalar()) {
        report(errors, field.mark(), path_name(field) + ": expected " + std::string(expected) + ", got " + describe(field));
        return nullptr;
    }
    return &field.value.Scalar();
}

// --- typed readers -------------------------------------------------------------------------

bool read_int64(ConfigErrorList& errors, const Field& field, int64_t& out, int64_t min, int64_t max) {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    const std::string* text = scalar_text(errors, field, "an integer in " + range);
    if (text == nullptr) return false;
    int64_t value = 0;
    const char* first = text->data();
    const char* last = first + text->size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range && end == last) {
        report(errors, field.mark(), field.path + ": " + quoted(*text) + " is out of range " + range);
        return false;
    }
    if (ec != std::errc{} || end != last) {
        report(errors, field.mark(), field.path + ": expected an integer in " + range + ", got " + quoted(*text));
        return false;
    }
    if (value < min || value > max) {
        report(errors, field.mark(), field.path + ": " + *text + " is out of range " + range);
        return false;
    }
    out = value;
    return true;
}

bool read_number(ConfigErrorList& errors, const Field& field, double& out, double min, double max) {
    const auto format = [](double v) {
        char buf[32];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
        return ec == std::errc{} ? std::string(buf, end) : std::string("?");
    };
    const std::string range = format(min) + ".." + format(max);
    const std::string* text = scalar_text(errors, field, "a number in " + range);
    if (text == nullptr) return false;
    double value = 0;
    const char* first = text->data();
    const char* last = first + text->size();
    const auto [end, ec] = std::from_chars(first, last, value, std::chars_format::fixed);
    if (ec != std::errc{} || end != last || !std::isfinite(value)) {
        report(errors, field.mark(), field.path + ": expected a number in " + range + ", got " + quoted(*text));
        return false;
    }
    if (value < min || value > max) {
        report(errors, field.mark(), field.path + ": " + *text + " is out of range " + range);
        return false;
    }
    out = value;
    return true;
}

bool read_fraction(ConfigErrorList& errors, const Field& field, double& out) {
    return read_number(errors, field, out, 0.0, 1.0);
}

bool read_bool(ConfigErrorList& errors, const Field& field, bool& out) {
    const std::string* text = scalar_text(errors, field, "true or false");
    if (text == nullptr) return false;
    if (*text == "true" || *text == "True" || *text == "TRUE") {
        out = true;
        return true;
    }
    if (*text == "false" || *text == "False" || *text == "FALSE") {
        out = false;
        return true;
    }
    report(errors, field.mark(), field.path + ": expected true or false, got " + quoted(*text));
    return false;
}

bool read_string(ConfigErrorList& errors, const Field& field, std::string& out) {
    const std::string* text = scalar_text(errors, field, "a string");
    if (text == nullptr) return false;
    if (text->empty()) {
        report(errors, field.mark(), field.path + ": must not be empty");
        return false;
    }
    out = *text;
    return true;
}

bool read_name(ConfigErrorList& errors, const Field& field, std::string& out) {
    std::string text;
    if (!read_string(errors, field, text)) return false;
    const bool valid = text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
    });
    if (!valid) {
        report(errors, field.mark(), field.path + ": " + quoted(text) + " is not a name (1..64 of A-Z a-z 0-9 . _ -)");
        return false;
    }
    out = std::move(text);
    return true;
}

bool read_absolute_path(ConfigErrorList& errors, const Field& field, std::string& out, size_t max_length) {
    std::string text;
    if (!read_string(errors, field, text)) return false;
    if (text.front() != '/' || text.find('\0') != std::string::npos) {
        report(errors, field.mark(), field.path + ": expected an absolute path, got " + quoted(text));
        return false;
    }
    if (text.size() > max_length) {
        report(errors, field.mark(), field.path + ": path longer than " + std::to_string(max_length) + " bytes");
        return false;
    }
    out = std::move(text);
    return true;
}

namespace {

std::string format_duration(std::chrono::nanoseconds d) {
    using namespace std::chrono;
    const int64_t ns = d.count();
    if (ns % 3'600'000'000'000 == 0 && ns != 0) return std::to_string(ns / 3'600'000'000'000) + "h";
    if (ns % 60'000'000'000 == 0 && ns != 0) return std::to_string(ns / 60'000'000'000) + "m";
    if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
    if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
    return std::to_string(ns) + "ns";
}

}  // namespace

bool read_duration(ConfigErrorList& errors, const Field& field, std::chrono::nanoseconds& out,
                   std::chrono::nanoseconds min, std::chrono::nanoseconds max) {
    const std::string range = format_duration(min) + ".." + format_duration(max);
    const std::string* text = scalar_text(errors, field, "a duration in " + range);
    if (text == nullptr) return false;
    const std::optional<std::chrono::nanoseconds> value = parse_duration(*text);
    if (!value) {
        const bool bare_number = !text->empty() && std::all_of(text->begin(), text->end(), [](char c) {
            return (c >= '0' && c <= '9') || c == '.';
        });
        if (bare_number)
            report(errors, field.mark(), field.path + ": duration " + quoted(*text) + " has no unit (write e.g. " +
                                             *text + "s or " + *text + "ms)");
        else
            report(errors, field.mark(), field.path + ": expected a duration such as 200ms, 30s, 1.5s or 2m, got " +
                                             quoted(*text));
        return false;
    }
    if (*value < min || *value > max) {
        report(errors, field.mark(), field.path + ": " + *text + " is out of range " + range);
        return false;
    }
    out = *value;
    return true;
}

bool read_duration(ConfigErrorList& errors, const Field& field, std::chrono::milliseconds& out,
                   std::chrono::milliseconds min, std::chrono::milliseconds max) {
    std::chrono::nanoseconds value{};
    if (!read_duration(errors, field, value, min, max)) return false;
    if (value % std::chrono::milliseconds(1) != std::chrono::nanoseconds(0)) {
        report(errors, field.mark(), field.path + ": must be a whole number of milliseconds");
        return false;
    }
    out = std::chrono::duration_cast<std::chrono::milliseconds>(value);
    return true;
}

bool read_ip(ConfigErrorList& errors, const Field& field, IpAddress& out) {
    return read_parsed(errors, field, "an IP address", "an IPv4 or IPv6 address", out);
}

bool read_endpoint(ConfigErrorList& errors, const Field& field, Endpoint& out) {
    return read_parsed(errors, field, "ADDRESS:PORT", "ADDRESS:PORT or [IPV6]:PORT with port 1..65535", out);
}

bool read_mac(ConfigErrorList& errors, const Field& field, MacAddress& out) {
    const std::string* text = scalar_text(errors, field, "a MAC address");
    if (text == nullptr) return false;
    const std::optional<MacAddress> mac = MacAddress::parse(*text);
    if (!mac) {
        report(errors, field.mark(), field.path + ": expected a MAC address like 02:00:00:00:02:11, got " + quoted(*text));
        return false;
    }
    if (mac->is_multicast() || mac->is_zero()) {
        report(errors, field.mark(), field.path + ": " + *text + " is not a unicast MAC address");
        return false;
    }
    out = *mac;
    return true;
}

bool read_port(ConfigErrorList& errors, const Field& field, uint16_t& out) {
    return read_integer<uint16_t>(errors, field, out, 1, 65535);
}

bool read_choice(ConfigErrorList& errors, const Field& field, std::span<const std::string_view> names, size_t& index) {
    const std::string* text = scalar_text(errors, field, "one of " + join(names));
    if (text == nullptr) return false;
    const auto it = std::find(names.begin(), names.end(), *text);
    if (it == names.end()) {
        report(errors, field.mark(), field.path + ": unknown value " + quoted(*text) + "; allowed: " + join(names));
        return false;
    }
    index = static_cast<size_t>(it - names.begin());
    return true;
}

}  // namespace sara
