"""Population indicators and the rate <-> count conversion, defined once.

Every table that shows persons in an age band (``summary.csv``, the demand drivers, the
probabilistic run's summaries) and every rate per 1,000 turned into a count or back (targets,
base supply stated as a rate, demand norms) calls these functions, so a band or a conversion
cannot differ between two tables. They work on arrays whose last axis is single years of age
0..100 (the open group last), whatever the axes before it (year, trajectory, unit).

The operations and their order are those the tables always used, so the numbers are the same
to the last bit.
"""

from __future__ import annotations

import numpy as np

#: Age bands: name -> (first age, first age after the band; None: to the open age group).
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "pop_0_2": (0, 3), "pop_3_5": (3, 6), "pop_0_14": (0, 15), "pop_15_64": (15, 65),
    "pop_60plus": (60, None), "pop_65plus": (65, None), "pop_80plus": (80, None),
}
#: Age from which a person counts as elderly (养老: 60+).
ELDERLY_AGE = 60
#: Under-3 childcare (托育): ages 0, 1 and 2.
UNDER3_AGES = 3


def persons_in_band(by_age: np.ndarray, band: str) -> np.ndarray:
    """Persons in ``band`` (a key of :data:`AGE_BANDS`): the sum over the last (age) axis."""
    start, stop = AGE_BANDS[band]
    return by_age[..., start:stop].sum(-1)


def population_indicators(by_age: np.ndarray) -> dict[str, np.ndarray]:
    """The age indicators of ``summary.csv`` from persons by age (``(..., 101)``): total,
    persons in each band of :data:`AGE_BANDS`, the share aged 60+ and the dependency ratios
    (per 100 persons aged 15–64)."""
    total = by_age.sum(-1)
    bands = {band: persons_in_band(by_age, band) for band in AGE_BANDS}
    young, working, old = bands["pop_0_14"], bands["pop_15_64"], bands["pop_65plus"]
    return {
        "total": total, **bands,
        "share_60plus": bands["pop_60plus"] / total,
        "child_dependency": young / working * 100, "old_dependency": old / working * 100,
        "total_dependency": (young + old) / working * 100,
    }


def flow_indicators(projection) -> dict[str, np.ndarray]:
    """Births, deaths and net migrants (as applied) of the step ending in each year of a
    :class:`forecast.demography.engine.Projection`, NaN in the base year (no step ends there)."""
    births = projection.births_by_sex.sum(axis=-1)
    deaths = projection.deaths.sum(axis=(-2, -1))
    migrants = projection.net_migrants_applied.sum(axis=(-2, -1))
    blank = np.full((1, *births.shape[1:]), np.nan)
    return {name: np.concatenate([blank, values])
            for name, values in (("births", births), ("deaths", deaths),
                                 ("net_migrants", migrants))}


def summary_indicators(projection) -> dict[str, np.ndarray]:
    """Every indicator of ``summary.csv`` from a projection: name -> ``(Y, ...)`` (persons;
    ratios per 100; flows of the step ending in the year)."""
    by_age = projection.population.sum(axis=-2)
    indicators = population_indicators(by_age)
    return {"total": indicators.pop("total"), **flow_indicators(projection), **indicators}


def count_from_rate(rate, persons, per: float = 1000.0):
    """A count from a rate ``per`` persons (beds per 1,000 aged 60+ -> beds): rate × persons
    ÷ per."""
    return rate * persons / per


def rate_from_count(count, persons, per: float = 1000.0):
    """A rate ``per`` persons from a count (beds -> beds per 1,000 aged 60+): count ÷ persons
    × per."""
    return count / persons * per
