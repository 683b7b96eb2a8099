// SPDX-License-Identifier: GPL-2.0-or-later
// sara-sim's composition root: parse the flags, run one simulated point, print it.
#include <iostream>
#include <string>
#include <vector>

#include "sim/sim_options.hpp"
#include "sim/sim_result.hpp"
#include "sim/simulation.hpp"

int main(int argc, char** argv) {
    using namespace sara::sim;
    const SimOptionsParse parsed = parse_sim_options(std::vector<std::string>(argv + 1, argv + argc));
    if (parsed.help) {
        std::cout << kSimUsage;
        return 0;
    }
    if (!parsed.errors.empty()) {
        for (const auto& e : parsed.errors) std::cerr << "sara-sim: " << e << '\n';
        std::cerr << kSimUsage;
        return 2;
    }
    const SimOptions& options = parsed.options;
    if (options.csv_header_only) {
        print_csv_header(std::cout);
        return 0;
    }
    const SimResult result = run_simulation(options);
    switch (options.output) {
    case OutputFormat::json: print_json(std::cout, options, result); break;
    case OutputFormat::csv: print_csv(std::cout, options, result); break;
    case OutputFormat::text: print_text(std::cout, options, result); break;
    }
    return 0;
}
