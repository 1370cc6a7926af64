"""One explorer session: a config read once, its unit's default inputs cached, and the
controls a planner moves, turned into a scenario overlay and run.

A view is computed by :func:`forecast.pipeline.run.run` on the config with the overlay added as one
more scenario, the same call `forecast run` makes for a scenario written in the file, so the
exported overlay reproduces every number shown. Control values are read as YAML scalars
(the text ``45`` is the number 45, ``abc`` is text), so a bad value gets the config's own
one-line message (:func:`forecast.config.apply_overlay`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from forecast.config import Config, load_config
from forecast.defaults.assumptions import Defaults
from forecast.defaults.consistency import defaults_for
from forecast.errors import ConfigError
from forecast.pipeline.run import RunResult, demand_parameters, resolve_config_unit, run
from forecast.pipeline.scenarios import apply_assumptions

#: Name of the explored scenario unless the planner gives another.
DEFAULT_NAME = "explore"

#: The source written on a planned addition entered in the explorer (not in the document).
EXPLORER_SOURCE = {"document": "forecast explore",
                   "section": "scenario assumption entered in the explorer (情景假设，非规划文件)"}


@dataclass(frozen=True)
class Control:
    """One control of the page: the config key it sets and its baseline value.

    ``kind`` is ``number`` (a slider with a text box), ``choice`` (one of ``choices``),
    ``path`` (``{year: value}`` at ``default``'s years) or ``additions`` (a list of planned
    additions ``{start_year, end_year, amount}``)."""

    key: str
    group: str
    kind: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    enabled: bool = True  # False: shown with a note, not editable (additions without a base)

    def as_json(self) -> dict:
        return {"key": self.key, "group": self.group, "kind": self.kind,
                "default": self.default, "min": self.minimum, "max": self.maximum,
                "step": self.step, "choices": list(self.choices), "unit": self.unit,
                "enabled": self.enabled}


@dataclass
class View:
    """The result of one set of control values."""

    name: str
    overlay: dict
    result: RunResult
    seconds: float = 0.0


def _scalar(raw: Any) -> Any:
    """A control's text read as a YAML scalar, as the config file would read it."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if text == "":
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, str, bool)) or value is None else text


def _same_number(value: Any, default: Any) -> bool:
    numbers = (int, float)
    if isinstance(value, bool) or not isinstance(value, numbers):
        return value == default
    return isinstance(default, numbers) and float(value) == float(default)


def _rounded(value: float, digits: int = 3) -> float:
    return float(round(float(value), digits))


@dataclass
class Session:
    """A config, its unit's default inputs (built once) and the baseline run."""

    config: Config
    defaults: Defaults
    baseline: RunResult
    controls: list[Control] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ construction
    @classmethod
    def open(cls, config_path: str | Path) -> Session:
        """Read the config (ConfigError on a bad file), build the defaults, run the baseline."""
        config = load_config(config_path)
        unit = resolve_config_unit(config)
        defaults = defaults_for([unit], config.projection.base_year,
                                config.projection.end_year, config.projection.consistent)
        baseline = run(config, ["baseline"], defaults=defaults, counties=False)
        session = cls(config=config, defaults=defaults, baseline=baseline)
        session.controls = session._make_controls()
        return session

    def _baseline_tfr(self) -> dict[int, float]:
        """The baseline TFR path (births per woman) by calendar year, before any tfr_shift of
        the config itself (the shift control adds to it)."""
        assumptions = self.config.assumptions
        unshifted = assumptions.model_copy(update={"fertility": assumptions.fertility.model_copy(
            update={"tfr_shift": None})})
        inputs = apply_assumptions(self.defaults, 0, unshifted, "baseline",
                                   self.config._source_path)
        tfr = inputs.asfr.sum(axis=1)
        return {int(year) + 1: float(value) for year, value in zip(inputs.step_years, tfr,
                                                                   strict=True)}

    def tfr_anchor_years(self) -> list[int]:
        base, end = self.config.projection.base_year, self.config.projection.end_year
        years = {base + 1, end} | {y for y in (2025, 2030, 2040, 2050) if base + 1 < y < end}
        return sorted(years)

    def _make_controls(self) -> list[Control]:
        config = self.config
        a = config.assumptions
        elderly, childcare, _ = demand_parameters(config)
        tfr = self._baseline_tfr()
        controls = [
            Control("assumptions.fertility.tfr_shift", "fertility", "number",
                    _scalar_default(a.fertility.tfr_shift, 0.0), -1.0, 1.0, 0.05,
                    unit="births_per_woman"),
            Control("assumptions.fertility.tfr", "fertility", "path",
                    {year: _rounded(tfr[year]) for year in self.tfr_anchor_years()},
                    0.3, 3.0, 0.01, unit="births_per_woman"),
            Control("assumptions.mortality.improvement", "mortality", "choice",
                    a.mortality.improvement or "wpp", choices=("wpp", "half", "none")),
            Control("assumptions.mortality.e0_shift", "mortality", "number",
                    a.mortality.e0_shift or 0.0, -5.0, 5.0, 0.5, unit="years"),
            Control("assumptions.migration.scale", "migration", "number",
                    1.0 if a.migration.scale is None else a.migration.scale, 0.0, 3.0, 0.05,
                    unit="times"),
            Control("demand.elderly.norm_per_1000", "elderly", "number",
                    elderly.norm_per_1000, 0.0, 80.0, 1.0, unit="per_1000_60plus"),
            Control("demand.elderly.u_severe", "elderly", "number", elderly.u_severe,
                    0.0, 1.0, 0.01, unit="fraction"),
            Control("demand.elderly.u_moderate", "elderly", "number", elderly.u_moderate,
                    0.0, 1.0, 0.01, unit="fraction"),
            Control("demand.elderly.target_occupancy", "elderly", "number",
                    elderly.target_occupancy, 0.3, 1.0, 0.01, unit="fraction"),
            Control("demand.elderly.prevalence_trend", "elderly", "number",
                    elderly.prevalence_trend, -0.05, 0.02, 0.005, unit="per_year"),
            Control("demand.elderly.nursing_share", "elderly", "number",
                    elderly.nursing_share, 0.0, 1.0, 0.01, unit="fraction"),
            Control("demand.childcare.norm_per_1000_population", "childcare", "number",
                    childcare.norm_per_1000_population, 0.0, 15.0, 0.1,
                    unit="per_1000_population"),
            Control("demand.childcare.demand_rate", "childcare", "number",
                    childcare.demand_share, 0.0, 1.0, 0.01, unit="fraction"),
            Control("demand.childcare.uptake", "childcare", "path",
                    {int(y): _rounded(v) for y, v in childcare.uptake_path}, 0.0, 1.0, 0.01,
                    unit="fraction"),
            Control("demand.childcare.target_utilisation", "childcare", "number",
                    childcare.target_utilisation, 0.3, 1.0, 0.01, unit="fraction"),
        ]
        for service, section in config.supply.services().items():
            rows = [{"start_year": add.start_year, "end_year": add.end_year,
                     "amount": add.amount, "plan": index}
                    for index, add in enumerate(section.additions)]
            # without a base-year supply, additions give no supply path (forecast.care.supply)
            controls.append(Control(f"supply.{service}.additions", "supply", "additions", rows,
                                    unit="beds" if service != "childcare_places" else "places",
                                    enabled=section.base_known()))
        return controls

    def control(self, key: str) -> Control:
        for control in self.controls:
            if control.key == key:
                return control
        raise ConfigError(f"{key}: not a control of the explorer",
                          fix="choose one of " + ", ".join(c.key for c in self.controls))

    # ------------------------------------------------------------------ overlay
    def overlay(self, values: dict[str, Any]) -> dict:
        """Control values (as the page sends them: text, ``{year: text}`` or addition rows)
        → a scenario overlay of dotted keys, holding only the values that differ from the
        baseline."""
        overlay: dict[str, Any] = {}
        for key, raw in values.items():
            control = self.control(key)
            if control.kind in ("number", "choice"):
                value = _scalar(raw)
                if value is None or _same_number(value, control.default):
                    continue
                overlay[key] = value
            elif control.kind == "path":
                if not isinstance(raw, dict):
                    raise ConfigError(f"scenario overlay: {key}: expected a mapping of years "
                                      "to values")
                path = {}
                for year, text in raw.items():
                    year_value = _scalar(str(year))
                    path[year_value] = _scalar(text)
                unchanged = (set(path) == set(control.default)
                             and all(_same_number(path[y], control.default[y]) for y in path))
                if unchanged:
                    continue
                overlay[key] = path
                if key == "assumptions.fertility.tfr" and self.config.assumptions.fertility \
                        .method is not None:
                    overlay["assumptions.fertility.method"] = None  # a path replaces a method
            elif control.kind == "additions":
                if not control.enabled:
                    raise ConfigError(f"scenario overlay: {key}: the plan states no base-year "
                                      "supply, so additions give no supply path",
                                      fix="state the base supply in the config first")
                rows = self._additions(key, raw)
                if rows is not None:
                    overlay[key] = rows
        return overlay

    def _additions(self, key: str, raw: Any) -> list[dict] | None:
        """Addition rows → the config's list (the plan's own rows keep their citation), or
        None when the rows are the plan's."""
        service = key.split(".")[1]
        plan = self.config.supply.services()[service].additions
        if not isinstance(raw, list):
            raise ConfigError(f"scenario overlay: {key}: expected a list of additions")
        rows = []
        for row in raw:
            if not isinstance(row, dict):
                raise ConfigError(f"scenario overlay: {key}: expected start_year, end_year and "
                                  "amount in each addition")
            values = {name: _scalar(row.get(name)) for name in ("start_year", "end_year",
                                                                  "amount")}
            index = row.get("plan")
            if isinstance(index, int) and 0 <= index < len(plan):
                original = plan[index].model_dump(exclude_none=True)
                if all(_same_number(values[n], original[n]) for n in values):
                    rows.append(original)
                    continue
                changed = ", ".join(f"{n} {original[n]:g} → {values[n]}" for n in values
                                    if not _same_number(values[n], original[n]))
                rows.append({**original, **values,
                             "note": f"changed in forecast explore ({changed}); scenario "
                                     "assumption, not the document's figure"})
            else:
                rows.append({**values, "source": dict(EXPLORER_SOURCE),
                             "note": "added in forecast explore (scenario assumption)"})
        if rows == [a.model_dump(exclude_none=True) for a in plan]:
            return None
        return rows

    # ------------------------------------------------------------------ running
    def scenario_config(self, name: str, overlay: dict) -> Config:
        """The config with ``name: overlay`` added to its scenarios (:func:`with_scenario`)."""
        return with_scenario(self.config, name, overlay)

    def view(self, values: dict[str, Any], name: str = DEFAULT_NAME) -> View:
        """Run the scenario the controls describe (ConfigError on a bad value)."""
        import time

        started = time.perf_counter()
        overlay = self.overlay(values)
        config = self.scenario_config(name, overlay)
        with self.lock:
            result = run(config, [name], defaults=self.defaults, counties=False)
        return View(name=name, overlay=overlay, result=result,
                    seconds=time.perf_counter() - started)

    def overlay_yaml(self, view: View) -> str:
        """The view as a scenario entry in the config's ``scenarios:`` format."""
        source = self.config._source_path or f"{self.config.name}.yaml"
        body = yaml.safe_dump({"scenarios": {view.name: view.overlay or {}}},
                              allow_unicode=True, sort_keys=False, default_flow_style=False,
                              width=100)
        return (f"# Scenario '{view.name}' made with `forecast explore {source}`.\n"
                f"# Add the entry below under the config's `scenarios:`, then run\n"
                f"#   forecast run {source} --scenario {view.name}\n" + body)


def with_scenario(config: Config, name: str, overlay: dict) -> Config:
    """``config`` with ``name: overlay`` added to its scenarios, as `forecast run` reads a
    file holding that scenario (ConfigError on a bad name or value)."""
    if name in config.scenarios:
        raise ConfigError(f"scenario name: '{name}' is already a scenario of the config",
                          fix="choose another name, e.g. explore_1")
    tree = config.model_dump(exclude={"scenarios"})
    tree["scenarios"] = {**config.scenarios, name: overlay}
    try:
        result = Config.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"scenario name: {first['msg']}") from None
    result._source_path = config._source_path
    result.scenario(name)  # the overlay checked as load_config checks a file's scenarios
    return result


def _scalar_default(value: Any, fallback: float) -> Any:
    return fallback if value is None else value


def tfr_by_year(result: RunResult, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(calendar years, TFR) of scenario ``name`` in ``result``."""
    inputs = result.inputs[name]
    return inputs.step_years + 1, inputs.asfr.sum(axis=1)
