// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/control/control_server.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/net/unix_listener.hpp"

namespace sara {
namespace {

// Longest request line: `lookup key KEY` with a key at the session table's 256-byte bound
// fits with room to spare. A longer line is refused whole, never cut and answered as if it
// were a shorter request (a cut key would look up another session, or none).
constexpr size_t kMaxRequest = 1024;

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        data.remove_prefix(size_t(n));
    }
}

// Reads and drops the rest of an over-long request line (to its newline, the client's end, the
// 1 s receive timeout, or 64 KiB): closing a Unix socket with unread data resets the
// connection, and the client would get ECONNRESET instead of the answer.
void discard_line(int fd) {
    char buf[4096];
    for (size_t dropped = 0; dropped < 65536;) {
        const ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0 || std::memchr(buf, '\n', size_t(n))) return;
        dropped += size_t(n);
    }
}

std::string too_long_answer() {
    return "{\"error\":\"request line longer than " + std::to_string(kMaxRequest) + " bytes\"}\n";
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::start(const std::string& path, Handler handler, std::string* error) {
    // Never another sarad's socket: a second sarad refuses to start instead (a stale file is
    // replaced).
    UniqueFd listener = listen_unix(path, "sarad", 16, 0, error);
    if (!listener) return nullptr;
    const int fd = listener.release();
    return std::unique_ptr<ControlServer>(new ControlServer(fd, path, std::move(handler)));
}

ControlServer::ControlServer(int fd, std::string path, Handler handler)
    : fd_(fd), path_(std::move(path)), handler_(std::move(handler)), thread_([this] { serve(); }) {}

ControlServer::~ControlServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
    unlink(path_.c_str());
}

void ControlServer::serve() {
    while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) continue;
        const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        // A client that never sends a line must not stall the server.
        timeval tv{1, 0};
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        std::string request;
        char buf[kMaxRequest];
        while (request.size() < kMaxRequest && request.find('\n') == std::string::npos) {
            const ssize_t n = recv(client, buf, sizeof(buf), 0);
            if (n <= 0) break;
            request.append(buf, size_t(n));
        }
        const size_t nl = request.find('\n');
        if (nl == std::string::npos && request.size() >= kMaxRequest) {
            discard_line(client);
            write_all(client, too_long_answer());
            close(client);
            continue;
        }
        if (nl != std::string::npos) request.resize(nl);
        if (!request.empty() && request.back() == '\r') request.pop_back();
        write_all(client, handler_(request));
        close(client);
    }
}

}  // namespace sara
