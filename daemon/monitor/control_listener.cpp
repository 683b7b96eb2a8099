// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/monitor/control_listener.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util/thread_name.hpp"

namespace sara {

std::unique_ptr<ControlListener> ControlListener::start(const Endpoint& listen, const wire::ClusterKey* key,
                                                      std::vector<uint16_t> hosts, OnMessage on_message,
                                                      std::string* error) {
    const bool v6 = listen.address.is_v6();
    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = std::string("health socket: ") + std::strerror(errno);
        return nullptr;
    }
    sockaddr_storage addr{};
    socklen_t len;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(listen.port);
        std::memcpy(&a->sin6_addr, listen.address.bytes.data(), 16);
        len = sizeof(*a);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&addr);
        a->sin_family = AF_INET;
        a->sin_port = htons(listen.port);
        std::memcpy(&a->sin_addr, listen.address.bytes.data(), 4);
        len = sizeof(*a);
    }
    timeval tv{0, 200'000};  // see stop requests within 200 ms
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
        *error = "health: bind " + listen.to_string() + ": " + std::strerror(errno);
        close(fd);
        return nullptr;
    }
    return std::unique_ptr<ControlListener>(new ControlListener(fd, key, std::move(hosts), std::move(on_message)));
}

ControlListener::ControlListener(int fd, const wire::ClusterKey* key, std::vector<uint16_t> hosts, OnMessage on_message)
    : fd_(fd), receiver_(key, std::move(hosts)), on_message_(std::move(on_message)), thread_([this] {
          name_this_thread("sara-listener");
          serve();
      }) {}

ControlListener::~ControlListener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    close(fd_);
}

wire::ControlCounters ControlListener::counters() const {
    MutexLock guard(counters_lock_);
    return receiver_.counters();
}

void ControlListener::set_hosts(std::vector<uint16_t> hosts) {
    MutexLock guard(counters_lock_);
    receiver_.set_known_hosts(std::move(hosts));
}

void ControlListener::serve() {
    uint8_t buf[2048];
    while (!stop_) {
        const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
        if (n < 0) continue;  // timeout or signal: check stop_
        wire::Decoded d;
        {
            MutexLock guard(counters_lock_);
            d = receiver_.receive({buf, size_t(n)}, uint32_t(std::time(nullptr)));
        }
        if (d.reject == wire::Reject::none) on_message_(d);
    }
}

}  // namespace sara
