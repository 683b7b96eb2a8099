// Admission control interface (DESIGN §5). The SA2C issue implements the paper's
// equations; until then the dispatcher admits every new session.
#pragma once

namespace sara {

class AdmissionControl {
public:
    virtual ~AdmissionControl() = default;
    // Called once per new session, before a node is picked.
    virtual bool admit_new_session() = 0;
};

class AdmitAll final : public AdmissionControl {
public:
    bool admit_new_session() override { return true; }
};

}  // namespace sara
