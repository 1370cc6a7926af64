"""Registered births and deaths (NBS and provincial statistical communiqués) and the province of a
unit, which calibrate the local levels of mortality and fertility."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from forecast.defaults import census
from forecast.paths import data_dir

REGISTERED_SOURCE = ("registered births and deaths from NBS and provincial statistical "
                     "communiqués (annual population change sample surveys); "
                     "data/registered_vital_rates.csv")


CALIBRATION_YEAR = 2021  # registered deaths of this calendar year set provincial levels;


@lru_cache(maxsize=1)
def registered_vital_rates() -> pd.DataFrame:
    """Registered births, deaths and crude rates 2020-2023 by province and nation (long)."""
    return pd.read_csv(data_dir() / "registered_vital_rates.csv", dtype={"code": str})


def registered_rate(code: str, year: int, indicator: str) -> float:
    """One registered figure (e.g. crude_death_rate per 1,000); NaN if not shipped."""
    table = registered_vital_rates()
    hit = table[(table.code == code) & (table.year == year) & (table.indicator == indicator)]
    return float(hit.value.iloc[0]) if len(hit) else float("nan")


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
