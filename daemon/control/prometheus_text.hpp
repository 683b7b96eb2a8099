// SPDX-License-Identifier: GPL-2.0-or-later
// Prometheus text exposition format 0.0.4 (what `GET /metrics` returns): one HELP and TYPE
// line per metric family, then its samples. Pure string building; names are sarad's own
// (sara_ + a counter's X-macro name), label values are escaped as the format requires.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sara {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
public:
    // A family's HELP and TYPE lines ("counter" or "gauge"), once per name.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, double value, const MetricLabels& labels = {});
    void counter(std::string_view name, std::string_view help, uint64_t value);
    void gauge(std::string_view name, std::string_view help, double value);
    const std::string& text() const { return out_; }

private:
    std::string out_;
};

// `value` with \\, \" and \n escaped (label values).
std::string escape_label_value(std::string_view value);

}  // namespace sara
