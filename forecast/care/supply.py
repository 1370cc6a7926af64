"""Plan targets, supply paths and gaps between supply and projected demand.

Plain values in, tidy tables out. Services are those of :mod:`forecast.care.demand`:
``elderly_beds``, ``nursing_beds`` and ``childcare_places``.

- A :class:`Target` is one number a plan states for one year, in one of the kinds
  ``count`` (beds or places), ``per_1000_elderly`` (per 1,000 persons aged 60+),
  ``per_1000_population``, ``share_nursing`` (nursing-type share of all beds, for
  ``nursing_beds``) or ``coverage_under3`` (places per child aged 0–2).
- A :class:`SupplyPlan` holds a known (or unknown) base supply and the additions a plan
  commits to. :func:`supply_path` turns it into supply by year.
- :func:`gaps` compares supply (and the plan's own targets) with every demand method;
  :func:`first_shortfall` and :func:`probability_met` summarise it.

``drivers`` everywhere is the wide table of :func:`forecast.care.demand.drivers`:
``[keys..., year, pop_total, pop_0_2, pop_60plus, ...]`` (persons).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.demography.indicators import count_from_rate, rate_from_count
from forecast.errors import ConfigError
from forecast.vocabulary import (
    ELDERLY_SERVICES,
    NATIONAL,
    PLAN,
    SERVICES,
    TARGET_KINDS,
    TARGET_ORIGINS,
)

#: How a national target's source reads in the ``source`` column of a target table
#: (targets.csv): the origin shown to a reader; code reads :attr:`Target.origin`.
NATIONAL_SOURCE_PREFIX = "national: "
DEMAND_KEY_COLUMNS = ("year", "service", "method", "value", "unit", "assumptions")
DRIVER_VALUE_COLUMNS = ("pop_total", "pop_0_2", "pop_60plus", "pop_65plus", "pop_80plus",
                        "severe_disabled", "moderate_disabled", "residents_needing_care",
                        "residents_expected", "residents_nursing_level",
                        "children_wanting_care")
SPREAD_ASSUMPTION = "additions spread evenly over their years (assumption)"


@dataclass(frozen=True)
class Target:
    """One plan target: ``value`` in ``kind`` units for ``service`` in ``year``, its source
    (citation) and its ``origin``: the plan's own (:data:`PLAN`) or a national target the plan
    did not adopt (:data:`NATIONAL`)."""

    service: str
    year: int
    kind: str
    value: float
    source: str
    origin: str = PLAN

    @property
    def source_text(self) -> str:
        """The source as a target table shows it (a national target's marked so)."""
        return (NATIONAL_SOURCE_PREFIX if self.origin == NATIONAL else "") + self.source

    def __post_init__(self) -> None:
        if self.origin not in TARGET_ORIGINS:
            raise ConfigError(f"unknown target origin '{self.origin}'", field="targets.origin",
                              fix=f"use one of {', '.join(TARGET_ORIGINS)}")
        if self.kind not in TARGET_KINDS:
            raise ConfigError(f"unknown target kind '{self.kind}'", field="targets.kind",
                              fix=f"use one of {', '.join(TARGET_KINDS)}")
        if self.service not in SERVICES:
            raise ConfigError(f"unknown service '{self.service}'", field="targets.service",
                              fix=f"use one of {', '.join(SERVICES)}")
        if self.kind == "share_nursing" and self.service != "nursing_beds":
            raise ConfigError("a share_nursing target belongs to service nursing_beds",
                              field="targets.service", fix="set service: nursing_beds")
        if self.kind in ("per_1000_elderly",) and self.service not in ELDERLY_SERVICES:
            raise ConfigError("per_1000_elderly applies to elderly-care beds only",
                              field="targets.kind", fix="use per_1000_population for 托位")
        if self.kind == "coverage_under3" and self.service != "childcare_places":
            raise ConfigError("coverage_under3 applies to childcare_places only",
                              field="targets.kind", fix="use count or per_1000_elderly")
        if not np.isfinite(self.value) or self.value < 0:
            raise ConfigError(f"target value {self.value} is not a non-negative number",
                              field="targets.value", fix="give a number ≥ 0")


SUPPLY_SCOPES = ("total", "institutional", "community")
#: Where a year's supply comes from (``supply_source`` of a supply path and of gaps.csv):
#: a stated base and additions; the plan's own target taken as supply (no base stated: an
#: assumption that the plan meets it); or unknown.
SOURCE_STATED = "plan_stated"
SOURCE_TARGET = "target_assumed"
SOURCE_UNKNOWN = "unknown"
#: ``status`` of a gap row whose demand and supply are the same plan figure (the plan's own
#: norm is the demand method and its target, taken as supply, the supply): no verdict.
STATUS_SAME = "same_as_target"
#: How a gap row names the assumption of a target taken as supply (rests_on_assumptions).
TARGET_ASSUMED_TEXT = "supply: the plan's target assumed met"
#: Elderly-bed methods that estimate residents of institutions, so are compared with
#: institutional beds; the per-1,000 norm counts institutional and community beds together.
INSTITUTIONAL_METHODS = ("needs", "expected_use", "rule_9073")


@dataclass(frozen=True)
class Addition:
    """``amount`` beds/places added over ``start_year..end_year`` (inclusive), with source;
    ``scope`` says which beds (``total``, ``institutional`` or ``community``)."""

    start_year: int
    end_year: int
    amount: float
    source: str
    scope: str = "total"

    def __post_init__(self) -> None:
        if self.end_year < self.start_year:
            raise ConfigError(f"addition ends ({self.end_year}) before it starts "
                              f"({self.start_year})", field="additions.end_year",
                              fix="give end_year ≥ start_year")
        if self.scope not in SUPPLY_SCOPES:
            raise ConfigError(f"unknown scope '{self.scope}'", field="additions.scope",
                              fix=f"use one of {', '.join(SUPPLY_SCOPES)}")

    def cumulative(self, years: np.ndarray) -> np.ndarray:
        """Amount added by the end of each year, spread evenly over its years (assumption)."""
        n_years = self.end_year - self.start_year + 1
        done = np.clip((np.asarray(years, float) - self.start_year + 1) / n_years, 0.0, 1.0)
        return self.amount * done


@dataclass
class SupplyPlan:
    """A service's supply: base stock in ``base_year`` (None = unknown), additions, targets.

    ``base_supply`` is the total (for elderly beds: institutional + community).
    ``base_institutional`` is the part in 养老机构 where the document states it (None =
    not stated); ``institutional_share`` (institutional ÷ total beds, e.g. the national share
    of the 民政 statistics) estimates it where it is not stated (None = no estimate).
    """

    service: str
    base_year: int
    base_supply: float | None
    base_source: str
    additions: list[Addition] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    base_institutional: float | None = None
    institutional_share: float | None = None

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ConfigError(f"unknown service '{self.service}'", field="supply.service",
                              fix=f"use one of {', '.join(SERVICES)}")
        if self.base_supply is not None and not (np.isfinite(self.base_supply)
                                                 and self.base_supply >= 0):
            raise ConfigError(f"base supply {self.base_supply} is not a non-negative number",
                              field="supply.base_supply", fix="give a count or leave it empty")


def supply_path(plan: SupplyPlan, years: Iterable[int]) -> pd.DataFrame:
    """Supply by year: ``year, supply, supply_basis, plan_target_path, supply_institutional,
    institutional_basis, supply_source, base_supply, base_supply_institutional`` (beds or
    places).

    ``supply_source`` is ``plan_stated`` (a stated base and additions) or ``unknown``;
    ``base_supply`` (and its institutional part) the base stock held constant from the base
    year, the status quo of :func:`gaps`.

    ``supply`` = base + additions made after the base year, each spread evenly over its years
    (an assumption, said in ``supply_basis``); NaN before the base year and wherever the base
    supply is unknown. ``plan_target_path`` is the path the plan's ``count`` targets imply:
    linear from the base supply to each target, NaN after the last target year (and everywhere
    when the base or a count target is missing).
    """
    year_array = np.asarray(list(years), dtype=int)
    added = np.zeros(len(year_array))
    for addition in plan.additions:
        added += addition.cumulative(year_array) - addition.cumulative(np.array([plan.base_year]))
    if plan.base_supply is None:
        supply = np.full(len(year_array), np.nan)
        basis = "unknown: no base supply stated"
    else:
        supply = np.where(year_array >= plan.base_year, plan.base_supply + added, np.nan)
        basis = f"base {plan.base_year}: {plan.base_source}"
        if plan.additions:
            sources = "; ".join(sorted({a.source for a in plan.additions}))
            basis += f"; + additions ({sources}); {SPREAD_ASSUMPTION}"
        else:
            basis += "; held constant (no additions stated)"
    counts = sorted((t.year, t.value) for t in plan.targets if t.kind == "count")
    target_path = np.full(len(year_array), np.nan)
    if counts and plan.base_supply is not None:
        anchor_years = [plan.base_year] + [year for year, _ in counts]
        anchor_values = [plan.base_supply] + [count for _, count in counts]
        inside = (year_array >= plan.base_year) & (year_array <= anchor_years[-1])
        target_path[inside] = np.interp(year_array[inside], anchor_years, anchor_values)
    institutional, institutional_basis = _institutional_path(plan, year_array, supply)
    held = SupplyPlan(plan.service, plan.base_year, plan.base_supply, plan.base_source,
                      base_institutional=plan.base_institutional,
                      institutional_share=plan.institutional_share)
    base = np.where(year_array >= plan.base_year, np.nan if plan.base_supply is None
                    else plan.base_supply, np.nan)
    base_institutional, _ = _institutional_path(held, year_array, base)
    return pd.DataFrame({"year": year_array, "supply": supply, "supply_basis": basis,
                         "plan_target_path": target_path,
                         "supply_institutional": institutional,
                         "institutional_basis": institutional_basis,
                         "supply_source": np.where(np.isnan(supply), SOURCE_UNKNOWN,
                                                   SOURCE_STATED),
                         "base_supply": base, "base_supply_institutional": base_institutional})


def _institutional_path(plan: SupplyPlan, years: np.ndarray,
                        total: np.ndarray) -> tuple[np.ndarray, str | np.ndarray]:
    """Institutional beds by year and how they are known: ``stated`` (the document's base and
    additions of institutional beds), ``estimated`` (a share of the total: of the whole stock,
    or of additions whose scope is not stated, in the years they count) or ``unknown``."""
    share = plan.institutional_share
    if plan.base_supply is None:
        return np.full(len(years), np.nan), "unknown"
    if plan.base_institutional is None:
        if share is None:
            return np.full(len(years), np.nan), "unknown"
        return total * share, "estimated"
    added = np.zeros(len(years))
    estimated = np.zeros(len(years), dtype=bool)
    for addition in plan.additions:
        done = addition.cumulative(years) - addition.cumulative(np.array([plan.base_year]))
        if addition.scope == "institutional":
            added += done
        elif addition.scope == "total":
            if share is None:
                return np.full(len(years), np.nan), "unknown"
            added += share * done
            estimated |= done > 0
    institutional = np.where(years >= plan.base_year, plan.base_institutional + added, np.nan)
    return institutional, np.where(estimated, "estimated", "stated")


def with_estimated_institutional(path: pd.DataFrame, share: float | None) -> pd.DataFrame:
    """A supply path whose institutional beds are ``share`` × its total (``estimated``), for a
    path made without a stated split (a target taken as supply)."""
    if share is None:
        return path.assign(supply_institutional=np.nan, institutional_basis="unknown")
    return path.assign(supply_institutional=path["supply"] * share,
                       institutional_basis="estimated")


def _driver_keys(drivers: pd.DataFrame) -> list[str]:
    return [c for c in drivers.columns if c != "year" and c not in DRIVER_VALUE_COLUMNS]


def default_institutional_share() -> float:
    """Institutional ÷ all elderly-care beds, national (care parameter E12)."""
    from forecast.care.demand import ElderlyCareParameters

    return ElderlyCareParameters().institutional_share


def target_consistency(targets: Iterable[Target], drivers: pd.DataFrame,
                       at_year: int | None = None, with_origin: bool = False,
                       institutional_share: float | None = None) -> pd.DataFrame:
    """Each target in every unit, using the projected drivers of its target year.

    Columns ``[keys..., service, year, kind, value, source, driver_year, count,
    per_1000_elderly, per_1000_population, coverage_under3]``. ``at_year`` uses the drivers of
    that year instead (e.g. the base year, as plans usually do). A ``share_nursing`` target
    becomes a count of nursing beds when the plan has an elderly-bed target in the same year
    (the largest one): the share × that target's institutional beds (``institutional_share``
    of it, default the national share E12), as a nursing-type share target is a share of
    institutional beds (养老机构护理型床位占比, E2); otherwise its other units are NaN. Rates
    a service does not use
    (per 1,000 aged 60+ for 托位, coverage for beds) are NaN. ``with_origin`` adds the
    targets' ``origin`` column.
    """
    targets = list(targets)
    keys = _driver_keys(drivers)
    share = default_institutional_share() if institutional_share is None else \
        institutional_share
    frames = []
    for target in targets:
        driver_year = at_year if at_year is not None else target.year
        rows = drivers.loc[drivers["year"] == driver_year, [*keys, "pop_total", "pop_0_2",
                                                            "pop_60plus"]]
        if rows.empty:
            rows = pd.DataFrame({**{k: [np.nan] for k in keys}, "pop_total": [np.nan],
                                 "pop_0_2": [np.nan], "pop_60plus": [np.nan]})
        frame = rows.reset_index(drop=True)
        frame["count"] = _target_count(target, frame, targets, drivers, driver_year, share)
        frames.append(frame.assign(service=target.service, year=target.year, kind=target.kind,
                                   value=target.value, source=target.source_text,
                                   driver_year=driver_year, origin=target.origin))
    columns = [*keys, "service", "year", "kind", "value", "source", "driver_year", "count",
               "per_1000_elderly", "per_1000_population", "coverage_under3"]
    if with_origin:
        columns.append("origin")
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    elderly = out["service"].isin(ELDERLY_SERVICES)
    out["per_1000_elderly"] = np.where(elderly, rate_from_count(out["count"], out["pop_60plus"]),
                                       np.nan)
    out["per_1000_population"] = rate_from_count(out["count"], out["pop_total"])
    out["coverage_under3"] = np.where(elderly, np.nan, out["count"] / out["pop_0_2"])
    return out.loc[:, columns]


def _target_count(target: Target, frame: pd.DataFrame, all_targets: list[Target],
                  drivers: pd.DataFrame, driver_year: int,
                  institutional_share: float) -> np.ndarray:
    """A target as a count (beds or places) for each row of ``frame`` (drivers of one year)."""
    if target.kind == "count":
        return np.full(len(frame), target.value)
    if target.kind == "per_1000_elderly":
        return count_from_rate(target.value, frame["pop_60plus"].to_numpy())
    if target.kind == "per_1000_population":
        return count_from_rate(target.value, frame["pop_total"].to_numpy())
    if target.kind == "coverage_under3":
        return target.value * frame["pop_0_2"].to_numpy()
    # share_nursing: share × the institutional beds of the elderly-bed target of the same year
    bed_targets = [t for t in all_targets if t.service == "elderly_beds" and t.year == target.year]
    if not bed_targets:
        return np.full(len(frame), np.nan)
    bed_counts = np.vstack([_target_count(t, frame, all_targets, drivers, driver_year,
                                          institutional_share) for t in bed_targets])
    return target.value * institutional_share * np.nanmax(bed_counts, axis=0)


SUPPLY_TABLE_COLUMNS = ("service", "year", "supply", "supply_institutional",
                        "institutional_basis", "supply_source", "base_supply",
                        "base_supply_institutional")


def _supply_table(supply_paths: Mapping[str, pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    if isinstance(supply_paths, pd.DataFrame):
        if "service" not in supply_paths.columns:
            raise ValueError("a supply table needs a 'service' column; pass a dict otherwise")
        table = supply_paths
    else:
        table = pd.concat([path.assign(service=service) for service, path in
                           supply_paths.items()], ignore_index=True) if supply_paths else \
            pd.DataFrame(columns=["service", "year", "supply"])
    table = table.copy()
    for column in ("supply_institutional", "base_supply", "base_supply_institutional"):
        if column not in table.columns:
            table[column] = np.nan
    if "institutional_basis" not in table.columns:
        table["institutional_basis"] = "unknown"
    if "supply_source" not in table.columns:
        table["supply_source"] = np.where(table["supply"].isna(), SOURCE_UNKNOWN, SOURCE_STATED)
    return table.loc[:, list(SUPPLY_TABLE_COLUMNS)].astype(
        {"year": int, "supply": float, "supply_institutional": float, "base_supply": float,
         "base_supply_institutional": float})


def _plan_target_counts(targets: Iterable[Target], drivers: pd.DataFrame,
                        institutional_share: float | None = None) -> pd.DataFrame:
    """The largest target of each service and year, as a count, per driver key group."""
    consistency = target_consistency(targets, drivers, with_origin=True,
                                     institutional_share=institutional_share)
    keys = _driver_keys(drivers)
    if consistency.empty:
        return pd.DataFrame(columns=[*keys, "service", "year", "plan_target", "target_origin"])
    consistency = consistency.rename(columns={"origin": "target_origin"})
    largest = (consistency.sort_values("count", kind="stable", na_position="first")
               .groupby([*keys, "service", "year"], dropna=False).tail(1))
    return largest.loc[:, [*keys, "service", "year", "count", "target_origin"]].rename(
        columns={"count": "plan_target"}).reset_index(drop=True)


GAP_COLUMNS = ("year", "service", "method", "demand", "supply", "supply_scope",
               "supply_source", "gap", "gap_pct", "status", "demand_per_1000",
               "supply_per_1000", "per_1000_of", "coverage_under3", "demand_coverage_under3",
               "plan_target", "target_origin", "plan_target_gap", "plan_target_in_scope",
               "base_supply",
               "gap_status_quo", "gap_target_adequacy", "gap_delivery",
               "beyond_plan_horizon", "rests_on_assumptions")


def gaps(demand: pd.DataFrame, supply_paths: Mapping[str, pd.DataFrame] | pd.DataFrame,
         targets: Iterable[Target], drivers: pd.DataFrame, plan_horizon: int | None = None,
         institutional_share: float | None = None) -> pd.DataFrame:
    """Supply against demand for every service, method and year (and key group).

    ``demand`` is a table of :mod:`forecast.care.demand` (``driver`` rows are ignored);
    ``supply_paths`` maps service → :func:`supply_path` table (or one table with a ``service``
    column); services without one have unknown supply. Columns::

        [keys..., year, service, method, demand, supply, supply_scope, supply_source, gap,
         gap_pct, status, demand_per_1000, supply_per_1000, per_1000_of, coverage_under3,
         demand_coverage_under3, plan_target, target_origin, plan_target_gap,
         plan_target_in_scope, base_supply,
         gap_status_quo, gap_target_adequacy, gap_delivery, beyond_plan_horizon]

    Supply is compared like with like (``supply_scope``): the per-1,000 norm of elderly beds
    with the total (institutional + community beds, as the norm is defined), the
    ``needs``, ``expected_use`` and ``rule_9073`` methods, which estimate residents of
    institutions, with institutional beds (``institutional``, or ``institutional_estimated``
    where the document states no split and a share estimates it); nursing-type beds with
    institutional nursing-type beds (a share target is a share of institutional beds); 托位
    with their total. ``supply_source`` says where the supply comes from: ``plan_stated``
    (base and additions), ``target_assumed`` (the plan's own target taken as supply because
    it states no base: an assumption that the plan meets it) or ``unknown``.

    Three named gaps (negative = shortfall):

    - ``gap`` = planned supply − demand; ``gap_pct`` = gap ÷ demand × 100; ``status`` ``met``
      (gap ≥ 0) / ``short`` / ``unknown`` (supply NaN) / ``same_as_target`` (demand and supply
      are the same plan figure: the method's demand equals the target taken as supply in the
      target year, so the gap would be zero by construction; gap NaN, no verdict);
    - ``gap_status_quo`` = base supply held constant (``base_supply``, in the row's scope) −
      demand: what happens if nothing is added;
    - ``gap_target_adequacy`` = the plan's target in the row's scope (``plan_target_in_scope``:
      institutional rows take the bed target's institutional part, ``institutional_share`` of
      it) − demand; NaN where the demand is the target itself (zero by construction).
      ``plan_target`` is the target as the plan states it and ``plan_target_gap`` =
      ``plan_target`` − demand, unscoped and unmasked;
    - ``gap_delivery`` = planned supply − target in the years with a target; NaN where the
      supply is the target taken as supply.

    ``rests_on_assumptions`` lists the unsourced parameters (confidence A) the row's demand
    rests on, and the supply's assumption where a target is taken as supply; empty = none.
    ``beyond_plan_horizon`` is True for years after ``plan_horizon`` (the last year of the
    plan's targets and additions): supply there is the plan's last level held, not a plan.
    Rates are per 1,000 aged 60+ for beds and per 1,000 population for 托位 (``per_1000_of``);
    coverage = places ÷ persons aged 0–2 (托位 only). ``target_origin`` says whether the
    target is the plan's own (``plan``) or a national one the plan did not adopt
    (``national``).
    """
    share = default_institutional_share() if institutional_share is None else \
        institutional_share
    keys = [c for c in demand.columns if c not in DEMAND_KEY_COLUMNS]
    with_text = "assumptions" in demand.columns
    rows = demand.loc[demand["service"].astype(str) != "driver",
                      [*keys, "year", "service", "method", "value"]
                      + (["assumptions"] if with_text else [])]
    out = rows.rename(columns={"value": "demand"}).astype({"service": str, "method": str})
    out = out.merge(_supply_table(supply_paths), on=["service", "year"], how="left")
    out["supply_source"] = out["supply_source"].fillna(SOURCE_UNKNOWN)
    demand_text = (out["assumptions"].astype(str).replace("nan", "") if with_text
                   else pd.Series("", index=out.index))
    supply_text = np.where(out["supply_source"] == SOURCE_TARGET, TARGET_ASSUMED_TEXT, "")
    out["rests_on_assumptions"] = [("; ".join(p for p in parts if p)) for parts in
                                   zip(demand_text, supply_text, strict=True)]
    institutional = ((out["service"] == "elderly_beds")
                     & out["method"].isin(INSTITUTIONAL_METHODS)).to_numpy()
    nursing = (out["service"] == "nursing_beds").to_numpy()
    out["supply"] = np.where(institutional, out["supply_institutional"], out["supply"])
    out["base_supply"] = np.where(institutional, out["base_supply_institutional"],
                                  out["base_supply"])
    estimated = (out["institutional_basis"] == "estimated").to_numpy()
    scope = np.where(estimated, "institutional_estimated", "institutional")
    out["supply_scope"] = np.where(institutional | nursing, scope, "total")
    driver_keys = _driver_keys(drivers)
    if set(driver_keys) - set(keys):
        raise ValueError(f"drivers have keys {driver_keys} that the demand table lacks")
    out = out.merge(drivers[[*driver_keys, "year", "pop_total", "pop_0_2", "pop_60plus"]],
                    on=[*driver_keys, "year"], how="left")
    out["gap"] = out["supply"] - out["demand"]
    out["gap_pct"] = out["gap"] / out["demand"] * 100
    out["status"] = np.where(out["supply"].isna(), "unknown",
                             np.where(out["gap"] >= 0, "met", "short"))
    childcare = (out["service"] == "childcare_places").to_numpy()
    denominator = np.where(childcare, out["pop_total"], out["pop_60plus"]) / 1000
    out["demand_per_1000"] = out["demand"] / denominator
    out["supply_per_1000"] = out["supply"] / denominator
    out["per_1000_of"] = np.where(childcare, "population", "aged 60+")
    out["coverage_under3"] = np.where(childcare, out["supply"] / out["pop_0_2"], np.nan)
    out["demand_coverage_under3"] = np.where(childcare, out["demand"] / out["pop_0_2"], np.nan)
    plan = _plan_target_counts(targets, drivers, share)
    out = out.merge(plan, on=[*driver_keys, "service", "year"], how="left")
    out["plan_target_gap"] = out["plan_target"] - out["demand"]
    out["target_origin"] = out["target_origin"].where(out["plan_target"].notna())
    out["plan_target_in_scope"] = np.where(institutional, out["plan_target"] * share,
                                           out["plan_target"])
    out["gap_status_quo"] = out["base_supply"] - out["demand"]
    assumed = (out["supply_source"] == SOURCE_TARGET).to_numpy()
    out["gap_delivery"] = np.where(assumed, np.nan, out["supply"] - out["plan_target_in_scope"])
    same = _same_figure(out, [*keys, "service", "method"])
    adequacy = out["plan_target_in_scope"] - out["demand"]
    out["gap_target_adequacy"] = adequacy.mask(_same_target(out, [*keys, "service", "method"]))
    out.loc[same, ["gap", "gap_pct"]] = np.nan
    out.loc[same, "status"] = STATUS_SAME
    out["beyond_plan_horizon"] = (out["year"] > plan_horizon) if plan_horizon is not None \
        else pd.Series(pd.NA, index=out.index, dtype="boolean")
    columns = [*keys, *GAP_COLUMNS]
    return out.loc[:, columns].sort_values([*keys, "service", "method", "year"],
                                           kind="stable").reset_index(drop=True)


def _coincide(values: pd.Series, reference: pd.Series) -> pd.Series:
    """Where ``values`` equals ``reference`` up to rounding (a figure compared with itself)."""
    return pd.Series(np.isclose(values, reference, rtol=1e-9, atol=1e-6), index=values.index)


def _same_target(out: pd.DataFrame, group: list[str]) -> pd.Series:
    """Rows of a service and method whose demand equals the plan's target in a target year
    (the method's norm is the plan's own target): their target-adequacy gap is zero by
    construction in that year and masked in every year with a target."""
    target = out["plan_target_in_scope"]
    hit = _coincide(target, out["demand"]) & target.notna()
    return hit.groupby([out[c] for c in group], dropna=False).transform("any") & target.notna()


def _same_figure(out: pd.DataFrame, group: list[str]) -> pd.Series:
    """Rows of a service and method whose supply is the target taken as supply and whose
    demand equals it in a year: demand and supply are the same plan figure."""
    assumed = out["supply_source"] == SOURCE_TARGET
    hit = assumed & out["supply"].notna() & _coincide(out["supply"], out["demand"])
    return (hit.groupby([out[c] for c in group], dropna=False).transform("any")
            & assumed).to_numpy()


def first_shortfall(gaps_table: pd.DataFrame) -> pd.DataFrame:
    """First year supply falls short, per ``[keys..., service, method]``.

    Columns ``[keys..., service, method, first_shortfall_year, outcome,
    supply_unknown_until]``: ``outcome`` is ``short`` (the first year, among the years whose
    supply is known, that supply falls short), ``never`` (met in every year of the horizon) or
    ``unknown`` (supply unknown in some year and met in every year it is known: the year is
    then missing). ``supply_unknown_until`` is the last year before the first shortfall whose
    supply is unknown (a shortfall may have begun earlier), else missing.
    """
    keys = _leading_keys(gaps_table)
    group_cols = [*keys, "service", "method"]
    groups = gaps_table[group_cols].drop_duplicates().reset_index(drop=True)
    short = (gaps_table[gaps_table["status"] == "short"].groupby(group_cols, dropna=False)["year"]
             .min().rename("short_year"))
    unverified = gaps_table["status"].isin(["unknown", STATUS_SAME])
    unknown = (gaps_table[unverified]
               .groupby(group_cols, dropna=False)["year"].min().rename("unknown_year"))
    out = groups.merge(short.reset_index(), on=group_cols, how="left").merge(
        unknown.reset_index(), on=group_cols, how="left")
    unknown_rows = gaps_table[unverified].merge(
        short.reset_index(), on=group_cols, how="inner")
    unknown_before = (unknown_rows[unknown_rows["year"] < unknown_rows["short_year"]]
                      .groupby(group_cols, dropna=False)["year"].max()
                      .rename("supply_unknown_until"))
    out = out.merge(unknown_before.reset_index(), on=group_cols, how="left")
    out["outcome"] = np.where(out["short_year"].notna(), "short",
                              np.where(out["unknown_year"].notna(), "unknown", "never"))
    out["first_shortfall_year"] = out["short_year"].where(out["outcome"] == "short").astype(
        "Int64")
    out["supply_unknown_until"] = out["supply_unknown_until"].astype("Int64")
    return out.loc[:, [*group_cols, "first_shortfall_year", "outcome",
                       "supply_unknown_until"]]


def _leading_keys(gaps_table: pd.DataFrame) -> list[str]:
    """Key columns of a gaps table: those before ``year``."""
    columns = list(gaps_table.columns)
    return columns[:columns.index("year")]


def probability_met(gaps_by_trajectory: pd.DataFrame,
                    trajectory_column: str = "trajectory") -> pd.DataFrame:
    """Share of trajectories with supply ≥ demand, per ``[other keys..., service, method, year]``.

    Columns ``[keys..., service, method, year, probability_met, n_trajectories]``;
    ``probability_met`` is in [0, 1], NaN where supply is unknown in every trajectory
    (trajectories with unknown supply are left out of the share).
    """
    keys = [k for k in _leading_keys(gaps_by_trajectory) if k != trajectory_column]
    group_cols = [*keys, "service", "method", "year"]
    known = gaps_by_trajectory["supply"].notna()
    table = gaps_by_trajectory.loc[:, group_cols].copy()
    table["met"] = np.where(known, gaps_by_trajectory["supply"] >= gaps_by_trajectory["demand"],
                            np.nan)
    grouped = table.groupby(group_cols, dropna=False, sort=True)["met"]
    out = pd.DataFrame({"probability_met": grouped.mean(), "n_trajectories": grouped.size()})
    return out.reset_index()


PERIOD_YEARS = 5
ADDITIONS_COLUMNS = ("service", "method", "supply_scope", "supply_source", "period",
                     "period_start", "period_end", "demand_end", "peak_demand_end",
                     "base_supply", "supply_end", "additions_needed", "additions_planned",
                     "additions_beyond_plan", "demand_growth", "beyond_plan_horizon")


def five_year_periods(base_year: int, end_year: int,
                      length: int = PERIOD_YEARS) -> list[tuple[int, int]]:
    """Plan periods after the base year: ``[(2021, 2025), (2026, 2030), (2031, 2035)]`` for
    2020–2035; the last one ends at ``end_year`` (shorter if the horizon cuts it)."""
    starts = range(base_year + 1, end_year + 1, length)
    return [(start, min(start + length - 1, end_year)) for start in starts]


def additions_needed(gaps_table: pd.DataFrame) -> pd.DataFrame:
    """Beds or places to add in each five-year period, per ``[keys..., service, method]``
    (``additions_needed.csv``). Columns::

        [keys..., service, method, supply_scope, supply_source, period, period_start,
         period_end, demand_end, peak_demand_end, base_supply, supply_end, additions_needed,
         additions_planned, additions_beyond_plan, demand_growth, beyond_plan_horizon]

    With ``D*(t)`` the highest demand up to year t (a bed built stays built), ``B`` the base
    supply and ``S(t)`` the planned supply (all in the row's ``supply_scope``):

    - ``additions_needed`` = max(B, D*(end)) − max(B, D*(end of the previous period)), the
      previous period of the first being the base year with the stock B: what must be added
      in the period, from the base stock, to meet demand through its end (NaN if B unknown);
    - ``additions_planned`` = S(end) − S(previous end) (the plan's own additions; where
      ``supply_source`` is ``target_assumed`` these are the target taken as supply);
    - ``additions_beyond_plan`` = X(end) − X(previous end), X(t) = max(0, max over s ≤ t of
      D(s) − S(s)): what must be added on top of the plan;
    - ``demand_growth`` = D*(end) − D*(previous end) (D(base year) before the first): known
      even where supply is not;
    - ``beyond_plan_horizon``: the period has years after the plan's horizon (its supply is
      the plan's last level held).
    """
    keys = _leading_keys(gaps_table)
    group_cols = [*keys, "service", "method"]
    frames = []
    for group, rows in gaps_table.groupby(group_cols, sort=False, dropna=False):
        rows = rows.sort_values("year")
        years = rows["year"].to_numpy(dtype=int)
        demand = rows["demand"].to_numpy(dtype=float)
        supply = rows["supply"].to_numpy(dtype=float)
        base = float(rows["base_supply"].dropna().iloc[0]) if rows["base_supply"].notna().any() \
            else np.nan
        peak = np.maximum.accumulate(demand)
        stock = np.fmax(peak, base) if np.isfinite(base) else np.full(len(years), np.nan)
        # years of unknown supply (before a target taken as supply) add nothing to X
        shortfall = np.fmax.accumulate(np.maximum(demand - supply, 0.0))
        beyond = rows["beyond_plan_horizon"].astype("boolean").to_numpy()
        for start, end in five_year_periods(int(years[0]), int(years[-1])):
            at_end = int(np.searchsorted(years, end))
            before = int(np.searchsorted(years, start)) - 1
            first = before == 0  # the period after the base year: start from the base stock
            in_period = (years >= start) & (years <= end)
            flags = beyond[in_period]
            frames.append({
                **dict(zip(group_cols, group if isinstance(group, tuple) else (group,),
                           strict=True)),
                "supply_scope": rows["supply_scope"].iloc[at_end],
                "supply_source": rows["supply_source"].iloc[at_end],
                "period": f"{start}–{end}", "period_start": start, "period_end": end,
                "demand_end": demand[at_end], "peak_demand_end": peak[at_end],
                "base_supply": base, "supply_end": supply[at_end],
                "additions_needed": stock[at_end] - (base if first else stock[before]),
                "additions_planned": supply[at_end] - supply[before],
                "additions_beyond_plan": shortfall[at_end] - (
                    0.0 if first or np.isnan(shortfall[before]) else shortfall[before]),
                "demand_growth": peak[at_end] - peak[before],
                "beyond_plan_horizon": (pd.NA if pd.isna(flags).all()
                                        else bool(np.nan_to_num(flags.astype(float)).any())),
            })
    columns = [*keys, *ADDITIONS_COLUMNS]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(frames)
    out["beyond_plan_horizon"] = out["beyond_plan_horizon"].astype("boolean")
    return out.loc[:, columns]
