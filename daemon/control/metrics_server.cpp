// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/control/metrics_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/util/thread_name.hpp"

namespace sara {
namespace {

constexpr size_t kMaxRequest = 8192;

std::string response(std::string_view status, std::string_view content_type, const std::string& body) {
    return "HTTP/1.0 " + std::string(status) + "\r\nContent-Type: " + std::string(content_type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

void write_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += size_t(n);
    }
}

}  // namespace

std::string metrics_http_response(std::string_view head, const std::function<std::string()>& body) {
    const size_t line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
        return response("400 Bad Request", "text/plain", "bad request\n");
    const std::string_view method = line.substr(0, sp1);
    std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (const size_t q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    if (method != "GET" && method != "HEAD") return response("405 Method Not Allowed", "text/plain", "GET only\n");
    if (path != "/metrics") return response("404 Not Found", "text/plain", "try /metrics\n");
    std::string r = response("200 OK", "text/plain; version=0.0.4; charset=utf-8", body());
    if (method == "HEAD") r.resize(r.find("\r\n\r\n") + 4);
    return r;
}

std::unique_ptr<MetricsServer> MetricsServer::start(const Endpoint& listen, std::function<std::string()> body,
                                                    std::string* error) {
    sockaddr_storage addr{};
    socklen_t len = 0;
    int family = AF_INET;
    if (listen.address.is_v4()) {
        auto* a = reinterpret_cast<sockaddr_in*>(&addr);
        a->sin_family = AF_INET;
        a->sin_port = htons(listen.port);
        std::memcpy(&a->sin_addr, listen.address.bytes.data(), 4);
        len = sizeof(sockaddr_in);
    } else {
        family = AF_INET6;
        auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(listen.port);
        std::memcpy(&a->sin6_addr, listen.address.bytes.data(), 16);
        len = sizeof(sockaddr_in6);
    }
    const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0 || ::listen(fd, 16) < 0) {
        if (error) *error = "metrics " + listen.to_string() + ": " + std::strerror(errno);
        if (fd >= 0) close(fd);
        return nullptr;
    }
    return std::unique_ptr<MetricsServer>(new MetricsServer(fd, std::move(body)));
}

MetricsServer::MetricsServer(int fd, std::function<std::string()> body)
    : fd_(fd), body_(std::move(body)), thread_([this] {
          name_this_thread("sara-metrics");
          serve();
      }) {}

MetricsServer::~MetricsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
}

void MetricsServer::serve() {
    while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) continue;
        const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        timeval tv{1, 0};  // a scraper that never finishes its request must not stall us
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string head;
        char buf[2048];
        while (head.size() < kMaxRequest && head.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = recv(client, buf, sizeof buf, 0);
            if (n <= 0) break;
            head.append(buf, size_t(n));
        }
        if (head.find("\r\n\r\n") != std::string::npos) write_all(client, metrics_http_response(head, body_));
        close(client);
    }
}

}  // namespace sara
