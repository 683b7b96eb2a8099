# SPDX-License-Identifier: GPL-2.0-or-later
"""Which call rate a mode and socket mode runs next in make bench-sip.

Doubling phase: the rates of the list, lowest first, until one fails. Then `refine` bisection
steps between the highest passed rate and the lowest failed one (geometric midpoint, two
significant digits), each a rate like any other. A rate passes when `reps` repetitions in a
row succeed; a failed repetition fails the rate at once (the next would not change that).
The result is the highest passed rate: every call succeeded at it, in every repetition.
"""
from __future__ import annotations

import math
from typing import Optional


def midpoint(lo: int, hi: int) -> Optional[int]:
    """sqrt(lo*hi) to two significant digits; None if nothing lies strictly between."""
    m = math.sqrt(lo * hi)
    step = 10 ** max(0, int(math.log10(m)) - 1)
    m = int(round(m / step) * step)
    return m if lo < m < hi else None


class Ramp:
    def __init__(self, rates: list, reps: int, refine: int):
        self.rates = sorted(rates)
        self.reps, self.refine_left = reps, refine
        self.passed: Optional[int] = None      # highest rate that passed
        self.failed: Optional[int] = None      # lowest rate that failed
        self.current: Optional[int] = self.rates[0]
        self.reps_done = 0
        self.how_it_ended = ""

    @property
    def done(self) -> bool:
        return self.current is None

    def record(self, ok: bool) -> None:
        """The outcome of one repetition at `current`."""
        if ok:
            self.reps_done += 1
            if self.reps_done < self.reps:
                return
            self.passed = self.current
        else:
            self.failed = self.current
        self.reps_done = 0
        self._advance()

    def _advance(self) -> None:
        if self.failed is None:                 # doubling phase, nothing failed yet
            higher = [r for r in self.rates if r > self.current]
            self.current = higher[0] if higher else None
            if self.current is None:
                self.how_it_ended = "passed every rate up to %d" % self.passed
            return
        if self.passed is None:
            self.current = None
            self.how_it_ended = "failed at the lowest rate, %d" % self.failed
            return
        mid = midpoint(self.passed, self.failed) if self.refine_left > 0 else None
        if mid is None:
            self.current = None
            self.how_it_ended = "passed %d, failed %d" % (self.passed, self.failed)
            return
        self.refine_left -= 1
        self.current = mid

    def stop(self, why: str) -> None:
        """No more runs (time budget): the result stands at what passed so far."""
        if self.current is not None:
            self.how_it_ended = "%s before %d (passed %s)" % (why, self.current, self.passed)
            self.current = None
