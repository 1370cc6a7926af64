"""Local migration: the 2010→2020 census residual by age and sex, its path over time (converging
as WPP's national net migration rate does) and the migrants along a projection."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census, crosswalk, wpp
from forecast.defaults.census_base import (
    base_population,
    census_groups,
    match_2010,
    old_age_pattern,
    registered_share_2010,
)
from forecast.defaults.mortality import census_consistent_mx
from forecast.defaults.schedules import AGES, CENSUS_SOURCE, CENSUS_STARTS, WPP_SOURCE
from forecast.demography.engine import project
from forecast.demography.graduation import graduate
from forecast.demography.lifetable import survival_ratios_by_sex
from forecast.vocabulary import OPEN_AGE

CHILD_MIGRATION_FACTOR = 0.5  # children's rate = factor × rate of adults 25-39 (assumption)


MAX_MIGRATION_RATE = 0.2  # per person per year, by age and sex


LARGE_LOSS = 0.40  # decade residual below -40 % of the expected 2020 persons aged 10+: flagged


IMPLAUSIBLE_LOSS = 0.60  # below -60 %: taken for a tabulation or boundary artefact (zero)


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



ROGERS_CASTRO_FUNDAMENTAL = {"a1": 0.02, "alpha1": 0.1, "a2": 0.06, "alpha2": 0.1, "mu2": 20.0,
                             "lambda2": 0.4, "c": 0.003}
ROGERS_CASTRO_SOURCE = ("Rogers, A. & Castro, L. J. (1981), Model Migration Schedules, IIASA "
                        "RR-81-30: the fundamental parameters of the simplified standard "
                        "schedule (rc9.fund in Abel's R package migest)")


#: Years of net flow the 2010 census's net migrant stock stands for (assumption). Chosen on
#: half A of the provinces' prefectures (backtest 2010 → 2020, benchmarks/backtest_halves.py
#: --stock-years; half B not looked at for the choice) by the total's MAPE: 10 years 9.56 %,
#: 12: 8.78, 15: 8.31, 20: 8.32, 25: 8.51 (no migration: 10.66).
STOCK_YEARS = 15.0


STOCK_MIGRATION_METHOD = (
    "2010 census net migrant stock (residents minus 户籍-registered persons, as a share of "
    "residents, less the nation's share) over the years of flow it stands for, spread over ages "
    "with the Rogers–Castro standard schedule; net losses as rates, gains as counts; held "
    "constant")


def rogers_castro(ages: np.ndarray, params: dict[str, float] | None = None) -> np.ndarray:
    """The seven-parameter Rogers–Castro migration rate by age (unscaled):
    a1·e^(−α1·x) + a2·e^(−α2(x−μ2) − e^(−λ2(x−μ2))) + c."""
    p = ROGERS_CASTRO_FUNDAMENTAL if params is None else params
    x = np.asarray(ages, dtype=float)
    return (p["a1"] * np.exp(-p["alpha1"] * x)
            + p["a2"] * np.exp(-p["alpha2"] * (x - p["mu2"])
                               - np.exp(-p["lambda2"] * (x - p["mu2"])))
            + p["c"])


def stock_migration_rate(base_ids: list[str]) -> tuple[np.ndarray, float]:
    """Annual net migrants per resident (U,) from the 2010 census's 户籍 gap, NaN where the
    census gives no registered count, and the nation's gap share (subtracted from each)."""
    residents, registered = registered_share_2010(list(base_ids) + [census.NATIONAL_ID])
    share = (residents - registered) / residents
    return (share[:-1] - share[-1]) / STOCK_YEARS, float(share[-1])


def registered_stock_migration(base_ids: list[str], population: np.ndarray
                               ) -> tuple[np.ndarray, list[dict]]:
    """Annual net migrants (U, 2, 101) of a 2010 base from the 2010 census's 户籍 gap.

    What was known in 2010 of a unit's migration is the census's net migrant stock: residents
    (常住) minus persons registered there (户籍), as a share of residents (Shenzhen +75.8 %,
    Beijing +36.0 %, Guizhou −19.7 %), less the nation's share (−0.34 %: registration
    differences every unit shares). The stock built up over about ``STOCK_YEARS`` years of net
    flows, so the annual net migration rate is the share ÷ ``STOCK_YEARS``. It is spread over
    ages with the Rogers–Castro standard schedule (children moving with their parents, the
    labour-force peak at about 20–25, a low constant after; :func:`rogers_castro`), scaled so
    the unit's crude net migration rate is that annual rate. Where the census gives no 户籍
    count the unit gets zero migration and a note.
    """
    rate, national = stock_migration_rate(base_ids)
    known = np.isfinite(rate)
    rate = np.where(known, rate, 0.0)
    schedule = rogers_castro(AGES)  # (101,)
    totals = population.sum(axis=(1, 2))
    weighted = (population * schedule).sum(axis=(1, 2))
    scale = np.divide(totals, weighted, out=np.zeros_like(totals), where=weighted > 0)
    migrants = (rate * scale)[:, None, None] * schedule * population
    notes = []
    for i in range(len(base_ids)):
        if not known[i]:
            notes.append({"method": STOCK_MIGRATION_METHOD,
                          "warning": "the 2010 census gives no registered (户籍) population "
                                     "for this area: zero migration"})
            continue
        notes.append({
            "method": STOCK_MIGRATION_METHOD,
            "source": f"{CENSUS_SOURCE} (户籍人口); {ROGERS_CASTRO_SOURCE}",
            "annual_net_migration_rate": round(float(rate[i]), 5),
            "national_stock_share": round(national, 5),
            "stock_years": STOCK_YEARS,
            "annual_net_migrants": round(float(migrants[i].sum()), 1),
        })
    return migrants, notes
