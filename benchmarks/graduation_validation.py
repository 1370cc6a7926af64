"""Validate forecast.demography.graduation against the UN's own single-year populations.

Reads the UN WPP single-year base populations (1950, ages 0..100, 100 = 100+) of Canada and
Mexico from ``shared/reference-data/un-ccmpp/<country>/population.csv``, sums them into the
Chinese census layout (0, 1–4, 5–9, …, 80–84, 85+), graduates them back to single years and
prints the error by age, the maximum absolute relative error over ages 0–84 (and 5–79), and
the mean absolute percentage error over ages 0–84, by country and sex, for:

- method ``spline`` (the default) and ``pchip`` (the monotone alternative);
- open-age pattern = the *other* country's true 85..100 proportions (same sex), the default
  stationary Gompertz pattern, or ``old_age_pattern_from_groups`` of the country's own 85–89,
  90–94, 95–99, 100+ totals ("own-groups": the case of a census with 85+ and a national source
  with a 100+ group for the same population, as WPP China provides).

It also checks ``old_age_pattern_from_groups`` by rebuilding each country's own 85..100
proportions from its 85–89, 90–94, 95–99 and 100+ totals.

Run: ``.venv/bin/python benchmarks/graduation_validation.py [--by-age]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.demography.graduation import (
    aggregate,
    graduate,
    old_age_pattern_from_groups,
    stationary_old_age_pattern,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
UN_DIR = SHARED / "reference-data" / "un-ccmpp"
CENSUS_STARTS = [0, 1, *range(5, 90, 5)]
COUNTRIES = ("canada", "mexico")
OTHER = {"canada": "mexico", "mexico": "canada"}
SEXES = ("male", "female")


def read_single_years(country: str) -> dict[str, np.ndarray]:
    """Persons at ages 0..100 (100 = 100+) by sex, UN WPP 1950 base."""
    table = pd.read_csv(UN_DIR / country / "population.csv")
    return {sex: table[table.sex == sex].sort_values("age").population.to_numpy(float)
            for sex in SEXES}


def error_summary(graduated: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    relative = (graduated[:85] - truth[:85]) / truth[:85]
    return {
        "max_abs_rel_0_84_pct": 100 * np.abs(relative).max(),
        "worst_age": int(np.abs(relative).argmax()),
        "max_abs_rel_5_79_pct": 100 * np.abs(relative[5:80]).max(),
        "mape_0_84_pct": 100 * np.abs(relative).mean(),
        "mape_85_99_pct": 100 * np.abs((graduated[85:100] - truth[85:100])
                                       / truth[85:100]).mean(),
    }


def main(by_age: bool) -> None:
    populations = {country: read_single_years(country) for country in COUNTRIES}
    rows = []
    detail = []
    for country in COUNTRIES:
        for sex in SEXES:
            truth = populations[country][sex]
            groups = aggregate(truth, CENSUS_STARTS)
            other = populations[OTHER[country]][sex][85:]
            own = truth[85:]
            patterns = {"other-country": other / other.sum(),
                        "stationary": stationary_old_age_pattern(85, 100),
                        "own-groups": old_age_pattern_from_groups(
                            own[0:5].sum(), own[5:10].sum(), own[10:15].sum(), own[15])}
            for method in ("spline", "pchip"):
                for pattern_name, pattern in patterns.items():
                    graduated = graduate(groups, CENSUS_STARTS, pattern, method=method)
                    assert np.allclose(aggregate(graduated, CENSUS_STARTS), groups, rtol=1e-12)
                    rows.append({"country": country, "sex": sex, "method": method,
                                 "open_pattern": pattern_name,
                                 **error_summary(graduated, truth)})
                    if method == "spline" and pattern_name == "other-country":
                        detail.append(pd.DataFrame({
                            "country": country, "sex": sex, "age": np.arange(101),
                            "un": truth, "graduated": graduated,
                            "abs_error": graduated - truth,
                            "rel_error_pct": 100 * (graduated - truth) / truth}))
    summary = pd.DataFrame(rows)
    pd.set_option("display.width", 140)
    pd.set_option("display.max_rows", 500)
    np.set_printoptions(linewidth=140)
    print("Graduation of 0,1-4,5-9,...,80-84,85+ back to single years, UN WPP 1950 base")
    print(summary.round(3).to_string(index=False))
    print("\nMean over the four country-sex series:")
    print(summary.groupby(["method", "open_pattern"])[
        ["max_abs_rel_0_84_pct", "max_abs_rel_5_79_pct", "mape_0_84_pct", "mape_85_99_pct"]
    ].mean().round(3).to_string())

    print("\nold_age_pattern_from_groups: own 85..100 proportions from own 5-year groups")
    for method in ("log_survivors", "cumulative"):
        for country in COUNTRIES:
            for sex in SEXES:
                old = populations[country][sex][85:]
                truth = old / old.sum()
                rebuilt = old_age_pattern_from_groups(old[0:5].sum(), old[5:10].sum(),
                                                      old[10:15].sum(), old[15], method=method)
                relative = 100 * (rebuilt - truth) / truth
                print(f"  {method:13s} {country:7s} {sex:6s} abs rel error 85-99: "
                      f"max {np.abs(relative[:15]).max():6.2f}%  "
                      f"mean {np.abs(relative[:15]).mean():5.2f}%")
    print("  single-year ratios p(x+1)/p(x), 85..99 (a Gompertz population declines steadily):")
    for country in COUNTRIES:
        old = populations[country]["male"][85:]
        print(f"    UN {country} male 1950      ", np.round(old[1:16] / old[:15], 2))
    wpp = SHARED / "reference-data" / "wpp2024" / "china_pop_age5_estimates_1950_2020.csv"
    if wpp.exists():
        china = pd.read_csv(wpp).query("year == 2020").set_index("age")["popM"]
        for method in ("log_survivors", "cumulative"):
            pattern = old_age_pattern_from_groups(*china[["85-89", "90-94", "95-99", "100+"]],
                                                  method=method)
            ratios = np.round(pattern[1:16] / pattern[:15], 2)
            print(f"    WPP China male 2020, {method:13s}", ratios)

    errors = pd.concat(detail)
    if by_age:
        print("\nError by age (spline, other country's open-age pattern):")
        print(errors.round(2).to_string(index=False))
    else:
        wide = errors.pivot_table(index="age", columns=["country", "sex"],
                                  values="rel_error_pct")
        print("\nRelative error by age, % (spline, other country's open-age pattern); "
              "--by-age for absolute errors too:")
        print(wide.round(2).to_string())


if __name__ == "__main__":
    main(by_age="--by-age" in sys.argv[1:])
