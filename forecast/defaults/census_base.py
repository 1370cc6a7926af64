"""A unit's census base: its population by sex and age group, the 85+ spread, and the 2010 census's
indicators and unit matching used by the local rates."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census, crosswalk, wpp
from forecast.defaults.schedules import CENSUS_STARTS
from forecast.demography.graduation import graduate, old_age_pattern_from_groups
from forecast.paths import data_dir
from forecast.vocabulary import OPEN_AGE, SEXES


@lru_cache(maxsize=2)
def _census_groups_table(census_year: int) -> pd.DataFrame:
    """Persons by unit (rows) and (sex, age_start) (columns), census layout."""
    frame = pd.read_csv(data_dir() / "census_population_5yr.csv",
                        dtype={"unit_id": str, "sex": str}, keep_default_na=False,
                        na_values={"age_end": [""]})
    frame = frame[frame.census_year == census_year]
    wide = frame.pivot_table(index="unit_id", columns=["sex", "age_start"], values="population",
                             aggfunc="sum")
    columns = pd.MultiIndex.from_product([list(SEXES), CENSUS_STARTS])
    wide = wide.reindex(columns=columns)
    if census_year == 2010:  # and every 2020 unit's area in 2010 ("532500@2020", crosswalk)
        on_2020 = crosswalk.groups_on_2020(census.load_units(2020).unit_id.tolist(), wide,
                                           _census_groups_table(2020))
        wide = pd.concat([wide, on_2020])
    return wide


def census_groups(unit_ids: list[str], census_year: int) -> np.ndarray:
    """Persons (U, 2, 19) in 0, 1–4, ..., 85+ for each unit; NaN rows where a unit is absent.

    For 2010, ids may also be keys of 2020 units' areas (``crosswalk.key_on_2020_boundaries``,
    e.g. ``340100@2020``: 合肥 with 庐江 and 巢湖), as :func:`match_2010` returns them."""
    table = _census_groups_table(census_year).reindex(unit_ids)
    return table.to_numpy(dtype=float).reshape(len(unit_ids), 2, len(CENSUS_STARTS))


def old_age_pattern(year: int) -> np.ndarray:
    """WPP China distribution of the 85+ over single ages 85..100 by sex (2, 16)."""
    return _old_age_pattern(int(year)).copy()


@lru_cache(maxsize=16)
def _old_age_pattern(year: int) -> np.ndarray:
    # cached: every batch of units graduates with the same few years' patterns
    rows = []
    for sex in SEXES:
        shares = wpp.wpp_old_age_pattern(year, sex).proportion.to_numpy()
        rows.append(old_age_pattern_from_groups(*shares))
    return np.stack(rows)


def base_population(unit_ids: list[str], census_year: int) -> np.ndarray:
    """Single-year census population (U, 2, 101), persons, totals exact by group."""
    groups = census_groups(unit_ids, census_year)
    return graduate(groups, CENSUS_STARTS, open_age_pattern=old_age_pattern(census_year),
                    open_age=OPEN_AGE)


RATE_INDICATORS_2010 = ("crude_birth_rate", "crude_death_rate", "natural_growth_rate")


MIN_RATE_COVERAGE = 0.95  # share of an area's 2010 persons whose units report a rate


@lru_cache(maxsize=1)
def _indicators() -> pd.DataFrame:
    """census_indicators.csv, plus the 2010 crude rates of 2020 units' areas where they differ
    from a 2010 unit's (keys ``<unit_id>@2020``): persons-weighted over the 2010 units in the
    area, where units reporting the rate hold at least 95 % of its 2010 persons."""
    table = pd.read_csv(data_dir() / "census_indicators.csv", dtype={"unit_id": str})
    rates = table[(table.census_year == 2010) & table.indicator.isin(RATE_INDICATORS_2010)]
    wide = rates.pivot_table(index="unit_id", columns="indicator", values="value")
    persons_2010, persons_2020 = _persons(2010), _persons(2020)
    rows = []
    for unit_id in persons_2020:
        if crosswalk.same_area_2010(unit_id) is not None:
            continue
        weights = crosswalk.leaf_weights(unit_id, persons_2020)
        if not weights:
            continue
        persons = pd.Series({a: w * persons_2010.get(a, 0.0) for a, w in weights.items()})
        for indicator in RATE_INDICATORS_2010:
            if indicator not in wide:
                continue
            values = wide[indicator].reindex(persons.index)
            known = values.notna() & (persons > 0)
            if persons.sum() <= 0 or persons[known].sum() < MIN_RATE_COVERAGE * persons.sum():
                continue
            value = float((values[known] * persons[known]).sum() / persons[known].sum())
            rows.append({"census_year": 2010,
                         "unit_id": crosswalk.key_on_2020_boundaries(unit_id),
                         "indicator": indicator, "value": value,
                         "unit": rates[rates.indicator == indicator].unit.iloc[0]})
    return pd.concat([table, pd.DataFrame(rows, columns=table.columns)], ignore_index=True)


def crude_death_rate_2010(unit_ids: list[str]) -> np.ndarray:
    """2010 census deaths in the 12 months before the census per 1,000 (U,); NaN if absent."""
    return _crude_death_rates_2010().reindex(unit_ids).to_numpy(dtype=float)


@lru_cache(maxsize=1)
def _crude_death_rates_2010() -> pd.Series:
    ind = _indicators()
    rows = ind[(ind.census_year == 2010) & (ind.indicator == "crude_death_rate")]
    return rows.set_index("unit_id")["value"]


@lru_cache(maxsize=8192)
def match_2010(unit: census.Unit) -> tuple[str | None, str]:
    """The key of a unit's area in the 2010 census tables, and how it was found.

    A 2010 unit is its own key. For a 2020 unit (:mod:`forecast.defaults.crosswalk`): the 2010 unit
    covering exactly its area where there is one (unchanged, re-coded or renamed units); else
    its area rebuilt from the 2010 units now inside it (``<unit_id>@2020``); None where no 2010
    area maps to it (development zones and 兵团 cities carved out of other units after 2010).
    """
    if unit.census_year == 2010:
        return unit.unit_id, f"2010 census unit {unit.code or unit.unit_id}"
    same = crosswalk.same_area_2010(unit.unit_id)
    if same == unit.unit_id:
        return same, f"matched 2010 unit by code {unit.code or unit.unit_id} (same area)"
    if same is not None:
        return same, (f"same area as 2010 unit {same} ({_name_2010(same)}): code or name "
                      "changed (data/unit_changes_2010_2020.csv, forecast.defaults.crosswalk)")
    status = crosswalk.status(unit.unit_id)
    key = crosswalk.key_on_2020_boundaries(unit.unit_id)
    if status == "exact":
        return key, ("2010 area rebuilt on 2020 boundaries: the sum of the 2010 units now "
                     "inside it (boundary changed after 2010; forecast.defaults.crosswalk)")
    if status == "apportioned":
        return key, ("2010 area estimated: part of a 2010 unit split after 2010, apportioned by "
                     "the 2020 persons of each age group and sex (assumption; forecast."
                     "crosswalk)")
    return None, (f"no 2010 area: {unit.name} ({unit.code or unit.unit_id}) was formed after "
                  "2010 from parts of other units")


@lru_cache(maxsize=1)
def _names_2010() -> dict[str, str]:
    units = census.load_units(2010)
    return dict(zip(units.unit_id, units.name, strict=True))


def _name_2010(unit_id: str) -> str:
    return _names_2010().get(unit_id, unit_id)


def population_from_table(table: pd.DataFrame, census_year: int) -> np.ndarray:
    """A user's census table (sex, age_start, age_end, population) as single years (2, 101).

    Groups are graduated like the bundled census; an open group starting at 85 is spread with
    the WPP China old-age distribution of ``census_year``, one starting at 100 or above needs no
    pattern, any other open group uses the graduation's stationary (Gompertz) pattern.
    """
    starts = sorted(int(a) for a in table.age_start.unique())
    wide = table.pivot_table(index="sex", columns="age_start", values="population",
                             aggfunc="sum").reindex(index=list(SEXES), columns=starts)
    counts = wide.to_numpy(dtype=float)
    open_start = starts[-1]
    pattern = old_age_pattern(census_year) if open_start == 85 else None
    return graduate(counts, starts, open_age_pattern=pattern, open_age=OPEN_AGE)


def registered_share_2010(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Residents (常住) and 户籍-registered persons of 2010 areas (U,), U = ``keys``.

    A key is a 2010 unit id or a 2020 unit's area on 2020 boundaries (``<unit_id>@2020``,
    :func:`match_2010`), summed over the 2010 units inside it with the crosswalk's shares.
    NaN where a unit in the area reports no registered population."""
    residents, registered = _registered_2010()
    persons_2020 = _persons(2020)
    out_res, out_reg = np.full(len(keys), np.nan), np.full(len(keys), np.nan)
    for i, key in enumerate(keys):
        if key.endswith(crosswalk.SUFFIX):
            weights = crosswalk.leaf_weights(key[:-len(crosswalk.SUFFIX)], persons_2020)
        else:
            weights = {key: 1.0}
        if not weights or any(a not in registered for a in weights):
            continue
        out_res[i] = sum(w * residents[a] for a, w in weights.items())
        out_reg[i] = sum(w * registered[a] for a, w in weights.items())
    return out_res, out_reg


@lru_cache(maxsize=1)
def _registered_2010() -> tuple[dict[str, float], dict[str, float]]:
    """2010 residents and 户籍-registered persons by unit id, the nation's as the sum of its
    31 provinces (the yearbook has no national 户籍 row)."""
    table = _indicators()
    rows = table[(table.census_year == 2010) & (table.indicator == "registered_population")]
    registered = dict(zip(rows.unit_id, rows.value.astype(float), strict=True))
    units = census.load_units(2010)
    provinces = units.loc[units.level == "province", "unit_id"].tolist()
    residents = {**_persons(2010),
                 census.NATIONAL_ID: sum(_persons(2010)[p] for p in provinces)}
    if all(p in registered for p in provinces):
        registered[census.NATIONAL_ID] = sum(registered[p] for p in provinces)
    return residents, registered


@lru_cache(maxsize=2)
def _persons(census_year: int) -> dict[str, float]:
    """Persons (常住, the census total) by unit id of one census."""
    units = census.load_units(census_year)
    return dict(zip(units.unit_id, units.pop_total.astype(float), strict=True))
