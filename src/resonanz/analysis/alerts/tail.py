"""Per-window statistics of the detector: the noise of the log ratio and the rarity of large scores.

``Noise`` learns how far the observation usually strays from the expectation beyond counting noise
(residuals beyond ``clip`` noise units are clipped, so one burst barely moves it). ``Tail`` then asks how rare a score is for
*this* series: Twitter-like series burst often, a support inbox rarely, and one fixed threshold would
either drown the first in alerts or miss everything in the second. Following the peaks-over-threshold
method of extreme value theory (as in Siffer et al., KDD 2017, with an exponential tail), it learns how
often the score exceeds ``tail_from`` and by how much on average; the rarity of a score ``z`` is then
``-log10(P(exceed) · exp(-(z - tail_from) / mean excess))``, so a rarity of 4 means "about once in
10,000 steps at this series' own burstiness". Both forget at a configured half-life.
"""

from __future__ import annotations

import math


class Noise:
    """Noise beyond chance, learned by the method of moments from clipped residuals.

    The residual's variance is ``sampling + var × scale``: the counting noise plus a learned extra part
    that grows with the volume (``scale``, the expected count) for counts and is constant for shares.
    """

    def __init__(self, rate: float, floor: float, clip: float, prior: float = 0.1) -> None:
        self.rate, self.floor, self.clip = rate, floor, clip
        self.var = max(prior, floor) ** 2
        self.n = 0.0

    def z(self, r: float, sampling_var: float, scale: float = 1.0) -> float:
        return r / math.sqrt(sampling_var + self.var * scale)

    def learn(self, r: float, sampling_var: float, scale: float = 1.0) -> None:
        limit = self.clip * math.sqrt(sampling_var + self.var * scale)
        dev = min(abs(r), limit)
        self.n += 1
        a = max(self.rate, 1 / (self.n + 4))  # the prior counts as four steps
        self.var = max(self.var + a * ((dev * dev - sampling_var) / scale - self.var), self.floor**2)

    def to_state(self) -> list[float]:
        return [self.var, self.n]

    def load_state(self, s: list) -> None:
        self.var, self.n = float(s[0]), float(s[1])


class Tail:
    """How rare a score is, from the exceedances over ``start`` seen so far (exponential tail).

    The mean excess is the maximum-likelihood estimate for an exponential tail (the mean of the
    exceedances), with the forgetting of the other statistics.
    """

    PRIOR_SHARE, PRIOR_STEPS = 0.01, 50.0      # before evidence: 1 step in 100 exceeds ...
    PRIOR_EXCESS, PRIOR_EXCEEDANCES = 1.0, 5.0  # ... by 1 on average (as if 5 had been seen)

    def __init__(self, start: float, rate: float) -> None:
        self.start, self.rate = start, rate
        self.share, self.n = self.PRIOR_SHARE, self.PRIOR_STEPS
        self.excess, self.n_excess = self.PRIOR_EXCESS, self.PRIOR_EXCEEDANCES

    def rarity(self, z: float) -> float:
        """-log10 of the probability of a score at least ``z`` (0 below the start of the tail)."""
        if z <= self.start:
            return 0.0
        return (-math.log(self.share) + (z - self.start) / self.excess) / math.log(10)

    def learn(self, z: float) -> None:
        self.n += 1
        over = z > self.start
        self.share = max(self.share + max(self.rate, 1 / self.n) * (over - self.share), 1e-6)
        if over:
            self.n_excess += 1
            a = min(max(self.rate / self.share, 1 / self.n_excess), 1.0)
            self.excess = max(self.excess + a * (z - self.start - self.excess), 0.05)

    def to_state(self) -> list[float]:
        return [self.share, self.n, self.excess, self.n_excess]

    def load_state(self, s: list) -> None:
        self.share, self.n, self.excess, self.n_excess = (float(v) for v in s)
