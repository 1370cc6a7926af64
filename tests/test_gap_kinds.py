"""Issue 11 items 3, 5 and 7: nursing-type beds from the mix of need, share targets on
institutional beds, the three named gaps, supply after the plan's horizon, additions per
five-year period and the planner's method guide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.care.demand import ElderlyCareParameters, care_demand, elderly_bed_demand
from forecast.care.supply import (
    SOURCE_TARGET,
    STATUS_SAME,
    Addition,
    SupplyPlan,
    Target,
    additions_needed,
    first_shortfall,
    five_year_periods,
    gaps,
    supply_path,
)
from forecast.pipeline.run import plan_horizon, planned_supply
from forecast.presentation.labels import METHOD_GUIDE, method_guide
from tests.test_demand import make_population, value

TOY = dict(severe_schedule=((60, 0.01), (70, 0.05), (85, 0.20)),
           any_disability_schedule=((60, 0.10), (80, 0.50)), female_male_ratio=1.0,
           u_severe=0.4, u_moderate=0.1, target_occupancy=0.8, prevalence_trend=0.0,
           nursing_level_severe=1.0, nursing_level_moderate=0.25)


def test_nursing_needs_is_the_residents_whose_care_level_is_nursing():
    """nursing needs = Σ P × [π_sev u_sev × 1.0 + π_mod u_mod × 0.25] ÷ occupancy (E13 mapping
    of care levels), by hand on three ages."""
    population = make_population({("male", 62): 1000, ("female", 75): 2000, ("male", 90): 500})
    table = elderly_bed_demand(population, ElderlyCareParameters(**TOY))
    nursing_residents = (1000 * (0.01 * 0.4 + 0.09 * 0.1 * 0.25)
                         + 2000 * (0.05 * 0.4 + 0.05 * 0.1 * 0.25)
                         + 500 * (0.20 * 0.4 + 0.30 * 0.1 * 0.25))
    assert value(table, "driver", "residents_nursing_level") == pytest.approx(nursing_residents)
    assert value(table, "nursing_beds", "needs") == pytest.approx(nursing_residents / 0.8)


def test_nursing_share_follows_the_mix_of_need_not_a_fixed_share():
    """An old-old population has more severe disability, so a larger nursing-type share of its
    needs-based beds than a young-old one (a fixed 55 % share gave the same ratio to both)."""
    params = ElderlyCareParameters(**TOY)

    def share(cells):
        table = elderly_bed_demand(make_population(cells), params)
        return value(table, "nursing_beds", "needs") / value(table, "elderly_beds", "needs")

    young_old, old_old = share({("male", 62): 1000}), share({("male", 90): 1000})
    assert young_old == pytest.approx((0.004 + 0.009 * 0.25) / (0.004 + 0.009))
    assert old_old == pytest.approx((0.08 + 0.03 * 0.25) / (0.08 + 0.03))
    assert old_old > young_old + 0.2


def test_planning_standards_apply_the_share_to_institutional_beds():
    """Norm: nursing = share × institutional share (E12) × norm beds; 9073 (institutional
    places already): share × its places. Not share × all beds."""
    params = ElderlyCareParameters(**TOY, nursing_share=0.6, institutional_share=0.5)
    table = elderly_bed_demand(make_population({("female", 70): 10_000}), params)
    assert value(table, "nursing_beds", "norm") == pytest.approx(
        0.6 * 0.5 * value(table, "elderly_beds", "norm"))
    assert value(table, "nursing_beds", "rule_9073") == pytest.approx(
        0.6 * value(table, "elderly_beds", "rule_9073"))


def _toy_run(years=range(2020, 2036)):
    """Demand on a population growing 2 % a year (aged 70) and falling 3 % a year (age 1)."""
    cells = []
    for year in years:
        grow = 1.02 ** (year - 2020)
        fall = 0.97 ** (year - 2020)
        cells.append(make_population({("female", 70): 20_000 * grow, ("male", 1): 3_000 * fall,
                                      ("male", 30): 50_000}, years=(year,)))
    demand = care_demand(pd.concat(cells, ignore_index=True))
    return demand, drivers_of(demand)


def drivers_of(demand: pd.DataFrame) -> pd.DataFrame:
    rows = demand[demand["service"] == "driver"]
    wide = rows.pivot_table(index="year", columns="method", values="value",
                            observed=True).reset_index()
    wide.columns.name = None
    return wide


def test_three_named_gaps_and_the_plans_horizon():
    """status quo = base held − demand; target adequacy = target − demand; delivery = planned
    supply − target (target year only); years after the last target/addition are flagged."""
    demand, wide = _toy_run()
    plan = SupplyPlan("elderly_beds", 2020, 1_000, "base", base_institutional=600,
                      additions=[Addition(2021, 2025, 500, "plan", scope="institutional")],
                      targets=[Target("elderly_beds", 2025, "count", 1_800, "plan")])
    years = np.arange(2020, 2036)
    table = gaps(demand, {"elderly_beds": supply_path(plan, years)}, plan.targets, wide,
                 plan_horizon=plan_horizon({"elderly_beds": plan}), institutional_share=0.5)
    needs = table[(table.service == "elderly_beds") & (table.method == "needs")].set_index("year")
    norm = table[(table.service == "elderly_beds") & (table.method == "norm")].set_index("year")
    assert needs.loc[2030, "gap_status_quo"] == pytest.approx(600 - needs.loc[2030, "demand"])
    assert norm.loc[2030, "gap_status_quo"] == pytest.approx(1_000 - norm.loc[2030, "demand"])
    # institutional rows: the bed target's institutional part (0.5 × 1,800)
    assert needs.loc[2025, "gap_target_adequacy"] == pytest.approx(900 - needs.loc[2025,
                                                                                  "demand"])
    assert norm.loc[2025, "gap_delivery"] == pytest.approx(1_500 - 1_800)
    assert needs.loc[2025, "gap_delivery"] == pytest.approx(1_100 - 900)
    assert np.isnan(norm.loc[2030, "gap_delivery"])  # no target in 2030
    assert not needs.loc[2025, "beyond_plan_horizon"] and needs.loc[2026, "beyond_plan_horizon"]
    assert (needs["supply_source"] == "plan_stated").all()


def test_a_target_taken_as_supply_never_meets_its_own_norm_with_a_zero_gap():
    """Wanyuan/Lincang: no base, the plan's 托位 norm is both the norm demand and (as the target
    taken as supply) the supply: status same_as_target, no gap, never 'met'; the needs method
    keeps a gap, labelled as resting on the target taken as supply."""
    demand, wide = _toy_run()
    target = Target("childcare_places", 2025, "per_1000_population", 4.5, "plan")
    plan = SupplyPlan("childcare_places", 2020, None, "not stated", targets=[target])
    years = np.arange(2020, 2036)
    paths = planned_supply({"childcare_places": plan}, [target], wide, years)
    table = gaps(demand, paths, [target], wide, plan_horizon=2025)
    norm = table[(table.service == "childcare_places") & (table.method == "norm")]
    later = norm[norm.year >= 2025]
    assert (later["supply_source"] == SOURCE_TARGET).all()
    assert (later["status"] == STATUS_SAME).all() and later["gap"].isna().all()
    assert later["gap_target_adequacy"].isna().all()  # the norm is the target itself
    assert later["gap_delivery"].isna().all()  # the supply is the target
    needs = table[(table.service == "childcare_places") & (table.method == "needs")
                  & (table.year == 2025)].iloc[0]
    assert np.isfinite(needs.gap) and needs.status in ("met", "short")
    assert "target assumed met" in needs.rests_on_assumptions
    outcome = first_shortfall(table)
    assert (outcome[(outcome.service == "childcare_places") & (outcome.method == "norm")]
            .outcome == "unknown").all()


def test_nursing_supply_from_a_share_target_is_a_share_of_institutional_beds():
    """Banan: 12,000 beds (2025), 60 % nursing-type of institutional beds: 0.6 × 0.6249 ×
    12,000 = 4,499 nursing-type beds (not 7,200 = 0.6 × all beds)."""
    demand, wide = _toy_run()
    share = 0.6249
    beds = SupplyPlan("elderly_beds", 2020, None, "not stated", institutional_share=share,
                      targets=[Target("elderly_beds", 2025, "count", 12_000, "003")])
    nursing = SupplyPlan("nursing_beds", 2020, None, "not stated",
                         targets=[Target("nursing_beds", 2025, "share_nursing", 0.6, "003")])
    targets = beds.targets + nursing.targets
    paths = planned_supply({"elderly_beds": beds, "nursing_beds": nursing}, targets, wide,
                           np.arange(2020, 2036))
    supply = paths["nursing_beds"].set_index("year")["supply"]
    assert supply[2025] == pytest.approx(0.6 * share * 12_000)
    table = gaps(demand, paths, targets, wide, institutional_share=share)
    row = table[(table.service == "nursing_beds") & (table.year == 2025)].iloc[0]
    assert row.supply_scope == "institutional_estimated"
    assert row.plan_target == pytest.approx(0.6 * share * 12_000)


def test_five_year_periods():
    assert five_year_periods(2020, 2035) == [(2021, 2025), (2026, 2030), (2031, 2035)]
    assert five_year_periods(2020, 2033) == [(2021, 2025), (2026, 2030), (2031, 2033)]


def test_additions_needed_per_period_by_hand():
    """Base 100; demand 100, 120 (2025), 110 (2030), 150 (2035) stepwise; planned supply 100 →
    130 by 2025 and held. Needed from base: 20, 0, 30; planned: 30, 0, 0; beyond the plan:
    0, 0, 20 (the highest shortfall so far); demand growth 20, 0, 30."""
    years = np.arange(2020, 2036)
    demand = np.select([years <= 2020, years <= 2025, years <= 2030], [100, 120, 110], 150)
    supply = np.where(years <= 2020, 100, 130).astype(float)
    table = pd.DataFrame({"scenario": "baseline", "year": years, "service": "elderly_beds",
                          "method": "norm", "demand": demand.astype(float), "supply": supply,
                          "supply_scope": "total", "supply_source": "plan_stated",
                          "base_supply": 100.0, "beyond_plan_horizon": years > 2025})
    out = additions_needed(table).set_index("period")
    assert list(out.index) == ["2021–2025", "2026–2030", "2031–2035"]
    assert list(out["additions_needed"]) == [20, 0, 30]
    assert list(out["additions_planned"]) == [30, 0, 0]
    assert list(out["additions_beyond_plan"]) == [0, 0, 20]
    assert list(out["demand_growth"]) == [20, 0, 30]
    assert list(out["beyond_plan_horizon"]) == [False, True, True]


def test_method_guide_says_which_question_each_method_answers_in_both_languages():
    """Every bed and 托位 method has a line in Chinese and in English, naming the supply it is
    compared with."""
    assert METHOD_GUIDE["zh"].keys() == METHOD_GUIDE["en"].keys()
    zh = "\n".join(method_guide("zh"))
    for phrase in ("千人指标法", "失能需求法", "预期使用法", "“9073”格局法", "护理型床位",
                   "入托需求法", "全部养老床位", "机构床位"):
        assert phrase in zh
    assert "institutional beds" in "\n".join(method_guide("en"))
