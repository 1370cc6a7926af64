"""The age shape of the local mortality level (forecast.defaults.mortality.age_shaped_levels): the
local differential fades to the national level at the oldest ages, and the deaths the level
was measured as are kept. Each test states the identity it checks."""

from __future__ import annotations

import numpy as np

from forecast.defaults import assumptions, census
from forecast.defaults.census_base import base_population
from forecast.defaults.mortality import (
    LEVEL_FADE_AGES,
    age_shaped_levels,
    census_consistent_mx,
    level_fade_weights,
)


def test_weights_fall_from_one_to_zero_over_the_fade_ages():
    start, stop = LEVEL_FADE_AGES
    weights = level_fade_weights()
    assert (weights[:start + 1] == 1.0).all()
    assert (weights[stop:] == 0.0).all()
    assert (np.diff(weights) <= 0).all()
    assert (level_fade_weights((100, 101))[:101] == 1.0).all()  # no fade: the flat factor


def test_shaped_levels_keep_the_deaths_at_the_base_population():
    """Σ_x factor(x) m(x) P(x) = k Σ_x m(x) P(x) for each unit and sex (the level k is a death
    count relative to the national schedule: registered deaths or the 2010 census's), and the
    oldest ages get the national rate: factor(x ≥ 100) = 1."""
    population = base_population(["530900", "500113", census.NATIONAL_ID], 2020)
    mx = census_consistent_mx(np.array([2019]))[0]
    levels = np.array([[1.3, 1.2], [0.8, 0.85], [1.0, 1.0]])
    shaped = age_shaped_levels(levels, population, mx)
    np.testing.assert_allclose((shaped * mx * population).sum(axis=-1),
                               levels * (mx * population).sum(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(shaped[..., 100], 1.0)
    np.testing.assert_allclose(shaped[2], 1.0)  # the nation: no differential to shape
    assert (shaped[0, :, 60] > levels[0]).all() and (shaped[1, :, 60] < levels[1]).all()


def test_defaults_use_the_shaped_level_at_old_ages():
    """A unit's default mx at 100+ is the national schedule's (its k reaches only younger
    ages); without the fade it would be k × national at every age."""
    unit = census.resolve_unit("530900")
    defaults = assumptions.build_defaults([unit], 2020, 2022)
    national = census_consistent_mx(defaults.settings.step_years)
    np.testing.assert_allclose(defaults.mx[0, :, :, 100], national[:, :, 100], rtol=1e-12)
    k = np.array(defaults.provenance[0]["mortality"]["level_factor_k"])
    assert not np.allclose(k, 1.0, atol=0.02)
    ratio = defaults.mx[0, 0, :, 50] / national[0, :, 50]
    assert ((ratio - 1) * (k - 1) > 0).all() and (abs(ratio - 1) >= abs(k - 1) - 1e-3).all()
