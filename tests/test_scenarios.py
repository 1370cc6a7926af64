"""Scenarios shipped in the seed configs: each overlay changes only what it names, each runs,
fertility variants order births, and bad scenarios fail with one line (exit 2 via the CLI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from forecast.cli import main
from forecast.config import load_config
from forecast.defaults.assumptions import build_defaults
from forecast.errors import ConfigError
from forecast.pipeline.run import demand_parameters, resolve_config_unit, run
from forecast.pipeline.scenarios import apply_assumptions

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SEED_CONFIGS = ["honghe", "banan", "lincang", "qinghai", "wanyuan"]
REQUIRED = {"baseline", "low_fertility", "high_fertility", "no_migration", "slow_mortality",
            "strict_norm"}
ARRAYS = ("population", "mx", "asfr", "srb", "net_migrants")


@pytest.fixture(scope="module")
def honghe():
    config = load_config(CONFIGS / "honghe.yaml")
    defaults = build_defaults([resolve_config_unit(config)], 2020, config.projection.end_year)
    inputs = {name: apply_assumptions(defaults, 0, config.scenario(name).assumptions, name,
                                      config._source_path)
              for name in config.scenario_names()}
    return config, defaults, inputs


def _changed(inputs, name):
    base = inputs["baseline"]
    return {a for a in ARRAYS if not np.array_equal(getattr(base, a), getattr(inputs[name], a))}


@pytest.mark.parametrize("name", SEED_CONFIGS)
def test_every_seed_config_ships_the_standard_scenarios(name):
    config = load_config(CONFIGS / f"{name}.yaml")
    assert REQUIRED <= set(config.scenario_names())
    assert config.scenario_names()[0] == "baseline"
    # only Honghe's plan states a future population figure
    assert ("plan_document" in config.scenarios) == (name == "honghe")


@pytest.mark.parametrize(("scenario", "component"), [
    ("low_fertility", {"asfr"}), ("high_fertility", {"asfr"}), ("plan_document", {"asfr"}),
    ("no_migration", {"net_migrants"}), ("slow_mortality", {"mx"}), ("strict_norm", set()),
])
def test_overlay_changes_only_the_component_it_names(honghe, scenario, component):
    _config, _defaults, inputs = honghe
    assert _changed(inputs, scenario) == component


def test_tfr_shift_moves_the_default_path_by_three_tenths(honghe):
    """Shipped variants: low/high TFR = default path ∓ 0.3 births per woman in every step,
    with the age pattern of the default kept (ASFR ratio constant across ages)."""
    _config, _defaults, inputs = honghe
    tfr = {n: inputs[n].asfr.sum(axis=1) for n in ("baseline", "low_fertility",
                                                    "high_fertility")}
    np.testing.assert_allclose(tfr["low_fertility"], tfr["baseline"] - 0.3, atol=1e-12)
    np.testing.assert_allclose(tfr["high_fertility"], tfr["baseline"] + 0.3, atol=1e-12)
    base, high = inputs["baseline"].asfr, inputs["high_fertility"].asfr
    fertile = base > 0
    ratio = high[fertile] / base[fertile]
    step = np.broadcast_to(np.arange(len(base))[:, None], base.shape)[fertile]
    for t in range(len(base)):
        assert np.ptp(ratio[step == t]) < 1e-12


def test_no_migration_is_zero_and_slow_mortality_halves_the_log_decline(honghe):
    """mode zero → no net migrants; improvement half → log mx moves half way from the base
    year's rates to the default path (base year unchanged)."""
    _config, _defaults, inputs = honghe
    assert not inputs["no_migration"].net_migrants.any()
    base, slow = inputs["baseline"].mx, inputs["slow_mortality"].mx
    np.testing.assert_allclose(slow[0], base[0])
    expected = np.exp(np.log(base[0]) + 0.5 * (np.log(base) - np.log(base[0])))
    np.testing.assert_allclose(slow, expected, rtol=1e-12)
    assert (slow[-1].sum() > base[-1].sum())


def test_strict_norm_changes_only_the_bed_norm(honghe):
    config, _defaults, _inputs = honghe
    base_elderly, base_childcare, _ = demand_parameters(config)
    strict_elderly, strict_childcare, _ = demand_parameters(config.scenario("strict_norm"))
    assert base_elderly.norm_per_1000 == 35  # Honghe's own target, 35 per 1,000 aged 60+
    assert strict_elderly.norm_per_1000 == 40
    assert strict_elderly.__class__(**{**vars(strict_elderly), "norm_per_1000": 35}) \
        == base_elderly
    assert strict_childcare == base_childcare


def test_plan_document_reproduces_the_documents_births(honghe):
    """Honghe's plan expects ~180,000 births over 2021–2025 (“新增人口18万人”); the
    plan_document scenario's TFR shift is chosen to reproduce it (within 1 %); the default
    path, levelled to Yunnan's registered birth rate, is 3.4 % below the plan (173,854)."""
    config, _defaults, _inputs = honghe
    result = run(config, ["baseline", "plan_document"])
    summary = result.summary[result.summary.year.between(2021, 2025)]
    births = summary.groupby("scenario").births.sum()
    assert births["plan_document"] == pytest.approx(180_000, rel=0.01)
    assert births["plan_document"] > births["baseline"] * 1.03


@pytest.mark.parametrize("name", SEED_CONFIGS)
def test_every_shipped_scenario_runs_and_fertility_orders_births(name):
    config = load_config(CONFIGS / f"{name}.yaml")
    result = run(config)
    assert result.scenarios == config.scenario_names()
    summary = result.summary
    births = summary.groupby("scenario").births.sum()
    assert births["low_fertility"] < births["baseline"] < births["high_fertility"]
    # the 2020 base is the census in every scenario
    base = summary[summary.year == 2020].set_index("scenario").total
    assert base.nunique() == 1
    # scenarios that do not touch fertility leave births 2021 within a whisker of baseline
    first = summary[summary.year == 2021].set_index("scenario").births
    assert first["strict_norm"] == first["baseline"]
    for scenario in result.scenarios:
        assert result.gaps[result.gaps.scenario == scenario].demand.notna().all()


# --------------------------------------------------------------------------- bad scenarios


def _config_with(tmp_path, overlay_lines: str) -> Path:
    text = (CONFIGS / "banan.yaml").read_text(encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text + overlay_lines, encoding="utf-8")
    return path


BAD = [
    ("  typo:\n    assumptions.fertility.tfr_shfit: 0.2\n", "tfr_shfit: unknown key"),
    ("  wrong_type:\n    assumptions.fertility.tfr_shift: high\n", "tfr_shift"),
    ("  negative:\n    assumptions.fertility.tfr: -1.0\n", "tfr -1 is not a number of births"),
    ("  nested_typo:\n    demand:\n      elderly:\n        norm_per_100: 40\n",
     "did you mean 'norm_per_1000'"),
]


@pytest.mark.parametrize(("overlay", "expected"), BAD)
def test_bad_scenario_is_one_line_naming_the_scenario(tmp_path, overlay, expected):
    path = _config_with(tmp_path, overlay)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert expected in message
    assert str(path) in message
    assert "scenario '" in message


def test_tfr_shift_below_zero_fails_on_run_naming_the_field(tmp_path):
    """Banan's default TFR is about 0.9 births per woman: a shift of −1.5 drives it below 0."""
    path = _config_with(tmp_path, "  too_low:\n    assumptions.fertility.tfr_shift: -1.5\n")
    config = load_config(path)  # a valid number; only the unit's level makes it impossible
    with pytest.raises(ConfigError) as caught:
        run(config, ["too_low"])
    message = str(caught.value)
    assert "\n" not in message
    assert "scenario 'too_low'" in message
    assert "assumptions.fertility.tfr_shift" in message


@pytest.mark.parametrize(("overlay", "expected"), [
    BAD[0], BAD[2], ("  too_low:\n    assumptions.fertility.tfr_shift: -1.5\n", "tfr_shift"),
])
def test_cli_exits_2_with_one_line_and_writes_nothing(tmp_path, overlay, expected):
    path = _config_with(tmp_path, overlay)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert not out.exists()


def test_run_subset_of_scenarios(tmp_path):
    """--scenario (repeatable) runs only the named scenarios, in the order given."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(CONFIGS / "wanyuan.yaml"), "--out", str(out),
                                       "--scenario", "baseline", "--scenario", "no_migration"])
    assert result.exit_code == 0, result.output
    import pandas as pd

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.scenario.unique()) == ["baseline", "no_migration"]
    closed = summary[summary.scenario == "no_migration"]
    assert (closed.net_migrants.dropna() == 0).all()
