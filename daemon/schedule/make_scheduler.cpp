// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdio>
#include <cstdlib>

#include "daemon/schedule/least_loaded.hpp"
#include "daemon/schedule/round_robin.hpp"
#include "daemon/schedule/scheduler.hpp"
#include "daemon/schedule/shell.hpp"
#include "daemon/schedule/two_choices.hpp"
#include "daemon/schedule/weighted_round_robin.hpp"

namespace sara {

std::unique_ptr<Scheduler> make_scheduler(const SchedulerConfig& config, Random& random) {
    switch (config.algorithm) {
    case SchedulerAlgorithm::shell: return std::make_unique<ShellScheduler>(config.window);
    case SchedulerAlgorithm::round_robin: return std::make_unique<RoundRobinScheduler>();
    case SchedulerAlgorithm::weighted_round_robin: return std::make_unique<WeightedRoundRobinScheduler>();
    case SchedulerAlgorithm::least_sessions: return std::make_unique<LeastSessionsScheduler>();
    case SchedulerAlgorithm::least_loaded: return std::make_unique<LeastLoadedScheduler>();
    case SchedulerAlgorithm::two_choices: return std::make_unique<TwoChoicesScheduler>(config.window, random);
    }
    // Only a value outside the enum gets here (the config loader never makes one).
    std::fprintf(stderr, "make_scheduler: unknown scheduler algorithm %d\n", int(config.algorithm));
    std::abort();
}

}  // namespace sara
