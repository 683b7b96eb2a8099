// SPDX-License-Identifier: GPL-2.0-or-later
// The one control-socket server of the daemons (sarad, sara-nodeagent, sara-gatewayd): a Unix
// stream socket, mode 0660 (listen_unix: never taken from a live daemon, a stale file is
// replaced), one request line per connection → one reply document, then the server closes.
//
// The contract a client sees:
// - the request is the bytes up to the first "\n" (a "\r" before it is dropped), or all it
//   sent before shutting down its side; at most Options::max_request_bytes without the line end;
// - a longer line never reaches the handler, cut or whole: the rest of it is read and dropped
//   (closing with unread data would reset the connection and lose the answer) and the client
//   gets Options::too_long_reply();
// - a client that has not sent its line within Options::client_deadline is closed unanswered
//   (answering what arrived would be answering a cut request);
// - a reply the handler returns empty is not sent (the connection just closes).
//
// Nothing blocks the caller: every socket is non-blocking and event_fd() (an epoll set of the
// server's own) is what the caller waits on, in its loop's epoll set (node agent, gateway) or
// on a thread of its own (LineControlThread, sarad). serve() and the handler run on that one
// thread; the handler takes its owner's lock for shared state.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/util/clock.hpp"
#include "common/util/unique_fd.hpp"

namespace sara {

class LineControlServer {
public:
    // The reply to one request line (without its line end).
    using Handler = std::function<std::string(std::string_view request)>;

    struct Options {
        std::string owner;                  // names the daemon in "another OWNER listens on it"
        size_t max_request_bytes = 1024;    // a request line's bound, line end not counted
        std::function<std::string()> too_long_reply;  // the answer to a longer line (may count it)
        std::chrono::milliseconds client_deadline{1000};  // to deliver the request line
        size_t max_clients = 8;  // connections read at once; more wait in the listen backlog
    };

    // Creates the socket (and its folder). nullptr with the reason in *error, naming the path.
    static std::unique_ptr<LineControlServer> open(const std::string& path, Options options, Handler handler,
                                                   const Clock& clock, std::string* error);
    ~LineControlServer();  // closes every connection and removes the socket file
    LineControlServer(const LineControlServer&) = delete;
    LineControlServer& operator=(const LineControlServer&) = delete;

    const std::string& path() const { return path_; }
    // Readable while a connection or a request waits; poll it or add it to an epoll set.
    int event_fd() const { return epoll_.get(); }
    // Accepts, reads and answers whatever is ready, without waiting; closes connections past
    // their deadline. Call it when event_fd() is readable and now and then besides (a silent
    // client raises no event), e.g. on a timer.
    void serve();

private:
    struct Client {
        std::string request;
        MonoTime opened{};
        bool discarding = false;  // the line is too long: reading its rest to drop it
        size_t dropped = 0;
    };

    LineControlServer(UniqueFd listener, UniqueFd epoll, std::string path, Options options, Handler handler,
                      const Clock& clock);
    void accept_clients();
    void read_client(int fd, Client& client);
    void answer(int fd, const std::string& reply);
    void close_client(int fd);
    void expire();
    void set_accepting(bool on);

    UniqueFd listener_;
    UniqueFd epoll_;
    std::string path_;
    Options options_;
    Handler handler_;
    const Clock& clock_;
    std::map<int, Client> clients_;
    bool accepting_ = true;
};

// Serves a LineControlServer on a thread of its own (sarad: its main thread runs the packet
// path and cannot wait on the socket). The handler runs on that thread.
class LineControlThread {
public:
    static std::unique_ptr<LineControlThread> start(const std::string& path, LineControlServer::Options options,
                                                    LineControlServer::Handler handler, std::string* error);
    ~LineControlThread();  // stops and joins the thread, then removes the socket
    LineControlThread(const LineControlThread&) = delete;
    LineControlThread& operator=(const LineControlThread&) = delete;

private:
    LineControlThread() = default;
    void run();

    SteadyClock clock_;
    std::unique_ptr<LineControlServer> server_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace sara
