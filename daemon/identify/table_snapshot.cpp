#include "daemon/identify/table_snapshot.hpp"

#include <istream>
#include <ostream>
#include <sstream>
#include <unordered_map>

namespace sara {
namespace {

constexpr const char* kMagic = "sara-snapshot 1";

template <typename Enum>
bool read_enum(std::istream& in, Enum& out, int max) {
    int v = -1;
    if (!(in >> v) || v < 0 || v > max) return false;
    out = static_cast<Enum>(v);
    return true;
}

}  // namespace

void write_snapshot(const SessionTable& table, std::ostream& out) {
    out << kMagic << "\n";
    std::unordered_map<SessionId, size_t> record;
    table.for_each_session([&](SessionId id, const Session& s) {
        record[id] = record.size();
        out << "S " << int(s.protocol) << ' ' << int(s.state) << ' ' << s.node << ' ' << int(s.service) << ' '
            << int(s.confirmed) << ' ' << (s.key.empty() ? "-" : s.key) << "\n";
    });
    table.for_each_flow([&](const FlowKey& k, const FlowEntry& e) {
        const auto it = record.find(e.session);
        if (it == record.end()) return;
        out << "F " << it->second << ' ' << int(k.proto) << ' ' << k.src.to_string() << ' ' << k.src_port << ' '
            << k.dst.to_string() << ' ' << k.dst_port << ' ' << int(e.identity) << ' ' << int(e.status) << "\n";
    });
}

SnapshotLoad read_snapshot(std::istream& in, SessionTable& table) {
    SnapshotLoad result;
    std::string line;
    if (!std::getline(in, line) || line != kMagic) {
        result.error = "not a sarad snapshot (version 1)";
        return result;
    }
    std::vector<SessionId> ids;  // record number -> id in this table
    size_t line_number = 1;
    while (std::getline(in, line)) {
        ++line_number;
        std::istringstream fields(line);
        std::string tag;
        fields >> tag;
        bool ok = false;
        if (tag == "S") {
            ServiceProtocol protocol = ServiceProtocol::plain;
            SessionState state = SessionState::active;
            unsigned node = 0, service = 0, confirmed = 0;
            std::string key;
            ok = read_enum(fields, protocol, 2) && read_enum(fields, state, 2) && (fields >> node >> service >> confirmed >> key) &&
                 node <= 0xffff && service <= 0xff;
            if (ok) {
                if (key == "-") key.clear();
                const SessionId id = table.create_session(protocol, key, uint8_t(service));
                if (id != kNoSession) {
                    Session& s = table.session(id);
                    s.state = state;
                    s.node = NodeId(node);
                    s.confirmed = confirmed != 0;
                    ++result.sessions;
                }
                ids.push_back(id);  // kNoSession when refused: its flows are skipped
            }
        } else if (tag == "F") {
            size_t record = 0;
            unsigned proto = 0, sport = 0, dport = 0;
            std::string src, dst;
            FlowIdentity identity = FlowIdentity::signalling;
            FlowStatus status = FlowStatus::fresh;
            ok = (fields >> record >> proto >> src >> sport >> dst >> dport) && read_enum(fields, identity, 2) &&
                 read_enum(fields, status, 2) && record < ids.size() && (proto == 6 || proto == 17) &&
                 sport <= 0xffff && dport <= 0xffff;
            const auto s = IpAddress::parse(src), d = IpAddress::parse(dst);
            ok = ok && s && d && s->family == d->family;
            if (ok && ids[record] != kNoSession) {
                const FlowKey key{*s, *d, uint16_t(sport), uint16_t(dport), static_cast<IpProto>(proto)};
                if (FlowEntry* f = table.add_flow(key, ids[record], identity)) {
                    f->status = status;
                    ++result.flows;
                }
            }
        }
        if (!ok) {
            result.error = "line " + std::to_string(line_number) + ": malformed record";
            return result;
        }
    }
    return result;
}

}  // namespace sara
