// sarad's composition root: parses the command line and hands over to the mode asked for.
#include <iostream>
#include <string>
#include <vector>

#include "daemon/replay/replay.hpp"

namespace {

constexpr const char* kUsage =
    "usage: sarad replay --vip ADDR [--service PROTO/TRANSPORT/PORT ...] [--json] CAPTURE.pcap\n";

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "replay") {
        return sara::replay_main(std::vector<std::string>(args.begin() + 1, args.end()), std::cout, std::cerr);
    }
    std::cerr << kUsage;
    return 2;
}
