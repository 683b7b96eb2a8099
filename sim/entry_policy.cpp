// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim/entry_policy.hpp"

#include <algorithm>

#include "daemon/admit/sa2c.hpp"
#include "daemon/admit/sa2c_equations.hpp"

namespace sara::sim {
namespace {

class Sa2cPolicy final : public EntryPolicy {
public:
    Sa2cPolicy(const SimOptions& o, const Clock& clock, Random& random)
        : admission_(o.admission_config, o.scheduler_config.window, clock, random) {}
    void update(std::span<const double> loads, double head) override { admission_.update(loads, head); }
    bool admit_new() override { return admission_.admit_new_session(); }
    double new_drop_probability() const override { return admission_.state().p_new; }
    double established_drop_probability() const override { return admission_.established_drop_probability(); }
    double decision_load() const override { return admission_.state().m; }

private:
    Sa2cAdmission admission_;
};

class AdmitAllPolicy final : public EntryPolicy {
public:
    void update(std::span<const double>, double) override {}
    bool admit_new() override { return admit_all_.admit_new_session(); }

private:
    AdmitAll admit_all_;
};

class ObliviousPolicy final : public EntryPolicy {
public:
    ObliviousPolicy(const SimOptions& o, Random& random)
        : alpha_(o.admission_config.alpha),
          thresholds_{o.admission_config.t1, o.admission_config.t2, o.admission_config.t3,
                      o.admission_config.capacity},
          random_(random) {}
    void update(std::span<const double> loads, double head) override {
        m_ = std::max(head, cluster_load(loads, alpha_));
        p_ = drop_probabilities(m_, thresholds_).new_session;
    }
    // A new session whose first packets are dropped never starts.
    bool admit_new() override { return p_ <= 0 || random_.uniform() >= p_; }
    double established_loss_per_interval() const override { return p_; }
    double new_drop_probability() const override { return p_; }
    double decision_load() const override { return m_; }

private:
    double alpha_;
    AdmissionThresholds thresholds_;
    Random& random_;
    double m_ = 0;
    double p_ = 0;
};

}  // namespace

std::unique_ptr<EntryPolicy> make_entry_policy(const SimOptions& options, const Clock& clock, Random& random) {
    switch (options.admission) {
    case AdmissionMode::sa2c: return std::make_unique<Sa2cPolicy>(options, clock, random);
    case AdmissionMode::none: return std::make_unique<AdmitAllPolicy>();
    case AdmissionMode::oblivious: return std::make_unique<ObliviousPolicy>(options, random);
    }
    return nullptr;
}

}  // namespace sara::sim
