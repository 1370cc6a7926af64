"""Tests for forecast.care.supply: supply paths, target conversions, gaps and their summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.care.demand import care_demand, drivers
from forecast.care.supply import (
    Addition,
    SupplyPlan,
    Target,
    first_shortfall,
    gaps,
    probability_met,
    supply_path,
    target_consistency,
)
from forecast.errors import ForecastError

HONGHE_BEDS = SupplyPlan(
    service="elderly_beds", base_year=2020, base_supply=13_483,
    base_source="seed 001: 13,483 institutional beds, end 2020",
    additions=[Addition(2021, 2025, 3_000, "seed 001: 3,000+ new 普惠 beds 2021-2025")],
    targets=[Target("elderly_beds", 2025, "per_1000_elderly", 35, "seed 001")])


def test_supply_path_spreads_additions_evenly():
    """Honghe: 13,483 beds (2020) + 3,000 over 2021–2025 → 600 a year, then flat."""
    path = supply_path(HONGHE_BEDS, range(2019, 2031)).set_index("year")
    assert np.isnan(path.loc[2019, "supply"])
    assert path.loc[2020, "supply"] == 13_483
    assert path.loc[2023, "supply"] == pytest.approx(13_483 + 1_800)
    assert path.loc[2025, "supply"] == pytest.approx(16_483)
    assert path.loc[2030, "supply"] == pytest.approx(16_483)
    assert "assumption" in path.loc[2023, "supply_basis"]
    assert path["plan_target_path"].isna().all()  # its only target is not a count


def test_additions_already_in_the_base_are_not_counted_twice():
    plan = SupplyPlan("elderly_beds", 2022, 1_000, "base", [Addition(2021, 2024, 400, "plan")])
    path = supply_path(plan, [2022, 2023, 2024]).set_index("year")["supply"]
    assert path.tolist() == pytest.approx([1_000, 1_100, 1_200])


def test_unknown_base_gives_unknown_supply_and_count_target_gives_plan_path():
    unknown = SupplyPlan("elderly_beds", 2020, None, "not stated",
                         targets=[Target("elderly_beds", 2025, "count", 12_000, "seed 003")])
    path = supply_path(unknown, range(2020, 2027))
    assert path["supply"].isna().all() and path["plan_target_path"].isna().all()
    assert path["supply_basis"].str.startswith("unknown").all()
    known = SupplyPlan("elderly_beds", 2020, 10_000, "assumed base for the test",
                       targets=unknown.targets)
    implied = supply_path(known, range(2020, 2027)).set_index("year")
    assert implied.loc[2023, "plan_target_path"] == pytest.approx(11_200)  # linear 10k → 12k
    assert implied.loc[2025, "plan_target_path"] == 12_000
    assert np.isnan(implied.loc[2026, "plan_target_path"])
    assert (implied["supply"] == 10_000).all()


def test_target_consistency_banan_and_honghe():
    """Banan 12,000 beds (2025) = 46.6 per 1,000 of the 2020 60+ (257,338; research note §4);
    Honghe 35/1,000 60+ at the seed's expected 71万 in 2025 ≈ 24,850 beds, 55 % nursing of
    their institutional part."""
    banan = pd.DataFrame({"year": [2020], "pop_total": [1_178_856], "pop_0_2": [31_000],
                          "pop_60plus": [257_338]})
    result = target_consistency([Target("elderly_beds", 2025, "count", 12_000, "seed 003")],
                                banan, at_year=2020)
    assert round(result.loc[0, "per_1000_elderly"], 1) == 46.6
    assert np.isnan(result.loc[0, "coverage_under3"])
    honghe = pd.DataFrame({"year": [2025], "pop_total": [4_600_000], "pop_0_2": [150_000],
                           "pop_60plus": [710_000]})
    targets = [Target("elderly_beds", 2025, "per_1000_elderly", 35, "seed 001"),
               Target("nursing_beds", 2025, "share_nursing", 0.55, "seed 001")]
    result = target_consistency(targets, honghe).set_index("kind")
    assert result.loc["per_1000_elderly", "count"] == pytest.approx(24_850)
    # a nursing-type share is a share of institutional beds (养老机构护理型床位占比, E2):
    # 55 % of the target's institutional part, 62.49 % of all beds (E12)
    assert result.loc["share_nursing", "count"] == pytest.approx(0.55 * 0.6249 * 24_850)
    # a target with no projected drivers in its year stays unconverted
    assert np.isnan(target_consistency(targets[:1], honghe, at_year=2030).loc[0, "count"])


def test_target_consistency_lincang_childcare():
    """Lincang 3 托位/1,000 of 2,257,991 (2020) ≈ 6,770 places ≈ 8 % of its 8.3万 under-3s."""
    lincang = pd.DataFrame({"year": [2020], "pop_total": [2_257_991], "pop_0_2": [83_000],
                            "pop_60plus": [338_086]})
    result = target_consistency(
        [Target("childcare_places", 2025, "per_1000_population", 3, "seed 000")],
        lincang, at_year=2020)
    assert result.loc[0, "count"] == pytest.approx(6_774, abs=1)
    assert result.loc[0, "coverage_under3"] == pytest.approx(0.0816, abs=0.0005)
    assert np.isnan(result.loc[0, "per_1000_elderly"])


def test_bad_targets_are_user_errors():
    with pytest.raises(ForecastError, match="kind"):
        Target("elderly_beds", 2025, "per_person", 1, "x")
    with pytest.raises(ForecastError, match="coverage_under3"):
        Target("elderly_beds", 2025, "coverage_under3", 0.1, "x")
    with pytest.raises(ForecastError, match="end_year"):
        Addition(2025, 2021, 10, "x")


def toy_population(years=(2020, 2025), scale=1.0, **keys) -> pd.DataFrame:
    rows = []
    for year in years:
        for sex in ("male", "female"):
            for age in range(101):
                persons = 1_000.0 if age < 60 else 800.0
                rows.append({**keys, "year": year, "sex": sex, "age": age,
                             "population": persons * scale * (1 + 0.02 * (year - 2020))})
    return pd.DataFrame(rows)


def test_gaps_identities():
    """gap = supply − demand; coverage = places ÷ pop 0–2; rates per 1,000 of the right base."""
    population = toy_population()
    demand = care_demand(population)
    driver_table = drivers(population)
    supplies = {"elderly_beds": supply_path(HONGHE_BEDS, [2020, 2025]),
                "childcare_places": supply_path(
                    SupplyPlan("childcare_places", 2020, 1_000, "test"), [2020, 2025])}
    result = gaps(demand, supplies, HONGHE_BEDS.targets, driver_table)
    assert set(result["service"]) == {"elderly_beds", "nursing_beds", "childcare_places"}
    known = result.dropna(subset=["supply"])
    np.testing.assert_allclose(known["gap"], known["supply"] - known["demand"])
    assert ((known["gap"] >= 0) == (known["status"] == "met")).all()
    assert (result.loc[result["service"] == "nursing_beds", "status"] == "unknown").all()
    child = result[result["service"] == "childcare_places"].merge(driver_table, on="year")
    np.testing.assert_allclose(child["coverage_under3"], 1_000 / child["pop_0_2"])
    np.testing.assert_allclose(child["supply_per_1000"], 1_000 / child["pop_total"] * 1000)
    beds = result[(result["service"] == "elderly_beds") & (result["method"] == "norm")]
    np.testing.assert_allclose(beds["demand_per_1000"], 35)  # the norm is 35 per 1,000 60+
    target_2025 = beds.loc[beds["year"] == 2025, "plan_target"].iloc[0]
    assert target_2025 == pytest.approx(beds.loc[beds["year"] == 2025, "demand"].iloc[0])
    assert beds.loc[beds["year"] == 2020, "plan_target"].isna().all()


def test_first_shortfall_outcomes():
    rows = []
    statuses = {"a": ["met", "met", "short", "short"], "b": ["met", "met", "met", "met"],
                "c": ["unknown", "unknown", "unknown", "unknown"],
                "d": ["met", "unknown", "short", "met"],
                "e": ["unknown", "met", "met", "met"]}
    for method, sequence in statuses.items():
        for year, status in zip(range(2020, 2024), sequence, strict=True):
            rows.append({"scenario": "base", "year": year, "service": "elderly_beds",
                         "method": method, "status": status})
    result = first_shortfall(pd.DataFrame(rows)).set_index("method")
    assert result.loc["a", "first_shortfall_year"] == 2022
    assert result.loc["a", "outcome"] == "short"
    assert result.loc["b", "outcome"] == "never" and pd.isna(result.loc["b",
                                                                      "first_shortfall_year"])
    assert result.loc["c", "outcome"] == "unknown"
    # a shortfall in a year whose supply is known is reported even when an earlier year's
    # supply is unknown (Honghe's nursing beds, Lincang's 托位, Wanyuan's beds and 托位),
    # with the last unknown year before it (the shortfall may have begun then)
    assert result.loc["d", "outcome"] == "short"
    assert result.loc["d", "first_shortfall_year"] == 2022
    assert result.loc["d", "supply_unknown_until"] == 2021
    assert pd.isna(result.loc["a", "supply_unknown_until"])
    # met wherever supply is known, unknown elsewhere: neither "never" nor a year
    assert result.loc["e", "outcome"] == "unknown"
    assert pd.isna(result.loc["e", "first_shortfall_year"])
    assert (result["scenario"] == "base").all()


def test_probability_met_hand_case_and_monotone_in_supply():
    """Share of trajectories with supply ≥ demand; more supply never lowers it."""
    rng = np.random.default_rng(7)
    population = pd.concat([toy_population(scale=s, scenario="mid", trajectory=i)
                            for i, s in enumerate(rng.uniform(0.8, 1.2, 40))],
                           ignore_index=True)
    demand = care_demand(population)
    driver_table = drivers(population)
    previous = None
    for base in (10_000, 30_000, 45_000, 60_000, 200_000):
        plan = SupplyPlan("elderly_beds", 2020, base, "test", base_institutional=0.6 * base)
        table = gaps(demand, {"elderly_beds": supply_path(plan, [2020, 2025])}, [],
                     driver_table)
        met = probability_met(table)
        assert "trajectory" not in met.columns and (met["scenario"] == "mid").all()
        beds = met[met["service"] == "elderly_beds"].reset_index(drop=True)
        assert beds["probability_met"].between(0, 1).all()
        assert (beds["n_trajectories"] == 40).all()
        if previous is not None:
            assert (beds["probability_met"].to_numpy() >= previous).all()
        previous = beds["probability_met"].to_numpy()
    assert previous.min() == 1.0
    assert met.loc[met["service"] == "nursing_beds", "probability_met"].isna().all()
    hand = pd.DataFrame({"trajectory": [0, 1, 2], "year": 2025, "service": "elderly_beds",
                         "method": "norm", "demand": [10.0, 20.0, 30.0],
                         "supply": [20.0, 20.0, 20.0]})
    assert probability_met(hand)["probability_met"].iloc[0] == pytest.approx(2 / 3)


def test_norm_is_compared_with_all_beds_and_the_other_methods_with_institutional_beds():
    """Issue 11: 养老床位 = institutional + community beds (2022: 829.4万 = 518.3万 + 311.1万);
    the norm counts both, the needs, expected-use and 9073 methods estimate residents of
    institutions. Honghe read as nested: 13,483 in total, 7,773 institutional; 3,000 added
    2021–2025 without a stated scope, their institutional part the national share."""
    population = toy_population()
    demand = care_demand(population)
    plan = SupplyPlan("elderly_beds", 2020, 13_483, "seed 001", base_institutional=7_773,
                      institutional_share=0.6249,
                      additions=[Addition(2021, 2025, 3_000, "seed 001")])
    path = supply_path(plan, [2020, 2025]).set_index("year")
    assert path.loc[2025, "supply"] == pytest.approx(16_483)
    assert path.loc[2025, "supply_institutional"] == pytest.approx(7_773 + 0.6249 * 3_000)
    assert path["institutional_basis"].tolist() == ["stated", "estimated"]
    table = gaps(demand, {"elderly_beds": supply_path(plan, [2020, 2025])}, [],
                 drivers(population)).set_index(["service", "method", "year"])
    assert table.loc[("elderly_beds", "norm", 2020), "supply_scope"] == "total"
    assert table.loc[("elderly_beds", "norm", 2020), "supply"] == 13_483
    for method in ("needs", "expected_use", "rule_9073"):
        row = table.loc[("elderly_beds", method, 2020)]
        assert (row["supply"], row["supply_scope"]) == (7_773, "institutional")
        assert table.loc[("elderly_beds", method, 2025), "supply_scope"] == \
            "institutional_estimated"
        assert row["gap"] == pytest.approx(7_773 - row["demand"])
    assert table["supply_scope"].notna().all()
    # a total with no split and no share leaves institutional supply unknown, never total
    bare = SupplyPlan("elderly_beds", 2020, 13_483, "seed 001")
    unknown = gaps(demand, {"elderly_beds": supply_path(bare, [2020])}, [], drivers(population))
    institutional = unknown[unknown["method"].isin(["needs", "rule_9073"])
                            & (unknown["service"] == "elderly_beds")]
    assert (institutional["status"] == "unknown").all()
