"""National schedules of the defaults: WPP 2024 China's death rates graduated to single years and
made consistent with the census population, its fertility pattern and TFR path; the age grids
and the sources they cite."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.defaults import wpp
from forecast.demography.graduation import graduate
from forecast.vocabulary import N_AGES, OPEN_AGE, SEXES

AGES = np.arange(N_AGES)


CENSUS_STARTS = [0, 1] + list(range(5, 90, 5))  # 0, 1-4, 5-9, ..., 80-84, 85+


MX_STARTS = [0, 1] + list(range(5, 105, 5))  # WPP abridged: 0, 1-4, ..., 95-99, 100+


STEP_CENTRE = 4 / 3  # decimal years from 1 Jan of year t to the centre of step t (1 May t+1)


WPP_SOURCE = ("UN DESA Population Division, World Population Prospects 2024 (CC BY 3.0 IGO), "
              "China; data/wpp2024_china_*.csv")


CENSUS_SOURCE = ("2010 and 2020 population censuses, county yearbook tables via leiii/census "
                 "(MIT); data/census_population_5yr.csv")


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
