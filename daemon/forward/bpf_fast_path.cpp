// SPDX-License-Identifier: GPL-2.0-or-later
// BpfFastPath with libbpf 1.1 (Debian 12): the loader, the tc/XDP attachment and its cleanup,
// and the map operations. The program and the map layouts: daemon/forward/bpf/.
#include "daemon/forward/bpf_fast_path.hpp"

// glibc's net/if.h first: it makes the kernel's linux/if.h (pulled in below) step aside.
#include <net/if.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

#include "common/net/rtnetlink_socket.hpp"
#include "common/util/mutex.hpp"
#include "common/util/errno_text.hpp"
#include "common/util/unique_fd.hpp"
#include "daemon/forward/bpf/fast_path_abi.h"

namespace sara {
namespace {

constexpr size_t kLogLinesInError = 15;  // the verifier's last lines say why; the rest is its trace

// libbpf logs through one process-wide callback without a user pointer. While a LibbpfLog
// lives, this thread's libbpf messages (warnings and info; DEBUG is libbpf's chatter) are
// collected into it instead of going to stderr, so a verifier failure reaches the error text.
thread_local std::string* t_libbpf_log = nullptr;

int collect_libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
    if (!t_libbpf_log || level == LIBBPF_DEBUG) return 0;
    va_list measure;
    va_copy(measure, args);
    const int n = std::vsnprintf(nullptr, 0, format, measure);
    va_end(measure);
    if (n <= 0) return 0;
    std::string text(static_cast<size_t>(n) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), format, args);
    text.pop_back();
    *t_libbpf_log += text;
    return n;
}

class LibbpfLog {
public:
    LibbpfLog() : outer_(t_libbpf_log), previous_(libbpf_set_print(collect_libbpf_log)) { t_libbpf_log = &text_; }
    ~LibbpfLog() {
        t_libbpf_log = outer_;
        libbpf_set_print(previous_);
    }
    LibbpfLog(const LibbpfLog&) = delete;
    LibbpfLog& operator=(const LibbpfLog&) = delete;

    // The last `n` non-empty lines, joined with newlines ("" if libbpf said nothing).
    std::string last_lines(size_t n) const {
        std::vector<std::string_view> lines;
        std::string_view rest = text_;
        while (!rest.empty()) {
            const size_t end = rest.find('\n');
            const std::string_view line = rest.substr(0, end);
            if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back(line);
            rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        }
        std::string out;
        for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
            if (!out.empty()) out += '\n';
            out += lines[i];
        }
        return out;
    }

private:
    std::string text_;
    std::string* outer_;
    libbpf_print_fn_t previous_;
};

// libbpf returns -errno (1.x); a few calls return -1 with errno set.
int libbpf_errno(int ret) { return ret == -1 && errno > 0 ? errno : -ret; }

uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns()'s clock
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The Ethernet address of `name` (the program writes Ethernet headers: anything else is
// refused; loopback is accepted for the unit tests, which run the program on "lo").
std::error_code interface_mac(const std::string& name, std::array<uint8_t, 6>& mac, std::string* error) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        append_error_text(error, "interface '" + name + "': not a valid interface name");
        return errno_code(EINVAL);
    }
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) {
        const int e = errno;
        append_error_text(error, errno_text("interface " + name + ": socket", e));
        return errno_code(e);
    }
    ifreq request{};
    std::memcpy(request.ifr_name, name.data(), name.size());
    if (::ioctl(sock.get(), SIOCGIFHWADDR, &request) < 0) {
        const int e = errno;
        append_error_text(error, errno_text("interface " + name + ": SIOCGIFHWADDR", e));
        return errno_code(e);
    }
    const auto type = request.ifr_hwaddr.sa_family;
    if (type != ARPHRD_ETHER && type != ARPHRD_LOOPBACK) {
        append_error_text(error, "interface " + name + ": not an Ethernet interface (ARPHRD " + std::to_string(type) +
                                     "); the fast path rewrites Ethernet headers");
        return errno_code(EINVAL);
    }
    std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
    return {};
}

std::error_code interface_index(const std::string& role, const std::string& name, int& ifindex, std::string* error) {
    ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (ifindex > 0) return {};
    const int e = errno;
    append_error_text(error, errno_text(role + " " + name, e));
    return errno_code(e);
}

// The program name the kernel holds for `id` ("" if it is gone meanwhile).
std::string program_name(uint32_t id) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd) return {};
    bpf_prog_info info{};
    uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &length) != 0) return {};
    return std::string(info.name, strnlen(info.name, sizeof info.name));
}

bool is_ours(uint32_t prog_id) {
    const std::string name = program_name(prog_id);
    return name.compare(0, std::strlen(SARA_FP_PROG_PREFIX), SARA_FP_PROG_PREFIX) == 0;
}

bpf_tc_hook ingress_hook(int ifindex) {
    bpf_tc_hook hook{};
    hook.sz = sizeof hook;
    hook.ifindex = ifindex;
    hook.attach_point = BPF_TC_INGRESS;
    return hook;
}

bpf_tc_opts our_tc_filter() {
    bpf_tc_opts opts{};
    opts.sz = sizeof opts;
    opts.handle = BpfFastPath::kTcHandle;
    opts.priority = BpfFastPath::kTcPriority;
    return opts;
}

// "Nothing there": no clsact qdisc (EINVAL), no such filter (ENOENT), interface gone (ENODEV).
bool nothing_there(int err) { return err == ENOENT || err == EINVAL || err == ENODEV; }

// The id of the program in our tc filter slot on `ifindex` (0: none). *err set on a real error.
uint32_t tc_filter_program(int ifindex, int* err) {
    *err = 0;
    const bpf_tc_hook hook = ingress_hook(ifindex);
    bpf_tc_opts opts = our_tc_filter();
    const int r = bpf_tc_query(&hook, &opts);
    if (r == 0) return opts.prog_id;
    if (!nothing_there(libbpf_errno(r))) *err = libbpf_errno(r);
    return 0;
}

// How many tc filters the clsact qdisc on `ifindex` holds, ingress and egress (0 if there is no
// clsact); nullopt if the dump failed. libbpf can query one filter, not list them.
std::optional<size_t> clsact_filters(int ifindex, std::string* error) {
    RtnetlinkSocket nl;
    if (nl.open(error)) return std::nullopt;
    size_t filters = 0;
    for (uint32_t parent : {TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)}) {
        RtnetlinkRequest request(RTM_GETTFILTER, NLM_F_DUMP, sizeof(tcmsg));
        auto& tcm = request.family_header<tcmsg>();
        tcm.tcm_family = AF_UNSPEC;
        tcm.tcm_ifindex = ifindex;
        tcm.tcm_parent = parent;
        auto on_message = [&filters](const nlmsghdr& m) { filters += m.nlmsg_type == RTM_NEWTFILTER; };
        const std::string what = "rtnetlink: dump tc filters of " + interface_name(ifindex);
        if (nl.transact(request, what, on_message, nullptr, error)) return std::nullopt;
    }
    return filters;
}

// Removes our filter; then, if the clsact qdisc holds no filter at all, the qdisc too (whoever
// created it: an empty clsact only costs a hook call per packet).
std::error_code remove_tc_filter(int ifindex, std::string* error) {
    bpf_tc_hook hook = ingress_hook(ifindex);
    const bpf_tc_opts opts = our_tc_filter();
    const int r = bpf_tc_detach(&hook, &opts);
    if (r != 0 && !nothing_there(libbpf_errno(r))) {
        const int e = libbpf_errno(r);
        append_error_text(error, errno_text("bpf fast path: tc filter on " + interface_name(ifindex) + ": detach", e));
        return errno_code(e);
    }
    std::string dump_error;  // the filter is gone: a failed check only leaves the qdisc behind
    if (clsact_filters(ifindex, &dump_error) == std::optional<size_t>(0)) {
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);  // = the qdisc
        (void)bpf_tc_hook_destroy(&hook);
    }
    return {};
}

// The XDP programs on `ifindex` by attach mode flag (XDP_FLAGS_DRV_MODE, _SKB_MODE, _HW_MODE).
std::vector<std::pair<uint32_t, uint32_t>> xdp_programs(int ifindex, int* err) {
    *err = 0;
    bpf_xdp_query_opts query{};
    query.sz = sizeof query;
    const int r = bpf_xdp_query(ifindex, 0, &query);
    if (r != 0) {
        if (!nothing_there(libbpf_errno(r))) *err = libbpf_errno(r);
        return {};
    }
    std::vector<std::pair<uint32_t, uint32_t>> found;
    if (query.drv_prog_id) found.emplace_back(XDP_FLAGS_DRV_MODE, query.drv_prog_id);
    if (query.skb_prog_id) found.emplace_back(XDP_FLAGS_SKB_MODE, query.skb_prog_id);
    if (query.hw_prog_id) found.emplace_back(XDP_FLAGS_HW_MODE, query.hw_prog_id);
    return found;
}

// Detaches program `prog_id` in `mode`, only if it is still the one attached (XDP_FLAGS_REPLACE
// with the old program's fd: a program attached meanwhile is left alone).
std::error_code remove_xdp_program(int ifindex, uint32_t mode, uint32_t prog_id, std::string* error) {
    UniqueFd old(bpf_prog_get_fd_by_id(prog_id));
    if (!old) return {};  // gone meanwhile
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof opts;
    opts.old_prog_fd = old.get();
    const int r = bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &opts);
    if (r == 0 || nothing_there(libbpf_errno(r))) return {};
    const int e = libbpf_errno(r);
    append_error_text(error, errno_text("bpf fast path: XDP program on " + interface_name(ifindex) + ": detach", e));
    return errno_code(e);
}

uint64_t fdinfo_memlock(int fd) {
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("memlock:", 0) == 0) return std::strtoull(line.c_str() + 8, nullptr, 10);
    }
    return 0;
}

}  // namespace

struct BpfFastPath::Handles {
    bpf_object* object = nullptr;  // owns the program's and the maps' fds
    int prog_fd = -1;
    uint32_t prog_id = 0;
    int flows = -1;
    int nodes = -1;
    int ranges = -1;
    int config = -1;
    int counters = -1;
    int client_ifindex = 0;
    int lan_ifindex = 0;
    std::array<uint8_t, 6> client_mac{};
    std::array<uint8_t, 6> lan_mac{};

    // What sarad last wrote to the array maps, so that a replacement writes only the entries
    // that changed (a media range set is up to 65536 of them).
    Mutex mutex;
    sara_fp_config config_value ABSL_GUARDED_BY(mutex){};
    std::vector<sara_fp_node> node_values ABSL_GUARDED_BY(mutex);  // SARA_FP_MAX_NODES
    std::vector<uint16_t> range_values ABSL_GUARDED_BY(mutex);     // SARA_FP_PORTS

    ~Handles() {
        if (object) bpf_object__close(object);
    }
};

BpfFastPath::BpfFastPath(BpfFastPathSpec spec, std::unique_ptr<Handles> handles)
    : spec_(std::move(spec)), handles_(std::move(handles)) {}

BpfFastPath::~BpfFastPath() {
    if (attached_) (void)detach(nullptr);
}

int BpfFastPath::program_fd() const { return handles_->prog_fd; }

std::unique_ptr<BpfFastPath> BpfFastPath::load(const BpfFastPathSpec& spec, std::string* error) {
    const std::string what = "bpf fast path: object " + spec.object_path;
    if (spec.vip.empty() || (spec.vip.has_v4() && spec.vip.v4.is_unspecified()) ||
        (spec.vip.has_v6() && spec.vip.v6.is_unspecified())) {
        append_error_text(error, "bpf fast path: needs a unicast VIP (IPv4, IPv6 or both)");
        return nullptr;
    }
    if (spec.max_flows == 0) {
        append_error_text(error, "bpf fast path: max_flows must be at least 1");
        return nullptr;
    }
    auto h = std::make_unique<Handles>();
    if (interface_index("client_interface", spec.client_interface, h->client_ifindex, error) ||
        interface_index("lan_interface", spec.lan_interface, h->lan_ifindex, error) ||
        interface_mac(spec.client_interface, h->client_mac, error) ||
        interface_mac(spec.lan_interface, h->lan_mac, error))
        return nullptr;

    LibbpfLog log;
    auto fail = [&](const std::string& step, int err) -> std::unique_ptr<BpfFastPath> {
        std::string message = errno_text(what + ": " + step, err);
        if (err == EPERM || err == EACCES)
            message += " (loading needs CAP_BPF and CAP_NET_ADMIN, or root; a verifier rejection also says so below)";
        append_error_text(error, message);
        append_error_text(error, log.last_lines(kLogLinesInError));
        return nullptr;
    };

    h->object = bpf_object__open_file(spec.object_path.c_str(), nullptr);
    if (!h->object) return fail("open", errno);
    bpf_program* tc = bpf_object__find_program_by_name(h->object, SARA_FP_PROG_TC);
    bpf_program* xdp = bpf_object__find_program_by_name(h->object, SARA_FP_PROG_XDP);
    if (!tc || !xdp) return fail("programs " SARA_FP_PROG_TC " and " SARA_FP_PROG_XDP, ENOENT);
    // Only the hook's own program is loaded (and verified).
    bpf_program* program = spec.hook == BpfHook::tc ? tc : xdp;
    bpf_program__set_autoload(spec.hook == BpfHook::tc ? xdp : tc, false);

    bpf_map* flows = bpf_object__find_map_by_name(h->object, SARA_FP_MAP_FLOWS);
    if (!flows) return fail("map " SARA_FP_MAP_FLOWS, ENOENT);
    if (int r = bpf_map__set_max_entries(flows, spec.max_flows); r != 0) return fail("max_flows", libbpf_errno(r));
    if (int r = bpf_object__load(h->object); r != 0) return fail("load", libbpf_errno(r));

    h->prog_fd = bpf_program__fd(program);
    struct {
        const char* name;
        int* fd;
    } const maps[] = {{SARA_FP_MAP_FLOWS, &h->flows},   {SARA_FP_MAP_NODES, &h->nodes},
                      {SARA_FP_MAP_RANGES, &h->ranges}, {SARA_FP_MAP_CONFIG, &h->config},
                      {SARA_FP_MAP_COUNTERS, &h->counters}};
    for (const auto& map : maps) {
        *map.fd = bpf_object__find_map_fd_by_name(h->object, map.name);
        if (*map.fd < 0) return fail(std::string("map ") + map.name, ENOENT);
    }
    bpf_prog_info info{};
    uint32_t info_length = sizeof info;
    if (int r = bpf_obj_get_info_by_fd(h->prog_fd, &info, &info_length); r != 0)
        return fail("program info", libbpf_errno(r));
    h->prog_id = info.id;

    {
        MutexLock guard(h->mutex);  // not shared yet: for the analysis
        h->config_value.vip4 = spec.vip.has_v4() ? spec.vip.v4.v4_network_order() : 0;
        if (spec.vip.has_v6()) std::memcpy(h->config_value.vip6, spec.vip.v6.bytes.data(), 16);
        std::memcpy(h->config_value.client_mac, h->client_mac.data(), 6);
        const uint32_t zero = 0;
        if (bpf_map_update_elem(h->config, &zero, &h->config_value, BPF_ANY) != 0)
            return fail("map " SARA_FP_MAP_CONFIG ": update", errno);
        h->node_values.assign(SARA_FP_MAX_NODES, sara_fp_node{});
        h->range_values.assign(SARA_FP_PORTS, 0);  // a new array map is all zero
    }
    return std::unique_ptr<BpfFastPath>(new BpfFastPath(spec, std::move(h)));
}

std::error_code BpfFastPath::attach(std::string* error) {
    if (attached_) return {};
    LibbpfLog log;  // libbpf's messages (the kernel's extended ACK) go to *error on a failure only
    const std::error_code ec = attach_hook(error);
    if (ec) append_error_text(error, log.last_lines(3));
    return ec;
}

std::error_code BpfFastPath::attach_hook(std::string* error) {
    const int ifindex = handles_->client_ifindex;
    const std::string where = "bpf fast path: " + spec_.client_interface;
    if (spec_.hook == BpfHook::tc) {
        bpf_tc_hook hook = ingress_hook(ifindex);
        if (int r = bpf_tc_hook_create(&hook); r != 0 && libbpf_errno(r) != EEXIST) {
            append_error_text(error, errno_text(where + ": clsact qdisc", libbpf_errno(r)));
            return errno_code(libbpf_errno(r));
        }
        // REPLACE: a crashed run's filter in our slot is swapped in one step, no gap.
        bpf_tc_opts opts = our_tc_filter();
        opts.prog_fd = handles_->prog_fd;
        opts.flags = BPF_TC_F_REPLACE;
        if (int r = bpf_tc_attach(&hook, &opts); r != 0) {
            append_error_text(error, errno_text(where + ": tc ingress filter", libbpf_errno(r)));
            return errno_code(libbpf_errno(r));
        }
        attached_ = true;
        return {};
    }

    int err = 0;
    const auto present = xdp_programs(ifindex, &err);
    if (err) {
        append_error_text(error, errno_text(where + ": XDP query", err));
        return errno_code(err);
    }
    uint32_t flags = XDP_FLAGS_UPDATE_IF_NOEXIST;
    UniqueFd old;
    for (const auto& [mode, id] : present) {
        if (!is_ours(id)) {
            append_error_text(error, where + ": another XDP program is attached ('" + program_name(id) + "', id " +
                                         std::to_string(id) + "); not replaced");
            return errno_code(EBUSY);
        }
        flags = mode | XDP_FLAGS_REPLACE;  // a crashed run's: swapped in one step
        old.reset(bpf_prog_get_fd_by_id(id));
    }
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof opts;
    if (old) {
        opts.old_prog_fd = old.get();
    } else {
        flags = XDP_FLAGS_UPDATE_IF_NOEXIST;  // the driver's mode if it has one, else generic
    }
    if (int r = bpf_xdp_attach(ifindex, handles_->prog_fd, flags, &opts); r != 0) {
        append_error_text(error, errno_text(where + ": XDP attach", libbpf_errno(r)));
        return errno_code(libbpf_errno(r));
    }
    attached_ = true;
    return {};
}

std::error_code BpfFastPath::detach(std::string* error) {
    LibbpfLog log;  // "no qdisc" and the like are answers here, not news for stderr
    const int ifindex = handles_->client_ifindex;
    int err = 0;
    std::error_code result;
    // Only this object's program is removed: a program a later run attached stays.
    if (spec_.hook == BpfHook::tc) {
        if (tc_filter_program(ifindex, &err) == handles_->prog_id) result = remove_tc_filter(ifindex, error);
    } else {
        for (const auto& [mode, id] : xdp_programs(ifindex, &err)) {
            if (id != handles_->prog_id) continue;
            if (auto ec = remove_xdp_program(ifindex, mode, id, error); ec && !result) result = ec;
        }
    }
    if (err && !result) {
        append_error_text(error, errno_text("bpf fast path: " + spec_.client_interface + ": query", err));
        result = errno_code(err);
    }
    if (!result) attached_ = false;
    return result;
}

size_t BpfFastPath::remove_leftovers(std::string* error) {
    LibbpfLog log;  // every interface without a clsact qdisc makes libbpf say so
    struct if_nameindex* interfaces = if_nameindex();
    if (!interfaces) {
        append_error_text(error, errno_text("bpf fast path: leftovers: interface list", errno));
        return 0;
    }
    size_t removed = 0;
    for (const struct if_nameindex* i = interfaces; i->if_index != 0; ++i) {
        const int ifindex = static_cast<int>(i->if_index);
        int err = 0;
        if (const uint32_t id = tc_filter_program(ifindex, &err); id != 0 && is_ours(id)) {
            if (!remove_tc_filter(ifindex, error)) ++removed;
        }
        if (err) append_error_text(error, errno_text(std::string("bpf fast path: leftovers: tc query on ") + i->if_name, err));
        for (const auto& [mode, id] : xdp_programs(ifindex, &err)) {
            if (is_ours(id) && !remove_xdp_program(ifindex, mode, id, error)) ++removed;
        }
        if (err) append_error_text(error, errno_text(std::string("bpf fast path: leftovers: XDP query on ") + i->if_name, err));
    }
    if_freenameindex(interfaces);
    return removed;
}

namespace {

// The flow map's key for `key`, or false if the program can never match it: the program reads
// UDP only, both addresses of one family, and a zero port is a partial flow.
bool to_map_key(const FlowKey& key, sara_fp_flow_key& out) {
    const bool v6 = key.src.is_v6() && key.dst.is_v6();
    if (!(v6 || (key.src.is_v4() && key.dst.is_v4())) || key.proto != IpProto::udp || key.src_port == 0 ||
        key.dst_port == 0)
        return false;
    out = sara_fp_flow_key{};
    out.family = v6 ? SARA_FP_FAMILY_IPV6 : SARA_FP_FAMILY_IPV4;
    out.proto = IPPROTO_UDP;
    out.sport = htons(key.src_port);
    out.dport = htons(key.dst_port);
    const size_t n = v6 ? 16 : 4;
    std::memcpy(&out.saddr[0], key.src.bytes.data(), n);
    std::memcpy(&out.daddr[0], key.dst.bytes.data(), n);
    return true;
}

// Writes the entries of `desired` that differ from `current` (then equal), in one batch if the
// kernel takes it, else one by one.
template <typename Value>
void write_changed(int map_fd, const std::vector<Value>& desired, std::vector<Value>& current) {
    std::vector<uint32_t> keys;
    std::vector<Value> values;
    for (uint32_t i = 0; i < desired.size(); ++i) {
        if (std::memcmp(&desired[i], &current[i], sizeof(Value)) == 0) continue;
        keys.push_back(i);
        values.push_back(desired[i]);
    }
    if (keys.empty()) return;
    uint32_t count = static_cast<uint32_t>(keys.size());
    bpf_map_batch_opts opts{};
    opts.sz = sizeof opts;
    if (bpf_map_update_batch(map_fd, keys.data(), values.data(), &count, &opts) != 0) {
        for (size_t i = 0; i < keys.size(); ++i) bpf_map_update_elem(map_fd, &keys[i], &values[i], BPF_ANY);
    }
    current = desired;
}

}  // namespace

bool BpfFastPath::put_flow(const FlowKey& key, NodeId node) {
    sara_fp_flow_key map_key;
    if (node == kNoNode || !to_map_key(key, map_key)) return false;
    sara_fp_flow_value value{};
    value.node = node;
    value.last_seen_ns = monotonic_ns();
    return bpf_map_update_elem(handles_->flows, &map_key, &value, BPF_ANY) == 0;  // E2BIG: full
}

void BpfFastPath::delete_flow(const FlowKey& key) {
    sara_fp_flow_key map_key;
    if (to_map_key(key, map_key)) bpf_map_delete_elem(handles_->flows, &map_key);
}

size_t BpfFastPath::clear_flows() {
    const int fd = handles_->flows;
    size_t removed = 0;
    // Batched (Linux >= 5.6): a few hundred system calls for a million entries. The hash map's
    // batch token is its bucket index.
    constexpr uint32_t kBatch = 4096;
    std::vector<sara_fp_flow_key> keys(kBatch);
    std::vector<sara_fp_flow_value> values(kBatch);
    uint32_t token = 0;
    bool first = true;
    for (;;) {
        uint32_t count = kBatch;
        const int rc = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &token, &token, keys.data(),
                                                       values.data(), &count, nullptr);
        first = false;
        if (rc == 0 || rc == -ENOENT) removed += count;  // ENOENT: the last batch (count may be 0)
        if (rc == 0) continue;
        if (rc == -ENOENT) return removed;
        break;  // batch operations not supported here: walk the keys instead
    }
    std::vector<sara_fp_flow_key> all;
    sara_fp_flow_key key{}, next{};
    const void* previous = nullptr;
    while (bpf_map_get_next_key(fd, previous, &next) == 0) {
        all.push_back(next);
        key = next;
        previous = &key;
    }
    for (const sara_fp_flow_key& k : all)
        if (bpf_map_delete_elem(fd, &k) == 0) ++removed;
    return removed;
}

std::optional<uint32_t> BpfFastPath::flow_idle_ms(const FlowKey& key) const {
    sara_fp_flow_key map_key;
    sara_fp_flow_value value{};
    if (!to_map_key(key, map_key) || bpf_map_lookup_elem(handles_->flows, &map_key, &value) != 0) return std::nullopt;
    const uint64_t now = monotonic_ns();
    const uint64_t idle_ms = now > value.last_seen_ns ? (now - value.last_seen_ns) / 1'000'000 : 0;
    return static_cast<uint32_t>(std::min<uint64_t>(idle_ms, UINT32_MAX));
}

void BpfFastPath::set_nodes(const std::vector<BpfNodeTarget>& nodes) {
    std::vector<sara_fp_node> desired(SARA_FP_MAX_NODES);
    for (const BpfNodeTarget& node : nodes) {
        // A zero MAC is no target: forwarding to it would lose every packet.
        const bool zero_mac = std::all_of(node.mac.begin(), node.mac.end(), [](uint8_t b) { return b == 0; });
        if (node.id == kNoNode || node.id >= SARA_FP_MAX_NODES || zero_mac) continue;
        sara_fp_node& value = desired[node.id];
        value.ifindex = static_cast<uint32_t>(handles_->lan_ifindex);
        std::memcpy(value.dmac, node.mac.data(), 6);
        std::memcpy(value.smac, handles_->lan_mac.data(), 6);
    }
    MutexLock lock(handles_->mutex);
    write_changed(handles_->nodes, desired, handles_->node_values);
}

void BpfFastPath::set_media_ranges(const std::vector<std::pair<PortRange, NodeId>>& ranges) {
    std::vector<uint16_t> desired(SARA_FP_PORTS, 0);
    for (const auto& [range, node] : ranges) {
        for (uint32_t port = range.first; port <= range.last; ++port) desired[port] = node;
    }
    MutexLock lock(handles_->mutex);
    write_changed(handles_->ranges, desired, handles_->range_values);
}

void BpfFastPath::set_degrade_probability(double p) {
    const double q = std::isnan(p) ? 0.0 : std::clamp(p, 0.0, 1.0);
    MutexLock lock(handles_->mutex);
    handles_->config_value.degrade_threshold = static_cast<uint64_t>(std::llround(q * 4294967296.0));
    const uint32_t zero = 0;
    bpf_map_update_elem(handles_->config, &zero, &handles_->config_value, BPF_ANY);
}

BpfFastPathCounters BpfFastPath::counters() const {
    static_assert(sizeof(BpfFastPathCounters) == SARA_FP_COUNTERS * sizeof(uint64_t),
                  "one BpfFastPathCounters field per enum sara_fp_counter");
    uint64_t BpfFastPathCounters::*const fields[SARA_FP_COUNTERS] = {
        &BpfFastPathCounters::flow_hits,          &BpfFastPathCounters::range_hits,
        &BpfFastPathCounters::passed,             &BpfFastPathCounters::degraded_dropped,
        &BpfFastPathCounters::bad_header,         &BpfFastPathCounters::fragments_passed,
        &BpfFastPathCounters::ttl_expired_passed, &BpfFastPathCounters::no_node_passed};
    BpfFastPathCounters out;
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return out;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    for (uint32_t i = 0; i < SARA_FP_COUNTERS; ++i) {
        if (bpf_map_lookup_elem(handles_->counters, &i, per_cpu.data()) != 0) continue;
        for (uint64_t v : per_cpu) out.*fields[i] += v;
    }
    return out;
}

uint64_t BpfFastPath::map_memory_bytes() const {
    uint64_t total = 0;
    for (int fd : {handles_->flows, handles_->nodes, handles_->ranges, handles_->config, handles_->counters})
        total += fdinfo_memlock(fd);
    return total;
}

}  // namespace sara
