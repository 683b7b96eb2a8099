// SPDX-License-Identifier: GPL-2.0-or-later
// One UDP socket that sends every control datagram (the node agent's heartbeats and load
// vectors, the gateway's announcements) to every dispatcher. IPv4-only destination lists use
// an AF_INET socket; a list with an IPv6 dispatcher uses one dual-stack AF_INET6 socket (IPv4
// dispatchers as v4-mapped addresses). Non-blocking: a full send buffer drops that datagram
// (counted) instead of delaying the next one. Used from one thread only (its owner's loop).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/net/endpoint.hpp"
#include "common/util/counters.hpp"

namespace sara {

#define SARA_SENDER_COUNTERS(X)                                             \
    X(datagrams_sent_total, "Control datagrams handed to the kernel")      \
    X(send_errors_total, "Control datagrams the kernel refused (dropped)")
SARA_DECLARE_COUNTERS(SenderCounters, SARA_SENDER_COUNTERS)

class DatagramSender {
public:
    static std::unique_ptr<DatagramSender> open(const std::vector<Endpoint>& dispatchers, std::string* error);
    ~DatagramSender();
    DatagramSender(const DatagramSender&) = delete;
    DatagramSender& operator=(const DatagramSender&) = delete;

    // Sends `datagram` to every dispatcher. Returns the number of failed sends; the last
    // failure's text is in last_error().
    size_t send_to_all(std::span<const uint8_t> datagram);

    const SenderCounters& counters() const { return counters_; }
    const std::string& last_error() const { return last_error_; }

private:
    DatagramSender(int fd, std::vector<sockaddr_storage> addresses, std::vector<socklen_t> lengths,
                   std::vector<std::string> names)
        : fd_(fd), addresses_(std::move(addresses)), lengths_(std::move(lengths)), names_(std::move(names)) {}

    int fd_;
    std::vector<sockaddr_storage> addresses_;
    std::vector<socklen_t> lengths_;
    std::vector<std::string> names_;
    SenderCounters counters_;
    std::string last_error_;
};

}  // namespace sara
