// SPDX-License-Identifier: GPL-2.0-or-later
// The stateless equations of SA2C (DESIGN §5): eq. 2 (drop probabilities) and eq. 4 (moving
// thresholds); eq. 1 is cluster_load() below. Sa2cAdmission keeps the state and
// calls these, so tests pin each equation alone, without the forecaster in between.
#pragma once

#include <span>

namespace sara {

// The thresholds of eq. 2, as fractions of capacity. The config loader guarantees
// t1 <= t2 <= t3 <= capacity and capacity > 0; the functions below never divide by zero and
// return probabilities in [0, 1] even when that does not hold.
struct AdmissionThresholds {
    double t1 = 0, t2 = 0, t3 = 0, capacity = 1;
};

struct DropProbabilities {
    double new_session = 0;  // p of eq. 2 for a new session
    double established = 0;  // p of eq. 2 for a datagram of an established session
};

// A load sample as eq. 1 and the head load take it: NaN reads as 0 (a malformed report must not
// turn every comparison false), the rest is clamped to [0, 1] (loads are fractions; +inf is 1).
double sanitize_load(double load);

// eq. 1: α·mean + (1 − α)·variance (population variance) of `loads`; 1 when empty.
double cluster_load(std::span<const double> loads, double alpha);

// eq. 2, monotone form (DESIGN §5 table), at the forecast load m. NaN m reads as 0.
// Rows are tested in this order, which settles every tie between coinciding thresholds:
//   m >= capacity          -> (1, 1)   first: at capacity everything is dropped, even when
//                                       t3 (or t1, t2) equals capacity
//   m <= t1                -> (0, 0)
//   t1 < m <= t2           -> ((m - t1) / (t2 - t1), 0)
//   t2 < m <= t3           -> (1, 0)
//   t3 < m < capacity      -> (1, (m - t3) / (capacity - t3))
// A ramp row only matches when its interval is non-empty, so its denominator is > 0: with
// t1 == t2 the new-session probability steps from 0 (m = t1) to 1 (m just above), with
// t3 == capacity the established one steps from 0 (m <= t3) to 1 (m >= capacity).
DropProbabilities drop_probabilities(double m, const AdmissionThresholds& thresholds);

// eq. 4, one interval at the forecast load m (NaN reads as 0):
//   m <= t1: back to `configured`;
//   else     t2' = max(t1, t2 - max(0, m - t2)),  t3' = max(T2, t3 * (1 - max(0, m - t3))),
// where T2 is the CONFIGURED t2 (DESIGN writes max(T2, ...) and leaves open which T2). Floored
// at the moving t2 instead, t3 falls to t1 after one forecast overshoot, and because SA2C
// itself holds m between t1 and t2 under sustained overload (the reset needs m <= t1), every
// established flow was then degraded with p = (m - t1)/(capacity - t1) for as long as the
// overload lasted: the real overload run (tests/overload) measured 39 of 80 admitted calls
// failed that way, more than with admission off. With the configured floor, established flows
// are degraded only above the load at which the cluster takes no new session at all.
// t1 <= t2' <= T2 <= t3' holds by construction. Neither threshold ever rises while m > t1;
// t1 and capacity never move.
AdmissionThresholds move_thresholds(const AdmissionThresholds& current,
                                    const AdmissionThresholds& configured, double m);

}  // namespace sara
