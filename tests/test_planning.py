"""What a planner must budget (forecast.care.planning, issue 12): groups, workforce, money, land.

Identities checked: 保育人员 = places by age ÷ the class ratios of 国卫人口发〔2019〕58号
(乳儿班 1:3, 托小班 1:5, 托大班 1:7); 护理员 = residents by care level ÷ residents per carer;
Banan's subsidies (003 (七), (十九)): 1,000 yuan per new bed and per new 托位 on top of the
central 10,000, 50 yuan per bed-month at occupancy ≥ 50 %; Wanyuan's land norm (004 二(二)):
0.1 m² per resident, 10 / 8 托位 per 1,000 residents of new / old residential areas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from forecast.care.demand import ChildcareParameters, ElderlyCareParameters
from forecast.care.planning import (
    PlanRate,
    PlanRates,
    WorkforceParameters,
    land_rows,
    money_rows,
    tekun_rows,
    workforce_rows,
)
from forecast.config import Planning, load_config
from forecast.pipeline.run import run

ROOT = Path(__file__).resolve().parents[1]


def _demand(year: int, **values) -> pd.DataFrame:
    rows = [{"year": year, "service": "driver", "method": k, "value": v, "unit": "persons",
             "assumptions": ""} for k, v in values.items() if k not in ("beds", "places")]
    rows.append({"year": year, "service": "childcare_places", "method": "needs",
                 "value": values["places"], "unit": "places", "assumptions": ""})
    rows.append({"year": year, "service": "elderly_beds", "method": "needs",
                 "value": values["beds"], "unit": "beds", "assumptions": ""})
    return pd.DataFrame(rows)


def _population(year: int, by_age: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame([{"year": year, "sex": sex, "age": age, "population": n / 2}
                         for age, n in by_age.items() for sex in ("male", "female")])


def test_childcare_carers_follow_the_class_ratios():
    # every child is aged 1 (托小班): 500 places need 500 / 5 = 100 carers
    demand = _demand(2025, severe_disabled=0.0, moderate_disabled=0.0, places=500.0,
                     beds=0.0)
    rows = workforce_rows(demand, _population(2025, {0: 0.0, 1: 1000.0, 2: 0.0}),
                          ElderlyCareParameters(), ChildcareParameters(), WorkforceParameters())
    carers = rows[rows.item == "childcare_carers"].value.iloc[0]
    assert carers == pytest.approx(500 / 5)
    # half aged 0 and half aged 2 with equal demand rates: 1/2·(1/3) + 1/2·(1/7) per place
    flat = ChildcareParameters(age_profile=((0, 1.0), (1, 1.0), (2, 1.0)))
    rows = workforce_rows(demand, _population(2025, {0: 500.0, 1: 0.0, 2: 500.0}),
                          ElderlyCareParameters(), flat, WorkforceParameters())
    carers = rows[rows.item == "childcare_carers"].value.iloc[0]
    assert carers == pytest.approx(500 * (0.5 / 3 + 0.5 / 7))


def test_elderly_carers_by_care_level():
    demand = _demand(2025, severe_disabled=1000.0, moderate_disabled=4000.0, places=0.0,
                     beds=0.0)
    elderly = ElderlyCareParameters(u_severe=0.3, u_moderate=0.1)
    workforce = WorkforceParameters(residents_per_carer_severe=3,
                                    residents_per_carer_moderate=5)
    rows = workforce_rows(demand, _population(2025, {0: 1.0, 1: 1.0, 2: 1.0}), elderly,
                          ChildcareParameters(), workforce)
    carers = rows[(rows.item == "elderly_carers") & (rows.method == "needs")].value.iloc[0]
    assert carers == pytest.approx(1000 * 0.3 / 3 + 4000 * 0.1 / 5)


def test_land_at_wanyuans_norms_and_tekun_without_a_count():
    demand = _demand(2030, pop_total=400_000.0, places=0.0, beds=0.0)
    rates = PlanRates(land_elderly_m2_per_resident=PlanRate(0.1, "004"),
                      places_per_1000_new_residential=PlanRate(10, "004"),
                      places_per_1000_old_residential=PlanRate(8, "004"))
    rows = land_rows(demand, rates).set_index("item")
    assert rows.loc["land_elderly_m2", "value"] == pytest.approx(40_000)
    assert rows.loc["places_new_residential", "value"] == pytest.approx(4_000)
    assert rows.loc["places_old_residential", "value"] == pytest.approx(3_200)
    tekun = tekun_rows([2025], PlanRates(tekun_centralised_share=PlanRate(0.6, "000")))
    assert tekun.value.tolist() == [0.6] and tekun.unit.tolist() == ["share"]
    assert "no count" in tekun.basis.iloc[0]


def test_wanyuans_budgets_set_against_demand():
    """Wanyuan states budgets (004 附件2 第10项: 养老发展资金每年至少2000万元, 托育发展资金每年
    至少1000万元) but no subsidy rates: each budget is set against the beds and places demanded,
    yuan per bed (place) a year = budget ÷ demand, by method."""
    demand = _demand(2030, pop_total=400_000.0, places=500.0, beds=2_000.0)
    gaps = pd.DataFrame({"year": [2030] * 3, "service": ["elderly_beds", "elderly_beds",
                                                          "childcare_places"],
                         "method": ["needs", "norm", "needs"], "demand": [2_000.0, 4_000.0, 500.0],
                         "supply": [np.nan] * 3})
    rates = PlanRates(budget_elderly_yuan_per_year=PlanRate(2e7, "004"),
                      budget_childcare_yuan_per_year=PlanRate(1e7, "004"))
    rows = money_rows(gaps, demand, rates, ElderlyCareParameters())
    per = rows[rows.item == "budget_per_demand"].set_index(["service", "method"])
    assert per.loc[("elderly_beds", "needs"), "value"] == pytest.approx(10_000)
    assert per.loc[("elderly_beds", "norm"), "value"] == pytest.approx(5_000)
    assert per.loc[("childcare_places", "needs"), "value"] == pytest.approx(20_000)
    assert per.loc[("childcare_places", "needs"), "unit"] == "yuan per place a year"


def test_a_share_above_one_is_refused():
    with pytest.raises(ValidationError, match="not a fraction"):
        Planning(tekun_centralised_share={"value": 1.5, "source": {"quote": "x"}})


@pytest.fixture(scope="module")
def banan():
    return run(load_config(ROOT / "configs" / "banan.yaml"), ["baseline"])


def test_banan_subsidies_at_its_own_rates(banan):
    table = banan.planning
    gaps = banan.gaps[banan.gaps.scenario == "baseline"]
    places = gaps[(gaps.service == "childcare_places") & (gaps.method == "needs")]
    shortfall = (places.demand - places.supply).clip(lower=0).to_numpy()
    local = table[(table.item == "subsidy_new_places") & (table.method == "needs")]
    central = table[(table.item == "central_subsidy_new_places") & (table.method == "needs")]
    np.testing.assert_allclose(local.value.to_numpy(), 1000 * shortfall)
    np.testing.assert_allclose(central.value.to_numpy(), 10000 * shortfall)
    assert shortfall.max() > 0
    beds = gaps[(gaps.service == "elderly_beds") & (gaps.method == "norm")]
    bills = table[(table.item == "subsidy_new_beds") & (table.method == "norm")]
    # supply unknown before 2025 (the plan's 12,000 beds are a 2025 target): every bed
    # demanded then is counted as new, an upper bound the basis column says
    new = (beds.demand - beds.supply).clip(lower=0).where(beds.supply.notna(), beds.demand)
    np.testing.assert_allclose(bills.value.to_numpy(), 1000 * new.to_numpy())
    upper = bills.basis.str.contains("upper bound").to_numpy()
    np.testing.assert_array_equal(upper, beds.supply.isna().to_numpy())  # only those years
    assert upper.any() and not upper.all()
    drivers = banan.demand[(banan.demand.scenario == "baseline")
                           & (banan.demand.method == "residents_needing_care")]
    operating = table[table.item == "operating_subsidy_beds"].set_index("year").value
    supply = gaps[(gaps.service == "elderly_beds") & (gaps.method == "needs")].set_index(
        "year").supply
    occupied = np.minimum(drivers.set_index("year").value, supply * 0.85)
    expected = (50 * 12 * occupied).where(occupied / supply >= 0.5, 0.0).where(supply.notna())
    np.testing.assert_allclose(operating.to_numpy(), expected.reindex(operating.index))
    assert banan.manifest["planning"]["plan_rates"] == [
        "subsidy_per_new_bed_yuan", "operating_subsidy_per_bed_month_yuan",
        "operating_subsidy_min_occupancy", "subsidy_per_new_place_yuan",
        "central_subsidy_per_new_place_yuan"]


def test_report_marks_upper_bounds_and_says_subsidies_are_cumulative(banan):
    """Banan's bed subsidies of 2025, 2030 and 2035 are against its planned beds (supply
    known from 2025): no upper-bound mark; a table whose supply is unknown in the years shown
    (Honghe's 托位) is marked; the section says a one-off subsidy is each year's gap × the
    rate, a cumulative sum."""
    from forecast.presentation.report import RunFiles, planning_html

    files = RunFiles(directory=Path("."), manifest={}, tables={"planning": banan.planning})
    zh = planning_html(files, "zh")
    assert "累计数而非当年支出" in zh
    row = next(r for r in zh.split("<tr>") if "新增床位一次性补贴" in r and "千人指标法" in r)
    assert "上限" not in row
    unknown = banan.planning.copy()
    unknown["basis"] = unknown["basis"].where(
        unknown.item != "subsidy_new_places",
        unknown["basis"] + "; no supply stated: every bed or place demanded is counted as new "
                           "(an upper bound; assumption)")
    files = RunFiles(directory=Path("."), manifest={}, tables={"planning": unknown})
    row = next(r for r in planning_html(files, "en").split("<tr>")
               if "subsidy of new places (local)" in r)
    assert "upper bound" in row


def test_planning_codes_show_in_chinese_in_the_workbook(banan):
    """The workbook shows planning.csv's topic and item codes as text in the run's language
    (groups → 重点人群, pop_80plus → 80岁及以上老人); the CSV keeps the codes."""
    from forecast.presentation.outputs import display_frame

    shown = display_frame(banan.planning, "zh")
    assert set(shown.topic) == {"重点人群", "人员", "资金"}
    assert not any(str(v).isascii() for v in shown["item"]), set(shown["item"])
    assert "pop_80plus" in set(banan.planning["item"])
    assert "aged 80+" in set(display_frame(banan.planning, "en")["item"])


def test_workbook_formats_planning_values_by_unit(tmp_path):
    """A share (Lincang's 特困 target 0.6) shows as 60.0 %, years of budget with a decimal,
    persons and yuan as whole numbers: one value column holds all of them (before, every row
    took the first row's whole-number format, so 0.6 showed as 1)."""
    import openpyxl

    from forecast.presentation.outputs import write_excel

    frame = pd.DataFrame({"year": [2025] * 4, "topic": ["groups", "groups", "money", "money"],
                          "item": ["pop_80plus", "tekun_centralised_share", "subsidy_new_beds",
                                   "budget_years_for_bill"],
                          "service": ["", "", "elderly_beds", "elderly_beds"],
                          "method": ["", "", "needs", "needs"],
                          "value": [45917.6, 0.6, 473000.0, 0.3],
                          "unit": ["persons", "share", "yuan", "years"],
                          "basis": [""] * 4, "source": [""] * 4})
    write_excel({"planning": frame}, tmp_path / "book.xlsx", lang="zh")
    sheet = openpyxl.load_workbook(tmp_path / "book.xlsx")["planning"]
    header = [c.value for c in sheet[1]]
    column = header.index("数值 value") + 1
    formats = [sheet.cell(row=r, column=column).number_format for r in range(2, 6)]
    assert formats == ["#,##0", "0.0%", "#,##0", "#,##0.0"]
    units = [sheet.cell(row=r, column=header.index("单位 unit") + 1).value for r in range(2, 6)]
    assert units == ["人", "比例", "元", "年"]


def test_planning_intro_names_only_what_the_plan_gives():
    """Honghe states a subsidy rate and no budget, Wanyuan budgets and no rate: the section's
    first sentence names subsidies or budgets only when there are rows for them."""
    from forecast.presentation.report import RunFiles, planning_html

    def intro(items):
        table = pd.DataFrame({"year": [2025] * len(items), "topic": ["money"] * len(items),
                              "item": items, "service": ["childcare_places"] * len(items),
                              "method": [""] * len(items), "value": [1.0] * len(items),
                              "unit": ["yuan"] * len(items), "basis": [""] * len(items),
                              "source": [""] * len(items)})
        html = planning_html(RunFiles(directory=Path("."), manifest={},
                                      tables={"planning": table}), "zh")
        return html.split("</p>")[0]

    assert "补助资金" in intro(["central_subsidy_new_places"])
    assert "预算" not in intro(["central_subsidy_new_places"])
    assert "补助资金" not in intro(["budget_childcare"]) and "资金预算" in intro(
        ["budget_childcare"])


def test_every_basis_reads_in_chinese(banan):
    """The Chinese workbook's planning sheet gives each row's basis in Chinese: every basis
    planning.py writes (Banan's groups, workforce and subsidies, Wanyuan-like budgets and land,
    Lincang-like 特困 share, the bill against a budget) translates with no English sentence left
    (forecast.presentation.labels.translate; before, the sheet's basis column was English)."""
    from forecast.presentation.labels import UNTRANSLATED, english_sentences, translate

    demand = _demand(2030, pop_total=400_000.0, places=500.0, beds=2_000.0)
    gaps = pd.DataFrame({"year": [2030, 2030], "service": ["elderly_beds", "childcare_places"],
                         "method": ["needs", "needs"], "demand": [2_000.0, 500.0],
                         "supply": [1_000.0, np.nan]})
    rates = PlanRates(subsidy_per_new_bed_yuan=PlanRate(1000, "003"),
                      budget_elderly_yuan_per_year=PlanRate(2e7, "004"),
                      budget_childcare_yuan_per_year=PlanRate(1e7, "004"),
                      land_elderly_m2_per_resident=PlanRate(0.1, "004"),
                      places_per_1000_new_residential=PlanRate(10, "004"),
                      places_per_1000_old_residential=PlanRate(8, "004"))
    frames = [banan.planning, money_rows(gaps, demand, rates, ElderlyCareParameters()),
              land_rows(demand, rates),
              tekun_rows([2030], PlanRates(tekun_centralised_share=PlanRate(0.6, "000")))]
    bases = set(pd.concat(frames).basis)
    assert len(bases) > 15
    for basis in bases:
        text = translate(basis, "zh")
        assert text != UNTRANSLATED and not english_sentences(text), (basis, text)
