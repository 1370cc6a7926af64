"""Tests for forecast.care.demand: worked checks from the research note and hand formulas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.care.demand import (
    ChildcareParameters,
    ElderlyCareParameters,
    assumption_labels,
    care_demand,
    childcare_demand,
    childcare_uptake_path,
    drivers,
    drivers_from_demand,
    elderly_bed_demand,
    load_care_parameters,
    population_cube,
    prevalence_by_sex,
)
from forecast.errors import ForecastError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CENSUS_2020 = SHARED / "reference-data" / "leiii-census" / "census2020_age_sex_5yr_by_unit.csv"
OPEN_AGE = 100


def make_population(cells: dict[tuple[str, int], float], years=(2020,), **keys) -> pd.DataFrame:
    """Full year × sex × age 0..100 grid; ``cells`` maps (sex, age) to persons, others 0."""
    rows = []
    for year in years:
        for sex in ("male", "female"):
            for age in range(OPEN_AGE + 1):
                rows.append({**keys, "year": year, "sex": sex, "age": age,
                             "population": float(cells.get((sex, age), 0.0))})
    return pd.DataFrame(rows)


def value(table: pd.DataFrame, service: str, method: str, year: int | None = None) -> float:
    rows = table[(table["service"] == service) & (table["method"] == method)]
    if year is not None:
        rows = rows[rows["year"] == year]
    assert len(rows) == 1, (service, method, year, len(rows))
    return float(rows["value"].iloc[0])


def honghe_like() -> pd.DataFrame:
    """668,603 persons aged 60+ (Honghe 2020 census), spread over ages 60..100, plus younger."""
    cells = {("male", age): 10_000.0 for age in range(0, 60)}
    older = np.full(41, 668_603 // 82)
    remainder = 668_603 - older.sum() * 2
    cells.update({("male", 60 + i): float(n) for i, n in enumerate(older)})
    cells.update({("female", 60 + i): float(n) for i, n in enumerate(older)})
    cells[("female", 100)] += remainder
    return make_population(cells)


def test_honghe_2020_worked_check_norm_and_9073():
    """Research note §1.6: 668,603 aged 60+ → norm 35/1,000 = 23,401 beds; 9073 = 20,058 beds."""
    table = elderly_bed_demand(honghe_like())
    assert value(table, "driver", "pop_60plus") == 668_603
    assert round(value(table, "elderly_beds", "norm")) == 23_401
    assert round(value(table, "elderly_beds", "rule_9073")) == 20_058
    # the planning standards' nursing-type beds: 55 % (E2) of their institutional beds, the
    # norm's beds × 62.49 % (E12), 9073's places as they are
    assert value(table, "nursing_beds", "norm") == pytest.approx(0.55 * 0.6249 * 35 * 668.603)
    assert value(table, "nursing_beds", "rule_9073") == pytest.approx(0.55 * 0.03 * 668_603)


def test_needs_equal_hand_formula_on_three_age_toy():
    """beds = Σ P × [π_sev u_sev + (π_any − π_sev) u_mod] ÷ occupancy, no sex split, no trend."""
    params = ElderlyCareParameters(
        severe_schedule=((60, 0.01), (70, 0.05), (85, 0.20)),
        any_disability_schedule=((60, 0.10), (80, 0.50)),
        female_male_ratio=1.0, u_severe=0.4, u_moderate=0.1, target_occupancy=0.8,
        prevalence_trend=-0.01)
    population = make_population({("male", 62): 1000, ("female", 75): 2000, ("male", 90): 500})
    hand_residents = (1000 * (0.01 * 0.4 + 0.09 * 0.1)
                      + 2000 * (0.05 * 0.4 + 0.05 * 0.1)
                      + 500 * (0.20 * 0.4 + 0.30 * 0.1))
    table = elderly_bed_demand(population, params, base_year=2020)
    assert value(table, "driver", "residents_needing_care") == pytest.approx(hand_residents)
    assert value(table, "elderly_beds", "needs") == pytest.approx(hand_residents / 0.8)


def test_sex_split_keeps_reference_age_group_rate():
    """female = ratio × male and (1−f)·male + f·female = age-group rate (f = reference share)."""
    params = ElderlyCareParameters(
        severe_schedule=((60, 0.03),), any_disability_schedule=((60, 0.30),),
        female_male_ratio=2.0, reference_female_share=((60, 0.5),))
    severe, moderate = prevalence_by_sex(params, OPEN_AGE + 1)
    assert severe[0, 70] == pytest.approx(0.02)
    assert severe[1, 70] == pytest.approx(0.04)
    assert moderate[1, 70] == pytest.approx(2 * moderate[0, 70])
    assert 0.5 * moderate[0, 70] + 0.5 * moderate[1, 70] == pytest.approx(0.27)
    assert severe[:, :60].sum() == 0


def test_prevalence_trend_reduces_needs_over_time():
    """π(t) = π(2020)·(1 + trend)^(t − 2020): same population, needs fall by 0.99^10 by 2030."""
    population = make_population({("female", 82): 5000, ("male", 66): 7000}, years=(2020, 2030))
    table = elderly_bed_demand(population, ElderlyCareParameters(prevalence_trend=-0.01))
    needs_2030 = value(table, "elderly_beds", "needs", 2030)
    ratio = needs_2030 / value(table, "elderly_beds", "needs", 2020)
    assert ratio == pytest.approx(0.99 ** 10)
    assert value(table, "elderly_beds", "norm", 2030) == value(table, "elderly_beds", "norm", 2020)
    flat = elderly_bed_demand(population, ElderlyCareParameters(prevalence_trend=0.0))
    assert value(flat, "elderly_beds", "needs", 2030) == value(flat, "elderly_beds", "needs", 2020)


@pytest.fixture(scope="module")
def national_2020() -> pd.DataFrame:
    if not CENSUS_2020.is_file():
        pytest.skip(f"shared census extract not found at {CENSUS_2020}")
    census = pd.read_csv(CENSUS_2020, dtype={"code": str})
    row = census[census["level"] == "national"].iloc[0]
    cells = {}
    for letter, sex in (("M", "male"), ("F", "female")):
        for start in range(60, 85, 5):
            for age in range(start, start + 5):
                cells[(sex, age)] = row[f"{letter}_{start}-{start + 4}"] / 5
        for age in range(85, OPEN_AGE + 1):  # prevalence is flat over 85+, so the split is moot
            cells[(sex, age)] = row[f"{letter}_85+"] / (OPEN_AGE + 1 - 85)
    return make_population(cells)


def test_severe_default_reproduces_census_2_34_percent(national_2020):
    """E7: 2.34 % of the 60+ could not care for themselves in 2020 (Guo et al. 2022), ±0.05 pt."""
    table = elderly_bed_demand(national_2020)
    share = value(table, "driver", "severe_disabled") / value(table, "driver", "pop_60plus")
    assert share == pytest.approx(0.0234, abs=0.0005)


def test_any_disability_default_reproduces_18_3_percent(national_2020):
    """E5/E6: the scaled schedule gives 18.3 % disabled + semi-disabled on 2020 ages, ±0.1 pt."""
    table = elderly_bed_demand(national_2020)
    disabled = value(table, "driver", "severe_disabled") + value(table, "driver",
                                                                 "moderate_disabled")
    assert disabled / value(table, "driver", "pop_60plus") == pytest.approx(0.183, abs=0.001)


def test_childcare_norm_and_needs_hand_formula():
    """norm = 4.5 × P_total / 1000; needs = Σ_{0..2} P(a)·rate(a)·uptake ÷ utilisation."""
    params = ChildcareParameters(demand_share=0.3, age_profile=((0, 0.2), (1, 0.3), (2, 0.5)),
                                 uptake_path=((2020, 0.5), (2030, 1.0)), target_utilisation=0.8)
    cells = {("male", 0): 100, ("female", 1): 200, ("male", 2): 300, ("female", 40): 9400}
    table = childcare_demand(make_population(cells, years=(2020, 2025)), params)
    assert value(table, "childcare_places", "norm", 2020) == pytest.approx(4.5 * 10_000 / 1000)
    wanting = 100 * 0.3 * 3 * 0.2 + 200 * 0.3 * 3 * 0.3 + 300 * 0.3 * 3 * 0.5
    assert value(table, "driver", "children_wanting_care", 2020) == pytest.approx(wanting)
    assert value(table, "childcare_places", "needs", 2020) == pytest.approx(wanting * 0.5 / 0.8)
    assert value(table, "childcare_places", "needs", 2025) == pytest.approx(wanting * 0.75 / 0.8)
    assert value(table, "driver", "pop_0_2", 2025) == 600


def test_childcare_default_uptake_matches_enrolment():
    """C4/C3: uptake = enrolment ÷ demand: 5.5 % ÷ 1/3 (2021), 12 % ÷ 1/3 (2025); then the
    assumed 15 % of under-3s in 2035 (0.45 of the demand), held after."""
    params = ChildcareParameters()
    uptake = params.uptake(np.array([2021, 2025, 2035, 2040]))
    np.testing.assert_allclose(uptake, [0.165, 0.36, 0.45, 0.45], atol=1e-4)
    ceiling = ChildcareParameters(uptake_path=childcare_uptake_path("full_uptake"))
    np.testing.assert_allclose(ceiling.uptake(np.array([2021, 2025, 2035, 2040])),
                               [0.165, 0.36, 1.0, 1.0], atol=1e-4)
    assert sum(params.demand_rate().values()) / 3 == pytest.approx(1 / 3, abs=1e-6)


def test_policy_path_follows_the_children_not_the_uptake_ramp():
    """Issue 11: with under-3s falling 38 % from 2025 to 2035 (Honghe's projection: 163k in
    2020 to 101k in 2035) the default path's places fall (enrolment 12 % → 15 %, ×1.25), the
    full-uptake ceiling's rise (×2.78); both are demand share × uptake × children ÷ 0.85."""
    cells = {2025: 100_000.0, 2035: 62_000.0}
    population = pd.concat([make_population({("male", a): cells[y] / 3 for a in range(3)},
                                            years=(y,)) for y in cells], ignore_index=True)
    policy = childcare_demand(population)
    ceiling = childcare_demand(population, ChildcareParameters(
        uptake_path=childcare_uptake_path("full_uptake")))
    assert value(policy, "childcare_places", "needs", 2035) < value(
        policy, "childcare_places", "needs", 2025)
    assert value(ceiling, "childcare_places", "needs", 2035) > value(
        ceiling, "childcare_places", "needs", 2025)
    # every child counts alike here (equal ages): places = enrolment × children ÷ 0.85
    assert value(policy, "childcare_places", "needs", 2025) == pytest.approx(
        0.12 * 100_000 / 0.85, rel=1e-4)
    assert value(policy, "childcare_places", "needs", 2035) == pytest.approx(
        0.15 * 62_000 / 0.85, rel=1e-4)


def test_keys_are_carried_through_and_drivers_agree():
    base = {("male", 1): 10, ("female", 70): 20}
    population = pd.concat([
        make_population(base, years=(2020, 2021), scenario="low", trajectory=0),
        make_population({k: 2 * v for k, v in base.items()}, years=(2020, 2021),
                        scenario="high", trajectory=0)], ignore_index=True)
    table = care_demand(population)
    assert list(table.columns[:3]) == ["scenario", "trajectory", "year"]
    high = table[(table["scenario"] == "high") & (table["year"] == 2021)]
    low = table[(table["scenario"] == "low") & (table["year"] == 2021)]
    assert value(high, "elderly_beds", "norm") == pytest.approx(2 * value(low, "elderly_beds",
                                                                          "norm"))
    assert not table.duplicated(["scenario", "trajectory", "year", "service", "method"]).any()
    wide = drivers(population).sort_values(["scenario", "year"]).reset_index(drop=True)
    again = drivers_from_demand(table).sort_values(["scenario", "year"]).reset_index(drop=True)
    for column in ("pop_total", "pop_0_2", "pop_60plus"):
        np.testing.assert_allclose(wide[column], again[column])
    assert wide.loc[wide["scenario"] == "high", "pop_60plus"].tolist() == [40, 40]


def test_assumptions_are_labelled():
    labels = assumption_labels()
    assert {"target_occupancy", "u_severe", "u_moderate",
            "childcare_target_utilisation"} <= set(labels["key"])
    table = elderly_bed_demand(honghe_like())
    needs = table[table["method"] == "needs"]
    assert needs["assumptions"].str.contains("target_occupancy").all()
    assert (table.loc[table["method"] == "norm", "assumptions"] == "").all()


def test_parameter_table_is_complete_and_defaults_come_from_it():
    table = load_care_parameters()
    assert table["source"].notna().all() and (table["source"].str.len() > 10).all()
    values = dict(zip(table["key"], table["value"], strict=True))
    params = ElderlyCareParameters()
    assert params.norm_per_1000 == values["elderly_norm_per_1000_60plus"] == 35
    assert params.target_occupancy == values["target_occupancy"] == 0.85
    assert dict(params.severe_schedule)[85] == values["severe_disability_85plus"]
    assert ChildcareParameters().norm_per_1000_population == 4.5
    ranged = table.dropna(subset=["low", "high"])
    assert ((ranged["low"] <= ranged["value"]) & (ranged["value"] <= ranged["high"])).all()


def test_incomplete_projection_is_a_user_error():
    population = make_population({("male", 70): 5})
    with pytest.raises(ForecastError, match="every age"):
        population_cube(population.drop(index=5))
    with pytest.raises(ForecastError, match="sex"):
        population_cube(population.assign(sex="M"))


def test_demand_keeps_a_trajectory_axis():
    """1,000 trajectories × 16 years: one row per trajectory, year, service and method (20
    each), and every trajectory of a uniform population gets the same demand. (Its speed is
    measured in benchmarks/demand_speed.py, not asserted here.)"""
    index = pd.MultiIndex.from_product(
        [range(1000), range(2020, 2036), ["male", "female"], range(OPEN_AGE + 1)],
        names=["trajectory", "year", "sex", "age"])
    population = pd.DataFrame({"population": 1000.0}, index=index).reset_index()
    table = care_demand(population)
    assert len(table) == 1000 * 16 * 21
    spread = table.groupby(["year", "service", "method"], observed=True)["value"].agg(
        lambda v: v.max() - v.min())
    assert (spread == 0).all()


def test_expected_use_reproduces_the_nations_residents_and_beds(national_2020):
    """Calibration identity: on the 2020 national census population the expected-use method
    houses the 2.15 M residents of 养老机构 (MCA 2020-07), and at the observed occupancy
    (0.50, E3) needs 4.30 M registered beds, against the 4.29 M the MCA counted (±1 %)."""
    table = elderly_bed_demand(national_2020)
    assert value(table, "driver", "residents_expected") == pytest.approx(2_150_000, rel=1e-3)
    assert value(table, "elderly_beds", "expected_use") == pytest.approx(4_290_000, rel=0.01)
    # it is the needs method's need mix scaled to observed use: scaling both uptakes by the
    # same factor moves the needs method and leaves expected use where it is
    doubled = elderly_bed_demand(national_2020, ElderlyCareParameters(u_severe=0.8,
                                                                      u_moderate=0.15))
    assert value(doubled, "elderly_beds", "needs") == pytest.approx(
        2 * value(table, "elderly_beds", "needs"))
    assert value(doubled, "elderly_beds", "expected_use") == pytest.approx(
        value(table, "elderly_beds", "expected_use"))
