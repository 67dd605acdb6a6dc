"""Statistics for offline evaluation and A/B reports, in plain Python (no scipy on the product's machines).

- acceptance intervals for a proportion: Wilson score and exact Clopper-Pearson;
- the difference between two proportions: pooled two-proportion z-test and an unpooled Wald interval;
- the paired bootstrap confidence interval of a mean difference (two models scored on the same examples);
- the sample size per variant needed to detect a given difference in acceptance rate.

Every function validates its input and says which argument is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")


def _check_counts(successes: int, n: int, name: str = "successes") -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"{name} must satisfy 0 <= {name} <= n, got {name}={successes}, n={n}")


def z_quantile(confidence: float) -> float:
    """The two-sided standard normal quantile: 1.959964 for 0.95."""
    _check_confidence(confidence)
    return _NORMAL.inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when n is 0 (nothing is known)."""
    _check_counts(successes, n)
    if n == 0:
        return (0.0, 1.0)
    z = z_quantile(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 or n successes the bound is exactly 0 or 1; rounding would leave 1e-17.
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return (low, high)


def _binom_log_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed exactly in log space (fine for the n of a usage log)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return min(1.0, math.fsum(math.exp(_binom_log_pmf(i, n, p)) for i in range(k + 1)))


def _bisect(f, lo: float, hi: float, iterations: int = 200) -> float:
    """Root of an increasing function f on [lo, hi]."""
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval: the p whose binomial tails equal alpha/2 on each side."""
    _check_counts(successes, n)
    _check_confidence(confidence)
    if n == 0:
        return (0.0, 1.0)
    alpha = 1.0 - confidence
    k = successes
    # P(X >= k | p) grows with p; the lower bound is where it equals alpha/2.
    lower = 0.0 if k == 0 else _bisect(lambda p: (1.0 - binom_cdf(k - 1, n, p)) - alpha / 2, 0.0, 1.0)
    # P(X <= k | p) falls with p; the upper bound is where it equals alpha/2.
    upper = 1.0 if k == n else _bisect(lambda p: alpha / 2 - binom_cdf(k, n, p), 0.0, 1.0)
    return (lower, upper)


@dataclass(frozen=True)
class ProportionTest:
    """Two proportions compared: B minus A, a pooled z-test and an unpooled (Wald) interval of the difference."""

    p_a: float
    p_b: float
    difference: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float

    def to_json(self) -> dict[str, float]:
        return dict(self.__dict__)


def two_proportion_z_test(
    successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = 0.95
) -> ProportionTest:
    """Is B's rate different from A's? Two-sided pooled z-test; z = 0 and p = 1 when nothing varies."""
    _check_counts(successes_a, n_a, "successes_a")
    _check_counts(successes_b, n_b, "successes_b")
    if n_a == 0 or n_b == 0:
        raise ValueError(f"both variants need at least one trial, got n_a={n_a}, n_b={n_b}")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = p_b - p_a
    if se_pooled == 0.0:
        z, p_value = 0.0, 1.0
    else:
        z = diff / se_pooled
        p_value = 2.0 * (1.0 - _NORMAL.cdf(abs(z)))
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    half = z_quantile(confidence) * se
    return ProportionTest(p_a, p_b, diff, z, p_value, diff - half, diff + half)


def sample_size_two_proportions(p_a: float, p_b: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Suggestions needed per variant for a two-sided test at `alpha` to detect p_a vs p_b with `power`.

    n = (z_{1-alpha/2} sqrt(2 pbar qbar) + z_{power} sqrt(p_a q_a + p_b q_b))^2 / (p_a - p_b)^2, rounded up.
    """
    for name, value in (("p_a", p_a), ("p_b", p_b)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be a proportion in [0, 1], got {value}")
    if p_a == p_b:
        raise ValueError(f"p_a and p_b must differ to have an effect to detect, both are {p_a}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be strictly between 0 and 1, got {power}")
    z_alpha = _NORMAL.inv_cdf(1 - alpha / 2)
    z_power = _NORMAL.inv_cdf(power)
    pbar = (p_a + p_b) / 2
    numerator = z_alpha * math.sqrt(2 * pbar * (1 - pbar)) + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return math.ceil(numerator**2 / (p_a - p_b) ** 2)


@dataclass(frozen=True)
class BootstrapCI:
    """Mean of B - A over paired items, with a percentile bootstrap interval."""

    mean_difference: float
    ci_low: float
    ci_high: float
    confidence: float
    resamples: int
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.ci_low > 0.0 or self.ci_high < 0.0

    def to_json(self) -> dict[str, float | int | bool]:
        out = dict(self.__dict__)
        out["excludes_zero"] = self.excludes_zero
        return out


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not sorted_values:
        raise ValueError("percentile of an empty sequence")
    position = q * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] * (1 - weight) + sorted_values[upper] * weight


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (q in 0..100) with numpy's default interpolation."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q}")
    return _percentile(sorted(values), q / 100.0)


def paired_bootstrap_ci(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> BootstrapCI:
    """CI of mean(b - a) by resampling the paired differences with replacement (seeded, reproducible)."""
    _check_confidence(confidence)
    if len(a) != len(b):
        raise ValueError(f"paired samples must have the same length, got {len(a)} and {len(b)}")
    if not a:
        raise ValueError("paired bootstrap needs at least one pair")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    import numpy as np

    diffs = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    n = len(diffs)
    rng = np.random.default_rng(seed)
    means: list[float] = []
    # Chunks keep memory flat for large n (resamples x n indices).
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        means.extend(diffs[rng.integers(0, n, size=(rows, n))].mean(axis=1).tolist())
    means.sort()
    tail = (1.0 - confidence) / 2
    return BootstrapCI(
        mean_difference=float(diffs.mean()),
        ci_low=_percentile(means, tail),
        ci_high=_percentile(means, 1.0 - tail),
        confidence=confidence,
        resamples=resamples,
        n=n,
    )
