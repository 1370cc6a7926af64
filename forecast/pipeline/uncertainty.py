"""Probabilistic runs: N joint trajectories of fertility, mortality, migration and disability,
projected in one batched engine call, summarised as quantiles and probabilities.

What each trajectory draws (distributions and defaults: :class:`forecast.config.Uncertainty`)
-----------------------------------------------------------------------------------------
- ``tfr_log`` (N, T): log of a multiplier of the scenario's TFR path (per step), a Gaussian
  random walk whose marginal sd at horizon ``h`` (years after the base year) is the stated sd
  (WPP 2024 China's 80 % interval widths by horizon, the statsmodels ETS forecast error, or a
  fixed sd growing with √h). Lognormal multiplier, median 1.
- ``e0_shift`` (N, T): years added to each sex's life expectancy at birth, a Gaussian random
  walk likewise (sd from WPP 2024 China e0 intervals, or fixed). Applied as a proportional
  change ``k`` of the death rates at every age, found on a grid of life tables
  (:func:`shifted_survival`).
- ``migration_scale`` (N,): net migrants × ``max(0, 1 + sd·z)``, held for the whole horizon.
- ``disability_trend`` (N,): yearly relative change of age-specific disability prevalence,
  uniform over [low, high]; elderly ``needs`` demand and the disability drivers are the
  constant-prevalence values × ``(1 + trend)^(year − base year)``, exactly as
  :func:`forecast.care.demand.elderly_bed_demand` applies a trend.

The four are independent. Every scenario uses the same seed, so scenarios are compared on
common random numbers. Planned supply is the deterministic run's supply path (a plan's beds do
not depend on the population drawn; where the run derived supply from a rate target, the
baseline projection's conversion is kept).

Outputs (tables, all with a ``scenario`` column): ``summary_quantiles`` (scenario, year,
indicator, q025, q10, q50, q90, q975) for every column of ``summary.csv``;
``demand_quantiles`` (scenario, year, service, method, unit, quantiles) for every demand and
driver row; ``probability_met`` (scenario, service, method, year, probability_met,
n_trajectories, target_year): the share of trajectories in which planned supply ≥ demand.
Quantiles are numpy's default (linear) sample quantiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.care.demand import (
    PopulationCube,
    childcare_demand,
    drivers_from_demand,
    elderly_bed_demand,
    load_care_parameters,
)
from forecast.care.supply import gaps, probability_met
from forecast.defaults.assumptions import SEXES
from forecast.demography.engine import project
from forecast.demography.lifetable import life_table

QUANTILES = (0.025, 0.10, 0.50, 0.90, 0.975)
QUANTILE_COLUMNS = ("q025", "q10", "q50", "q90", "q975")
Z80 = 1.2815515655446004
WPP_JUMP_OFF = 2023  # last WPP 2024 estimate; its projection's horizon h is year 2023 + h
FIXED_SD_HORIZON = 15  # years: a fixed sd is stated for 15 years after the base year
DISABILITY_SCALED = {("elderly_beds", "needs"), ("nursing_beds", "needs"),
                     ("elderly_beds", "expected_use"), ("nursing_beds", "expected_use"),
                     ("driver", "residents_expected"), ("driver", "residents_nursing_level"),
                     ("driver", "severe_disabled"), ("driver", "moderate_disabled"),
                     ("driver", "residents_needing_care")}
SUMMARY_INDICATORS = ("total", "births", "deaths", "net_migrants", "pop_0_2", "pop_3_5",
                      "pop_0_14", "pop_15_64", "pop_60plus", "pop_65plus", "pop_80plus",
                      "share_60plus", "child_dependency", "old_dependency", "total_dependency")
STAGES = ("draws", "projection", "demand", "gaps", "quantiles")


@dataclass(frozen=True)
class Draws:
    """One set of N trajectories over T steps (step t = calendar year base + t + 1)."""

    tfr_log: np.ndarray  # (N, T) log TFR multiplier
    e0_shift: np.ndarray  # (N, T) years added to e0
    migration_scale: np.ndarray  # (N,) multiplier of net migrants
    disability_trend: np.ndarray  # (N,) relative change of prevalence per year

    @property
    def n(self) -> int:
        return len(self.migration_scale)


@dataclass
class UncertaintyResult:
    """The tables and manifest record of a probabilistic run."""

    summary_quantiles: pd.DataFrame
    demand_quantiles: pd.DataFrame
    probability_met: pd.DataFrame
    record: dict
    draws: dict[str, Draws] = field(default_factory=dict)


# ------------------------------------------------------------------------------ sd by horizon


def _wpp_sd(indicator: str, horizons: np.ndarray, log: bool) -> np.ndarray:
    """sd implied by WPP 2024 China's 80 % interval ``h`` years after its jump-off."""
    from forecast.defaults.wpp import wpp_indicator

    lower = wpp_indicator(indicator, "lower_80")
    upper = wpp_indicator(indicator, "upper_80")
    years = np.arange(WPP_JUMP_OFF + 1, int(lower.index.max()) + 1)
    low, high = lower.reindex(years).to_numpy(float), upper.reindex(years).to_numpy(float)
    width = (np.log(high) - np.log(low)) if log else (high - low)
    sd = np.r_[0.0, width / (2 * Z80)]
    return sd[np.clip(horizons, 0, len(sd) - 1)]


def tfr_sd_by_horizon(settings, base_year: int, n_steps: int) -> tuple[np.ndarray, str]:
    """sd of the log TFR multiplier for steps 1..T (horizon h = t + 1 years), and its source."""
    horizons = np.arange(1, n_steps + 1)
    if settings.tfr_sd_source == "fixed":
        sd = settings.tfr_sd_log * np.sqrt(horizons / FIXED_SD_HORIZON)
        text = f"fixed: sd of log TFR {settings.tfr_sd_log} at 15 years, × √(h/15) (config)"
    elif settings.tfr_sd_source == "statsmodels":
        from forecast.defaults.trends import log_sd_by_horizon, trend_record

        record = trend_record("tfr", "statsmodels", base_year, base_year + n_steps + 3)
        sd = log_sd_by_horizon(record, horizons)
        text = ("statsmodels ETS(A,Ad,N) forecast error of log TFR, WPP 2024 China estimates "
                f"{record['fit_window'][0]}–{record['fit_window'][1]}, by horizon")
    else:
        sd = _wpp_sd("tfr", horizons, log=True)
        text = ("WPP 2024 China TFR 80 % interval, (ln upper − ln lower) / 2.563, by horizon "
                f"from its {WPP_JUMP_OFF} jump-off")
    return np.maximum.accumulate(sd), text


def e0_sd_by_horizon(settings, n_steps: int) -> tuple[np.ndarray, str]:
    """sd of the e0 shift (years) for steps 1..T, and its source."""
    horizons = np.arange(1, n_steps + 1)
    if settings.e0_sd_source == "fixed":
        sd = settings.e0_sd * np.sqrt(horizons / FIXED_SD_HORIZON)
        text = f"fixed: sd {settings.e0_sd} years at 15 years, × √(h/15) (config)"
    else:
        sd = _wpp_sd("e0_both", horizons, log=False)
        text = ("WPP 2024 China e0 (both sexes) 80 % interval, (upper − lower) / 2.563, by "
                f"horizon from its {WPP_JUMP_OFF} jump-off")
    return np.maximum.accumulate(sd), text


def disability_range(settings) -> tuple[float, float]:
    """The disability-trend bounds: the config's, else E11's low/high (care_parameters.csv)."""
    table = load_care_parameters().set_index("key")
    low = settings.disability_trend_low
    high = settings.disability_trend_high
    low = float(table.loc["disability_trend", "low"]) if low is None else float(low)
    high = float(table.loc["disability_trend", "high"]) if high is None else float(high)
    return low, high


# ------------------------------------------------------------------------------ drawing


def random_walk(rng: np.random.Generator, sd: np.ndarray, n: int) -> np.ndarray:
    """(n, T) Gaussian random walks from 0 whose marginal sd at step t is ``sd[t]``
    (``sd`` non-decreasing): independent increments with variance sd[t]² − sd[t−1]²."""
    increments = np.sqrt(np.diff(np.r_[0.0, np.asarray(sd, float) ** 2]))
    return np.cumsum(rng.standard_normal((n, len(sd))) * increments, axis=1)


def draw(settings, base_year: int, n_steps: int, n: int, seed: int) -> tuple[Draws, dict]:
    """N trajectories from ``settings`` (a :class:`forecast.config.Uncertainty`) with ``seed``.

    The random stream is always consumed in the same order (TFR, e0, migration, disability),
    so the same seed gives the same draws whatever the sds are.
    """
    rng = np.random.default_rng(seed)
    tfr_sd, tfr_text = tfr_sd_by_horizon(settings, base_year, n_steps)
    e0_sd, e0_text = e0_sd_by_horizon(settings, n_steps)
    low, high = disability_range(settings)
    draws = Draws(
        tfr_log=random_walk(rng, tfr_sd, n),
        e0_shift=random_walk(rng, e0_sd, n),
        migration_scale=np.maximum(1.0 + settings.migration_sd * rng.standard_normal(n), 0.0),
        disability_trend=rng.uniform(low, high, n),
    )
    record = {
        "tfr": {"distribution": "lognormal multiplier of the TFR path, Gaussian random walk "
                                "in log", "sd_log_by_step": np.round(tfr_sd, 5).tolist(),
                "sd_source": tfr_text},
        "e0": {"distribution": "normal shift of e0 (years, both sexes), Gaussian random walk, "
                               "applied as a proportional change of every age's death rate",
               "sd_years_by_step": np.round(e0_sd, 4).tolist(), "sd_source": e0_text},
        "migration": {"distribution": f"net migrants × max(0, normal(1, {settings.migration_sd}"
                                      "))", "source": "assumption (config uncertainty."
                                                      "migration_sd)"},
        "disability_trend": {"distribution": f"uniform({low}, {high}) per year",
                             "source": "range of E11 in data/care_parameters.csv"
                             if settings.disability_trend_low is None
                             and settings.disability_trend_high is None else "config"},
    }
    return draws, record


# ------------------------------------------------------------------------------ projection


#: ln k grid for the mortality level: k = exp(ln k) multiplies every age's death rate; ±1.5
#: reaches about ±15 years of e0 at Chinese mortality levels (draws beyond are clipped).
LOG_K_GRID = np.arange(-75, 76) * 0.02


def shifted_survival(mx: np.ndarray, e0_shift: np.ndarray) -> np.ndarray:
    """Survival ratios (T, N, 2, A) after shifting each sex's e0 by ``e0_shift`` (N, T) years.

    ``mx``: (T, 2, A) central death rates. The shift is a proportional change ``k`` of every
    age's rate. Life tables are built once on a grid of ``ln k`` (step 0.02) for each step and
    sex; each draw's ``ln k`` is found by inverting e0(ln k) on the grid and its survival ratios
    are interpolated linearly between the two neighbouring grid tables (e0 error below 0.001
    years). A shift of 0 gives exactly the unshifted ratios.
    """
    sexes = np.array(SEXES)  # broadcasts against mx[..., 0]: (..., 2)
    n_steps = mx.shape[0]
    grid = life_table(np.exp(LOG_K_GRID)[:, None, None, None] * mx[None], sexes)
    e0 = grid.ex[..., 0]  # (G, T, 2), decreasing along G
    ratios = grid.survival_ratios()  # (G, T, 2, A)
    centre = int(np.flatnonzero(LOG_K_GRID == 0.0)[0])
    target = e0[centre][None] + e0_shift[:, :, None]  # (N, T, 2)
    index = np.arange(len(LOG_K_GRID), dtype=float)
    position = np.empty_like(target)
    for t in range(n_steps):  # steps and sexes, not trajectories
        for s in range(2):
            position[:, t, s] = np.interp(target[:, t, s], e0[::-1, t, s], index[::-1])
    lower = np.minimum(np.floor(position).astype(int), len(LOG_K_GRID) - 2)
    weight = (position - lower)[..., None]
    steps = np.arange(n_steps)[None, :, None]
    sex_index = np.arange(2)[None, None, :]
    shifted = (ratios[lower, steps, sex_index] * (1.0 - weight)
               + ratios[lower + 1, steps, sex_index] * weight)  # (N, T, 2, A)
    return np.moveaxis(shifted, 0, 1)


def project_trajectories(inputs, draws: Draws, migration_timing: str = "end"):
    """Project every trajectory of ``draws`` for one scenario's inputs in one engine call.

    ``inputs``: a :class:`forecast.pipeline.scenarios.ScenarioInputs`. The engine's batch axis is
    the
    trajectory: population (T+1, N, 2, A).
    """
    survival = shifted_survival(inputs.mx, draws.e0_shift)  # (T, N, 2, A)
    asfr = inputs.asfr[:, None, :] * np.exp(draws.tfr_log.T)[:, :, None]  # (T, N, A)
    migrants = inputs.net_migrants[:, None] * draws.migration_scale[None, :, None, None]
    return project(inputs.population, survival, asfr, inputs.srb, migrants,
                   migration_timing=migration_timing)


def summary_arrays(projection) -> dict[str, np.ndarray]:
    """The indicators of ``summary.csv`` for every year and trajectory: name -> (Y, N).

    Same definitions as :func:`forecast.pipeline.run.summary_table` (persons; ratios per 100;
    births/deaths/net migrants of the step ending in the year, NaN in the base year).
    """
    by_age = projection.population.sum(axis=-2)  # (Y, N, A)
    n = by_age.shape[1]
    blank = np.full((1, n), np.nan)
    total = by_age.sum(axis=-1)
    young, working = by_age[..., :15].sum(-1), by_age[..., 15:65].sum(-1)
    old = by_age[..., 65:].sum(-1)
    return {
        "total": total,
        "births": np.r_[blank, projection.births_by_sex.sum(axis=-1)],
        "deaths": np.r_[blank, projection.deaths.sum(axis=(-2, -1))],
        "net_migrants": np.r_[blank, projection.net_migrants_applied.sum(axis=(-2, -1))],
        "pop_0_2": by_age[..., :3].sum(-1), "pop_3_5": by_age[..., 3:6].sum(-1),
        "pop_0_14": young, "pop_15_64": working, "pop_60plus": by_age[..., 60:].sum(-1),
        "pop_65plus": old, "pop_80plus": by_age[..., 80:].sum(-1),
        "share_60plus": by_age[..., 60:].sum(-1) / total,
        "child_dependency": young / working * 100, "old_dependency": old / working * 100,
        "total_dependency": (young + old) / working * 100,
    }


def _quantile_rows(values: np.ndarray) -> np.ndarray:
    """(G, N) -> (G, 5) quantiles; all-NaN rows stay NaN without warnings."""
    out = np.full((values.shape[0], len(QUANTILES)), np.nan)
    finite = ~np.isnan(values).any(axis=1)
    if finite.any():
        out[finite] = np.quantile(values[finite], QUANTILES, axis=1).T
    return out


def summary_quantiles(scenario: str, years: np.ndarray,
                      arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """``scenario, year, indicator, q025, q10, q50, q90, q975`` from :func:`summary_arrays`."""
    frames = []
    for indicator in SUMMARY_INDICATORS:
        q = _quantile_rows(arrays[indicator])
        frame = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
        frame.insert(0, "indicator", indicator)
        frame.insert(0, "year", np.asarray(years, dtype=int))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "scenario", scenario)
    return out


def trajectory_demand(projection, years: np.ndarray, elderly, childcare, base_year: int,
                      disability_trend: np.ndarray) -> pd.DataFrame:
    """Demand for every trajectory and year: the :mod:`forecast.care.demand` table with a leading
    ``trajectory`` column (categorical service/method as there).

    ``elderly`` is used with a zero prevalence trend; each trajectory's trend then scales the
    disability-based rows by ``(1 + trend)^(year − base_year)``.
    """
    import dataclasses

    population = np.moveaxis(projection.population, 1, 0)  # (N, Y, 2, A)
    n, n_years = population.shape[:2]
    groups = pd.DataFrame({"trajectory": np.repeat(np.arange(n), n_years),
                           "year": np.tile(np.asarray(years, dtype=int), n)})
    cube = PopulationCube(groups, population.reshape(n * n_years, 2, -1), ("trajectory",))
    flat = dataclasses.replace(elderly, prevalence_trend=0.0)
    elderly_rows = elderly_bed_demand(cube, flat, base_year)
    childcare_rows = childcare_demand(cube, childcare)
    shared = ((childcare_rows["service"] == "driver")
              & (childcare_rows["method"] == "pop_total")).to_numpy()
    from pandas.api.types import union_categoricals

    parts = [elderly_rows, childcare_rows.loc[~shared]]
    demand = pd.concat(parts, ignore_index=True)
    for column in ("service", "method", "unit", "assumptions"):
        demand[column] = union_categoricals([part[column] for part in parts])
    scaled = np.zeros(len(demand), dtype=bool)
    for service, method in DISABILITY_SCALED:  # categorical comparisons, not a loop over rows
        scaled |= ((demand["service"] == service) & (demand["method"] == method)).to_numpy()
    trend = disability_trend[demand["trajectory"].to_numpy()]
    factor = (1.0 + trend) ** (demand["year"].to_numpy() - base_year)
    demand["value"] = np.where(scaled, demand["value"].to_numpy() * factor, demand["value"])
    return demand


def demand_quantiles(scenario: str, demand: pd.DataFrame, n: int) -> pd.DataFrame:
    """``scenario, year, service, method, unit, q025 … q975`` over trajectories."""
    keys = ["service", "method", "year"]
    table = demand.assign(service=demand["service"].astype(str),
                          method=demand["method"].astype(str),
                          unit=demand["unit"].astype(str))
    table = table.sort_values([*keys, "trajectory"], kind="stable")
    values = table["value"].to_numpy(dtype=float).reshape(-1, n)
    first = table.iloc[::n]
    out = pd.DataFrame(_quantile_rows(values), columns=list(QUANTILE_COLUMNS))
    for column in ("unit", "method", "service", "year"):
        out.insert(0, column, first[column].to_numpy())
    out.insert(0, "scenario", scenario)
    return out


# ------------------------------------------------------------------------------ the run


def run_uncertainty(result, n: int, seed: int,
                    progress: Callable[[str], None] | None = None) -> UncertaintyResult:
    """A probabilistic run beside the deterministic ``result`` (a :class:`forecast.pipeline.run.
    RunResult`): ``n`` trajectories per scenario drawn with ``seed``."""
    from forecast.pipeline.run import demand_parameters

    if n < 1:
        raise ValueError("n must be at least 1")
    started = time.perf_counter()
    config = result.config
    base_year = config.projection.base_year
    step = progress or (lambda stage: None)
    summaries, demands, probabilities = [], [], []
    records: dict[str, dict] = {}
    all_draws: dict[str, Draws] = {}
    target_years = set()
    if len(result.targets):
        target_years = set(zip(result.targets["service"], result.targets["year"].astype(int),
                               strict=True))
    for name in result.scenarios:
        scenario_config = config if name == "baseline" else config.scenario(name)
        inputs = result.inputs[name]
        draws, record = draw(scenario_config.uncertainty, base_year, len(inputs.step_years),
                             n, seed)
        all_draws[name] = draws
        records[name] = record
        step("draws")
        projection = project_trajectories(inputs, draws,
                                          scenario_config.projection.migration_timing)
        step("projection")
        summaries.append(summary_quantiles(name, inputs.years, summary_arrays(projection)))
        elderly, childcare, _ = demand_parameters(scenario_config)
        demand = trajectory_demand(projection, inputs.years, elderly, childcare, base_year,
                                   draws.disability_trend)
        step("demand")
        supply = result.supply[result.supply["scenario"] == name]
        drivers = drivers_from_demand(demand)
        # the institutional beds too: the needs, expected-use and 9073 methods are compared
        # with them (supply.gaps), as in the deterministic run
        supply_columns = [c for c in ("service", "year", "supply", "supply_institutional",
                                      "institutional_basis") if c in supply.columns]
        gap_table = gaps(demand, supply[supply_columns], [], drivers)
        probability = probability_met(gap_table, "trajectory")
        probability.insert(0, "scenario", name)
        probabilities.append(probability)
        step("gaps")
        demands.append(demand_quantiles(name, demand, n))
        step("quantiles")
    probability = pd.concat(probabilities, ignore_index=True)
    probability["target_year"] = [(s, int(y)) in target_years for s, y in
                                  zip(probability["service"], probability["year"], strict=True)]
    probability = probability[["scenario", "service", "method", "year", "probability_met",
                               "n_trajectories", "target_year"]]
    manifest = {
        "trajectories": n, "seed": seed, "settings": {
            name: (config if name == "baseline" else config.scenario(name))
            .uncertainty.model_dump(mode="json") for name in result.scenarios},
        "distributions": records,
        "quantiles": dict(zip(QUANTILE_COLUMNS, QUANTILES, strict=True)),
        "supply": "the deterministic run's planned supply path of each scenario",
        "engine": "one batched projection per scenario (trajectory axis), no loop over "
                  "trajectories",
        "seconds": round(time.perf_counter() - started, 3),
    }
    return UncertaintyResult(summary_quantiles=pd.concat(summaries, ignore_index=True),
                             demand_quantiles=pd.concat(demands, ignore_index=True),
                             probability_met=probability, record=manifest, draws=all_draws)

