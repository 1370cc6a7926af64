"""The county-level units inside a prefecture or province, projected consistently with it.

A prefecture's or province's ``forecast run`` also projects each of its county-level units
(县, 县级市, 区, 旗 …; Honghe's 13) with the same machinery as ``forecast batch``
(:func:`forecast.pipeline.batch.unit_projections`): default inputs controlled top down to the
jurisdiction (:func:`forecast.defaults.consistency.defaults_for`), so the counties' populations add
up
to the jurisdiction's baseline, demand by the run's own baseline parameters (the plan's norms
where it states them), so their demand adds up to the jurisdiction's too.

Plans state their supply for the whole jurisdiction only, so supply by county is unknown and a
county's gap is against a target: the plan's own rate targets (per 1,000 aged 60+, per 1,000
population, nursing-type share, coverage of under-3s), which apply to every part of the
jurisdiction, else the national targets (:data:`forecast.pipeline.batch.NATIONAL_TARGETS`); a plan's
count target (Banan's 12,000 beds) cannot be split among counties and is replaced by the
national rate. ``{service}_target_origin`` says which (``plan`` / ``national``). Every target
holds from its year to the end of the projection (an assumption, as in ``forecast batch``).

``counties.csv`` (one row per unit and year)::

    unit_id, name, year, <the indicators of summary.csv>, <drivers>,
    {service}_{method} (demand), {service}_target, {service}_target_origin,
    {service}_{method}_gap (= target − demand; negative: the target would not cover it)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.defaults.census import Unit
from forecast.vocabulary import SERVICES

COUNTY_PARENT_LEVELS = ("prefecture", "province")
RATE_KINDS = ("per_1000_elderly", "per_1000_population", "share_nursing", "coverage_under3")
DEMAND_COLUMNS = ("elderly_beds_norm", "elderly_beds_needs", "elderly_beds_rule_9073",
                  "nursing_beds_norm", "nursing_beds_needs", "nursing_beds_rule_9073",
                  "elderly_beds_expected_use", "nursing_beds_expected_use",
                  "childcare_places_norm", "childcare_places_needs")
TARGET_COLUMNS = tuple(f"{service}_target" for service in SERVICES)
ORIGIN_COLUMNS = tuple(f"{service}_target_origin" for service in SERVICES)
GAP_COLUMNS = tuple(f"{column}_gap" for column in DEMAND_COLUMNS)
#: Drivers of demand carried per county (persons): forecast.care.demand's driver rows.
DRIVER_COLUMNS = ("severe_disabled", "moderate_disabled", "residents_needing_care",
                  "residents_expected", "children_wanting_care")
TARGET_HELD = ("a target is held at its rate in every year after the year it is set for, in "
               "every county of the jurisdiction (assumption)")
COUNT_NOT_SPLIT = ("a count target of the plan cannot be shared out among its counties: the "
                   "national rate target is used for them instead")
SUPPLY_UNKNOWN = ("the plan states its supply for the whole jurisdiction only: supply by county "
                  "is unknown, each county's gap is target − demand")
#: The largest relative difference allowed between the counties' sum and the jurisdiction
#: (population, 60+, 0-2, births, deaths, demand) in any year.
SUM_TOLERANCE = 0.005


def county_units(unit: Unit) -> tuple[Unit, ...]:
    """The county-level units with an age table inside ``unit`` (a prefecture or province);
    empty for any other unit."""
    from forecast.pipeline.batch import select_units

    if unit.level not in COUNTY_PARENT_LEVELS:
        return ()
    return select_units(unit.unit_id, "county").units


def county_targets(plan_targets: Sequence, base_year: int, end_year: int) -> list:
    """The targets every county is held to: the plan's rate targets (its own or the national
    ones it names), each held from its year to ``end_year``; for a service with none, the
    national target of :func:`forecast.pipeline.batch.national_targets`."""
    from forecast.care.supply import Target
    from forecast.pipeline.batch import national_targets

    rates = [t for t in plan_targets if t.kind in RATE_KINDS]
    out = []
    for target in rates:
        source = f"{target.source}; {TARGET_HELD}"
        for year in range(max(target.year, base_year), end_year + 1):
            out.append(Target(service=target.service, year=year, kind=target.kind,
                              value=target.value, source=source, origin=target.origin))
    covered = {t.service for t in rates}
    counts = {t.service for t in plan_targets if t.kind == "count"}
    for target in national_targets(base_year, end_year):
        if target.service not in covered:
            source = target.source + (f"; {COUNT_NOT_SPLIT}" if target.service in counts
                                      else "")
            out.append(Target(service=target.service, year=target.year, kind=target.kind,
                              value=target.value, source=source, origin=target.origin))
    return out


def _wide(gap_table: pd.DataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    """Demand, target, target origin and gap of every service and method, and the demand
    drivers, as columns per ``unit_id`` and ``year``."""
    table = gap_table.assign(column=gap_table["service"] + "_" + gap_table["method"])
    index = ["unit_id", "year"]
    demand_wide = table.pivot(index=index, columns="column", values="demand")
    gap = table.pivot(index=index, columns="column", values="plan_target_gap")
    gap.columns = [f"{c}_gap" for c in gap.columns]
    first = table.groupby([*index, "service"])[["plan_target", "target_origin"]].first()
    target = first["plan_target"].unstack("service")
    target.columns = [f"{c}_target" for c in target.columns]
    origin = first["target_origin"].unstack("service")
    origin.columns = [f"{c}_target_origin" for c in origin.columns]
    drivers = demand[(demand["service"].astype(str) == "driver")
                     & demand["method"].astype(str).isin(DRIVER_COLUMNS)]
    drivers = drivers.assign(method=drivers["method"].astype(str)).pivot_table(
        index=index, columns="method", values="value", aggfunc="first")
    out = pd.concat([drivers.reindex(columns=list(DRIVER_COLUMNS)),
                     demand_wide.reindex(columns=list(DEMAND_COLUMNS)),
                     target.reindex(columns=list(TARGET_COLUMNS)),
                     origin.reindex(columns=list(ORIGIN_COLUMNS)),
                     gap.reindex(columns=list(GAP_COLUMNS))], axis=1)
    return out.reset_index()


def county_table(units: Sequence[Unit], plan_targets: Sequence, base_year: int, end_year: int,
                 elderly=None, childcare=None) -> pd.DataFrame:
    """``counties.csv``: every unit of ``units`` in every year (see the module docstring)."""
    from forecast.pipeline.batch import BatchSettings, unit_projections

    settings = BatchSettings(base_year=base_year, end_year=end_year)
    targets = county_targets(plan_targets, base_year, end_year)
    summary, demand, gap_table, _ = unit_projections(units, settings, targets, elderly,
                                                     childcare)
    demand = demand.assign(service=demand["service"].astype(str))
    rows = summary.merge(_wide(gap_table, demand), on=["unit_id", "year"], how="left")
    names = pd.DataFrame({"unit_id": [u.unit_id for u in units],
                          "name": [u.name for u in units]})
    rows = names.merge(rows, on="unit_id", how="right")
    first = ["unit_id", "name", "year"]
    return rows[first + [c for c in rows.columns if c not in first]]


def sum_check(counties: pd.DataFrame, summary: pd.DataFrame, demand: pd.DataFrame
              ) -> dict[str, float]:
    """The largest relative difference, over the years, between the counties' sum and the
    jurisdiction's baseline for each of population, 60+, 0-2, 80+, births, deaths and each
    demand method."""
    sums = counties.groupby("year").sum(numeric_only=True)
    whole = summary.set_index("year")
    out = {}
    for column in ("total", "pop_60plus", "pop_0_2", "pop_80plus", "births", "deaths"):
        ratio = (sums[column] / whole[column]).dropna()  # births, deaths: none in the base year
        out[column] = float(np.max(np.abs(ratio - 1)))
    rows = demand[demand["service"].astype(str) != "driver"]
    for (service, method), group in rows.groupby([rows["service"].astype(str),
                                                  rows["method"].astype(str)]):
        column = f"{service}_{method}"
        if column not in sums.columns:
            continue
        values = group.set_index("year")["value"]
        out[column] = float(np.max(np.abs(sums[column].reindex(values.index) / values - 1)))
    return {k: round(v, 8) for k, v in out.items()}


# ----------------------------------------------------------------------------- display


def target_rate(counties: pd.DataFrame, service: str, year: int) -> float | None:
    """The target of ``service`` in ``year`` as the rate a chart's line shows (per 1,000 of the
    service's population), the same in every county; None when there is none."""
    rows = counties[counties.year == year]
    if rows.empty or rows[f"{service}_target"].isna().all():
        return None
    base = rows["pop_60plus"] if service != "childcare_places" else rows["total"]
    return float(round((rows[f"{service}_target"] / base * 1000).median(), 2))


def chart_jobs(counties: pd.DataFrame, lang: str = "zh") -> list:
    """Ranked charts of the end year: share aged 60+ and 托位 demand (needs) per 1,000 with
    the target line. ``(stem, draw)`` pairs for
    :class:`forecast.presentation.outputs.ChartDrawing`."""
    from forecast.presentation.batch_outputs import ranked_bars
    from forecast.presentation.labels import COUNTY_TEXT, target_label

    t = COUNTY_TEXT[lang]
    end = int(counties.year.max())
    last = counties[counties.year == end]
    names = last["name"].astype(str).to_numpy()
    share = pd.Series(last["share_60plus"].to_numpy(float) * 100, index=names)
    places = pd.Series((last["childcare_places_needs"] / last["total"] * 1000).to_numpy(float),
                       index=names)
    rate = target_rate(counties, "childcare_places", end)
    origins = last.get("childcare_places_target_origin", pd.Series(dtype=object)).dropna()
    # 全国目标 for the national 4.5 (Honghe), 规划目标 for the plan's own rate: one label per
    # concept, as the demand charts and the report say it
    # (forecast.presentation.labels.target_label)
    target = target_label(str(origins.mode().iloc[0]) if len(origins) else "plan", lang)
    return [
        ("counties_share_60plus", lambda: ranked_bars(
            share, title=t["chart_share"].format(year=end), axis_label=t["chart_share_axis"],
            lang=lang, source=t["source"])),
        ("counties_childcare_per_1000", lambda: ranked_bars(
            places, title=t["chart_places"].format(year=end), axis_label=t["chart_places_axis"],
            lang=lang, source=t["source"], reference=rate,
            reference_label=None if rate is None else t["target_line"].format(
                target=target, value=rate))),
    ]
