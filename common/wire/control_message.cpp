// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/wire/control_message.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/util/byte_order.hpp"
#include "common/wire/envelope.hpp"

namespace sara::wire {
namespace {

using detail::rejected;

constexpr uint8_t kMagic0 = 'S';
constexpr uint8_t kMagic1 = 'A';
constexpr size_t kMinKeyBytes = 32;
// A key file is one line of hex; anything much larger is not a key file.
constexpr off_t kMaxKeyFileBytes = 4096;

using Mac = std::array<uint8_t, kMacSize>;

uint16_t encode_fraction(double x) {
    if (std::isnan(x) || x <= 0) return 0;
    if (x >= 1) return 65535;
    return uint16_t(std::lround(x * 65535.0));
}
double decode_fraction(uint16_t v) { return double(v) / 65535.0; }

// False only if libcrypto fails (out of memory); the caller decides what that means.
[[nodiscard]] bool compute_mac(const ClusterKey& key, std::span<const uint8_t> data, Mac& out) {
    unsigned int len = 0;
    const unsigned char* r = HMAC(EVP_sha256(), key.bytes.data(), int(key.bytes.size()), data.data(),
                                  data.size(), out.data(), &len);
    return r != nullptr && len == kMacSize;
}

// Body size of each fixed-size type; 0 for the others.
size_t body_size(uint8_t type) {
    switch (type) {
        case uint8_t(MessageType::heartbeat): return kHeartbeatBodySize;
        case uint8_t(MessageType::load): return kLoadBodySize;
        default: return 0;
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

void set_error(std::string* error, std::string text) {
    if (error) *error = std::move(text);
}

}  // namespace

namespace detail {

std::vector<uint8_t> start_datagram(MessageType type, size_t body_size, const ClusterKey* key) {
    std::vector<uint8_t> out;
    out.reserve(kHeaderSize + body_size + (key ? kMacSize : 0));
    out.push_back(kMagic0);
    out.push_back(kMagic1);
    out.push_back(kVersion);
    out.push_back(uint8_t(type));
    return out;
}

std::vector<uint8_t> finish_datagram(std::vector<uint8_t> datagram, const ClusterKey* key) {
    if (!key) return datagram;
    Mac mac{};
    if (!compute_mac(*key, datagram, mac)) {
        std::fprintf(stderr, "sara: HMAC-SHA256 failed in libcrypto; cannot sign a control message\n");
        std::abort();
    }
    datagram.insert(datagram.end(), mac.begin(), mac.end());
    return datagram;
}

bool trailer_matches(const ClusterKey& key, std::span<const uint8_t> datagram) noexcept {
    const size_t signed_size = datagram.size() - kMacSize;
    Mac expected{};
    if (!compute_mac(key, datagram.first(signed_size), expected)) return false;
    return CRYPTO_memcmp(expected.data(), datagram.data() + signed_size, kMacSize) == 0;
}

}  // namespace detail

std::vector<uint8_t> encode(const Heartbeat& h, const ClusterKey* key) {
    std::vector<uint8_t> out = detail::start_datagram(MessageType::heartbeat, kHeartbeatBodySize, key);
    append_be16(out, h.host_id);
    append_be32(out, h.seq);
    out.push_back(uint8_t(h.flag));
    append_be32(out, h.timestamp);
    return detail::finish_datagram(std::move(out), key);
}

std::vector<uint8_t> encode(const LoadVector& l, const ClusterKey* key) {
    std::vector<uint8_t> out = detail::start_datagram(MessageType::load, kLoadBodySize, key);
    append_be16(out, l.host_id);
    append_be32(out, l.seq);
    append_be32(out, l.timestamp);
    for (const double f : {l.cpu, l.memory, l.net, l.io, l.backlog}) append_be16(out, encode_fraction(f));
    return detail::finish_datagram(std::move(out), key);
}

const char* to_string(Reject r) {
    switch (r) {
        case Reject::none: return "none";
        case Reject::malformed: return "malformed";
        case Reject::auth: return "auth";
        case Reject::replay: return "replay";
        case Reject::stale: return "stale";
        case Reject::unknown_host: return "unknown_host";
    }
    return "unknown";
}

Decoded decode(std::span<const uint8_t> datagram, const ClusterKey* key) noexcept {
    if (datagram.size() < kHeaderSize) return rejected(Reject::malformed);
    const uint8_t* p = datagram.data();
    if (p[0] != kMagic0 || p[1] != kMagic1 || p[2] != kVersion) return rejected(Reject::malformed);
    if (p[3] == uint8_t(MessageType::announce)) return detail::decode_announce(datagram, key);
    if (p[3] == uint8_t(MessageType::sync)) return detail::decode_sync(datagram, key);
    const size_t body = body_size(p[3]);
    if (body == 0) return rejected(Reject::malformed);

    const size_t signed_size = kHeaderSize + body;
    const bool has_trailer = datagram.size() == signed_size + kMacSize;
    if (datagram.size() != signed_size && !has_trailer) return rejected(Reject::malformed);
    if (key) {
        if (!has_trailer || !detail::trailer_matches(*key, datagram)) return rejected(Reject::auth);
    }

    Decoded d;
    d.type = MessageType(p[3]);
    const uint8_t* b = p + kHeaderSize;
    if (d.type == MessageType::heartbeat) {
        if (b[6] > uint8_t(HeartbeatFlag::undrain)) return rejected(Reject::malformed);
        d.heartbeat = {.host_id = read_be16(b),
                       .seq = read_be32(b + 2),
                       .flag = HeartbeatFlag(b[6]),
                       .timestamp = read_be32(b + 7)};
    } else {
        d.load = {.host_id = read_be16(b),
                  .seq = read_be32(b + 2),
                  .timestamp = read_be32(b + 6),
                  .cpu = decode_fraction(read_be16(b + 10)),
                  .memory = decode_fraction(read_be16(b + 12)),
                  .net = decode_fraction(read_be16(b + 14)),
                  .io = decode_fraction(read_be16(b + 16)),
                  .backlog = decode_fraction(read_be16(b + 18))};
    }
    return d;
}

bool ReplayWindow::accept(uint32_t seq) {
    if (!initialised_) {
        initialised_ = true;
        highest_ = seq;
        seen_ = 1;
        return true;
    }
    // Signed distance modulo 2^32: positive = ahead (also across the wrap to 0).
    const int32_t ahead = int32_t(seq - highest_);
    if (ahead > 0) {
        seen_ = uint32_t(ahead) >= kSize ? 0 : seen_ << ahead;
        seen_ |= 1;
        highest_ = seq;
        return true;
    }
    // ahead == INT32_MIN (exactly 2^31 away) must not be negated; it is far behind anyway.
    if (ahead <= -int32_t(kSize)) return false;
    const uint64_t bit = uint64_t(1) << uint32_t(-ahead);
    if (seen_ & bit) return false;
    seen_ |= bit;
    return true;
}

bool ReplayWindow::behind(uint32_t seq) const {
    return initialised_ && int32_t(seq - highest_) <= -int32_t(kSize);
}

std::optional<ClusterKey> ClusterKey::from_hex(std::string_view hex, std::string* error) {
    size_t begin = 0, end = hex.size();
    while (begin < end && is_space(hex[begin])) ++begin;
    while (end > begin && is_space(hex[end - 1])) --end;
    for (size_t i = begin; i < end; ++i) {
        if (hex_value(hex[i]) < 0) {
            const unsigned char c = static_cast<unsigned char>(hex[i]);
            char shown[8];
            if (c >= 0x21 && c < 0x7f)
                std::snprintf(shown, sizeof shown, "'%c'", c);
            else
                std::snprintf(shown, sizeof shown, "0x%02x", c);
            set_error(error, "not hex: " + std::string(shown) + " at offset " + std::to_string(i) +
                                 " (a key is one line of hex digits, e.g. from `openssl rand -hex 32`)");
            return std::nullopt;
        }
    }
    const size_t digits = end - begin;
    if (digits < 2 * kMinKeyBytes) {
        set_error(error, "too short: " + std::to_string(digits) + " hex digits, need at least " +
                             std::to_string(2 * kMinKeyBytes) + " (" + std::to_string(kMinKeyBytes) +
                             " bytes, e.g. from `openssl rand -hex 32`)");
        return std::nullopt;
    }
    if (digits % 2 != 0) {
        set_error(error, "odd number of hex digits (" + std::to_string(digits) + "); each byte is two digits");
        return std::nullopt;
    }
    ClusterKey key;
    key.bytes.reserve(digits / 2);
    for (size_t i = begin; i < end; i += 2)
        key.bytes.push_back(uint8_t(hex_value(hex[i]) * 16 + hex_value(hex[i + 1])));
    return key;
}

std::optional<ClusterKey> ClusterKey::load_file(const std::string& path, std::string* error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        set_error(error, path + ": " + (e == ENOENT ? std::string("not found") : std::strerror(e)));
        return std::nullopt;
    }
    // Checked on the open descriptor, so the file checked is the file read.
    struct stat st {};
    std::string text;
    std::string problem;
    if (::fstat(fd, &st) != 0) {
        problem = std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        problem = "not a regular file";
    } else if (st.st_mode & S_IROTH) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        problem = std::string("mode ") + mode + " is world-readable; a cluster key must not be (chmod 600 " + path + ")";
    } else if (st.st_size > kMaxKeyFileBytes) {
        problem = "too large for a key file (" + std::to_string(st.st_size) + " bytes)";
    } else {
        char buf[kMaxKeyFileBytes + 1];
        size_t total = 0;
        for (;;) {
            const ssize_t n = ::read(fd, buf + total, sizeof buf - total);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                problem = std::strerror(errno);
                break;
            }
            if (n == 0) break;
            total += size_t(n);
            if (total == sizeof buf) {
                problem = "too large for a key file";
                break;
            }
        }
        if (problem.empty()) text.assign(buf, total);
        OPENSSL_cleanse(buf, sizeof buf);
    }
    ::close(fd);
    if (!problem.empty()) {
        set_error(error, path + ": " + problem);
        return std::nullopt;
    }
    std::string hex_error;
    std::optional<ClusterKey> key = from_hex(text, &hex_error);
    OPENSSL_cleanse(text.data(), text.size());
    if (!key) set_error(error, path + ": " + hex_error);
    return key;
}

}  // namespace sara::wire
