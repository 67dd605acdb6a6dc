"""zeta2_trainer.stats against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest

from zeta2_trainer import stats

Z95 = 1.959963984540054  # Phi^-1(0.975)


def test_z_quantile_is_the_two_sided_normal_quantile():
    assert stats.z_quantile(0.95) == pytest.approx(Z95, abs=1e-12)
    assert stats.z_quantile(0.90) == pytest.approx(1.6448536269514722, abs=1e-12)


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.959964: z^2 = 3.841459; denom = 1 + z^2/10 = 1.3841459
    # center = (0.8 + z^2/20) / denom = 0.9920729 / 1.3841459 = 0.7167402
    # half = z * sqrt(0.8*0.2/10 + z^2/400) / denom = 1.959964 * sqrt(0.016 + 0.0096036) / 1.3841459 = 0.2265777
    low, high = stats.wilson_interval(8, 10)
    assert low == pytest.approx(0.7167402 - 0.2265777, abs=1e-6)
    assert high == pytest.approx(0.7167402 + 0.2265777, abs=1e-6)
    # Wilson never leaves [0, 1], even at 0 and n successes, and is not degenerate there.
    assert stats.wilson_interval(0, 20)[0] == 0.0 and 0.0 < stats.wilson_interval(0, 20)[1] < 0.2
    assert stats.wilson_interval(20, 20)[1] == pytest.approx(1.0) and stats.wilson_interval(20, 20)[0] > 0.8
    assert stats.wilson_interval(0, 0) == (0.0, 1.0)


def test_clopper_pearson_closed_forms_at_the_edges():
    # k = 0: lower 0, upper solves (1-p)^n = alpha/2  ->  p = 1 - 0.025^(1/n)
    assert stats.clopper_pearson_interval(0, 10) == pytest.approx((0.0, 1 - 0.025 ** 0.1), abs=1e-9)
    # k = n: upper 1, lower solves p^n = alpha/2  ->  p = 0.025^(1/n)
    assert stats.clopper_pearson_interval(10, 10) == pytest.approx((0.025 ** 0.1, 1.0), abs=1e-9)
    # k = 1, n = 1 at 90%: lower = 0.05
    assert stats.clopper_pearson_interval(1, 1, confidence=0.90)[0] == pytest.approx(0.05, abs=1e-9)


def test_clopper_pearson_tails_equal_alpha_over_two():
    low, high = stats.clopper_pearson_interval(8, 10)
    # Published table value for 8/10: (0.4439, 0.9748).
    assert low == pytest.approx(0.4439, abs=1e-4)
    assert high == pytest.approx(0.9748, abs=1e-4)
    # By definition: P(X >= 8 | low) = 0.025 and P(X <= 8 | high) = 0.025, summed by hand from the pmf.
    upper_tail = sum(math.comb(10, i) * low**i * (1 - low) ** (10 - i) for i in range(8, 11))
    lower_tail = sum(math.comb(10, i) * high**i * (1 - high) ** (10 - i) for i in range(0, 9))
    assert upper_tail == pytest.approx(0.025, abs=1e-9)
    assert lower_tail == pytest.approx(0.025, abs=1e-9)
    # Exact intervals are wider than Wilson's.
    w_low, w_high = stats.wilson_interval(8, 10)
    assert low < w_low and high > w_high


def test_two_proportion_z_test_by_hand():
    # A: 45/100, B: 60/100. pooled p = 105/200 = 0.525; se = sqrt(0.525*0.475*(1/100+1/100)) = 0.0706222
    # z = 0.15 / 0.0706222 = 2.123977; two-sided p = 2 * (1 - Phi(2.123977)) = 0.033672
    result = stats.two_proportion_z_test(45, 100, 60, 100)
    assert result.difference == pytest.approx(0.15)
    assert result.z == pytest.approx(2.123977, abs=1e-6)
    assert result.p_value == pytest.approx(0.033672, abs=1e-6)
    # Unpooled interval: se = sqrt(0.45*0.55/100 + 0.6*0.4/100) = sqrt(0.004875) = 0.0698212
    se = math.sqrt(0.004875)
    assert result.ci_low == pytest.approx(0.15 - Z95 * se, abs=1e-9)
    assert result.ci_high == pytest.approx(0.15 + Z95 * se, abs=1e-9)
    # Swapping the variants flips the sign, not the p-value.
    swapped = stats.two_proportion_z_test(60, 100, 45, 100)
    assert swapped.z == pytest.approx(-result.z) and swapped.p_value == pytest.approx(result.p_value)


def test_two_proportion_z_test_without_variation():
    result = stats.two_proportion_z_test(0, 30, 0, 40)
    assert (result.z, result.p_value, result.difference) == (0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="n_a=0"):
        stats.two_proportion_z_test(0, 0, 1, 3)


def test_sample_size_by_hand():
    # p_a = 0.5, p_b = 0.6, alpha = 0.05, power = 0.8: pbar = 0.55
    # z_a * sqrt(2 * 0.55 * 0.45) = 1.959964 * 0.7035624 = 1.3789566
    # z_b * sqrt(0.25 + 0.24)     = 0.8416212 * 0.7       = 0.5891349
    # n = (1.9680915)^2 / 0.01 = 387.34 -> 388 per variant
    assert stats.sample_size_two_proportions(0.5, 0.6) == 388
    # Halving the effect roughly quadruples the need; the formula is symmetric in the two rates.
    assert stats.sample_size_two_proportions(0.5, 0.55) > 4 * 388 * 0.95
    assert stats.sample_size_two_proportions(0.6, 0.5) == 388
    with pytest.raises(ValueError, match="must differ"):
        stats.sample_size_two_proportions(0.3, 0.3)
    with pytest.raises(ValueError, match="power"):
        stats.sample_size_two_proportions(0.3, 0.4, power=1.0)


def test_paired_bootstrap_constant_difference_has_zero_width():
    ci = stats.paired_bootstrap_ci([1.0, 2.0, 3.0], [3.5, 4.5, 5.5], resamples=500)
    assert (ci.mean_difference, ci.ci_low, ci.ci_high) == pytest.approx((2.5, 2.5, 2.5))
    assert ci.excludes_zero


def test_paired_bootstrap_matches_the_binomial_spread():
    # Differences: 50 zeros and 50 ones. A resampled mean is Binomial(100, 0.5)/100, whose 95% range is
    # about 0.5 +- 1.96 * 0.05 = (0.402, 0.598).
    ci = stats.paired_bootstrap_ci([0.0] * 100, [0.0] * 50 + [1.0] * 50, resamples=4000, seed=1)
    assert ci.mean_difference == pytest.approx(0.5)
    assert ci.ci_low == pytest.approx(0.402, abs=0.025)
    assert ci.ci_high == pytest.approx(0.598, abs=0.025)
    # Seeded: the same seed gives the same interval.
    again = stats.paired_bootstrap_ci([0.0] * 100, [0.0] * 50 + [1.0] * 50, resamples=4000, seed=1)
    assert again == ci


def test_paired_bootstrap_interval_straddles_zero_for_noise():
    a = [float(i % 7) for i in range(60)]
    b = [float((i * 3) % 7) for i in range(60)]  # same values, shuffled: no real difference
    ci = stats.paired_bootstrap_ci(a, b, resamples=2000)
    assert ci.ci_low < 0.0 < ci.ci_high and not ci.excludes_zero


def test_bad_arguments_name_what_is_wrong():
    with pytest.raises(ValueError, match="same length"):
        stats.paired_bootstrap_ci([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(11, 10)
    with pytest.raises(ValueError, match="confidence"):
        stats.clopper_pearson_interval(1, 10, confidence=1.5)


def test_percentile_matches_numpy_linear_interpolation():
    numpy = pytest.importorskip("numpy")
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    for q in (0, 10, 50, 90, 100):
        assert stats.percentile(values, q) == pytest.approx(float(numpy.percentile(values, q)))
