// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/capture_filter.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <memory>

namespace sara::gateway {

std::string capture_filter(const VipSet& vip, const std::vector<Service>& services) {
    std::vector<std::string> ports;
    const auto add = [&ports](const char* transport, uint16_t port) {
        std::string term = std::string(transport) + " src port " + std::to_string(port);
        if (std::find(ports.begin(), ports.end(), term) == ports.end()) ports.push_back(std::move(term));
    };
    for (const Service& s : services) {
        if (s.protocol != ServiceProtocol::sip && s.protocol != ServiceProtocol::rtsp) continue;
        if (s.udp) add("udp", s.port);
        if (s.tcp) add("tcp", s.port);
    }
    if (ports.empty()) return "";
    // One VIP: "src host V"; dual stack: "(src host V4 or src host V6)".
    const std::vector<IpAddress> hosts = vip.list();
    std::string filter = hosts.size() > 1 ? "(" : "";
    for (size_t i = 0; i < hosts.size(); ++i) filter += (i ? " or src host " : "src host ") + hosts[i].to_string();
    filter += hosts.size() > 1 ? ") and (" : " and (";
    for (size_t i = 0; i < ports.size(); ++i) filter += (i ? " or " : "") + ports[i];
    return filter + ")";
}

std::string filter_problem(const std::string& filter, int link_type, int snaplen) {
    const std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(pcap_open_dead(link_type, snaplen), &pcap_close);
    if (!dead) return "pcap_open_dead failed";
    bpf_program program{};
    if (pcap_compile(dead.get(), &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        return pcap_geterr(dead.get());
    pcap_freecode(&program);
    return "";
}

}  // namespace sara::gateway
