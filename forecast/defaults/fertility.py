"""Local fertility: births implied by the census, registered births, the 2010 birth level and the
TFR estimated from the census."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census
from forecast.defaults.census_base import _indicators, census_groups
from forecast.defaults.schedules import CENSUS_SOURCE
from forecast.demography.lifetable import life_table
from forecast.paths import data_dir
from forecast.vocabulary import SEXES

TFR_PLAUSIBLE = (0.6, 2.5)  # children per woman; outside this a census estimate is flagged


def census_births(population: np.ndarray, mx: np.ndarray) -> np.ndarray:
    """Births in the 12 months before the census implied by persons aged 0 (U,): age 0 by sex
    divided by L0 of the local life table (the infants born in the year who survive to the
    census)."""
    survival_to_census = np.stack([life_table(mx[:, i], sex).Lx[..., 0]
                                   for i, sex in enumerate(SEXES)], axis=1)
    return (population[:, :, 0] / survival_to_census).sum(axis=1)


NBS_BIRTHS_FILE = "nbs_births_1949_2023.csv"


@lru_cache(maxsize=1)
def nbs_births() -> pd.Series:
    """NBS registered national births per calendar year, persons (data/nbs_births_1949_2023.csv)."""
    table = pd.read_csv(data_dir() / NBS_BIRTHS_FILE)
    return table.set_index("year").births_10k.astype(float) * 1e4


def crude_birth_rate_2010(unit_ids: list[str]) -> np.ndarray:
    """2010 census births in the 12 months before the census per 1,000 (U,); NaN if absent."""
    ind = _indicators()
    rows = ind[(ind.census_year == 2010) & (ind.indicator == "crude_birth_rate")]
    return rows.set_index("unit_id")["value"].reindex(unit_ids).to_numpy(dtype=float)


@lru_cache(maxsize=1)
def _national_birth_level_2010() -> tuple[float, float]:
    """(NBS registered births of 2010 ÷ the 2010 census's births of the 12 months before the
    census, the census births in persons): the 31 provinces' 出生率 × their census persons."""
    provinces = census.load_units(2010)
    ids = provinces[provinces.level == "province"].unit_id.tolist()
    persons = census_groups(ids, 2010).sum(axis=(1, 2))
    census_total = float((crude_birth_rate_2010(ids) / 1000.0 * persons).sum())
    return float(nbs_births().loc[2010]) / census_total, census_total


def birth_level_2010(unit_ids: list[str], population: np.ndarray, mx: np.ndarray
                     ) -> tuple[np.ndarray, list[dict]]:
    """Factors (U,) on the census-age-0 TFR of a 2010 base, and a note per unit.

    The local level is the census's own 出生率 of the 12 months before the census (births ×
    persons, from the 2010 indicator table) rather than children aged 0 alone; the national
    level is NBS's registered births of 2010 (published in the 2010 communiqué, so known in
    2010) over the census's births of all provinces, which lifts the census's under-count of
    births, shared by every unit, to the registered level (2010: 1,588万 registered against
    the census's 1,390万). Units without a census birth rate keep their age-0 estimate, times
    the national factor.
    """
    national, census_total = _national_birth_level_2010()
    age0_births = census_births(population, mx)
    persons = population.sum(axis=(1, 2))
    cbr = crude_birth_rate_2010(unit_ids)
    cbr = np.where(np.array([u == census.NATIONAL_ID for u in unit_ids]),
                   1000.0 * census_total / np.maximum(persons, 1.0), cbr)
    known = np.isfinite(cbr) & (age0_births > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(known, cbr / 1000.0 * persons / age0_births, 1.0)
    notes = [{"birth_level": {
        "method": ("census birth rate of the 12 months before the census (2010 indicator "
                   "table) " if k else "census children aged 0 (no census birth rate) ")
        + "× NBS registered births 2010 / the census's births of all provinces",
        "source": f"{CENSUS_SOURCE}; data/census_indicators.csv; NBS, data/{NBS_BIRTHS_FILE}",
        "census_cbr": round(float(c), 3) if k else None,
        "local_factor": round(float(lo), 4), "national_factor": round(national, 4)}}
        for k, c, lo in zip(known, cbr, local, strict=True)]
    return national * local, notes


def estimate_tfr(population: np.ndarray, mx: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Period TFR in the 12 months before the census from the census itself (U,).

    births = persons aged 0 / (L0 / l0) of the local life table (infants born in the year and
    surviving to the census); women exposed at age x over that year ≈ (W(x) + W(x+1)) / 2 at
    the census; TFR = births / Σ pattern(x) × exposed women(x).
    """
    age0 = population[:, :, 0].sum(axis=1)
    births = census_births(population, mx)
    women = population[:, 1, :]
    exposed = 0.5 * (women + np.concatenate([women[:, 1:], women[:, -1:]], axis=1))
    weighted = (exposed * pattern).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tfr = births / weighted
    return np.where(age0 > 0, tfr, np.nan)
