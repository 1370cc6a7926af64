"""Default inputs for a census unit (forecast.defaults.assumptions): each test states the published
figure or identity it checks and the tolerance, with the reason for the tolerance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import main
from forecast.defaults import (
    assumptions,
    census,
    census_base,
    fertility,
    migration,
    mortality,
    schedules,
    wpp,
)
from forecast.defaults.assumptions import build_defaults
from forecast.defaults.mortality import both_sexes_e0, local_mortality_level
from forecast.defaults.schedules import national_mx
from forecast.demography.engine import project
from forecast.demography.lifetable import life_table
from forecast.errors import UnitError
from forecast.vocabulary import SEXES

# 2020 census totals, research note care-demand-parameters.md §4 (census county yearbook via
# leiii/census): persons on 1 Nov 2020, total and aged 60+.
CENSUS_2020 = {
    "532500": (4_478_422, 668_603),  # 红河州 Honghe
    "530900": (2_257_991, 338_086),  # 临沧市 Lincang
    "630000": (5_923_957, 719_402),  # 青海省 Qinghai
    "500113": (1_178_856, 257_338),  # 巴南区 Banan
    "511781": (406_685, 85_594),  # 万源市 Wanyuan
}


@pytest.fixture(scope="module")
def five_units() -> assumptions.Defaults:
    units = [census.resolve_unit(code) for code in CENSUS_2020]
    return build_defaults(units, 2020, 2050)


def _project(defaults: assumptions.Defaults):
    """Project every unit of ``defaults`` with the engine (mx -> survival ratios here)."""
    survival = np.stack([life_table(defaults.mx[:, :, i], sex).survival_ratios()
                         for i, sex in enumerate(SEXES)], axis=2)
    return project(defaults.population, np.moveaxis(survival, 1, 0),
                   np.moveaxis(defaults.asfr, 1, 0), np.moveaxis(defaults.srb, 1, 0),
                   np.moveaxis(defaults.net_migrants, 1, 0))


# ------------------------------------------------------------------------ base population


@pytest.mark.parametrize("code", list(CENSUS_2020))
def test_base_population_equals_the_census(five_units, code):
    """Graduation keeps every census group exact, so the total and the 60+ (the groups
    60-64 ... 85+) equal the census counts to float rounding."""
    total, aged_60 = CENSUS_2020[code]
    population = five_units.population[five_units.unit_ids.index(code)]
    assert population.sum() == pytest.approx(total, abs=1e-6 * total)
    assert population[:, 60:].sum() == pytest.approx(aged_60, abs=1e-3)
    assert (population >= 0).all()


@pytest.mark.parametrize("code", ["532500", "530900", "630000"])
def test_inputs_command_writes_the_census_population(tmp_path, code):
    """`forecast inputs UNIT` writes population.csv whose total and 60+ are the census's."""
    total, aged_60 = CENSUS_2020[code]
    out = tmp_path / "inputs"
    result = CliRunner().invoke(main, ["inputs", code, "--out", str(out), "--end-year", "2030"])
    assert result.exit_code == 0, result.output
    population = pd.read_csv(out / "population.csv")
    assert list(population.columns) == ["sex", "age", "population"]
    assert population.population.sum() == pytest.approx(total, abs=1e-6 * total)
    assert population[population.age >= 60].population.sum() == pytest.approx(aged_60, abs=0.5)
    assert f"{total:,} persons" in result.output
    assert (out / "provenance.yaml").is_file()


def test_inputs_then_project_runs_end_to_end(tmp_path):
    """The written inputs project with `forecast project`; the 2020 row is the census total
    (Wanyuan 406,685) and the run balances."""
    inputs_dir, out = tmp_path / "in", tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(main, ["inputs", "万源市", "--out", str(inputs_dir)]).exit_code == 0
    result = runner.invoke(main, ["project", str(inputs_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    projected = pd.read_csv(out / "population.csv")
    assert sorted(projected.year.unique()) == list(range(2020, 2051))
    by_year = projected.groupby("year").population.sum()
    assert by_year[2020] == pytest.approx(406_685, abs=0.5)
    assert (projected.population >= 0).all()


def test_lincang_under_three_near_its_plan(five_units):
    """Lincang's plan (seeds/000, line 21): "3岁以下婴幼儿达8.3万人" at the end of 2020.

    Ages 0-2 of the graduated census are age 0 (exact) plus about three quarters of the 1-4
    group, split by the spline. The research note (§4) brackets the census-based figure at
    80,500-84,100 (age 0 + 0.47-0.50 × ages 1-4); the plan's 8.3万 is rounded to 1,000 and
    dated two months later, so that bracket is the tolerance (±2.5 % around 8.2万). Measured:
    81,193.
    """
    population = five_units.population[five_units.unit_ids.index("530900")]
    under_three = population[:, :3].sum()
    assert 80_500 <= under_three <= 84_100
    assert under_three == pytest.approx(83_000, rel=0.03)


# ------------------------------------------------------------------------------ fertility


def test_national_tfr_from_the_census_near_official():
    """The census method on 全国 gives the 2020 TFR; the official 2020-census figure is 1.30
    (NBS). Measured 1.293; tolerance ±0.05 (the method ignores under-count of infants)."""
    defaults = build_defaults([census.resolve_unit("全国")], 2020, 2030)
    tfr = defaults.provenance[0]["fertility"]["tfr_base"]
    assert tfr == pytest.approx(1.30, abs=0.05)
    # the asfr of the first step is that TFR times WPP's 2021/2020 TFR ratio
    ratio = wpp.wpp_indicator("tfr").loc[2021] / wpp.wpp_indicator("tfr").loc[2020]
    assert defaults.asfr[0, 0].sum() == pytest.approx(tfr * ratio, abs=2e-3)


def test_unit_without_children_gets_the_wpp_tfr():
    """南沙群岛 (639 persons, none aged 0): no census TFR can be estimated, so WPP China's
    2020 TFR (1.236) is used with a warning, instead of NaN rates."""
    defaults = build_defaults([census.resolve_unit("460300/南沙群岛")], 2020, 2030)
    fertility = defaults.provenance[0]["fertility"]
    assert fertility["tfr_base"] == pytest.approx(wpp.wpp_indicator("tfr").loc[2020], abs=1e-3)
    assert "no children aged 0" in fertility["warning"]
    assert np.isfinite(defaults.asfr).all()


# ------------------------------------------------------------------------------ mortality


def test_structure_factor_keeps_wpp_deaths_on_the_census_population():
    """WPP 2024 mid-2020 population (thousands, data/wpp2024_china_population_5yr.csv) against
    the 2020 census: men 85+ 0.77 (WPP counts 23 % fewer), women 85+ 0.95; 1 below age 40.
    Applied to the census, the factor gives back WPP's deaths of the 65+ within 3 % (the
    remaining gap: the census date, 1 Nov, against WPP's 1 July stock)."""
    factor = mortality.structure_factor(2020)
    assert (factor[:, :40] == 1).all()
    assert factor[0, 95] == pytest.approx(0.77, abs=0.01)
    assert factor[1, 95] == pytest.approx(0.95, abs=0.01)


def test_yunnan_level_from_registered_deaths_not_e0():
    """Yunnan has no 2021 registered death rate shipped, so its level is the 2010-census SMR
    relative to the nation; its implied 2019-20 e0 (measured 75.2) is then within 1.5 years
    of the census life table's 74.02 (data/province_life_expectancy.csv), which it was not
    fitted to (the census life table rests on the census's own, under-reported deaths)."""
    levels, notes = local_mortality_level([census.resolve_unit("530000")], 2020)
    mx = levels[0][:, None] * mortality.census_consistent_mx(np.array([2019]))[0]
    assert both_sexes_e0(mx) == pytest.approx(74.02, abs=1.5)
    assert "2010 census deaths" in notes[0]["method"]


def test_registered_province_level_is_relative_to_the_nation():
    """Guangxi's k = (6.80 / 7.18) / (expected CDR Guangxi / expected CDR China), the
    registered 2021 rates of data/registered_vital_rates.csv (identity)."""
    levels, notes = local_mortality_level([census.resolve_unit("450000")], 2020)
    note = notes[0]
    assert note["registered_cdr"] == 6.80 and note["registered_cdr_national"] == 7.18
    expected = (6.80 / 7.18) / (note["expected_cdr_at_national_rates"]
                                / note["expected_cdr_national"])
    assert levels[0][0] == pytest.approx(expected, rel=1e-3)


def test_unit_level_is_province_level_times_relative_smr():
    """Huizhou inside Guangdong (calibrated on its registered deaths): k = k_Guangdong ×
    SMR_Huizhou / SMR_Guangdong (module docstring)."""
    levels, notes = local_mortality_level(
        [census.resolve_unit("440000"), census.resolve_unit("441300")], 2020)
    smr = mortality.mortality_ratio_2010(["440000", "441300"])
    assert levels[1] == pytest.approx(levels[0] * smr[1] / smr[0], rel=1e-12)
    assert notes[1]["smr_unit_over_province"] == pytest.approx(smr[1] / smr[0], abs=1e-4)


def test_defaults_mx_is_level_times_national_schedule(five_units):
    """mx of every step = the level k (by sex) shaped by age (faded to the national level at
    the oldest ages, forecast.defaults.mortality.age_shaped_levels) × the national schedule."""
    levels, _ = local_mortality_level([census.resolve_unit(c) for c in CENSUS_2020], 2020)
    national = mortality.census_consistent_mx(five_units.settings.step_years)
    base = mortality.census_consistent_mx(np.array([2019]))[0]
    shaped = mortality.age_shaped_levels(levels, five_units.population, base)
    np.testing.assert_allclose(five_units.mx, shaped[:, None] * national[None], rtol=1e-12)


@pytest.fixture(scope="module")
def un_life_table_2023(reference) -> pd.DataFrame:
    path = reference / "wpp2024-lifetable-1x1" / "china_lifetable_single_age_2023.csv"
    if not path.is_file():
        pytest.skip(f"UN single-age life table not found at {path}")
    return pd.read_csv(path).sort_values(["sex", "age"])


@pytest.mark.parametrize("sex", SEXES)
def test_graduated_wpp_schedule_against_un_single_age_table(un_life_table_2023, sex):
    """WPP 2024 abridged mx graduated to single ages vs the UN's own single-age life table
    for China 2023 (validation only; the file is not shipped).

    The step centred nearest mid-2023 is 2022 (centre 1 May 2023). Measured: e0 75.69 vs
    75.20 (male), 81.28 vs 80.93 (female), i.e. +0.49 / +0.35 years (the abridged schedule is
    a 5-year period average interpolated in time, not the 2023 annual table); tolerance
    0.6 years. qx relative difference: median over 1-95 is 5.4 % / 4.9 %; over 15-95 at most
    15.4 % / 16.8 %; over 1-14 at most 82 % / 85 %, at age 10 — the spline of the cumulative
    hazard puts too much of the 10-14 group at age 10 and too little at 2-4. Those ages carry
    a hazard below 0.001 and do not move e0 by 0.01 year. Tolerances: 0.20 at 15-95, 1.0 at
    1-14, median 0.08.
    """
    table = un_life_table_2023[un_life_table_2023.sex == sex]
    mx = national_mx(np.array([2022]))[0, SEXES.index(sex)]
    ours = life_table(mx, sex)
    assert float(ours.e0) == pytest.approx(table.ex.iloc[0], abs=0.6)
    relative = np.abs(ours.qx / table.qx.to_numpy() - 1)
    assert relative[15:96].max() < 0.20
    assert relative[1:15].max() < 1.0
    assert np.median(relative[1:96]) < 0.08


def test_honghe_aged_60_in_2023_near_reported():
    """Soft check: chinacensus.org gives Honghe 74.3万 aged 60+ in 2023 (an annual estimate
    compiled from local bulletins, M confidence; not a census count). The projection for
    1 Nov 2023 should be within ±8 % (measured 740,217, −0.4 %)."""
    defaults = build_defaults([census.resolve_unit("532500")], 2020, 2025)
    population = _project(defaults).population[:, 0]
    aged_60_2023 = population[2023 - 2020][:, 60:].sum()
    assert aged_60_2023 == pytest.approx(743_000, rel=0.08)


# ------------------------------------------------------------------------------ migration


def test_migration_components_are_finite_and_bounded(five_units):
    """Net migrants come from rates limited to ±20 % a year of the projected population."""
    projected = _project(five_units).population  # (T+1, U, 2, 101)
    start = np.moveaxis(projected[:-1], 0, 1)
    assert np.isfinite(five_units.net_migrants).all()
    assert (np.abs(five_units.net_migrants)
            <= migration.MAX_MIGRATION_RATE * start + 1e-6).all()


# ------------------------------------------------------------------------ 2010 base year


def _perturb_after_2010(monkeypatch):
    """Make every WPP value after 2010 different (age-dependent, so ratios do not cancel)."""
    real_mx, real_pasfr, real_indicator, real_population = (
        wpp.wpp_mx_abridged, wpp.wpp_percent_asfr, wpp.wpp_indicator, wpp.wpp_population_5yr)

    def mx():
        frame = real_mx()
        late = frame.period_start >= 2010
        frame.loc[late, "mx"] *= 1.5 + frame.loc[late, "age_start"] / 50
        return frame

    def pasfr():
        frame = real_pasfr()
        late = frame.period_start >= 2010
        frame.loc[late, "percent_asfr"] *= 1 + frame.loc[late, "age_start"] / 20
        totals = frame.groupby("period_start").percent_asfr.transform("sum")
        frame.loc[late, "percent_asfr"] = 100 * frame.percent_asfr[late] / totals[late]
        return frame

    def indicator(name, variant="median"):
        series = real_indicator(name, variant).copy()
        series[series.index > 2010] *= 0.5
        return series

    def population():  # e.g. WPP's 2015 population, which the 2010 structure factor once read
        frame = real_population()
        late = frame.year > 2010
        frame.loc[late, "population"] *= 1.2 + frame.loc[late, "age_start"] / 40
        return frame

    monkeypatch.setattr(wpp, "wpp_population_5yr", population)
    monkeypatch.setattr(wpp, "wpp_mx_abridged", mx)
    monkeypatch.setattr(wpp, "wpp_percent_asfr", pasfr)
    monkeypatch.setattr(wpp, "wpp_indicator", indicator)


def _clear_caches():
    for cached in (schedules._single_year_mx_by_period, schedules._asfr_pattern_by_period,
                   mortality._national_smr_2010, migration._national_residual_rate,
                   mortality.structure_factor,
                   mortality._registered_province_level_cached, census_base._old_age_pattern):
        cached.cache_clear()


def test_2010_base_uses_only_what_was_known_in_2010(monkeypatch):
    """Building 2010 defaults with WPP after 2010 changed gives identical inputs, and the
    perturbation does change the 2020 defaults (so the test can fail)."""
    units = [census.resolve_unit(code) for code in ("532500", "630000", "500113")]
    _clear_caches()
    normal_2010 = build_defaults(units, 2010, 2030)
    normal_2020 = build_defaults(units, 2020, 2030)
    try:
        _perturb_after_2010(monkeypatch)
        _clear_caches()
        perturbed_2010 = build_defaults(units, 2010, 2030)
        perturbed_2020 = build_defaults(units, 2020, 2030)
    finally:
        monkeypatch.undo()
        _clear_caches()
    for name in ("population", "mx", "asfr", "srb", "net_migrants"):
        np.testing.assert_array_equal(getattr(normal_2010, name), getattr(perturbed_2010, name),
                                      err_msg=name)
    assert normal_2010.provenance == perturbed_2010.provenance
    assert not np.allclose(normal_2020.mx, perturbed_2020.mx)
    assert not np.allclose(normal_2020.asfr, perturbed_2020.asfr)


def test_2010_structure_factor_reads_no_wpp_population_after_2010(monkeypatch):
    """The census/WPP population factor of a 2010 base uses WPP's 2005 and 2010 populations
    only: changing WPP's populations after 2010 leaves it identical and moves the 2020 one."""
    _clear_caches()
    before_2010, before_2020 = (mortality.structure_factor(2010, 2010),
                                mortality.structure_factor(2020))
    real = wpp.wpp_population_5yr

    def population():
        frame = real()
        late = frame.year > 2010
        frame.loc[late, "population"] *= 1.2 + frame.loc[late, "age_start"] / 40
        return frame

    try:
        monkeypatch.setattr(wpp, "wpp_population_5yr", population)
        _clear_caches()
        np.testing.assert_array_equal(mortality.structure_factor(2010, 2010), before_2010)
        assert not np.allclose(mortality.structure_factor(2020), before_2020)
    finally:
        monkeypatch.undo()
        _clear_caches()
    assert (before_2010[:, :40] == 1).all() and np.isfinite(before_2010).all()


def test_2010_base_migration_from_the_census_stock_and_census_2010_population():
    """2010 base: migration from the 2010 census's 户籍 gap (the 2010→2020 residual was
    unknown): Honghe's residents 4,500,896 against 4,460,511 registered (+0.90 %, the nation
    −0.34 %) give +0.0827 % a year (÷ 15 years) in the first step; population = 2010 census
    total (Honghe 4,500,806 persons on 1 Nov 2010, data/census_population_5yr.csv)."""
    unit = census.resolve_unit("532500")
    defaults = build_defaults([unit], 2010, 2020)
    first = defaults.net_migrants[0, 0].sum() / defaults.population[0].sum()
    share = (4_500_896 - 4_460_511) / 4_500_896
    assert first == pytest.approx((share + 0.0034258) / 15, rel=1e-3)
    expected = census.census_population("532500", 2010).population.sum()
    assert defaults.population.sum() == pytest.approx(expected, abs=1e-3)
    assert defaults.settings.start_year == 2010


# ------------------------------------------------------------------------------ bad input


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_unknown_unit_is_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["inputs", "不存在的县", "--out", str(tmp_path / "o")])
    line = _one_line_error(result)
    assert "no census unit matches '不存在的县'" in line and "forecast units" in line
    assert not (tmp_path / "o").exists()


def test_ambiguous_name_lists_candidates(tmp_path):
    """城区 is a district of several cities (阳泉, 长治, 晋城 …): exit 2, candidates listed."""
    result = CliRunner().invoke(main, ["inputs", "城区", "--out", str(tmp_path / "o")])
    line = _one_line_error(result)
    assert "matches" in line and "census units" in line
    assert line.count("城区 (county") >= 2
    assert "6-digit code" in line


def test_base_year_2015_rejected_by_click(tmp_path):
    result = CliRunner().invoke(main, ["inputs", "532500", "--out", str(tmp_path / "o"),
                                       "--base-year", "2015"])
    assert result.exit_code == 2
    assert "2015" in result.stderr and "--base-year" in result.stderr


def test_end_year_before_base_is_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["inputs", "532500", "--out", str(tmp_path / "o"),
                                       "--end-year", "2019"])
    line = _one_line_error(result)
    assert "end year 2019" in line and "--end-year" in line
    assert not (tmp_path / "o").exists()


def test_unit_without_age_data_is_one_line_error(tmp_path):
    """Every 2020 unit has age data, so the case is a 2010 base for a 2020 unit with no 2010
    area (the first such is 130171, 石家庄高新技术产业开发区, formed after 2010 from parts of
    other units; forecast.defaults.crosswalk): one line naming the unit, exit 2, from the CLI;
    UnitError from build_defaults."""
    missing = _unit_new_since_2010()
    result = CliRunner().invoke(main, ["inputs", missing.unit_id, "--out", str(tmp_path / "o"),
                                       "--base-year", "2010"])
    line = _one_line_error(result)
    assert "no 2010 area" in line and missing.unit_id in line
    with pytest.raises(UnitError, match="no 2010 area"):
        build_defaults([missing], 2010, 2020)


def _unit_new_since_2010() -> census.Unit:
    from forecast.defaults.crosswalk import unmatched_2020_leaves

    coded = unmatched_2020_leaves()
    coded = coded[coded.code.str.len() == 6]
    return census.resolve_unit(str(coded.unit_id.iloc[0]))


def test_build_defaults_rejects_bad_years():
    unit = census.resolve_unit("532500")
    with pytest.raises(UnitError, match="not a census year"):
        build_defaults([unit], 2015, 2050)
    with pytest.raises(UnitError, match="not after the base year"):
        build_defaults([unit], 2020, 2020)


def test_2010_base_births_are_the_registered_births_of_2010():
    """A 2010 base's births of the 12 months before the census (TFR × pattern-weighted women)
    are, for China, NBS's registered 2010 births (1,588万; data/nbs_births_1949_2023.csv), not
    the census's own count (about 1,390万). A province's births per person relative to the
    nation's are the geometric mean of the ratio of its census 出生率 to the nation's (Yunnan
    12.30 ‰, Beijing 5.92 ‰ in the 2010 census) and the ratio of its children aged 0–4 per
    person to the nation's (fertility.birth_level_2010)."""
    units = [census.resolve_unit(c, 2010) for c in ("CN", "530000", "110000")]
    d = build_defaults(units, 2010, 2012)
    women = d.population[:, 1, :]
    exposed = 0.5 * (women + np.concatenate([women[:, 1:], women[:, -1:]], axis=1))
    pattern = schedules.asfr_pattern(np.array([2009]), 2010)[0]
    tfr = np.array([p["fertility"]["tfr_base"] for p in d.provenance])
    births = tfr * (exposed * pattern).sum(axis=1)
    assert births[0] == pytest.approx(15_880_000, rel=2e-3)
    persons = d.population.sum(axis=(1, 2))
    per_person = births / persons
    census_12m, census_0_4 = fertility._province_births_2010()
    national_cbr = 1000 * census_12m / persons[0]
    children = d.population[:, :, :5].sum(axis=(1, 2)) / persons
    for row, cbr in ((1, 12.30), (2, 5.92)):
        expected = np.sqrt(cbr / national_cbr * children[row] / (5 * census_0_4 / persons[0]))
        assert per_person[row] / per_person[0] == pytest.approx(expected, rel=2e-3)
