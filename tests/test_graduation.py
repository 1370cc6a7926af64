"""Tests for forecast.demography.graduation: age groups → single years 0..100+."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.demography.graduation import (
    aggregate,
    graduate,
    old_age_pattern_from_groups,
    stationary_old_age_pattern,
)
from forecast.errors import InputError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
UN_DIR = SHARED / "reference-data" / "un-ccmpp"
CENSUS_2020 = SHARED / "reference-data" / "leiii-census" / "census2020_age_sex_5yr_by_unit.csv"
CENSUS_STARTS = [0, 1, *range(5, 90, 5)]  # 0, 1-4, 5-9, ..., 80-84, 85+
CENSUS_LABELS = ["0", "1-4", *[f"{a}-{a + 4}" for a in range(5, 85, 5)], "85+"]


def random_census_counts(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Counts with a plausible but noisy age profile, persons, shape (..., 19)."""
    base = np.array([1.0, 4.0] + [5.0] * 16 + [3.0])
    return rng.gamma(2.0, 500.0, size=shape + (19,)) * base


def un_single_years(country: str, sex: str) -> np.ndarray:
    path = UN_DIR / country / "population.csv"
    if not path.exists():
        pytest.skip(f"UN reference data not found at {path}")
    table = pd.read_csv(path)
    return table[table.sex == sex].sort_values("age").population.to_numpy(float)


# --- identities: group totals, non-negativity, batching ---------------------------------

@pytest.mark.parametrize("method", ["spline", "pchip"])
def test_group_totals_preserved_for_random_counts(method):
    """aggregate(graduate(g)) == g for every group, to 1e-9 relative; the 0..100 sum too."""
    rng = np.random.default_rng(20201101)
    groups = random_census_counts(rng, (200, 2))
    single = graduate(groups, CENSUS_STARTS, method=method)
    assert single.shape == (200, 2, 101)
    regrouped = aggregate(single, CENSUS_STARTS)
    np.testing.assert_allclose(regrouped, groups, rtol=1e-9, atol=0)
    assert (single >= 0).all()


def test_age_zero_is_exact_and_total_preserved():
    rng = np.random.default_rng(1)
    groups = random_census_counts(rng, (50,))
    single = graduate(groups, CENSUS_STARTS)
    np.testing.assert_allclose(single[:, 0], groups[:, 0], rtol=1e-12)
    np.testing.assert_allclose(single.sum(axis=-1), groups.sum(axis=-1), rtol=1e-12)


def test_spiky_input_stays_non_negative_and_exact():
    """A group of zero next to a large one (a university or barracks county): a plain cubic
    spline of the cumulative would go negative; the result must not, and zero stays zero."""
    groups = np.full(19, 1000.0)
    groups[5] = 0.0        # 20-24 empty
    groups[6] = 80000.0    # 25-29 huge
    groups[10] = 0.0       # 45-49 empty
    groups[12] = 0.0       # 55-59 empty, next to...
    groups[13] = 50000.0   # 60-64 huge
    single = graduate(groups, CENSUS_STARTS)
    assert (single >= 0).all()
    np.testing.assert_allclose(aggregate(single, CENSUS_STARTS), groups, rtol=1e-12)
    assert (single[20:25] == 0).all() and (single[45:50] == 0).all()


def test_many_zero_groups_and_all_zero_row():
    groups = np.zeros((3, 19))
    groups[1, [0, 7, 18]] = [3.0, 1.0, 2.0]
    groups[2, 4] = 10.0
    single = graduate(groups, CENSUS_STARTS)
    assert (single >= 0).all()
    np.testing.assert_allclose(aggregate(single, CENSUS_STARTS), groups, atol=1e-12)
    assert (single[0] == 0).all()


def test_batched_equals_row_by_row():
    rng = np.random.default_rng(7)
    groups = random_census_counts(rng, (4, 2))
    groups[1, 0, 6] = 0.0  # one row takes the PCHIP fallback in a group
    patterns = np.stack([stationary_old_age_pattern(85, 100, growth_rate=r)
                         for r in (0.0, 0.03)])  # one per sex, broadcast over units
    batched = graduate(groups, CENSUS_STARTS, patterns)
    for unit in range(4):
        for sex in range(2):
            one = graduate(groups[unit, sex], CENSUS_STARTS, patterns[sex])
            np.testing.assert_allclose(batched[unit, sex], one, rtol=1e-12)


def test_open_group_spread_by_pattern():
    """Ages 85..100 are exactly open_count × pattern."""
    rng = np.random.default_rng(3)
    groups = random_census_counts(rng, ())
    pattern = old_age_pattern_from_groups(6127.5, 2182.0, 422.3, 32.8)
    single = graduate(groups, CENSUS_STARTS, pattern)
    np.testing.assert_allclose(single[85:], groups[-1] * pattern, rtol=1e-12)


def test_single_year_input_is_returned_unchanged_below_the_open_group():
    rng = np.random.default_rng(11)
    single_in = rng.gamma(2.0, 100.0, size=(2, 86))  # ages 0..84 and 85+
    out = graduate(single_in, list(range(86)))
    np.testing.assert_allclose(out[:, :85], single_in[:, :85], rtol=1e-9)
    np.testing.assert_allclose(out[:, 85:].sum(axis=-1), single_in[:, 85], rtol=1e-12)


def test_census_with_open_group_at_100_needs_no_pattern():
    starts = [0, 1, *range(5, 105, 5)]  # ..., 95-99, 100+
    rng = np.random.default_rng(5)
    groups = rng.gamma(2.0, 100.0, size=len(starts))
    single = graduate(groups, starts)
    assert single.shape == (101,)
    assert single[100] == groups[-1]
    np.testing.assert_allclose(aggregate(single, starts), groups, rtol=1e-9)


def test_open_group_above_open_age_is_summed():
    starts = [0, 1, *range(5, 110, 5)]  # open group 105+
    groups = np.linspace(1000.0, 10.0, len(starts))
    single = graduate(groups, starts, open_age=100)
    assert single.shape == (101,)
    np.testing.assert_allclose(single.sum(), groups.sum(), rtol=1e-12)
    np.testing.assert_allclose(single[100], groups[-2] + groups[-1], rtol=1e-9)


def test_aggregate_sums_groups():
    single = np.arange(101.0)
    groups = aggregate(single, CENSUS_STARTS)
    assert groups[0] == 0 and groups[1] == 1 + 2 + 3 + 4
    assert groups[-1] == sum(range(85, 101))
    assert groups.sum() == single.sum()


# --- old-age patterns -------------------------------------------------------------------

@pytest.mark.parametrize("method", ["log_survivors", "cumulative"])
def test_old_age_pattern_keeps_group_shares(method):
    """WPP 2024 China 2020 females, thousands: 85-89 6127.513, 90-94 2181.962, 95-99 422.299,
    100+ 32.832. Each group's share is kept and single years decline with age."""
    counts = [6127.513, 2181.962, 422.299, 32.832]
    pattern = old_age_pattern_from_groups(*counts, method=method)
    assert pattern.shape == (16,)
    shares = np.array(counts) / sum(counts)
    np.testing.assert_allclose(aggregate(pattern, [0, 5, 10, 15]), shares, rtol=1e-12)
    assert (np.diff(pattern[:15]) < 0).all()


def test_old_age_pattern_log_survivors_ratios_decline_steadily():
    """Gompertz-like: p(x+1)/p(x) falls with age over 85..99 (no kinks at 90 and 95)."""
    pattern = old_age_pattern_from_groups(3613.221, 935.439, 102.708, 1.824)  # WPP China M
    ratios = pattern[1:15] / pattern[:14]
    assert (np.diff(ratios) < 0.01).all()


def test_old_age_pattern_batched_by_sex():
    both = old_age_pattern_from_groups([3613.2, 6127.5], [935.4, 2182.0], [102.7, 422.3],
                                       [1.8, 32.8])
    assert both.shape == (2, 16)
    np.testing.assert_allclose(both[1], old_age_pattern_from_groups(6127.5, 2182.0, 422.3,
                                                                    32.8), rtol=1e-12)
    np.testing.assert_allclose(both.sum(axis=-1), 1.0, rtol=1e-12)


def test_stationary_pattern_is_gompertz_survivorship():
    """With hazard a·exp(b·u), the survivors l(u) = exp(−a/b (e^{bu} − 1)); at 100 (u = 15)
    the share 100+ equals ∫_15^∞ l / ∫_0^∞ l. Check the first ratio against the closed form
    L_86/L_85 ≈ l(1.5)/l(0.5) to 1 %."""
    pattern = stationary_old_age_pattern(85, 100, hazard_at_start=0.11, gompertz_slope=0.10)
    assert pattern.shape == (16,)
    np.testing.assert_allclose(pattern.sum(), 1.0, rtol=1e-12)
    survivors = lambda u: np.exp(-1.1 * np.expm1(0.10 * u))  # noqa: E731
    np.testing.assert_allclose(pattern[1] / pattern[0], survivors(1.5) / survivors(0.5),
                               rtol=0.01)
    growing = stationary_old_age_pattern(85, 100, growth_rate=0.03)
    assert growing[0] > pattern[0]  # growth puts more people at the young end


# --- real data --------------------------------------------------------------------------

def test_canada_1950_female_recovered_from_census_groups():
    """UN WPP 1950 Canada females, ages 0..100: summed into 0,1-4,...,80-84,85+ and graduated
    back (open-age pattern from the own 85-89..100+ totals) the single years come back within
    1 % at every age 5-79 and 0.3 % on average over 0-84 (measured: 0.55 % and 0.13 %;
    benchmarks/graduation_validation.py). PCHIP alone is measurably worse (2.8 % max)."""
    truth = un_single_years("canada", "female")
    groups = aggregate(truth, CENSUS_STARTS)
    old = truth[85:]
    pattern = old_age_pattern_from_groups(old[:5].sum(), old[5:10].sum(), old[10:15].sum(),
                                          old[15])
    single = graduate(groups, CENSUS_STARTS, pattern)
    relative = np.abs(single[:85] / truth[:85] - 1)
    assert single[0] == pytest.approx(truth[0], rel=1e-12)
    assert relative[5:80].max() < 0.01
    assert relative.mean() < 0.003
    monotone = graduate(groups, CENSUS_STARTS, pattern, method="pchip")
    assert np.abs(monotone[5:80] / truth[5:80] - 1).max() > 2 * relative[5:80].max()


def test_census_2020_all_units_totals_preserved():
    """Every unit of the 2020 county table (both sexes at once): totals by group preserved,
    never negative, age 0 exact."""
    if not CENSUS_2020.exists():
        pytest.skip(f"census table not found at {CENSUS_2020}")
    table = pd.read_csv(CENSUS_2020)
    groups = np.stack([table[[f"{s}_{label}" for label in CENSUS_LABELS]].to_numpy(float)
                       for s in "MF"], axis=1)
    groups = groups[~np.isnan(groups).any(axis=(1, 2))]  # units without age data
    assert groups.shape[0] > 3000
    single = graduate(groups, CENSUS_STARTS)
    assert (single >= 0).all()
    np.testing.assert_allclose(aggregate(single, CENSUS_STARTS), groups, rtol=1e-9)
    np.testing.assert_allclose(single[..., 0], groups[..., 0], rtol=1e-12)


# --- bad inputs -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("counts", "starts", "message"),
    [
        (np.r_[np.ones(18), -1.0], CENSUS_STARTS, "negative"),
        (np.r_[np.ones(18), np.nan], CENSUS_STARTS, "NaN"),
        (np.ones(18), CENSUS_STARTS, "group starts"),
        (np.ones(19), [1, *CENSUS_STARTS[1:]], "start at age 0"),
        (np.ones(19), [0, 5, 1, *CENSUS_STARTS[3:]], "increasing"),
        (np.ones(19), [0, 1, 1, *CENSUS_STARTS[3:]], "increasing"),
    ],
)
def test_bad_inputs_raise_input_error(counts, starts, message):
    with pytest.raises(InputError, match=message):
        graduate(counts, starts)


def test_bad_pattern_raises_input_error():
    counts = np.ones(19)
    with pytest.raises(InputError, match="needs 16"):
        graduate(counts, CENSUS_STARTS, np.full(15, 1 / 15))
    with pytest.raises(InputError, match="sum to 1"):
        graduate(counts, CENSUS_STARTS, np.full(16, 0.5))
    with pytest.raises(InputError, match="negative"):
        graduate(counts, CENSUS_STARTS, np.r_[1.5, -0.5, np.zeros(14)])
    with pytest.raises(InputError, match="unknown graduation method"):
        graduate(counts, CENSUS_STARTS, method="sprague")


def test_aggregate_rejects_group_beyond_ages():
    with pytest.raises(InputError, match="only ages"):
        aggregate(np.ones(50), CENSUS_STARTS)


def test_old_age_pattern_rejects_empty_85_plus():
    with pytest.raises(InputError, match="85\\+ total is zero"):
        old_age_pattern_from_groups(0, 0, 0, 0)
