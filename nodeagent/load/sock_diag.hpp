// SPDX-License-Identifier: GPL-2.0-or-later
// The application's listen backlog from the kernel's socket diagnostics (NETLINK_SOCK_DIAG,
// inet_diag; sock_diag(7)): the request bytes and the parsing of the reply, both pure so the
// tests run them on hand-built netlink bytes. SockDiagSocket (sock_diag_socket.hpp) is the
// thin layer that sends and receives them.
//
// What a socket's queue means:
//   TCP in LISTEN  idiag_rqueue = connections completed and waiting for accept(),
//                  idiag_wqueue = the listen() backlog limit; the kernel drops SYNs/ACKs
//                  once the first reaches the second.
//   UDP            the INET_DIAG_SKMEMINFO attribute: SK_MEMINFO_RMEM_ALLOC (bytes queued
//                  for the application, skb overhead included) over SK_MEMINFO_RCVBUF, the
//                  limit the kernel drops datagrams at. (idiag_rqueue for UDP has no limit
//                  to compare with.)
// With several sockets on the port (SO_REUSEPORT, IPv4 and IPv6), the fullest one counts:
// it is the one about to drop.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/config/nodeagent_config.hpp"
#include "common/util/parse_status.hpp"

namespace sara::nodeagent {

struct DiagSocket {
    uint8_t family = 0;  // AF_INET, AF_INET6
    uint8_t state = 0;   // TCP_* (UDP: TCP_CLOSE when bound and unconnected, TCP_ESTABLISHED when connected)
    uint16_t local_port = 0;
    uint32_t rqueue = 0;
    uint32_t wqueue = 0;
    std::optional<uint32_t> rmem_alloc;  // from INET_DIAG_SKMEMINFO, if the reply had it
    std::optional<uint32_t> rcvbuf;
    friend bool operator==(const DiagSocket&, const DiagSocket&) = default;
};

// One SOCK_DIAG_BY_FAMILY dump request for `family` (AF_INET or AF_INET6) and the port's
// protocol, with netlink sequence number `seq`: TCP asks for LISTEN sockets only, UDP for every
// state and the SKMEMINFO attribute; both carry an inet_diag bytecode filter "source port ==
// port" so the kernel sends only the sockets of that port.
std::vector<uint8_t> build_diag_request(uint8_t family, const AppPort& port, uint32_t seq);

struct DiagParseResult {
    ParseStatus status = ParseStatus::incomplete;  // complete = NLMSG_DONE seen
    int error = 0;             // status error: the kernel's errno (positive), 0 if malformed
    size_t malformed = 0;      // messages too short to hold what their type promises
};

// Parses one recv() of a dump reply: netlink messages in `buffer`, each bounds-checked.
// Messages of `seq` carrying an inet_diag_msg are appended to `out`; messages of another
// sequence (a late reply to an abandoned request) are skipped. `incomplete` means the dump
// continues in the next recv(). A message whose length runs past the buffer ends parsing with
// `error`.
DiagParseResult parse_diag_messages(std::span<const uint8_t> buffer, uint32_t seq, std::vector<DiagSocket>& out);

// True if a socket in `sockets` serves `port`: TCP in LISTEN, or UDP in any state.
bool serves_port(std::span<const DiagSocket> sockets, const AppPort& port);

// The fullest queue among the sockets of `port`, in [0, 1] (see the top of this file); 0 if
// there are none. A TCP listener with a backlog limit of 0 counts as full once one
// connection waits.
double backlog_fraction(std::span<const DiagSocket> sockets, const AppPort& port);

}  // namespace sara::nodeagent
