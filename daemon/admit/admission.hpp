// Admission control (DESIGN §5, the paper's SA2C). Pure logic: the owner calls update() every
// admission.interval with the loads and asks per new session; time and randomness come in
// (Clock, Random), so tests pin every equation with hand-computed values.
//
// The daemon applies the verdicts: a rejected new SIP/UDP session gets a stateless 503 with
// Retry-After from the VIP, a rejected new TCP session a RST or nothing (admission.tcp_reject),
// and while established_drop_probability() > 0 a `statistic` drop rule degrades offloaded
// flows in the kernel.
#pragma once

#include <cstdint>
#include <span>

#include "common/config/dispatcher_config.hpp"
#include "common/util/clock.hpp"
#include "common/util/random.hpp"
#include "daemon/schedule/load_forecaster.hpp"

namespace sara {

class AdmissionControl {
public:
    virtual ~AdmissionControl() = default;
    // Called once per new session, before a node is picked.
    virtual bool admit_new_session() = 0;
    // Probability with which packets of established, offloaded flows are dropped (eq. 2's
    // last two rows); 0 when not degrading.
    virtual double established_drop_probability() const { return 0.0; }
};

class AdmitAll final : public AdmissionControl {
public:
    bool admit_new_session() override { return true; }
};

// What SA2C computed at its last update(), for `stats`, logs and the simulator.
struct AdmissionState {
    double cluster_load = 0;    // l_c, eq. 1
    double head_load = 0;       // l
    double measured = 0;        // max(l, l_c) as sampled
    double m = 0;               // the forecast of max(l, l_c) the decisions use (§5 step 3)
    double t2 = 0, t3 = 0;      // the moving thresholds (eq. 4)
    double p_new = 0;           // drop probability of a new session (eq. 2)
    double p_established = 0;   // drop probability of an established flow's datagram (eq. 2)
    double pacing_interval_s = 0;  // T_i of eq. 3 (paced mode), seconds
};

class Sa2cAdmission final : public AdmissionControl {
public:
    // `window`: the forecast window T (scheduler.window). clock/random must outlive it.
    Sa2cAdmission(const AdmissionConfig& config, uint32_t window, const Clock& clock, Random& random);

    // Every admission.interval: the loads of the available nodes (l_j in [0, 1]; empty: no
    // node available, cluster load 1) and the dispatcher's own head load in [0, 1].
    void update(std::span<const double> node_loads, double head_load);

    bool admit_new_session() override;
    double established_drop_probability() const override;
    const AdmissionState& state() const { return state_; }
    uint64_t updates() const { return updates_; }

private:
    // Private members are the implementer's choice; these are the expected ones.
    AdmissionConfig config_;
    const Clock& clock_;
    Random& random_;
    LoadForecaster forecast_;  // of max(l, l_c)
    AdmissionState state_;
    uint64_t updates_ = 0;
};

// eq. 1: α·mean + (1 − α)·variance (population variance) of `loads`; 1 when empty.
double cluster_load(std::span<const double> loads, double alpha);

}  // namespace sara
