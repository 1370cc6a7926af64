"""Service demand from a projection: elderly-care beds (养老床位) and under-3 places (托位).

Input is a projection, a tidy DataFrame ``population`` with columns ``year, sex, age, population``
(persons; ``sex`` is ``male``/``female``; ``age`` 0..A, A the open group), optionally preceded by
key columns (``scenario``, ``trajectory`` ...) that are carried through every result.

Every default parameter comes from ``data/care_parameters.csv`` (one row per parameter with its
unit, range, source and confidence H/M/L/D/A; see :func:`load_care_parameters`). Parameters whose
confidence is ``A`` are modelling assumptions without a source; :func:`assumption_labels` lists
them and every demand row names the assumptions it rests on in its ``assumptions`` column.

Output format (one tidy long table, documented once here)::

    [keys..., year, service, method, value, unit, assumptions]

- ``service`` ``elderly_beds``: ``method`` ``norm`` (norm per 1,000 aged 60+), ``needs``
  (residents needing institutional care ÷ target occupancy), ``expected_use`` (residents as
  the nation's institutions house them today ÷ observed occupancy) and ``rule_9073`` (3 % of
  the 60+); unit ``beds``.
- ``service`` ``nursing_beds``: nursing-type (护理型) beds. ``needs`` and ``expected_use``
  from the mix of need: residents mapped to care levels (the severely disabled, and the
  moderately disabled with dementia, need a nursing-type bed; E13), at each method's
  occupancy; ``norm`` and ``rule_9073`` (planning standards) the share target (E2, a share of
  institutional beds) × their institutional beds (the norm's beds × the institutional share
  E12; 9073's places are institutional already); unit ``beds``.
- ``service`` ``childcare_places``: ``method`` ``norm`` (per 1,000 total population) and ``needs``
  (ages 0, 1, 2 × demand rate × uptake ÷ target utilisation); unit ``places``.
- ``service`` ``driver``: the quantities demand is built from, ``method`` naming each one
  (``pop_total``, ``pop_0_2``, ``pop_60plus``, ``pop_65plus``, ``pop_80plus``,
  ``severe_disabled``, ``moderate_disabled``, ``residents_needing_care``,
  ``residents_nursing_level``, ``residents_expected``, ``children_wanting_care``); unit
  ``persons``.

:func:`drivers` gives the population drivers as one wide row per ``[keys..., year]``, which is
what :mod:`forecast.care.supply` uses to turn targets and supply into rates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from forecast.demography.indicators import count_from_rate, persons_in_band
from forecast.errors import InputError
from forecast.paths import data_dir
from forecast.vocabulary import SEXES

PARAMETER_FILE = "care_parameters.csv"
PARAMETER_COLUMNS = ("key", "value", "unit", "low", "high", "source", "confidence")
CONFIDENCE_LEVELS = ("H", "M", "L", "D", "A")
POPULATION_COLUMNS = ("year", "sex", "age", "population")
DEMAND_COLUMNS = ("year", "service", "method", "value", "unit", "assumptions")
DRIVER_COLUMNS = ("pop_total", "pop_0_2", "pop_60plus", "pop_65plus", "pop_80plus")


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------

def load_care_parameters(path: str | Path | None = None) -> pd.DataFrame:
    """The care-demand parameter table: one row per parameter.

    Columns ``key, value, unit, low, high, source, confidence``; ``value``, ``low`` and ``high``
    are floats (``low``/``high`` NaN where no range is stated). Default path:
    ``data_dir()/care_parameters.csv``.
    """
    csv_path = Path(path) if path is not None else data_dir() / PARAMETER_FILE
    if not csv_path.is_file():
        raise InputError("care parameter table not found", path=csv_path,
                         fix="restore data/care_parameters.csv or set FORECAST_DATA_DIR")
    # parsed once per process and file content (a run asks for it some 40 times); a copy, so
    # a caller changing its table changes no other caller's
    return _read_care_parameters(csv_path, csv_path.read_bytes()).copy()


@functools.lru_cache(maxsize=8)
def _read_care_parameters(csv_path: Path, content: bytes) -> pd.DataFrame:
    """The checked table of :func:`load_care_parameters` from the file's ``content`` (which
    keys the cache: an edited file is parsed again)."""
    import io

    table = pd.read_csv(io.BytesIO(content), encoding="utf-8")
    missing = [c for c in PARAMETER_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"missing columns {missing}", path=csv_path,
                         fix=f"use the header {','.join(PARAMETER_COLUMNS)}")
    duplicated = table["key"][table["key"].duplicated()].tolist()
    if duplicated:
        raise InputError(f"duplicate keys {duplicated}", path=csv_path, field="key",
                         fix="keep one row per parameter")
    bad = table.loc[~table["confidence"].isin(CONFIDENCE_LEVELS), "key"].tolist()
    if bad:
        raise InputError(f"rows {bad} have a confidence outside {CONFIDENCE_LEVELS}",
                         path=csv_path, field="confidence", fix="use one of H, M, L, D, A")
    for column in ("value", "low", "high"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    no_value = table.loc[table["value"].isna(), "key"].tolist()
    if no_value:
        raise InputError(f"rows {no_value} have no numeric value", path=csv_path,
                         field="value", fix="give every parameter a number")
    return table.loc[:, list(PARAMETER_COLUMNS)]


@functools.lru_cache(maxsize=4)
def _parameter_values(csv_path: str) -> dict[str, float]:
    table = load_care_parameters(csv_path)
    return dict(zip(table["key"], table["value"].astype(float), strict=True))


def _values() -> dict[str, float]:
    return _parameter_values(str(data_dir() / PARAMETER_FILE))


def _value(key: str) -> float:
    values = _values()
    if key not in values:
        raise InputError(f"parameter '{key}' is missing", path=data_dir() / PARAMETER_FILE,
                         field="key", fix=f"add a row for {key}")
    return values[key]


def _schedule(prefix: str) -> tuple[tuple[int, float], ...]:
    """Rows ``{prefix}{start}_{end}`` / ``{prefix}{start}plus`` as ``((start_age, value), ...)``."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)(?:_\d+|plus)?$")
    rows = sorted((int(m.group(1)), value) for key, value in _values().items()
                  if (m := pattern.match(key)))
    if not rows:
        raise InputError(f"no rows for the schedule '{prefix}*'",
                         path=data_dir() / PARAMETER_FILE, field="key",
                         fix=f"add rows such as {prefix}60_64")
    return tuple(rows)


def assumption_labels(path: str | Path | None = None) -> pd.DataFrame:
    """Parameters with confidence ``A`` (assumptions, no source): ``key, value, unit, source``."""
    table = load_care_parameters(path)
    return table.loc[table["confidence"] == "A", ["key", "value", "unit", "source"]].reset_index(
        drop=True)


CHILDCARE_PATHS = ("policy", "full_uptake")


def _observed_uptake() -> tuple[tuple[int, float], ...]:
    """Observed enrolment ÷ demand share (C4/C3): ``((2021, 0.165), (2025, 0.36))``."""
    share = _value("childcare_demand_share")
    return tuple(sorted((int(m.group(1)), v / share) for k, v in _values().items()
                        if (m := re.match(r"^childcare_enrolment_(\d{4})$", k))))


def childcare_uptake_path(path: str = "policy") -> tuple[tuple[int, float], ...]:
    """Uptake (share of the expressed demand that is enrolled) by year, anchored on observed
    enrolment in 2021 and 2025 (C4). ``policy`` (the default): then linear to the assumed
    2035 enrolment (``childcare_enrolment_policy_2035``, 15 % of under-3s); ``full_uptake`` (the
    ceiling scenario): linear to the whole expressed demand (1.0) in
    ``childcare_full_uptake_year``."""
    if path not in CHILDCARE_PATHS:
        raise InputError(f"unknown childcare path '{path}'", field="demand.childcare.path",
                         fix=f"use one of {', '.join(CHILDCARE_PATHS)}")
    if path == "full_uptake":
        end = (int(round(_value("childcare_full_uptake_year"))), 1.0)
    else:
        end = (2035, _value("childcare_enrolment_policy_2035") / _value("childcare_demand_share"))
    return _observed_uptake() + (end,)


def _childcare_uptake_default() -> tuple[tuple[int, float], ...]:
    return childcare_uptake_path("policy")


@dataclass(frozen=True)
class ElderlyCareParameters:
    """Parameters for elderly-care bed demand (defaults from ``data/care_parameters.csv``).

    Schedules are ``((start_age, value), ...)``: the value holds from ``start_age`` up to the
    next start age, the last one to the open age group.

    ``prevalence_trend`` defaults to −1 % a year (E11, confidence M): CHNS, CLHLS and the 2010→2020
    censuses all show falling age-specific disability, so holding it constant would bias need
    upward; run ``prevalence_trend=0`` as the constant-disability scenario (the CSV's ``high``).
    """

    norm_per_1000: float = field(default_factory=lambda: _value("elderly_norm_per_1000_60plus"))
    nursing_share: float = field(default_factory=lambda: _value("nursing_share"))
    severe_schedule: tuple[tuple[int, float], ...] = field(
        default_factory=lambda: _schedule("severe_disability_"))
    any_disability_schedule: tuple[tuple[int, float], ...] = field(
        default_factory=lambda: _schedule("disability_any_"))
    female_male_ratio: float = field(
        default_factory=lambda: _value("disability_female_male_ratio"))
    reference_female_share: tuple[tuple[int, float], ...] = field(
        default_factory=lambda: _schedule("national_2020_female_share_"))
    u_severe: float = field(default_factory=lambda: _value("u_severe"))
    u_moderate: float = field(default_factory=lambda: _value("u_moderate"))
    target_occupancy: float = field(default_factory=lambda: _value("target_occupancy"))
    observed_occupancy: float = field(default_factory=lambda: _value("actual_occupancy"))
    observed_residents_national: float = field(
        default_factory=lambda: _value("national_institution_residents_2020"))
    prevalence_trend: float = field(default_factory=lambda: _value("disability_trend"))
    rule_9073_share: float = field(
        default_factory=lambda: _value("rule_9073_institutional_share"))
    institutional_share: float = field(
        default_factory=lambda: _value("institutional_share_of_beds"))
    nursing_level_severe: float = field(
        default_factory=lambda: _value("nursing_level_severe_share"))
    nursing_level_moderate: float = field(
        default_factory=lambda: _value("nursing_level_moderate_share"))


@dataclass(frozen=True)
class ChildcareParameters:
    """Parameters for under-3 childcare place demand (defaults from ``data/care_parameters.csv``).

    ``demand_share`` is the share of under-3s whose families want care (C3); ``age_profile`` its
    split over ages 0, 1, 2 (C6), so ``demand_rate(a) = demand_share × 3 × age_profile(a)``
    (persons wanting care per child of age a; on equal cohorts the mean is ``demand_share``).
    ``uptake_path`` is ``((year, uptake), ...)``, linear between points and constant outside.
    """

    norm_per_1000_population: float = field(
        default_factory=lambda: _value("childcare_norm_per_1000_population"))
    demand_share: float = field(default_factory=lambda: _value("childcare_demand_share"))
    age_profile: tuple[tuple[int, float], ...] = field(
        default_factory=lambda: _schedule("childcare_demand_profile_age_"))
    uptake_path: tuple[tuple[int, float], ...] = field(default_factory=_childcare_uptake_default)
    uptake_source: str = "childcare_enrolment_policy_2035"
    target_utilisation: float = field(
        default_factory=lambda: _value("childcare_target_utilisation"))

    def demand_rate(self) -> dict[int, float]:
        """Children wanting care per child, by single age (0, 1, 2)."""
        total = sum(share for _, share in self.age_profile)
        n_ages = len(self.age_profile)
        return {age: self.demand_share * n_ages * share / total for age, share in self.age_profile}

    def uptake(self, years: np.ndarray) -> np.ndarray:
        """Share of the expressed demand enrolled, for each year."""
        path_years, path_values = zip(*self.uptake_path, strict=True)
        return np.interp(np.asarray(years, float), path_years, path_values)


# ---------------------------------------------------------------------------------------------
# Population as arrays
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PopulationCube:
    """A projection as one array: ``counts[group, sex, age]`` persons, sex axis (male, female).

    ``groups`` has one row per ``[keys..., year]`` (position = first axis of ``counts``).
    """

    groups: pd.DataFrame
    counts: np.ndarray
    keys: tuple[str, ...]

    @property
    def open_age(self) -> int:
        return self.counts.shape[2] - 1


def population_cube(population: pd.DataFrame) -> PopulationCube:
    """Pivot a tidy projection into a :class:`PopulationCube` (vectorised, no per-group loops).

    Every ``[keys..., year]`` group must hold both sexes and every age 0..A exactly once.
    """
    missing = [c for c in POPULATION_COLUMNS if c not in population.columns]
    if missing:
        raise InputError(f"projection lacks columns {missing}", field="population",
                         fix="pass a table with columns year, sex, age, population")
    keys = tuple(c for c in population.columns if c not in POPULATION_COLUMNS)
    group_cols = [*keys, "year"]
    sex_text = population["sex"].to_numpy()
    sex_code = np.where(sex_text == SEXES[0], 0, np.where(sex_text == SEXES[1], 1, -1))
    if (sex_code < 0).any():
        bad = sorted(set(population["sex"][sex_code < 0].astype(str)))[:3]
        raise InputError(f"unknown sex values {bad}", field="sex", fix="use male or female")
    ages = population["age"].to_numpy()
    if len(ages) == 0 or ages.min() < 0 or not np.all(np.equal(np.mod(ages, 1), 0)):
        raise InputError("ages must be whole years 0..A", field="age",
                         fix="give single years of age starting at 0")
    ages = ages.astype(np.int64)
    n_ages = int(ages.max()) + 1
    values = population["population"].to_numpy(dtype=float)
    fast = _canonical_blocks(population, group_cols, sex_code, ages, n_ages)
    if fast is not None:
        return PopulationCube(fast, values.reshape(len(fast), 2, n_ages), keys)
    group_code = population.groupby(group_cols, sort=True, dropna=False).ngroup().to_numpy()
    n_groups = int(group_code.max()) + 1
    cell = (group_code * 2 + sex_code) * n_ages + ages
    if len(cell) != n_groups * 2 * n_ages or np.bincount(cell, minlength=len(cell)).max() != 1:
        raise InputError("projection is not one row per year, sex and age 0..A in every group",
                         field="population", fix="give each year both sexes and every age once")
    counts = np.empty(n_groups * 2 * n_ages)
    counts[cell] = values
    first = np.unique(group_code, return_index=True)[1]
    groups = population.iloc[first][group_cols].reset_index(drop=True)
    groups["year"] = groups["year"].astype(int)
    return PopulationCube(groups, counts.reshape(n_groups, 2, n_ages), keys)


def _canonical_blocks(population: pd.DataFrame, group_cols: list[str], sex_code: np.ndarray,
                      ages: np.ndarray, n_ages: int) -> pd.DataFrame | None:
    """The groups table if rows already come in blocks of (male 0..A, female 0..A) per group
    (the engine's order), else None. Lets a large projection skip hashing every row."""
    block = 2 * n_ages
    n_rows = len(ages)
    if n_rows % block:
        return None
    n_groups = n_rows // block
    if not (np.array_equal(ages, np.tile(np.arange(n_ages), 2 * n_groups))
            and np.array_equal(sex_code, np.tile(np.repeat([0, 1], n_ages), n_groups))):
        return None
    groups = population.iloc[::block][group_cols].reset_index(drop=True)
    for column in group_cols:
        if not np.array_equal(population[column].to_numpy(),
                              np.repeat(groups[column].to_numpy(), block)):
            return None
    if groups.duplicated().any():
        return None
    groups["year"] = groups["year"].astype(int)
    return groups


def _as_cube(population: pd.DataFrame | PopulationCube) -> PopulationCube:
    return population if isinstance(population, PopulationCube) else population_cube(population)


def drivers(population: pd.DataFrame | PopulationCube) -> pd.DataFrame:
    """Population drivers, one row per ``[keys..., year]``: ``pop_total, pop_0_2, pop_60plus,
    pop_65plus, pop_80plus`` (persons)."""
    cube = _as_cube(population)
    by_age = cube.counts.sum(axis=1)
    out = cube.groups.copy()
    out["pop_total"] = by_age.sum(axis=1)
    for band in ("pop_0_2", "pop_60plus", "pop_65plus", "pop_80plus"):
        out[band] = persons_in_band(by_age, band)
    return out


def drivers_from_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """The wide driver table (as :func:`drivers`) from the ``driver`` rows of a demand table."""
    keys = [c for c in demand.columns if c not in DEMAND_COLUMNS]
    rows = demand[demand["service"] == "driver"]
    wide = rows.pivot_table(index=[*keys, "year"], columns="method", values="value",
                            aggfunc="first", observed=True)
    wide.columns.name = None
    return wide.reset_index()


def _long(groups: pd.DataFrame, rows: list[tuple[str, str, str, str, np.ndarray]]) -> pd.DataFrame:
    """Stack ``(service, method, unit, assumptions, values)`` blocks under repeated ``groups``."""
    n = len(groups)
    index = np.tile(np.arange(n), len(rows))
    out = groups.iloc[index].reset_index(drop=True)
    for position, column in enumerate(("service", "method", "unit", "assumptions")):
        labels = [row[position] for row in rows]
        categories = list(pd.unique(np.array(labels)))
        codes = np.repeat([categories.index(label) for label in labels], n)
        out[column] = pd.Categorical.from_codes(codes, categories=categories)
    out["value"] = np.concatenate([row[4] for row in rows]) if rows else np.array([])
    return out.loc[:, [*groups.columns, "service", "method", "value", "unit", "assumptions"]]


# ---------------------------------------------------------------------------------------------
# Elderly care
# ---------------------------------------------------------------------------------------------

def _step_schedule(schedule: tuple[tuple[int, float], ...], n_ages: int) -> np.ndarray:
    """Single-age array 0..n_ages-1 from ``((start_age, value), ...)``; 0 below the first start."""
    values = np.zeros(n_ages)
    for position, (start, value) in enumerate(schedule):
        end = schedule[position + 1][0] if position + 1 < len(schedule) else n_ages
        values[start:end] = value
    return values


def prevalence_by_sex(params: ElderlyCareParameters, n_ages: int) -> tuple[np.ndarray, np.ndarray]:
    """Base-year prevalence (share of persons), arrays ``[sex, age]`` (male, female), ages 0..A.

    Returns ``(severe, moderate)``: severe = E8, moderate = E6 − E8. Each age-group rate is
    split by sex with female = ratio × male, male = rate ÷ (1 − f + ratio × f), where f is the
    female share of that age group in the 2020 national census, so the national age-group
    rates are kept exactly.
    """
    severe = _step_schedule(params.severe_schedule, n_ages)
    any_disability = _step_schedule(params.any_disability_schedule, n_ages)
    if np.any(any_disability < severe):
        raise InputError("any-disability prevalence below severe prevalence at some age",
                         field="disability_any_*", fix="check E6 and E8 rows")
    female_share = _step_schedule(params.reference_female_share, n_ages)
    male_factor = 1.0 / (1.0 - female_share + params.female_male_ratio * female_share)
    sex_factor = np.stack([male_factor, params.female_male_ratio * male_factor])
    return severe * sex_factor, (any_disability - severe) * sex_factor


@functools.lru_cache(maxsize=2)
def _national_census_by_age(n_ages: int) -> np.ndarray:
    """The 2020 national census population (unit CN) as ``[sex, age]`` persons, ages
    0..n_ages−1, each 5-year group spread evenly over its single ages (the disability
    schedules step at 5-year ages, so the spread does not change their product)."""
    from forecast.defaults.census import census_population

    table = census_population("CN", 2020)
    out = np.zeros((2, n_ages))
    for row in table.itertuples(index=False):
        start = int(row.age_start)
        end = n_ages - 1 if pd.isna(row.age_end) else min(int(row.age_end), n_ages - 1)
        out[SEXES.index(row.sex), start:end + 1] += row.population / (end - start + 1)
    return out


def expected_use_factor(params: ElderlyCareParameters, n_ages: int = 101) -> float:
    """Observed residents of institutions ÷ the needs method's residents on the same
    population: ``observed_residents_national`` (2.15 M, MCA 2020-07) ÷ Σ P_CN,2020(age, sex)
    × [π_sev × u_sev + π_mod × u_mod]. The expected-use method keeps the needs method's
    weights by need and age and scales them to what the nation's institutions actually house.
    """
    severe, moderate = prevalence_by_sex(params, n_ages)
    national = _national_census_by_age(n_ages)
    residents = ((national * severe).sum() * params.u_severe
                 + (national * moderate).sum() * params.u_moderate)
    return params.observed_residents_national / residents


def elderly_bed_demand(population: pd.DataFrame | PopulationCube,
                       params: ElderlyCareParameters | None = None,
                       base_year: int = 2020) -> pd.DataFrame:
    """Elderly-care bed demand by three methods, with nursing beds and drivers (long format).

    - norm: ``norm_per_1000 × P60+ / 1000`` beds;
    - needs: ``Σ P(age,sex) × [π_sev × u_sev + π_mod × u_mod] × (1 + trend)^(year − base_year)
      ÷ target_occupancy`` beds;
    - expected_use: the needs method's residents × :func:`expected_use_factor` (scaled to the
      residents the nation's institutions house, 2020) ÷ the observed occupancy (0.50, E3):
      registered beds if today's use and occupancy persist; the ``residents_expected`` driver
      is the occupied beds;
    - rule_9073: ``rule_9073_share × P60+`` beds;
    - nursing_beds: ``needs`` and ``expected_use``: the residents whose care level is
      nursing-type (``nursing_level_severe`` × severe residents + ``nursing_level_moderate`` ×
      moderate residents, E13) ÷ the method's occupancy (expected_use scaled as above);
      ``norm``: ``nursing_share × institutional_share ×`` the norm's beds (the share target is
      a share of institutional beds, E2; the norm counts all beds); ``rule_9073``:
      ``nursing_share ×`` its places (institutional already).

    The norm answers "beds the plan's standard asks for" (institutional + community beds); the
    needs method "institutional beds needed if need were met at planning occupancy (0.85, an
    assumption)"; expected_use "institutional beds used as today"; rule_9073 "institutional
    places of the 3 % rule of thumb".
    """
    params = params or ElderlyCareParameters()
    cube = _as_cube(population)
    return _long(cube.groups, elderly_bed_blocks(cube.counts, cube.groups["year"].to_numpy(),
                                                 params, base_year))


def elderly_bed_blocks(counts: np.ndarray, years: np.ndarray, params: ElderlyCareParameters,
                       base_year: int = 2020) -> list[tuple[str, str, str, str, np.ndarray]]:
    """The rows of :func:`elderly_bed_demand` as ``(service, method, unit, assumptions,
    values)`` blocks, one value per group of ``counts[group, sex, age]`` (``years``: each
    group's year), for callers that keep arrays (``forecast batch``)."""
    severe, moderate = prevalence_by_sex(params, counts.shape[2])
    trend = (1.0 + params.prevalence_trend) ** (years - base_year)
    severe_persons = (counts * severe).sum(axis=(1, 2)) * trend
    moderate_persons = (counts * moderate).sum(axis=(1, 2)) * trend
    residents = severe_persons * params.u_severe + moderate_persons * params.u_moderate
    nursing_residents = (severe_persons * params.u_severe * params.nursing_level_severe
                         + moderate_persons * params.u_moderate * params.nursing_level_moderate)
    by_age = counts.sum(axis=1)
    pop_60plus = persons_in_band(by_age, "pop_60plus")
    factor = expected_use_factor(params, counts.shape[2])
    expected_residents = residents * factor
    beds = {
        "norm": count_from_rate(params.norm_per_1000, pop_60plus),
        "needs": residents / params.target_occupancy,
        "expected_use": expected_residents / params.observed_occupancy,
        "rule_9073": params.rule_9073_share * pop_60plus,
    }
    needs_assumptions = "severe_disability_*; u_severe; u_moderate; target_occupancy"
    assumptions = {"norm": "", "needs": needs_assumptions,
                   "expected_use": "severe_disability_*; u_severe/u_moderate ratio",
                   "rule_9073": ""}
    nursing = {
        "norm": params.nursing_share * params.institutional_share * beds["norm"],
        "needs": nursing_residents / params.target_occupancy,
        "expected_use": nursing_residents * factor / params.observed_occupancy,
        "rule_9073": params.nursing_share * beds["rule_9073"],
    }
    levels = "; nursing_level_severe_share; nursing_level_moderate_share"
    nursing_assumptions = {m: (text + levels if m in ("needs", "expected_use") else text)
                           for m, text in assumptions.items()}
    rows = [("elderly_beds", m, "beds", assumptions[m], v) for m, v in beds.items()]
    rows += [("nursing_beds", m, "beds", nursing_assumptions[m], v)
             for m, v in nursing.items()]
    rows += [
        ("driver", "pop_total", "persons", "", by_age.sum(axis=1)),
        ("driver", "pop_60plus", "persons", "", pop_60plus),
        ("driver", "pop_65plus", "persons", "", persons_in_band(by_age, "pop_65plus")),
        ("driver", "pop_80plus", "persons", "", persons_in_band(by_age, "pop_80plus")),
        ("driver", "severe_disabled", "persons", "severe_disability_*", severe_persons),
        ("driver", "moderate_disabled", "persons", "severe_disability_*", moderate_persons),
        ("driver", "residents_needing_care", "persons", "severe_disability_*; u_severe; "
         "u_moderate", residents),
        ("driver", "residents_nursing_level", "persons", "severe_disability_*; u_severe; "
         "u_moderate" + levels, nursing_residents),
        ("driver", "residents_expected", "persons", "severe_disability_*; u_severe/u_moderate "
         "ratio", expected_residents),
    ]
    return rows


# ---------------------------------------------------------------------------------------------
# Childcare
# ---------------------------------------------------------------------------------------------

def childcare_demand(population: pd.DataFrame | PopulationCube,
                     params: ChildcareParameters | None = None) -> pd.DataFrame:
    """Under-3 childcare place demand (long format).

    - norm: ``norm_per_1000_population × P_total / 1000`` places;
    - needs: ``Σ_{a=0..2} P(a) × demand_rate(a) × uptake(year) ÷ target_utilisation`` places.
    Coverage (places ÷ ``pop_0_2``) is computed in :func:`forecast.care.supply.gaps`.
    """
    params = params or ChildcareParameters()
    cube = _as_cube(population)
    return _long(cube.groups, childcare_blocks(cube.counts, cube.groups["year"].to_numpy(),
                                               params))


def childcare_blocks(counts: np.ndarray, years: np.ndarray, params: ChildcareParameters
                     ) -> list[tuple[str, str, str, str, np.ndarray]]:
    """The rows of :func:`childcare_demand` as blocks (see :func:`elderly_bed_blocks`)."""
    by_age = counts.sum(axis=1)
    rate = np.zeros(by_age.shape[1])
    for age, value in params.demand_rate().items():
        rate[age] = value
    wanting = by_age @ rate
    enrolled = wanting * params.uptake(years)
    pop_total = by_age.sum(axis=1)
    needs_assumptions = (f"childcare_demand_profile_age_*; {params.uptake_source}; "
                         "childcare_target_utilisation")
    rows = [
        ("childcare_places", "norm", "places", "",
         count_from_rate(params.norm_per_1000_population, pop_total)),
        ("childcare_places", "needs", "places", needs_assumptions,
         enrolled / params.target_utilisation),
        ("driver", "pop_total", "persons", "", pop_total),
        ("driver", "pop_0_2", "persons", "", persons_in_band(by_age, "pop_0_2")),
        ("driver", "children_wanting_care", "persons", "childcare_demand_profile_age_*", wanting),
    ]
    return rows


def care_demand(population: pd.DataFrame | PopulationCube,
                elderly: ElderlyCareParameters | None = None,
                childcare: ChildcareParameters | None = None,
                base_year: int = 2020) -> pd.DataFrame:
    """Elderly and childcare demand in one long table (drivers listed once)."""
    cube = _as_cube(population)
    elderly_rows = elderly_bed_demand(cube, elderly, base_year)
    childcare_rows = childcare_demand(cube, childcare)
    shared = (childcare_rows["service"] == "driver") & (childcare_rows["method"] == "pop_total")
    parts = [elderly_rows, childcare_rows.loc[~shared.to_numpy()]]
    both = pd.concat(parts, ignore_index=True)
    for column in ("service", "method", "unit", "assumptions"):
        both[column] = union_categoricals([part[column] for part in parts])
    return both


def parameters_as_mapping(params: ElderlyCareParameters | ChildcareParameters) -> Mapping:
    """The parameter values a run used, for its manifest."""
    return {name: getattr(params, name) for name in params.__dataclass_fields__}
