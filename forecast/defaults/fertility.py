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


def children_0_4_births_2010(unit_ids: list[str]) -> np.ndarray:
    """Mean annual births of the five years before the 2010 census seen in its children aged
    0–4 (persons ÷ 5, no allowance for their few deaths) (U,); NaN where absent."""
    groups = census_groups(unit_ids, 2010)  # 0, 1–4, 5–9, ...
    return groups[:, :, :2].sum(axis=(1, 2)) / 5.0


@lru_cache(maxsize=1)
def _province_births_2010() -> tuple[float, float]:
    """The 31 provinces' census births: (12 months before the census, 出生率 × persons; mean
    of the five years before it, from children aged 0–4)."""
    provinces = census.load_units(2010)
    ids = provinces[provinces.level == "province"].unit_id.tolist()
    persons = census_groups(ids, 2010).sum(axis=(1, 2))
    return (float((crude_birth_rate_2010(ids) / 1000.0 * persons).sum()),
            float(children_0_4_births_2010(ids).sum()))


BIRTH_MEASURE_WEIGHT = 0.5  # weight of the 12-month 出生率 against the 0-4 count (assumption)


def birth_level_2010(unit_ids: list[str], population: np.ndarray, mx: np.ndarray
                     ) -> tuple[np.ndarray, list[dict]]:
    """Factors (U,) on the census-age-0 TFR of a 2010 base, and a note per unit.

    A unit's births are measured twice by the 2010 census, both times known in 2010: its own
    出生率 of the 12 months before the census (births × persons, the 2010 indicator table),
    and its children aged 0–4 (the mean births of the five years before, which one year's
    misreporting moves less). Each is scaled so that the provinces together have NBS's
    registered births of 2010 (published in the 2010 communiqué; 1,588万 against the
    census's 1,390万 in the 12 months), which lifts the census's under-count shared by every
    unit, and the unit's births are their geometric mean (weights ``BIRTH_MEASURE_WEIGHT``,
    equal: an assumption; on half A of the provinces' prefectures the backtest's 0–4 MAPE is
    18.7 % with the 出生率 alone, 17.9 % with the 0–4 count alone and 18.0 % with both;
    ``benchmarks/backtest_halves.py``). The factor is these births over the births implied
    by children aged 0 (:func:`census_births`). Units without a census 出生率 use the 0–4
    count alone.
    """
    registered = float(nbs_births().loc[2010])
    census_12m, census_0_4 = _province_births_2010()
    age0_births = census_births(population, mx)
    persons = population.sum(axis=(1, 2))
    cbr = crude_birth_rate_2010(unit_ids)
    is_national = np.array([u == census.NATIONAL_ID for u in unit_ids])
    cbr = np.where(is_national, 1000.0 * census_12m / np.maximum(persons, 1.0), cbr)
    births_12m = cbr / 1000.0 * persons * registered / census_12m
    births_0_4 = children_0_4_births_2010(list(unit_ids)) * registered / census_0_4
    has_cbr = np.isfinite(births_12m) & (births_12m > 0)
    weight = np.where(has_cbr, BIRTH_MEASURE_WEIGHT, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        births = np.exp(weight * np.log(np.where(has_cbr, births_12m, 1.0))
                        + (1.0 - weight) * np.log(births_0_4))
        factor = births / age0_births
    usable = np.isfinite(factor) & (age0_births > 0)
    factor = np.where(usable, factor, registered / census_12m)
    notes = [{"birth_level": {
        "method": BIRTH_LEVEL_2010_MEASURES if k else BIRTH_LEVEL_2010_MEASURES_NO_CBR,
        "source": f"{CENSUS_SOURCE}; data/census_indicators.csv; NBS, data/{NBS_BIRTHS_FILE}",
        "census_cbr": round(float(c), 3) if k else None,
        "births_12_months": round(float(b12), 1) if k else None,
        "births_from_0_4": round(float(b04), 1) if np.isfinite(b04) else None,
        "factor_on_age0_tfr": round(float(f), 4)}}
        for k, c, b12, b04, f in zip(has_cbr, cbr, births_12m, births_0_4, factor, strict=True)]
    return factor, notes


BIRTH_LEVEL_2010_MEASURES = (
    "geometric mean of the census birth rate of the 12 months before the census and the mean "
    "births of the five years before it (children aged 0-4), each × NBS registered births "
    "2010 / the provinces' census births")
BIRTH_LEVEL_2010_MEASURES_NO_CBR = (
    "mean births of the five years before the census (children aged 0-4) × NBS registered "
    "births 2010 / the provinces' census births (no census birth rate)")


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
