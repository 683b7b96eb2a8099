// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/control/prometheus_text.hpp"

#include <cmath>
#include <cstdio>

namespace sara {
namespace {

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// HELP text escapes only \\ and \n.
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += escape_help(help);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, double value, const MetricLabels& labels) {
    out_ += name;
    if (!labels.empty()) {
        out_ += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
            if (i) out_ += ',';
            out_ += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
        }
        out_ += '}';
    }
    out_ += ' ';
    out_ += format_value(value);
    out_ += '\n';
}

void PrometheusText::counter(std::string_view name, std::string_view help, uint64_t value) {
    family(name, "counter", help);
    out_ += name;
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample(name, value);
}

}  // namespace sara
