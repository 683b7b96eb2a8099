// SPDX-License-Identifier: GPL-2.0-or-later
// The one-line JSON summaries sip-loadgen prints: a small writer for flat objects of numbers
// and strings (no nesting beyond one level, all keys ours), and latency percentiles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sara::loadgen {

class JsonLine {
public:
    JsonLine& num(std::string_view key, double v);
    JsonLine& num(std::string_view key, uint64_t v);
    JsonLine& str(std::string_view key, std::string_view v);
    JsonLine& raw(std::string_view key, std::string_view json);  // an object built by another JsonLine
    std::string done() const { return "{" + body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_;
};

// {"count":..,"p50":..,"p90":..,"p99":..,"max":..} in microseconds; sorts `values`.
std::string latency_json(std::vector<uint32_t> values);

}  // namespace sara::loadgen
