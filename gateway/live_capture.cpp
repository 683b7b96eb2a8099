// SPDX-License-Identifier: GPL-2.0-or-later
#include "gateway/live_capture.hpp"

namespace sara::gateway {
namespace {

struct Dispatch {
    const LiveCapture::FrameHandler* on_frame;
};

void on_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
    const auto* d = reinterpret_cast<const Dispatch*>(user);
    (*d->on_frame)(std::span<const uint8_t>(bytes, header->caplen), header->len);
}

// Failures of pcap_activate() that the same call cannot get past later.
bool is_permanent(int status) {
    return status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR_RFMON_NOTSUP ||
           status == PCAP_ERROR_PROMISC_PERM_DENIED;
}

}  // namespace

std::unique_ptr<LiveCapture> LiveCapture::open(const CaptureSettings& s, std::string* error, bool* permanent) {
    const auto fail = [&](const std::string& message, bool is_final) {
        if (error) *error = "capture on " + s.interface + ": " + message;
        if (permanent) *permanent = is_final;
        return nullptr;
    };
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* raw = pcap_create(s.interface.c_str(), errbuf);
    if (raw == nullptr) return fail(errbuf, false);
    std::unique_ptr<LiveCapture> capture(new LiveCapture(raw));
    pcap_t* h = capture->handle_;
    // Immediate mode: a signalling reply is announced as it arrives, not when a ring block
    // fills or its timeout runs out. Not promiscuous: the nodes' replies are addressed to this
    // host (it is their gateway).
    if (pcap_set_snaplen(h, s.snaplen) != 0 || pcap_set_promisc(h, 0) != 0 || pcap_set_immediate_mode(h, 1) != 0 ||
        pcap_set_buffer_size(h, s.buffer_bytes) != 0)
        return fail("cannot set capture options", true);
    const int status = pcap_activate(h);
    if (status < 0) {
        // PCAP_ERROR carries its text in pcap_geterr(); the specific codes may add detail there.
        std::string message = pcap_geterr(h);
        const std::string status_text = pcap_statustostr(status);
        if (status != PCAP_ERROR && message != status_text)
            message = status_text + (message.empty() ? "" : " (" + message + ")");
        return fail(message, is_permanent(status));
    }
    // Received packets only: where the gateway is also the dispatcher on a one-armed network,
    // a reply leaves on the interface it came in on and would otherwise be seen twice.
    if (pcap_setdirection(h, PCAP_D_IN) != 0)
        capture->direction_warning_ = std::string("cannot capture received packets only (") + pcap_geterr(h) +
                                      "); replies forwarded out of this interface are seen twice";
    bpf_program program{};
    if (pcap_compile(h, &program, s.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        return fail(std::string("filter '") + s.filter + "': " + pcap_geterr(h), true);
    const int set = pcap_setfilter(h, &program);
    pcap_freecode(&program);
    if (set != 0) return fail(std::string("setting the filter: ") + pcap_geterr(h), false);
    if (pcap_setnonblock(h, 1, errbuf) != 0) return fail(errbuf, false);
    capture->fd_ = pcap_get_selectable_fd(h);
    if (capture->fd_ < 0) return fail("no selectable file descriptor", true);
    capture->link_type_ = pcap_datalink(h);
    return capture;
}

LiveCapture::~LiveCapture() { pcap_close(handle_); }

int LiveCapture::read(int max_packets, const FrameHandler& on_frame) {
    Dispatch d{&on_frame};
    const int n = pcap_dispatch(handle_, max_packets, on_packet, reinterpret_cast<u_char*>(&d));
    if (n >= 0) return n;
    error_ = n == PCAP_ERROR ? pcap_geterr(handle_) : pcap_statustostr(n);
    return -1;
}

CaptureStats LiveCapture::stats() const {
    pcap_stat st{};
    if (pcap_stats(handle_, &st) != 0) return {};
    return {st.ps_recv, st.ps_drop, st.ps_ifdrop};
}

}  // namespace sara::gateway
