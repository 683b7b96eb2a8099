// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/replay/pcap_reader.hpp"

#include "common/net/link_layer.hpp"

namespace sara {

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
        const LinkStrip link = strip_link_layer(link_type_, frame);
        if (link.status != LinkStatus::ip) {
            ++skipped_;
            continue;
        }
        ip_packet = link.ip;
        const int64_t fraction = nanosecond_ ? header->ts.tv_usec : int64_t(header->ts.tv_usec) * 1000;
        timestamp = std::chrono::seconds(header->ts.tv_sec) + std::chrono::nanoseconds(fraction);
        return true;
    }
}

}  // namespace sara
