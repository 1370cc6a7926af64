"""Probabilistic runs (forecast.pipeline.uncertainty): zero-variance runs reproduce the
deterministic
run, intervals widen with the horizon, probabilities behave, seeds repeat, bad settings fail."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from forecast.cli import main
from forecast.config import apply_overlay, load_config
from forecast.demography.lifetable import life_table
from forecast.errors import ConfigError
from forecast.paths import data_dir
from forecast.pipeline.run import run
from forecast.pipeline.uncertainty import random_walk, run_uncertainty, shifted_survival

CONFIG = data_dir().parent / "configs" / "honghe.yaml"
ZERO = {"uncertainty": {"tfr_sd_source": "fixed", "tfr_sd_log": 0.0, "e0_sd_source": "fixed",
                        "e0_sd": 0.0, "migration_sd": 0.0, "care_parameters": "fixed"}}


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG)


@pytest.fixture(scope="module")
def result(config):
    return run(config, ["baseline"])


@pytest.fixture(scope="module")
def probabilistic(result):
    return run_uncertainty(result, 400, 11)


def test_zero_variance_medians_equal_the_deterministic_run(config):
    """Identity: with every sd 0 and every care parameter held at its deterministic value
    (``care_parameters: fixed``; the disability trend at E11's −1 %/yr) every trajectory is
    the deterministic projection and its demand, so all quantiles of every demand and driver
    row equal demand.csv (relative 1e-9: the batched sums may round differently)."""
    zero = apply_overlay(config.model_dump(exclude={"scenarios"}), ZERO)
    zero._source_path = config._source_path
    deterministic = run(zero, ["baseline"])
    out = run_uncertainty(deterministic, 20, 5)
    summary = out.summary_quantiles.pivot(index="year", columns="indicator", values="q50")
    expected = deterministic.summary.set_index("year")[summary.columns]
    np.testing.assert_allclose(summary.to_numpy(), expected.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(out.summary_quantiles["q025"], out.summary_quantiles["q975"],
                               rtol=1e-12)
    demand = out.demand_quantiles.set_index(["year", "service", "method"])["q50"]
    det = deterministic.demand.assign(service=deterministic.demand.service.astype(str),
                                      method=deterministic.demand.method.astype(str))
    det = det.set_index(["year", "service", "method"])["value"]
    assert len(demand) == len(det)
    np.testing.assert_allclose(demand.loc[det.index].to_numpy(), det.to_numpy(), rtol=1e-9)
    spread = out.demand_quantiles["q975"] - out.demand_quantiles["q025"]
    np.testing.assert_allclose(spread, 0.0, atol=1e-6)


def test_interval_widths_grow_with_the_horizon(probabilistic):
    """The 95 % interval of population aged 0-2, total population and bed/place needs is
    wider in 2035 than in 2030 than in 2025, and zero in the base year (known census)."""
    summary = probabilistic.summary_quantiles.set_index(["indicator", "year"])
    for indicator in ("pop_0_2", "total", "pop_60plus"):
        width = summary.loc[indicator, "q975"] - summary.loc[indicator, "q025"]
        assert width.loc[2020] == 0
        assert width.loc[2025] < width.loc[2030] < width.loc[2035], indicator
    demand = probabilistic.demand_quantiles
    for service in ("elderly_beds", "childcare_places"):
        rows = demand[(demand.service == service) & (demand.method == "needs")].set_index("year")
        width = rows["q975"] - rows["q025"]
        assert width.loc[2025] < width.loc[2030] < width.loc[2035], service


def test_quantile_columns_are_the_stated_quantiles_of_the_trajectories():
    """Each quantile column holds its own quantile of the trajectories, per row: for 1,001
    trajectories valued 0…1000 in any order (linear interpolation, numpy's default, which
    the manifest names) q025 = 25, q10 = 100, q50 = 500, q90 = 900, q975 = 975, for each row
    scaled by its own factor; a row with a missing trajectory stays missing. (Ordering alone
    could not fail: quantiles of one sample are always ordered.)"""
    from forecast.pipeline.uncertainty import (
        QUANTILE_COLUMNS,
        QUANTILES,
        SUMMARY_INDICATORS,
        _quantile_rows,
        summary_quantiles,
    )

    rng = np.random.default_rng(3)
    scale = np.array([1.0, 2.0, 0.5])
    values = np.stack([rng.permutation(1001) * factor for factor in scale])
    values = np.vstack([values, np.r_[np.nan, np.arange(1000.0)]])
    out = _quantile_rows(values)
    assert QUANTILES == (0.025, 0.10, 0.50, 0.90, 0.975)
    assert QUANTILE_COLUMNS == ("q025", "q10", "q50", "q90", "q975")
    np.testing.assert_allclose(out[:3], np.outer(scale, [25.0, 100.0, 500.0, 900.0, 975.0]))
    assert np.isnan(out[3]).all()
    # the table keeps each row's year and each column's quantile
    table = summary_quantiles("baseline", np.array([2020, 2021, 2022]),
                              {indicator: values[:3] for indicator in SUMMARY_INDICATORS})
    total = table[table.indicator == "total"].set_index("year")
    np.testing.assert_allclose(total.loc[[2020, 2021, 2022], "q10"], 100.0 * scale)
    np.testing.assert_allclose(total.loc[2021, list(QUANTILE_COLUMNS)],
                               [50.0, 200.0, 1000.0, 1800.0, 1950.0])


def test_probabilities_lie_in_0_1_and_rise_with_supply(result, probabilistic):
    """probability_met ∈ [0, 1]; adding 5,000 beds/places to planned supply never lowers it
    and raises it somewhere; unknown supply gives NaN, never a number."""
    before = probabilistic.probability_met
    known = before["probability_met"].dropna()
    assert ((known >= 0) & (known <= 1)).all() and len(known)
    assert set(before.columns) >= {"scenario", "service", "method", "year", "probability_met"}
    richer = result.supply.copy()
    richer["supply"] = richer["supply"] + 5000
    original = result.supply
    result.supply = richer
    try:
        after = run_uncertainty(result, 400, 11).probability_met
    finally:
        result.supply = original
    merged = before.merge(after, on=["scenario", "service", "method", "year"],
                          suffixes=("_before", "_after")).dropna(subset=["probability_met_before"])
    assert (merged.probability_met_after >= merged.probability_met_before).all()
    assert (merged.probability_met_after > merged.probability_met_before).any()


def test_same_seed_same_bytes_other_seed_differs(result, probabilistic):
    """Same seed -> byte-identical CSV text; another seed -> different quantiles."""
    again = run_uncertainty(result, 400, 11)
    other = run_uncertainty(result, 400, 12)
    for name in ("summary_quantiles", "demand_quantiles", "probability_met"):
        assert getattr(again, name).to_csv(index=False) == \
            getattr(probabilistic, name).to_csv(index=False)
    assert other.summary_quantiles.to_csv(index=False) != \
        probabilistic.summary_quantiles.to_csv(index=False)


def test_manifest_record_states_settings_and_seed(probabilistic):
    record = probabilistic.record
    assert record["trajectories"] == 400 and record["seed"] == 11
    tfr = record["distributions"]["baseline"]["tfr"]
    assert "WPP 2024" in tfr["sd_source"]
    assert np.all(np.diff(tfr["sd_log_by_step"]) >= 0)
    json.dumps(record)  # plain values only


def test_e0_shift_is_realised():
    """A zero shift gives exactly the unshifted survival ratios; a drawn shift gives ratios
    of a proportionally scaled schedule whose e0 moved by the drawn amount (±0.005 years)."""
    from scipy.optimize import brentq

    base = 0.0005 * np.exp(0.085 * np.arange(101))  # Gompertz-like, e0 about 75
    mx = np.broadcast_to(base, (3, 2, 101)).copy()
    shifts = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, -3.0]])
    survival = shifted_survival(mx, shifts)  # (T, N, 2, A)
    table = life_table(mx, np.array(["male", "female"]))
    np.testing.assert_array_equal(survival[:, 0], table.survival_ratios())
    for t, shift in enumerate(shifts[1]):
        def gap(log_k, t=t):
            ratios = life_table(mx[t, 0] * np.exp(log_k), "male").survival_ratios()
            return ratios[60] - survival[t, 1, 0, 60]
        log_k = brentq(gap, -1.5, 1.5)
        e0 = float(life_table(mx[t, 0] * np.exp(log_k), "male").e0)
        assert e0 - float(table.e0[t, 0]) == pytest.approx(shift, abs=0.005)


def test_random_walk_has_the_stated_marginal_sd():
    """Independent increments: sd at each step equals the stated one (20,000 draws, 3 %)."""
    sd = np.array([0.1, 0.15, 0.2, 0.2, 0.3])
    walks = random_walk(np.random.default_rng(1), sd, 20_000)
    np.testing.assert_allclose(walks.std(axis=0), sd, rtol=0.03)


@pytest.mark.parametrize(("overlay", "pattern"), [
    ({"uncertainty": {"migration_sd": -0.5}}, r"uncertainty\.migration_sd: .*greater than"),
    ({"uncertainty": {"migraton_sd": 0.5}}, r"uncertainty\.migraton_sd: unknown key.*"
                                             r"migration_sd"),
    ({"uncertainty": {"tfr_sd_source": "fixed"}}, r"tfr_sd_log"),
    ({"uncertainty": {"e0_sd": -1.0, "e0_sd_source": "fixed"}}, r"uncertainty\.e0_sd"),
    ({"uncertainty": {"disability_trend_low": 0.01, "disability_trend_high": -0.01}},
     r"disability_trend_low"),
])
def test_bad_definitions_fail_with_one_line(config, overlay, pattern):
    with pytest.raises(ConfigError) as info:
        apply_overlay(config.model_dump(exclude={"scenarios"}), overlay)
    message = str(info.value)
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_bad_definition_in_a_config_file_names_file_and_line(tmp_path):
    text = CONFIG.read_text(encoding="utf-8") + "\nuncertainty:\n  migration_sd: -1\n"
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line \d+: uncertainty\.migration_sd"):
        load_config(path)


@pytest.mark.slow
def test_cli_trajectories_writes_tables_charts_and_manifest(tmp_path, config):
    """The real command: extra CSVs, fan charts, seed in the manifest; same seed -> identical
    CSV bytes. The terminal differs from the deterministic run: after the same gap table, the
    median and 80 % interval of each key year (2025, 2030, 2035) and the probability that
    planned supply meets demand there, as in the CSVs; stderr holds one progress line per stage
    and no bar (not a terminal)."""
    import pandas as pd

    from forecast.cli import _run_summary
    from forecast.presentation.labels import STAGE_TEXT, TERMINAL_TEXT, label, method_label

    outputs, printed = [], []
    for name in ("a", "b"):
        out = tmp_path / name
        runner = CliRunner()
        outcome = runner.invoke(main, ["run", str(CONFIG), "--out", str(out), "--scenario",
                                       "baseline", "--trajectories", "60", "--seed", "7",
                                       "--lang", "en"])
        assert outcome.exit_code == 0, outcome.output
        outputs.append(out)
        printed.append(outcome)
    a, b = outputs
    stdout, stderr = printed[0].stdout, printed[0].stderr
    deterministic = _run_summary(run(config, ["baseline"]), "en")
    assert stdout.startswith(deterministic + "\n")  # the same gap table, then more
    extra = stdout[len(deterministic) + 1:].splitlines()
    text = TERMINAL_TEXT["en"]
    assert extra[0] == text["uncertainty"].format(n="60", seed=7)
    years = [int(y) for y in extra[1].split()[1:]]
    assert years == [2025, 2030, 2035]
    quantiles = pd.read_csv(a / "summary_quantiles.csv")
    row = next(line for line in extra if line.startswith("Population aged 60+"))
    for year in years:
        q = quantiles[(quantiles.indicator == "pop_60plus") & (quantiles.year == year)].iloc[0]
        assert f"{q.q50:,.0f} ({q.q10:,.0f}–{q.q90:,.0f})" in row
    probability = pd.read_csv(a / "probability_met.csv")
    known = probability[probability.year.isin(years) & probability.probability_met.notna()]
    assert len(known)  # Honghe states bed supply: some probability is known
    for (service, method), rows in known.groupby(["service", "method"]):
        header = text["probability"].format(service=label(service, "en"))
        lines = extra[extra.index(header) + 1:]
        line = next(x for x in lines if x.strip().startswith(method_label(method, service,
                                                                          "en")))
        by_year = rows.set_index("year").probability_met
        assert line.split()[-3:] == [f"{by_year[y]:.0%}" if y in by_year else "–"
                                     for y in years]
    stages = [line.split(" done in")[0].removeprefix("progress: ")
              for line in stderr.splitlines()]
    assert stages == [STAGE_TEXT["en"][s] for s in (
        "imports", "config", "projection_and_demand", "trajectories", "tables", "workbook",
        "charts_and_workbook", "report")]
    assert "\r" not in stderr and "\x1b" not in stderr
    for name in ("summary_quantiles.csv", "demand_quantiles.csv", "probability_met.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    for stem in ("fan_pop_60plus", "fan_pop_0_2", "fan_elderly_beds", "fan_childcare_places"):
        assert (a / "charts" / f"{stem}.png").is_file()
    manifest = json.loads((a / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["uncertainty"]["seed"] == 7
    assert manifest["uncertainty"]["trajectories"] == 60
    assert "probability_met.csv" in manifest["outputs"]


def test_bed_fan_chart_draws_the_planned_supply_and_names_the_method(result, probabilistic):
    """The bed fan (need by the needs method) carries the plan's supply line, year by year the
    institutional supply in supply.csv that the needs method is compared with (Honghe's beds
    stated in seed 001 less its community beds, plus its additions' institutional share; the
    fan drew all beds, 16,483 in 2025 against 9,648 institutional), labelled as institutional
    beds, and its title names the method."""
    import dataclasses

    from forecast.presentation.labels import label, method_label
    from forecast.presentation.outputs import trend_and_fan_chart_jobs

    with_draws = dataclasses.replace(result, uncertainty=probabilistic)
    jobs = dict(trend_and_fan_chart_jobs(with_draws, "zh"))
    figure = jobs["fan_elderly_beds"]()
    axes = [ax for ax in figure.get_axes() if ax.get_lines()]
    supply_label = label("supply_institutional", "zh")
    lines = [line for ax in axes for line in ax.get_lines() if line.get_label() == supply_label]
    assert len(lines) == 1
    years, values = lines[0].get_xdata(), lines[0].get_ydata()
    main = result.supply[(result.supply.service == "elderly_beds")
                         & (result.supply.scenario == "baseline")]
    supply = main.groupby("year").supply_institutional.first().dropna()
    assert len(supply) > 1 and supply.iloc[-1] > supply.iloc[0]  # stated base + additions
    divisor = supply.iloc[0] / values[0]  # the chart's unit (persons or 万)
    np.testing.assert_allclose(np.asarray(values, float) * divisor, supply.to_numpy(float))
    assert list(years) == list(supply.index)
    text = " ".join(t.get_text() for t in figure.findobj(lambda o: hasattr(o, "get_text")))
    assert method_label("needs", "elderly_beds", "zh") in text


def test_probabilities_compare_each_bed_method_with_its_own_supply(result, probabilistic):
    """Like with like under uncertainty too: wherever the deterministic gap of a service and
    method is known, so is the probability that supply meets demand (the needs, expected-use
    and 9073 methods against institutional beds, not missing for want of them), and a
    deterministic shortfall of more than 30 % of demand is met in few trajectories."""
    gaps = result.gaps[result.gaps["scenario"] == "baseline"]
    gaps = gaps.assign(service=gaps["service"].astype(str), method=gaps["method"].astype(str))
    known = gaps[gaps["gap"].notna()].set_index(["service", "method", "year"])
    probability = probabilistic.probability_met.set_index(["service", "method", "year"])
    probability = probability.loc[known.index.intersection(probability.index), "probability_met"]
    assert len(probability) == len(known)
    assert probability.notna().all()
    methods = set(known.reset_index().query("service == 'elderly_beds'")["method"])
    assert {"needs", "norm"} <= methods
    deep = known[known["gap"] < -0.3 * known["demand"]].index
    assert len(deep) > 0
    assert (probability.loc[deep] < 0.2).all()


def test_deterministic_value_is_the_median_of_each_care_parameter_draw(config, result):
    """Each drawn care parameter is centred on the deterministic run's value: the quantile
    function at 0.5 is exactly that value, the sample median of 4,001 draws lies within 2 % of
    the range of it (the old uniform disability trend had median −1.5 % against the
    deterministic −1 %), and the draws stay inside the sourced range of
    data/care_parameters.csv (E11 −3 %…0 %, E4 0.70…0.95, E3 0.45…0.55, C4 12 %…33 %)."""
    from forecast.pipeline.run import demand_parameters
    from forecast.pipeline.uncertainty import (
        care_ranges,
        deterministic_care_values,
        draw,
        split_triangular,
    )

    elderly, childcare, _ = demand_parameters(config)
    ranges = {r.name: r for r in care_ranges(config.uncertainty, elderly, childcare)}
    centres = deterministic_care_values(elderly, childcare)
    assert centres["disability_trend"] == pytest.approx(-0.01)
    assert (ranges["disability_trend"].low, ranges["disability_trend"].high) == (-0.03, 0.0)
    assert (ranges["target_occupancy"].low, ranges["target_occupancy"].high) == (0.70, 0.95)
    assert (ranges["observed_occupancy"].low, ranges["observed_occupancy"].high) == (0.45, 0.55)
    assert ranges["childcare_enrolment_2035"].centre == pytest.approx(0.15)
    draws, record = draw(config.uncertainty, 2020, 15, 4001, 3, tuple(ranges.values()))
    assert set(record["care_parameters"]) == set(ranges)
    moving = [r for r in ranges.values() if not r.fixed]
    assert len(moving) == len(ranges)  # Honghe's baseline draws every one
    for r in ranges.values():
        assert r.centre == centres[r.name]
        assert split_triangular(np.array([0.5]), r.centre, r.low, r.high)[0] == r.centre
        values = draws.care[r.name]
        assert values.min() >= r.low and values.max() <= r.high, r.name
        assert abs(np.median(values) - r.centre) <= 0.02 * (r.high - r.low), r.name
    assert np.array_equal(draws.disability_trend, draws.care["disability_trend"])


def test_care_draws_widen_the_needs_interval(result, probabilistic):
    """Drawing the care parameters widens the 80 % interval of Honghe's 2035 needs-based
    beds beyond demography and the trend alone (care parameters held, the trend drawn as
    before): the interval is at least a fifth wider, and it holds the deterministic value."""
    fixed_config = apply_overlay(result.config.model_dump(exclude={"scenarios"}),
                                 {"uncertainty": {"care_parameters": "fixed",
                                                  "disability_trend_low": -0.03,
                                                  "disability_trend_high": 0.0}})
    fixed_config._source_path = result.config._source_path
    held = run_uncertainty(run(fixed_config, ["baseline"]), 400, 11).demand_quantiles

    def row(table):
        return table[(table.year == 2035) & (table.service == "elderly_beds")
                     & (table.method == "needs")].iloc[0]

    wide, narrow = row(probabilistic.demand_quantiles), row(held)
    assert wide.q90 - wide.q10 > 1.2 * (narrow.q90 - narrow.q10)
    deterministic = result.demand[(result.demand.year == 2035)
                                  & (result.demand.service.astype(str) == "elderly_beds")
                                  & (result.demand.method.astype(str) == "needs")].value.iloc[0]
    assert wide.q10 < deterministic < wide.q90
