// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/iptables_rules.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "common/util/errno_text.hpp"
#include "common/util/subprocess.hpp"

namespace sara {
namespace {

std::string hex(uint32_t value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%x", value);
    return buf;
}

// "--queue-num N" or "--queue-balance F:L", plus "--queue-bypass".
std::string nfqueue_target(const KernelSetupSpec& spec) {
    std::string target = "NFQUEUE ";
    if (spec.queue_count <= 1) {
        target += "--queue-num " + std::to_string(spec.queue_first);
    } else {
        target += "--queue-balance " + std::to_string(spec.queue_first) + ":" +
                  std::to_string(spec.queue_first + spec.queue_count - 1);
    }
    if (spec.queue_bypass) target += " --queue-bypass";
    return target;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

bool is_sara_chain(std::string_view name) { return starts_with(name, kChainPrefix); }

// True for a "-A CHAIN ..." line whose target (-j/--jump/-g/--goto) is a SARA-* chain.
bool jumps_to_sara(const std::vector<std::string_view>& words) {
    for (size_t i = 2; i + 1 < words.size(); ++i) {
        const auto w = words[i];
        if ((w == "-j" || w == "--jump" || w == "-g" || w == "--goto") && is_sara_chain(words[i + 1])) return true;
    }
    return false;
}

// The 1-based line number iptables-restore names in its complaint, if any.
std::optional<size_t> rejected_line(std::string_view stderr_text) {
    for (std::string_view marker : {"line: ", "line "}) {
        for (size_t pos = stderr_text.find(marker); pos != std::string_view::npos;
             pos = stderr_text.find(marker, pos + 1)) {
            const char* first = stderr_text.data() + pos + marker.size();
            const char* last = stderr_text.data() + stderr_text.size();
            size_t n = 0;
            auto [ptr, ec] = std::from_chars(first, last, n);
            if (ec == std::errc() && ptr != first && n > 0) return n;
        }
    }
    return std::nullopt;
}

std::string nth_line(std::string_view text, size_t one_based) {
    size_t start = 0;
    for (size_t line = 1; line < one_based; ++line) {
        start = text.find('\n', start);
        if (start == std::string_view::npos) return {};
        ++start;
    }
    return std::string(text.substr(start, text.find('\n', start) - start));
}

std::string trim_trailing_newlines(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

std::string join_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        out += a;
    }
    return out;
}

}  // namespace

std::vector<IptablesTableRules> sara_iptables_rules(const KernelSetupSpec& spec, int ip_version) {
    // ip6tables takes the same rules: the matches and targets below exist in both.
    const IpAddress& address = ip_version == 6 ? spec.vip.v6 : spec.vip.v4;
    if (!address.family) return {};
    const std::string vip = "-d " + address.to_string() + (ip_version == 6 ? "/128" : "/32");
    const std::string queue = nfqueue_target(spec);
    if (spec.raw_mode) {
        // sarad forwards every packet itself: all of them must reach it, none may take a
        // kernel fast path (a restored mark would have the kernel route it).
        // Without conntrack nothing reassembles fragments, and sarad would see a SIP datagram
        // over the MTU piece by piece. The socket match enables the kernel's defrag hook of
        // the table's family in this namespace (nf_defrag_ipv4 or nf_defrag_ipv6: PREROUTING
        // priority -400, bounded by ipfrag_high_thresh / ip6frag_high_thresh, timed out by
        // ipfrag_time / ip6frag_time) and nothing else — no conntrack. Its
        // chain is never jumped to: the rule's existence is what keeps defrag on, at no
        // per-packet cost beyond the defrag hook (docs/architecture.md, "Raw mode and fragments").
        return {IptablesTableRules{.table = "mangle",
                                   .chains = {"SARA-PRE", "SARA-DEFRAG"},
                                   .rules = {"SARA-PRE -j " + queue, "SARA-DEFRAG -m socket -j RETURN"},
                                   .jumps = {"PREROUTING " + vip + " -j SARA-PRE"}}};
    }

    IptablesTableRules raw{.table = "raw", .chains = {"SARA-RAW"}, .rules = {}, .jumps = {}};
    // One-armed TCP: the SYN must stay untracked so that conntrack picks the connection up on
    // the client's first ACK (loose pickup) instead of holding a SYN_SENT entry that never sees
    // a SYN/ACK (KERNEL-NOTES snag 2).
    raw.rules.push_back("SARA-RAW -p tcp -m tcp --syn -j CT --notrack");
    // SIP over UDP (and any UDP signalling port) needs no conntrack entry: every datagram is
    // queued and its verdict's mark is never saved (kMarkNoSave), and the nodes answer the
    // client directly. Untracked, it skips conntrack's lookup and, for each new client port,
    // an insert of an entry that would only wait out its timeout (issue 16: the queue path's
    // whole gap to a minimal consumer is the rule set). The kernel's defragmentation runs
    // before the raw table, so a SIP datagram over the MTU is still whole when queued.
    std::set<uint16_t> udp_signalling;
    for (const auto& [proto, port] : spec.signalling_ports)
        if (proto == IpProto::udp && udp_signalling.insert(port).second)
            raw.rules.push_back("SARA-RAW -p udp -m udp --dport " + std::to_string(port) + " -j CT --notrack");
    // Media to a node's port range: marked for the node here and never tracked, so it takes
    // the fast path below (degrade rule, mark ACCEPT, fwmark route) without a conntrack entry
    // or a queue visit, whatever its source (NAT, a reused client port, a restart).
    for (const NodeRoute& node : spec.nodes) {
        for (const PortRange& range : node.media_ports) {
            const std::string match = "SARA-RAW -p udp -m udp --dport " + std::to_string(range.first) + ":" +
                                      std::to_string(range.last);
            raw.rules.push_back(match + " -j MARK --set-xmark " + hex(node.id) + "/" + hex(kNodeMarkMask));
            raw.rules.push_back(match + " -j CT --notrack");
        }
    }
    raw.jumps.push_back("PREROUTING " + vip + " -j SARA-RAW");

    IptablesTableRules mangle{.table = "mangle", .chains = {"SARA-PRE", "SARA-FWD"}, .rules = {}, .jumps = {}};
    const std::string node_mask = hex(kNodeMarkMask);
    mangle.rules.push_back("SARA-PRE -j CONNMARK --restore-mark --nfmask " + node_mask + " --ctmask " + node_mask);
    // Signalling is always inspected, before the fast path, so a restored mark never offloads it.
    std::set<std::pair<IpProto, uint16_t>> seen;
    for (const auto& [proto, port] : spec.signalling_ports) {
        if (!seen.insert({proto, port}).second) continue;
        const std::string p = to_string(proto);
        mangle.rules.push_back("SARA-PRE -p " + p + " -m " + p + " --dport " + std::to_string(port) + " -j " + queue);
    }
    if (spec.degrade_probability > 0) {
        char p[32];
        std::snprintf(p, sizeof p, "%.4f", std::min(spec.degrade_probability, 1.0));
        mangle.rules.push_back("SARA-PRE -m mark ! --mark 0x0/" + node_mask + " -m statistic --mode random --probability " +
                               p + " -j DROP");
    }
    mangle.rules.push_back("SARA-PRE -m mark ! --mark 0x0/" + node_mask + " -j ACCEPT");
    mangle.rules.push_back("SARA-PRE -j " + queue);
    // The save must sit in a later hook than the NFQUEUE verdict (KERNEL-NOTES snag 5), and
    // only data-flow verdicts are saved: signalling verdicts carry kMarkNoSave.
    mangle.rules.push_back("SARA-FWD -m mark --mark 0x0/" + hex(kMarkNoSave) + " -m mark ! --mark 0x0/" + node_mask +
                           " -j CONNMARK --save-mark --nfmask " + node_mask + " --ctmask " + node_mask);
    mangle.jumps.push_back("PREROUTING " + vip + " -j SARA-PRE");
    mangle.jumps.push_back("FORWARD -j SARA-FWD");
    if (ip_version == 4) return {raw, mangle};
    // IPv6 has no send_redirects switch: a packet that leaves by the interface it came in on
    // (a one-armed dispatcher) would draw an ICMPv6 redirect naming the node's link-local
    // next hop, and the client would then bypass the dispatcher. Never send one.
    IptablesTableRules filter{.table = "filter",
                              .chains = {"SARA-OUT"},
                              .rules = {"SARA-OUT -p ipv6-icmp -m icmp6 --icmpv6-type redirect -j DROP"},
                              .jumps = {"OUTPUT -j SARA-OUT"}};
    return {raw, mangle, filter};
}

std::vector<SavedSaraTable> parse_saved_sara_rules(std::string_view text) {
    std::vector<SavedSaraTable> tables;
    SavedSaraTable* current = nullptr;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

        if (starts_with(line, "*")) {
            tables.push_back(SavedSaraTable{.table = std::string(line.substr(1)), .chains = {}, .jump_lines = {}});
            current = &tables.back();
        } else if (current && starts_with(line, ":")) {
            const auto name = line.substr(1, line.find(' ') - 1);
            if (is_sara_chain(name)) current->chains.emplace_back(name);
        } else if (current && starts_with(line, "-A ")) {
            const auto words = split_words(line);
            // Rules inside our own chains go with the chain; only foreign chains' jumps count.
            if (words.size() >= 2 && !is_sara_chain(words[1]) && jumps_to_sara(words))
                current->jump_lines.emplace_back(line);
        }
    }
    std::erase_if(tables, [](const SavedSaraTable& t) { return t.chains.empty() && t.jump_lines.empty(); });
    return tables;
}

std::string build_iptables_restore_script(const std::vector<SavedSaraTable>& saved,
                                          const std::vector<IptablesTableRules>& desired) {
    std::vector<std::string> table_order;
    for (const auto& d : desired) table_order.push_back(d.table);
    for (const auto& s : saved)
        if (std::find(table_order.begin(), table_order.end(), s.table) == table_order.end())
            table_order.push_back(s.table);

    std::string script;
    for (const auto& table : table_order) {
        const auto want = std::find_if(desired.begin(), desired.end(), [&](const auto& d) { return d.table == table; });
        const auto have = std::find_if(saved.begin(), saved.end(), [&](const auto& s) { return s.table == table; });
        const bool wanted = want != desired.end();
        const bool present = have != saved.end();

        script += "*" + table + "\n";
        if (wanted) {
            // With --noflush, declaring an existing chain flushes it; the explicit -F says so.
            for (const auto& c : want->chains) script += ":" + c + " - [0:0]\n-F " + c + "\n";
        }
        std::vector<std::string> stale;
        if (present) {
            for (const auto& line : have->jump_lines) script += "-D" + line.substr(2) + "\n";
            for (const auto& c : have->chains)
                if (!wanted || std::find(want->chains.begin(), want->chains.end(), c) == want->chains.end())
                    stale.push_back(c);
        }
        // Flush every stale chain before deleting any: they may jump to one another.
        for (const auto& c : stale) script += "-F " + c + "\n";
        for (const auto& c : stale) script += "-X " + c + "\n";
        if (wanted) {
            for (const auto& r : want->rules) script += "-A " + r + "\n";
            for (const auto& j : want->jumps) {
                const size_t space = j.find(' ');
                script += "-I " + j.substr(0, space) + " 1" + j.substr(space) + "\n";
            }
        }
        script += "COMMIT\n";
    }
    return script;
}

std::error_code apply_iptables(const IptablesPrograms& programs, const std::vector<IptablesTableRules>& desired,
                               std::string* error_text) {
    CommandOutput saved;
    const std::vector<std::string> save_argv{programs.save};
    if (auto ec = run_command(save_argv, {}, saved, error_text)) return ec;
    if (saved.exit_status != 0) {
        append_error_text(error_text, programs.save + " exited with status " + std::to_string(saved.exit_status) +
                                          ": " + trim_trailing_newlines(saved.err));
        return KernelSetupErrc::command_failed;
    }

    const std::string script = build_iptables_restore_script(parse_saved_sara_rules(saved.out), desired);
    if (script.empty()) return {};

    // -w: wait for the xtables lock (legacy backend; the nf_tables backend ignores it).
    const std::vector<std::string> restore_argv{programs.restore, "-w", "10", "--noflush"};
    CommandOutput restored;
    if (auto ec = run_command(restore_argv, script, restored, error_text)) return ec;
    if (restored.exit_status != 0) {
        std::string message = join_argv(restore_argv) + " exited with status " +
                              std::to_string(restored.exit_status) + ": " + trim_trailing_newlines(restored.err);
        if (auto line = rejected_line(restored.err)) message += " [input line " + std::to_string(*line) + ": " +
                                                                 nth_line(script, *line) + "]";
        append_error_text(error_text, message);
        return KernelSetupErrc::command_failed;
    }
    return {};
}

namespace {

// Owns the three pipes of a child and closes whatever is still open.
struct ChildPipes {
    int in[2] = {-1, -1};   // socketpair: send() with MSG_NOSIGNAL never raises SIGPIPE
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    ~ChildPipes() {
        for (int* p : {in, out, err})
            for (int i = 0; i < 2; ++i)
                if (p[i] >= 0) ::close(p[i]);
    }
    static void close_fd(int& fd) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

constexpr size_t kMaxCapturedBytes = 64u << 20;  // a full iptables-save of a big firewall fits

}  // namespace

std::error_code run_command(const std::vector<std::string>& argv, std::string_view input, CommandOutput& output,
                            std::string* error_text, std::chrono::milliseconds timeout) {
    output = CommandOutput{};
    const std::string what = join_argv(argv);
    if (argv.empty()) {
        append_error_text(error_text, "run_command: empty argv");
        return std::make_error_code(std::errc::invalid_argument);
    }

    ChildPipes pipes;
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipes.in) != 0 || ::pipe2(pipes.out, O_CLOEXEC) != 0 ||
        ::pipe2(pipes.err, O_CLOEXEC) != 0) {
        const int e = errno;
        append_error_text(error_text, what + ": cannot create pipes: " + errno_text(e));
        return errno_code(e);
    }

    const SpawnOptions options{
        .stdin_fd = pipes.in[1], .stdout_fd = pipes.out[1], .stderr_fd = pipes.err[1], .search_sbin = true};
    pid_t pid = -1;
    if (const std::error_code ec = spawn_process(argv, options, pid)) {
        append_error_text(error_text, what + ": cannot run: " + errno_text(ec.value()));
        return ec;
    }
    ChildPipes::close_fd(pipes.in[1]);
    ChildPipes::close_fd(pipes.out[1]);
    ChildPipes::close_fd(pipes.err[1]);
    for (int fd : {pipes.in[0], pipes.out[0], pipes.err[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

    size_t written = 0;
    if (input.empty()) ChildPipes::close_fd(pipes.in[0]);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::error_code failure;
    while (pipes.out[0] >= 0 || pipes.err[0] >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            append_error_text(error_text, what + ": no exit within " + std::to_string(timeout.count()) + " ms, killed");
            failure = KernelSetupErrc::command_failed;
            break;
        }
        pollfd fds[3] = {{pipes.in[0], POLLOUT, 0}, {pipes.out[0], POLLIN, 0}, {pipes.err[0], POLLIN, 0}};
        const int n = ::poll(fds, 3, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            append_error_text(error_text, what + ": poll: " + errno_text(e));
            failure = errno_code(e);
            break;
        }
        if (pipes.in[0] >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t sent = ::send(pipes.in[0], input.data() + written, input.size() - written,
                                        MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent > 0) written += static_cast<size_t>(sent);
            // EPIPE/ECONNRESET: the child stopped reading (it exits; its stderr says why).
            if (sent < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
            if (written == input.size()) ChildPipes::close_fd(pipes.in[0]);
        }
        for (int i : {1, 2}) {
            int& fd = i == 1 ? pipes.out[0] : pipes.err[0];
            std::string& sink = i == 1 ? output.out : output.err;
            if (fd < 0 || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
            char buf[16384];
            const ssize_t got = ::read(fd, buf, sizeof buf);
            if (got > 0 && sink.size() < kMaxCapturedBytes) sink.append(buf, static_cast<size_t>(got));
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) ChildPipes::close_fd(fd);
        }
    }
    // The child may have closed its output while still reading stdin: EOF lets it finish.
    ChildPipes::close_fd(pipes.in[0]);
    if (failure) ::kill(pid, SIGKILL);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            const int e = errno;
            append_error_text(error_text, what + ": waitpid: " + errno_text(e));
            return failure ? failure : errno_code(e);
        }
    }
    if (failure) return failure;
    output.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {};
}

}  // namespace sara
