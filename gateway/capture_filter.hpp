// SPDX-License-Identifier: GPL-2.0-or-later
// The capture filter: which packets the gateway asks the kernel for. Only the nodes'
// signalling from the VIP on the sip and rtsp services' ports, so that media and everything
// else stay in the kernel and cost the gateway nothing:
//   src host VIP and (udp src port 5060 or tcp src port 5060 or tcp src port 554)
// Plain tcp/udp services are left out: a reply on them names no other flow. Later IP
// fragments carry no ports and are left out as well (the inspector cannot use them).
#pragma once

#include <string>
#include <vector>

#include "common/net/ip_address.hpp"
#include "common/net/vip_set.hpp"
#include "common/proto/service.hpp"

namespace sara::gateway {

// The filter text (pcap-filter(7)) for `vip` and the sip/rtsp services among `services`, in
// service order, each transport/port once. Empty if no service is sip or rtsp.
std::string capture_filter(const VipSet& vip, const std::vector<Service>& services);

// Compiles `filter` as a live capture of `link_type` with `snaplen` would, without a device.
// Empty if it compiles, else libpcap's message.
std::string filter_problem(const std::string& filter, int link_type, int snaplen);

}  // namespace sara::gateway
