// SPDX-License-Identifier: GPL-2.0-or-later
// Bounded UDP load for the datapath benchmark (tests/bench/datapath/run.sh), three modes:
//
//   udp_blast send --src ADDR --dst ADDR --sport N --dport N --count N --duration SECONDS
//       [--sport-mode fixed|unique] [--dport-max N] [--rate PPS] [--batch N] [--call-id TEXT]
//     Writes IPv4/UDP or IPv6/UDP packets (the addresses' family) on a raw socket (IP_HDRINCL,
//     IPV6_HDRINCL) with sendmmsg, so every packet can
//     carry its own source port without a socket per port. Stops after --count packets or
//     --duration seconds, whichever comes first. --rate 0 (default) sends as fast as the CPU
//     allows; otherwise packets are paced to their due times (busy wait; after a stall the
//     missed slots are skipped, counted as "skipped", not sent in a burst). --sport-mode unique
//     gives every packet a 5-tuple not used before in the run: the source port walks
//     1024..65535 and the destination port moves on by one (up to --dport-max) at each wrap.
//     Payload (same for every mode): a minimal SIP OPTIONS with the given Call-ID and a
//     fixed-width `Timestamp:` header holding CLOCK_REALTIME in ns at the send call.
//     IPv4: UDP checksum 0 (none; legal there). IPv6: the checksum is mandatory, computed per
//     packet (sara::transport_checksum, as sarad's own replies). Prints one JSON line.
//
//   udp_blast recv --bind ADDR:PORT|[ADDR6]:PORT --duration SECONDS [--idle SECONDS] [--hold SECONDS]
//     Receives datagrams, takes the kernel's receive timestamp (SO_TIMESTAMPNS: set when the
//     packet entered this namespace's interface) minus the payload's send timestamp, and
//     prints the one-way latency percentiles as one JSON line. --hold: sleep that long first
//     and let the datagrams wait in a 512 MiB socket buffer. Stops after --duration, or
//     --idle seconds without a packet once packets have arrived.
//
//   udp_blast sample --file PATH [--pid PID] [--mine NAME,...] --delay SECONDS --window SECONDS
//     Reads a counter file (e.g. /sys/class/net/IF/statistics/rx_packets) after --delay and
//     again --window seconds later; prints the rate, the CPU share of process PID (all its
//     threads), each CPU's busy, softirq and steal share, and the CPU time spent outside
//     interrupts and outside the processes named in --mine (other work on a shared machine)
//     over the window, as one JSON line.
//
// Exit status 0 on success, 1 on a runtime error, 2 on a usage error.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/net/ip_address.hpp"
#include "daemon/forward/reply_packets.hpp"

namespace {

using Args = std::map<std::string, std::string>;

int usage(const std::string& problem) {
    std::fprintf(stderr,
                 "udp_blast: %s\n"
                 "usage: udp_blast send --src ADDR --dst ADDR --sport N --dport N --count N --duration S\n"
                 "                 [--sport-mode fixed|unique] [--dport-max N] [--rate PPS] [--batch N]\n"
                 "                 [--call-id TEXT]\n"
                 "       udp_blast recv --bind ADDR:PORT --duration S [--idle S] [--hold S]\n"
                 "       udp_blast sample --file PATH [--pid PID] [--mine NAME,...] --delay S --window S\n",
                 problem.c_str());
    return 2;
}

bool parse_args(int argc, char** argv, Args& out, std::string& problem) {
    for (int i = 2; i < argc; i += 2) {
        std::string key = argv[i];
        if (key.rfind("--", 0) != 0 || i + 1 >= argc) {
            problem = "bad argument " + key;
            return false;
        }
        out[key.substr(2)] = argv[i + 1];
    }
    return true;
}

template <typename T>
bool number(const Args& a, const char* key, T& out, bool required) {
    auto it = a.find(key);
    if (it == a.end()) return !required;
    const std::string& s = it->second;
    if constexpr (std::is_floating_point_v<T>) {
        char* end = nullptr;
        out = T(std::strtod(s.c_str(), &end));
        return end && *end == 0 && !s.empty();
    } else {
        const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
        const char* first = s.data() + (hex ? 2 : 0);
        const char* last = s.data() + s.size();
        auto [p, ec] = std::from_chars(first, last, out, hex ? 16 : 10);
        return ec == std::errc() && p == last && first != last;
    }
}

int64_t now_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---------------------------------------------------------------------------------- send
constexpr std::string_view kTimestampHeader = "Timestamp: ";
constexpr size_t kTimestampDigits = 20;

std::string sip_payload(const std::string& dst, const std::string& call_id) {
    return "OPTIONS sip:x@" + dst + " SIP/2.0\r\nCall-ID: " + call_id + "\r\nCSeq: 1 OPTIONS\r\n" +
           std::string(kTimestampHeader) + std::string(kTimestampDigits, '0') + "\r\nContent-Length: 0\r\n\r\n";
}

void put_digits(char* out, uint64_t value) {
    for (size_t i = kTimestampDigits; i-- > 0;) {
        out[i] = char('0' + value % 10);
        value /= 10;
    }
}

int run_send(const Args& a) {
    uint16_t sport = 0, dport = 0, dport_max = 0;
    uint64_t count = 0, rate = 0;
    unsigned batch = 64;
    double duration = 0;
    in_addr src{}, dst{};
    in6_addr src6{}, dst6{};
    if (!a.count("src") || !a.count("dst")) return usage("--src and --dst are required");
    const bool v6 = inet_pton(AF_INET6, a.at("src").c_str(), &src6) == 1;
    if (v6 ? inet_pton(AF_INET6, a.at("dst").c_str(), &dst6) != 1
           : inet_pton(AF_INET, a.at("src").c_str(), &src) != 1 || inet_pton(AF_INET, a.at("dst").c_str(), &dst) != 1)
        return usage("--src and --dst must be two IPv4 or two IPv6 addresses");
    if (!number(a, "sport", sport, true) || !number(a, "dport", dport, true) || !number(a, "count", count, true) ||
        !number(a, "duration", duration, true) || !number(a, "rate", rate, false) ||
        !number(a, "batch", batch, false) || !number(a, "dport-max", dport_max, false))
        return usage("--sport, --dport, --count and --duration are required numbers");
    if (batch == 0 || batch > 1024 || duration <= 0 || duration > 600 || count == 0)
        return usage("need 1 <= batch <= 1024, 0 < duration <= 600, count > 0");
    const std::string mode = a.count("sport-mode") ? a.at("sport-mode") : "fixed";
    const bool unique = mode == "unique";
    if (!unique && mode != "fixed") return usage("--sport-mode is fixed or unique");
    if (dport_max < dport) dport_max = dport;
    const std::string call_id = a.count("call-id") ? a.at("call-id") : "bench-1";

    // IPPROTO_RAW implies IP_HDRINCL (IPv4) and IPV6_HDRINCL (IPv6, Linux 4.5 on).
    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) return std::perror("raw socket"), 1;
    int sndbuf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);

    const std::string payload = sip_payload(v6 ? "[" + a.at("dst") + "]" : a.at("dst"), call_id);
    const size_t ip_len = v6 ? sizeof(ip6_hdr) : sizeof(iphdr);
    const size_t udp_len = sizeof(udphdr) + payload.size();
    const size_t ts_offset = ip_len + sizeof(udphdr) + payload.find(kTimestampHeader) + kTimestampHeader.size();
    const size_t packet_len = ip_len + udp_len;
    std::vector<std::vector<char>> packets(batch, std::vector<char>(packet_len));
    std::vector<iovec> iov(batch);
    std::vector<mmsghdr> msgs(batch);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = dst;
    sockaddr_in6 to6{};
    to6.sin6_family = AF_INET6;
    to6.sin6_addr = dst6;
    const sara::IpAddress src_ip = sara::IpAddress::v6(src6.s6_addr), dst_ip = sara::IpAddress::v6(dst6.s6_addr);
    for (unsigned i = 0; i < batch; ++i) {
        char* p = packets[i].data();
        if (v6) {
            auto* ip = reinterpret_cast<ip6_hdr*>(p);
            ip->ip6_flow = htonl(0x60000000u);
            ip->ip6_plen = htons(uint16_t(udp_len));
            ip->ip6_nxt = IPPROTO_UDP;
            ip->ip6_hlim = 64;
            ip->ip6_src = src6;
            ip->ip6_dst = dst6;
        } else {
            auto* ip = reinterpret_cast<iphdr*>(p);
            ip->version = 4;
            ip->ihl = 5;
            ip->ttl = 64;
            ip->protocol = IPPROTO_UDP;
            ip->saddr = src.s_addr;
            ip->daddr = dst.s_addr;
            ip->tot_len = htons(uint16_t(packet_len));  // the kernel fills it in too, and the checksum
        }
        auto* udp = reinterpret_cast<udphdr*>(p + ip_len);
        udp->source = htons(sport);
        udp->dest = htons(dport);
        udp->len = htons(uint16_t(udp_len));
        udp->check = 0;
        std::memcpy(p + ip_len + sizeof(udphdr), payload.data(), payload.size());
        iov[i] = {p, packet_len};
        msgs[i].msg_hdr.msg_name = v6 ? static_cast<void*>(&to6) : static_cast<void*>(&to);
        msgs[i].msg_hdr.msg_namelen = v6 ? sizeof to6 : sizeof to;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    uint32_t unique_sport = 1024;
    uint32_t unique_dport = dport;
    uint64_t sent = 0, errors = 0, ip_id = 1;
    uint64_t slot = 0, skipped = 0;  // paced: the next send slot; slots given up (see below)
    const int64_t start = now_ns(CLOCK_MONOTONIC);
    const int64_t deadline = start + int64_t(duration * 1e9);
    int64_t now = start;
    while (sent < count && now < deadline) {
        unsigned n = unsigned(std::min<uint64_t>(batch, count - sent));
        if (rate > 0) {
            // Slot k is due at start + k/rate. After a stall (the sender lost its CPU) the
            // slots missed by more than one are skipped, not sent in a burst: the offered
            // load keeps its spacing, which is what a latency measurement needs.
            const uint64_t due = uint64_t(double(now - start) * double(rate) / 1e9) + 1;
            if (due <= slot) {
                now = now_ns(CLOCK_MONOTONIC);
                continue;
            }
            if (due - slot > 2) {
                skipped += due - 1 - slot;
                slot = due - 1;
            }
            n = unsigned(std::min<uint64_t>(n, due - slot));
        }
        char stamp[kTimestampDigits];
        put_digits(stamp, uint64_t(now_ns(CLOCK_REALTIME)));
        for (unsigned i = 0; i < n; ++i) {
            char* p = packets[i].data();
            if (!v6) reinterpret_cast<iphdr*>(p)->id = htons(uint16_t(ip_id++));
            if (unique) {
                auto* udp = reinterpret_cast<udphdr*>(p + ip_len);
                udp->source = htons(uint16_t(unique_sport));
                udp->dest = htons(uint16_t(unique_dport));
                if (++unique_sport > 65535) {
                    unique_sport = 1024;
                    if (++unique_dport > dport_max) unique_dport = dport;  // only past 64512*range packets
                }
            }
            std::memcpy(p + ts_offset, stamp, kTimestampDigits);
            if (v6) {
                auto* udp = reinterpret_cast<udphdr*>(p + ip_len);
                udp->check = 0;
                const uint16_t sum =
                    sara::transport_checksum(src_ip, dst_ip, IPPROTO_UDP, {reinterpret_cast<const uint8_t*>(udp), udp_len});
                udp->check = htons(sum == 0 ? 0xffff : sum);
            }
        }
        const int r = sendmmsg(fd, msgs.data(), n, 0);
        if (r < 0) {
            ++errors;
            if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) return std::perror("sendmmsg"), 1;
        } else {
            sent += unsigned(r);
            slot += unsigned(r);
        }
        now = now_ns(CLOCK_MONOTONIC);
    }
    const double elapsed = double(now - start) / 1e9;
    std::printf("{\"sent\": %" PRIu64 ", \"skipped\": %" PRIu64 ", \"errors\": %" PRIu64
                ", \"elapsed_s\": %.6f, \"pps\": %.1f, \"packet_bytes\": %zu}\n",
                sent, skipped, errors, elapsed, elapsed > 0 ? double(sent) / elapsed : 0.0, packet_len);
    close(fd);
    return 0;
}

// ---------------------------------------------------------------------------------- recv
int run_recv(const Args& a) {
    double duration = 0, idle = 1.0, hold = 0;
    if (!a.count("bind") || !number(a, "duration", duration, true) || !number(a, "idle", idle, false) ||
        !number(a, "hold", hold, false) || hold < 0 || hold > 60)
        return usage("recv needs --bind ADDR:PORT and --duration");
    if (duration <= 0 || duration > 600) return usage("0 < duration <= 600");
    const std::string bind_to = a.at("bind");
    const size_t colon = bind_to.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    sockaddr_in6 addr6{};
    addr6.sin6_family = AF_INET6;
    uint16_t port = 0;
    const bool v6 = !bind_to.empty() && bind_to[0] == '[';
    std::string host = colon == std::string::npos ? "" : bind_to.substr(0, colon);
    if (v6 && host.size() >= 2 && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (colon == std::string::npos ||
        (v6 ? inet_pton(AF_INET6, host.c_str(), &addr6.sin6_addr) : inet_pton(AF_INET, host.c_str(), &addr.sin_addr)) !=
            1 ||
        std::from_chars(bind_to.data() + colon + 1, bind_to.data() + bind_to.size(), port).ec != std::errc())
        return usage("--bind ADDR:PORT or [ADDR6]:PORT");
    addr.sin_port = htons(port);
    addr6.sin6_port = htons(port);

    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return std::perror("socket"), 1;
    int one = 1;
    int rcvbuf = 512 << 20;  // --hold: the whole load waits in the socket
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) return std::perror("SO_TIMESTAMPNS"), 1;
    timeval tv{0, 100'000};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const int bound = v6 ? bind(fd, reinterpret_cast<sockaddr*>(&addr6), sizeof addr6)
                         : bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (bound < 0) return std::perror("bind"), 1;
    std::printf("{\"ready\": true}\n");
    std::fflush(stdout);
    // Not woken by every packet while the load runs: the receiver then never competes for a
    // CPU with what is measured. The kernel's receive timestamps do not depend on it.
    if (hold > 0) std::this_thread::sleep_for(std::chrono::duration<double>(hold));

    constexpr unsigned kBatch = 64;
    std::vector<std::vector<char>> bufs(kBatch, std::vector<char>(2048));
    std::vector<std::vector<char>> ctrl(kBatch, std::vector<char>(CMSG_SPACE(sizeof(timespec))));
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> msgs(kBatch);
    std::vector<int64_t> latencies;
    latencies.reserve(1 << 20);
    uint64_t received = 0, no_stamp = 0, user_stamp = 0;
    const int64_t start = now_ns(CLOCK_MONOTONIC);
    int64_t last = 0;
    for (;;) {
        const int64_t now = now_ns(CLOCK_MONOTONIC);
        if (now - start > int64_t(duration * 1e9)) break;
        if (last && now - last > int64_t(idle * 1e9)) break;
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctrl[i].data();
            msgs[i].msg_hdr.msg_controllen = ctrl[i].size();
        }
        const int n = recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
        const int64_t user_now = now_ns(CLOCK_REALTIME);
        if (n <= 0) continue;
        last = now_ns(CLOCK_MONOTONIC);
        for (int i = 0; i < n; ++i) {
            ++received;
            std::string_view text(bufs[size_t(i)].data(), msgs[size_t(i)].msg_len);
            const size_t at = text.find(kTimestampHeader);
            uint64_t sent_ns = 0;
            if (at == std::string_view::npos ||
                std::from_chars(text.data() + at + kTimestampHeader.size(),
                                text.data() + std::min(text.size(), at + kTimestampHeader.size() + kTimestampDigits),
                                sent_ns).ec != std::errc()) {
                ++no_stamp;
                continue;
            }
            int64_t rx = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[size_t(i)].msg_hdr); c; c = CMSG_NXTHDR(&msgs[size_t(i)].msg_hdr, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    timespec ts;
                    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    rx = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
                }
            if (rx == 0) {
                rx = user_now;
                ++user_stamp;
            }
            latencies.push_back(rx - int64_t(sent_ns));
        }
    }
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double q) {
        if (latencies.empty()) return 0.0;
        const size_t k = std::min(latencies.size() - 1, size_t(q * double(latencies.size())));
        return double(latencies[k]) / 1000.0;
    };
    std::printf("{\"received\": %" PRIu64 ", \"without_timestamp\": %" PRIu64 ", \"user_timestamps\": %" PRIu64
                ", \"min_us\": %.1f, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
                "\"max_us\": %.1f}\n",
                received, no_stamp, user_stamp, pct(0.0), pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1.0));
    close(fd);
    return 0;
}

// -------------------------------------------------------------------------------- sample
bool read_counter(const std::string& path, uint64_t& out) {
    std::ifstream in(path);
    return bool(in >> out);
}

// utime + stime of a process (all threads), in clock ticks.
bool read_process_ticks(long pid, uint64_t& out) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return false;
    const size_t close_paren = line.rfind(')');
    if (close_paren == std::string::npos) return false;
    std::istringstream rest(line.substr(close_paren + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
        if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    out = utime + stime;
    return true;
}

struct CpuTimes {
    uint64_t total = 0, idle = 0, irq = 0, softirq = 0, steal = 0;
};

std::vector<CpuTimes> read_cpus() {
    std::vector<CpuTimes> cpus;
    std::ifstream in("/proc/stat");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] == ' ') continue;
        std::istringstream f(line);
        std::string name;
        f >> name;
        uint64_t v[10] = {};
        for (auto& x : v) f >> x;
        CpuTimes t;
        for (auto x : v) t.total += x;
        t.total -= v[8] + v[9];  // guest time is already in user
        t.idle = v[3] + v[4];
        t.irq = v[5];
        t.softirq = v[6];
        t.steal = v[7];
        cpus.push_back(t);
    }
    return cpus;
}

// CPU ticks (utime + stime) by pid of the processes named in `mine` (a name ending in '*'
// matches as a prefix, e.g. ksoftirqd*).
std::map<long, uint64_t> own_ticks(const std::vector<std::string>& mine) {
    std::map<long, uint64_t> ticks;
    DIR* proc = opendir("/proc");
    if (!proc) return ticks;
    while (dirent* e = readdir(proc)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        if (!std::getline(in, line)) continue;
        const size_t open_paren = line.find('('), close_paren = line.rfind(')');
        if (open_paren == std::string::npos || close_paren == std::string::npos) continue;
        const std::string comm = line.substr(open_paren + 1, close_paren - open_paren - 1);
        const bool own = std::any_of(mine.begin(), mine.end(), [&](const std::string& m) {
            return !m.empty() && m.back() == '*' ? comm.rfind(m.substr(0, m.size() - 1), 0) == 0 : comm == m;
        });
        if (!own) continue;
        std::istringstream rest(line.substr(close_paren + 2));
        std::string field;
        uint64_t utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
            if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
        }
        ticks[std::strtol(e->d_name, nullptr, 10)] = utime + stime;
    }
    closedir(proc);
    return ticks;
}

// Ticks used between two own_ticks() snapshots by processes alive at both.
uint64_t ticks_used(const std::map<long, uint64_t>& before, const std::map<long, uint64_t>& after) {
    uint64_t used = 0;
    for (const auto& [pid, t] : after) {
        const auto it = before.find(pid);
        if (it != before.end() && t > it->second) used += t - it->second;
    }
    return used;
}

int run_sample(const Args& a) {
    double delay = 0, window = 0;
    long pid = 0;
    if (!a.count("file") || !number(a, "delay", delay, true) || !number(a, "window", window, true) ||
        !number(a, "pid", pid, false) || window <= 0 || window > 600 || delay < 0 || delay > 600)
        return usage("sample needs --file PATH --delay S --window S");
    const std::string path = a.at("file");
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    uint64_t c0 = 0, c1 = 0, p0 = 0, p1 = 0;
    std::vector<std::string> mine;
    if (a.count("mine")) {
        std::istringstream names(a.at("mine"));
        for (std::string name; std::getline(names, name, ',');) mine.push_back(name);
    }
    const bool have_pid = pid > 0 && read_process_ticks(pid, p0);
    const auto f0 = own_ticks(mine);
    const auto cpu0 = read_cpus();
    const int64_t t0 = now_ns(CLOCK_MONOTONIC);
    if (!read_counter(path, c0)) return std::fprintf(stderr, "cannot read %s\n", path.c_str()), 1;
    std::this_thread::sleep_for(std::chrono::duration<double>(window));
    if (!read_counter(path, c1)) return std::fprintf(stderr, "cannot read %s\n", path.c_str()), 1;
    const int64_t t1 = now_ns(CLOCK_MONOTONIC);
    const auto cpu1 = read_cpus();
    if (have_pid) (void)read_process_ticks(pid, p1);
    const auto f1 = own_ticks(mine);
    const double seconds = double(t1 - t0) / 1e9;
    const double ticks = double(sysconf(_SC_CLK_TCK));
    std::printf("{\"rate\": %.1f, \"delta\": %" PRIu64 ", \"window_s\": %.6f", double(c1 - c0) / seconds, c1 - c0,
                seconds);
    if (have_pid) std::printf(", \"pid_cpu\": %.3f", double(p1 - p0) / ticks / seconds);
    // Everything the CPUs did that was neither interrupt work nor one of our processes: other
    // work on a shared machine (short-lived processes included, which a per-process sum misses).
    double busy_ticks = 0;
    for (size_t i = 0; i < cpu0.size() && i < cpu1.size(); ++i)
        busy_ticks += double((cpu1[i].total - cpu1[i].idle) - (cpu0[i].total - cpu0[i].idle)) -
                      double(cpu1[i].irq - cpu0[i].irq) - double(cpu1[i].softirq - cpu0[i].softirq) -
                      double(cpu1[i].steal - cpu0[i].steal);
    const double foreign = std::max(0.0, busy_ticks - double(ticks_used(f0, f1)));
    std::printf(", \"foreign_cpu\": %.3f", foreign / ticks / seconds);
    std::printf(", \"cpus\": [");
    for (size_t i = 0; i < cpu0.size() && i < cpu1.size(); ++i) {
        const double total = double(cpu1[i].total - cpu0[i].total);
        const double busy = total > 0 ? 1.0 - double(cpu1[i].idle - cpu0[i].idle) / total : 0;
        const double soft = total > 0 ? double(cpu1[i].softirq - cpu0[i].softirq) / total : 0;
        const double steal = total > 0 ? double(cpu1[i].steal - cpu0[i].steal) / total : 0;
        std::printf("%s{\"busy\": %.3f, \"softirq\": %.3f, \"steal\": %.3f}", i ? ", " : "", busy, soft, steal);
    }
    std::printf("]}\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage("no mode");
    Args args;
    std::string problem;
    if (!parse_args(argc, argv, args, problem)) return usage(problem);
    const std::string mode = argv[1];
    if (mode == "send") return run_send(args);
    if (mode == "recv") return run_recv(args);
    if (mode == "sample") return run_sample(args);
    return usage("unknown mode " + mode);
}
