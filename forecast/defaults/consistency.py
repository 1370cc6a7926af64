"""Consistency across levels: county defaults that add up to their prefecture, prefectures to
their province, provinces to the nation.

Each unit's own defaults (:func:`forecast.defaults.assumptions.build_defaults`) are estimated from
its
own census counts, so projected separately the parts do not sum to the whole (Honghe's 13
counties held 3.3 % fewer people in 2035 than Honghe's own projection; the 31 provinces 2.1 %
more than the nation by 2050). Here the components are controlled top down, from the nation
to the provinces, to the prefectures, to the counties, as the UN's bayesPop does for
subnational projections (``pop.scale.prediction``: the difference between the parent's
population and the sum of its parts, by year, sex and age, is shared among the parts in
proportion to their population in that cell) and as the US Census Bureau's subnational
projections are controlled to the national series — but on components, so that each part's
inputs still reproduce its scaled population exactly:

1. The parts (the *partition* of the parent: its prefectures, or counties, including units
   that a yearbook subtotal such as 市辖区 holds) are projected with their own defaults.
2. Fertility: every part's ASFR in step t is multiplied by the same factor, the parent's births
   over the parts' births in that step.
3. Mortality: every part's death rates in step t are multiplied by the parent's deaths over the
   parts' deaths in that step, by sex and age (factors kept within 0.5–2).
4. The parts are projected again with these rates; then each cell (year, sex, age) is scaled
   to the parent's, keeping the base year's ratio of the parts' sum to the parent (1 where the
   yearbook's parts add up, which they do but for a few development zones).
5. On this controlled path the parts' flows are brought to the parent's again, since scaling
   the populations moved them off the path their rates were scaled on (before, Honghe's
   counties had 1.2 % fewer births than Honghe by 2033, 石家庄's 7.8 % more; the difference
   sat in age-0 migrants): the death rates of each step and sex get one more level factor so
   the parts' deaths by sex sum to the parent's (to about 1e-5: the factor is solved on
   survival ratios S^k, exact for a hazard constant within a year), then the ASFR of each
   step one factor so their births sum to the parent's exactly (births are linear in the
   ASFR on a fixed path).
6. Net migration: each part's net migrants in each step are the residual that makes the
   engine reproduce its scaled population from its scaled rates. With populations, births
   and deaths summing to the parent's, they sum to the parent's net migrants too (by the
   balancing equation; by sex and age up to the parts' different sex ratios at birth and
   the age pattern of deaths).

The parent is itself controlled to its own parent first; the nation keeps its own defaults.
A unit outside the chain (a yearbook subtotal) keeps its own defaults and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census, crosswalk
from forecast.defaults.assumptions import Defaults, build_defaults
from forecast.demography.engine import project_step
from forecast.demography.lifetable import survival_ratios_by_sex

MORTALITY_FACTOR_LIMITS = (0.5, 2.0)
CHUNK = 400
SOURCE = ("the parent's default projection (UN Population Division bayesPop, "
          "pop.scale.prediction: subnational populations shared out by year, sex and age)")
METHOD = ("top-down control (bayesPop pop.scale.prediction; US Census Bureau subnational "
          "controls): the parts' fertility scaled to the parent's births and their mortality to "
          "the parent's deaths by sex and age, populations scaled to the parent's by year, sex "
          "and age, net migration the residual that reproduces them")


# ----------------------------------------------------------------------------- the unit tree


@lru_cache(maxsize=1)
def _tree() -> tuple[dict[str, list[str]], dict[str, str], dict[str, census.Unit]]:
    """children by parent, level by unit, and Unit records of the 2020 census."""
    units = census.load_units(2020)
    children: dict[str, list[str]] = {}
    for uid, parent in zip(units.unit_id, units.parent_id, strict=True):
        children.setdefault(parent, []).append(uid)
    levels = dict(zip(units.unit_id, units.level, strict=True))
    records = {r.unit_id: census.Unit(
        unit_id=r.unit_id, code=r.code, name=r.name, level=r.level, province=r.province,
        prefecture=r.prefecture, pop_total=None if pd.isna(r.pop_total) else int(r.pop_total),
        parent_name=r.parent_name, census_year=2020) for r in units.itertuples(index=False)}
    return children, levels, records


def partition(parent_id: str) -> list[str]:
    """The units that make up a parent, one level down: its children, looking through yearbook
    subtotals (市辖区, 县, 省直辖县级行政区划) to the units they hold."""
    children, levels, _ = _tree()
    out = []
    for child in children.get(parent_id, []):
        if levels.get(child) == "district_aggregate" and children.get(child):
            out.extend(partition(child))
        else:
            out.append(child)
    return out


@lru_cache(maxsize=1)
def _parents() -> dict[str, str]:
    children, levels, _ = _tree()
    parent_of = {}
    for parent in [u for u, lv in levels.items() if lv in ("national", "province", "prefecture")]:
        for child in partition(parent):
            parent_of[child] = parent
    return parent_of


def parent_of(unit_id: str) -> str | None:
    """The unit whose partition holds ``unit_id`` (None for the nation and subtotals)."""
    return _parents().get(unit_id)


def chain(unit_id: str) -> list[str]:
    """The unit and its parents up to the nation, e.g. 532501 → 532500 → 530000 → CN."""
    out = [unit_id]
    while (parent := parent_of(out[-1])) is not None:
        out.append(parent)
    return out


# ----------------------------------------------------------------------------- projection


@dataclass
class Projected:
    """A projection of a batch of units from their (possibly scaled) inputs."""

    population: np.ndarray  # (U, T+1, 2, 101)
    births: np.ndarray  # (U, T) persons
    deaths: np.ndarray  # (U, T, 2, 101) by age at the end of the step
    net_migrants: np.ndarray  # (U, T, 2, 101) as applied


def project_defaults(defaults: Defaults, survival: np.ndarray | None = None) -> Projected:
    """The engine's projection of ``defaults``; ``survival`` (U, T, 2, 101), when given, is
    ``survival_ratios_by_sex(defaults.mx)`` computed already."""
    result = defaults.projection(survival)
    return Projected(population=np.moveaxis(result.population, 0, 1),
                     births=np.moveaxis(result.births_by_sex.sum(axis=-1), 0, 1),
                     deaths=np.moveaxis(result.deaths, 0, 1),
                     net_migrants=np.moveaxis(result.net_migrants_applied, 0, 1))


def _subset(defaults: Defaults, rows: list[int]) -> Defaults:
    return Defaults(unit_ids=[defaults.unit_ids[i] for i in rows], settings=defaults.settings,
                    population=defaults.population[rows], mx=defaults.mx[rows],
                    asfr=defaults.asfr[rows], srb=defaults.srb[rows],
                    net_migrants=defaults.net_migrants[rows],
                    provenance=[defaults.provenance[i] for i in rows])


def steps_without_migrants(population: np.ndarray, survival: np.ndarray, asfr: np.ndarray,
                           srb: np.ndarray):
    """Every step of a given path at once: the engine's step ('end' timing, no migrants) from
    ``population[:, t]`` (U, T+1, 2, 101) with the rates of step t, as one
    :class:`forecast.demography.engine.StepResult` over axes (U, T). Births and deaths of a step
    depend on
    its start population and rates only, so on a fixed path they are what a projection of
    these rates with the residual migrants gives."""
    return project_step(population[:, :-1], survival, asfr, srb, None)


def flow_factor(target: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """target / parts where the parts have any, else 1: the factor that makes a flow of the
    parts (summed over them) equal the parent's."""
    return np.divide(target, parts, out=np.ones(np.shape(parts)), where=parts > 0)


def exposure_to_death(population: np.ndarray, births_by_sex: np.ndarray) -> np.ndarray:
    """Persons exposed in each step by age at its end (U, T, 2, 101), as the engine's deaths
    count them: births at age 0, the cohort aged x−1 at the start at age x, the last two ages
    together at the open age; deaths = exposure × (1 − survival ratio)."""
    start = population[:, :-1]
    out = np.empty_like(start)
    out[..., 0] = births_by_sex
    out[..., 1:-1] = start[..., :-2]
    out[..., -1] = start[..., -2] + start[..., -1]
    return out


def deaths_level(exposure: np.ndarray, survival: np.ndarray, goal: np.ndarray,
                 iterations: int = 8) -> np.ndarray:
    """The factor k (T, 2) on every part's death rates in a step and sex that makes the parts'
    deaths sum to ``goal`` (T, 2): Σ exposure × (1 − S^k) = goal, S^k being the survival ratio
    when the hazard is multiplied by k (exact for a hazard constant within the step; the life
    table's a(x) and open age leave about 1e-5). Newton's method from k = 1, per step and sex."""
    log_s = np.log(np.clip(survival, 1e-300, 1.0))
    k = np.ones(goal.shape)
    for _ in range(iterations):
        powered = np.exp(k[None, :, :, None] * log_s)
        deaths = (exposure * (1.0 - powered)).sum(axis=(0, 3))
        slope = -(exposure * powered * log_s).sum(axis=(0, 3))
        step = np.divide(goal - deaths, slope, out=np.zeros_like(k), where=slope > 0)
        k = np.clip(k + step, *MORTALITY_FACTOR_LIMITS)
    return k


def control_to_parent(parts: Defaults, parent: Projected, parent_row: int = 0
                      ) -> tuple[Defaults, Projected, list[dict]]:
    """The parts' defaults controlled to one parent's projection (steps 1–6 of the module
    docstring). Returns the new defaults, their projection (what the engine gives for them)
    and a note per part."""
    first = project_defaults(parts)
    target_births = parent.births[parent_row]  # (T,)
    target_deaths = parent.deaths[parent_row]  # (T, 2, 101)
    fertility = flow_factor(target_births, first.births.sum(axis=0))  # (T,)
    mortality = flow_factor(target_deaths, first.deaths.sum(axis=0))  # (T, 2, 101)
    mortality = np.clip(mortality, *MORTALITY_FACTOR_LIMITS)
    asfr = parts.asfr * fertility[None, :, None]
    mx = parts.mx * mortality[None]
    survival = survival_ratios_by_sex(mx)
    second = project_defaults(replace(parts, asfr=asfr, mx=mx), survival)

    total = second.population.sum(axis=0)  # (T+1, 2, 101)
    target = parent.population[parent_row]
    base_ratio = np.divide(total[0], target[0], out=np.ones_like(total[0]),
                           where=target[0] > 0)
    goal = target * base_ratio[None]
    share = np.divide(second.population, total[None], out=np.zeros_like(second.population),
                      where=total[None] > 0)
    totals_share = second.population.sum(axis=(2, 3)) / np.maximum(
        total.sum(axis=(1, 2)), 1e-12)[None]  # (U, T+1): for cells no part holds
    empty = (total <= 0)[None] & (goal > 0)[None]
    share = np.where(empty, totals_share[:, :, None, None], share)
    population = share * goal[None]
    population[:, 0] = parts.population  # the census base stays as it is

    # Step 5: the flows on the controlled path. Scaling the population moved the parts away
    # from the path their rates were scaled on, so their births and deaths no longer summed to
    # the parent's (Honghe's counties: births 1.2 % short by 2033, the rest hidden in age-0
    # migrants). On the controlled path, births are brought to the parent's (linear in the
    # ASFR given the path), then deaths by sex with one level factor per step and sex on the
    # death rates (deaths_level), then births exactly again on the new survival; both goals
    # carry the base year's ratio of the parts to the parent.
    base_total_ratio = float(total[0].sum() / target[0].sum()) if target[0].sum() > 0 else 1.0
    births_goal = target_births * base_total_ratio
    on_path = steps_without_migrants(population, survival, asfr, parts.srb)
    # births first (their infant deaths count among the deaths), on the old survival
    fertility = fertility * flow_factor(births_goal, on_path.births_by_sex.sum(axis=(0, 2)))
    asfr = parts.asfr * fertility[None, :, None]
    on_path = steps_without_migrants(population, survival, asfr, parts.srb)
    deaths_goal = (target_deaths * base_ratio[None]).sum(axis=-1)  # (T, 2)
    level = deaths_level(exposure_to_death(population, on_path.births_by_sex), survival,
                         deaths_goal)  # (T, 2)
    mortality = np.clip(mortality * level[:, :, None], *MORTALITY_FACTOR_LIMITS)
    mx = parts.mx * mortality[None]
    survival = survival_ratios_by_sex(mx)
    on_path = steps_without_migrants(population, survival, asfr, parts.srb)
    fertility = fertility * flow_factor(births_goal, on_path.births_by_sex.sum(axis=(0, 2)))
    asfr = parts.asfr * fertility[None, :, None]
    on_path = steps_without_migrants(population, survival, asfr, parts.srb)
    # the residual that makes the engine ('end' timing) reproduce the path exactly
    migrants = population[:, 1:] - on_path.population
    controlled = replace(parts, asfr=asfr, mx=mx, net_migrants=migrants)
    result = Projected(population=population, births=on_path.births_by_sex.sum(axis=-1),
                       deaths=on_path.deaths, net_migrants=migrants)

    notes = []
    parent_migrants = parent.net_migrants[parent_row].sum()
    parts_migrants = migrants.sum()
    for i in range(len(parts.unit_ids)):
        own = first.population[i].sum(axis=(1, 2))
        new = population[i].sum(axis=(1, 2))
        notes.append({
            "fertility_factor": [round(float(fertility.min()), 4),
                                 round(float(fertility.max()), 4)],
            "mortality_factor_mean": round(float(np.average(
                mortality, weights=np.maximum(first.deaths[i], 1e-9))), 4),
            "population_change_vs_own_defaults_end": round(float(new[-1] / own[-1] - 1), 4)
            if own[-1] > 0 else None,
            "annual_net_migrants_own": round(float(parts.net_migrants[i].sum(axis=(1, 2))
                                                   .mean()), 1),  # mean over the steps
            "annual_net_migrants_controlled": round(float(migrants[i].sum(axis=(1, 2)).mean()),
                                                    1),
            "parts_net_migrants_over_parent": round(float(parts_migrants - parent_migrants), 1),
        })
    return controlled, result, notes


# ----------------------------------------------------------------------------- the driver


def _build(unit_ids: list[str], base_year: int, end_year: int) -> Defaults:
    _, _, records = _tree()
    batches = []
    for start in range(0, len(unit_ids), CHUNK):
        units = [records[u] for u in unit_ids[start:start + CHUNK]]
        batches.append(build_defaults(units, base_year, end_year))
    return Defaults.concatenate(batches)


def _eligible(unit_id: str, base_year: int) -> bool:
    """Whether a part can be projected from this base (a 2010 base needs a 2010 area)."""
    return base_year != 2010 or crosswalk.status(unit_id) != "none"


def consistent_defaults(units: list[census.Unit], base_year: int = 2020, end_year: int = 2050,
                        memo: dict | None = None) -> Defaults:
    """Default inputs for ``units``, each controlled top down to its parents (see the module
    docstring); the provenance of each unit gains a ``consistency`` record.

    ``memo`` (a dict the caller keeps between calls, e.g. ``forecast batch`` for its chunks)
    holds the controlled inputs of every unit above the level of ``units``: a partition whose
    parts are all there is not built and controlled again. The results are the same."""
    wanted = [u.unit_id for u in units]
    chains = {u: chain(u) for u in wanted}
    # parents whose partitions must be controlled, top down (the nation first)
    parents_needed: list[str] = []
    for unit_chain in chains.values():
        for parent in reversed(unit_chain[1:]):
            if parent not in parents_needed:
                parents_needed.append(parent)
    depth = {p: len(chain(p)) for p in parents_needed}
    parents_needed.sort(key=lambda p: depth[p])

    controlled: dict[str, tuple[Defaults, Projected, dict]] = {}
    kept = None if memo is None else memo.setdefault((base_year, end_year), {})
    wanted_depth = min((len(c) for c in chains.values()), default=0)
    roots = [p for p in parents_needed if parent_of(p) is None]
    if kept is not None:
        controlled.update((r, kept[r]) for r in roots if r in kept)
        roots = [r for r in roots if r not in kept]
    if roots:
        root_defaults = _build(roots, base_year, end_year)
        root_projected = project_defaults(root_defaults)
        for i, root in enumerate(roots):
            note = {"method": "the root of the chain: its own defaults"}
            controlled[root] = (_subset(root_defaults, [i]),
                                Projected(root_projected.population[i:i + 1],
                                          root_projected.births[i:i + 1],
                                          root_projected.deaths[i:i + 1],
                                          root_projected.net_migrants[i:i + 1]), note)
            if kept is not None and 1 < wanted_depth:
                kept[root] = controlled[root]
    for level_depth in sorted(set(depth.values())):
        parents = [p for p in parents_needed if depth[p] == level_depth and p in controlled]
        parts_of = {p: [c for c in partition(p) if _eligible(c, base_year)] for p in parents}
        if kept is not None:  # partitions controlled by an earlier call
            done = [p for p in parents if all(c in kept for c in parts_of[p])]
            for p in done:
                controlled.update((c, kept[c]) for c in parts_of[p])
            parents = [p for p in parents if p not in done]
        all_parts = [c for p in parents for c in parts_of[p]]
        if not all_parts:
            continue
        built = _build(all_parts, base_year, end_year)
        position = {u: i for i, u in enumerate(built.unit_ids)}
        for p in parents:
            rows = [position[c] for c in parts_of[p]]
            parent_defaults, parent_projected, _ = controlled[p]
            new, projected, notes = control_to_parent(_subset(built, rows), parent_projected)
            name = parent_defaults.provenance[0]["unit"]["name"]
            for j, child in enumerate(parts_of[p]):
                note = {"method": METHOD, "parent": f"{name} ({p})",
                        "parts_of_parent": len(rows), **notes[j]}
                controlled[child] = (
                    _subset(new, [j]),
                    Projected(projected.population[j:j + 1], projected.births[j:j + 1],
                              projected.deaths[j:j + 1], projected.net_migrants[j:j + 1]),
                    note)
                if kept is not None and level_depth + 1 < wanted_depth:  # a parent's level
                    kept[child] = controlled[child]
    missing = [u for u in wanted if u not in controlled]
    own = _build(missing, base_year, end_year) if missing else None
    _, levels, _ = _tree()
    pieces = []
    for unit_id in wanted:
        if unit_id in controlled:
            defaults, _, note = controlled[unit_id]
        else:
            defaults = _subset(own, [own.unit_ids.index(unit_id)])
            note = ({"method": "the root of the chain: its own defaults"}
                    if levels.get(unit_id) == "national" else
                    {"method": "not part of the county → prefecture → province → nation "
                               "chain (a yearbook subtotal): its own defaults"})
        provenance = {key: dict(value) if isinstance(value, dict) else value
                      for key, value in defaults.provenance[0].items()}
        provenance["consistency"] = {**note, "source": SOURCE} if "parent" in note else note
        if "annual_net_migrants_controlled" in note:  # the first step's, as the residual's
            provenance["migration"]["annual_net_migrants_own_residual"] = \
                provenance["migration"].get("annual_net_migrants")
            provenance["migration"]["annual_net_migrants"] = round(
                float(defaults.net_migrants[0, 0].sum()), 1)
        pieces.append(replace(defaults, provenance=[provenance]))
    return Defaults(unit_ids=wanted, settings=pieces[0].settings,
                    population=np.concatenate([p.population for p in pieces]),
                    mx=np.concatenate([p.mx for p in pieces]),
                    asfr=np.concatenate([p.asfr for p in pieces]),
                    srb=np.concatenate([p.srb for p in pieces]),
                    net_migrants=np.concatenate([p.net_migrants for p in pieces]),
                    provenance=[p.provenance[0] for p in pieces])


#: A call for at most this many units keeps its defaults in the on-disk cache (a run's unit,
#: a prefecture's counties); a batch of thousands is computed each time.
CACHED_UNITS_MAX = 64


def defaults_for(units: list[census.Unit], base_year: int = 2020, end_year: int = 2050,
                 consistent: bool = True, memo: dict | None = None) -> Defaults:
    """The default inputs a run uses: controlled top down (``consistent``, the default) or each
    unit's own; the provenance says which.

    They depend only on the shipped data and the code, so for a few units they are kept in the
    on-disk cache (:mod:`forecast.cache`) under the SHA-256 of the units, years, every data
    file and every module of the package: a run of the same code on the same data reads them
    back (pickled, so arrays and provenance come back exactly as computed) instead of
    rebuilding the nation's, the province's and the prefecture's defaults each time. ``memo``
    (a batch's chunks, a run's counties): see :func:`consistent_defaults`; it only saves work,
    so a call with it may be read from the disk cache too."""
    if len(units) > CACHED_UNITS_MAX:
        return _defaults_for(units, base_year, end_year, consistent, memo)
    import pickle

    from forecast.cache import cache_directory, cache_key, cache_replace, cached_bytes

    if cache_directory() is None:
        return _defaults_for(units, base_year, end_year, consistent, memo)
    key = cache_key("defaults_for", [repr(u) for u in units], base_year, end_year, consistent,
                    _inputs_fingerprint())
    stored = cached_bytes("defaults", key + ".pickle", lambda: pickle.dumps(
        _defaults_for(units, base_year, end_year, consistent, memo), protocol=5))
    try:
        return pickle.loads(stored)
    except Exception:  # a damaged entry: compute afresh and replace it
        fresh = _defaults_for(units, base_year, end_year, consistent, memo)
        cache_replace("defaults", key + ".pickle", pickle.dumps(fresh, protocol=5))
        return fresh


@lru_cache(maxsize=1)
def _inputs_fingerprint() -> str:
    """The SHA-256 of every file the defaults can depend on: the data directory's files (names
    and bytes) and the package's modules; read once per process (about 11 MB), not at every
    call of :func:`defaults_for`."""
    import hashlib
    from pathlib import Path

    from forecast.paths import data_dir

    digest = hashlib.sha256()
    directory = data_dir()
    digest.update(str(directory.resolve()).encode())
    package = Path(__file__).resolve().parents[1]  # the whole forecast package
    files = sorted(directory.glob("*")) + sorted(package.rglob("*.py"))
    for path in files:
        if path.is_file():
            digest.update(str(path.name).encode() + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()


def _defaults_for(units: list[census.Unit], base_year: int, end_year: int,
                  consistent: bool, memo: dict | None = None) -> Defaults:
    if consistent and all(u.census_year == 2020 for u in units):
        return consistent_defaults(units, base_year, end_year, memo)
    defaults = build_defaults(units, base_year, end_year)
    for provenance in defaults.provenance:
        provenance["consistency"] = (
            {"method": "off: the unit's own defaults, not controlled to its parents "
                       "(projection.consistent: false, or --own-defaults)"} if not consistent
            else
            {"method": "a unit of the 2010 census only: its own defaults (the top-down chain "
                       "runs on 2020 units)"})
    return defaults
