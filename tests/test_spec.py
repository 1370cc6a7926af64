"""The scenario specification (forecast.pipeline.spec): built once from the config, immutable, and
every
scenario's changes reach assumptions.csv, manifest.json and the report.

Defects this guards (issue 9): (a) ``--scenario baseline --scenario strict_norm`` recorded only
the first scenario's demand overrides (35 beds per 1,000, not strict_norm's 40) in
assumptions.csv and the manifest; (b) a scenario with its own TFR
(``assumptions.fertility.tfr: 1.2``) still had the census default in the report's methods.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.config import load_config
from forecast.pipeline.run import run
from forecast.presentation.labels import UNTRANSLATED
from forecast.presentation.outputs import write_manifest, write_tables
from forecast.presentation.report import _scenario_name, build_report

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SHIPPED = ["honghe", "banan", "lincang", "qinghai", "wanyuan"]


def _written(result, directory: Path) -> tuple[pd.DataFrame, dict]:
    """Write the run's tables and manifest (no charts or workbook: the report needs neither)."""
    directory.mkdir(parents=True, exist_ok=True)
    write_tables(result, directory)
    write_manifest(result, directory, "zh", [])
    return (pd.read_csv(directory / "assumptions.csv"),
            json.loads((directory / "manifest.json").read_text(encoding="utf-8")))


def _report_lines(directory: Path, lang: str) -> list[str]:
    page = build_report(directory, lang)
    page = re.sub(r"<style.*?</style>|<svg.*?</svg>", "", page, flags=re.S)
    page = re.sub(r"<(?:p|li|tr|h[1-6])\b[^>]*>", "\n", page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def _methods(lines: list[str], heading: str) -> str:
    start = lines.index(heading)
    return "\n".join(lines[start:])


def _value_text(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


# --------------------------------------------------------------------------- defect (a)
def test_strict_norm_beside_baseline_records_its_own_40_beds(tmp_path):
    """`--scenario baseline --scenario strict_norm`: gaps use 40 beds per 1,000 aged 60+ for
    strict_norm; assumptions.csv and the manifest must say 40 for strict_norm (they said only
    the baseline's 35, the plan's own target)."""
    config = load_config(CONFIGS / "honghe.yaml")
    result = run(config, ["baseline", "strict_norm"])
    assumptions, manifest = _written(result, tmp_path / "out")
    # the gaps really use 40 per 1,000 (the norm method's demand per 1,000 aged 60+)
    norm = result.gaps[(result.gaps.service == "elderly_beds") & (result.gaps.method == "norm")]
    per_1000 = norm.groupby("scenario")["demand_per_1000"].agg(["min", "max"])
    assert np.allclose(per_1000.loc["strict_norm"], 40.0)
    assert np.allclose(per_1000.loc["baseline"], 35.0)
    rows = assumptions[assumptions.scenario == "strict_norm"]
    assert rows["assumption"].str.contains(r"norm_per_1000 40\b").any(), rows
    assert not rows["sourced"].any()  # a scenario's own choice: labelled an assumption
    changes = manifest["scenario_changes"]["strict_norm"]
    assert any("norm_per_1000 40" in c["change"] for c in changes), changes
    assert manifest["scenario_specs"]["strict_norm"]["elderly"]["norm_per_1000"] == 40.0
    assert manifest["scenario_specs"]["baseline"]["elderly"]["norm_per_1000"] == 35.0


# --------------------------------------------------------------------------- defect (b)
@pytest.fixture(scope="module")
def own_tfr_config(tmp_path_factory):
    """Honghe with one more scenario setting its own TFR of 1.2 (the census default is 1.78)."""
    text = (CONFIGS / "honghe.yaml").read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("own_tfr") / "honghe.yaml"
    path.write_text(text.rstrip("\n") + "\n  own_tfr:\n    assumptions.fertility.tfr: 1.2\n",
                    encoding="utf-8")
    return load_config(path)


def test_report_methods_state_the_scenario_tfr_not_the_census_default(own_tfr_config,
                                                                      tmp_path):
    result = run(own_tfr_config, ["own_tfr"])
    spec = result.spec.scenario("own_tfr")
    assert np.allclose(spec.tfr, 1.2)  # the rates the engine gets give TFR 1.2 every year
    out = tmp_path / "out"
    _written(result, out)
    census_tfr = result.manifest["provenance"]["fertility"]["tfr_base"]
    assert abs(census_tfr - 1.2) > 0.1
    zh = _methods(_report_lines(out, "zh"), "方法说明")
    assert "总和生育率 2021年 1.2，2035年 1.2" in zh
    assert f"基期总和生育率 {census_tfr}" not in zh
    assert "总和生育率由配置设定：1.2" in zh
    en = _methods(_report_lines(out, "en"), "Methods")
    assert "1.2 children per woman in 2021, 1.2 in 2035" in en
    assert f"base TFR {census_tfr}" not in en


def test_report_methods_keep_the_census_tfr_for_the_baseline(own_tfr_config, tmp_path):
    """With the baseline as main scenario the methods state the census TFR, and own_tfr's 1.2
    is in the assumptions table of the report."""
    result = run(own_tfr_config, ["baseline", "own_tfr"])
    out = tmp_path / "out"
    _written(result, out)
    census_tfr = result.manifest["provenance"]["fertility"]["tfr_base"]
    lines = _report_lines(out, "zh")
    assert f"基期总和生育率 {census_tfr}" in _methods(lines, "方法说明")
    label = _scenario_name("own_tfr", "zh")
    assert any(line.startswith(label) and "1.2" in line for line in lines)


# --------------------------------------------------------------------------- every scenario
def _spec_reflects(result, name: str, key: str, value) -> bool:
    """The scenario's specification carries the overlay ``key: value`` (against the
    baseline's)."""
    spec, base = result.spec.scenario(name), result.spec.scenario("baseline")
    if key == "assumptions.fertility.tfr_shift":
        return bool(np.allclose(spec.tfr - base.tfr, value))
    if key == "assumptions.fertility.tfr":
        return bool(np.allclose(spec.tfr, value))
    if key == "assumptions.fertility.method":
        return not np.allclose(spec.tfr, base.tfr)
    if key == "assumptions.migration.mode" and value == "zero":
        return not spec.inputs.net_migrants.any() and base.inputs.net_migrants.any()
    if key == "assumptions.mortality.improvement" and value == "half":
        return bool((spec.e0[-1] < base.e0[-1]).all() and np.allclose(spec.e0[0], base.e0[0]))
    if key == "demand.childcare.path":
        from forecast.care.demand import childcare_uptake_path

        return spec.childcare.uptake_path == childcare_uptake_path(value)
    if key == "supply.elderly_beds.base_reading":
        return result.spec.supply_sections[name].supply.elderly_beds.base_reading == value
    if key.startswith("demand.elderly."):
        return getattr(spec.elderly, key.rsplit(".", 1)[1]) == value
    raise AssertionError(f"no check for overlay key {key}: add one to _spec_reflects")


@pytest.mark.parametrize("config_name", SHIPPED)
def test_every_scenario_change_reaches_assumptions_manifest_and_report(config_name, tmp_path):
    """Every scenario of every shipped config: each overlay key is in its specification, has a
    row of its own in assumptions.csv naming the value, is in the manifest (scenario_changes
    and scenario_specs) and in the report's assumptions table (zh translated, en with the
    value)."""
    config = load_config(CONFIGS / f"{config_name}.yaml")
    result = run(config)
    out = tmp_path / config_name
    assumptions, manifest = _written(result, out)
    zh, en = _report_lines(out, "zh"), _report_lines(out, "en")
    for name in config.scenario_names():
        overlay = manifest["scenario_specs"][name]["overlay"]
        rows = assumptions[assumptions.scenario == name]
        if name == "baseline":
            assert overlay == {} and rows.empty
            continue
        assert overlay, f"{config_name}/{name}: no overlay recorded"
        changes = manifest["scenario_changes"][name]
        assert len(changes) == len(rows) >= len(overlay)
        assert [c["change"] for c in changes] == rows["assumption"].tolist()
        zh_rows = [line for line in zh if line.startswith(_scenario_name(name, "zh") + " ")]
        en_rows = [line for line in en if line.startswith(_scenario_name(name, "en") + " ")]
        for key, value in overlay.items():
            assert _spec_reflects(result, name, key, value), (config_name, name, key)
            text = _value_text(value)
            assert rows["assumption"].str.contains(text, regex=False).any(), (name, key)
            assert any(text in line for line in en_rows), (config_name, name, key, en_rows)
        assert len([r for r in zh_rows if UNTRANSLATED not in r]) >= len(rows), zh_rows
