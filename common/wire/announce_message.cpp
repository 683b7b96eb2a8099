// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/wire/announce_message.hpp"

#include "common/util/byte_order.hpp"
#include "common/wire/envelope.hpp"

namespace sara::wire {
namespace {

constexpr uint8_t kHasControl = 1 << 0;
constexpr uint8_t kIsRequest = 1 << 1;
constexpr uint8_t kHasMedia = 1 << 2;
constexpr uint8_t kKnownFlags = kHasControl | kIsRequest | kHasMedia;

constexpr size_t kMaxKeyBytes = 255;
// host_id, seq, timestamp, protocol, flags, method, cseq_method, status_code, cseq.
constexpr size_t kFixedFields = 2 + 4 + 4 + 1 + 1 + 1 + 1 + 2 + 4;
constexpr size_t kMinBody = kFixedFields + 1 + 1;  // key_len and a 1-byte key
constexpr size_t kMaxControl = 1 + 16 + 16 + 2 + 2 + 1;
constexpr size_t kMaxHint = 1 + 16 + 4 * 2;
constexpr size_t kMaxBody = kFixedFields + 1 + kMaxKeyBytes + kMaxControl + 1 + kMaxMediaHints * kMaxHint;
// No body the layout allows is cut off by the size bound, so the bound needs no second check.
static_assert(kMaxBody <= kMaxAnnounceBody);

bool known_protocol(uint8_t v) { return v <= uint8_t(ServiceProtocol::plain); }
bool known_method(uint8_t v) { return v <= uint8_t(SipMethod::other); }
bool known_proto(uint8_t v) { return v == uint8_t(IpProto::tcp) || v == uint8_t(IpProto::udp); }

// Address bytes on the wire for a family; -1 for a family the format does not have.
int address_size(uint8_t family) {
    switch (family) {
        case 0: return 0;
        case 4: return 4;
        case 6: return 16;
        default: return -1;
    }
}

// Everything decode() checks, so that encode() never writes what decode() refuses.
bool encodable(const Announcement& a) {
    if (!known_protocol(uint8_t(a.protocol)) || !known_method(uint8_t(a.method)) ||
        !known_method(uint8_t(a.cseq_method)))
        return false;
    if (a.status_code < 0 || a.status_code > 0xffff) return false;
    if (a.key.empty() || a.key.size() > kMaxKeyBytes) return false;
    if (a.has_control) {
        const uint8_t family = a.control.src.family;
        if ((family != 4 && family != 6) || a.control.dst.family != family) return false;
        if (!known_proto(uint8_t(a.control.proto))) return false;
    }
    if (a.has_media) {
        if (a.media_count == 0 || a.media_count > kMaxMediaHints) return false;
        for (size_t i = 0; i < a.media_count; ++i)
            if (address_size(a.media[i].client_address.family) < 0) return false;
    }
    return true;
}

void put_address(std::vector<uint8_t>& out, const IpAddress& address) {
    out.insert(out.end(), address.bytes.begin(), address.bytes.begin() + address_size(address.family));
}

// Reads fields front to back within `bytes`. A read past the end returns zeros and leaves the
// reader failed, so a parser reads a whole group of fields and checks ok() once.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    // Null (and failed) if fewer than `n` bytes are left.
    const uint8_t* take(size_t n) noexcept {
        if (!ok_ || bytes_.size() - at_ < n) {
            ok_ = false;
            return nullptr;
        }
        const uint8_t* p = bytes_.data() + at_;
        at_ += n;
        return p;
    }
    uint8_t u8() noexcept {
        const uint8_t* p = take(1);
        return p ? p[0] : 0;
    }
    uint16_t u16() noexcept {
        const uint8_t* p = take(2);
        return p ? read_be16(p) : 0;
    }
    uint32_t u32() noexcept {
        const uint8_t* p = take(4);
        return p ? read_be32(p) : 0;
    }
    bool ok() const { return ok_; }
    size_t consumed() const { return at_; }

private:
    std::span<const uint8_t> bytes_;
    size_t at_ = 0;
    bool ok_ = true;
};

// `family` as read from the wire: 4 or 6, or 0 where `unset_allowed`.
bool read_address(Reader& r, uint8_t family, bool unset_allowed, IpAddress& out) noexcept {
    if (family == 0) {
        out = IpAddress{};
        return unset_allowed;
    }
    const int size = address_size(family);
    if (size < 0) return false;
    const uint8_t* p = r.take(size_t(size));
    if (!p) return false;
    out = family == 4 ? IpAddress::v4(p) : IpAddress::v6(p);
    return true;
}

bool read_control(Reader& r, FlowKey& out) noexcept {
    const uint8_t family = r.u8();
    if (!read_address(r, family, false, out.src) || !read_address(r, family, false, out.dst)) return false;
    out.src_port = r.u16();
    out.dst_port = r.u16();
    const uint8_t proto = r.u8();
    out.proto = IpProto(proto);
    return r.ok() && known_proto(proto);
}

bool read_media(Reader& r, Announcement& a) noexcept {
    a.media_count = r.u8();
    if (!r.ok() || a.media_count == 0 || a.media_count > kMaxMediaHints) return false;
    for (size_t i = 0; i < a.media_count; ++i) {
        MediaHint& h = a.media[i];
        if (!read_address(r, r.u8(), true, h.client_address)) return false;
        h.client_rtp = r.u16();
        h.client_rtcp = r.u16();
        h.server_rtp = r.u16();
        h.server_rtcp = r.u16();
    }
    return r.ok();
}

// Parses one body from the front of `bytes` into `m`. Returns its length, or 0 if `bytes` does
// not start with a well-formed body (`m` is then partly written). Allocates only the key.
size_t parse_body(std::span<const uint8_t> bytes, AnnounceMessage& m) noexcept {
    Reader r(bytes);
    Announcement& a = m.announcement;
    m.host_id = r.u16();
    m.seq = r.u32();
    m.timestamp = r.u32();
    const uint8_t protocol = r.u8(), flags = r.u8(), method = r.u8(), cseq_method = r.u8();
    a.status_code = r.u16();
    a.cseq = r.u32();
    const uint8_t key_len = r.u8();
    const uint8_t* key = r.take(key_len);
    if (!r.ok() || key_len == 0 || !known_protocol(protocol) || (flags & ~kKnownFlags) != 0 ||
        !known_method(method) || !known_method(cseq_method))
        return 0;
    a.protocol = ServiceProtocol(protocol);
    a.has_control = flags & kHasControl;
    a.is_request = flags & kIsRequest;
    a.has_media = flags & kHasMedia;
    a.method = SipMethod(method);
    a.cseq_method = SipMethod(cseq_method);
    a.key.assign(reinterpret_cast<const char*>(key), key_len);  // bad_alloc terminates: see decode()
    if (a.has_control && !read_control(r, a.control)) return 0;
    if (a.has_media && !read_media(r, a)) return 0;
    return r.consumed();
}

}  // namespace

std::vector<uint8_t> encode(const AnnounceMessage& m, const ClusterKey* key) {
    const Announcement& a = m.announcement;
    if (!encodable(a)) return {};
    std::vector<uint8_t> out = detail::start_datagram(MessageType::announce, kMaxBody, key);
    append_be16(out, m.host_id);
    append_be32(out, m.seq);
    append_be32(out, m.timestamp);
    out.push_back(uint8_t(a.protocol));
    out.push_back(uint8_t((a.has_control ? kHasControl : 0) | (a.is_request ? kIsRequest : 0) |
                          (a.has_media ? kHasMedia : 0)));
    out.push_back(uint8_t(a.method));
    out.push_back(uint8_t(a.cseq_method));
    append_be16(out, uint16_t(a.status_code));
    append_be32(out, a.cseq);
    out.push_back(uint8_t(a.key.size()));
    out.insert(out.end(), a.key.begin(), a.key.end());
    if (a.has_control) {
        out.push_back(a.control.src.family);
        put_address(out, a.control.src);
        put_address(out, a.control.dst);
        append_be16(out, a.control.src_port);
        append_be16(out, a.control.dst_port);
        out.push_back(uint8_t(a.control.proto));
    }
    if (a.has_media) {
        out.push_back(a.media_count);
        for (size_t i = 0; i < a.media_count; ++i) {
            const MediaHint& h = a.media[i];
            out.push_back(h.client_address.family);
            put_address(out, h.client_address);
            for (const uint16_t port : {h.client_rtp, h.client_rtcp, h.server_rtp, h.server_rtcp})
                append_be16(out, port);
        }
    }
    return detail::finish_datagram(std::move(out), key);
}

namespace detail {

Decoded decode_announce(std::span<const uint8_t> datagram, const ClusterKey* key) noexcept {
    return decode_self_delimiting(datagram, key, MessageType::announce, kMinBody, kMaxAnnounceBody,
                                  [](std::span<const uint8_t> body, Decoded& d) { return parse_body(body, d.announce); });
}

}  // namespace detail
}  // namespace sara::wire
