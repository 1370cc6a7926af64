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
- the care parameters (``care``: name -> (N,)), each from its sourced range in
  ``data/care_parameters.csv`` (:func:`care_ranges`), centred on the scenario's deterministic
  value: a split triangular distribution (:func:`split_triangular`) whose mode and median are
  the deterministic value and whose ends are the range's low and high (the shape is an
  assumption; the ends are sourced). Drawn: institutional uptake of the severely and the
  moderately disabled (``u_severe``, ``u_moderate``), planning and observed occupancy, the
  level of severe and of any disability (multipliers of the E8 and E6 schedules, ranges of E7
  and E5), the disability trend (E11: ``(1 + trend)^(year − base year)``, as
  :func:`forecast.care.demand.elderly_bed_demand` applies it), the share of families wanting
  childcare (C3), the 2035 enrolment of the policy 托位 path and the planning utilisation of
  places. The plan norms, the nursing-type share and the 9073 rule are standards, not
  estimates, and are not drawn.

All are independent. Every scenario uses the same seed, so scenarios are compared on
common random numbers. Planned supply is the deterministic run's supply path (a plan's beds do
not depend on the population drawn; where the run derived supply from a rate target, the
baseline projection's conversion is kept).

Outputs (tables, all with a ``scenario`` column): ``summary_quantiles`` (scenario, year,
indicator, q025, q10, q50, q90, q975) for every column of ``summary.csv``;
``demand_quantiles`` (scenario, year, service, method, unit, quantiles) for every demand and
driver row; ``probability_met`` (scenario, service, method, year, probability_met,
n_trajectories, target_year): the share of trajectories in which planned supply ≥ demand.
Quantiles are numpy's default (linear) sample quantiles.

Demand, quantiles and probabilities are computed on arrays (year × trajectory) in one batched
computation per scenario (:func:`care_demand_arrays`), never per trajectory.

Sensitivity (every run, deterministic too: :func:`sensitivity_table`, ``sensitivity.csv`` and
the tornado chart): each care parameter at the low and at the high end of its range, every
other at its deterministic value, on the deterministic population of the main scenario. The
care parameters act after the projection, so the swings need no draws and no new projection:
one :func:`care_demand_arrays` call with two cases per parameter.
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
    elderly_bed_demand,
    load_care_parameters,
)
from forecast.demography.engine import project
from forecast.demography.lifetable import life_table
from forecast.vocabulary import SEXES

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
    care: dict[str, np.ndarray] = field(default_factory=dict)  # care parameter -> (N,)

    @property
    def n(self) -> int:
        return len(self.migration_scale)


@dataclass(frozen=True)
class CareRange:
    """A care parameter drawn in a probabilistic run and swung in the sensitivity table:
    its deterministic value (``centre``), the ends of its sourced range and their source."""

    name: str
    centre: float
    low: float
    high: float
    source: str
    confidence: str = ""  # of its row in data/care_parameters.csv (A: an assumption)

    @property
    def fixed(self) -> bool:
        return self.low == self.high


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


#: The care parameters a probabilistic run draws, in the order of the random stream, each with
#: the row of data/care_parameters.csv giving its range and whether that row's range is of the
#: value itself (``value``) or of a level the parameter multiplies (``level``: the range ÷ the
#: row's value, centre 1).
CARE_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("u_severe", "u_severe", "value"),
    ("u_moderate", "u_moderate", "value"),
    ("target_occupancy", "target_occupancy", "value"),
    ("observed_occupancy", "actual_occupancy", "value"),
    ("severe_disability_level", "severe_disability_60plus_2020", "level"),
    ("disability_level", "disability_any_60plus_2015", "level"),
    ("disability_trend", "disability_trend", "value"),
    ("childcare_demand_share", "childcare_demand_share", "value"),
    ("childcare_enrolment_2035", "childcare_enrolment_policy_2035", "value"),
    ("childcare_target_utilisation", "childcare_target_utilisation", "value"),
)
CARE_NAMES = tuple(name for name, _, _ in CARE_PARAMETERS)
POLICY_UPTAKE_SOURCE = "childcare_enrolment_policy_2035"


def _source_code(source: str) -> str:
    """The bracketed code of a care_parameters.csv source (``[E3] MCA …`` -> ``E3``)."""
    return source[1:source.index("]")] if source.startswith("[") and "]" in source else ""


def deterministic_care_values(elderly, childcare) -> dict[str, float]:
    """Each drawn care parameter's value in the deterministic run of a scenario (levels 1)."""
    return {
        "u_severe": float(elderly.u_severe), "u_moderate": float(elderly.u_moderate),
        "target_occupancy": float(elderly.target_occupancy),
        "observed_occupancy": float(elderly.observed_occupancy),
        "severe_disability_level": 1.0, "disability_level": 1.0,
        "disability_trend": float(elderly.prevalence_trend),
        "childcare_demand_share": float(childcare.demand_share),
        "childcare_enrolment_2035": float(childcare.demand_share
                                          * childcare.uptake_path[-1][1]),
        "childcare_target_utilisation": float(childcare.target_utilisation),
    }


def care_ranges(settings, elderly, childcare,
                honour_fixed: bool = True) -> tuple[CareRange, ...]:
    """The range of every drawn care parameter of one scenario: centred on its deterministic
    value (:func:`deterministic_care_values`), ends from data/care_parameters.csv (widened to
    hold the centre where a scenario sets a value outside them). The disability trend's ends
    may come from the config (``disability_trend_low/high``); ``care_parameters: fixed`` holds
    every other one (and the trend, unless its ends are given) at its deterministic value; a
    scenario whose 托位 path is not the policy path holds its 2035 enrolment (the path is the
    scenario's own). ``honour_fixed=False`` (the sensitivity table) ignores ``fixed``."""
    table = load_care_parameters().set_index("key")
    centres = deterministic_care_values(elderly, childcare)
    fixed = honour_fixed and getattr(settings, "care_parameters", "sourced") == "fixed"
    trend_given = (settings.disability_trend_low is not None
                   or settings.disability_trend_high is not None)
    out = []
    for name, key, kind in CARE_PARAMETERS:
        row = table.loc[key]
        low, high = float(row["low"]), float(row["high"])
        if kind == "level":
            low, high = low / float(row["value"]), high / float(row["value"])
        source = f"{_source_code(str(row['source']))} {key} (data/care_parameters.csv)"
        if name == "disability_trend" and trend_given:
            low, high = disability_range(settings)
            source = "config uncertainty.disability_trend_low/high"
        elif fixed or (name == "childcare_enrolment_2035"
                       and childcare.uptake_source != POLICY_UPTAKE_SOURCE):
            low = high = centres[name]
            source = ("held: config uncertainty.care_parameters fixed" if fixed else
                      "held: the scenario's own 托位 uptake path")
        centre = centres[name]
        if name == "disability_trend" and trend_given:
            centre = min(max(centre, low), high)  # the config's ends bound the trend
        confidence = "" if source.startswith(("config", "held")) else str(row["confidence"])
        out.append(CareRange(name, centre, min(low, centre), max(high, centre), source,
                             confidence))
    return tuple(out)


def split_triangular(u: np.ndarray, centre: float, low: float, high: float) -> np.ndarray:
    """Quantile function of the split triangular distribution on [low, high] with mode and
    median ``centre``: half the mass on each side, each half a triangle peaking at the centre.
    ``u`` uniform on [0, 1) gives the draws; u = 0.5 gives exactly ``centre``."""
    u = np.asarray(u, float)
    below = low + (centre - low) * np.sqrt(np.clip(2.0 * u, 0.0, 1.0))
    above = high - (high - centre) * np.sqrt(np.clip(2.0 - 2.0 * u, 0.0, 1.0))
    return np.where(u < 0.5, below, above)


# ------------------------------------------------------------------------------ drawing


def random_walk(rng: np.random.Generator, sd: np.ndarray, n: int) -> np.ndarray:
    """(n, T) Gaussian random walks from 0 whose marginal sd at step t is ``sd[t]``
    (``sd`` non-decreasing): independent increments with variance sd[t]² − sd[t−1]²."""
    increments = np.sqrt(np.diff(np.r_[0.0, np.asarray(sd, float) ** 2]))
    return np.cumsum(rng.standard_normal((n, len(sd))) * increments, axis=1)


def draw(settings, base_year: int, n_steps: int, n: int, seed: int,
         ranges: tuple[CareRange, ...] | None = None) -> tuple[Draws, dict]:
    """N trajectories from ``settings`` (a :class:`forecast.config.Uncertainty`) with ``seed``;
    ``ranges`` (:func:`care_ranges`) those of the care parameters (None: the shipped defaults).

    The random stream is always consumed in the same order (TFR, e0, migration, then one
    uniform per care parameter of :data:`CARE_PARAMETERS`), so the same seed gives the same
    draws whatever the sds and ranges are.
    """
    if ranges is None:
        from forecast.care.demand import ChildcareParameters, ElderlyCareParameters

        ranges = care_ranges(settings, ElderlyCareParameters(), ChildcareParameters())
    rng = np.random.default_rng(seed)
    tfr_sd, tfr_text = tfr_sd_by_horizon(settings, base_year, n_steps)
    e0_sd, e0_text = e0_sd_by_horizon(settings, n_steps)
    tfr_log = random_walk(rng, tfr_sd, n)
    e0_shift = random_walk(rng, e0_sd, n)
    migration_scale = np.maximum(1.0 + settings.migration_sd * rng.standard_normal(n), 0.0)
    uniforms = rng.random((len(CARE_PARAMETERS), n))
    by_name = {r.name: r for r in ranges}
    care = {name: split_triangular(uniforms[i], by_name[name].centre, by_name[name].low,
                                   by_name[name].high)
            for i, name in enumerate(CARE_NAMES)}
    draws = Draws(tfr_log=tfr_log, e0_shift=e0_shift, migration_scale=migration_scale,
                  disability_trend=care["disability_trend"], care=care)
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
        "care_parameters": {
            r.name: {"distribution": ("held at the deterministic value" if r.fixed else
                                      f"split triangular on [{r.low:.6g}, {r.high:.6g}], mode "
                                      f"and median {r.centre:.6g} (the deterministic value)"),
                     "low": r.low, "centre": r.centre, "high": r.high, "source": r.source}
            for r in ranges},
        "care_parameters_shape": "split triangular: half the draws on each side of the "
                                 "deterministic value, density falling linearly to the sourced "
                                 "ends (assumption; the ends are sourced)",
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


#: (service, method) -> unit of every row :func:`care_demand_arrays` gives, as in
#: :mod:`forecast.care.demand`'s table.
DEMAND_ROWS: dict[tuple[str, str], str] = {
    **{(service, method): "beds" for service in ("elderly_beds", "nursing_beds")
       for method in ("norm", "needs", "expected_use", "rule_9073")},
    ("childcare_places", "norm"): "places", ("childcare_places", "needs"): "places",
    **{("driver", method): "persons" for method in (
        "pop_total", "pop_0_2", "pop_60plus", "pop_65plus", "pop_80plus", "severe_disabled",
        "moderate_disabled", "residents_needing_care", "residents_expected",
        "residents_nursing_level", "children_wanting_care")},
}


def care_demand_arrays(population: np.ndarray, years: np.ndarray, elderly, childcare,
                       base_year: int, care: dict[str, np.ndarray]) -> dict[tuple[str, str],
                                                                           np.ndarray]:
    """Demand of every trajectory and year, on arrays: ``(service, method) -> (Y, K)``.

    ``population`` (Y, P, 2, A) persons, P trajectories (or 1, shared by all K cases);
    ``care``: each name of :data:`CARE_NAMES` -> (K,) values (:func:`draw`), the parameters
    ``elderly``/``childcare`` supplying every other value. The formulas are those of
    :func:`forecast.care.demand.elderly_bed_demand` and
    :func:`forecast.care.demand.childcare_demand`,
    with the drawn values in place of the deterministic ones (levels multiply the severe and
    the any-disability schedules; the moderate prevalence is any − severe); at the
    deterministic values they give the deterministic demand (test). The 托位 policy path is
    anchored on observed enrolment: its drawn 2035 enrolment moves the path after its last
    observed year linearly, and no path enrols more than the share wanting care; another
    path keeps its uptake (a share of the children wanting care).
    """
    from forecast.care.demand import _national_census_by_age, expected_use_factor, prevalence_by_sex

    n_ages = population.shape[-1]
    year_column = np.asarray(years, float)[:, None]
    c = {name: np.asarray(care[name], float)[None, :] for name in CARE_NAMES}
    by_age = population.sum(axis=2)  # (Y, P, A)
    severe, moderate = prevalence_by_sex(elderly, n_ages)
    severe_sum = np.einsum("ypsa,sa->yp", population, severe)
    moderate_sum = np.einsum("ypsa,sa->yp", population, moderate)
    trend = (1.0 + c["disability_trend"]) ** (year_column - base_year)
    severe_level, any_level = c["severe_disability_level"], c["disability_level"]
    severe_persons = severe_level * severe_sum * trend
    moderate_persons = (any_level * (severe_sum + moderate_sum) - severe_level * severe_sum) \
        * trend
    residents = severe_persons * c["u_severe"] + moderate_persons * c["u_moderate"]
    # residents whose care level is nursing-type (forecast.care.demand.elderly_bed_demand)
    nursing_residents = (severe_persons * c["u_severe"] * elderly.nursing_level_severe
                         + moderate_persons * c["u_moderate"] * elderly.nursing_level_moderate)
    national = _national_census_by_age(n_ages)
    national_severe = float((national * severe).sum())
    national_moderate = float((national * moderate).sum())
    national_residents = (severe_level * national_severe * c["u_severe"]
                          + (any_level * (national_severe + national_moderate)
                             - severe_level * national_severe) * c["u_moderate"])
    unscaled = elderly.observed_residents_national / national_residents
    factor = unscaled
    if np.all(c["severe_disability_level"] == 1.0) and np.all(c["disability_level"] == 1.0) \
            and np.all(c["u_severe"] == elderly.u_severe) \
            and np.all(c["u_moderate"] == elderly.u_moderate):
        # the deterministic factor, to the last bit (the sums above may round differently)
        factor = expected_use_factor(elderly, n_ages)
    expected_residents = residents * factor
    shape = residents.shape
    pop_60plus = np.broadcast_to(by_age[..., 60:].sum(-1), shape)
    beds = {
        "norm": elderly.norm_per_1000 * pop_60plus / 1000.0,
        "needs": residents / c["target_occupancy"],
        "expected_use": expected_residents / c["observed_occupancy"],
        "rule_9073": elderly.rule_9073_share * pop_60plus,
    }
    profile = childcare.age_profile
    total_share = sum(share for _, share in profile)
    profile_rate = np.zeros(n_ages)
    for age, share in profile:
        profile_rate[age] = len(profile) * share / total_share
    profiled = by_age @ profile_rate  # (Y, P): children weighted by the age profile
    demand_share = c["childcare_demand_share"]
    uptake = childcare.uptake(np.asarray(years, float))[:, None]
    if childcare.uptake_source == POLICY_UPTAKE_SOURCE:
        path_years = [year for year, _ in childcare.uptake_path]
        weight = np.interp(np.asarray(years, float), path_years,
                           np.eye(len(path_years))[-1])[:, None]
        enrolment_centre = childcare.demand_share * childcare.uptake_path[-1][1]
        enrolment = (childcare.demand_share * uptake
                     + (c["childcare_enrolment_2035"] - enrolment_centre) * weight)
        enrolled = profiled * np.minimum(enrolment, np.maximum(demand_share,
                                                               childcare.demand_share * uptake))
    else:
        enrolled = profiled * demand_share * uptake
    pop_total = np.broadcast_to(by_age.sum(-1), shape)
    out = {}
    for method, values in beds.items():
        out[("elderly_beds", method)] = values
    # nursing-type beds as forecast.care.demand.elderly_bed_demand counts them: from the mix of
    # need for the needs and expected-use methods; the share target on the institutional part
    # of the norm's beds; the share of the 9073 rule's (institutional) places
    out[("nursing_beds", "norm")] = (elderly.nursing_share * elderly.institutional_share
                                     * beds["norm"])
    out[("nursing_beds", "needs")] = nursing_residents / c["target_occupancy"]
    out[("nursing_beds", "expected_use")] = (nursing_residents * factor
                                             / c["observed_occupancy"])
    out[("nursing_beds", "rule_9073")] = elderly.nursing_share * beds["rule_9073"]
    out[("childcare_places", "norm")] = childcare.norm_per_1000_population * pop_total / 1000.0
    out[("childcare_places", "needs")] = enrolled / c["childcare_target_utilisation"]
    out.update({
        ("driver", "pop_total"): pop_total,
        ("driver", "pop_0_2"): np.broadcast_to(by_age[..., :3].sum(-1), shape),
        ("driver", "pop_60plus"): pop_60plus,
        ("driver", "pop_65plus"): np.broadcast_to(by_age[..., 65:].sum(-1), shape),
        ("driver", "pop_80plus"): np.broadcast_to(by_age[..., 80:].sum(-1), shape),
        ("driver", "severe_disabled"): severe_persons,
        ("driver", "moderate_disabled"): moderate_persons,
        ("driver", "residents_needing_care"): residents,
        ("driver", "residents_expected"): expected_residents,
        ("driver", "residents_nursing_level"): nursing_residents,
        ("driver", "children_wanting_care"): profiled * demand_share,
    })
    return {key: np.broadcast_to(out[key], shape) for key in sorted(out)}


def demand_quantiles_from_arrays(scenario: str, years: np.ndarray,
                                 arrays: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    """``scenario, year, service, method, unit, q025 … q975`` from :func:`care_demand_arrays`
    (rows by service, method and year), one quantile computation for all rows."""
    keys = sorted(arrays)
    n_years = len(years)
    values = np.concatenate([arrays[key] for key in keys], axis=0)  # (R·Y, N)
    out = pd.DataFrame(_quantile_rows(values), columns=list(QUANTILE_COLUMNS))
    out.insert(0, "unit", np.repeat([DEMAND_ROWS[key] for key in keys], n_years))
    out.insert(0, "method", np.repeat([key[1] for key in keys], n_years))
    out.insert(0, "service", np.repeat([key[0] for key in keys], n_years))
    out.insert(0, "year", np.tile(np.asarray(years, dtype=int), len(keys)))
    out.insert(0, "scenario", scenario)
    return out


def supply_for_methods(supply: pd.DataFrame, years: np.ndarray,
                       keys) -> dict[tuple[str, str], np.ndarray]:
    """Planned supply (Y,) each (service, method) is compared with, like with like as in
    :func:`forecast.care.supply.gaps`: institutional beds for the needs, expected-use and 9073
    methods of elderly beds, the total otherwise; NaN where unknown."""
    from forecast.care.supply import INSTITUTIONAL_METHODS

    out = {}
    for service, method in keys:
        rows = supply[supply["service"] == service]
        column = ("supply_institutional" if service == "elderly_beds"
                  and method in INSTITUTIONAL_METHODS else "supply")
        if rows.empty or column not in rows.columns:
            out[(service, method)] = np.full(len(years), np.nan)
            continue
        by_year = rows.groupby("year")[column].first()
        out[(service, method)] = by_year.reindex(np.asarray(years, int)).to_numpy(float)
    return out


def probability_from_arrays(years: np.ndarray, arrays: dict[tuple[str, str], np.ndarray],
                            supply: pd.DataFrame) -> pd.DataFrame:
    """``service, method, year, probability_met, n_trajectories``: the share of trajectories
    whose demand planned supply meets (NaN where supply is unknown), every service and method
    (drivers left out), rows by service, method and year."""
    keys = [key for key in sorted(arrays) if key[0] != "driver"]
    supplies = supply_for_methods(supply, years, keys)
    frames = []
    for key in keys:
        values = arrays[key]
        planned = supplies[key][:, None]
        met = (planned >= values).mean(axis=1)
        frames.append(pd.DataFrame({
            "service": key[0], "method": key[1], "year": np.asarray(years, dtype=int),
            "probability_met": np.where(np.isnan(supplies[key]), np.nan, met),
            "n_trajectories": values.shape[1]}))
    return pd.concat(frames, ignore_index=True)


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
    RunResult`): ``n`` trajectories per scenario drawn with ``seed``; ``progress`` is called
    with each stage's name as it ends, for each scenario."""
    return start_uncertainty(result, n, seed).finish(progress)


class UncertaintyRun:
    """:func:`run_uncertainty` begun by :func:`start_uncertainty`: every second scenario is
    being computed in a forked process (where there is a second core,
    :class:`forecast.forking.Split`); :meth:`finish` computes the others here and returns the
    :class:`UncertaintyResult`."""

    def __init__(self, split, assemble) -> None:
        self._split, self._assemble = split, assemble
        self.progress: Callable[[str], None] | None = None

    def finish(self, progress: Callable[[str], None] | None = None) -> UncertaintyResult:
        self.progress = progress
        return self._assemble(self._split.finish())

    def cancel(self) -> None:
        self._split.cancel()


def start_uncertainty(result, n: int, seed: int) -> UncertaintyRun:
    """Begin :func:`run_uncertainty` (see :class:`UncertaintyRun`): a caller that starts
    threads of its own (the chart workers' pool) starts the trajectories first, as a process
    is forked only while single-threaded."""
    import os

    from forecast.forking import Split
    from forecast.pipeline.run import demand_parameters

    if n < 1:
        raise ValueError("n must be at least 1")
    started = time.perf_counter()
    config = result.config
    base_year = config.projection.base_year
    target_years = set()
    if len(result.targets):
        target_years = set(zip(result.targets["service"], result.targets["year"].astype(int),
                               strict=True))
    parent = os.getpid()

    def one_scenario(name: str) -> dict:
        """One scenario's draws, projection, demand, probabilities and quantiles, with the
        seconds of each stage (reported to ``progress`` as it ends, in this process)."""
        seconds = dict.fromkeys(STAGES, 0.0)
        marks = [time.perf_counter()]

        def step(stage: str) -> None:
            now = time.perf_counter()
            seconds[stage] += now - marks[0]
            marks[0] = now
            if os.getpid() == parent and run.progress is not None:  # not in the child
                run.progress(stage)

        scenario_config = config if name == "baseline" else config.scenario(name)
        inputs = result.inputs[name]
        elderly, childcare, _ = demand_parameters(scenario_config)
        ranges = care_ranges(scenario_config.uncertainty, elderly, childcare)
        draws, record = draw(scenario_config.uncertainty, base_year, len(inputs.step_years),
                             n, seed, ranges)
        step("draws")
        projection = project_trajectories(inputs, draws,
                                          scenario_config.projection.migration_timing)
        step("projection")
        summary = summary_quantiles(name, inputs.years, summary_arrays(projection))
        demand = care_demand_arrays(projection.population, inputs.years, elderly, childcare,
                                    base_year, draws.care)
        step("demand")
        supply = result.supply[result.supply["scenario"] == name]
        probability = probability_from_arrays(inputs.years, demand, supply)
        probability.insert(0, "scenario", name)
        step("gaps")
        quantiles = demand_quantiles_from_arrays(name, inputs.years, demand)
        step("quantiles")
        return {"draws": draws, "record": record, "summary": summary, "demand": quantiles,
                "probability": probability, "seconds": seconds, "pid": os.getpid()}

    def assemble(computed: list[dict]) -> UncertaintyResult:
        return _uncertainty_result(result, n, seed, started, target_years, parent,
                                   dict(zip(result.scenarios, computed, strict=True)),
                                   run.progress)

    # every second scenario in a forked process where there is a second core (same results)
    run = UncertaintyRun(Split(one_scenario, result.scenarios), assemble)
    return run


def _uncertainty_result(result, n: int, seed: int, started: float, target_years: set,
                        parent: int, outputs: dict[str, dict],
                        progress: Callable[[str], None] | None) -> UncertaintyResult:
    """The tables and manifest record of :func:`run_uncertainty` from each scenario's
    outputs."""
    config = result.config
    stage_seconds = dict.fromkeys(STAGES, 0.0)
    for output in outputs.values():
        for stage, seconds in output["seconds"].items():
            stage_seconds[stage] += seconds  # summed over the scenarios, in either process
        if progress is not None and output["pid"] != parent:
            for stage in STAGES:  # the forked process's scenarios, once they are back
                progress(stage)
    records = {name: output["record"] for name, output in outputs.items()}
    all_draws = {name: output["draws"] for name, output in outputs.items()}
    summaries = [output["summary"] for output in outputs.values()]
    demands = [output["demand"] for output in outputs.values()]
    probabilities = [output["probability"] for output in outputs.values()]
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
        "engine": "one batched projection per scenario (trajectory axis); demand, quantiles "
                  "and probabilities on (year, trajectory) arrays, no loop over trajectories",
        "seconds": round(time.perf_counter() - started, 3),
        "stage_seconds": {stage: round(seconds, 3) for stage, seconds in stage_seconds.items()},
    }
    return UncertaintyResult(summary_quantiles=pd.concat(summaries, ignore_index=True),
                             demand_quantiles=pd.concat(demands, ignore_index=True),
                             probability_met=probability, record=manifest, draws=all_draws)



# ------------------------------------------------------------------------------ sensitivity

#: The year whose gap the sensitivity table swings (the plans' horizon); a run ending earlier
#: uses its last year.
SENSITIVITY_YEAR = 2035
#: The services and methods of the sensitivity table, in its order; the tornado chart draws
#: :data:`TORNADO_PANELS` (each service's main method, and the beds' expected use).
SENSITIVITY_METHODS: tuple[tuple[str, str], ...] = (
    ("elderly_beds", "needs"), ("elderly_beds", "expected_use"), ("nursing_beds", "needs"),
    ("nursing_beds", "expected_use"), ("childcare_places", "needs"))
TORNADO_PANELS: tuple[tuple[str, str], ...] = (
    ("elderly_beds", "needs"), ("elderly_beds", "expected_use"), ("childcare_places", "needs"))
SENSITIVITY_COLUMNS = ("scenario", "service", "method", "year", "rank", "parameter",
                       "low_value", "central_value", "high_value", "demand_at_low",
                       "demand", "demand_at_high", "supply", "supply_scope", "gap_at_low",
                       "gap", "gap_at_high", "swing", "source", "confidence")


def sensitivity_table(scenario: str, population: np.ndarray, years: np.ndarray, elderly,
                      childcare, base_year: int, ranges: tuple[CareRange, ...],
                      gaps_table: pd.DataFrame) -> pd.DataFrame:
    """One-at-a-time swings of every care parameter over its sourced range, on the
    deterministic population (Y, 2, A) of ``scenario``: the demand and gap of
    :data:`SENSITIVITY_YEAR` with that parameter at its low and at its high end and every
    other at its deterministic value, in one batched computation
    (:func:`care_demand_arrays` with 2 cases per parameter).

    ``gaps_table``: the scenario's deterministic gaps (supply and its scope, like with like).
    Columns :data:`SENSITIVITY_COLUMNS` (``confidence``: of the range's row in
    data/care_parameters.csv, ``A`` an assumption without a source): ``swing`` = |demand at
    high − demand at low| (= the gap's swing, supply being fixed); ``gap_at_low/high`` =
    supply − demand there (NaN where supply is unknown). Rows of each service and method by
    swing, largest first (``rank`` 1, 2, …); a parameter that does not move a method (swing
    below 1e-9 of its demand) has no row for it.
    """
    year_list = [int(y) for y in years]
    year = SENSITIVITY_YEAR if SENSITIVITY_YEAR in year_list else year_list[-1]
    at = year_list.index(year)
    moving = [r for r in ranges if not r.fixed]
    n_cases = 2 * len(moving) + 1
    care = {r.name: np.full(n_cases, r.centre) for r in ranges}
    for i, r in enumerate(moving):
        care[r.name][2 * i] = r.low
        care[r.name][2 * i + 1] = r.high
    arrays = care_demand_arrays(np.asarray(population, float)[:, None], years, elderly,
                                childcare, base_year, care)
    gaps_table = gaps_table.assign(service=gaps_table["service"].astype(str),
                                   method=gaps_table["method"].astype(str))
    rows = []
    for service, method in SENSITIVITY_METHODS:
        values = arrays[(service, method)][at]
        central = float(values[-1])
        match = gaps_table[(gaps_table["service"] == service) & (gaps_table["method"] == method)
                           & (gaps_table["year"] == year)]
        supply = float(match["supply"].iloc[0]) if len(match) else np.nan
        scope = str(match["supply_scope"].iloc[0]) if len(match) else ""
        block = []
        for i, r in enumerate(moving):
            low, high = float(values[2 * i]), float(values[2 * i + 1])
            swing = abs(high - low)
            if swing <= 1e-9 * max(abs(central), 1.0):
                continue
            block.append({"scenario": scenario, "service": service, "method": method,
                          "year": year, "parameter": r.name, "low_value": r.low,
                          "central_value": r.centre, "high_value": r.high,
                          "demand_at_low": low, "demand": central, "demand_at_high": high,
                          "supply": supply, "supply_scope": scope,
                          "gap_at_low": supply - low, "gap": supply - central,
                          "gap_at_high": supply - high, "swing": swing, "source": r.source,
                          "confidence": r.confidence})
        block.sort(key=lambda row: -row["swing"])  # stable: ties keep CARE_PARAMETERS' order
        for rank, row in enumerate(block, start=1):
            rows.append({**row, "rank": rank})
    return pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))


def tornado_source(table: pd.DataFrame, lang: str = "zh") -> str:
    """The tornado chart's source line: the codes of the ranges' sources in
    data/care_parameters.csv, the census and the projection of the table's scenario."""
    from forecast.presentation.labels import SENSITIVITY_TEXT, label, punctuation

    codes = list(dict.fromkeys(str(source).split(" ")[0] for source in table["source"]
                               if not str(source).startswith(("config", "held"))))
    scenario = str(table["scenario"].iloc[0]) if len(table) else "baseline"
    return SENSITIVITY_TEXT[lang]["source"].format(codes=punctuation(lang)["list"].join(codes),
                                                   scenario=label(scenario, lang))
