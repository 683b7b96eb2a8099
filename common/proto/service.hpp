// SPDX-License-Identifier: GPL-2.0-or-later
// The services SARA balances (DESIGN §12 `services:`): which VIP ports carry which
// signalling protocol, and their flow timeouts. Shared by sarad, the gateway and replay.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/flow_key.hpp"

namespace sara {

// Which application protocol keys a session.
enum class ServiceProtocol : uint8_t {
    sip,    // Call-ID
    rtsp,   // RTSP Session id
    plain,  // any other TCP/UDP service: the session is its first flow
};
const char* to_string(ServiceProtocol p);
std::optional<ServiceProtocol> service_protocol_from_string(std::string_view s);

struct Service {
    std::string name;
    ServiceProtocol protocol = ServiceProtocol::plain;
    bool udp = false;
    bool tcp = false;
    uint16_t port = 0;
    std::chrono::milliseconds flow_timeout{30'000};
};

// Index 0 is reserved for flows on no configured port ("other", default timeout), so a
// service index fits FlowEntry::service and indexes timeouts() directly.
class ServiceMap {
public:
    static constexpr uint8_t kOther = 0;

    explicit ServiceMap(std::vector<Service> services,
                        std::chrono::milliseconds other_timeout = std::chrono::seconds(30));
    // The DESIGN §12 defaults: sip/udp/5060, sip/tcp/5060, rtsp/tcp/554.
    static ServiceMap defaults();
    // "sip/udp/5060" (replay's --service); nullopt when malformed.
    static std::optional<Service> parse_spec(std::string_view spec);

    // Service index for traffic to the VIP on `port`, or kOther.
    uint8_t match(IpProto proto, uint16_t port) const;
    // Traffic to the VIP on `port` is signalling sarad inspects packet by packet (SIP over UDP
    // or TCP, RTSP over TCP), whose verdicts never save a mark to conntrack. Everything else
    // is a data flow: its mark is saved and the kernel carries it (the fast path).
    bool is_signalling(IpProto proto, uint16_t port) const;
    const Service& service(uint8_t index) const { return services_[index]; }
    std::vector<std::chrono::milliseconds> timeouts() const;
    size_t size() const { return services_.size(); }

private:
    std::vector<Service> services_;  // [0] is "other"
};

}  // namespace sara
