"""`forecast batch`: every census unit below a code (or all) at one level, in chunks.

A batch runs each unit with its default inputs (:func:`forecast.defaults.consistency.defaults_for`,
batched over the units of a chunk), projects the chunk in one engine call, computes demand by
the default methods (:mod:`forecast.care.demand`) and compares it with the national targets
(:mod:`forecast.care.supply`), since no unit here has a plan of its own. With ``trajectories`` each
unit is also projected over N joint trajectories (:mod:`forecast.pipeline.uncertainty`) and reduced
to
quantiles inside the chunk, so memory is bounded by one chunk, never by the whole batch.

Chunks run through one code path whatever the scheduler: a ``concurrent.futures`` executor
(:func:`executor_for`) that is either in process (``none``), a dask.distributed
``LocalCluster`` started here (``local``) or an existing cluster (``ADDRESS``). A chunk's
composition depends only on the unit list and the chunk size, never on the scheduler or the
number of workers, and its results are written by this process in chunk order, so every
scheduler gives the same bytes.

Tables (one row per unit and year; ``unit_id, name, level, parent_id, year`` first):

- ``units.csv``: the indicators of ``summary.csv``; demand ``{service}_{method}`` (beds or
  places); the national target as a count ``{service}_national_target``; and
  ``{service}_{method}_gap`` = national target − demand (negative = the target would not
  cover the demand).
- ``units_quantiles.csv`` (with trajectories): ``indicator, q025, q10, q50, q90, q975`` for
  every column of ``units.csv`` after ``year``, and ``probability_met`` (share of
  trajectories in which the national target covers the demand) on the gap rows.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import functools
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.defaults.census import Unit
from forecast.errors import ForecastError
from forecast.vocabulary import SERVICES

LEVELS = ("county", "prefecture", "province")
#: No unit of a batch has a plan: its supply is unknown in every year (float, so gaps stay
#: numeric).
NO_SUPPLY = pd.DataFrame({"service": pd.Series(dtype=str), "year": pd.Series(dtype=int),
                          "supply": pd.Series(dtype=float)})
SCHEDULERS = ("none", "local")  # or a scheduler address such as tcp://10.0.0.5:8786
#: Units per deterministic chunk: the default inputs (controlled top down through the nation,
#: provinces and prefectures) and units.csv rows of this many units are made together.
DEFAULT_CHUNK = 250
#: Units per trajectory chunk (each unit N × years), cut from a deterministic chunk's
#: default inputs, so the top-down control is not redone for every few units.
DEFAULT_CHUNK_TRAJECTORIES = 8
ID_COLUMNS = ("unit_id", "name", "level", "parent_id", "year")
DEMAND_COLUMNS = ("elderly_beds_norm", "elderly_beds_needs", "elderly_beds_rule_9073",
                  "nursing_beds_norm", "nursing_beds_needs", "nursing_beds_rule_9073",
                  "elderly_beds_expected_use", "nursing_beds_expected_use",
                  "childcare_places_norm", "childcare_places_needs")
#: Indicators of summary.csv that are flows of the step ending in the year (NaN in the base
#: year), the others being stocks at the year's end.
FLOW_INDICATORS = ("births", "deaths", "net_migrants")
TARGET_COLUMNS = tuple(f"{service}_national_target" for service in SERVICES)
GAP_COLUMNS = tuple(f"{column}_gap" for column in DEMAND_COLUMNS)

#: National targets applied where no plan is given: (service, kind, parameter key in
#: data/care_parameters.csv, the year the source sets it for). Each holds from its year on.
NATIONAL_TARGETS = (
    ("elderly_beds", "per_1000_elderly", "elderly_norm_per_1000_60plus", 2020),
    ("nursing_beds", "share_nursing", "nursing_share", 2025),
    ("childcare_places", "per_1000_population", "childcare_norm_per_1000_population", 2025),
)
#: The controlled default inputs of the parents (nation, provinces, prefectures) a chunk's
#: units were controlled to, kept for the next chunk run in the same process
#: (:func:`forecast.defaults.consistency.consistent_defaults`); bounded by the number of parents.
PARENTS: dict = {}
TARGET_HELD = ("a national target is held at its level in every year after the year it is "
               "set for (assumption)")


class BatchError(ForecastError):
    """A batch that cannot run as asked (no units, a bad scheduler address, …)."""


# ---------------------------------------------------------------------------- the units


@dataclass(frozen=True)
class Selection:
    """The units of a batch, in census order, and what was asked for."""

    units: tuple[Unit, ...]
    parent_ids: tuple[str, ...]
    level: str
    within: Unit | None
    skipped: tuple[str, ...] = ()  # "name (code): reason" of units left out


def _unit(row) -> Unit:
    return Unit(unit_id=row.unit_id, code=row.code, name=row.name, level=row.level,
                province=row.province, prefecture=row.prefecture,
                pop_total=None if pd.isna(row.pop_total) else int(row.pop_total),
                parent_name=row.parent_name, census_year=2020)


def select_units(within: str | None, level: str = "county") -> Selection:
    """Every 2020 census unit at ``level`` inside ``within`` (a code or name; None = all).

    ``county`` means county-level units (县, 县级市, 区, 旗 …), not the yearbooks' 市辖区
    subtotals; units without an age table in the census are left out and listed.
    """
    from forecast.defaults.census import load_units, resolve_unit

    if level not in LEVELS:
        raise BatchError(f"unknown level '{level}'", field="--level",
                         fix=f"use one of {', '.join(LEVELS)}")
    table = load_units(2020)
    parent = dict(zip(table.unit_id, table.parent_id, strict=True))
    inside = table[table.level == level]
    enclosing = None
    if within is not None:
        enclosing = resolve_unit(within)

        def below(unit_id: str) -> bool:
            seen = 0
            current = parent.get(unit_id, "")
            while current and seen < 10:
                if current == enclosing.unit_id:
                    return True
                current = parent.get(current, "")
                seen += 1
            return False

        inside = inside[inside.unit_id.map(below)]
        if inside.empty:
            raise BatchError(f"{enclosing.name} ({enclosing.code or enclosing.unit_id}, "
                             f"{enclosing.level}) has no {level}-level units inside it",
                             field="--within", fix="choose a larger unit or a lower --level")
    usable = inside[inside.has_age_data.astype(bool)]
    skipped = tuple(f"{r.name} ({r.code or r.unit_id}): no age table in the 2020 census"
                    for r in inside[~inside.has_age_data.astype(bool)].itertuples())
    if usable.empty:
        raise BatchError(f"no {level}-level unit with age data", field="--within",
                         fix="choose another unit or level")
    return Selection(units=tuple(_unit(r) for r in usable.itertuples(index=False)),
                     parent_ids=tuple(usable.parent_id.astype(str)), level=level,
                     within=enclosing, skipped=skipped)


# ---------------------------------------------------------------------------- one chunk


@dataclass(frozen=True)
class BatchSettings:
    """What every unit of a batch is run with."""

    base_year: int = 2020
    end_year: int = 2035
    trajectories: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class Chunk:
    """Consecutive units of a selection (``index`` orders the output)."""

    index: int
    units: tuple[Unit, ...]


@dataclass
class ChunkResult:
    """A chunk's rows for ``units.csv`` (or, for a :class:`TrajectoryChunk`, its quantile
    rows), and the units that failed. ``defaults`` (with trajectories, after the deterministic
    stage) holds the default inputs of the chunk's units that did not fail, for the
    trajectory chunks made from them."""

    index: int
    rows: pd.DataFrame
    quantiles: pd.DataFrame | None
    failures: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    defaults: object | None = None  # forecast.defaults.assumptions.Defaults
    part: int | None = None  # the trajectory chunk's number inside chunk ``index``
    units_done: int = 0  # units finished (written or failed) by this result, for progress
    n_parts: int = 0  # trajectory chunks cut from this deterministic chunk


@dataclass(frozen=True)
class TrajectoryChunk:
    """Consecutive units of a deterministic chunk with their default inputs, to be projected
    over the trajectories (``part`` orders them inside chunk ``index``)."""

    index: int
    part: int
    units: tuple[Unit, ...]
    defaults: object  # forecast.defaults.assumptions.Defaults of exactly ``units``


@functools.lru_cache(maxsize=8)
def national_targets(base_year: int, end_year: int) -> tuple:
    """The national targets (:data:`NATIONAL_TARGETS`) as :class:`forecast.care.supply.Target`
    values, one per service and year from the year each is set for to ``end_year`` (read
    once per process)."""
    from forecast.care.demand import load_care_parameters
    from forecast.care.supply import Target
    from forecast.vocabulary import NATIONAL

    table = load_care_parameters().set_index("key")
    targets = []
    for service, kind, key, year in NATIONAL_TARGETS:
        value = float(table.loc[key, "value"])
        source = f"{table.loc[key, 'source']}; {TARGET_HELD}"
        for held in range(max(year, base_year), end_year + 1):
            targets.append(Target(service=service, year=held, kind=kind, value=value,
                                  source=source, origin=NATIONAL))
    return tuple(targets)


def _unit_cube(unit_ids: Sequence[str], years: np.ndarray, population: np.ndarray):
    """A :class:`forecast.care.demand.PopulationCube` keyed by ``unit_id`` and ``year`` from engine
    populations (Y, U, 2, A)."""
    from forecast.care.demand import PopulationCube

    n_years, n_units = population.shape[:2]
    groups = pd.DataFrame({"unit_id": np.repeat(np.asarray(unit_ids, dtype=object), n_years),
                           "year": np.tile(np.asarray(years, dtype=int), n_units)})
    counts = np.moveaxis(population, 0, 1).reshape(n_units * n_years, 2, -1)
    return PopulationCube(groups, counts, ("unit_id",))


def _project_units(defaults):
    """The batched projection of every unit of ``defaults`` (engine axes: year, unit)."""
    return defaults.projection()


def _projected_units(units: Sequence[Unit], settings: BatchSettings):
    """``(summary, counts, group_years, defaults)`` of ``units``: default inputs controlled top
    down, one batched projection, the indicators of ``summary.csv`` per ``unit_id`` and
    ``year`` and the population ``counts[group, sex, age]`` of the same groups (unit-major,
    then year) with each group's year."""
    from forecast.defaults.consistency import defaults_for
    from forecast.pipeline.uncertainty import SUMMARY_INDICATORS, summary_arrays

    # Controlled top down like a single run's (forecast.defaults.consistency): a county adds up to
    # its
    # prefecture, province and the nation, so the batch equals `forecast run` unit by unit.
    # The parents' controlled inputs are kept for the next chunk in this process (PARENTS).
    defaults = defaults_for(list(units), settings.base_year, settings.end_year, memo=PARENTS)
    projection = _project_units(defaults)
    years = defaults.settings.years
    ids = [u.unit_id for u in units]
    arrays = summary_arrays(projection)  # indicator -> (Y, U)
    summary = pd.DataFrame({"unit_id": np.repeat(np.asarray(ids, dtype=object), len(years)),
                            "year": np.tile(years.astype(int), len(ids))})
    for indicator in SUMMARY_INDICATORS:
        summary[indicator] = arrays[indicator].T.reshape(-1)
    cube = _unit_cube(ids, years, projection.population)
    return summary, cube, defaults


def unit_projections(units: Sequence[Unit], settings: BatchSettings, targets=None,
                     elderly=None, childcare=None):
    """The core of a batch, for any caller: ``(summary, demand, gaps, defaults)`` of ``units``.

    Default inputs controlled top down (:func:`forecast.defaults.consistency.defaults_for`), one
    batched
    projection, demand by ``elderly``/``childcare`` parameters (None: the shipped defaults) and
    :func:`forecast.care.supply.gaps` against ``targets`` (None: :func:`national_targets`) with no
    supply. ``summary`` holds the indicators of ``summary.csv`` per ``unit_id`` and ``year``;
    ``demand`` and ``gaps`` are the long tables of :mod:`forecast.care.demand` and
    :mod:`forecast.care.supply` keyed by ``unit_id``."""
    from forecast.care.demand import care_demand, drivers_from_demand
    from forecast.care.supply import gaps

    summary, cube, defaults = _projected_units(units, settings)
    demand = care_demand(cube, elderly, childcare, base_year=settings.base_year)
    if targets is None:
        targets = national_targets(settings.base_year, settings.end_year)
    table = gaps(demand, NO_SUPPLY, targets, drivers_from_demand(demand))
    return summary, demand, table, defaults


def demand_arrays(counts: np.ndarray, group_years: np.ndarray, base_year: int,
                  elderly=None, childcare=None, disability_factor: np.ndarray | None = None
                  ) -> dict[str, np.ndarray]:
    """Demand and drivers per group of ``counts[group, sex, age]`` as arrays: the values of
    :func:`forecast.care.demand.care_demand` keyed ``{service}_{method}`` (drivers
    ``driver_{name}``), computed by the same functions without the long table.
    ``disability_factor`` (per group) scales the disability-based rows as
    :func:`forecast.pipeline.uncertainty.trajectory_demand` does (``elderly`` then carries no
    trend)."""
    from forecast.care.demand import (
        ChildcareParameters,
        ElderlyCareParameters,
        childcare_blocks,
        elderly_bed_blocks,
    )
    from forecast.pipeline.uncertainty import DISABILITY_SCALED

    blocks = (elderly_bed_blocks(counts, group_years, elderly or ElderlyCareParameters(),
                                 base_year)
              + childcare_blocks(counts, group_years, childcare or ChildcareParameters()))
    out: dict[str, np.ndarray] = {}
    for service, method, _, _, values in blocks:
        if disability_factor is not None and (service, method) in DISABILITY_SCALED:
            values = values * disability_factor
        out.setdefault(f"{service}_{method}", values)  # pop_total once, as care_demand
    return out


def _target_count(target, values: dict[str, np.ndarray], targets) -> np.ndarray:
    """A target as a count per group, as :func:`forecast.care.supply.target_consistency` counts it
    (in every group; the caller keeps the groups of the target's year)."""
    if target.kind == "count":
        return np.full(len(values["driver_pop_total"]), target.value)
    if target.kind == "per_1000_elderly":
        return target.value * values["driver_pop_60plus"] / 1000
    if target.kind == "per_1000_population":
        return target.value * values["driver_pop_total"] / 1000
    if target.kind == "coverage_under3":
        return target.value * values["driver_pop_0_2"]
    # share_nursing: share × the institutional beds of the largest elderly-bed target of the
    # same year (a share of institutional beds, as supply.gaps counts it)
    from forecast.care.supply import default_institutional_share

    beds = [t for t in targets if t.service == "elderly_beds" and t.year == target.year]
    if not beds:
        return np.full(len(values["driver_pop_total"]), np.nan)
    return target.value * default_institutional_share() * np.fmax.reduce(
        [_target_count(t, values, targets) for t in beds])


def gap_arrays(values: dict[str, np.ndarray], group_years: np.ndarray, targets
               ) -> dict[str, np.ndarray]:
    """The columns of ``units.csv`` after the indicators, per group, from
    :func:`demand_arrays`: demand (:data:`DEMAND_COLUMNS`), the largest target of each service
    and year as a count (:data:`TARGET_COLUMNS`, NaN in years without one) and
    target − demand (:data:`GAP_COLUMNS`); the same numbers as ``plan_target`` and
    ``plan_target_gap`` of :func:`forecast.care.supply.gaps` with no supply, without its tables."""
    targets = list(targets)
    out = {column: values[column] for column in DEMAND_COLUMNS}
    counts = {service: np.full(len(group_years), np.nan) for service in SERVICES}
    for target in targets:
        if target.service not in counts:
            continue
        rows = group_years == target.year
        if rows.any():
            here = counts[target.service]
            here[rows] = np.fmax(here[rows], _target_count(target, values, targets)[rows])
    for service, column in zip(SERVICES, TARGET_COLUMNS, strict=True):
        out[column] = counts[service]
    for column, gap in zip(DEMAND_COLUMNS, GAP_COLUMNS, strict=True):
        service = next(s for s in SERVICES if column.startswith(f"{s}_"))
        out[gap] = counts[service] - values[column]
    return out


def deterministic_rows(units: Sequence[Unit], settings: BatchSettings):
    """``units.csv`` rows (without name, level, parent_id) for ``units``, and the defaults."""
    summary, cube, defaults = _projected_units(units, settings)
    group_years = cube.groups["year"].to_numpy()
    columns = gap_arrays(demand_arrays(cube.counts, group_years, settings.base_year),
                         group_years, national_targets(settings.base_year, settings.end_year))
    rows = pd.concat([summary, pd.DataFrame(columns)], axis=1)
    return rows, defaults


def trajectory_quantiles(defaults, index: int, draws, settings: BatchSettings) -> pd.DataFrame:
    """Quantile rows (``unit_id, year, indicator, q…, probability_met``) of unit ``index`` of
    ``defaults`` over the trajectories of ``draws`` (a
    :class:`forecast.pipeline.uncertainty.Draws`).

    The indicators, demand and gaps of every trajectory and year come from
    :func:`trajectory_arrays`; only quantiles leave this function.
    """
    from forecast.pipeline.scenarios import ScenarioInputs
    from forecast.pipeline.uncertainty import QUANTILE_COLUMNS, _quantile_rows

    s = defaults.settings
    years = s.years.astype(int)
    inputs = ScenarioInputs(name="baseline", years=s.years, step_years=s.step_years,
                            population=defaults.population[index], mx=defaults.mx[index],
                            asfr=defaults.asfr[index], srb=defaults.srb[index],
                            net_migrants=defaults.net_migrants[index])
    arrays = trajectory_arrays(inputs, draws, s.migration_timing, settings)
    n = draws.n
    n_years = len(years)
    indicators = quantile_indicators()
    stacked = np.stack([arrays[i] for i in indicators], axis=1)  # (Y, K, N)
    quantiles = _quantile_rows(stacked.reshape(n_years * len(indicators), n))
    out = pd.DataFrame(quantiles, columns=list(QUANTILE_COLUMNS))
    out.insert(0, "indicator", np.tile(np.asarray(indicators, dtype=object), n_years))
    out.insert(0, "year", np.repeat(years, len(indicators)))
    out.insert(0, "unit_id", defaults.unit_ids[index])
    gap_rows = np.tile(np.isin(indicators, GAP_COLUMNS), n_years)
    gaps = stacked.reshape(n_years * len(indicators), n)[gap_rows]
    known = ~np.isnan(gaps)
    counted = known.sum(axis=1)
    met = (known & (np.nan_to_num(gaps, nan=-1.0) >= 0)).sum(axis=1)
    out["probability_met"] = np.nan
    out.loc[gap_rows, "probability_met"] = np.where(counted > 0,
                                                    met / np.maximum(counted, 1), np.nan)
    return out


def trajectory_arrays(inputs, draws, migration_timing: str, settings: BatchSettings
                      ) -> dict[str, np.ndarray]:
    """Every column of ``units.csv`` after ``year`` for every year and trajectory of
    ``draws``: name -> (Y, N), for one unit's ``inputs`` (a
    :class:`forecast.pipeline.scenarios.ScenarioInputs`).

    The same numbers as :func:`forecast.pipeline.uncertainty.project_trajectories` (the engine's
    steps with every trajectory on the batch axis),
    :func:`forecast.pipeline.uncertainty.summary_arrays`,
    :func:`forecast.pipeline.uncertainty.trajectory_demand` and :func:`forecast.care.supply.gaps`,
    but each
    year is reduced to these arrays as soon as its step is done: no (Y, N, 2, A) projection
    is kept, so a unit needs a few (N, 2, A) arrays instead of some 100 MB at N = 1,000.
    """
    import dataclasses as dc
    from types import SimpleNamespace

    from forecast.care.demand import ChildcareParameters, ElderlyCareParameters
    from forecast.demography.engine import project_step
    from forecast.pipeline.uncertainty import shifted_survival, summary_arrays

    years = np.asarray(inputs.years, dtype=int)
    n = draws.n
    targets = national_targets(settings.base_year, settings.end_year)
    flat = dc.replace(ElderlyCareParameters(), prevalence_trend=0.0)  # the draws' trend instead
    childcare = ChildcareParameters()
    survival = shifted_survival(inputs.mx, draws.e0_shift)  # (T, N, 2, A)
    tfr_factor = np.exp(draws.tfr_log.T)  # (T, N)
    blank = np.full((n, 2), np.nan)
    population = np.ascontiguousarray(np.broadcast_to(inputs.population,
                                                      (n, *np.shape(inputs.population))))
    step = None
    out: dict[str, np.ndarray] = {}
    for t, year in enumerate(years):
        if t > 0:
            step = project_step(population if t > 1 else np.asarray(inputs.population, float),
                                survival[t - 1], inputs.asfr[t - 1][None, :]
                                * tfr_factor[t - 1][:, None], inputs.srb[t - 1],
                                inputs.net_migrants[t - 1][None]
                                * draws.migration_scale[:, None, None],
                                migration_timing=migration_timing)
            population = step.population
        # summary_arrays of this year alone: stocks from row 0, flows (NaN in the base year)
        one = summary_arrays(SimpleNamespace(
            population=population[None],
            births_by_sex=(blank if step is None else step.births_by_sex)[None],
            deaths=np.full((1, n, 2, 1), np.nan) if step is None else step.deaths[None],
            net_migrants_applied=(np.full((1, n, 2, 1), np.nan) if step is None
                                  else step.net_migrants_applied[None])))
        group_years = np.full(n, year)
        factor = (1.0 + draws.disability_trend) ** (group_years - settings.base_year)
        columns = gap_arrays(demand_arrays(population, group_years, settings.base_year, flat,
                                           childcare, disability_factor=factor),
                             group_years, targets)
        for name, values in [*((k, v[-1] if k in FLOW_INDICATORS else v[0])
                               for k, v in one.items()), *columns.items()]:
            if name not in out:
                out[name] = np.empty((len(years), n))
            out[name][t] = values
    return out


def quantile_indicators() -> list[str]:
    """The indicators of ``units_quantiles.csv``, in column order of ``units.csv``."""
    from forecast.pipeline.uncertainty import SUMMARY_INDICATORS

    return [*SUMMARY_INDICATORS, *DEMAND_COLUMNS, *TARGET_COLUMNS, *GAP_COLUMNS]


def _chunk_tables(units: Sequence[Unit], settings: BatchSettings):
    """Deterministic rows of ``units`` and their default inputs."""
    rows, defaults = deterministic_rows(units, settings)
    if not np.isfinite(rows[list(DEMAND_COLUMNS)].to_numpy(float)).all():
        bad = rows.loc[~np.isfinite(rows[list(DEMAND_COLUMNS)].to_numpy(float)).all(axis=1),
                       "unit_id"].iloc[0]
        raise FloatingPointError(f"non-finite demand for unit {bad}")
    return rows, defaults


def _draws(settings: BatchSettings, n_steps: int):
    from forecast.config import Uncertainty
    from forecast.pipeline.uncertainty import draw

    draws, _ = draw(Uncertainty(), settings.base_year, n_steps, settings.trajectories,
                    settings.seed)
    return draws


def _subset_defaults(defaults, rows: Sequence[int]):
    """The default inputs of some units (rows) of ``defaults``."""
    from forecast.defaults.consistency import _subset

    return _subset(defaults, list(rows))


def run_chunk(chunk: Chunk, settings: BatchSettings) -> ChunkResult:
    """Run one chunk's deterministic stage (rows; with trajectories also the default inputs
    for :func:`run_trajectory_chunk`); if it fails, run its units one by one so that only the
    failing ones are lost, each reported by name with its error. Never raises for a unit's
    failure."""
    started = time.perf_counter()
    keep = bool(settings.trajectories)
    try:
        rows, defaults = _chunk_tables(chunk.units, settings)
        return ChunkResult(chunk.index, rows, None, [], time.perf_counter() - started,
                           defaults if keep else None,
                           units_done=0 if keep else len(chunk.units))
    except Exception:  # noqa: BLE001 - isolate the failing units below
        if len(chunk.units) == 1:
            unit = chunk.units[0]
            return ChunkResult(chunk.index, pd.DataFrame(), None,
                               [_failure(unit, traceback.format_exc())],
                               time.perf_counter() - started, units_done=1)
    parts = [run_chunk(Chunk(chunk.index, (unit,)), settings) for unit in chunk.units]
    rows = pd.concat([p.rows for p in parts if len(p.rows)], ignore_index=True) \
        if any(len(p.rows) for p in parts) else pd.DataFrame()
    kept = [p.defaults for p in parts if p.defaults is not None]
    from forecast.defaults.assumptions import Defaults

    return ChunkResult(chunk.index, rows, None, [f for p in parts for f in p.failures],
                       time.perf_counter() - started,
                       Defaults.concatenate(kept) if keep and kept else None,
                       units_done=sum(p.units_done for p in parts))


def trajectory_chunks(result: ChunkResult, units: Sequence[Unit], size: int
                      ) -> list[TrajectoryChunk]:
    """The trajectory chunks of a deterministic chunk's result: ``size`` consecutive units
    that did not fail, each with its default inputs."""
    if result.defaults is None:
        return []
    defaults = result.defaults
    position = {uid: i for i, uid in enumerate(defaults.unit_ids)}
    kept = [u for u in units if u.unit_id in position]
    out = []
    for part, start in enumerate(range(0, len(kept), size)):
        block = tuple(kept[start:start + size])
        out.append(TrajectoryChunk(result.index, part, block, _subset_defaults(
            defaults, [position[u.unit_id] for u in block])))
    return out


def run_trajectory_chunk(chunk: TrajectoryChunk, settings: BatchSettings) -> ChunkResult:
    """Quantile rows of every unit of ``chunk`` over the batch's trajectories; a unit that
    fails is reported by name with its error and the others are kept. Never raises for a
    unit's failure."""
    started = time.perf_counter()
    draws = _draws(settings, len(chunk.defaults.settings.step_years))
    frames, failures = [], []
    for i, unit in enumerate(chunk.units):
        try:
            frames.append(trajectory_quantiles(chunk.defaults, i, draws, settings))
        except Exception:  # noqa: BLE001 - reported by name, the others kept
            failures.append(_failure(unit, traceback.format_exc()))
    quantiles = pd.concat(frames, ignore_index=True) if frames else None
    return ChunkResult(chunk.index, pd.DataFrame(), quantiles, failures,
                       time.perf_counter() - started, part=chunk.part,
                       units_done=len(chunk.units))


def _failure(unit: Unit, text: str) -> dict:
    last = [line for line in text.strip().splitlines() if line.strip()][-1]
    return {"unit_id": unit.unit_id, "code": unit.code, "name": unit.name, "error": last}


def make_chunks(units: Sequence[Unit], chunk_size: int) -> list[Chunk]:
    """Consecutive chunks of ``chunk_size`` units (the last may be smaller)."""
    if chunk_size < 1:
        raise BatchError(f"chunk size {chunk_size} is below 1", field="--chunk-size",
                         fix="give a positive number of units per chunk")
    return [Chunk(i, tuple(units[start:start + chunk_size]))
            for i, start in enumerate(range(0, len(units), chunk_size))]


# ---------------------------------------------------------------------------- schedulers


class InProcessExecutor(cf.Executor):
    """A ``concurrent.futures`` executor that runs each call at once, in this process."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            future.set_exception(exc)
        return future


@contextlib.contextmanager
def executor_for(scheduler: str, workers: int | None = None
                 ) -> Iterator[tuple[cf.Executor, int, str]]:
    """``(executor, slots, description)`` for ``scheduler``: ``none`` (in process),
    ``local`` (a dask.distributed LocalCluster of ``workers`` single-threaded worker
    processes on this machine, default 2) or the address of a running dask scheduler."""
    if scheduler == "none":
        if workers not in (None, 1):
            raise BatchError("--workers needs a cluster", field="--workers",
                             fix="add --scheduler local, or leave --workers out")
        yield InProcessExecutor(), 1, "in process"
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - declared dependency
        raise BatchError("dask.distributed is not installed", field="--scheduler",
                         fix="pip install 'dask[distributed]' or use --scheduler none"
                         ) from None
    if scheduler == "local":
        import dask

        n_workers = workers or 2
        # dask's nanny gives each worker MALLOC_TRIM_THRESHOLD_=65536; setting it fixes glibc's
        # mmap threshold at 128 KiB, so every array of a step (1.6 MB at 1,000 trajectories)
        # is a fresh mmap, page-faulted in and unmapped again: in process that same setting
        # took 16 Yunnan counties × 1,000 trajectories from 12 to 20 s CPU (system time 1.8 →
        # 8.2 s). The workers keep dask's one BLAS/OpenMP thread each.
        environ = {key: value for key, value in
                   dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
                   if key != "MALLOC_TRIM_THRESHOLD_"}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
                LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                             dashboard_address=None, silence_logs=50) as cluster, \
                Client(cluster) as client:
            yield client.get_executor(pure=False), n_workers, \
                f"local dask cluster, {n_workers} worker processes"
        return
    if workers is not None:
        raise BatchError("--workers applies to --scheduler local only", field="--workers",
                         fix="size the existing cluster where it runs, or leave --workers out")
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise BatchError(f"cannot reach a dask scheduler at '{scheduler}' "
                         f"({type(exc).__name__})", field="--scheduler",
                         fix="give none, local or a running scheduler's address such as "
                             "tcp://127.0.0.1:8786") from None
    with client:
        slots = max(1, sum(client.nthreads().values()))
        yield client.get_executor(pure=False), slots, f"dask cluster at {scheduler}, " \
            f"{slots} worker threads"


def stream_chunks(executor: cf.Executor, chunks: Sequence[Chunk], settings: BatchSettings,
                  window: int, trajectory_chunk_size: int = DEFAULT_CHUNK_TRAJECTORIES
                  ) -> Iterator[ChunkResult]:
    """Results of ``chunks`` as they complete, with at most ``window`` tasks in flight.

    With trajectories each deterministic chunk's result (rows and default inputs) is cut into
    trajectory chunks of ``trajectory_chunk_size`` units, which are submitted before any
    further deterministic chunk: the default inputs waiting for their trajectories never
    exceed ``window`` deterministic chunks, and results waiting to be written never exceed
    ``window`` tasks. The default inputs are dropped from a result once cut."""
    pending: set[cf.Future] = set()
    queue = list(chunks)[::-1]
    trajectory_queue: list[TrajectoryChunk] = []
    while queue or trajectory_queue or pending:
        while (queue or trajectory_queue) and len(pending) < max(1, window):
            if trajectory_queue:
                pending.add(executor.submit(run_trajectory_chunk, trajectory_queue.pop(),
                                            settings))
            else:
                pending.add(executor.submit(run_chunk, queue.pop(), settings))
        done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for future in done:
            result = future.result()
            if result.defaults is not None:
                cut = trajectory_chunks(result, chunks[result.index].units,
                                        trajectory_chunk_size)
                trajectory_queue = cut[::-1] + trajectory_queue
                result.defaults = None
                result.n_parts = len(cut)
            yield result


# ---------------------------------------------------------------------------- the batch


@dataclass
class BatchResult:
    """What a batch wrote and how it went."""

    n_units: int
    n_chunks: int
    failures: list[dict]
    seconds: float
    scheduler: str
    files: list[str] = field(default_factory=list)
    n_deterministic_chunks: int = 0


def _concatenate(parts: Sequence[Path], destination: Path) -> None:
    """Join CSV parts (each with the same header) into ``destination``, header once."""
    with destination.open("w", encoding="utf-8", newline="") as out:
        header_written = False
        for part in parts:
            with part.open(encoding="utf-8", newline="") as handle:
                header = handle.readline()
                if not header_written:
                    out.write(header)
                    header_written = True
                for line in handle:
                    out.write(line)
        if not header_written:
            out.write("")


def compute_batch(selection: Selection, settings: BatchSettings, directory: Path, *,
                  scheduler: str = "none", workers: int | None = None,
                  chunk_size: int | None = None,
                  progress: Callable[[int], None] | None = None) -> BatchResult:
    """Run every unit of ``selection`` and write ``units.csv`` (and ``units_quantiles.csv``,
    ``failures.csv``) into ``directory``, streaming each chunk's rows to disk as it arrives.

    Deterministic chunks hold :data:`DEFAULT_CHUNK` units (``chunk_size`` without
    trajectories); with trajectories each is cut into chunks of ``chunk_size`` units
    (default :data:`DEFAULT_CHUNK_TRAJECTORIES`) for the trajectories. A unit whose
    trajectories fail is left out of both tables and named in ``failures.csv``."""
    started = time.perf_counter()
    size = chunk_size or (DEFAULT_CHUNK_TRAJECTORIES if settings.trajectories else
                          DEFAULT_CHUNK)
    chunks = make_chunks(selection.units, DEFAULT_CHUNK if settings.trajectories else size)
    identity = pd.DataFrame({"unit_id": [u.unit_id for u in selection.units],
                             "name": [u.name for u in selection.units],
                             "level": [u.level for u in selection.units],
                             "parent_id": list(selection.parent_ids)})
    parts_dir = directory / ".parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    failures: list[dict] = []
    row_paths: dict[int, Path] = {}
    quantile_paths: dict[tuple[int, int], Path] = {}
    waiting: dict[int, list] = {}  # chunk -> [rows, trajectory chunks left, failed unit ids]
    n_trajectory_chunks = 0

    def write_rows(index: int, rows: pd.DataFrame, failed: set[str]) -> None:
        rows = rows[~rows["unit_id"].isin(failed)] if failed and len(rows) else rows
        if len(rows):
            row_paths[index] = parts_dir / f"units-{index:05d}.csv"
            identity.merge(rows, on="unit_id", how="inner").to_csv(row_paths[index],
                                                                  index=False)

    with executor_for(scheduler, workers) as (executor, slots, description):
        for result in stream_chunks(executor, chunks, settings, window=2 * slots,
                                    trajectory_chunk_size=size):
            failures += result.failures
            if result.part is None:  # a deterministic chunk
                n_trajectory_chunks += result.n_parts
                if result.n_parts:
                    waiting[result.index] = [result.rows, result.n_parts, set()]
                else:
                    write_rows(result.index, result.rows, set())
            else:
                if result.quantiles is not None and len(result.quantiles):
                    path = parts_dir / f"quantiles-{result.index:05d}-{result.part:05d}.csv"
                    identity.merge(result.quantiles, on="unit_id", how="inner").to_csv(
                        path, index=False)
                    quantile_paths[(result.index, result.part)] = path
                entry = waiting[result.index]
                entry[1] -= 1
                entry[2].update(f["unit_id"] for f in result.failures)
                if entry[1] == 0:
                    write_rows(result.index, entry[0], entry[2])
                    del waiting[result.index]
            if progress is not None and result.units_done:
                progress(result.units_done)
    position = {u.unit_id: i for i, u in enumerate(selection.units)}
    failures.sort(key=lambda f: position.get(f["unit_id"], len(position)))
    row_parts = [row_paths[i] for i in sorted(row_paths)]
    if not row_parts:
        first = failures[0] if failures else {"name": "?", "code": "", "error": "no output"}
        raise BatchError(f"every unit failed, e.g. {first['name']} ({first['code']}): "
                         f"{first['error']}", field="batch",
                         fix="see the error; run one unit with `forecast inputs` to inspect it")
    files = ["units.csv"]
    _concatenate(row_parts, directory / "units.csv")
    quantile_parts = [quantile_paths[k] for k in sorted(quantile_paths)]
    if quantile_parts:
        _concatenate(quantile_parts, directory / "units_quantiles.csv")
        files.append("units_quantiles.csv")
    for path in parts_dir.iterdir():
        path.unlink()
    parts_dir.rmdir()
    if failures:
        pd.DataFrame(failures, columns=["unit_id", "code", "name", "error"]).to_csv(
            directory / "failures.csv", index=False)
        files.append("failures.csv")
    return BatchResult(n_units=len(selection.units),
                       n_chunks=n_trajectory_chunks if settings.trajectories else len(chunks),
                       failures=failures, seconds=time.perf_counter() - started,
                       scheduler=description, files=files,
                       n_deterministic_chunks=len(chunks))


def _manifest(selection: Selection, settings: BatchSettings, result: BatchResult,
              chunk_size: int | None) -> dict:
    from forecast import __version__
    from forecast.pipeline.run import _data_versions

    within = selection.within
    return {
        "tool": {"name": "forecast", "version": __version__, "command": "batch"},
        "selection": {"within": None if within is None else
                      {"unit_id": within.unit_id, "code": within.code, "name": within.name,
                       "level": within.level},
                      "level": selection.level, "units": result.n_units,
                      "skipped": list(selection.skipped)},
        "settings": dataclasses.asdict(settings),
        "chunks": {"count": result.n_chunks, "size": chunk_size or (
            DEFAULT_CHUNK_TRAJECTORIES if settings.trajectories else DEFAULT_CHUNK),
                   **({"deterministic_count": result.n_deterministic_chunks,
                       "deterministic_size": DEFAULT_CHUNK} if settings.trajectories else {})},
        "scheduler": result.scheduler,
        "inputs": "default inputs of every unit, controlled top down "
                  "(forecast.defaults.consistency); demand by the default parameters of "
                  "data/care_parameters.csv",
        "national_targets": [{"service": s, "kind": k, "parameter": key, "from_year": y}
                             for s, k, key, y in NATIONAL_TARGETS],
        "assumptions": [TARGET_HELD,
                        "no unit has a plan here: supply is unknown and gaps are national "
                        "target − demand",
                        "each unit's default inputs are controlled top down to its "
                        "prefecture, province and the nation (forecast.defaults.consistency): "
                        "counties add up to their prefecture, prefectures to their province, "
                        "provinces to the nation"]
                       + (["every unit uses the same trajectories of the national TFR, e0, "
                           "migration scale and disability trend (national uncertainty, "
                           "fully correlated across units)"] if settings.trajectories else []),
        "failures": result.failures,
        "outputs": sorted(result.files + ["manifest.json"]),
        "data": _data_versions(),
        "run_seconds": round(result.seconds, 3),
    }


def write_batch(selection: Selection, settings: BatchSettings, out_dir: Path, *,
                scheduler: str = "none", workers: int | None = None,
                chunk_size: int | None = None, lang: str = "zh",
                progress: Callable[[int], None] | None = None) -> BatchResult:
    """Run the batch and write all its outputs atomically into ``out_dir``."""
    import json

    from forecast.presentation.outputs import _json_default, atomic_directory

    started = time.perf_counter()
    with atomic_directory(out_dir) as staging:
        result = compute_batch(selection, settings, staging, scheduler=scheduler,
                               workers=workers, chunk_size=chunk_size, progress=progress)
        manifest = _manifest(selection, settings, result, chunk_size)

        def write_manifest() -> None:
            (staging / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default),
                encoding="utf-8")

        write_manifest()
        from forecast.presentation.batch_outputs import write_batch_report, write_outputs

        result.files += write_outputs(staging, lang)  # adds the map record to the manifest
        manifest = json.loads((staging / "manifest.json").read_text(encoding="utf-8"))
        write_batch_report(staging, lang)
        result.files.append("report.html")
        manifest["outputs"] = sorted(result.files + ["manifest.json"])
        manifest["run_seconds"] = round(time.perf_counter() - started, 3)
        write_manifest()
    return result


# ---------------------------------------------------------------------------- command


def _batch_command():
    import sys

    import click

    @click.command("batch")
    @click.option("--within", "within", default=None, metavar="CODE",
                  help="Run every unit inside this one (6-digit code or name).")
    @click.option("--all", "all_units", is_flag=True, help="Run every unit of the country.")
    @click.option("--level", type=click.Choice(LEVELS), default="county", show_default=True,
                  help="Level of the units run.")
    @click.option("--end-year", type=int, default=2035, show_default=True)
    @click.option("--trajectories", type=click.IntRange(min=1, max=100_000), default=None,
                  help="Also N joint trajectories per unit, reduced to quantiles.")
    @click.option("--seed", type=int, default=0, show_default=True,
                  help="Random seed of --trajectories.")
    @click.option("--scheduler", default="none", show_default=True, metavar="none|local|ADDRESS",
                  help="none: in this process; local: a dask LocalCluster on this machine; "
                       "ADDRESS: a running dask scheduler (tcp://host:port).")
    @click.option("--workers", type=click.IntRange(min=1, max=512), default=None,
                  help="Worker processes of --scheduler local (default 2).")
    @click.option("--chunk-size", type=click.IntRange(min=1, max=10_000), default=None,
                  help=f"Units per chunk (default {DEFAULT_CHUNK}, "
                       f"{DEFAULT_CHUNK_TRAJECTORIES} with --trajectories).")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
    @click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
                  help="Output directory.")
    def batch_command(within, all_units, level, end_year, trajectories, seed, scheduler,
                      workers, chunk_size, lang, out_dir):
        """Run every unit inside CODE (or all) at one level with default inputs, demand and
        gaps against the national targets, in chunks, in process or on a dask cluster."""
        if bool(within) == bool(all_units):
            raise BatchError("give exactly one of --within CODE and --all",
                             field="--within/--all",
                             fix="e.g. --within 530000 for Yunnan's counties, or --all")
        if end_year <= 2020:
            raise BatchError(f"end year {end_year} is not after the base year 2020",
                             field="--end-year", fix="choose a later end year, e.g. 2035")
        started = time.perf_counter()
        selection = select_units(within, level)
        settings = BatchSettings(end_year=end_year, trajectories=trajectories, seed=seed)
        total = len(selection.units)
        if sys.stderr.isatty():
            with click.progressbar(length=total, file=sys.stderr,
                                   label=f"{total:,} units") as bar:
                result = write_batch(selection, settings, out_dir, scheduler=scheduler,
                                     workers=workers, chunk_size=chunk_size, lang=lang,
                                     progress=bar.update)
        else:
            result = write_batch(selection, settings, out_dir, scheduler=scheduler,
                                 workers=workers, chunk_size=chunk_size, lang=lang)
        for failure in result.failures:
            click.echo(f"warning: {failure['name']} ({failure['code'] or failure['unit_id']}) "
                       f"failed: {failure['error']}", err=True)
        where = selection.within.name if selection.within else "全国"
        click.echo(f"{where}: {total - len(result.failures):,} of {total:,} {level}-level units"
                   f" to {end_year}" + (f", {trajectories:,} trajectories each"
                                        if trajectories else "")
                   + f" ({result.scheduler}, {result.n_chunks} chunks)")
        listed = [f for f in result.files if not f.startswith("charts/")]
        click.echo(f"wrote {out_dir}/ ({', '.join(listed)}, charts/, manifest.json) in "
                   f"{time.perf_counter() - started:.1f} s")
        if result.failures:
            sys.exit(1)

    return batch_command


batch_command = _batch_command()
