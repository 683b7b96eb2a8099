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

namespace sara {
namespace {

constexpr size_t kMaxRequest = 256;

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        data.remove_prefix(size_t(n));
    }
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::start(const std::string& path, Handler handler, std::string* error) {
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) {
        *error = "control socket path too long: " + path;
        return nullptr;
    }
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = std::string("control socket: ") + std::strerror(errno);
        return nullptr;
    }
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    unlink(path.c_str());  // a socket file left by a crashed run
    const mode_t old_mask = umask(0117);  // socket created 0660
    const int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    umask(old_mask);
    if (rc < 0 || listen(fd, 16) < 0) {
        *error = "control socket " + path + ": " + std::strerror(errno);
        close(fd);
        return nullptr;
    }
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
        if (nl != std::string::npos) request.resize(nl);
        if (!request.empty() && request.back() == '\r') request.pop_back();
        write_all(client, handler_(request));
        close(client);
    }
}

}  // namespace sara
