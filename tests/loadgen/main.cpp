// SPDX-License-Identifier: GPL-2.0-or-later
// sip-loadgen: a SIP call generator (uac) and its stateless answering counterpart (uas) for
// make bench-sip and the integration tests; see uac.hpp, uas.hpp and docs/architecture.md.
#include <cstdio>
#include <string>
#include <vector>

#include "tests/loadgen/options.hpp"

namespace {

template <class Options>
int run_role(const std::vector<std::string>& args,
             std::string (*parse)(const std::vector<std::string>&, Options&), int (*run)(const Options&)) {
    Options o;
    const std::string err = parse(args, o);
    if (!err.empty()) {
        std::fprintf(stderr, "sip-loadgen: %s\n%s", err.c_str(), sara::loadgen::kUsage);
        return 2;
    }
    return run(o);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace sara::loadgen;
    const std::vector<std::string> args(argv + (argc > 1 ? 2 : 1), argv + argc);
    const std::string role = argc > 1 ? argv[1] : "";
    if (role == "uac") return run_role<UacOptions>(args, parse_uac_options, run_uac);
    if (role == "uas") return run_role<UasOptions>(args, parse_uas_options, run_uas);
    std::fprintf(stderr, "%s", kUsage);
    return 2;
}
