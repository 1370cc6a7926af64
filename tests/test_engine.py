"""The projection step against Preston's Box 6.2, a hand calculation of the UN one-step
projection, and the demographic balancing equation on the UN WPP single-year inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.demography.engine import balance_residual, project, project_step
from forecast.demography.inputs import read_inputs


def test_preston_box_6_2_every_published_value(reference):
    """Sweden 1993 -> 1998, 5-year step, even migration, SRB 1.05 (Preston et al. 2001, Box 6.2):
    every expected value reproduced after rounding to whole persons."""
    box = pd.read_csv(reference / "preston-box-6-2" / "sweden_1993_5x5.csv")
    females = box.pop_female_1993.to_numpy()
    population = np.stack([females, females])
    survival = np.stack([box.survival_ratio_female.to_numpy()] * 2)
    migrants = np.stack([box.net_migrants_female.to_numpy()] * 2)
    step = project_step(population, survival, box.asfr.to_numpy(), 1.05, migrants,
                        age_width=5, migration_timing="even")
    np.testing.assert_array_equal(np.round(step.population[1]), box.pop_female_1998_expected)
    np.testing.assert_array_equal(np.round(step.population[0]), box.pop_male_1998_expected)
    np.testing.assert_array_equal(np.round(step.births_by_mother_age),
                                  box.births_by_mother_age_expected)


def _hand_step(pop, surv, asfr, srb, mig, timing):
    """The UN's project_ccmpp_z_by_z written out cell by cell for 4 ages (0, 1, 2, 3+), z = 1."""
    out = {}
    half = 0.5 if timing == "even" else 0.0
    start = {s: [pop[s][a] + half * mig[s][a] for a in range(4)] for s in (0, 1)}
    end = {}
    for s in (0, 1):
        e = [0.0] * 4
        e[1] = start[s][0] * surv[s][1] + half * mig[s][1]
        e[2] = start[s][1] * surv[s][2] + half * mig[s][2]
        e[3] = (start[s][2] + start[s][3]) * surv[s][3] + half * mig[s][3]
        end[s] = e
    births_by_age = [1 * asfr[a] * (start[1][a] + end[1][a]) / 2 for a in range(4)]
    births_by_age[0] = births_by_age[3] = 0.0
    births = sum(births_by_age)
    female_births = births / (1 + srb)
    male_births = births - female_births
    for s, b in ((0, male_births), (1, female_births)):
        end[s][0] = b * surv[s][0] + half * mig[s][0]
        if timing == "end":
            end[s] = [end[s][a] + mig[s][a] for a in range(4)]
    out["population"] = np.array([end[0], end[1]])
    out["births_by_mother_age"] = np.array(births_by_age)
    out["births"] = np.array([male_births, female_births])
    return out


@pytest.mark.parametrize("timing", ["end", "even"])
def test_step_equals_hand_calculation_of_un_one_step(timing):
    """For a small case the step equals the UN one-step projection written out by hand
    to 1e-12 relative (both migration timings)."""
    pop = [[1000.0, 950.0, 900.0, 700.0], [980.0, 940.0, 910.0, 820.0]]
    surv = [[0.99, 0.995, 0.98, 0.6], [0.992, 0.996, 0.985, 0.65]]
    asfr = [0.0, 0.4, 0.3, 0.1]
    mig = [[10.0, -20.0, 30.0, 5.0], [12.0, -8.0, 25.0, -3.0]]
    expected = _hand_step(pop, surv, asfr, 1.07, mig, timing)
    step = project_step(np.array(pop), np.array(surv), np.array(asfr), 1.07, np.array(mig),
                        migration_timing=timing)
    np.testing.assert_allclose(step.population, expected["population"], rtol=1e-12)
    np.testing.assert_allclose(step.births_by_mother_age, expected["births_by_mother_age"],
                               rtol=1e-12)
    np.testing.assert_allclose(step.births_by_sex, expected["births"], rtol=1e-12)
    assert step.clamped_cells == 0


def test_negative_cell_is_clamped_and_counted():
    """Emigration larger than a cohort sets the cell to zero and counts it; the balance still
    holds because the persons added are part of the migrants applied."""
    pop = np.array([[100.0, 50.0, 20.0], [100.0, 50.0, 20.0]])
    surv = np.full((2, 3), 0.9)
    mig = np.array([[0.0, -500.0, 0.0], [0.0, 0.0, 0.0]])
    step = project_step(pop, surv, np.zeros(3), 1.05, mig)
    assert step.population[0, 1] == 0.0
    assert step.clamped_cells == 1
    assert step.clamped_persons == pytest.approx(500.0 - 90.0)
    total_change = step.population.sum() - pop.sum()
    flows = step.births_by_sex.sum() - step.deaths.sum() + step.net_migrants_applied.sum()
    assert total_change == pytest.approx(flows, rel=1e-12)


@pytest.mark.parametrize("country", ["canada", "kuwait", "mexico"])
def test_un_inputs_balance_every_year(reference, country):
    """UN WPP single-year inputs 1950-2020 project without error and P(t+1) = P(t) + births -
    deaths + net migration holds to 1e-9 relative in every year."""
    arrays = read_inputs(reference / "un-ccmpp" / country).to_arrays()
    result = project(arrays.population, arrays.survival, arrays.asfr, arrays.srb,
                     arrays.net_migrants, migration_timing=arrays.settings.migration_timing)
    assert result.population.shape == (71, 2, 101)
    assert np.abs(balance_residual(result)).max() < 1e-9
    # a clamped cell is accounted for: the migrants applied exceed the migrants given by
    # exactly the persons clamping added (Kuwait's inputs clamp 43 cells; Canada's and
    # Mexico's none)
    added = (result.net_migrants_applied - arrays.net_migrants).sum(axis=(-2, -1))
    np.testing.assert_allclose(added, result.clamped_persons, atol=1e-6)
    assert ((result.clamped_cells > 0) == (result.clamped_persons > 0)).all()


def test_without_births_deaths_or_migration_the_population_only_ages():
    """Zero fertility, survival ratios of one and no migration: each cohort moves up one age a
    year and accumulates in the open group; the total never changes."""
    rng = np.random.default_rng(1)
    base = rng.uniform(100, 1000, size=(2, 101))
    steps = 30
    result = project(base, np.ones((steps, 2, 101)), np.zeros((steps, 101)),
                     np.full(steps, 1.05))
    for t in range(1, steps + 1):
        np.testing.assert_allclose(result.population[t, :, t:100], base[:, : 100 - t])
        np.testing.assert_allclose(result.population[t, :, :t], 0.0)
        np.testing.assert_allclose(result.population[t, :, 100], base[:, 100 - t:].sum(axis=1))
    np.testing.assert_allclose(result.population.sum(axis=(1, 2)), base.sum())


def test_batched_projection_equals_one_at_a_time(reference):
    """Leading axes (here 3 trajectories with scaled fertility) give the same numbers as
    separate runs."""
    arrays = read_inputs(reference / "un-ccmpp" / "kuwait").to_arrays()
    scale = np.array([0.8, 1.0, 1.2])
    asfr = arrays.asfr[:, None, :] * scale[None, :, None]
    batched = project(np.broadcast_to(arrays.population, (3, 2, 101)), arrays.survival[:, None],
                      asfr, arrays.srb[:, None], arrays.net_migrants[:, None])
    for i, k in enumerate(scale):
        single = project(arrays.population, arrays.survival, arrays.asfr * k, arrays.srb,
                         arrays.net_migrants)
        np.testing.assert_allclose(batched.population[:, i], single.population, rtol=1e-12)
        np.testing.assert_allclose(batched.deaths[:, i], single.deaths, rtol=1e-12)
