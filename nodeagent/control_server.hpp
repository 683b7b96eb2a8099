// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's end of the control socket (control_protocol.hpp): a Unix stream socket, mode
// 0660 (root and the socket's group only), served from the agent's event loop without ever
// blocking it. The listening socket and each connection are registered in the loop's epoll
// set; handle() is called with any fd the loop gets an event for and says whether it was
// one of these. A connection must deliver its request line within a second (expire()), and at
// most kMaxClients are open at once (more are refused by closing them).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/clock.hpp"

namespace sara::nodeagent {

class ControlServer {
public:
    // The reply (one JSON document) to one request line.
    using Handler = std::function<std::string(std::string_view line)>;

    // Creates the socket's directory if needed. Refuses a path where another agent listens,
    // replaces a stale socket file (nobody listening), and never removes anything that is not
    // a socket.
    static std::unique_ptr<ControlServer> open(const std::string& path, int epoll_fd, Handler handler,
                                               const Clock& clock, std::string* error);
    ~ControlServer();  // closes every connection and removes the socket file
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    const std::string& path() const { return path_; }

    // True if `fd` is this server's (listening socket or a connection); then it has been served.
    bool handle(int fd);

    // Closes connections that have not sent a full request line within a second.
    void expire();

private:
    struct Client {
        std::string request;
        MonoTime opened{};
    };
    static constexpr size_t kMaxClients = 8;

    ControlServer(int fd, std::string path, int epoll_fd, Handler handler, const Clock& clock)
        : fd_(fd), path_(std::move(path)), epoll_fd_(epoll_fd), handler_(std::move(handler)), clock_(clock) {}
    void accept_clients();
    void read_client(int fd, Client& client);
    void close_client(int fd);

    int fd_;
    std::string path_;
    int epoll_fd_;
    Handler handler_;
    const Clock& clock_;
    std::map<int, Client> clients_;
};

// The client side: sends one request line, returns the agent's reply. nullopt with `error`
// set if the agent cannot be reached or does not answer within 3 seconds.
std::optional<std::string> control_call(const std::string& path, std::string_view request, std::string* error);

}  // namespace sara::nodeagent
