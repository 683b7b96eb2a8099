// SPDX-License-Identifier: GPL-2.0-or-later
// SA2C, the paper's admission control (DESIGN §5). Pure logic: the owner calls update() every
// admission.interval with the loads and asks per new session; time and randomness come in
// (Clock, Random), so tests pin every equation with hand-computed values. The equations
// themselves are in sa2c_equations.hpp.
#pragma once

#include <cstdint>
#include <span>

#include "common/config/dispatcher_config.hpp"
#include "common/util/clock.hpp"
#include "common/util/random.hpp"
#include "daemon/admit/admission.hpp"
#include "daemon/admit/sa2c_equations.hpp"
#include "daemon/schedule/load_forecaster.hpp"

namespace sara {

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

// SA2C. Each update(): l_c (eq. 1) and the head load give measured = max(l, l_c); the
// forecaster (window T) turns it into m; eq. 4 moves t2/t3; eq. 2 gives p_new at m and
// p_established at min(m, measured).
//
// Why p_established does not follow the forecast alone (DESIGN §5 says decisions use m): the
// linear forecast overshoots every step in the load (samples 0.09, 0.09, 0.9, 0.9 forecast
// 1.3), and degrading established flows for one such interval broke every call in progress in
// the real overload run (tests/overload: m 0.969 while the nodes reported the most they can,
// 0.9; 16 of 79 admitted calls failed). Refusing a new session on a forecast costs a 503 with
// Retry-After; dropping an established session's datagrams on one costs the session, which is
// what SARA exists to protect. So the forecast refuses, and only a load that is there degrades.
//
// Order of eq. 4 and eq. 2: the thresholds move first and this interval's p uses the moved ones.
// Eq. 4 exists to react faster to persistent overload, so it should not wait an interval; and as
// eq. 4 only lowers t2 when m > t2 (p_new is 1 either way) and t3 when m > t3, moving first
// changes p_new only on later intervals (hysteresis on the way down) and makes p_established
// rise sooner once m passes t3.
//
// drop_mode random: a new session is rejected iff random.uniform() < p_new. uniform() is only
// drawn when 0 < p_new < 1 (p_new 0 admits, 1 rejects, without a draw).
//
// drop_mode paced (eq. 3, T_{i+1} = (1 − p)·T_i), read as "one rejection per interval T_i":
//   - T_0 = admission.interval. The update() at which p_new turns > 0 starts the pacing: the
//     first rejection is due T_0 later (clock.now() of that update + T_0).
//   - The first new session at or after the due time is rejected; then T shrinks to
//     (1 − p_new)·T with the p_new of that moment, and the next rejection is due T after this
//     rejection (not after the due time: a quiet spell does not bank rejections for later).
//   - p_new == 1 rejects every session and leaves the pacing schedule as it was.
//   - The update() at which p_new is back to 0 stops the pacing and resets T to T_0.
//   The rejection rate is 1/T_i whatever the arrival rate, so at the onset of overload it sheds
//   about 1/(rate·T_0) of the sessions (far below p_new when the rate is high); T_i shrinks
//   geometrically, so after about T_0/p_new of sustained overload every session is rejected.
//   "random" (the default) sheds the fraction p_new from the first interval.
//
// Not thread-safe: the owner calls update() and admit_new_session() from one thread (or under
// its own lock).
class Sa2cAdmission final : public AdmissionControl {
public:
    // `window`: the forecast window T (scheduler.window). clock/random must outlive it.
    Sa2cAdmission(const AdmissionConfig& config, uint32_t window, const Clock& clock, Random& random);

    // Every admission.interval: the loads of the available nodes (l_j in [0, 1]; empty: no
    // node available, cluster load 1) and the dispatcher's own head load in [0, 1]. Loads
    // outside [0, 1] are clamped and NaN reads as 0 (sanitize_load).
    void update(std::span<const double> node_loads, double head_load);

    bool admit_new_session() override;
    double established_drop_probability() const override;
    bool drop_established_packet() override;
    const AdmissionState& state() const { return state_; }
    uint64_t updates() const { return updates_; }
    // A reload's settings: the thresholds restart from the configured ones (eq. 4's reset),
    // the forecast keeps its samples unless the window changed.
    void reconfigure(const AdmissionConfig& config, uint32_t window);

private:
    bool paced_admit();  // drop_mode paced, 0 < p_new < 1
    void set_pacing_interval(double nanoseconds);

    AdmissionConfig config_;
    AdmissionThresholds configured_;  // from config_, what eq. 4 resets to
    AdmissionThresholds thresholds_;  // the moving ones (t1 and capacity never move)
    const Clock& clock_;
    Random& random_;
    LoadForecaster forecast_;  // of max(l, l_c)
    AdmissionState state_;
    uint64_t updates_ = 0;
    // Paced mode (eq. 3): active while p_new > 0; T_i in nanoseconds as a double so the
    // (1 − p) products are not rounded at every step, only when a due time is set.
    bool pacing_ = false;
    double pacing_interval_ns_ = 0;
    MonoTime next_rejection_{0};
};

}  // namespace sara
