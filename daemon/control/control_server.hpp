// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's control socket (DESIGN §10): a Unix stream socket, mode 0660 (never world
// writable), one request line per connection ("stats", "nodes", "sessions [LIMIT]", ...; at
// most 1024 bytes, a longer one is answered {"error": ...} without reaching the handler), one
// JSON document back. saractl and the tests talk to it. A thread of its own polls it; the
// handler runs on that thread and must take the owner's lock for shared state.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace sara {

class ControlServer {
public:
    using Handler = std::function<std::string(std::string_view request)>;

    static std::unique_ptr<ControlServer> start(const std::string& path, Handler handler, std::string* error);
    ~ControlServer();  // stops the thread, removes the socket file
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

private:
    ControlServer(int fd, std::string path, Handler handler);
    void serve();

    int fd_;
    std::string path_;
    Handler handler_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace sara
