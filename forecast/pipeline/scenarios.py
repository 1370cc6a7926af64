"""Turning a validated config (and a scenario overlay) into engine inputs.

The defaults for the census unit come from :mod:`forecast.defaults.assumptions`; this module
applies a
config's assumption overrides to them (plain arrays in, plain arrays out) and records what it
changed, so every modelling choice reaches the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.defaults.assumptions import Defaults
from forecast.defaults.mortality import fit_level
from forecast.demography.inputs import MAX_NET_MIGRANTS_PER_CELL, check_range, read_csv_checked
from forecast.demography.lifetable import life_table, survival_ratios_by_sex
from forecast.errors import ConfigError
from forecast.vocabulary import MIGRATION_PATH_CONSTANT, SEXES


@dataclass
class ScenarioInputs:
    """Engine arrays for one scenario of one unit (no unit axis)."""

    name: str
    years: np.ndarray  # population years, base..end
    step_years: np.ndarray
    population: np.ndarray  # (2, 101)
    mx: np.ndarray  # (T, 2, 101)
    asfr: np.ndarray  # (T, 101)
    srb: np.ndarray  # (T,)
    net_migrants: np.ndarray  # (T, 2, 101)
    notes: list[dict] = field(default_factory=list)

    def survival(self) -> np.ndarray:
        """Survival ratios (T, 2, 101) from the life tables of ``mx``."""
        return survival_ratios_by_sex(self.mx)


def _path_values(path: float | dict[int, float], calendar_years: np.ndarray) -> np.ndarray:
    """A constant or a {year: value} path, linear between given years and flat outside."""
    if isinstance(path, dict):
        years = sorted(path)
        return np.interp(calendar_years, years, [path[y] for y in years])
    return np.full(len(calendar_years), float(path))


def _shift_tfr(asfr: np.ndarray, shift: np.ndarray, calendar_years: np.ndarray, name: str,
               config_path: object) -> np.ndarray:
    """ASFR (T, ages; births per woman per year) with the TFR moved by ``shift`` (births per
    woman, per step) and the age pattern kept. A TFR driven to zero or below is the user's
    mistake (a shift too large for this unit's level)."""
    tfr = asfr.sum(axis=1)
    shifted = tfr + shift
    if (shifted <= 0).any():
        first = int(np.argmax(shifted <= 0))
        where = "the baseline" if name == "baseline" else f"scenario '{name}'"
        raise ConfigError(f"{where}: tfr_shift {shift[first]:+g} takes the TFR of "
                          f"{int(calendar_years[first])} from {tfr[first]:.3f} to "
                          f"{shifted[first]:.3f} births per woman", path=config_path,
                          field="assumptions.fertility.tfr_shift",
                          fix=f"use a shift above {-tfr.min():.2f}")
    return asfr * (shifted / tfr)[:, None]


def apply_assumptions(defaults: Defaults, index: int, assumptions, name: str,
                      config_path: object = None) -> ScenarioInputs:
    """Apply a config's ``assumptions`` section to unit ``index`` of ``defaults``."""
    settings = defaults.settings
    steps = settings.step_years
    calendar = steps + 1  # step t (1 Nov t -> 1 Nov t+1) is mostly calendar year t+1
    mx = defaults.mx[index].copy()
    asfr = defaults.asfr[index].copy()
    srb = defaults.srb[index].copy()
    migrants = defaults.net_migrants[index].copy()
    notes: list[dict] = []

    fertility = assumptions.fertility
    pattern = asfr / asfr.sum(axis=1, keepdims=True)
    if fertility.tfr is not None:
        tfr = _path_values(fertility.tfr, calendar)
        asfr = pattern * tfr[:, None]
        notes.append({"component": "fertility", "change": f"TFR set by the config: "
                      f"{fertility.tfr}", "kind": "scenario assumption"})
    elif fertility.method == "census_indirect":
        tfr_base = defaults.provenance[index]["fertility"]["tfr_base"]
        asfr = pattern * tfr_base
        notes.append({"component": "fertility", "change": f"census TFR {tfr_base} held "
                      "constant", "kind": "scenario assumption"})
    elif fertility.method in ("statsmodels", "prophet"):
        from forecast.defaults.trends import tfr_trend_path

        tfr_base = defaults.provenance[index]["fertility"]["tfr_base"]
        ratio, record = tfr_trend_path(fertility.method, settings.start_year, calendar)
        asfr = pattern * (tfr_base * ratio)[:, None]
        notes.append({"component": "fertility", "change": f"TFR path from a {fertility.method} "
                      "forecast of the national series, scaled to the census level",
                      "kind": "trend forecast", **record})
    if fertility.tfr_shift is not None:
        asfr = _shift_tfr(asfr, _path_values(fertility.tfr_shift, calendar), calendar, name,
                          config_path)
        notes.append({"component": "fertility", "change": f"TFR shifted by "
                      f"{fertility.tfr_shift} births per woman", "kind": "scenario assumption"})

    mortality = assumptions.mortality
    if mortality.improvement in ("none", "half"):
        base_log = np.log(mx[0])
        share = 0.0 if mortality.improvement == "none" else 0.5
        mx = np.exp(base_log + share * (np.log(mx) - base_log))
        notes.append({"component": "mortality", "change": f"improvement '{mortality.improvement}'"
                      " (share of the WPP decline kept: " f"{share:g})",
                      "kind": "scenario assumption"})
    if mortality.e0 is not None or mortality.e0_shift is not None:
        current = [float(life_table(mx[0, i], sex).e0) for i, sex in enumerate(SEXES)]
        if mortality.e0 is not None:
            targets = [mortality.e0.male, mortality.e0.female]
        else:
            targets = [e + mortality.e0_shift for e in current]
        factors = []
        for i, sex in enumerate(SEXES):
            try:
                factors.append(fit_level(mx[0], targets[i], sex))
            except ValueError:
                raise ConfigError(f"e0 {targets[i]:.2f} cannot be reached by scaling the "
                                  "schedule", path=config_path,
                                  field="assumptions.mortality.e0",
                                  fix="give a life expectancy between 30 and 95") from None
        mx = mx * np.array(factors)[None, :, None]
        notes.append({"component": "mortality", "change": "base-year e0 set to "
                      f"{targets[0]:.2f} (m) / {targets[1]:.2f} (f) by a proportional shift of "
                      "every age's rate", "kind": "scenario assumption"})

    migration = assumptions.migration
    if migration.mode == "zero":
        migrants = np.zeros_like(migrants)
        notes.append({"component": "migration", "change": "zero net migration",
                      "kind": "scenario assumption"})
    elif migration.mode == "counts":
        path = migration.counts_file
        frame = read_csv_checked(_resolve(config_path, path),
                                 ["year", "sex", "age", "net_migrants"])
        check_range(frame, "net_migrants", _resolve(config_path, path),
                    low=-MAX_NET_MIGRANTS_PER_CELL, high=MAX_NET_MIGRANTS_PER_CELL,
                    fix="net migrants are persons per year, at most "
                        f"{MAX_NET_MIGRANTS_PER_CELL:,} either way per age and sex")
        wide = frame.pivot_table(index=["year", "sex"], columns="age", values="net_migrants",
                                 aggfunc="sum")
        index_ = pd.MultiIndex.from_product([steps, list(SEXES)])
        migrants = (wide.reindex(index=index_, columns=range(101)).fillna(0.0).to_numpy()
                    .reshape(len(steps), 2, 101))
        notes.append({"component": "migration", "change": f"net migrants read from {path} "
                      "(missing cells = 0)", "kind": "user input"})
    elif migration.path == MIGRATION_PATH_CONSTANT:
        migrants, note = _constant_migration(migrants, defaults.provenance[index], steps)
        notes.append(note)
    if migration.scale is not None:
        migrants = migrants * migration.scale
        notes.append({"component": "migration", "change": f"net migrants × {migration.scale}",
                      "kind": "scenario assumption"})
    if assumptions.srb is not None:
        srb = np.full_like(srb, assumptions.srb)
        notes.append({"component": "srb", "change": f"sex ratio at birth {assumptions.srb}",
                      "kind": "scenario assumption"})

    return ScenarioInputs(name=name, years=settings.years, step_years=steps,
                          population=defaults.population[index].copy(), mx=mx, asfr=asfr,
                          srb=srb, net_migrants=migrants, notes=notes)


def _constant_migration(migrants: np.ndarray, provenance: dict, steps: np.ndarray
                        ) -> tuple[np.ndarray, dict]:
    """Net migrants (T, 2, 101) with the default path's yearly factor removed: the 2010s'
    census residual at full strength in every year (net losses stay rates of the projected
    population of the default path)."""
    record = provenance.get("migration", {}).get("path_factor")
    if not record:
        return migrants, {"component": "migration", "change": "migration path 'constant': "
                          "the default has no path factor (no census residual); unchanged",
                          "kind": "scenario assumption"}
    factor = np.array([record.get(int(y), record.get(str(int(y)), 1.0)) for y in steps],
                      dtype=float)
    scaled = np.divide(migrants, factor[:, None, None], out=migrants.copy(),
                       where=factor[:, None, None] > 0)
    return scaled, {"component": "migration", "change": "the 2010s' census residual held "
                    "constant (no convergence)", "kind": "scenario assumption"}


def _resolve(config_path: object, relative: str):
    from pathlib import Path

    path = Path(relative)
    if path.is_absolute() or config_path is None:
        return path
    return Path(str(config_path)).parent / path
