"""Readers over the shipped UN World Population Prospects 2024 files for China.

Source: United Nations, DESA, Population Division. World Population Prospects 2024 (CC BY 3.0
IGO), via the R package ``wpp2024`` (see ``data/SOURCES.md``). Counts are in **thousands** of
persons, as the UN publishes them. Each reader is cached and returns a fresh copy.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.errors import ForecastError
from forecast.paths import data_dir
from forecast.vocabulary import SEXES

MX_FILE = "wpp2024_china_mx_abridged.csv"
ASFR_FILE = "wpp2024_china_percent_asfr.csv"
ANNUAL_FILE = "wpp2024_china_annual.csv"
POPULATION_FILE = "wpp2024_china_population_5yr.csv"
MIGRATION_FILE = "wpp2024_china_net_migration_single_age.csv"

OLD_AGE_START = 85


@lru_cache(maxsize=8)
def _read(name: str) -> pd.DataFrame:
    dtypes = {"sex": str, "kind": str, "variant": str, "indicator": str, "unit": str}
    frame = pd.read_csv(data_dir() / name, dtype=dtypes)
    if "age_end" in frame.columns:
        frame["age_end"] = frame["age_end"].astype("Int64")
    return frame


def wpp_mx_abridged() -> pd.DataFrame:
    """Central death rates (per person-year) by 5-year period, sex and abridged age group.

    Columns: period_start, period_end (e.g. 2020, 2025 for 2020–2025), sex, age_start,
    age_end (inclusive; <NA> for 100+), mx. Ages 0, 1–4, 5–9, …, 95–99, 100+; periods
    1950–1955 … 2095–2100 (estimates to 2020, medium projection after).
    """
    return _read(MX_FILE).copy()


def wpp_percent_asfr() -> pd.DataFrame:
    """Age pattern of fertility: percent of the TFR by mother's age group (sums to 100).

    Columns: period_start, period_end, age_start, age_end (15–19 … 45–49), percent_asfr.
    """
    return _read(ASFR_FILE).copy()


def wpp_annual() -> pd.DataFrame:
    """Annual indicators, estimates 1950–2023 and projections 2024–2100, long format.

    Columns: year, kind (estimate/projection), indicator, variant, value, unit. Indicators: tfr
    (children per woman), e0_male/e0_female/e0_both (years), srb (male births per female
    birth), births, deaths, net_migration (thousands per year), cbr, cdr (per 1,000) and, for
    projections, population_male_31dec/population_female_31dec/population_total_31dec
    (thousands at 31 December). ``variant`` is ``estimate`` for estimates; for projections
    median, lower_80, upper_80, lower_95, upper_95 (probabilistic bounds) or low/high (±0.5
    child), where the UN publishes them.
    """
    return _read(ANNUAL_FILE).copy()


def wpp_indicator(indicator: str, variant: str = "median") -> pd.Series:
    """One annual indicator as a Series indexed by year: estimates to 2023, then ``variant``."""
    annual = _read(ANNUAL_FILE)
    rows = annual[(annual["indicator"] == indicator)
                  & ((annual["kind"] == "estimate") | (annual["variant"] == variant))]
    if rows.empty:
        known = ", ".join(sorted(annual["indicator"].unique()))
        raise ForecastError(f"no WPP indicator '{indicator}' with variant '{variant}'",
                            field="indicator", fix=f"use one of {known}")
    series = rows.set_index("year")["value"].sort_index()
    series.name = indicator
    return series


def wpp_population_5yr() -> pd.DataFrame:
    """Population by 5-year age group and sex (thousands, about 1 July of ``year``).

    Columns: year, kind, variant, sex, age_start, age_end (<NA> for 100+), population.
    Estimates 1950–2020 (variant ``estimate``) and projections 2025–2100 (median, low, high),
    every 5 years.
    """
    return _read(POPULATION_FILE).copy()


def _old_age_shares(year: int, sex: str) -> np.ndarray:
    population = _read(POPULATION_FILE)
    rows = population[(population["year"] == year) & (population["sex"] == sex)
                      & (population["variant"].isin(["estimate", "median"]))
                      & (population["age_start"] >= OLD_AGE_START)].sort_values("age_start")
    counts = rows["population"].to_numpy(dtype=float)
    return counts / counts.sum()


def wpp_old_age_pattern(year: int, sex: str) -> pd.DataFrame:
    """How the 85+ population divides into 85–89, 90–94, 95–99 and 100+ (proportions sum to 1).

    From WPP 5-year populations (estimates to 2020, median projection from 2025). For a year
    between two 5-year points the shares are interpolated linearly. Columns: age_start,
    age_end (<NA> for 100+), proportion.
    """
    if sex not in SEXES:
        raise ForecastError(f"sex must be 'male' or 'female', not '{sex}'", field="sex")
    years = np.sort(_read(POPULATION_FILE)["year"].unique())
    if not years[0] <= year <= years[-1]:
        raise ForecastError(f"no WPP population for {year}", field="year",
                            fix=f"use a year from {years[0]} to {years[-1]}")
    lower = years[years <= year].max()
    upper = years[years >= year].min()
    weight = 0.0 if upper == lower else (year - lower) / (upper - lower)
    shares = (1 - weight) * _old_age_shares(int(lower), sex) + weight * _old_age_shares(
        int(upper), sex)
    starts = np.arange(OLD_AGE_START, OLD_AGE_START + 5 * len(shares), 5)
    ends = [int(s) + 4 for s in starts[:-1]] + [None]
    return pd.DataFrame({"age_start": starts, "age_end": pd.array(ends, dtype="Int64"),
                         "proportion": shares})


def wpp_net_migration_single_age() -> pd.DataFrame:
    """Projected net migrants by single year of age 0–100 and sex (thousands per year).

    Columns: year (2023–2100), sex, age, net_migrants. Medium projection.
    """
    return _read(MIGRATION_FILE).copy()
