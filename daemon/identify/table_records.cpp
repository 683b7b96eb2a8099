// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/table_records.hpp"

#include <charconv>
#include <optional>
#include <unordered_map>

namespace sara {
namespace {

// A key as one field: "-" when empty; '%', '-' alone, whitespace, control and non-ASCII bytes
// as %XX (a parser may have taken a Call-ID such as "a b" or "-").
std::string encode_key(const std::string& key) {
    if (key.empty()) return "-";
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : key) {
        const auto c = uint8_t(ch);
        if (c <= 0x20 || c >= 0x7f || c == '%' || (key.size() == 1 && c == '-')) {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The reverse of encode_key, strict: only what encode_key writes is accepted.
std::optional<std::string> decode_key(std::string_view field) {
    if (field == "-") return std::string();
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '%') {
            out += field[i];
            continue;
        }
        if (i + 2 >= field.size()) return std::nullopt;
        const int hi = hex_digit(field[i + 1]), lo = hex_digit(field[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += char(hi * 16 + lo);
        i += 2;
    }
    return encode_key(out) == field ? std::optional<std::string>(out) : std::nullopt;
}

// Whitespace-separated fields of one line, read strictly.
class Fields {
public:
    explicit Fields(std::string_view line) : rest_(line) {}
    // A field of printable ASCII (records never hold anything else; a NUL or a control byte
    // would be cut or misread by the address parser).
    std::optional<std::string_view> word() {
        while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
        if (rest_.empty()) return std::nullopt;
        const size_t end = std::min(rest_.find(' '), rest_.size());
        const std::string_view w = rest_.substr(0, end);
        rest_.remove_prefix(end);
        for (const char c : w)
            if (uint8_t(c) <= 0x20 || uint8_t(c) >= 0x7f) return std::nullopt;
        return w;
    }
    std::optional<unsigned> number(unsigned max) {
        const auto w = word();
        unsigned v = 0;
        if (!w) return std::nullopt;
        const auto [end, ec] = std::from_chars(w->data(), w->data() + w->size(), v);
        if (ec != std::errc() || end != w->data() + w->size() || v > max) return std::nullopt;
        return v;
    }
    bool done() {
        while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
        return rest_.empty();
    }

private:
    std::string_view rest_;
};

std::optional<SessionRecord> parse_session(Fields f) {
    SessionRecord r;
    const auto protocol = f.number(2), state = f.number(2), node = f.number(0xffff), service = f.number(0xff),
               confirmed = f.number(1);
    const auto key = f.word();
    if (!protocol || !state || !node || !service || !confirmed || !key || !f.done()) return std::nullopt;
    r.protocol = ServiceProtocol(*protocol);
    r.state = SessionState(*state);
    r.node = NodeId(*node);
    r.service = uint8_t(*service);
    r.confirmed = *confirmed != 0;
    const auto decoded = decode_key(*key);
    if (!decoded) return std::nullopt;
    r.key = *decoded;
    return r;
}

std::optional<FlowRecord> parse_flow(Fields f) {
    const auto proto = f.number(17);
    const auto src = f.word();
    const auto sport = f.number(0xffff);
    const auto dst = f.word();
    const auto dport = f.number(0xffff), identity = f.number(2), status = f.number(2);
    if (!proto || (*proto != 6 && *proto != 17) || !src || !sport || !dst || !dport || !identity || !status ||
        !f.done())
        return std::nullopt;
    const auto s = IpAddress::parse(std::string(*src)), d = IpAddress::parse(std::string(*dst));
    if (!s || !d || s->family != d->family) return std::nullopt;
    return FlowRecord{FlowKey{*s, *d, uint16_t(*sport), uint16_t(*dport), static_cast<IpProto>(*proto)},
                      FlowIdentity(*identity), FlowStatus(*status)};
}

// Upserts one block (see the header). Returns false when the table refused the session.
bool apply_block(const SessionRecord& r, const std::vector<FlowRecord>& flows, SessionTable& table,
                 RecordsApplied& applied) {
    if (r.key.empty() && flows.empty()) return false;  // nothing identifies it
    SessionId id = table.find_session(r.protocol, r.key);
    // By a flow only the same session without its key yet: calls from one SIP socket share
    // their signalling flow, and a new call's block must not overwrite the previous call
    // holding it (it takes the flow over below).
    for (size_t i = 0; id == kNoSession && i < flows.size(); ++i)
        if (const FlowEntry* f = table.find_flow(flows[i].key); f && (r.key.empty() || table.session(f->session).key.empty()))
            id = f->session;
    if (id == kNoSession) id = table.create_session(r.protocol, r.key, r.service);
    if (id == kNoSession) return false;
    const NodeId before = table.session(id).node;
    set_session_fields(id, r, table);
    if (r.node != kNoNode && before == kNoNode) applied.assigned.push_back(r.node);
    ++applied.sessions;
    for (const FlowRecord& fr : flows) {
        const FlowEntry* held = table.find_flow(fr.key);
        // A latch (client port 0) names no kernel entry.
        const bool claim = fr.key.src_port != 0 && (held ? held->session != id : fr.key.dst_port == 0);
        if (!apply_flow_record(fr, id, table)) continue;
        ++applied.flows;
        if (claim) applied.claimed.push_back(fr.key);
    }
    return true;
}

}  // namespace

std::optional<SessionRecord> parse_session_record(std::string_view fields) { return parse_session(Fields(fields)); }
std::optional<FlowRecord> parse_flow_record(std::string_view fields) { return parse_flow(Fields(fields)); }

void set_session_fields(SessionId id, const SessionRecord& r, SessionTable& table) {
    if (!r.key.empty()) (void)table.assign_key(id, r.key);  // a keyless replica learns its key
    if (r.state == SessionState::completed)
        table.restore_ended(id);  // its media linger starts now
    else
        table.set_state(id, r.state);
    table.set_node(id, r.node);
    table.session(id).confirmed = r.confirmed;
    table.touch_session(id);
}

SessionId apply_session_record(const SessionRecord& r, SessionTable& table) {
    SessionId id = table.find_session(r.protocol, r.key);
    if (id == kNoSession) id = table.create_session(r.protocol, r.key, r.service);
    if (id != kNoSession) set_session_fields(id, r, table);
    return id;
}

bool apply_flow_record(const FlowRecord& fr, SessionId id, SessionTable& table) {
    FlowEntry* f = table.find_flow(fr.key);
    if (f && f->session != id) table.move_flow(fr.key, id);
    if (!f) f = table.add_flow(fr.key, id, fr.identity);
    if (!f || f->session != id) return false;  // a bound (counted by the table): not this session's
    // Confirmed on the master since: promote it here too (the session's announced count).
    if (f->identity == FlowIdentity::announced && fr.identity != FlowIdentity::announced) table.touch_flow(fr.key, *f);
    f->status = fr.status;
    return true;
}

std::string session_line(const Session& s) {
    return "S " + std::to_string(int(s.protocol)) + ' ' + std::to_string(int(s.state)) + ' ' + std::to_string(s.node) +
           ' ' + std::to_string(int(s.service)) + ' ' + std::to_string(int(s.confirmed)) + ' ' + encode_key(s.key) +
           "\n";
}

std::string flow_line(const FlowKey& k, const FlowEntry& e) {
    return "F " + std::to_string(int(k.proto)) + ' ' + k.src.to_string() + ' ' + std::to_string(k.src_port) + ' ' +
           k.dst.to_string() + ' ' + std::to_string(k.dst_port) + ' ' + std::to_string(int(e.identity)) + ' ' +
           std::to_string(int(e.status)) + "\n";
}


std::vector<std::string> session_blocks(const SessionTable& table) {
    std::unordered_map<SessionId, std::string> blocks;
    std::vector<SessionId> order;
    table.for_each_session([&](SessionId id, const Session& s) {
        blocks.emplace(id, session_line(s));
        order.push_back(id);
    });
    table.for_each_flow([&](const FlowKey& k, const FlowEntry& e) {
        const auto it = blocks.find(e.session);
        if (it != blocks.end()) it->second += flow_line(k, e);
    });
    std::vector<std::string> out;
    out.reserve(order.size());
    for (SessionId id : order) out.push_back(std::move(blocks[id]));
    return out;
}

std::vector<std::string> journal_blocks(SessionTable& table, const TableJournal& journal) {
    std::unordered_map<SessionId, size_t> index;  // session -> its block in out
    std::vector<std::string> out;
    auto block = [&](SessionId id) -> std::string& {
        const auto [it, inserted] = index.emplace(id, out.size());
        if (inserted) out.push_back(session_line(table.session(id)));
        return out[it->second];
    };
    for (SessionId id : journal.sessions)
        if (table.session(id).in_use) block(id);
    for (const FlowKey& k : journal.flows)
        if (const FlowEntry* f = table.find_flow(k); f && table.session(f->session).in_use)
            block(f->session) += flow_line(k, *f);
    return out;
}

std::vector<std::string> split_block(const std::string& block, size_t max_bytes) {
    if (block.size() <= max_bytes) return {block};
    std::vector<std::string_view> lines;
    for (std::string_view rest = block; !rest.empty();) {
        const size_t end = std::min(rest.find('\n') + 1, rest.size());  // npos + 1 == 0
        lines.push_back(rest.substr(0, end ? end : rest.size()));
        rest.remove_prefix(lines.back().size());
    }
    const std::string head(lines[0]);
    const std::string anchor = lines.size() > 1 ? std::string(lines[1]) : std::string();
    std::vector<std::string> out{head};
    for (size_t i = 1; i < lines.size(); ++i) {
        if (out.back().size() + lines[i].size() > max_bytes && out.back().size() > head.size() + anchor.size())
            out.push_back(head + anchor);
        out.back() += lines[i];
    }
    return out;
}

RecordsApplied apply_records(std::string_view text, SessionTable& table, size_t first_line) {
    RecordsApplied applied;
    std::optional<SessionRecord> session;
    std::vector<FlowRecord> flows;
    auto flush = [&] {
        if (session) (void)apply_block(*session, flows, table, applied);
        session.reset();
        flows.clear();
    };
    size_t line_number = first_line - 1;
    while (!text.empty()) {
        const size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        if (line.ends_with('\r')) line.remove_suffix(1);  // CRLF files read as LF
        text.remove_prefix(std::min(end + 1, text.size()));
        ++line_number;
        bool ok = false;
        if (line.starts_with("S ")) {
            flush();
            session = parse_session(Fields(line.substr(2)));
            ok = session.has_value();
        } else if (line.starts_with("F ") && session) {
            const auto flow = parse_flow(Fields(line.substr(2)));
            if (flow) flows.push_back(*flow);
            ok = flow.has_value();
        }
        if (!ok) {
            session.reset();  // a block with a bad line is not applied
            applied.error = "line " + std::to_string(line_number) + ": malformed record";
            return applied;
        }
    }
    flush();
    return applied;
}

}  // namespace sara
