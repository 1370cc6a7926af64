"""forecast.demography.indicators: the one definition of the age bands, summary indicators and the
rate <-> count conversion, checked against hand counts and against every other table that
shows them."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.demography.engine import project
from forecast.demography.indicators import (
    AGE_BANDS,
    count_from_rate,
    population_indicators,
    rate_from_count,
    summary_indicators,
)
from forecast.vocabulary import N_AGES


def _by_age() -> np.ndarray:
    """Two years; year 0 holds one person at each age 0..100, year 1 two at each age."""
    return np.stack([np.ones(N_AGES), 2 * np.ones(N_AGES)])


def test_bands_count_the_ages_they_name():
    """One person at each age: 0–2 holds 3, 3–5 holds 3, 0–14 holds 15, 15–64 holds 50, 60+
    holds 41 (60..100), 65+ 36, 80+ 21; total 101; share 60+ = 41/101; dependency ratios
    (UN definition, per 100 aged 15–64): child 15/50×100 = 30, old 36/50×100 = 72, total 102."""
    out = population_indicators(_by_age())
    expected = {"total": 101, "pop_0_2": 3, "pop_3_5": 3, "pop_0_14": 15, "pop_15_64": 50,
                "pop_60plus": 41, "pop_65plus": 36, "pop_80plus": 21}
    assert set(AGE_BANDS) | {"total"} == set(expected)
    for name, persons in expected.items():
        np.testing.assert_array_equal(out[name], [persons, 2 * persons], err_msg=name)
    np.testing.assert_allclose(out["share_60plus"], [41 / 101] * 2)
    np.testing.assert_allclose(out["child_dependency"], [30.0] * 2)
    np.testing.assert_allclose(out["old_dependency"], [72.0] * 2)
    np.testing.assert_allclose(out["total_dependency"], [102.0] * 2)


def test_rate_and_count_are_inverse_and_per_1000():
    """35 beds per 1,000 aged 60+ with 668,603 aged 60+ (Honghe 2020) is 23,401.105 beds, and
    back; coverage (per 1) keeps the count."""
    assert count_from_rate(35.0, 668_603.0) == pytest.approx(23_401.105)
    assert rate_from_count(23_401.105, 668_603.0) == pytest.approx(35.0)
    assert count_from_rate(0.045, 1000.0, per=1.0) == pytest.approx(45.0)


def test_every_summary_table_uses_these_definitions():
    """summary.csv's indicators (forecast.pipeline.run) and the probabilistic run's
    (forecast.pipeline.uncertainty.summary_arrays) equal summary_indicators bit for bit on a
    projection
    with a trajectory axis; births/deaths/migrants are NaN in the base year."""
    from forecast.pipeline.uncertainty import SUMMARY_INDICATORS, summary_arrays

    rng = np.random.default_rng(1)
    steps, n = 4, 3
    population = rng.uniform(100, 1000, (n, 2, N_AGES))
    survival = np.full((steps, 2, N_AGES), 0.99)
    asfr = np.zeros((steps, N_AGES))
    asfr[:, 20:35] = 0.1
    migrants = rng.normal(0, 5, (steps, n, 2, N_AGES))
    projection = project(population, survival, asfr, np.full(steps, 1.05), migrants)
    ours = summary_indicators(projection)
    theirs = summary_arrays(projection)
    assert set(ours) == set(SUMMARY_INDICATORS)
    for name in SUMMARY_INDICATORS:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    assert np.isnan(ours["births"][0]).all() and not np.isnan(ours["births"][1:]).any()
