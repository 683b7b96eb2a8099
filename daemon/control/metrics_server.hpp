// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's Prometheus endpoint (metrics.listen, default 127.0.0.1:9740): a minimal HTTP/1.0
// server on a thread of its own. `GET /metrics` answers 200 with the text the owner's
// callback builds (under the owner's lock); any other path 404, any other method 405; a
// request that does not arrive within a second, or is larger than 8 KiB, is dropped. One
// connection at a time, closed after the answer: a scraper, not a web server.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/net/endpoint.hpp"

namespace sara {

// The response (status line, headers, body) to one raw HTTP request head. Pure, for tests.
std::string metrics_http_response(std::string_view request_head, const std::function<std::string()>& body);

class MetricsServer {
public:
    static std::unique_ptr<MetricsServer> start(const Endpoint& listen, std::function<std::string()> body,
                                                std::string* error);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

private:
    MetricsServer(int fd, std::function<std::string()> body);
    void serve();

    int fd_;
    std::function<std::string()> body_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace sara
