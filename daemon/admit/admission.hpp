// SPDX-License-Identifier: GPL-2.0-or-later
// Admission control (DESIGN §5): the interface the pipeline asks per new session, and AdmitAll.
// The paper's SA2C is Sa2cAdmission (daemon/admit/sa2c.hpp).
//
// The daemon applies the verdicts: a rejected new SIP/UDP session gets a stateless 503 with
// Retry-After from the VIP, a rejected new TCP session a RST or nothing (admission.tcp_reject),
// and while established_drop_probability() > 0 a `statistic` drop rule degrades offloaded
// flows in the kernel.
#pragma once

namespace sara {

class AdmissionControl {
public:
    virtual ~AdmissionControl() = default;
    // Called once per new session, before a node is picked.
    virtual bool admit_new_session() = 0;
    // Probability with which packets of established, offloaded flows are dropped (eq. 2's
    // last two rows); 0 when not degrading.
    virtual double established_drop_probability() const { return 0.0; }
    // For a queued packet of an established session (its signalling; its offloaded data is
    // degraded by the kernel rule): true = drop it, with established_drop_probability().
    virtual bool drop_established_packet() { return false; }
};

class AdmitAll final : public AdmissionControl {
public:
    bool admit_new_session() override { return true; }
};

}  // namespace sara
