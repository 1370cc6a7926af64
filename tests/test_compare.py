"""`forecast compare` runs the real command on two real configs and its numbers check out
against the census and the plans; bad input fails with one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import main
from forecast.config import load_config
from forecast.pipeline.compare import default_out_dir, key_years, side_by_side
from forecast.presentation.labels import COMPARE_TEXT

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

# 2020 census (七普) persons aged 60+: 红河州 668,603; 巴南区 257,338.
CENSUS_60PLUS = {"honghe": 668_603, "banan": 257_338}


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    result = invoke("compare", CONFIGS / "honghe.yaml", CONFIGS / "banan.yaml", "--out", out,
                    "--lang", "en")
    assert result.exit_code == 0, result.output
    return out, result.output


def test_writes_tables_workbook_and_charts(compared):
    out, output = compared
    for name in ("comparison.csv", "scenarios.csv", "comparison.xlsx"):
        assert (out / name).is_file()
    charts = {p.name for p in (out / "charts").iterdir()}
    for stem in ("honghe_scenarios_pop_60plus", "banan_scenarios_pop_0_2",
                 "honghe_scenarios_elderly_beds", "banan_scenarios_childcare_places",
                 "jurisdictions_share_60plus", "jurisdictions_beds_per_1000",
                 "jurisdictions_places_per_1000"):
        assert f"{stem}.png" in charts and f"{stem}.svg" in charts
    sheets = pd.ExcelFile(out / "comparison.xlsx").sheet_names
    assert sheets == ["comparison", "side_by_side", "scenarios", "first_shortfall"]
    assert "wrote" in output and not list(out.parent.glob(".out.tmp-*"))
    # the terminal's bed need (needs method) stands beside the institutional beds it is
    # compared with, and the text is in the run's language (--lang en here)
    assert COMPARE_TEXT["en"]["beds_institutional"] in output
    assert COMPARE_TEXT["en"]["footnote"] in output


def test_2020_population_aged_60plus_is_the_census(compared):
    out, _ = compared
    table = pd.read_csv(out / "comparison.csv")
    base = table[table.year == 2020]
    assert set(base.scenario) >= {"baseline", "low_fertility", "strict_norm"}
    for config, persons in CENSUS_60PLUS.items():
        values = base[base.config == config].pop_60plus
        assert values.to_numpy() == pytest.approx(persons, abs=1)
    share = base.pop_60plus / base.total
    assert base.share_60plus.to_numpy() == pytest.approx(share.to_numpy())


def test_rates_follow_from_counts_and_the_plans(compared):
    """Honghe 2020 (nested reading): 13,483 beds for 668,603 aged 60+ = 20.17 per 1,000; its
    2025 target is 35 per 1,000 aged 60+. Banan's plan: 12,000 beds in 2025 (count target)."""
    out, _ = compared
    table = pd.read_csv(out / "comparison.csv")
    baseline = table[table.scenario == "baseline"].set_index(["config", "year"])
    honghe_2020 = baseline.loc[("honghe", 2020)]
    assert honghe_2020.beds_supply == 13_483
    assert honghe_2020.beds_planned_per_1000_60plus == pytest.approx(13_483 / 668.603)
    assert baseline.loc[("honghe", 2025)].beds_target_per_1000_60plus == pytest.approx(35)
    banan_2025 = baseline.loc[("banan", 2025)]
    assert banan_2025.beds_plan_target == pytest.approx(12_000)
    assert banan_2025.beds_target_per_1000_60plus == pytest.approx(
        12_000 / banan_2025.pop_60plus * 1000)
    # gaps are supply − demand; 托位 coverage is places ÷ children aged 0–2
    row = baseline.loc[("banan", 2030)]
    # the needs method against institutional beds (Banan states only a total: 62.49 % of it,
    # the national share), the norm against all beds
    assert row.beds_gap_needs == pytest.approx(row.beds_supply_institutional
                                               - row.beds_demand_needs)
    assert row.beds_supply_institutional == pytest.approx(0.6249 * row.beds_supply)
    assert row.beds_gap_norm == pytest.approx(row.beds_supply - row.beds_demand_norm)
    assert row.places_coverage_under3 == pytest.approx(row.places_supply / row.pop_0_2)
    assert row.places_planned_per_1000 == pytest.approx(row.places_supply / row.total * 1000)
    # the norm method reproduces the plan's own norm: 35 beds per 1,000 aged 60+ (Honghe)
    assert baseline.loc[("honghe", 2030)].beds_needed_per_1000_60plus_norm == pytest.approx(35)
    # Honghe states no 托位 supply: coverage and first shortfall are unknown, not zero
    assert pd.isna(baseline.loc[("honghe", 2025)].places_coverage_under3)
    assert baseline.loc[("honghe", 2025)].first_shortfall_places_norm == "unknown"


def test_scenario_lines_differ_where_they_should(compared):
    out, _ = compared
    lines = pd.read_csv(out / "scenarios.csv")
    honghe = lines[(lines.config == "honghe") & (lines.year == 2035)].set_index("scenario")
    assert honghe.loc["low_fertility", "pop_0_2"] < honghe.loc["baseline", "pop_0_2"] \
        < honghe.loc["high_fertility", "pop_0_2"]
    # fertility does not touch those aged 60+ within 15 years
    assert honghe.loc["low_fertility", "pop_60plus"] == pytest.approx(
        honghe.loc["baseline", "pop_60plus"])
    # strict norm: 40 instead of 35 beds per 1,000 aged 60+
    assert honghe.loc["strict_norm", "beds_demand_norm"] == pytest.approx(
        honghe.loc["baseline", "beds_demand_norm"] * 40 / 35)
    assert len(lines[lines.config == "banan"].year.unique()) == 16  # 2020–2035


def test_side_by_side_and_key_years():
    assert key_years(2020, 2035) == [2020, 2025, 2030, 2035]
    assert key_years(2020, 2027) == [2020, 2025, 2027]
    table = pd.DataFrame({"scenario": ["baseline", "baseline", "low"], "name_en": ["A", "B", "A"],
                          "year": [2025, 2025, 2025], "pop_60plus": [1.0, 2.0, 3.0]})
    wide = side_by_side(table)
    assert list(wide.columns) == ["indicator", "A 2025", "B 2025"]
    assert wide.set_index("indicator").loc["pop_60plus"].tolist() == [1.0, 2.0]


def test_default_out_dir_names_the_configs():
    configs = [load_config(CONFIGS / "honghe.yaml"), load_config(CONFIGS / "banan.yaml")]
    assert default_out_dir(configs) == Path("outputs") / "compare-honghe-banan"


def test_missing_config_is_one_line_exit_2_nothing_written(tmp_path):
    out = tmp_path / "out"
    result = invoke("compare", CONFIGS / "honghe.yaml", tmp_path / "nope.yaml", "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.yaml" in lines[0] and "no such config file" in lines[0]
    assert not out.exists()


def test_yaml_error_is_one_line_exit_2_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (CONFIGS / "banan.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("projection:\n", "projection\n", 1), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("compare", bad, CONFIGS / "honghe.yaml", "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "YAML syntax error" in lines[0] and "bad.yaml" in lines[0]
    assert not out.exists()


def test_same_config_twice_is_refused(tmp_path):
    out = tmp_path / "out"
    result = invoke("compare", CONFIGS / "banan.yaml", CONFIGS / "banan.yaml", "--out", out)
    assert result.exit_code == 2
    assert "given twice" in result.stderr
    assert not out.exists()


def test_comparison_charts_draw_what_they_are_given():
    """scenario_demand_lines: one line per scenario + supply + target star; jurisdiction_bars:
    a NaN value leaves its bar out (n bars = known values)."""
    from forecast.errors import InputError
    from forecast.presentation import charts

    gaps = pd.DataFrame({"scenario": ["baseline"] * 2 + ["low"] * 2, "year": [2020, 2025] * 2,
                         "service": "elderly_beds", "method": "norm",
                         "demand": [100.0, 120.0, 100.0, 110.0], "supply": [90.0, 95.0] * 2,
                         "plan_target": [float("nan"), 130.0] * 2})
    fig = charts.scenario_demand_lines(gaps, "elderly_beds", lang="en")
    ax = fig.subfigs[0].axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["Baseline", "Low",
                                                             "Planned supply", "Plan target"]
    with pytest.raises(InputError):
        charts.scenario_demand_lines(gaps, "childcare_places", lang="en")
    frame = pd.DataFrame({"jurisdiction": ["A", "B"], "norm": [35.0, 35.0],
                          "supply": [28.7, float("nan")]})
    fig = charts.jurisdiction_bars(frame, axis_label="Beds per 1,000 aged 60+", lang="en")
    ax = fig.subfigs[0].axes[0]
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.texts] == ["?"]
