// SPDX-License-Identifier: GPL-2.0-or-later
// Reads IP packets from a capture file with libpcap, stripping the link layer with
// common/net/link_layer (the gateway's code: Ethernet with VLAN tags, raw IP, Linux cooked
// v1/v2, BSD loopback). Frames of other link types or non-IP ethertypes are counted and skipped.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include <pcap/pcap.h>

namespace sara {

class PcapReader {
public:
    // Opens `path`; on failure error() is non-empty and next() returns false.
    explicit PcapReader(const std::string& path);
    ~PcapReader();
    PcapReader(const PcapReader&) = delete;
    PcapReader& operator=(const PcapReader&) = delete;

    const std::string& error() const { return error_; }
    // The next IP packet: its bytes (valid until the next call) and capture time.
    bool next(std::span<const uint8_t>& ip_packet, std::chrono::nanoseconds& timestamp);
    uint64_t skipped() const { return skipped_; }

private:
    pcap_t* handle_ = nullptr;
    int link_type_ = 0;
    bool nanosecond_ = false;
    std::string error_;
    uint64_t skipped_ = 0;
};

}  // namespace sara
