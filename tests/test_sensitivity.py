"""The sensitivity (tornado) table and chart (forecast.pipeline.uncertainty.sensitivity_table,
forecast.presentation.charts.tornado_chart): one-at-a-time swings of the care parameters over their
sourced
ranges, on Honghe's deterministic baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.config import load_config
from forecast.paths import data_dir
from forecast.pipeline.run import run
from forecast.pipeline.uncertainty import TORNADO_PANELS, tornado_source

CONFIG = data_dir().parent / "configs" / "honghe.yaml"


@pytest.fixture(scope="module")
def result():
    return run(load_config(CONFIG), ["baseline"], counties=False)


@pytest.fixture(scope="module")
def table(result):
    return result.sensitivity


def _deterministic(result, service: str, method: str, year: int) -> pd.Series:
    gaps = result.gaps
    return gaps[(gaps.scenario == "baseline") & (gaps.service.astype(str) == service)
                & (gaps.method.astype(str) == method) & (gaps.year == year)].iloc[0]


def test_centre_is_the_deterministic_run_and_swings_follow_the_formulas(result, table):
    """Identities: every row's central demand, supply and gap are the deterministic run's
    (gaps.csv, 2035); the needs method is residents ÷ planning occupancy, so its demand at
    occupancy 0.70 and 0.95 is the central demand × 0.85/0.70 and × 0.85/0.95 (E4); the
    expected-use method is residents ÷ observed occupancy (E3, 0.45–0.55) likewise; the swing is
    |gap at high − gap at low| where supply is known."""
    assert len(table) and set(table.year) == {2035}
    for row in table.itertuples(index=False):
        det = _deterministic(result, row.service, row.method, row.year)
        assert row.demand == pytest.approx(det.demand, rel=1e-9)
        if not np.isnan(det.supply):
            assert row.gap == pytest.approx(det.gap, rel=1e-9)
            assert row.swing == pytest.approx(abs(row.gap_at_high - row.gap_at_low), rel=1e-9)
    needs = table[(table.service == "elderly_beds") & (table.method == "needs")
                  & (table.parameter == "target_occupancy")].iloc[0]
    assert (needs.low_value, needs.central_value, needs.high_value) == (0.70, 0.85, 0.95)
    assert needs.demand_at_low == pytest.approx(needs.demand * 0.85 / 0.70, rel=1e-9)
    assert needs.demand_at_high == pytest.approx(needs.demand * 0.85 / 0.95, rel=1e-9)
    use = table[(table.service == "elderly_beds") & (table.method == "expected_use")
                & (table.parameter == "observed_occupancy")].iloc[0]
    assert use.demand_at_low == pytest.approx(use.demand * 0.50 / 0.45, rel=1e-9)
    assert use.source.startswith("E3 ") and use.confidence == "M"


def test_childcare_enrolment_ends_reproduce_the_ceiling_scenario(table):
    """The 托位 policy path's 2035 enrolment at the top of its range (C-policy's high, the whole
    expressed demand C3) gives the same 2035 needs-based places as the ceiling scenario
    childcare_full_uptake (uptake 1.0 by 2035) run deterministically."""
    config = load_config(CONFIG)
    ceiling = run(config, ["childcare_full_uptake"], counties=False).demand
    ceiling = ceiling[(ceiling.year == 2035) & (ceiling.service.astype(str) == "childcare_places")
                      & (ceiling.method.astype(str) == "needs")].value.iloc[0]
    row = table[(table.service == "childcare_places")
                & (table.parameter == "childcare_enrolment_2035")].iloc[0]
    assert row.demand_at_high == pytest.approx(ceiling, rel=1e-9)


def test_tornado_ordering_matches_its_own_table(table):
    """Within each service and method the rows are ranked 1, 2, … by swing, largest first,
    and every tornado panel lists the parameters top to bottom in that order, its bars
    spanning each row's low and high values."""
    from forecast.presentation.charts import tornado_chart
    from forecast.presentation.labels import label

    for _, block in table.groupby(["service", "method"]):
        assert list(block["rank"]) == list(range(1, len(block) + 1))
        assert (np.diff(block["swing"].to_numpy()) <= 0).all()
    figure = tornado_chart(table, TORNADO_PANELS, lang="zh", source=tornado_source(table))
    axes = [ax for ax in figure.get_axes() if ax.get_yticklabels()]
    drawn = [(s, m) for s, m in TORNADO_PANELS
             if len(table[(table.service == s) & (table.method == m)])]
    assert len(axes) == len(drawn) == 3
    for ax, (service, method) in zip(axes, drawn, strict=True):
        rows = table[(table.service == service) & (table.method == method)]
        ticks = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()],
                           strict=True), reverse=True)  # top of the panel first
        assert [text for _, text in ticks] == [label(p, "zh") for p in rows.parameter]
        assert ax.get_xlabel() and "2035" in ax.get_xlabel()
        value = "gap" if rows.gap.notna().all() else "demand"
        ends = sorted(x for patch in ax.patches
                      for x in (patch.get_x(), patch.get_x() + patch.get_width()))
        expected = np.r_[rows[f"{value}_at_low"], rows[f"{value}_at_high"]]
        assert ends[0] == pytest.approx(expected.min()) and \
            ends[-1] == pytest.approx(expected.max())


def test_largest_swings_of_honghe(table):
    """What the table says for Honghe 2035 (not a tuned figure; a change to the ranges or the
    formulas shows here): the disability trend (E11) moves the needs-based bed gap most, the
    2035 enrolment (C-policy) the 托位 need; the families' demand share does not move the policy
    path (anchored on observed enrolment), so it has no 托位 row."""
    top = table[table["rank"] == 1].set_index(["service", "method"]).parameter
    assert top[("elderly_beds", "needs")] == "disability_trend"
    assert top[("childcare_places", "needs")] == "childcare_enrolment_2035"
    childcare = table[table.service == "childcare_places"]
    assert "childcare_demand_share" not in set(childcare.parameter)


def test_cli_writes_sensitivity_and_tornado_in_both_languages(tmp_path):
    """The deterministic run writes sensitivity.csv, charts/tornado.png + .svg, a workbook
    sheet and a report section; two runs give the same sensitivity.csv bytes (the language
    changes only display text); --lang en draws the chart in English."""
    import json

    from click.testing import CliRunner
    from openpyxl import load_workbook

    from forecast.cli import main
    from forecast.presentation.labels import SENSITIVITY_TEXT

    outs = {}
    for name, lang in (("zh1", "zh"), ("en", "en")):
        out = tmp_path / name
        outcome = CliRunner().invoke(main, ["run", str(CONFIG), "--out", str(out), "--scenario",
                                            "baseline", "--lang", lang])
        assert outcome.exit_code == 0, outcome.output
        outs[name] = out
    zh = outs["zh1"]
    assert (zh / "sensitivity.csv").read_bytes() == (outs["en"] / "sensitivity.csv").read_bytes()
    for out in outs.values():
        assert (out / "charts" / "tornado.png").is_file()
        assert (out / "charts" / "tornado.svg").is_file()
    assert SENSITIVITY_TEXT["en"]["low"] in (outs["en"] / "charts" / "tornado.svg").read_text(
        encoding="utf-8")
    workbook = load_workbook(zh / "results.xlsx", read_only=True)
    assert "sensitivity" in workbook.sheetnames
    report = (zh / "report.html").read_text(encoding="utf-8")
    assert SENSITIVITY_TEXT["zh"]["section"] in report and 'id="fig-tornado"' in report
    manifest = json.loads((zh / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sensitivity"]["year"] == 2035
    assert "sensitivity.csv" in manifest["outputs"]
