"""Labelled (tidy) views of engine arrays: year, sex, age instead of positions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.demography.engine import Projection
from forecast.vocabulary import SEXES


def population_frame(population: np.ndarray, years: np.ndarray, ages: np.ndarray) -> pd.DataFrame:
    """(T, 2, A) persons -> DataFrame[year, sex, age, population]."""
    n_years, n_sexes, n_ages = population.shape
    return pd.DataFrame({
        "year": np.repeat(years, n_sexes * n_ages),
        "sex": np.tile(np.repeat(SEXES, n_ages), n_years),
        "age": np.tile(ages, n_years * n_sexes),
        "population": population.reshape(-1),
    })


def births_frame(projection: Projection, step_years: np.ndarray, ages: np.ndarray) -> pd.DataFrame:
    """Births per step by sex of child and mother's age: DataFrame[year, sex, mother_age, births].

    ``year`` is the first year of the step; each mother-age cell is split by the step's sex ratio.
    """
    by_age = projection.births_by_mother_age  # (T, A)
    by_sex = projection.births_by_sex  # (T, 2)
    total = by_sex.sum(axis=-1, keepdims=True)
    share = np.divide(by_sex, total, out=np.full_like(by_sex, 0.5), where=total > 0)
    cells = by_age[:, None, :] * share[:, :, None]  # (T, 2, A)
    frame = population_frame(cells, step_years, ages)
    return frame.rename(columns={"age": "mother_age", "population": "births"})


def deaths_frame(projection: Projection, step_years: np.ndarray, ages: np.ndarray) -> pd.DataFrame:
    """Deaths per step: DataFrame[year, sex, age, deaths], age at the end of the step (cohort)."""
    frame = population_frame(projection.deaths, step_years, ages)
    return frame.rename(columns={"population": "deaths"})
