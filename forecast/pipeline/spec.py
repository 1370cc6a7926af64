"""One typed, immutable specification per scenario, built once from the config.

:func:`build_run_spec` reads a :class:`forecast.config.Config` (and the unit's default inputs)
and returns a :class:`RunSpec`: for every scenario a :class:`ScenarioSpec` holding the engine
inputs (rates by year, read-only arrays), the TFR and e0 those rates give, the demand
parameters with where each value came from, the supply plans and targets with their origin
(plan / national), the uncertainty settings and every change from the defaults as a
:class:`Change` record. After this point nothing reads the config: the deterministic run, the
probabilistic run, ``compare`` and (through :meth:`RunSpec.record` in ``manifest.json``, read
back by :func:`scenario_records`) the report read specifications and result tables only.

A scenario's changes are kept per scenario: a demand override of one scenario (``strict_norm``:
40 beds per 1,000) is that scenario's record, not lost behind the first scenario's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from forecast.care.demand import ChildcareParameters, ElderlyCareParameters, childcare_uptake_path
from forecast.demography.lifetable import life_table
from forecast.vocabulary import (
    CHANGE_KINDS_SOURCED,
    NATIONAL,
    PLAN,
    SERVICE_CHILDCARE,
    SERVICE_ELDERLY,
    SERVICE_NURSING,
    SEXES,
)

#: The component name of a scenario's demand-parameter change (assumptions.csv).
DEMAND_COMPONENT = "demand parameter"


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Change:
    """One thing a scenario changes from the defaults: ``component`` (fertility, mortality,
    migration, srb, demand parameter), the change in English, its ``kind`` ('scenario
    assumption', 'user input', 'trend forecast'), its source if any, and any further record
    (a trend forecast's fit) under ``record``."""

    component: str
    change: str
    kind: str
    source: str = ""
    record: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))

    @property
    def sourced(self) -> bool:
        return self.kind in CHANGE_KINDS_SOURCED

    @classmethod
    def from_note(cls, note: Mapping[str, Any]) -> Change:
        extra = {k: v for k, v in note.items()
                 if k not in ("component", "change", "kind", "source")}
        return cls(component=str(note["component"]), change=str(note["change"]),
                   kind=str(note["kind"]), source=str(note.get("source", "") or ""),
                   record=_frozen(extra))

    def note(self) -> dict:
        """The manifest form (``scenario_changes``): component, change, kind, source?, record."""
        out: dict[str, Any] = {"component": self.component, "change": self.change,
                               "kind": self.kind}
        if self.source:
            out["source"] = self.source
        out.update(self.record)
        return out


@dataclass(frozen=True)
class DemandSetting:
    """A demand parameter set beyond the shipped default: by the plan's own target or by the
    config (``parameter`` as in ``assumptions.csv``: 'elderly norm_per_1000', ...)."""

    parameter: str
    value: Any
    source: str

    def note(self) -> dict:
        return {"parameter": self.parameter, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class TargetSpec:
    """A target as the config states it, with its origin (:data:`PLAN` or :data:`NATIONAL`)."""

    service: str
    year: int
    kind: str
    value: float
    origin: str
    source: str  # citation text: document, section, quote
    document: str  # the cited document alone

    @property
    def document_short(self) -> str:
        """The document's name as a caption cites it: up to its first comma ('《…纲要》 (2021)'
        of '《…纲要》 (2021), as restated by …')."""
        return self.document.split(",")[0]

    def record(self) -> dict:
        return {"service": self.service, "year": self.year, "kind": self.kind,
                "value": self.value, "origin": self.origin, "source": self.source,
                "document": self.document}


@dataclass(frozen=True)
class ExpectationSpec:
    """A population figure the document states (``indicator`` a summary indicator,
    ``births_cumulative`` from ``start_year`` to ``year``)."""

    year: int
    indicator: str
    value: float
    relation: str
    start_year: int | None
    source: str
    note: str
    note_zh: str = ""  # the config's Chinese text of ``note`` ("" = none given)

    def record(self) -> dict:
        return {"year": self.year, "indicator": self.indicator, "value": self.value,
                "relation": self.relation, "start_year": self.start_year}


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything one scenario runs on. Arrays are read-only."""

    name: str
    overlay: tuple[tuple[str, Any], ...]  # the scenario's config changes as written
    inputs: Any  # forecast.pipeline.scenarios.ScenarioInputs (arrays read-only)
    migration_timing: str
    calendar_years: np.ndarray  # (T,) calendar year of each projection step
    tfr: np.ndarray  # (T,) births per woman the rates give, by step
    e0: np.ndarray  # (T, 2) life expectancy at birth (male, female) the rates give, by step
    elderly: ElderlyCareParameters
    childcare: ChildcareParameters
    demand_settings: tuple[DemandSetting, ...]
    targets: tuple[TargetSpec, ...]
    uncertainty: Any  # forecast.config.Uncertainty (pydantic model; not modified)
    changes: tuple[Change, ...]  # every change from the defaults, demand included

    def components_changed(self) -> set[str]:
        return {change.component for change in self.changes}

    def record(self) -> dict:
        """The JSON form kept in ``manifest.json`` (``scenario_specs``)."""
        years = [int(y) for y in self.calendar_years]
        return {
            "overlay": {key: value for key, value in self.overlay},
            "years": years,
            "tfr": np.round(self.tfr, 4).tolist(),
            "e0_male": np.round(self.e0[:, 0], 2).tolist(),
            "e0_female": np.round(self.e0[:, 1], 2).tolist(),
            "migration_timing": self.migration_timing,
            "elderly": _parameters_record(self.elderly),
            "childcare": _parameters_record(self.childcare),
            "demand_settings": [s.note() for s in self.demand_settings],
            "targets": [t.record() for t in self.targets],
            "changes": [{"component": c.component, "change": c.change, "kind": c.kind,
                         "sourced": c.sourced} for c in self.changes],
        }


def _parameters_record(params) -> dict:
    from dataclasses import asdict

    out = {}
    for key, value in asdict(params).items():
        out[key] = [list(v) for v in value] if isinstance(value, tuple) else value
    return out


@dataclass(frozen=True)
class RunSpec:
    """The specification of one run: identity, defaults' provenance and the scenarios."""

    config_name: str
    config_path: str
    config_sha256: str
    unit: Any  # forecast.defaults.census.Unit
    name_en: str | None
    source_document: Mapping[str, Any]
    base_year: int
    end_year: int
    provenance: Mapping[str, Any]  # the defaults' provenance (forecast.defaults.assumptions)
    scenarios: tuple[ScenarioSpec, ...]
    expectations: tuple[ExpectationSpec, ...]
    supply_sections: Mapping[str, Any]  # scenario -> {service: config supply section}
    #: the config's notes in Chinese (``note`` -> ``note_zh``), for the Chinese report and
    #: workbook (manifest ``notes_zh``; forecast.presentation.labels.translate)
    notes_zh: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    def scenario(self, name: str) -> ScenarioSpec:
        for spec in self.scenarios:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def record(self) -> dict:
        return {spec.name: spec.record() for spec in self.scenarios}

    def expectation_records(self) -> list[dict]:
        return [e.record() for e in self.expectations]


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------
def citation_text(citation, default_document: str | None) -> str:
    """'document, section, “quote”' of a config citation (no document without
    ``source_document``: then the config's validator has each citation name its own)."""
    document = citation.document or default_document
    parts = [document] if document else []
    if citation.section:
        parts.append(citation.section)
    if citation.quote:
        parts.append(f"“{citation.quote}”")
    return ", ".join(parts)


def demand_parameters(config) -> tuple[ElderlyCareParameters, ChildcareParameters,
                                       list[DemandSetting]]:
    """Demand parameters of one (scenario) config: shipped defaults, the plan's own norms,
    then config overrides; with a :class:`DemandSetting` for every value set beyond a
    default."""
    elderly: dict = {}
    childcare: dict = {}
    settings: list[DemandSetting] = []
    plan_norms = {}
    for service, section in config.supply.services().items():
        for target in section.targets:
            if target.origin != "document":
                continue
            if service == SERVICE_ELDERLY and target.kind == "per_1000_elderly":
                plan_norms["elderly"] = target.value
            if service == SERVICE_CHILDCARE and target.kind == "per_1000_population":
                plan_norms["childcare"] = target.value
            if service == SERVICE_NURSING and target.kind == "share_nursing":
                plan_norms["nursing"] = target.value
    if "elderly" in plan_norms:
        elderly["norm_per_1000"] = plan_norms["elderly"]
        settings.append(DemandSetting("elderly norm_per_1000", plan_norms["elderly"],
                                      "the plan's own target (beds per 1,000 aged 60+)"))
    if "childcare" in plan_norms:
        childcare["norm_per_1000_population"] = plan_norms["childcare"]
        settings.append(DemandSetting("childcare norm_per_1000_population",
                                      plan_norms["childcare"],
                                      "the plan's own target (托位 per 1,000 population)"))
    if "nursing" in plan_norms:
        elderly["nursing_share"] = plan_norms["nursing"]
        settings.append(DemandSetting("nursing_share", plan_norms["nursing"],
                                      "the plan's own nursing-type share target"))
    e = config.demand.elderly
    for name in ("norm_per_1000", "nursing_share", "prevalence_trend", "u_severe",
                 "u_moderate", "target_occupancy"):
        value = getattr(e, name)
        if value is not None:
            elderly[name] = value
            settings.append(DemandSetting(f"elderly {name}", value, "config"))
    c = config.demand.childcare
    if c.norm_per_1000_population is not None:
        childcare["norm_per_1000_population"] = c.norm_per_1000_population
    if c.demand_rate is not None:
        childcare["demand_share"] = c.demand_rate
    if c.target_utilisation is not None:
        childcare["target_utilisation"] = c.target_utilisation
    if c.path is not None and c.uptake is None:
        childcare["uptake_path"] = childcare_uptake_path(c.path)
        childcare["uptake_source"] = ("childcare_enrolment_policy_2035" if c.path == "policy"
                                      else "childcare_full_uptake_year")
    if c.uptake is not None:
        childcare["uptake_source"] = "config uptake"
        path = c.uptake if isinstance(c.uptake, dict) else {config.projection.base_year:
                                                           c.uptake}
        childcare["uptake_path"] = tuple(sorted((int(y), float(v)) for y, v in path.items()))
    for name in ("norm_per_1000_population", "demand_rate", "uptake", "target_utilisation",
                 "path"):
        value = getattr(c, name)
        if value is not None:
            settings.append(DemandSetting(f"childcare {name}", value, "config"))
    return ElderlyCareParameters(**elderly), ChildcareParameters(**childcare), settings


def _targets(config) -> tuple[TargetSpec, ...]:
    document = config.source_document.file if config.source_document else None
    return tuple(TargetSpec(service=service, year=t.year, kind=t.kind, value=t.value,
                            origin=NATIONAL if t.origin == "national" else PLAN,
                            source=citation_text(t.source, document),
                            document=t.source.document or document)
                 for service, section in config.supply.services().items()
                 for t in section.targets)


def _demand_changes(settings: Sequence[DemandSetting],
                    baseline: Sequence[DemandSetting]) -> list[Change]:
    """The demand settings of a scenario that the baseline does not have (or has with another
    value), as changes of that scenario."""
    base = {s.parameter: s.value for s in baseline}
    changes = []
    for setting in settings:
        if setting.parameter in base and base[setting.parameter] == setting.value:
            continue
        was = (f"; baseline {_number(base[setting.parameter])}"
               if setting.parameter in base else "")
        changes.append(Change(component=DEMAND_COMPONENT,
                              change=f"{setting.parameter} {_number(setting.value)}{was}",
                              kind="scenario assumption"))
    return changes


def _supply_changes(scenario_config, config, overlay: Mapping) -> list[Change]:
    """The reading of the base beds a scenario sets (Honghe's base beds read as nested or
    additive), said also when it is the baseline's own."""
    mine, base = scenario_config.supply.elderly_beds, config.supply.elderly_beds
    if "supply.elderly_beds.base_reading" not in overlay or mine is None or base is None:
        return []
    was = ("; as the baseline" if mine.base_reading == base.base_reading
           else f"; baseline {base.base_reading}")
    return [Change(component="supply elderly_beds",
                   change=f"base beds read as {mine.base_reading}{was}",
                   kind="scenario assumption")]


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def e0_by_step(mx: np.ndarray) -> np.ndarray:
    """(T, 2) life expectancy at birth of death rates ``mx`` (T, 2, A)."""
    table = life_table(mx, np.array(SEXES))
    return np.asarray(table.e0, dtype=float)


def _flatten(overlay: Mapping | None, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in (overlay or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and not all(isinstance(k, int) for k in value):
            out += _flatten(value, path + ".")
        else:
            out.append((path, value))
    return out


def build_scenario_spec(config, name: str, defaults, index: int = 0,
                        baseline_settings: Sequence[DemandSetting] | None = None
                        ) -> tuple[ScenarioSpec, Any]:
    """The specification of scenario ``name`` of ``config`` for unit ``index`` of
    ``defaults``; returns it with the scenario's config (for its supply sections)."""
    from forecast.pipeline.scenarios import apply_assumptions

    scenario_config = config if name == "baseline" else config.scenario(name)
    inputs = apply_assumptions(defaults, index, scenario_config.assumptions, name,
                               config._source_path)
    for array in (inputs.population, inputs.mx, inputs.asfr, inputs.srb, inputs.net_migrants):
        array.setflags(write=False)
    elderly, childcare, settings = demand_parameters(scenario_config)
    changes = [Change.from_note(note) for note in inputs.notes]
    if baseline_settings is not None:
        changes += _demand_changes(settings, baseline_settings)
        changes += _supply_changes(scenario_config, config,
                                   dict(_flatten(config.scenarios.get(name))))
    calendar = np.asarray(inputs.step_years) + 1
    spec = ScenarioSpec(
        name=name, overlay=tuple(_flatten(config.scenarios.get(name))), inputs=inputs,
        migration_timing=scenario_config.projection.migration_timing,
        calendar_years=_read_only(calendar), tfr=_read_only(inputs.asfr.sum(axis=1)),
        e0=_read_only(e0_by_step(inputs.mx)), elderly=elderly, childcare=childcare,
        demand_settings=tuple(settings), targets=_targets(scenario_config),
        uncertainty=scenario_config.uncertainty, changes=tuple(changes))
    return spec, scenario_config


def build_run_spec(config, names: Sequence[str], unit, defaults) -> RunSpec:
    """The run's specification: every named scenario of ``config`` on ``defaults`` (unit 0)."""
    from forecast.config import config_hash

    baseline_settings = demand_parameters(config)[2]
    scenarios = []
    sections = {}
    for name in names:
        spec, scenario_config = build_scenario_spec(
            config, name, defaults, 0, None if name == "baseline" else baseline_settings)
        scenarios.append(spec)
        sections[name] = scenario_config
    document = config.source_document.file if config.source_document else None
    expectations = tuple(
        ExpectationSpec(year=item.year, indicator=item.indicator, value=item.value,
                        relation=item.relation, start_year=item.start_year,
                        source=citation_text(item.source, document), note=item.note or "",
                        note_zh=item.note_zh or "")
        for item in config.expectations)
    return RunSpec(
        config_name=config.name, config_path=str(config._source_path or ""),
        config_sha256=config_hash(config), unit=unit, name_en=config.jurisdiction.name_en,
        # {} when the config names no plan document (forecast init; the report says so)
        source_document=_frozen(config.source_document.model_dump(mode="json")
                                if config.source_document else {}),
        base_year=config.projection.base_year, end_year=config.projection.end_year,
        provenance=_frozen(defaults.provenance[0]), scenarios=tuple(scenarios),
        expectations=expectations, supply_sections=_frozen(sections),
        notes_zh=_frozen(config_notes_zh(config, sections.values())))


def config_notes_zh(config, scenario_configs) -> dict[str, str]:
    """``{note: note_zh}`` of every note the config (and each scenario's config) gives a
    Chinese text: supply sections and expectations."""
    items = [*config.expectations]
    for scenario_config in (config, *scenario_configs):
        items += [section for section in scenario_config.supply.services().values()]
    return {item.note: item.note_zh for item in items if item.note and item.note_zh}


# ---------------------------------------------------------------------------------------------
# Reading back (the report: manifest.json -> typed records)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioRecord:
    """A scenario's specification as ``manifest.json`` keeps it (what the report reads)."""

    name: str
    years: tuple[int, ...]
    tfr: tuple[float, ...]
    e0_male: tuple[float, ...]
    e0_female: tuple[float, ...]
    elderly: Mapping[str, Any]
    childcare: Mapping[str, Any]
    demand_settings: tuple[DemandSetting, ...]
    targets: tuple[TargetSpec, ...]
    changes: tuple[Change, ...]

    def components_changed(self) -> set[str]:
        return {c.component for c in self.changes}


def scenario_records(manifest: Mapping) -> dict[str, ScenarioRecord]:
    """The ``scenario_specs`` of a run's manifest as typed records ({} for an older run)."""
    out = {}
    for name, raw in (manifest.get("scenario_specs") or {}).items():
        out[name] = ScenarioRecord(
            name=name, years=tuple(int(y) for y in raw.get("years", [])),
            tfr=tuple(raw.get("tfr", [])), e0_male=tuple(raw.get("e0_male", [])),
            e0_female=tuple(raw.get("e0_female", [])),
            elderly=_frozen(raw.get("elderly")), childcare=_frozen(raw.get("childcare")),
            demand_settings=tuple(DemandSetting(str(s["parameter"]), s["value"],
                                                str(s["source"]))
                                  for s in raw.get("demand_settings", [])),
            targets=tuple(TargetSpec(service=t["service"], year=int(t["year"]), kind=t["kind"],
                                     value=float(t["value"]), origin=t["origin"],
                                     source=t["source"], document=t["document"])
                          for t in raw.get("targets", [])),
            changes=tuple(Change(component=c["component"], change=c["change"], kind=c["kind"])
                          for c in raw.get("changes", [])))
    return out
