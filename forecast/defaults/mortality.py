"""Local mortality: the national schedule made consistent with the census population, the unit's
level against it (2010-census SMRs, provincial registered deaths), its fade over the oldest ages,
and fitting a schedule to a life expectancy."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census, wpp
from forecast.defaults.census_base import (
    base_population,
    census_groups,
    crude_death_rate_2010,
    match_2010,
    old_age_pattern,
)
from forecast.defaults.registered import (
    CALIBRATION_YEAR,
    REGISTERED_SOURCE,
    _province_code,
    _province_unit,
    registered_rate,
)
from forecast.defaults.schedules import AGES, CENSUS_STARTS, national_mx
from forecast.demography.graduation import graduate
from forecast.demography.lifetable import life_table
from forecast.paths import data_dir
from forecast.vocabulary import OPEN_AGE, SEXES

K_LIMITS = (0.4, 2.5)  # plausible local/national mortality ratios; outside -> clipped, warned


STRUCTURE_MIN_AGE = 40  # below this the census/WPP ratio reflects child under-count, not deaths


@lru_cache(maxsize=4)
def structure_factor(census_year: int, known_until: int | None = None) -> np.ndarray:
    """WPP's population over the census's, by sex and single age (2, 101), 1 below age 40.

    WPP's rates are WPP's deaths over WPP's population. Its 2020 population has fewer old
    people than the 2020 census counted (men 80-84: 12 % fewer, 85+: 23 % fewer), so WPP's
    rates applied to the census overstate deaths (China 2021: 7.99 ‰ against 7.54 ‰ in WPP and
    7.18 ‰ registered). Multiplying the rates by this ratio keeps WPP's deaths by age and sex
    and puts them over the population we project. Ratios are by 5-year group at the census
    date (WPP's 1 July populations of the census year and five years later, log-linear to
    1 November), the 85+ as one group, interpolated linearly between group centres.

    With ``known_until`` (a 2010 base) no WPP population after that year is read: the census
    year's 1 July population is carried to 1 November with the growth of the five years
    before it (e.g. 2005 → 2010), so the factor uses nothing a forecaster lacked in 2010.
    """
    table = wpp.wpp_population_5yr()
    groups = census_groups([census.NATIONAL_ID], census_year)[0]  # (2, 19)
    census5 = np.concatenate([groups[:, :2].sum(axis=1, keepdims=True), groups[:, 2:]], axis=1)
    starts = np.arange(0, 90, 5)  # 0-4 ... 80-84, 85+
    centres = np.append(starts[:-1] + 2.5, 90.0)
    out = np.ones((2, 101))
    backward = known_until is not None and census_year + 5 > known_until
    pair = (census_year - 5, census_year) if backward else (census_year, census_year + 5)
    for i, sex in enumerate(SEXES):
        rows = table[(table.sex == sex) & table.variant.isin(["estimate", "median"])]
        earlier, later = (rows[rows.year == year].sort_values("age_start").population
                          .to_numpy(dtype=float) * 1000.0  # thousands -> persons
                          for year in pair)
        july = later if backward else earlier
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = np.where(earlier > 0, later / earlier, 1.0)
        november = july * growth ** ((10 / 12 - 0.5) / 5)
        wpp5 = np.append(november[:17], november[17:].sum())
        ratio = wpp5 / census5[i]
        factor = np.interp(AGES, centres, ratio)
        out[i] = np.where(AGES >= STRUCTURE_MIN_AGE, factor, 1.0)
    return out


def census_consistent_mx(step_years: np.ndarray, known_until: int | None = None,
                         census_year: int | None = None) -> np.ndarray:
    """WPP China rates (:func:`national_mx`) times :func:`structure_factor` (T, 2, 101).

    The factor of ``census_year`` (default: 2010 when ``known_until`` is set, else 2020) is
    held constant: WPP's improvement over time is kept.
    """
    year = census_year or (2010 if known_until is not None else 2020)
    return national_mx(step_years, known_until) * structure_factor(year, known_until)[None]


def mortality_ratio_2010(unit_ids: list[str], known_until: int | None = None) -> np.ndarray:
    """Indirectly standardised mortality ratio from the 2010 census, per unit (U,).

    Observed deaths (crude death rate × population) over deaths expected from WPP China's
    2010 single-year rates applied to the unit's 2010 census population by age and sex.
    NaN where the unit has no 2010 data. ``known_until=2010`` takes the 2010 rates from WPP
    periods up to 2005–2010 only (extrapolated, see :func:`national_mx`), for a 2010 base.
    """
    groups = census_groups(unit_ids, 2010)
    present = np.isfinite(groups).all(axis=(1, 2))
    population = graduate(np.where(present[:, None, None], groups, 0.0), CENSUS_STARTS,
                          open_age_pattern=old_age_pattern(2010), open_age=OPEN_AGE)
    # step Nov 2009 - Nov 2010: the census year
    mx_2010 = census_consistent_mx(np.array([2009]), known_until)[0]
    expected = (population * mx_2010).sum(axis=(1, 2))
    observed = crude_death_rate_2010(unit_ids) / 1000.0 * population.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, observed / expected, np.nan)


@lru_cache(maxsize=2)
def _national_smr_2010(known_until: int | None = None) -> float:
    provinces = census.load_units(2010)
    ids = provinces[provinces.level == "province"].unit_id.tolist()
    population = base_population(ids, 2010)
    mx_2010 = census_consistent_mx(np.array([2009]), known_until)[0]
    expected = (population * mx_2010).sum()
    observed = (crude_death_rate_2010(ids) / 1000.0 * population.sum(axis=(1, 2))).sum()
    return float(observed / expected)


def both_sexes_e0(mx: np.ndarray, srb: float = 1.05) -> float:
    """e0 of both sexes, weighting male and female e0 by births (SRB)."""
    e0 = [float(life_table(mx[i], sex).e0) for i, sex in enumerate(SEXES)]
    return (srb * e0[0] + e0[1]) / (1 + srb)


def fit_level(mx: np.ndarray, target: float, sex: str | None) -> float:
    """The factor k with e0(k × mx) = target, for one sex or both sexes (mx (2, 101))."""
    def gap(k: float) -> float:
        if sex is None:
            return both_sexes_e0(k * mx) - target
        i = SEXES.index(sex)
        return float(life_table(k * mx[i], sex).e0) - target

    from scipy.optimize import brentq  # scipy on first use: a cached run needs none

    return brentq(gap, 0.05, 20.0, xtol=1e-12)


@lru_cache(maxsize=1)
def province_life_expectancy() -> pd.DataFrame:
    """Published provincial life expectancies (data/province_life_expectancy.csv): checks only."""
    return pd.read_csv(data_dir() / "province_life_expectancy.csv", dtype={"code": str})


def expected_crude_death_rate(population: np.ndarray, mx: np.ndarray) -> np.ndarray:
    """Deaths per 1,000 (U,) of census populations (U, 2, 101) under rates mx (2, 101)."""
    return 1000.0 * (population * mx).sum(axis=(1, 2)) / population.sum(axis=(1, 2))


#: Ages over which a unit's mortality level fades to the national one (linear in age): the
#: full local differential below the first, none from the second on. Chosen on half A of the
#: provinces' prefectures (backtest 2010 → 2020, benchmarks/backtest_halves.py; half B was
#: not looked at for the choice) by the 80+ MAPE: no fade 12.26 %, (90, 100) 12.27, (85, 100)
#: 12.20, (80, 95) 11.80, (70, 100) 11.16, (70, 90) 10.75, (60, 80) 11.25, (50, 80) 11.38.
LEVEL_FADE_AGES = (70, 90)


def level_fade_weights(fade_ages: tuple[int, int] | None = None) -> np.ndarray:
    """Share (101,) of a unit's mortality differential kept at each age: 1 below
    ``fade_ages[0]``, falling linearly to 0 at ``fade_ages[1]`` and above."""
    start, stop = LEVEL_FADE_AGES if fade_ages is None else fade_ages
    return np.clip((stop - AGES) / (stop - start), 0.0, 1.0)


def level_fade_text() -> str:
    """The provenance note of the age shape of the local mortality level."""
    start, stop = LEVEL_FADE_AGES
    return (f"local level faded to the national one over ages {start}–{stop}; the "
            "differential at younger ages scaled so the unit's deaths at its base population "
            "are kept")


def age_shaped_levels(levels: np.ndarray, population: np.ndarray, national_mx: np.ndarray,
                      fade_ages: tuple[int, int] | None = None) -> np.ndarray:
    """Level factors by age (U, 2, 101) from the all-age factors k (U, 2).

    Regional mortality differences are not proportional across ages: across China's 31
    provinces in the 2000 census "spatial contrasts are greatest at young ages" and a
    proportional (age × area independent) model fits worse than one with age-area interaction
    (Congdon, Population Health Metrics 2007, https://pmc.ncbi.nlm.nih.gov/articles/PMC1876206);
    at the oldest ages mortality converges even across countries (Zeng & Vaupel, Demographic
    Research 8(7), 2003: Han Chinese rates near Sweden's and Japan's after 97, by selection).
    So the differential k − 1 is faded to 0 over ``LEVEL_FADE_AGES``
    (:func:`level_fade_weights`, w). The factor is 1 + (k − 1)·c·w(x), with c per unit and sex
    such that the unit's deaths at the base population and national rates are unchanged:
    c = Σ m P / Σ w m P. The level every k was measured as (a death count: the 2010 census's
    deaths or the registered deaths) is thus kept; only its spread over ages changes.
    """
    weights = level_fade_weights(fade_ages)
    deaths = population * national_mx[None]  # (U, 2, 101)
    total = deaths.sum(axis=-1)
    faded = (deaths * weights).sum(axis=-1)
    spread = np.divide(total, faded, out=np.ones_like(total), where=faded > 0)
    shaped = 1.0 + (levels - 1.0)[..., None] * spread[..., None] * weights
    return np.clip(shaped, K_LIMITS[0] / 2, None)


def local_mortality_level(units: list[census.Unit], base_year: int
                          ) -> tuple[np.ndarray, list[dict]]:
    """Mortality level factors k (U, 2) relative to the national schedule, with a note per unit.

    The national schedule is :func:`census_consistent_mx`. A province whose registered crude
    death rate of ``CALIBRATION_YEAR`` is shipped gets the level at which its census population
    dies at that rate relative to the nation's registered rate (indirect standardisation
    against the nation, so the under-registration every province shares cancels); any other
    unit gets its 2010-census SMR relative to the nation's. A unit inside a calibrated province
    gets k_province × SMR_unit / SMR_province. (A proportional shift to a provincial e0 was
    dropped: e0 is driven by young ages, and moving every age by the same factor put Yunnan's
    2022 death rate 14 % above its registered 8.21 ‰.)
    """
    known_until = 2010 if base_year <= 2010 else None
    ids_2010 = [match_2010(u)[0] for u in units]
    smr = mortality_ratio_2010([i or "" for i in ids_2010], known_until)
    national = _national_smr_2010(known_until)
    levels = np.ones((len(units), 2))
    notes = []
    province_cache: dict[str, tuple[float, dict] | None] = {}
    province_smr: dict[str, float] = {}  # once per province, not once per unit
    for i, unit in enumerate(units):
        province_code = _province_code(unit)
        if province_code not in province_cache:
            province_cache[province_code] = (_registered_province_level(province_code)
                                             if base_year == 2020 and province_code else None)
        calibrated = province_cache[province_code]
        note: dict = {}
        if unit.level == "national":
            note = {"method": "national schedule as it stands (the national unit)"}
        elif calibrated is not None:
            k_province, described = calibrated
            if province_code not in province_smr:
                province_smr[province_code] = mortality_ratio_2010(
                    [match_2010(_province_unit(province_code))[0] or ""], known_until)[0]
            prov_smr = province_smr[province_code]
            relative = smr[i] / prov_smr if np.isfinite(smr[i]) and np.isfinite(prov_smr) else 1.0
            if unit.level == "province":
                relative = 1.0
            levels[i] = k_province * relative
            note = {"method": "registered deaths of the province relative to the nation "
                              f"({CALIBRATION_YEAR}), then 2010-census SMR relative to the "
                              "province", "registered_source": REGISTERED_SOURCE, **described,
                    "k_province": round(float(k_province), 4),
                    "smr_unit_over_province": round(float(relative), 4)}
        elif np.isfinite(smr[i]):
            levels[i] = smr[i] / national
            note = {"method": "indirectly standardised mortality ratio, 2010 census deaths vs "
                              "the national schedule, relative to the national ratio",
                    "smr_unit": round(float(smr[i]), 4), "smr_national": round(national, 4)}
        else:
            note = {"method": "national level (no 2010 death rate for this unit)",
                    "warning": "mortality set to the national level"}
        clipped = np.clip(levels[i], *K_LIMITS)
        if not np.allclose(clipped, levels[i]):
            note["warning"] = (f"level factor {levels[i].round(3).tolist()} outside "
                               f"{K_LIMITS}; clipped")
            levels[i] = clipped
        note["level_factor_k"] = [round(float(k), 4) for k in levels[i]]
        notes.append(note)
    return levels, notes


def _registered_province_level(province_code: str) -> tuple[float, dict] | None:
    """k of a province from its registered crude death rate (see
    :func:`_registered_province_level_cached`); a fresh dict each call."""
    found = _registered_province_level_cached(province_code)
    return None if found is None else (found[0], dict(found[1]))


@lru_cache(maxsize=64)
def _registered_province_level_cached(province_code: str) -> tuple[float, dict] | None:
    """k of a province from its registered crude death rate of ``CALIBRATION_YEAR``, or None.

    k = (registered CDR_province / registered CDR_nation) / (expected CDR_province / expected
    CDR_nation), the expected rates being the 2020 census populations under the national
    schedule of the step that is mostly ``CALIBRATION_YEAR`` (Nov 2020 - Nov 2021).
    """
    registered = registered_rate(province_code, CALIBRATION_YEAR, "crude_death_rate")
    registered_nation = registered_rate(census.NATIONAL_ID, CALIBRATION_YEAR,
                                        "crude_death_rate")
    if not (np.isfinite(registered) and np.isfinite(registered_nation)):
        return None
    province_id = _province_unit(province_code).unit_id
    population = base_population([province_id, census.NATIONAL_ID], 2020)
    mx = census_consistent_mx(np.array([CALIBRATION_YEAR - 1]))[0]
    expected = expected_crude_death_rate(population, mx)
    k = (registered / registered_nation) / (expected[0] / expected[1])
    return k, {"registered_cdr": registered, "registered_cdr_national": registered_nation,
               "expected_cdr_at_national_rates": round(float(expected[0]), 3),
               "expected_cdr_national": round(float(expected[1]), 3)}
