// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/admit/sa2c.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sara {

namespace {

AdmissionThresholds thresholds_of(const AdmissionConfig& config) {
    return {config.t1, config.t2, config.t3, config.capacity};
}

double interval_ns(const AdmissionConfig& config) {
    return double(std::chrono::duration_cast<MonoTime>(config.interval).count());
}

}  // namespace

Sa2cAdmission::Sa2cAdmission(const AdmissionConfig& config, uint32_t window, const Clock& clock,
                             Random& random)
    : config_(config),
      configured_(thresholds_of(config)),
      thresholds_(configured_),
      clock_(clock),
      random_(random),
      forecast_(window) {
    state_.t2 = thresholds_.t2;
    state_.t3 = thresholds_.t3;
    set_pacing_interval(interval_ns(config_));
}

void Sa2cAdmission::reconfigure(const AdmissionConfig& config, uint32_t window) {
    config_ = config;
    configured_ = thresholds_of(config);
    thresholds_ = configured_;
    state_.t2 = thresholds_.t2;
    state_.t3 = thresholds_.t3;
    if (window != forecast_.window()) forecast_ = LoadForecaster(window);
    pacing_ = false;
    set_pacing_interval(interval_ns(config_));
}

void Sa2cAdmission::set_pacing_interval(double nanoseconds) {
    pacing_interval_ns_ = std::max(0.0, nanoseconds);
    state_.pacing_interval_s = pacing_interval_ns_ / 1e9;
}

void Sa2cAdmission::update(std::span<const double> node_loads, double head_load) {
    state_.cluster_load = cluster_load(node_loads, config_.alpha);
    state_.head_load = sanitize_load(head_load);
    state_.measured = std::max(state_.head_load, state_.cluster_load);
    forecast_.add(state_.measured);
    state_.m = forecast_.estimate();

    // eq. 4 before eq. 2: see the class comment.
    thresholds_ = move_thresholds(thresholds_, configured_, state_.m);
    const DropProbabilities p = drop_probabilities(state_.m, thresholds_);
    state_.t2 = thresholds_.t2;
    state_.t3 = thresholds_.t3;
    state_.p_new = p.new_session;
    // Established flows are degraded only for a load that is there now: the forecast may
    // refuse a new session (a 503 with Retry-After, cheap to get wrong), but a forecast that
    // overshoots a step must not break calls in progress (see the class comment).
    state_.p_established = drop_probabilities(std::min(state_.m, state_.measured), thresholds_).established;

    if (state_.p_new <= 0) {
        pacing_ = false;
        set_pacing_interval(interval_ns(config_));
    } else if (!pacing_) {
        pacing_ = true;
        set_pacing_interval(interval_ns(config_));
        next_rejection_ = clock_.now() + MonoTime(std::llround(pacing_interval_ns_));
    }
    ++updates_;
}

bool Sa2cAdmission::admit_new_session() {
    const double p = state_.p_new;
    if (p <= 0) return true;
    if (p >= 1) return false;
    if (config_.drop_mode == DropMode::paced) return paced_admit();
    return !(random_.uniform() < p);
}

bool Sa2cAdmission::paced_admit() {
    const MonoTime now = clock_.now();
    if (now < next_rejection_) return true;
    set_pacing_interval((1 - state_.p_new) * pacing_interval_ns_);  // eq. 3
    next_rejection_ = now + MonoTime(std::llround(pacing_interval_ns_));
    return false;
}

double Sa2cAdmission::established_drop_probability() const { return state_.p_established; }

bool Sa2cAdmission::drop_established_packet() {
    // Like random mode: no draw at 0 or 1.
    if (state_.p_established <= 0) return false;
    if (state_.p_established >= 1) return true;
    return random_.uniform() < state_.p_established;
}

}  // namespace sara
