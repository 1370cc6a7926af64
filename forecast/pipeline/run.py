"""`forecast run`: config -> assumptions -> projection -> demand -> gaps -> outputs.

Orchestration only: every number is made in the modules it calls. The result of a run is a set
of tidy tables (:class:`RunResult`) that :mod:`forecast.presentation.outputs` writes atomically.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast import __version__
from forecast.care.demand import (
    ChildcareParameters,
    ElderlyCareParameters,
    care_demand,
    load_care_parameters,
)
from forecast.care.supply import (
    SOURCE_TARGET,
    SOURCE_UNKNOWN,
    Addition,
    SupplyPlan,
    Target,
    additions_needed,
    first_shortfall,
    gaps,
    supply_path,
    target_consistency,
    with_estimated_institutional,
)
from forecast.config import Config
from forecast.defaults import assumptions as assumptions_module
from forecast.defaults import fertility, migration, mortality
from forecast.defaults.census import Unit, resolve_unit
from forecast.defaults.consistency import defaults_for
from forecast.demography.engine import balance_residual, project
from forecast.demography.frames import population_frame
from forecast.demography.indicators import summary_indicators
from forecast.errors import ConfigError, UnitError
from forecast.pipeline.scenarios import ScenarioInputs
from forecast.pipeline.spec import RunSpec, ScenarioSpec, build_run_spec, citation_text
from forecast.pipeline.spec import demand_parameters as spec_demand_parameters
from forecast.vocabulary import NATIONAL, PLAN

SUMMARY_COLUMNS = ["scenario", "year", "total", "births", "deaths", "net_migrants", "pop_0_2",
                   "pop_3_5", "pop_0_14", "pop_15_64", "pop_60plus", "pop_65plus", "pop_80plus",
                   "share_60plus", "child_dependency", "old_dependency", "total_dependency"]

SUMMARY_FOR_INDICATOR = {"pop_total": "total", "pop_under3": "pop_0_2"}

#: Modelling choices of the default inputs that no source fixes (forecast.defaults.assumptions).
MODELLING_CHOICES = [
    ("migration", "children born during 2010-2020 migrate at a share of the rate of adults "
     "aged 25-39 of the same sex", f"share {migration.CHILD_MIGRATION_FACTOR}"),
    ("migration", "a 2020 unit holding part of a 2010 unit split after 2010 (persons of the "
     "part unknown) gets that part's 2010 population by its share of the split unit's 2020 "
     "persons in each age group and sex", "forecast.defaults.crosswalk"),
    ("migration", "a decade residual loss larger than this share of the expected population "
     "is flagged; in a county of a prefecture with development zones that have no 2010 area "
     "it is taken for area passed to them (zero migration)",
     f"{migration.LARGE_LOSS:.0%}"),
    ("migration", "a decade residual loss larger than this share is taken for a tabulation or "
     "boundary artefact (zero migration)", f"{migration.IMPLAUSIBLE_LOSS:.0%}"),
    ("migration", "annual net migration rates limited to this size, by age and sex",
     f"±{migration.MAX_MIGRATION_RATE:.0%} a year"),
    ("srb", "the local age-0 sex ratio is used only where at least this many children aged 0 "
     "were counted", f"{assumptions_module.MIN_AGE0_FOR_LOCAL_SRB:,} persons"),
    ("mortality", "local/national mortality level factors clipped to this range",
     f"{mortality.K_LIMITS}"),
    ("fertility", "census TFR estimates outside this range are flagged",
     f"{fertility.TFR_PLAUSIBLE}"),
]


@dataclass
class RunResult:
    """Everything a run produced, as tidy tables (one ``scenario`` column throughout)."""

    config: Config
    unit: Unit
    scenarios: list[str]
    population: pd.DataFrame
    summary: pd.DataFrame
    demand: pd.DataFrame
    gaps: pd.DataFrame
    supply: pd.DataFrame
    first_shortfall: pd.DataFrame
    targets: pd.DataFrame
    expectations: pd.DataFrame
    assumptions: pd.DataFrame
    manifest: dict
    inputs: dict[str, ScenarioInputs] = field(default_factory=dict)
    run_seconds: float = 0.0
    # forecast.pipeline.uncertainty.UncertaintyResult (--trajectories)
    uncertainty: object | None = None
    spec: RunSpec | None = None  # what the run ran on (forecast.pipeline.spec)
    # forecast.pipeline.counties.county_table (prefecture/province)
    counties: pd.DataFrame | None = None
    planning: pd.DataFrame | None = None  # forecast.care.planning.planning_table (baseline)
    additions_needed: pd.DataFrame | None = None  # forecast.care.supply.additions_needed
    # forecast.pipeline.uncertainty.sensitivity_table (main)
    sensitivity: pd.DataFrame | None = None


def supply_plans(sections: Mapping, document: str | None, base_year: int,
                 base_drivers: Mapping[str, float]) -> tuple[dict[str, SupplyPlan],
                                                            list[Target], list[dict]]:
    """Config supply sections (``{service: section}``) -> supply plans, targets and notes
    (base counts derived from the base-year drivers where a document states a rate)."""
    plans: dict[str, SupplyPlan] = {}
    targets: list[Target] = []
    notes: list[dict] = []
    beds_base = None
    share = institutional_share_of_beds()
    for service, section in sections.items():
        base_institutional = None
        if service == "elderly_beds":
            base = section.base_count(float(base_drivers["pop_60plus"]))
            scopes = section.base_by_scope(float(base_drivers["pop_60plus"]))
            base_institutional = scopes["institutional"]
            # a nursing-type share is a share of institutional beds (E2)
            beds_base = (base_institutional if base_institutional is not None
                         else None if base is None else base * share)
            notes.append({"service": service, "note": _scope_note(section, scopes, share)})
        elif service == "nursing_beds":
            base = section.base_count(beds_base)
        else:
            base = section.base_count(float(base_drivers["pop_total"]))
        if section.base_components:
            base_source = (f"{section.base_reading} reading: " if service == "elderly_beds"
                           else "") + "; ".join(f"{part.label}: {part.amount:,.0f} ("
                                                f"{citation_text(part.source, document)})"
                                                for part in section.base_components)
        elif section.base_source is not None:
            base_source = citation_text(section.base_source, document)
        else:
            base_source = section.note or "not stated"
        rate_fields = [f for f in section.rate_fields if getattr(section, f) is not None]
        if rate_fields and base is not None:
            notes.append({"service": service, "note": f"base supply stated as {rate_fields[0]} "
                          f"= {getattr(section, rate_fields[0])}; count {base:,.0f} derived from "
                          "the census base population"})
        if base is None:
            notes.append({"service": service, "note": "base supply unknown: "
                          + (section.note or "the document states none")})
        additions = [Addition(start_year=a.start_year, end_year=a.end_year, amount=a.amount,
                              source=citation_text(a.source, document),
                              scope=(a.scope or getattr(section, "scope", "total")))
                     for a in section.additions]
        service_targets = [Target(service=service, year=t.year, kind=t.kind, value=t.value,
                                  source=citation_text(t.source, document),
                                  origin=NATIONAL if t.origin == "national" else PLAN)
                           for t in section.targets]
        targets += service_targets
        plans[service] = SupplyPlan(service=service,
                                    base_year=section.base_year or base_year,
                                    base_supply=base, base_source=base_source,
                                    additions=additions, targets=service_targets,
                                    base_institutional=base_institutional,
                                    institutional_share=(share if service == "elderly_beds"
                                                         else None))
    return plans, targets, notes


def institutional_share_of_beds() -> float:
    """Institutional ÷ all elderly-care beds, national (care parameter E12)."""
    params = load_care_parameters()
    return float(params.set_index("key").loc["institutional_share_of_beds", "value"])


def _scope_note(section, scopes: dict, share: float) -> str:
    """How the base beds split into institutional and community beds, for the assumptions."""
    total, institutional = scopes["total"], scopes["institutional"]
    if total is None:
        return ("base beds not stated; institutional beds estimated from a target taken as "
                "supply, if any")
    if institutional is None:
        return (f"all beds {total:,.0f}; institutional beds not stated, estimated as the "
                f"national share {share:.1%} of all beds (2022 bulletin, E12)")
    reading = ""
    if section.base_components:
        reading = ("base read as nested (the first figure is the total, the others lie inside "
                   "it); " if section.base_reading == "nested"
                   else "base read as additive (the figures are added); ")
    return (f"{reading}all beds {total:,.0f} (compared with the per-1,000 norm); institutional "
            f"beds {institutional:,.0f} (compared with the needs, expected-use and 9073 "
            f"methods); community beds {scopes['community']:,.0f}")


HORIZON_NOTE = ("supply after the plan's horizon ({year}) is the plan's last level held, not "
                "planned (gaps.csv beyond_plan_horizon); assumption")
TARGET_SUPPLY_BASIS = ("the plan's own target, held from its year on (no base supply stated: "
                       "assumes the plan meets its target; assumption)")


def planned_supply(plans: dict[str, SupplyPlan], targets: list[Target], drivers: pd.DataFrame,
                   years: np.ndarray) -> dict[str, pd.DataFrame]:
    """Supply by year for each service.

    Where the document states a base supply: base + additions (:func:`supply_path`). Where it
    does not but states its own target (a count, or a rate turned into a count with the
    projected population of the target year): the target from its year on, held at the last
    target's count afterwards, unknown before (``supply_source`` ``target_assumed``). Nursing
    beds with only a share target get that share of the planned institutional elderly beds
    from the target year (a nursing-type share is a share of institutional beds, E2). National
    targets a document did not adopt do not count as supply.
    """
    paths = {service: supply_path(plan, years) for service, plan in plans.items()}
    own = [t for t in targets if t.origin != NATIONAL]
    counts = target_consistency(own, drivers) if own else pd.DataFrame()
    for service in ("elderly_beds", "childcare_places", "nursing_beds"):
        path = paths.get(service)
        if path is None or path["supply"].notna().any() or counts.empty:
            continue
        rows = counts[counts.service == service].dropna(subset=["count"])
        bed_path = (paths["elderly_beds"].set_index("year") if "elderly_beds" in paths
                    else pd.DataFrame(columns=["supply_institutional", "institutional_basis"]))
        beds = bed_path["supply_institutional"].astype(float)
        shares = [t for t in own if t.service == service and t.kind == "share_nursing"]
        if shares and beds.notna().any():
            # the nursing-type share of the beds the plan provides, not of its bed target
            rows = pd.DataFrame([{"year": t.year, "count": t.value * beds.get(t.year, np.nan)}
                                 for t in shares]).dropna()
        if rows.empty:
            continue
        by_year = rows.groupby("year")["count"].max().sort_index()
        supply = np.full(len(years), np.nan)
        for year, count in by_year.items():
            supply[years >= year] = count
        assumed = path.assign(supply=supply, supply_basis=TARGET_SUPPLY_BASIS,
                              supply_source=np.where(np.isnan(supply), SOURCE_UNKNOWN,
                                                     SOURCE_TARGET))
        if service == "nursing_beds" and shares and beds.notna().any():
            basis = bed_path["institutional_basis"].reindex(years).fillna("unknown").to_numpy()
            paths[service] = assumed.assign(supply_institutional=supply,
                                            institutional_basis=basis)
        else:
            paths[service] = with_estimated_institutional(assumed,
                                                          plans[service].institutional_share)
    return paths


def plan_horizon(plans: dict[str, SupplyPlan]) -> int | None:
    """The last year of a plan's own targets and additions (None: it states neither): supply
    after it is the plan's last level held, not planned."""
    years = [t.year for plan in plans.values() for t in plan.targets if t.origin != NATIONAL]
    years += [a.end_year for plan in plans.values() for a in plan.additions]
    return max(years) if years else None


def demand_parameters(config: Config) -> tuple[ElderlyCareParameters, ChildcareParameters,
                                               list[dict]]:
    """Demand parameters of one (scenario) config and the notes of the values set beyond the
    shipped defaults (:func:`forecast.pipeline.spec.demand_parameters`)."""
    elderly, childcare, settings = spec_demand_parameters(config)
    return elderly, childcare, [setting.note() for setting in settings]


def summary_table(name: str, inputs: ScenarioInputs, projection) -> pd.DataFrame:
    """Population indicators by year for one scenario (persons; ratios per 100)."""
    return pd.DataFrame({"scenario": name, "year": inputs.years,
                         **summary_indicators(projection)})[SUMMARY_COLUMNS]


def expectations_table(spec: RunSpec, summary: pd.DataFrame) -> pd.DataFrame:
    """The document's own population statements beside the baseline projection."""
    base = summary[summary.scenario == "baseline"].set_index("year")
    rows = []
    for item in spec.expectations:
        if item.indicator == "births_cumulative":
            first = item.start_year or spec.base_year + 1
            projected = float(base.loc[first:item.year, "births"].sum())
            label = f"births {first}–{item.year}"
        else:
            column = SUMMARY_FOR_INDICATOR.get(item.indicator, item.indicator)
            projected = float(base.loc[item.year, column])
            label = item.indicator
        rows.append({"year": item.year, "indicator": label, "document_value": item.value,
                     "relation": item.relation, "projected_baseline": projected,
                     "difference": projected - item.value,
                     "difference_pct": (projected - item.value) / item.value * 100,
                     "source": item.source, "note": item.note})
    return pd.DataFrame(rows, columns=["year", "indicator", "document_value", "relation",
                                       "projected_baseline", "difference", "difference_pct",
                                       "source", "note"])


def _detail_items(record: dict) -> list[tuple[str, object]]:
    """A provenance record's figures as (key, value) pairs for the ``detail`` column: its
    method, source and migration path have columns or rows of their own; a nested record (a
    unit's birth level) is spread into its own pairs, a key already given once is not
    repeated."""
    items: dict[str, object] = {}
    for key, value in record.items():
        if key in ("source", "method") or key.startswith("path"):
            continue
        pairs = value.items() if isinstance(value, dict) else [(key, value)]
        for inner_key, inner_value in pairs:
            items.setdefault(inner_key, inner_value)
    return list(items.items())


def _assumption_rows(provenance: dict, demand_notes: list[dict], supply_notes: list[dict],
                     scenario_notes: dict[str, list[dict]]) -> pd.DataFrame:
    """Every assumption with its provenance and whether it has a source."""
    rows = []
    components = ("base_population", "mortality", "fertility", "srb", "migration",
                  "consistency")
    for component in [c for c in components if c in provenance]:
        record = provenance[component]
        detail = "; ".join(f"{k}: {v}" for k, v in _detail_items(record))
        rows.append({"scenario": "all", "component": component,
                     "assumption": record.get("method", ""), "detail": detail,
                     "source": record.get("source", ""), "confidence": "",
                     "sourced": bool(record.get("source"))})
        if record.get("path_method"):
            rows.append(_migration_path_row(record))
    params = load_care_parameters()
    for row in params.itertuples():
        rows.append({"scenario": "all", "component": "demand parameter", "assumption": row.key,
                     "detail": f"{row.value} {row.unit} (range {row.low}–{row.high})",
                     "source": row.source, "confidence": row.confidence,
                     "sourced": row.confidence != "A"})
    for note in demand_notes:
        rows.append({"scenario": "all", "component": "demand parameter override",
                     "assumption": note["parameter"], "detail": str(note["value"]),
                     "source": note["source"], "confidence": "", "sourced": True})
    for note in supply_notes:
        unsourced = note.get("confidence") == "A"
        component = "supply" if note["service"] == "all" else f"supply {note['service']}"
        rows.append({"scenario": "all", "component": component,
                     "assumption": note["note"], "detail": "",
                     "source": "" if unsourced else "config",
                     "confidence": note.get("confidence", ""), "sourced": not unsourced})
    rows.append({"scenario": "all", "component": "supply", "assumption":
                 "planned additions spread evenly over their years", "detail": "",
                 "source": "", "confidence": "A", "sourced": False})
    for component, assumption, detail in MODELLING_CHOICES:
        rows.append({"scenario": "all", "component": component, "assumption": assumption,
                     "detail": detail, "source": "", "confidence": "A", "sourced": False})
    for name, notes in scenario_notes.items():
        for note in notes:
            rows.append({"scenario": name, "component": note["component"],
                         "assumption": note["change"], "detail": "",
                         "source": note.get("source", ""), "confidence": "",
                         "sourced": note["kind"] in ("user input", "trend forecast")})
    frame = pd.DataFrame(rows)
    frame["label"] = np.where(frame["sourced"], "sourced", "assumption (no source)")
    return frame


def _migration_path_row(record: dict) -> dict:
    """The assumptions-table row of the default migration path: WPP's pace is sourced, its
    use for internal migration is an assumption (confidence A)."""
    factors = {int(y): f for y, f in record.get("path_factor", {}).items()}
    shown = [y for y in (2025, 2030, 2035, 2040, 2050) if y - 1 in factors]
    detail = "; ".join(f"{y}: × {factors[y - 1]:.2f}" for y in shown)
    return {"scenario": "all", "component": "migration", "assumption": record["path_method"],
            "detail": detail, "source": record.get("path_source", ""), "confidence": "A",
            "sourced": False}


def resolve_config_unit(config: Config) -> Unit:
    """The census unit a config names (its census_unit override, else its code). An unknown or
    ambiguous unit, or a code whose census name is not the config's ``name`` (code 532500 with
    name 巴南区), is a ConfigError naming the file, line and key."""
    from forecast.defaults.census import find_units

    census_unit = config.jurisdiction.census_unit
    key = "census_unit" if census_unit else "code"
    try:
        unit = resolve_unit(census_unit or config.jurisdiction.code)
    except UnitError as exc:
        raise ConfigError(f"{config.where('jurisdiction', key)}: {exc}") from None
    if census_unit is None:
        name = config.jurisdiction.name
        named = find_units(name)
        if unit.unit_id not in set(named["unit_id"]):
            codes = ", ".join(f"{r.code or r.unit_id} {r.name}"
                              for r in named.head(3).itertuples(index=False))
            hint = f" ('{name}' is {codes})" if codes else ""
            raise ConfigError(f"{config.where('jurisdiction', 'name')}: '{name}' is not the "
                              f"census unit of code {unit.code} ({unit.name}){hint}",
                              fix="correct the code or the name (see `forecast units NAME`)")
    return unit


def run(config: Config, scenario_names: list[str] | None = None,
        defaults: assumptions_module.Defaults | None = None,
        counties: bool = True) -> RunResult:
    """Run every (or the named) scenario of ``config``; returns the tables.

    The config is read once, into a :class:`forecast.pipeline.spec.RunSpec`; the stages read only
    it.
    ``defaults`` are the unit's default inputs (:func:`forecast.defaults.consistency.defaults_for`
    of
    the config's unit, years and consistency setting), for a caller that runs the same config
    many times (forecast explore); None builds them. ``counties``: a prefecture's or
    province's baseline run also projects its county-level units
    (:mod:`forecast.pipeline.counties`)."""
    started = time.perf_counter()
    names = scenario_names or config.scenario_names()
    unknown = [n for n in names if n not in config.scenarios]
    if unknown:
        raise ConfigError(f"unknown scenario '{unknown[0]}'", path=config._source_path,
                          field="--scenario",
                          fix=f"choose from {', '.join(config.scenario_names())}")
    unit = resolve_config_unit(config)
    if defaults is None:
        defaults = defaults_for([unit], config.projection.base_year, config.projection.end_year,
                                config.projection.consistent)
    spec = build_run_spec(config, names, unit, defaults)
    result = run_spec(spec, started, counties=counties and config.projection.consistent)
    result.config = config
    if "baseline" in names:
        _add_planning(config, spec, result)
    return result


def _add_planning(config: Config, spec, result: RunResult) -> None:
    """The baseline's groups, workforce, money and land (forecast.care.planning): the table, its
    manifest record and the config's workforce ratios as parameter overrides."""
    from forecast.care.planning import PlanRate, PlanRates, WorkforceParameters, planning_table

    workforce_config = config.demand.workforce
    overrides = {name: getattr(workforce_config, name)
                 for name in type(workforce_config).model_fields
                 if getattr(workforce_config, name) is not None}
    document = config.source_document.file if config.source_document else None
    rates = PlanRates(**{name: PlanRate(rate.value, citation_text(rate.source, document))
                         for name in type(config.planning).model_fields
                         if (rate := getattr(config.planning, name)) is not None})
    baseline = spec.scenario("baseline")

    def base(table: pd.DataFrame) -> pd.DataFrame:
        return table[table.scenario == "baseline"].drop(columns="scenario")

    result.planning = planning_table(base(result.population), base(result.demand),
                                     base(result.gaps), baseline.elderly, baseline.childcare,
                                     WorkforceParameters(**overrides), rates)
    result.manifest["planning"] = {
        "file": "planning.csv", "plan_rates": rates.given(),
        "workforce_overrides": overrides,
        "method": "forecast.care.planning: groups, workforce (护理员, 保育人员), money and land of "
                  "the baseline at the plan's own rates"}
    if overrides:
        rows = pd.DataFrame([{"scenario": "all", "component": "demand parameter override",
                              "assumption": f"workforce {name}", "detail": str(value),
                              "source": "config", "confidence": "", "sourced": True,
                              "label": "sourced"} for name, value in overrides.items()])
        result.assumptions = pd.concat([result.assumptions, rows], ignore_index=True)


def run_scenario(spec: RunSpec, scenario: ScenarioSpec) -> dict:
    """One scenario's projection, summary, demand, supply and gaps (tables; ``scenario``
    column first), with its supply plans' targets and notes."""
    name, inputs, base_year = scenario.name, scenario.inputs, spec.base_year
    projection = project(inputs.population, inputs.survival(), inputs.asfr, inputs.srb,
                         inputs.net_migrants, migration_timing=scenario.migration_timing)
    population = population_frame(projection.population, inputs.years, np.arange(101))
    population.insert(0, "scenario", name)
    demand = care_demand(population, scenario.elderly, scenario.childcare, base_year=base_year)
    drivers = _drivers(demand)
    base_drivers = drivers[drivers.year == base_year].iloc[0]
    plans, targets, supply_notes = supply_plans(
        spec.supply_sections[name].supply.services(), spec.source_document.get("file"), base_year,
        base_drivers)
    paths = planned_supply(plans, targets, drivers, inputs.years)
    horizon = plan_horizon(plans)
    if horizon is not None and horizon < inputs.years[-1]:
        supply_notes = [*supply_notes, {"service": "all", "note": HORIZON_NOTE.format(
            year=horizon), "confidence": "A"}]
    return {
        "residual": float(np.abs(balance_residual(projection)).max()),
        "population": population, "population_array": projection.population,
        "summary": summary_table(name, inputs, projection),
        "demand": demand,
        "gaps": gaps(demand, paths, targets, drivers, plan_horizon=horizon,
                     institutional_share=institutional_share_of_beds()),
        "supply": [path.assign(scenario=name, service=service,
                               occupied_institutional=(path["supply_institutional"]
                                                       * scenario.elderly.observed_occupancy
                                                       if service == "elderly_beds"
                                                       else np.nan))
                   for service, path in paths.items()],
        "targets": targets, "supply_notes": supply_notes,
    }


def scenario_outputs(spec: RunSpec) -> dict[str, dict]:
    """:func:`run_scenario` of every scenario of ``spec``, by name in the spec's order; with
    several cores and scenarios every second one is run in a forked process
    (:func:`forecast.forking.split_map`: the outputs are those of running them all here)."""
    from forecast.forking import split_map

    scenarios = list(spec.scenarios)
    outputs = split_map(lambda scenario: run_scenario(spec, scenario), scenarios)
    return {scenario.name: output for scenario, output in zip(scenarios, outputs, strict=True)}


def run_spec(spec: RunSpec, started: float | None = None, counties: bool = False) -> RunResult:
    """The deterministic run of ``spec``: every scenario, then the run's tables and manifest;
    ``counties``: also the county-level units of a prefecture or province
    (:mod:`forecast.pipeline.counties`, baseline only)."""
    started = time.perf_counter() if started is None else started
    names, base_year, end_year = spec.names, spec.base_year, spec.end_year
    provenance = dict(spec.provenance)
    outputs = scenario_outputs(spec)
    first = "baseline" if "baseline" in outputs else names[0]
    targets: list[Target] = outputs[first]["targets"]
    supply_notes: list[dict] = outputs[first]["supply_notes"]
    demand_notes = [s.note() for s in spec.scenario(first).demand_settings]
    scenario_notes = {s.name: [c.note() for c in s.changes] for s in spec.scenarios}
    residual = max(o["residual"] for o in outputs.values())
    population = pd.concat([o["population"] for o in outputs.values()], ignore_index=True)
    summary = pd.concat([o["summary"] for o in outputs.values()], ignore_index=True)
    demand = pd.concat([o["demand"] for o in outputs.values()], ignore_index=True)
    demand["service"] = demand["service"].astype(str)
    demand["method"] = demand["method"].astype(str)
    gap_table = pd.concat([o["gaps"] for o in outputs.values()], ignore_index=True)
    supplies = [path for o in outputs.values() for path in o["supply"]]
    supply_columns = ["scenario", "service", "year", "supply", "supply_basis",
                      "plan_target_path", "supply_institutional", "institutional_basis",
                      "occupied_institutional", "supply_source", "base_supply",
                      "base_supply_institutional"]
    supply = (pd.concat(supplies, ignore_index=True)[supply_columns] if supplies
              else pd.DataFrame(columns=supply_columns))
    shortfalls = first_shortfall(gap_table)
    drivers = _drivers(demand)
    base_only = drivers[drivers.scenario == first].drop(columns="scenario")
    consistency = pd.DataFrame()
    if targets:
        # each target in its own year's projected units, and in the base year's (as plans
        # usually reckon: e.g. Banan's 12,000 beds against the 2020 population aged 60+)
        consistency = target_consistency(targets, base_only)
        at_base = target_consistency(targets, base_only, at_year=base_year)
        for column in ("count", "per_1000_elderly", "per_1000_population", "coverage_under3"):
            consistency[f"{column}_at_base_year"] = at_base[column].to_numpy()
    expectations = expectations_table(spec, summary) if "baseline" in names else pd.DataFrame()
    sensitivity, sensitivity_record = _sensitivity(spec, first, outputs[first])
    assumptions = _assumption_rows(provenance, demand_notes, supply_notes, scenario_notes)
    county_rows, county_record = None, None
    if counties and "baseline" in names:
        baseline = spec.scenario("baseline")
        county_rows, county_record = _counties(spec.unit, targets,
                                               (baseline.elderly, baseline.childcare),
                                               summary, demand, base_year, end_year)
        if county_record is not None:
            assumptions = pd.concat([assumptions, _county_assumptions()], ignore_index=True)
    elapsed = time.perf_counter() - started
    unit = spec.unit
    manifest = {
        "tool": {"name": "forecast", "version": __version__},
        "config": {"name": spec.config_name, "path": spec.config_path,
                   "sha256": spec.config_sha256},
        "jurisdiction": {"code": unit.code, "name": unit.name, "level": unit.level,
                         "name_en": spec.name_en},
        "source_document": dict(spec.source_document),
        "projection": {"base_year": base_year, "end_year": end_year,
                       "max_balance_residual": residual},
        "scenarios": names,
        "data": _data_versions(),
        "provenance": provenance,
        "scenario_changes": scenario_notes,
        "scenario_specs": spec.record(),
        "expectation_specs": spec.expectation_records(),
        "demand_parameter_overrides": demand_notes,
        "supply_notes": supply_notes,
        "notes_zh": dict(spec.notes_zh),
        "elderly_bed_scope": _bed_scope_record(spec, first, base_only, base_year),
        "run_seconds": round(elapsed, 3),
    }
    if county_record is not None:
        manifest["counties"] = county_record
    manifest["sensitivity"] = sensitivity_record
    return RunResult(config=None, unit=unit, scenarios=names, population=population,
                     summary=summary, demand=demand, gaps=gap_table, supply=supply,
                     first_shortfall=shortfalls, targets=consistency, expectations=expectations,
                     assumptions=assumptions, manifest=manifest,
                     inputs={s.name: s.inputs for s in spec.scenarios}, run_seconds=elapsed,
                     spec=spec, counties=county_rows,
                     additions_needed=additions_needed(gap_table),
                     sensitivity=sensitivity)


def _sensitivity(spec: RunSpec, name: str, output: dict) -> tuple[pd.DataFrame, dict]:
    """The main scenario's one-at-a-time swings of the care parameters over their sourced
    ranges (forecast.pipeline.uncertainty.sensitivity_table) and their manifest record."""
    from forecast.pipeline.uncertainty import SENSITIVITY_YEAR, care_ranges, sensitivity_table

    scenario = spec.scenario(name)
    ranges = care_ranges(scenario.uncertainty, scenario.elderly, scenario.childcare,
                         honour_fixed=False)
    table = sensitivity_table(name, output["population_array"], scenario.inputs.years,
                              scenario.elderly, scenario.childcare, spec.base_year, ranges,
                              output["gaps"])
    record = {"file": "sensitivity.csv", "scenario": name,
              "year": int(table["year"].iloc[0]) if len(table) else SENSITIVITY_YEAR,
              "method": "forecast.pipeline.uncertainty.sensitivity_table: each care parameter "
                        "at the low and at the high end of its sourced range, every other at its "
                        "deterministic value, on the deterministic population",
              "ranges": {r.name: {"low": r.low, "central": r.centre, "high": r.high,
                                  "source": r.source} for r in ranges}}
    return table, record


def _counties(unit: Unit, targets: list[Target], parameters, summary: pd.DataFrame,
              demand: pd.DataFrame, base_year: int, end_year: int):
    """The county table of a prefecture or province and its manifest record (None, None for
    any other unit)."""
    from forecast.pipeline import counties as counties_module

    units = counties_module.county_units(unit)
    if not units:
        return None, None
    elderly, childcare = parameters
    table = counties_module.county_table(units, targets, base_year, end_year, elderly,
                                         childcare)
    base = summary[summary.scenario == "baseline"].drop(columns="scenario")
    whole = demand[demand.scenario == "baseline"]
    check = counties_module.sum_check(table, base, whole)
    record = {"units": len(units), "file": "counties.csv",
              "method": "forecast.pipeline.counties: county-level units controlled top down to the "
                        "jurisdiction (forecast.defaults.consistency), demand by the baseline's "
                        "parameters",
              "targets": sorted({f"{t.service}: {t.kind}" for t in targets
                                 if t.kind in counties_module.RATE_KINDS}),
              "sum_max_relative_difference": check,
              "assumptions": [counties_module.TARGET_HELD, counties_module.SUPPLY_UNKNOWN,
                              counties_module.COUNT_NOT_SPLIT]}
    return table, record


def _county_assumptions() -> pd.DataFrame:
    from forecast.pipeline import counties as counties_module

    return pd.DataFrame([{"scenario": "all", "component": "counties", "assumption": text,
                          "detail": "", "source": "", "confidence": "A", "sourced": False,
                          "label": "assumption (no source)"}
                         for text in (counties_module.TARGET_HELD,
                                      counties_module.SUPPLY_UNKNOWN)])


def _bed_scope_record(spec: RunSpec, first: str, drivers: pd.DataFrame,
                      base_year: int) -> dict:
    """The base beds of the main scenario by scope, and each scenario's reading of a base
    given in parts (for the report to say which reading the baseline takes)."""
    record: dict = {"institutional_share": institutional_share_of_beds(), "readings": {}}
    section = spec.supply_sections[first].supply.elderly_beds
    base = drivers[drivers.year == base_year]
    if section is None or base.empty:
        return record
    scopes = section.base_by_scope(float(base["pop_60plus"].iloc[0]))
    record.update({"base_reading": section.base_reading if section.base_components else None,
                   "base_year": section.base_year, **{f"base_{k}": v for k, v in scopes.items()}})
    if section.base_components:
        for name, sections in spec.supply_sections.items():
            if sections.supply.elderly_beds is not None:
                record["readings"][name] = sections.supply.elderly_beds.base_reading
    return record


def _drivers(demand: pd.DataFrame) -> pd.DataFrame:
    rows = demand[demand["service"].astype(str) == "driver"]
    keys = [c for c in demand.columns if c not in ("year", "service", "method", "value", "unit",
                                                   "assumptions")]
    wide = rows.pivot_table(index=[*keys, "year"], columns="method", values="value",
                            observed=True).reset_index()
    wide.columns.name = None
    return wide


def _data_versions() -> dict:
    import hashlib

    from forecast.paths import data_dir

    versions = {}
    for path in sorted(data_dir().glob("*.csv")):
        versions[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return versions


def config_reads(config: Config) -> list:
    """The files a run of ``config`` reads that the user gave: the config itself and any
    migration counts file of the baseline or a scenario (an output directory may never be or
    contain them; see forecast.presentation.outputs.check_output_directory)."""
    reads = [config._source_path] if config._source_path is not None else []
    for name in config.scenario_names():
        scenario = config if name == "baseline" else config.scenario(name)
        counts = scenario.assumptions.migration.counts_file
        if counts:
            reads.append(config.resolve_path(counts))
    return reads
