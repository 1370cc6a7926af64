"""Default projection inputs for any Chinese census unit, each with its source and method.

Everything is computed for a batch of units at once (arrays with a leading unit axis), so the
same code serves one jurisdiction and all 3,000+ census units. The result converts to the
canonical inputs directory (:mod:`forecast.demography.inputs`) plus a provenance record.

Time convention: years are census years at the reference date, 1 November. A step ``t`` runs
from 1 Nov ``t`` to 1 Nov ``t+1``; its centre is about 1 May ``t+1`` (decimal year ``t + 1.33``).

Components (see :func:`build_defaults`):

* **Base population**: census persons by sex in 0, 1–4, …, 80–84, 85+ graduated to single years
  0–100+ (:mod:`forecast.demography.graduation`); the 85+ group is spread with the WPP 2024 China
  old-age
  distribution (85–89 … 100+) of the census year, by sex.
* **Mortality**: WPP 2024 China abridged central death rates by 5-year period, graduated to
  single years (cumulative hazard, the same exact-total graduation), interpolated log-linearly
  in time between period centres, then made consistent with the census population
  (:func:`structure_factor`): at ages 40+ they are multiplied by WPP's population over the
  census's, so that WPP's deaths by age and sex fall on the population we project (the 2020
  census counts 23 % more men aged 85+ than WPP, and WPP's rates on it gave China 7.99 ‰ for
  2021 against 7.54 ‰ in WPP and 7.18 ‰ registered). The 2010→2020 cohort survival of the two
  censuses confirms the level: it implies deaths of the 40+ within 3 % of these rates (6 %
  below WPP's rates on the census). A local level factor ``k`` per unit: a province with a
  registered crude death rate for 2021 (``data/registered_vital_rates.csv``) gets the level at
  which its census population dies at that rate relative to the nation's registered rate; a
  unit inside it gets ``k_province × SMR_unit / SMR_province``; otherwise
  ``k = SMR_unit / SMR_national``. SMRs are indirectly standardised mortality ratios from the
  2010 census crude death rates (deaths in the 12 months before the census) against the
  national schedule; dividing by the national (or provincial) ratio cancels the
  under-registration of deaths that all units share. The differential k − 1 fades to none over
  ages 70–90 (:func:`age_shaped_levels`), scaled at younger ages so the unit's deaths at its
  base population stay those of k: regional differences narrow among the oldest old, and a
  proportional k put too many deaths there (backtest 2010 → 2020, prefectures aged 80+: MAPE
  10.74 → 9.51 % on the half of the provinces not used to choose the ages). Improvement over
  time is WPP's.
* **Fertility**: the WPP China age pattern (percent ASFR by period, graduated to single ages)
  scaled to a local TFR estimated from the census: births in the 12 months before the census
  = persons aged 0 ÷ survival from birth to the census (L0 of the local life table), divided by
  the pattern-weighted women exposed (where no child aged 0 or no woman 15–49 was counted,
  e.g. the South China Sea island units, WPP China's TFR of the base year, with a warning).
  The path follows WPP China's TFR relative to its base year value (medium projection).
  Level (:func:`_registered_province_birth_level`): a province whose registered crude birth
  rate of 2021 (else 2022) is shipped in ``data/registered_vital_rates.csv`` scales the TFR of
  its units so that its projected rate of that year, relative to the nation's, is the
  registered ratio (Yunnan 2022: 9.02 ‰ before against 8.14 ‰ registered). A 2010 base takes
  the census's own birth rate of the 12 months before the census and NBS's registered births
  of 2010 (:func:`birth_level_2010`), both known in 2010.
* **Sex ratio at birth**: the local census age-0 sex ratio where at least 5,000 children aged 0
  were counted, else WPP China's SRB for the base year; held constant.
* **Migration**: annual net migrants by age and sex from the 2010→2020 census residual (cohort
  survival of the 2010 census with local mortality), see :func:`census_residual`; net losses
  as rates, gains as counts (:func:`migrants_along_projection`), both scaled each year by WPP
  2024 China's net migration rate relative to its 2010s level (:func:`migration_path_factor`:
  about 0.73 by 2035, 0.70 by 2050), so the 2010s' flows converge as WPP's national migration
  does instead of running at full strength for decades.

For a 2010 base year only what was known in 2010 is used: the 2010 census, WPP estimates up to
the 2005–2010 period (mortality improvement extrapolated from 2000–2010), a constant TFR and
zero migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from forecast.defaults import census, crosswalk, wpp
from forecast.demography.engine import project
from forecast.demography.graduation import graduate, old_age_pattern_from_groups
from forecast.demography.inputs import SRB_WARN, ProjectionInputs, Settings
from forecast.demography.lifetable import life_table, survival_ratios_by_sex
from forecast.errors import UnitError
from forecast.paths import data_dir
from forecast.vocabulary import MIGRATION_PATH_CONVERGE, N_AGES, OPEN_AGE, SEXES

AGES = np.arange(N_AGES)
CENSUS_STARTS = [0, 1] + list(range(5, 90, 5))  # 0, 1-4, 5-9, ..., 80-84, 85+
MX_STARTS = [0, 1] + list(range(5, 105, 5))  # WPP abridged: 0, 1-4, ..., 95-99, 100+
STEP_CENTRE = 4 / 3  # decimal years from 1 Jan of year t to the centre of step t (1 May t+1)
MIN_AGE0_FOR_LOCAL_SRB = 5000  # persons aged 0; below this the local sex ratio is too noisy
CHILD_MIGRATION_FACTOR = 0.5  # children's rate = factor × rate of adults 25-39 (assumption)
K_LIMITS = (0.4, 2.5)  # plausible local/national mortality ratios; outside -> clipped, warned
MAX_MIGRATION_RATE = 0.2  # per person per year, by age and sex
TFR_PLAUSIBLE = (0.6, 2.5)  # children per woman; outside this a census estimate is flagged
LARGE_LOSS = 0.40  # decade residual below -40 % of the expected 2020 persons aged 10+: flagged
IMPLAUSIBLE_LOSS = 0.60  # below -60 %: taken for a tabulation or boundary artefact (zero)

WPP_SOURCE = ("UN DESA Population Division, World Population Prospects 2024 (CC BY 3.0 IGO), "
              "China; data/wpp2024_china_*.csv")
CENSUS_SOURCE = ("2010 and 2020 population censuses, county yearbook tables via leiii/census "
                 "(MIT); data/census_population_5yr.csv")


# ------------------------------------------------------------------------ national schedules


@lru_cache(maxsize=1)
def _single_year_mx_by_period() -> tuple[np.ndarray, np.ndarray]:
    """WPP abridged mx graduated to single ages: (period centres (P,), mx (P, 2, 101))."""
    mx = wpp.wpp_mx_abridged()
    periods = np.sort(mx.period_start.unique())
    widths = np.diff(MX_STARTS + [MX_STARTS[-1] + 1])  # open group: hazard per year
    grouped = (mx.pivot_table(index=["period_start", "sex"], columns="age_start", values="mx")
               .reindex(pd.MultiIndex.from_product([periods, list(SEXES)]))
               .reindex(columns=MX_STARTS).to_numpy())
    hazard = grouped * widths  # cumulative hazard per group, graduated with exact totals
    single = graduate(hazard.reshape(len(periods), 2, -1), MX_STARTS, open_age=OPEN_AGE)
    single = np.maximum(single, 1e-7)
    return periods + 2.5, single


def national_mx(step_years: np.ndarray, known_until: int | None = None) -> np.ndarray:
    """National single-year central death rates for each step (T, 2, 101), per person-year.

    Interpolated log-linearly between WPP period centres. With ``known_until`` (e.g. 2010) only
    periods ending by then are used and later steps extrapolate the annual log-linear change
    between the last two periods, limited to improvements of 0–3 % a year.
    """
    centres, single = _single_year_mx_by_period()
    times = np.asarray(step_years, dtype=float) + STEP_CENTRE
    if known_until is not None:
        keep = centres + 2.5 <= known_until
        centres, single = centres[keep], single[keep]
    log_mx = np.log(single)
    out = np.empty((len(times),) + single.shape[1:])
    for i, t in enumerate(times):
        if t <= centres[0]:
            out[i] = log_mx[0]
        elif t >= centres[-1]:
            if known_until is None:
                out[i] = log_mx[-1]
            else:
                slope = (log_mx[-1] - log_mx[-2]) / (centres[-1] - centres[-2])
                out[i] = log_mx[-1] + np.clip(slope, -0.03, 0.0) * (t - centres[-1])
        else:
            j = np.searchsorted(centres, t) - 1
            w = (t - centres[j]) / (centres[j + 1] - centres[j])
            out[i] = (1 - w) * log_mx[j] + w * log_mx[j + 1]
    return np.exp(out)


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


@lru_cache(maxsize=1)
def _asfr_pattern_by_period() -> tuple[np.ndarray, np.ndarray]:
    """WPP percent ASFR graduated to single ages: (period centres, pattern (P, 101) summing 1)."""
    pasfr = wpp.wpp_percent_asfr()
    periods = np.sort(pasfr.period_start.unique())
    wide = (pasfr.pivot_table(index="period_start", columns="age_start", values="percent_asfr")
            .reindex(index=periods, columns=list(range(15, 50, 5))).to_numpy())
    starts = [0] + list(range(15, 55, 5))  # 0-14 (none), 15-19 ... 45-49, 50+ (none)
    groups = np.concatenate([np.zeros((len(periods), 1)), wide, np.zeros((len(periods), 1))],
                            axis=1)
    single = graduate(groups, starts, open_age_pattern=np.full(51, 1 / 51), open_age=OPEN_AGE,
                      method="pchip")
    single[:, :15] = 0.0
    single[:, 50:] = 0.0
    return periods + 2.5, single / single.sum(axis=1, keepdims=True)


def asfr_pattern(step_years: np.ndarray, known_until: int | None = None) -> np.ndarray:
    """Share of the TFR at each single age (T, 101), summing to 1, interpolated in time."""
    centres, pattern = _asfr_pattern_by_period()
    if known_until is not None:
        keep = centres + 2.5 <= known_until
        centres, pattern = centres[keep], pattern[keep]
    times = np.asarray(step_years, dtype=float) + STEP_CENTRE
    out = np.stack([np.interp(times, centres, pattern[:, a]) for a in range(pattern.shape[1])],
                   axis=1)
    return out / out.sum(axis=1, keepdims=True)


def wpp_tfr_path(step_years: np.ndarray, base_year: int, known_until: int | None = None
                 ) -> np.ndarray:
    """WPP China TFR of each step's calendar year relative to the base year (T,).

    Step t (Nov t → Nov t+1) is mostly calendar year t+1; the census estimate refers to births
    in the 12 months before the census, mostly calendar year ``base_year``. ``known_until``
    holds the ratio at 1 (no knowledge of later years).
    """
    if known_until is not None:
        return np.ones(len(step_years))
    tfr = wpp.wpp_indicator("tfr")
    return np.array([tfr.loc[min(t + 1, tfr.index.max())] for t in step_years]) / tfr.loc[
        base_year]


# ------------------------------------------------------------------------------ census data


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
    units_2010 = census.load_units(2010)
    persons_2010 = dict(zip(units_2010.unit_id, units_2010.pop_total.astype(float),
                            strict=True))
    units_2020 = census.load_units(2020)
    persons_2020 = dict(zip(units_2020.unit_id, units_2020.pop_total.astype(float),
                            strict=True))
    rows = []
    for unit_id in units_2020.unit_id:
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


@lru_cache(maxsize=1)
def _units_2010() -> pd.DataFrame:
    return census.load_units(2010)


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


# ------------------------------------------------------------------------------ components


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
    return brentq(gap, 0.05, 20.0, xtol=1e-12)


@lru_cache(maxsize=1)
def province_life_expectancy() -> pd.DataFrame:
    """Published provincial life expectancies (data/province_life_expectancy.csv): checks only."""
    return pd.read_csv(data_dir() / "province_life_expectancy.csv", dtype={"code": str})


@dataclass
class Defaults:
    """Default inputs for a batch of units, as arrays, with provenance per unit."""

    unit_ids: list[str]
    settings: Settings
    population: np.ndarray  # (U, 2, 101) persons at the base date
    mx: np.ndarray  # (U, T, 2, 101) central death rates
    asfr: np.ndarray  # (U, T, 101) births per woman per year
    srb: np.ndarray  # (U, T)
    net_migrants: np.ndarray  # (U, T, 2, 101) persons per year
    provenance: list[dict] = field(default_factory=list)

    @classmethod
    def concatenate(cls, parts: list[Defaults]) -> Defaults:
        """The units of ``parts`` (same settings) as one batch, in order."""
        return cls(unit_ids=[u for p in parts for u in p.unit_ids], settings=parts[0].settings,
                   population=np.concatenate([p.population for p in parts]),
                   mx=np.concatenate([p.mx for p in parts]),
                   asfr=np.concatenate([p.asfr for p in parts]),
                   srb=np.concatenate([p.srb for p in parts]),
                   net_migrants=np.concatenate([p.net_migrants for p in parts]),
                   provenance=[x for p in parts for x in p.provenance])

    def projection(self, survival: np.ndarray | None = None):
        """The batched projection of every unit (a :class:`forecast.demography.engine.Projection`,
        axes
        step/year first, then unit): the one place the unit-first arrays of a batch are laid
        out step first for the engine. ``survival`` (U, T, 2, A), when given, is
        ``survival_ratios_by_sex(self.mx)`` computed already."""
        if survival is None:
            survival = survival_ratios_by_sex(self.mx)  # (U, T, 2, A)
        step_first = (np.moveaxis(values, 1, 0)
                      for values in (survival, self.asfr, self.srb, self.net_migrants))
        return project(self.population, *step_first,
                       migration_timing=self.settings.migration_timing)

    def inputs_for(self, i: int) -> ProjectionInputs:
        """The canonical inputs of unit ``i`` (mortality.csv form: the life table is ours)."""
        s = self.settings
        steps = s.step_years
        pop = _frame_sex_age(self.population[i], "population")
        mort = _frame_year_sex_age(self.mx[i], steps, "mx")
        fert = pd.DataFrame({"year": np.repeat(steps, 101), "age": np.tile(AGES, len(steps)),
                             "asfr": self.asfr[i].reshape(-1)})
        mig = _frame_year_sex_age(self.net_migrants[i], steps, "net_migrants")
        srb = pd.DataFrame({"year": steps, "srb": self.srb[i]})
        return ProjectionInputs(settings=s, population=pop, fertility=fert, mortality=mort,
                                migration=mig, srb=srb)


def _frame_sex_age(values: np.ndarray, name: str) -> pd.DataFrame:
    return pd.DataFrame({"sex": np.repeat(SEXES, 101), "age": np.tile(AGES, 2),
                         name: values.reshape(-1)})


def _frame_year_sex_age(values: np.ndarray, steps: np.ndarray, name: str) -> pd.DataFrame:
    return pd.DataFrame({"year": np.repeat(steps, 202),
                         "sex": np.tile(np.repeat(SEXES, 101), len(steps)),
                         "age": np.tile(AGES, 2 * len(steps)), name: values.reshape(-1)})


REGISTERED_SOURCE = ("registered births and deaths from NBS and provincial statistical "
                     "communiqués (annual population change sample surveys); "
                     "data/registered_vital_rates.csv")
CALIBRATION_YEAR = 2021  # registered deaths of this calendar year set provincial levels;
# later years (2022, 2023) are left to check the projection against


@lru_cache(maxsize=1)
def registered_vital_rates() -> pd.DataFrame:
    """Registered births, deaths and crude rates 2020-2023 by province and nation (long)."""
    return pd.read_csv(data_dir() / "registered_vital_rates.csv", dtype={"code": str})


def registered_rate(code: str, year: int, indicator: str) -> float:
    """One registered figure (e.g. crude_death_rate per 1,000); NaN if not shipped."""
    table = registered_vital_rates()
    hit = table[(table.code == code) & (table.year == year) & (table.indicator == indicator)]
    return float(hit.value.iloc[0]) if len(hit) else float("nan")


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


def _province_code(unit: census.Unit) -> str:
    if unit.level == "national":
        return ""
    if unit.code and len(unit.code) == 6:
        return unit.code[:2] + "0000"
    units = census.load_units(2020)
    hit = units[(units.level == "province") & (units.name == unit.province)]
    return str(hit.code.iloc[0]) if len(hit) else ""


def _province_unit(province_code: str) -> census.Unit:
    return census.resolve_unit(province_code)


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


def census_residual(units: list[census.Unit], population_2020: np.ndarray,
                    mx_decade: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Annual net migrants by sex and age (U, 2, 101) from the 2010→2020 census residual.

    1. The unit's 2010 census (graduated) is survived ten one-year steps with its local
       mortality (``mx_decade``, (U, 10, 2, 101)) and no migration, giving the expected 2020
       population of cohorts born before 2010 (ages 10+ in 2020).
    2. The residual R(x) = census 2020 − expected, by 5-year group, is spread over single ages
       in proportion to the expected population; the national residual rate by age and sex
       (the same computation for 全国, whose migration is negligible: it measures census
       coverage change and mortality-level error) times the expected population is removed.
    3. Each cohort's residual is spread evenly over its ten years, at the ages it passed
       through: annual net migrants at age a = Σ_{x=a..a+9} R(x) / 100.
    4. Cohorts born during the decade (ages 0–9 in 2020) get a net migration rate of
       ``CHILD_MIGRATION_FACTOR`` × the annual rate of adults aged 25–39 of the same sex
       (an assumption: children move with their parents).
    The 2010 population is that of the unit's 2020 area (:func:`match_2010`,
    :mod:`forecast.defaults.crosswalk`), so boundary changes since 2010 are not taken for migration.
    Units with no 2010 area (formed after 2010 from parts of others) get zero migration and a
    warning naming them.
    """
    n = len(units)
    matches = [match_2010(u) for u in units]
    zones_by_prefecture = (crosswalk.unmatched_2020_leaves().groupby("prefecture").name
                           .apply(list).to_dict())
    ids_2010 = [m[0] or "" for m in matches]
    has_2010 = np.array([m[0] is not None for m in matches])
    groups_2010 = census_groups(ids_2010, 2010)
    has_2010 &= np.isfinite(groups_2010).all(axis=(1, 2))
    groups_2010 = np.where(np.isfinite(groups_2010), groups_2010, 0.0)
    pop_2010 = graduate(groups_2010, CENSUS_STARTS, open_age_pattern=old_age_pattern(2010),
                        open_age=OPEN_AGE)
    survival = survival_ratios_by_sex(mx_decade)  # (U, 10, 2, 101)
    expected = project(pop_2010, np.moveaxis(survival, 1, 0), np.zeros((10, n, 101)),
                       np.full((10, n), 1.05)).population[-1]  # (U, 2, 101)
    census_2020 = census_groups([u.unit_id for u in units], 2020)
    residual = _single_year_residual(census_2020, expected)
    # remove what every unit shares: census coverage differences between 2010 and 2020 and
    # any error of the WPP mortality level (the national residual, as a rate by age and sex)
    national_rate = _national_residual_rate()
    residual = residual - national_rate * expected
    residual[..., :10] = 0.0  # cohorts born during the decade: handled below

    annual = np.zeros_like(residual)
    cumulative = np.concatenate([np.zeros(residual.shape[:-1] + (1,)),
                                 np.cumsum(residual, axis=-1)], axis=-1)
    for a in range(101):
        annual[..., a] = (cumulative[..., min(a + 10, 101)] - cumulative[..., a]) / 100.0
    adults = slice(25, 40)
    with np.errstate(invalid="ignore", divide="ignore"):
        adult_rate = annual[..., adults].sum(axis=-1) / population_2020[..., adults].sum(axis=-1)
    adult_rate = np.nan_to_num(adult_rate)
    child_rate = CHILD_MIGRATION_FACTOR * adult_rate
    annual[..., :10] = child_rate[..., None] * population_2020[..., :10]
    # ages 0-9 were set from the rate; cohorts 10+ keep their residual spread above

    notes = []
    decade_total = residual.sum(axis=(1, 2))
    expected_total = expected[..., 10:].sum(axis=(1, 2))
    for i in range(n):
        note = {"method": "2010→2020 census residual (cohort survival) net of the national "
                          "residual; net losses as rates of the projected population, net "
                          "gains as constant counts", "match": matches[i][1]}
        if not has_2010[i]:
            annual[i] = 0.0
            note["warning"] = f"{matches[i][1]}: zero migration"
        elif "apportioned" in matches[i][1]:
            note["note"] = ("the 2010 area is apportioned from a unit split after 2010: its "
                            "residual migration rates are those of the split unit as a whole")
        loss = -decade_total[i] / expected_total[i] if expected_total[i] > 0 else 0.0
        zones = zones_by_prefecture.get(units[i].prefecture, []) if units[i].level == "county" \
            else []
        if has_2010[i] and loss > LARGE_LOSS:
            text = (f"the 2010→2020 residual {decade_total[i]:,.0f} is {loss:.0%} of the "
                    f"{expected_total[i]:,.0f} persons expected")
            if loss > IMPLAUSIBLE_LOSS or zones:
                annual[i] = 0.0
                cause = (f"part of the 2010 area is probably in {', '.join(zones[:4])}"
                         + (" …" if len(zones) > 4 else "")
                         + " (formed after 2010, no 2010 area)" if zones else
                         f"a loss above {IMPLAUSIBLE_LOSS:.0%} is taken for a tabulation or "
                         "boundary artefact")
                note["warning"] = f"{text}: {cause}; zero migration used"
            else:
                note["warning"] = (f"{text}: heavy out-migration kept (losses as rates); "
                                   "check it")
        note["annual_net_migrants"] = round(float(annual[i].sum()), 1)
        note["decade_residual_ages_10plus"] = round(float(decade_total[i]), 1)
        note["child_rate_factor"] = CHILD_MIGRATION_FACTOR
        notes.append(note)
    return annual, notes


def _single_year_residual(census_groups_2020: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Census 2020 minus expected, by group, spread over single ages like ``expected``."""
    starts = np.array(CENSUS_STARTS)
    group_of_age = np.searchsorted(starts, AGES, side="right") - 1
    expected_groups = np.stack([expected[..., group_of_age == g].sum(axis=-1)
                                for g in range(len(starts))], axis=-1)
    residual_groups = census_groups_2020 - expected_groups
    denominator = expected_groups[..., group_of_age]
    share = np.divide(expected, denominator, out=np.zeros_like(expected), where=denominator > 0)
    return residual_groups[..., group_of_age] * share


@lru_cache(maxsize=1)
def _national_residual_rate() -> np.ndarray:
    """The 全国 decade residual per expected person by sex and age (2, 101), ages 10+."""
    pop_2010 = base_population([census.NATIONAL_ID], 2010)
    survival = survival_ratios_by_sex(census_consistent_mx(np.arange(2010, 2020)))
    expected = project(pop_2010[0], survival, np.zeros((10, 101)), np.full(10, 1.05)
                       ).population[-1]
    residual = _single_year_residual(census_groups([census.NATIONAL_ID], 2020)[0], expected)
    rate = np.divide(residual, expected, out=np.zeros_like(expected), where=expected > 0)
    rate[:, :10] = 0.0
    return rate


MIGRATION_RESIDUAL_YEARS = (2010, 2019)  # calendar years the 2010→2020 census residual spans
MIGRATION_PATH_SMOOTHING_YEARS = 11  # centred window over WPP's annual net migration rates
MIGRATION_PATH_SOURCE = (WPP_SOURCE + ": China net migration (thousands) over population "
                         "(births / crude birth rate), estimates to 2023 then the medium "
                         "projection")
MIGRATION_PATH_METHOD = (
    "the 2010s' residual scaled each year by WPP 2024 China's net migration rate "
    f"({MIGRATION_PATH_SMOOTHING_YEARS}-year centred mean) relative to its "
    f"{MIGRATION_RESIDUAL_YEARS[0]}–{MIGRATION_RESIDUAL_YEARS[1]} mean, at most 1 (bayesPop's "
    "pop.predict.subnat, given no regional migration, shares WPP's national net migration of "
    "each period among regions, so each follows the national path; assumed here: internal "
    "migration converges at the pace WPP projects for China's)")


def wpp_net_migration_rate() -> pd.Series:
    """WPP 2024 China net migrants per person by calendar year (estimates, then median)."""
    net = wpp.wpp_indicator("net_migration")
    population = wpp.wpp_indicator("births") / wpp.wpp_indicator("cbr") * 1000.0  # thousands
    return (net / population).dropna()


def migration_path_factor(step_years: np.ndarray) -> np.ndarray:
    """Factor (T,) on the 2010s' net migration in each step (step t ≈ calendar year t+1).

    WPP's net migration rate for China, smoothed over ``MIGRATION_PATH_SMOOTHING_YEARS``
    centred years (its annual estimates swing: −0.46 ‰ in 2015, −0.07 ‰ in 2017), relative to
    its mean over the years the census residual spans, capped at 1 (the path converges; it
    never amplifies the residual) and floored at 0. WPP 2024 projects China's rate at about
    0.73 of its 2010s level by 2035 and 0.70 by 2050 (−0.21 ‰ in 2010–19). Years after WPP's
    last keep its last smoothed value.
    """
    rate = wpp_net_migration_rate()
    smooth = rate.rolling(MIGRATION_PATH_SMOOTHING_YEARS, center=True,
                          min_periods=MIGRATION_PATH_SMOOTHING_YEARS // 2 + 1).mean()
    first, last = MIGRATION_RESIDUAL_YEARS
    reference = float(rate.loc[first:last].mean())
    years = np.asarray(step_years, dtype=int) + 1
    values = smooth.reindex(np.clip(years, smooth.index.min(), smooth.index.max())).to_numpy()
    return np.clip(values / reference, 0.0, 1.0)


def migrants_along_projection(population: np.ndarray, mx: np.ndarray, asfr: np.ndarray,
                              srb: np.ndarray, base_migrants: np.ndarray, passes: int = 4,
                              path: np.ndarray | None = None) -> np.ndarray:
    """Annual net migrants (U, T, 2, 101): net losses as rates, net gains as counts.

    ``path`` (T,) multiplies both the rates and the counts of each step (1 = the base-year
    level; see :func:`migration_path_factor`); None keeps the base-year level.

    A cell (age, sex) whose base-year net migration is negative loses people in proportion
    to its own population, so it keeps its base-year rate (limited to 20 % a year) applied
    to the projected population, found by a few fixed-point passes of the engine; a shrinking
    population thus sends fewer migrants. A cell with net gains receives people from
    elsewhere, whose number does not scale with the destination's own population, so it
    keeps its base-year count (Smith, Tayman & Swanson, *State and Local Population
    Projections*, 2001: out-migration as rates, in-migration as counts). Rates for both would
    compound gains exponentially (hundreds of districts doubling by 2050).
    """
    rates = np.divide(base_migrants, population, out=np.zeros_like(base_migrants),
                      where=population > 0)
    rates = np.clip(rates, -MAX_MIGRATION_RATE, MAX_MIGRATION_RATE)
    losing = rates < 0
    gains = np.where(losing, 0.0, base_migrants)
    survival = survival_ratios_by_sex(mx)  # (U, T, 2, 101)
    n_steps = mx.shape[1]
    factor = (np.ones(n_steps) if path is None else np.asarray(path, dtype=float)
              )[None, :, None, None]  # (1, T, 1, 1)
    counts = factor * (rates * population)[:, None]
    if not losing.any():
        return counts
    for _ in range(passes):
        projected = project(population, np.moveaxis(survival, 1, 0), np.moveaxis(asfr, 1, 0),
                            np.moveaxis(srb, 1, 0), np.moveaxis(counts, 1, 0)).population
        losses = np.where(losing, rates, 0.0)[:, None] * np.moveaxis(projected[:-1], 0, 1)
        counts = factor * (losses + gains[:, None])
    return counts


# ------------------------------------------------------------------------------ assembly


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


BIRTH_LEVEL_2010_METHOD = ("births levelled to the census birth rate and NBS registered "
                           "births of 2010; held constant (2010 base)")
BIRTH_LEVEL_PROVINCE_METHOD = ("; level: the province's registered crude birth rate relative "
                               "to the nation's (registered_cbr_year)")
BIRTH_CALIBRATION_YEARS = (2021, 2022)  # registered provincial birth rates used, earliest first


def _projected_crude_birth_rates(defaults: Defaults) -> np.ndarray:
    """Births per 1,000 of the step's mean population (U, T) of ``defaults`` projected."""
    projected = defaults.projection()
    total = projected.population.sum(axis=(-2, -1))  # (T+1, U)
    mean = 0.5 * (total[:-1] + total[1:])
    return np.moveaxis(1000.0 * projected.births_by_sex.sum(axis=-1) / mean, 0, 1)


@lru_cache(maxsize=64)
def _registered_province_birth_level(province_code: str) -> tuple[float, dict] | None:
    """Factor on the census TFR of a province's units from its registered crude birth rate of
    the earliest year shipped in ``BIRTH_CALIBRATION_YEARS``, relative to the nation's; None
    where none is shipped.

    f = (registered CBR_province / registered CBR_nation) / (projected CBR_province /
    projected CBR_nation) in that calendar year, the projections being the province's and the
    nation's own defaults before this calibration (step Nov y-1 → Nov y against year y). As
    for deaths, dividing by the nation cancels what every province shares (the national level,
    which the census-based TFR and WPP's path already meet: China 2021 births 1,062万 against
    1,062万 registered); the later shipped years are left to check against.
    """
    registered_nation = {y: registered_rate(census.NATIONAL_ID, y, "crude_birth_rate")
                         for y in BIRTH_CALIBRATION_YEARS}
    year = next((y for y in BIRTH_CALIBRATION_YEARS
                 if np.isfinite(registered_rate(province_code, y, "crude_birth_rate"))
                 and np.isfinite(registered_nation[y])), None)
    if year is None:
        return None
    registered = registered_rate(province_code, year, "crude_birth_rate")
    units = [_province_unit(province_code), census.resolve_unit(census.NATIONAL_ID)]
    own = build_defaults(units, 2020, year, calibrate_births=False)
    cbr = _projected_crude_birth_rates(own)[:, year - 2021]
    factor = (registered / registered_nation[year]) / (cbr[0] / cbr[1])
    return factor, {"registered_cbr": registered, "registered_cbr_year": year,
                    "registered_cbr_national": registered_nation[year],
                    "projected_cbr_before": round(float(cbr[0]), 3),
                    "projected_cbr_national_before": round(float(cbr[1]), 3),
                    "birth_level_factor": round(float(factor), 4)}


def build_defaults(units: list[census.Unit], base_year: int = 2020, end_year: int = 2050,
                   calibrate_births: bool = True) -> Defaults:
    """Default inputs for ``units`` from the census and WPP (see the module docstring).

    ``calibrate_births=False`` skips the provincial registered-birth level of a 2020 base (it
    is computed from such uncalibrated defaults)."""
    if base_year not in (2010, 2020):
        raise UnitError(f"base year {base_year} is not a census year",
                        field="--base-year", fix="use 2020, or 2010 for a backtest")
    if end_year <= base_year:
        raise UnitError(f"end year {end_year} is not after the base year {base_year}",
                        field="--end-year", fix="choose a later end year")
    unit_ids = [u.unit_id for u in units]
    if base_year == 2010:
        matched = [match_2010(u) for u in units]
        no_area = [(u, note) for u, (key, note) in zip(units, matched, strict=True) if key is None]
        if no_area:
            u, note = no_area[0]
            raise UnitError(f"{note}, so it has no 2010 census base",
                            field="--base-year", fix="use base year 2020, or its parent unit")
        base_ids = [key for key, _ in matched]
    else:
        base_ids = unit_ids
    groups = census_groups(base_ids, base_year)
    missing = [u for u, g in zip(units, groups, strict=True) if not np.isfinite(g).all()]
    if missing:
        u = missing[0]
        raise UnitError(f"{u.name} ({u.code or u.unit_id}) has no age data in the {base_year} "
                        f"census", fix="choose its parent unit (see `forecast units`)")
    settings = Settings(start_year=base_year, end_year=end_year, migration_timing="end",
                        age_width=1, open_age=OPEN_AGE)
    steps = settings.step_years
    known_until = 2010 if base_year == 2010 else None
    population = base_population(base_ids, base_year)

    levels, mortality_notes = local_mortality_level(units, base_year)
    national = census_consistent_mx(steps, known_until)  # (T, 2, 101)
    national_base = census_consistent_mx(np.array([base_year - 1]), known_until)[0]
    shaped = age_shaped_levels(levels, population, national_base)  # (U, 2, 101)
    mx = shaped[:, None] * national[None]

    base_mx = shaped * national_base
    pattern_base = asfr_pattern(np.array([base_year - 1]), known_until)[0]
    tfr_base = estimate_tfr(population, base_mx, pattern_base)
    if base_year == 2010:
        birth_factor, birth_notes = birth_level_2010(base_ids, population, base_mx)
        tfr_base = tfr_base * birth_factor
    else:
        birth_notes = [{} for _ in units]
        for i, unit in enumerate(units):
            code = _province_code(unit)
            calibrated = (_registered_province_birth_level(code)
                          if calibrate_births and code else None)
            if calibrated is not None:
                tfr_base[i] *= calibrated[0]
                birth_notes[i] = {"birth_level": calibrated[1],
                    "registered_cbr_year": calibrated[1]["registered_cbr_year"]}
    # no children aged 0 (or no women 15-49) counted: the census says nothing about fertility
    tfr_missing = ~np.isfinite(tfr_base)
    national_tfr = float(wpp.wpp_indicator("tfr").loc[base_year])
    tfr_base = np.where(tfr_missing, national_tfr, tfr_base)
    tfr_path = wpp_tfr_path(steps, base_year, known_until)
    pattern = asfr_pattern(steps, known_until)
    asfr = tfr_base[:, None, None] * tfr_path[None, :, None] * pattern[None]

    national_srb = float(wpp.wpp_indicator("srb").loc[base_year])
    age0 = population[:, :, 0]
    local_srb = np.divide(age0[:, 0], age0[:, 1], out=np.full(len(units), np.nan),
                          where=age0[:, 1] > 0)
    use_local = age0.sum(axis=1) >= MIN_AGE0_FOR_LOCAL_SRB
    srb = np.where(use_local, local_srb, national_srb)

    if base_year == 2020:
        decade = census_consistent_mx(np.arange(2010, 2020))
        mx_decade = shaped[:, None] * decade[None]
        migrants, migration_notes = census_residual(units, population, mx_decade)
        path = migration_path_factor(steps)
        path_record = {"path": MIGRATION_PATH_CONVERGE, "path_method": MIGRATION_PATH_METHOD,
                       "path_source": MIGRATION_PATH_SOURCE,
                       "path_factor": {int(y): round(float(f), 4)
                                       for y, f in zip(steps, path, strict=True)}}
        migration_notes = [{**note, **path_record} for note in migration_notes]
    else:
        migrants = np.zeros_like(population)
        path = None
        migration_notes = [{"method": "zero net migration (2010 base: the 2010→2020 residual "
                                      "was not known in 2010)"} for _ in units]
    net_migrants = migrants_along_projection(
        population, mx, asfr, np.broadcast_to(srb[:, None], asfr.shape[:2]), migrants,
        path=path)

    # base-year e0 of every unit at once (one life table per sex, not one per unit)
    e0_base = np.stack([life_table(mx[:, 0, j], sex).ex[..., 0]
                        for j, sex in enumerate(SEXES)], axis=1)  # (U, 2)
    provenance = []
    for i, unit in enumerate(units):
        provenance.append({
            "unit": {"unit_id": unit.unit_id, "code": unit.code, "name": unit.name,
                     "level": unit.level, "province": unit.province},
            "base_population": {
                "source": CENSUS_SOURCE, "census_year": base_year,
                "total_persons": int(round(float(groups[i].sum()))),
                "method": "5-year groups graduated to single years (cubic spline of the "
                          "cumulative, exact group totals; forecast.demography.graduation); "
                          f"85+ spread with the WPP China {base_year} old-age distribution"},
            "mortality": {"source": WPP_SOURCE + "; " + CENSUS_SOURCE,
                          "schedule": "WPP abridged mx by period graduated to single years, "
                                      "log-linear in time"
                                      + (", extrapolated after 2005-2010 (known in 2010)"
                                         if known_until else "")
                                      + f"; at ages {STRUCTURE_MIN_AGE}+ × WPP population / "
                                        f"census population of {base_year} (WPP's deaths by "
                                        "age on the census population)",
                          **mortality_notes[i],
                          "level_by_age": level_fade_text(),
                          "e0_base_male": round(float(e0_base[i, 0]), 2),
                          "e0_base_female": round(float(e0_base[i, 1]), 2)},
            "fertility": {"source": WPP_SOURCE + "; " + CENSUS_SOURCE
                          + ("; " + REGISTERED_SOURCE if "registered_cbr_year" in birth_notes[i]
                             else f"; NBS registered births, data/{NBS_BIRTHS_FILE}"
                             if known_until else ""),
                          "method": "WPP age pattern × local TFR from census age-0 children "
                                    "and women 15-49, allowing for infant mortality; "
                                    + (BIRTH_LEVEL_2010_METHOD if known_until else
                                       "path follows WPP China TFR relative to the base year")
                                    + (BIRTH_LEVEL_PROVINCE_METHOD
                                       if "registered_cbr_year" in birth_notes[i] else ""),
                          "tfr_base": round(float(tfr_base[i]), 3),
                          **birth_notes[i],
                          **({"warning": f"no children aged 0 or no women 15-49 counted: "
                                         f"TFR set to WPP China {base_year} "
                                         f"({national_tfr:.3f}); consider setting the TFR in "
                                         "the config"}
                             if tfr_missing[i] else
                             {"warning": f"census-based TFR {tfr_base[i]:.2f} is outside "
                                         f"{TFR_PLAUSIBLE}: children counted where their "
                                         "mothers are not (left-behind children) or an "
                                         "under-count; consider setting the TFR in the config"}
                             if not TFR_PLAUSIBLE[0] <= tfr_base[i] <= TFR_PLAUSIBLE[1] else {}),
                          "tfr_first_step": round(float(asfr[i, 0].sum()), 3),
                          "tfr_last_step": round(float(asfr[i, -1].sum()), 3)},
            "srb": {"value": round(float(srb[i]), 4),
                    "method": ("local census age-0 sex ratio" if use_local[i] else
                               f"WPP China {base_year} (fewer than {MIN_AGE0_FOR_LOCAL_SRB:,} "
                               "children aged 0 counted locally)"),
                    "source": CENSUS_SOURCE if use_local[i] else WPP_SOURCE,
                    **({"warning": f"census age-0 sex ratio {srb[i]:.3f} is above {SRB_WARN} "
                                   "(beyond every province's census ratio): girls were probably "
                                   "left unregistered; consider setting srb in the config"}
                       if srb[i] > SRB_WARN else {})},
            "migration": migration_notes[i],
        })
    return Defaults(unit_ids=unit_ids, settings=settings, population=population, mx=mx,
                    asfr=asfr, srb=np.broadcast_to(srb[:, None], (len(units), len(steps))).copy(),
                    net_migrants=net_migrants, provenance=provenance)
