// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/loadgen/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sara::loadgen {

void JsonLine::key(std::string_view k) {
    if (!body_.empty()) body_ += ",";
    body_.append("\"").append(k).append("\":");
}

JsonLine& JsonLine::num(std::string_view k, double v) {
    key(k);
    if (!std::isfinite(v)) {
        body_ += "null";
        return *this;
    }
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    body_ += buf;
    return *this;
}

JsonLine& JsonLine::num(std::string_view k, uint64_t v) {
    key(k);
    body_ += std::to_string(v);
    return *this;
}

JsonLine& JsonLine::str(std::string_view k, std::string_view v) {
    key(k);
    body_ += "\"";
    for (char c : v) {
        if (c == '"' || c == '\\') body_ += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
            body_ += buf;
            continue;
        }
        body_ += c;
    }
    body_ += "\"";
    return *this;
}

JsonLine& JsonLine::raw(std::string_view k, std::string_view json) {
    key(k);
    body_.append(json);
    return *this;
}

std::string latency_json(std::vector<uint32_t> values) {
    JsonLine j;
    j.num("count", uint64_t(values.size()));
    if (values.empty()) return j.done();
    std::sort(values.begin(), values.end());
    const auto at = [&](double q) { return uint64_t(values[size_t(q * double(values.size() - 1))]); };
    j.num("p50", at(0.5)).num("p90", at(0.9)).num("p99", at(0.99)).num("max", uint64_t(values.back()));
    return j.done();
}

}  // namespace sara::loadgen
