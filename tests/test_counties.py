"""Counties of a prefecture's run (forecast.pipeline.counties, issue 12).

Identities checked: the county-level units are controlled top down to the jurisdiction, so
their populations and their demand (linear in the population, same parameters) add up to the
jurisdiction's baseline within 0.5 % in every year; a county's target is the plan's rate
(Honghe 001 三(二)1: "每千名老年人拥有养老床位35张以上") times its own population, the
national 4.5 托位 per 1,000 where the plan states none, and its gap is target − demand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.care.supply import Target
from forecast.config import load_config
from forecast.defaults.census import resolve_unit
from forecast.pipeline.counties import (
    SUM_TOLERANCE,
    county_targets,
    county_units,
    sum_check,
)
from forecast.pipeline.run import run
from forecast.presentation.report import RunFiles, county_sentences

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def honghe():
    return run(load_config(ROOT / "configs" / "honghe.yaml"), ["baseline"])


def test_honghe_has_its_13_counties_every_year(honghe):
    counties = honghe.counties
    # 001 README: "autonomous prefecture (13 counties/cities)"
    assert counties.unit_id.nunique() == 13
    years = honghe.summary.year.unique()
    assert len(counties) == 13 * len(years)
    assert list(counties.columns[:3]) == ["unit_id", "name", "year"]
    summary_columns = [c for c in honghe.summary.columns if c != "scenario"]
    assert set(summary_columns) <= set(counties.columns)


def test_counties_add_up_to_the_prefecture(honghe):
    counties = honghe.counties
    sums = counties.groupby("year").sum(numeric_only=True)
    whole = honghe.summary[honghe.summary.scenario == "baseline"].set_index("year")
    # populations by age and births are controlled exactly, deaths to about 1e-5
    # (forecast.defaults.consistency; before, the counties' births were 1.2 % below Honghe's by
    # 2033)
    for column in ("total", "pop_60plus", "pop_0_2", "pop_80plus", "pop_65plus", "births",
                   "deaths"):
        ratio = sums[column] / whole[column]
        assert np.nanmax(np.abs(ratio - 1)) < SUM_TOLERANCE, column
    births = sums["births"].loc[2021:] / whole["births"].loc[2021:]
    np.testing.assert_allclose(births, 1, rtol=1e-9)
    demand = honghe.demand[(honghe.demand.scenario == "baseline")
                           & (honghe.demand.service != "driver")]
    for (service, method), rows in demand.groupby(["service", "method"], observed=True):
        county_sum = sums[f"{service}_{method}"].reindex(rows.year)
        assert np.max(np.abs(county_sum.to_numpy() / rows.value.to_numpy() - 1)) \
            < SUM_TOLERANCE, (service, method)
    check = honghe.manifest["counties"]["sum_max_relative_difference"]
    assert max(check.values()) < SUM_TOLERANCE


def test_targets_are_the_plans_rates_else_national(honghe):
    c = honghe.counties
    before, after = c[c.year == 2024], c[c.year == 2030]
    assert before.elderly_beds_target.isna().all()  # the plan's target is for 2025 on
    np.testing.assert_allclose(after.elderly_beds_target, 35 * after.pop_60plus / 1000)
    assert set(after.elderly_beds_target_origin) == {"plan"}
    # the plan's 55 % nursing-type share is a share of the target's institutional beds (E2,
    # E12: 62.49 % of all beds)
    np.testing.assert_allclose(after.nursing_beds_target,
                               0.55 * 0.6249 * after.elderly_beds_target)
    np.testing.assert_allclose(after.childcare_places_target, 4.5 * after.total / 1000)
    assert set(after.childcare_places_target_origin) == {"national"}
    np.testing.assert_allclose(after.childcare_places_needs_gap,
                               after.childcare_places_target - after.childcare_places_needs)


def test_a_count_target_is_not_split_among_counties():
    plan = [Target("elderly_beds", 2025, "count", 12000, "003"),
            Target("nursing_beds", 2025, "share_nursing", 0.6, "003")]
    targets = county_targets(plan, 2020, 2030)
    beds = [t for t in targets if t.service == "elderly_beds"]
    assert beds and {t.kind for t in beds} == {"per_1000_elderly"}
    assert all("cannot be shared out" in t.source for t in beds)
    nursing = [t for t in targets if t.service == "nursing_beds"]
    assert {t.value for t in nursing} == {0.6} and [t.year for t in nursing] == \
        list(range(2025, 2031))


def test_only_prefectures_and_provinces_have_counties():
    assert county_units(resolve_unit("500113")) == ()  # 巴南区, a district
    assert len(county_units(resolve_unit("532500"))) == 13


def test_key_findings_name_the_oldest_county_and_largest_place_gap():
    rows = pd.DataFrame({"unit_id": ["1", "2", "3", "4"], "name": ["甲县", "乙县", "丙县", "丁县"],
                         "year": [2035] * 4, "share_60plus": [0.20, 0.35, 0.25, 0.30],
                         "childcare_places_needs_gap": [-10.0, 5.0, -300.0, -20.0]})
    files = RunFiles(directory=Path("."), manifest={}, tables={"counties": rows})
    share, places = county_sentences(files, "zh")
    assert share.index("乙县") < share.index("丁县") < share.index("丙县")
    assert places.startswith("2035年托位缺口最大的县") and places.index("丙县") < \
        places.index("丁县") and "乙县" not in places
    assert "300" in places


def test_sum_check_sees_a_county_missing(honghe):
    missing = honghe.counties[honghe.counties.name != "蒙自市"]
    base = honghe.summary[honghe.summary.scenario == "baseline"].drop(columns="scenario")
    check = sum_check(missing, base, honghe.demand[honghe.demand.scenario == "baseline"])
    assert check["total"] > 0.1  # 蒙自市 holds about 14 % of Honghe's population


def test_sum_difference_reads_as_a_percentage():
    """The counties section states the largest difference between the counties' sum and the
    whole as a planner reads it (was 7.70e-07 in Honghe's Chinese report)."""
    from forecast.presentation.report import _small_share

    assert _small_share(7.7e-7, "zh") == "不足0.01%"
    assert _small_share(0.0, "en") == "0"
    assert _small_share(0.0023, "zh") == "0.23%"
    assert _small_share(0.0023, "en") == "0.23 %"
