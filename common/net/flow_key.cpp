// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/flow_key.hpp"

namespace sara {

const char* to_string(IpProto proto) { return proto == IpProto::tcp ? "tcp" : "udp"; }

std::string FlowKey::to_string() const {
    return std::string(sara::to_string(proto)) + " " + format_endpoint(src, src_port) + " > " +
           format_endpoint(dst, dst_port);
}

}  // namespace sara
