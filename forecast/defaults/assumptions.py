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
the 2005–2010 period (mortality improvement extrapolated from 2000–2010), a constant TFR at the
census's birth level (:func:`birth_level_2010`) and net migration from the census's net migrant
stock, residents minus 户籍-registered persons (:func:`registered_stock_migration`), constant
over the decade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import census, wpp
from forecast.defaults.census_base import base_population, census_groups, match_2010
from forecast.defaults.fertility import (
    NBS_BIRTHS_FILE,
    TFR_PLAUSIBLE,
    birth_level_2010,
    estimate_tfr,
)
from forecast.defaults.migration import (
    MIGRATION_PATH_METHOD,
    MIGRATION_PATH_SOURCE,
    census_residual,
    migrants_along_projection,
    migration_path_factor,
    registered_stock_migration,
)
from forecast.defaults.mortality import (
    STRUCTURE_MIN_AGE,
    age_shaped_levels,
    census_consistent_mx,
    level_fade_text,
    local_mortality_level,
)
from forecast.defaults.registered import (
    REGISTERED_SOURCE,
    _province_code,
    _province_unit,
    registered_rate,
)
from forecast.defaults.schedules import AGES, CENSUS_SOURCE, WPP_SOURCE, asfr_pattern, wpp_tfr_path
from forecast.demography.engine import project
from forecast.demography.inputs import SRB_WARN, ProjectionInputs, Settings
from forecast.demography.lifetable import life_table, survival_ratios_by_sex
from forecast.errors import UnitError
from forecast.vocabulary import MIGRATION_PATH_CONVERGE, OPEN_AGE, SEXES

MIN_AGE0_FOR_LOCAL_SRB = 5000  # persons aged 0; below this the local sex ratio is too noisy


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


BIRTH_LEVEL_2010_METHOD = ("births levelled to the census birth rate and children aged 0-4 "
                           "and NBS registered births of 2010; held constant (2010 base)")


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
        migrants, migration_notes = registered_stock_migration(base_ids, population)
        path = None
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
