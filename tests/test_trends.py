"""Trend-based assumption paths (forecast.defaults.trends): fit windows, observed years, intervals,
lazy imports, quiet and repeatable Prophet, and a run that uses a trend method."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from forecast.config import apply_overlay, load_config
from forecast.defaults import trends
from forecast.defaults.wpp import wpp_indicator
from forecast.paths import data_dir

CONFIG = data_dir().parent / "configs" / "honghe.yaml"
YEARS = np.arange(2021, 2036)


def test_import_cli_does_not_import_statsmodels_or_prophet():
    """Commands that do not use trend methods start without the heavy libraries."""
    code = ("import sys, forecast.cli, forecast.pipeline.run, forecast.defaults.trends, "
            "forecast.pipeline.uncertainty; "
            "print(sorted(m for m in ('statsmodels', 'prophet', 'cmdstanpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("method", trends.METHODS)
def test_tfr_path_observed_then_forecast(method):
    """Years up to 2023 are the WPP estimates relative to 2020 (1.11744 / 1.23568 = 0.9043 in
    2021); later years are a positive forecast joined to 2023 with ordered intervals."""
    ratio, record = trends.tfr_trend_path(method, 2020, YEARS)
    tfr = wpp_indicator("tfr")
    np.testing.assert_allclose(ratio[:3], tfr.loc[2021:2023].to_numpy() / tfr.loc[2020],
                               rtol=1e-4)
    assert ratio[0] == pytest.approx(0.9043, abs=1e-3)
    assert record["fit_window"] == [1991, 2023]
    assert record["method"] == method and record["scale"] == "log"
    assert len(record["history"]["fitted"]) == 33
    forecast = record["forecast"]
    assert forecast["year"][0] == 2024 and forecast["year"][-1] >= 2035
    lower, median, upper = (np.array(forecast[k]) for k in ("lower_95", "median", "upper_95"))
    assert (lower > 0).all() and (lower < median).all() and (median < upper).all()
    width = np.array(forecast["upper_80"]) - np.array(forecast["lower_80"])
    if method == "statsmodels":  # analytic: strictly wider with the horizon
        assert np.all(np.diff(width) > 0)
    else:  # simulated, nearly flat for a linear trend: no narrower at the end (noise 10 %)
        assert width[-1] > 0.9 * width[0]
    # jump-off: the first forecast year moves from the 2023 value by one year's change only
    assert abs(median[0] / tfr.loc[2023] - 1) < 0.1
    assert (ratio > 0).all()


def test_backtest_window_ends_in_the_base_year():
    """A 2010 base fits 1991–2010 only: nothing observed after the base year is used."""
    ratio, record = trends.tfr_trend_path("statsmodels", 2010, np.arange(2011, 2021))
    assert record["fit_window"] == [1991, 2010]
    assert max(record["history"]["year"]) == 2010
    assert record["forecast"]["year"][0] == 2011
    assert len(ratio) == 10 and np.isfinite(ratio).all()


def test_e0_path_gain_over_base_year():
    """e0 gains: observed WPP differences to 2023, then the forecast (years)."""
    gain, record = trends.e0_trend_path("statsmodels", 2020, YEARS)
    e0 = wpp_indicator("e0_both")
    np.testing.assert_allclose(gain[:3], e0.loc[2021:2023].to_numpy() - e0.loc[2020], atol=1e-4)
    assert record["scale"] == "level" and record["unit"] == "years"
    assert gain[-1] > gain[3]  # life expectancy keeps rising in the damped-trend forecast
    assert 0 < gain[-1] < 6


def test_prophet_is_quiet_and_repeatable(capfd):
    """No cmdstanpy/plotly chatter; the simulated intervals repeat exactly (fixed seed). (The
    fit's speed: benchmarks/demand_speed.py.)"""
    trends._trend.cache_clear()
    _, first = trends.tfr_trend_path("prophet", 2020, YEARS)
    trends._trend.cache_clear()
    _, second = trends.tfr_trend_path("prophet", 2020, YEARS)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    assert first["forecast"] == second["forecast"]


def test_trend_frame_for_the_chart():
    _, record = trends.tfr_trend_path("statsmodels", 2020, YEARS)
    frame = trends.trend_frame(record)
    assert list(frame.columns) == ["year", "observed", "fitted", "forecast", "lower", "upper"]
    history = frame[frame.year <= 2023]
    assert history["forecast"].isna().all() and history["observed"].notna().all()
    assert frame[frame.year > 2023]["observed"].isna().all()


def test_log_sd_by_horizon():
    _, record = trends.tfr_trend_path("statsmodels", 2020, YEARS)
    sd = trends.log_sd_by_horizon(record, [0, 1, 5, 500])
    assert sd[0] == 0 and 0 < sd[1] < sd[2] <= sd[3]


def test_unknown_method_is_a_config_error():
    from forecast.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown trend method 'arima'"):
        trends.tfr_trend_path("arima", 2020, YEARS)


def test_run_with_a_statsmodels_fertility_path(tmp_path):
    """A config using `fertility: method: statsmodels`: the scenario's TFR is the census TFR ×
    the national ratio, the manifest records method, window and fit, and the run writes
    charts/tfr_trend."""
    from forecast.pipeline.run import run
    from forecast.presentation.outputs import write_trend_and_fan_charts

    base = load_config(CONFIG)
    config = apply_overlay(base.model_dump(exclude={"scenarios"}),
                           {"assumptions": {"fertility": {"method": "statsmodels"}}})
    config._source_path = base._source_path
    result = run(config, ["baseline"])
    inputs = result.inputs["baseline"]
    ratio, _ = trends.tfr_trend_path("statsmodels", 2020, inputs.step_years + 1)
    tfr_base = result.manifest["provenance"]["fertility"]["tfr_base"]
    np.testing.assert_allclose(inputs.asfr.sum(axis=1), tfr_base * ratio, rtol=1e-9)
    notes = [n for n in result.manifest["scenario_changes"]["baseline"]
             if n.get("kind") == "trend forecast"]
    assert notes and notes[0]["fit_window"] == [1991, 2023] and notes[0]["history"]["fitted"]
    written = write_trend_and_fan_charts(result, tmp_path / "charts", "en")
    assert written == ["charts/tfr_trend"]
    assert (tmp_path / "charts" / "tfr_trend.png").is_file()
