// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/replay/pcap_reader.hpp"

#include "common/util/byte_order.hpp"

namespace sara {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd, kEtherVlan = 0x8100, kEtherQinQ = 0x88a8;

bool is_ip_ethertype(uint16_t t) { return t == kEtherIpv4 || t == kEtherIpv6; }

}  // namespace

PcapReader::PcapReader(const std::string& path) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    handle_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!handle_) {
        error_ = errbuf;
        return;
    }
    nanosecond_ = pcap_get_tstamp_precision(handle_) == PCAP_TSTAMP_PRECISION_NANO;
    link_type_ = pcap_datalink(handle_);
}

PcapReader::~PcapReader() {
    if (handle_) pcap_close(handle_);
}

bool PcapReader::strip_link_layer(std::span<const uint8_t> f, std::span<const uint8_t>& ip) const {
    switch (link_type_) {
        case DLT_EN10MB: {
            if (f.size() < 14) return false;
            size_t offset = 12;
            uint16_t type = read_be16(f.data() + offset);
            // Up to two VLAN tags (802.1Q, QinQ).
            for (int tags = 0; tags < 2 && (type == kEtherVlan || type == kEtherQinQ); ++tags) {
                offset += 4;
                if (f.size() < offset + 2) return false;
                type = read_be16(f.data() + offset);
            }
            if (!is_ip_ethertype(type)) return false;
            ip = f.subspan(offset + 2);
            return true;
        }
        case DLT_RAW:
        case 228:  // LINKTYPE_IPV4
        case 229:  // LINKTYPE_IPV6
            ip = f;
            return true;
        case DLT_LINUX_SLL:
            if (f.size() < 16 || !is_ip_ethertype(read_be16(f.data() + 14))) return false;
            ip = f.subspan(16);
            return true;
        case 276:  // LINKTYPE_LINUX_SLL2
            if (f.size() < 20 || !is_ip_ethertype(read_be16(f.data()))) return false;
            ip = f.subspan(20);
            return true;
        case DLT_NULL:
        case DLT_LOOP:
            if (f.size() < 4) return false;
            ip = f.subspan(4);
            return true;
        default: return false;
    }
}

bool PcapReader::next(std::span<const uint8_t>& ip_packet, std::chrono::nanoseconds& timestamp) {
    if (!handle_) return false;
    for (;;) {
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        const int rc = pcap_next_ex(handle_, &header, &data);
        if (rc == PCAP_ERROR_BREAK) return false;
        if (rc == PCAP_ERROR) {
            error_ = pcap_geterr(handle_);
            return false;
        }
        if (rc != 1) continue;
        const std::span<const uint8_t> frame(data, header->caplen);
        if (!strip_link_layer(frame, ip_packet)) {
            ++skipped_;
            continue;
        }
        const int64_t fraction = nanosecond_ ? header->ts.tv_usec : int64_t(header->ts.tv_usec) * 1000;
        timestamp = std::chrono::seconds(header->ts.tv_sec) + std::chrono::nanoseconds(fraction);
        return true;
    }
}

}  // namespace sara
