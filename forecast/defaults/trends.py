"""Trend-based assumption paths: time-series forecasts of China's national TFR and life
expectancy, turned into paths relative to the base year for a local projection.

Data: UN WPP 2024 annual estimates for China (``forecast.defaults.wpp.wpp_indicator``; estimates up
to
2023, CC BY 3.0 IGO). Only the estimates are used: the forecast is this module's own, not WPP's
projection.

Fit window
----------
1991–2023 (:data:`FIT_START`). China's TFR fell from 2.5 (1990) to 1.9 (1991) at the end of the
transition driven by the birth-planning campaigns; before 1991 the series is dominated by that
one-off fall (6 children in 1965, 2.5 in 1990), which a trend model would extrapolate as a
continuing steep decline. From 1991 the TFR has been below replacement under a stable regime
(1.5–1.8 for 25 years, then the fall to 1.0 after 2017). The same window is used for e0 so both
paths describe the same period. For a 2010 base year (a backtest) the window ends in the base
year, so the forecast uses nothing observed after it.

Models (``method``)
-------------------
- ``statsmodels``: exponential smoothing with an additive damped trend and additive errors
  (ETS(A,Ad,N), ``statsmodels.tsa.exponential_smoothing.ets.ETSModel``) fitted by maximum
  likelihood; analytic prediction intervals.
- ``prophet``: Prophet's piecewise-linear trend (yearly data: no seasonality; Prophet's default
  changepoint prior 0.05; changepoints over 95 % of the TFR history, Prophet's default 80 % for
  e0); its simulated intervals use a fixed seed so runs repeat exactly.

TFR is modelled on the log scale (keeps it positive; intervals are multiplicative), e0 on its
own scale (years). The forecast is joined to the last observation ("jump-off"): the path is the
last observed value moved by the model's change since its fitted value of that year, so a model
that smooths over a recent fall does not reopen a level gap in the first forecast year.

Both libraries are imported inside the functions that use them, so ``import forecast`` stays
fast.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults.wpp import wpp_indicator
from forecast.errors import ConfigError

METHODS = ("statsmodels", "prophet")
FIT_START = 1991
HISTORY_END = 2023  # last WPP 2024 estimate
Z80 = 1.2815515655446004  # standard normal quantile 0.90
Z95 = 1.959963984540054  # standard normal quantile 0.975
PROPHET_SEED = 20240711  # WPP 2024 release date; fixes Prophet's simulated intervals
SOURCE = "UN DESA Population Division, World Population Prospects 2024, China estimates " \
         "(CC BY 3.0 IGO); data/wpp2024_china_annual.csv"

#: indicator -> (WPP indicator, scale the model works on, unit)
INDICATORS = {"tfr": ("tfr", "log", "births per woman"), "e0": ("e0_both", "level", "years")}
#: Prophet's changepoint range by indicator: TFR 0.95 so the post-2017 fall counts as the
#: trend; e0 Prophet's default 0.8 so the 2020–2023 (COVID-period) dip does not.
CHANGEPOINT_RANGE = {"tfr": 0.95, "e0": 0.8}


def fit_window(base_year: int) -> tuple[int, int]:
    """First and last year the trend models are fitted to: 1991 to 2023 for the 2020 census
    base; for an earlier base year (a backtest from 2010) 1991 to the base year, so the
    forecast uses only what was observed by then."""
    return FIT_START, (HISTORY_END if int(base_year) >= 2020 else int(base_year))


def history(indicator: str, start: int, end: int) -> pd.Series:
    """WPP 2024 China estimates of ``indicator`` ('tfr' births per woman, 'e0' years, both
    sexes) for ``start..end``, indexed by year."""
    series = wpp_indicator(INDICATORS[indicator][0]).loc[start:end]
    return series.astype(float)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"unknown trend method '{method}'", field="assumptions.fertility.method",
                          fix=f"use one of {', '.join(METHODS)}")


def _fit_statsmodels(values: np.ndarray, horizon: int) -> dict:
    """ETS(A,Ad,N) on ``values``: fitted values, forecast mean and its standard error."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(pd.Series(values), error="add", trend="add", damped_trend=True)
    with _quiet():
        fit = model.fit(disp=False)
    prediction = fit.get_prediction(start=len(values), end=len(values) + horizon - 1)
    frame = prediction.summary_frame(alpha=0.2)
    mean = frame["mean"].to_numpy(dtype=float)
    sd = (frame["pi_upper"].to_numpy(dtype=float) - frame["pi_lower"].to_numpy(dtype=float)) \
        / (2 * Z80)
    params = {name: round(float(value), 6) for name, value in
              zip(fit.param_names, np.atleast_1d(fit.params), strict=True)}
    return {"fitted": np.asarray(fit.fittedvalues, dtype=float), "mean": mean, "sd": sd,
            "model": "ETS(A,Ad,N): additive errors, additive damped trend, no seasonality "
                     "(statsmodels ETSModel, maximum likelihood)", "parameters": params}


def _fit_prophet(years: np.ndarray, values: np.ndarray, horizon: int,
                 changepoint_range: float) -> dict:
    """Prophet's linear trend on ``values`` (dates 1 July of each year)."""
    for name in ("prophet", "prophet.plot", "prophet.models", "cmdstanpy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with _quiet():
        from prophet import Prophet
    for name in ("prophet", "prophet.plot", "prophet.models", "cmdstanpy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    dates = pd.to_datetime([f"{int(y)}-07-01" for y in years])
    future_years = np.arange(years[-1] + 1, years[-1] + 1 + horizon)
    future = pd.to_datetime([f"{int(y)}-07-01" for y in future_years])
    model = Prophet(growth="linear", yearly_seasonality=False, weekly_seasonality=False,
                    daily_seasonality=False, changepoint_range=changepoint_range,
                    interval_width=0.8,
                    uncertainty_samples=1000)
    state = np.random.get_state()
    try:
        np.random.seed(PROPHET_SEED)
        with _quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Prophet's own pandas deprecation warnings
            model.fit(pd.DataFrame({"ds": dates, "y": values}))
            forecast = model.predict(pd.DataFrame({"ds": dates.append(future)}))
    finally:
        np.random.set_state(state)
    n = len(years)
    upper = forecast["yhat_upper"].to_numpy(dtype=float)[n:]
    lower = forecast["yhat_lower"].to_numpy(dtype=float)[n:]
    return {"fitted": forecast["yhat"].to_numpy(dtype=float)[:n],
            "mean": forecast["yhat"].to_numpy(dtype=float)[n:], "sd": (upper - lower) / (2 * Z80),
            "model": "Prophet piecewise-linear trend, no seasonality, changepoint_range "
                     f"{changepoint_range}, changepoint_prior_scale 0.05 (default), 80 % "
                     f"interval from 1,000 simulations (seed {PROPHET_SEED})",
            "parameters": {"changepoint_range": changepoint_range,
                           "changepoint_prior_scale": 0.05,
                           "n_changepoints": int(model.n_changepoints)}}


@contextlib.contextmanager
def _quiet():
    """Swallow what the modelling libraries print (Prophet's plotly notice, cmdstanpy)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


@lru_cache(maxsize=16)
def _trend(indicator: str, method: str, start: int, end: int, last_year: int) -> dict:
    """Fit ``method`` to ``indicator`` over start..end and forecast to ``last_year``.

    Returns plain lists: years, observed, fitted (on the natural scale), forecast years, the
    forecast (median) with 80 % and 95 % bounds, and the standard error on the model's scale
    (log for TFR), all joined to the last observation.
    """
    _check_method(method)
    observed = history(indicator, start, end)
    # The fit depends only on the observed series, the method and its library's version:
    # cached on disk (forecast.cache), it costs nothing after the first run.
    from importlib.metadata import version

    from forecast import cache as cache_module
    from forecast.cache import cache_key, cached_json, code_fingerprint

    library = "statsmodels" if method == "statsmodels" else "prophet"
    key = cache_key("trend", indicator, method, start, end, last_year,
                    observed.index.tolist(), observed.tolist(), library, version(library),
                    CHANGEPOINT_RANGE.get(indicator), PROPHET_SEED, SOURCE,
                    code_fingerprint(sys.modules[__name__], cache_module))
    return cached_json("trends", key, lambda: _fit_trend(indicator, method, start, end,
                                                          last_year, observed))


def _fit_trend(indicator: str, method: str, start: int, end: int, last_year: int,
               observed: pd.Series) -> dict:
    """The uncached fit behind :func:`_trend`."""
    years = observed.index.to_numpy(dtype=int)
    scale = INDICATORS[indicator][1]
    values = np.log(observed.to_numpy()) if scale == "log" else observed.to_numpy()
    horizon = max(int(last_year) - end, 1)
    fit = (_fit_statsmodels(values, horizon) if method == "statsmodels"
           else _fit_prophet(years, values, horizon, CHANGEPOINT_RANGE[indicator]))
    shift = values[-1] - fit["fitted"][-1]  # jump-off: start the forecast at the last value
    mean = fit["mean"] + shift
    sd = fit["sd"]
    natural = np.exp if scale == "log" else (lambda x: x)
    forecast_years = np.arange(end + 1, end + 1 + horizon)
    return {
        "indicator": indicator, "wpp_indicator": INDICATORS[indicator][0],
        "unit": INDICATORS[indicator][2], "method": method, "model": fit["model"],
        "parameters": fit["parameters"], "scale": scale, "fit_window": [start, end],
        "jump_off_shift": round(float(shift), 6), "source": SOURCE,
        "history": {"year": years.tolist(), "observed": observed.round(5).tolist(),
                    "fitted": np.round(natural(fit["fitted"]), 5).tolist()},
        "forecast": {"year": forecast_years.tolist(),
                     "median": np.round(natural(mean), 5).tolist(),
                     "lower_80": np.round(natural(mean - Z80 * sd), 5).tolist(),
                     "upper_80": np.round(natural(mean + Z80 * sd), 5).tolist(),
                     "lower_95": np.round(natural(mean - Z95 * sd), 5).tolist(),
                     "upper_95": np.round(natural(mean + Z95 * sd), 5).tolist(),
                     "sd": np.round(sd, 6).tolist()},
    }


def trend_record(indicator: str, method: str, base_year: int, last_year: int) -> dict:
    """The fit of ``indicator`` ('tfr' or 'e0') by ``method`` with the window for
    ``base_year``, forecast to ``last_year`` (a fresh copy of the cached record)."""
    import copy

    if indicator not in INDICATORS:
        raise ValueError(f"unknown indicator {indicator!r}")
    start, end = fit_window(base_year)
    return copy.deepcopy(_trend(indicator, method, start, end, max(int(last_year), end + 1)))


def _path(record: dict, calendar_years: np.ndarray) -> np.ndarray:
    """The indicator in each calendar year: observed up to the fit's end, median after
    (years beyond the forecast hold its last value)."""
    by_year = dict(zip(record["history"]["year"], record["history"]["observed"], strict=True))
    by_year.update(zip(record["forecast"]["year"], record["forecast"]["median"], strict=True))
    last = max(by_year)
    return np.array([by_year[min(int(y), last)] for y in calendar_years], dtype=float)


def tfr_trend_path(method: str, base_year: int, calendar_years) -> tuple[np.ndarray, dict]:
    """National TFR path as a ratio to the base year's national TFR, from a trend forecast.

    ``calendar_years``: the calendar year of each projection step (T,). Returns ``(ratio,
    record)``: ``ratio`` (T,) = TFR(year) / TFR(base_year), observed where the year is in the
    fit window, the forecast median after; the caller multiplies the local census TFR by it.
    ``record`` is a plain dict for the manifest: method, model, fit window, fitted values and
    the forecast with 80 %/95 % intervals (births per woman) and its sd of log TFR.
    """
    calendar_years = np.asarray(calendar_years, dtype=int)
    record = trend_record("tfr", method, base_year, int(calendar_years.max()))
    base_tfr = float(history("tfr", base_year, base_year).iloc[0])
    ratio = _path(record, calendar_years) / base_tfr
    record["base_year_tfr"] = round(base_tfr, 5)
    return ratio, record


def e0_trend_path(method: str, base_year: int, calendar_years) -> tuple[np.ndarray, dict]:
    """National life expectancy at birth (both sexes) as a gain over the base year, years.

    Returns ``(gain, record)``: ``gain`` (T,) = e0(year) − e0(base_year), observed within the
    fit window and the forecast median after; ``record`` as in :func:`tfr_trend_path` (e0 in
    years, ``sd`` in years).
    """
    calendar_years = np.asarray(calendar_years, dtype=int)
    record = trend_record("e0", method, base_year, int(calendar_years.max()))
    base_e0 = float(history("e0", base_year, base_year).iloc[0])
    gain = _path(record, calendar_years) - base_e0
    record["base_year_e0"] = round(base_e0, 4)
    return gain, record


def trend_frame(record: dict) -> pd.DataFrame:
    """A trend record as the table ``charts.trend_fit_chart`` draws: ``year, observed, fitted,
    forecast, lower, upper`` (80 % interval; NaN where a column does not apply)."""
    past = pd.DataFrame({"year": record["history"]["year"],
                         "observed": record["history"]["observed"],
                         "fitted": record["history"]["fitted"]})
    future = pd.DataFrame({"year": record["forecast"]["year"],
                           "forecast": record["forecast"]["median"],
                           "lower": record["forecast"]["lower_80"],
                           "upper": record["forecast"]["upper_80"]})
    frame = pd.concat([past, future], ignore_index=True)
    return frame.reindex(columns=["year", "observed", "fitted", "forecast", "lower", "upper"])


def log_sd_by_horizon(record: dict, horizons) -> np.ndarray:
    """The forecast's standard error (model scale: log TFR, or e0 years) ``h`` years after the
    fit's last year, for each ``h`` in ``horizons`` (0 → 0; beyond the forecast: its last)."""
    sd = np.r_[0.0, np.asarray(record["forecast"]["sd"], dtype=float)]
    index = np.clip(np.asarray(horizons, dtype=int), 0, len(sd) - 1)
    return sd[index]
