// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <queue>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/random.hpp"
#include "daemon/schedule/scheduler.hpp"
#include "sim/cluster_state.hpp"
#include "sim/dispatcher_head.hpp"
#include "sim/entry_policy.hpp"
#include "sim/workload.hpp"

namespace sara::sim {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

// Independent streams from one seed (splitmix64 of seed and stream number), so that the
// workload does not shift when a scheduler or admission mode draws more or fewer numbers.
uint64_t stream_seed(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + (stream + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

enum class EventKind { arrival, session_end, load_report, admission_tick, loss_tick, sample };

struct Event {
    double time_s;
    uint64_t order;        // ties run in the order they were scheduled
    EventKind kind;
    uint32_t target = 0;   // session slot (session_end) or node index (load_report)
    uint32_t generation = 0;
};

struct Later {
    bool operator()(const Event& a, const Event& b) const {
        return a.time_s != b.time_s ? a.time_s > b.time_s : a.order > b.order;
    }
};

class Simulation {
public:
    explicit Simulation(const SimOptions& options);
    SimResult run();

private:
    void schedule(double time_s, EventKind kind, uint32_t target = 0, uint32_t generation = 0);
    bool measuring() const { return now_ >= options_.warmup_s; }
    void set_time(double time_s);

    void on_arrival();
    void on_session_end(const Event& e);
    void on_load_report(uint32_t node);
    void on_admission_tick();
    void on_loss_tick();
    void on_sample();
    void on_overload_failure(uint32_t node);

    void fail(uint32_t slot, bool overload);
    void node_changed(uint32_t node);  // refreshes the scheduler's view and the node's hazard

    const SimOptions& options_;
    const double end_s_;
    ManualClock clock_;
    SeededRandom workload_random_;
    SeededRandom harm_random_;
    SeededRandom control_random_;
    Workload workload_;
    ClusterState cluster_;
    DispatcherHead head_;
    std::unique_ptr<EntryPolicy> policy_;
    std::unique_ptr<Scheduler> scheduler_;
    std::vector<NodeView> views_;
    std::vector<double> reported_;        // last reported load per node, what admission sees
    std::vector<bool> has_report_;
    std::vector<double> next_failure_s_;  // per node: next overload failure (kNever if none)
    double head_load_ = 0;
    std::priority_queue<Event, std::vector<Event>, Later> events_;
    uint64_t next_order_ = 0;
    double now_ = 0;

    SimResult result_;
    uint64_t samples_ = 0, balanced_samples_ = 0, report_changes_ = 0;
};

Simulation::Simulation(const SimOptions& options)
    : options_(options),
      end_s_(options.warmup_s + options.duration_s),
      workload_random_(stream_seed(options.seed, 0)),
      harm_random_(stream_seed(options.seed, 1)),
      control_random_(stream_seed(options.seed, 2)),
      workload_(options, workload_random_),
      cluster_(options.capacities),
      head_(options.decision_cost_s, std::chrono::duration<double>(options.admission_config.interval).count()),
      policy_(make_entry_policy(options, clock_, control_random_)),
      scheduler_(make_scheduler(options.scheduler_config, control_random_)),
      reported_(cluster_.node_count(), 0.0),
      has_report_(cluster_.node_count(), false),
      next_failure_s_(cluster_.node_count(), kNever) {
    for (size_t j = 0; j < cluster_.node_count(); ++j)
        views_.push_back(NodeView{NodeId(j + 1), uint32_t(std::max(1.0, std::round(cluster_.capacity(j)))), true, 0});
}

void Simulation::schedule(double time_s, EventKind kind, uint32_t target, uint32_t generation) {
    if (time_s <= end_s_) events_.push(Event{time_s, next_order_++, kind, target, generation});
}

void Simulation::set_time(double time_s) {
    now_ = time_s;
    clock_.set(std::chrono::duration_cast<MonoTime>(std::chrono::duration<double>(time_s)));
}

SimResult Simulation::run() {
    // Node agents are not synchronised: each reports at its own phase in (0, δ]. Everything
    // starts with one report of the empty cluster, so no scheduler starts without a load.
    const double delta = options_.report_interval_s;
    for (uint32_t j = 0; j < cluster_.node_count(); ++j) {
        on_load_report(j);
        schedule(delta * (1.0 - workload_random_.uniform()), EventKind::load_report, j);
    }
    on_admission_tick();
    schedule(delta, EventKind::loss_tick);
    schedule(options_.warmup_s, EventKind::sample);
    schedule(workload_.next_interarrival_s(), EventKind::arrival);

    while (true) {
        const auto fail_it = std::min_element(next_failure_s_.begin(), next_failure_s_.end());
        const double next_event = events_.empty() ? kNever : events_.top().time_s;
        if (*fail_it < next_event) {
            if (*fail_it > end_s_) break;
            set_time(*fail_it);
            on_overload_failure(uint32_t(fail_it - next_failure_s_.begin()));
            continue;
        }
        if (events_.empty()) break;
        const Event e = events_.top();
        events_.pop();
        set_time(e.time_s);
        switch (e.kind) {
        case EventKind::arrival: on_arrival(); break;
        case EventKind::session_end: on_session_end(e); break;
        case EventKind::load_report:
            on_load_report(e.target);
            schedule(now_ + options_.report_interval_s, EventKind::load_report, e.target);
            break;
        case EventKind::admission_tick: on_admission_tick(); break;
        case EventKind::loss_tick: on_loss_tick(); break;
        case EventKind::sample: on_sample(); break;
        }
    }

    SimResult r = result_;
    const auto average = [](double sum, uint64_t n) { return n ? sum / double(n) : 0.0; };
    r.imbalance = average(r.imbalance, balanced_samples_);
    r.mean_load = average(r.mean_load, samples_);
    r.overload_fraction = average(r.overload_fraction, samples_);
    r.head_load = average(r.head_load, samples_);
    r.head_demand = average(r.head_demand, samples_);
    r.decision_load = average(r.decision_load, samples_);
    r.p_new = average(r.p_new, samples_);
    r.p_established = average(r.p_established, samples_);
    r.oscillation = average(r.oscillation, report_changes_);
    return r;
}

void Simulation::on_arrival() {
    schedule(now_ + workload_.next_interarrival_s(), EventKind::arrival);
    const double holding = workload_.next_holding_s();
    const bool counted = measuring();
    if (counted) ++result_.arrivals;
    if (!head_.try_decide()) {
        if (counted) ++result_.head_lost;
        return;
    }
    if (!policy_->admit_new()) {
        if (counted) ++result_.rejected;
        return;
    }
    const NodeId id = scheduler_->pick(views_);
    if (id == kNoNode) {
        if (counted) ++result_.no_node;
        return;
    }
    const uint32_t node = uint32_t(id - 1);
    const uint32_t slot = cluster_.add(node, now_ + holding);
    schedule(now_ + holding, EventKind::session_end, slot, cluster_.session(slot).generation);
    if (counted) ++result_.admitted;
    node_changed(node);
}

void Simulation::on_session_end(const Event& e) {
    SimSession& s = cluster_.session(e.target);
    if (s.generation != e.generation) return;  // superseded: the session failed and left earlier
    if (!s.failed && measuring()) ++result_.completed;
    const uint32_t node = s.node;
    cluster_.remove(e.target);
    node_changed(node);
}

void Simulation::fail(uint32_t slot, bool overload) {
    cluster_.mark_failed(slot);
    if (measuring()) ++(overload ? result_.failed_overload : result_.failed_packet_loss);
    SimSession& s = cluster_.session(slot);
    const double leave = now_ + options_.fail_linger_s;
    if (leave < s.end_s) {
        s.end_s = leave;
        ++s.generation;
        schedule(leave, EventKind::session_end, slot, s.generation);
    }
}

void Simulation::on_overload_failure(uint32_t node) {
    const size_t healthy = cluster_.healthy_count(node);
    if (healthy > 0) fail(cluster_.healthy_session(node, harm_random_.below(healthy)), true);
    node_changed(node);
}

// Each healthy session on node j fails at rate K·max(0, L_j − F); the node's sessions together
// at K·max(0, L_j − F)·healthy_j. L_j is constant between events, so the next failure is
// exponential from now and is redrawn (memorylessly) at every change on the node.
void Simulation::node_changed(uint32_t node) {
    views_[node].sessions = cluster_.active(node);
    const double excess = cluster_.load(node) - options_.fail_above;
    const double rate = options_.fail_hazard * std::max(0.0, excess) * double(cluster_.healthy_count(node));
    next_failure_s_[node] = rate > 0 ? now_ + exponential_sample(harm_random_, rate) : kNever;
}

// The node agent's report: active/capacity, clamped to 1 like any utilisation it measures
// (and as Scheduler::on_load_report and Sa2cAdmission::update expect l_j in [0, 1]).
void Simulation::on_load_report(uint32_t node) {
    const double load = std::min(1.0, cluster_.load(node));
    if (has_report_[node] && measuring()) {
        result_.oscillation += std::fabs(load - reported_[node]);
        ++report_changes_;
    }
    reported_[node] = load;
    has_report_[node] = true;
    scheduler_->on_load_report(views_[node].id, load, cluster_.active(node));
}

void Simulation::on_admission_tick() {
    head_load_ = head_.close_interval();
    policy_->update(reported_, head_load_);
    schedule(now_ + std::chrono::duration<double>(options_.admission_config.interval).count(),
             EventKind::admission_tick);
}

// The oblivious dropper hits every established session alike: each healthy one loses a burst
// (and fails) with probability p once per report interval. Backwards, because a failure
// swap-removes the session from the healthy list.
void Simulation::on_loss_tick() {
    const double p = policy_->established_loss_per_interval();
    if (p > 0) {
        for (uint32_t j = 0; j < cluster_.node_count(); ++j) {
            for (size_t i = cluster_.healthy_count(j); i-- > 0;)
                if (harm_random_.uniform() < p) fail(cluster_.healthy_session(j, i), false);
            node_changed(j);
        }
    }
    schedule(now_ + options_.report_interval_s, EventKind::loss_tick);
}

void Simulation::on_sample() {
    double sum = 0, max = 0;
    bool overloaded = false;
    for (uint32_t j = 0; j < cluster_.node_count(); ++j) {
        const double l = cluster_.load(j);
        sum += l;
        max = std::max(max, l);
        overloaded = overloaded || l > options_.fail_above;
    }
    const double mean = sum / double(cluster_.node_count());
    if (mean > 0) {
        result_.imbalance += max / mean;
        ++balanced_samples_;
    }
    result_.mean_load += mean;
    result_.overload_fraction += overloaded ? 1 : 0;
    result_.head_load += head_load_;
    result_.head_demand += head_.last_demand();
    result_.decision_load += policy_->decision_load();
    result_.p_new += policy_->new_drop_probability();
    result_.p_established += policy_->established_drop_probability();
    ++samples_;
    schedule(now_ + options_.sample_interval_s, EventKind::sample);
}

}  // namespace

SimResult run_simulation(const SimOptions& options) { return Simulation(options).run(); }

}  // namespace sara::sim
