"""Speed of the demand stage over trajectories and of a trend fit (run on demand; the tests
check what these compute, never how fast).

    .venv/bin/python benchmarks/demand_speed.py [--repeat 3]

Bounds moved here from the tests (issue 9): ``care_demand`` on 1,000 trajectories × 16 years
× 202 cells in under 2 s (was tests/test_demand.py), and a prophet fit of the national TFR in
under 10 s (was tests/test_trends.py). The machine is shared, so each is also printed as a
multiple of one projection of the UN Mexico inputs (70 years) measured in the same run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
from engine_speed import best_of  # the same best-of timer (this directory is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
MEXICO = ROOT.parent / "shared" / "reference-data" / "un-ccmpp" / "mexico"
BOUNDS = {"care_demand, 1,000 trajectories": 2.0, "prophet TFR fit": 10.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["FORECAST_CACHE_DIR"] = "off"  # time the fit itself, not a cache read

    from forecast.care.demand import care_demand
    from forecast.defaults import trends
    from forecast.demography.engine import project
    from forecast.demography.inputs import read_inputs
    from forecast.vocabulary import OPEN_AGE, SEXES

    arrays = read_inputs(MEXICO).to_arrays()

    def mexico() -> None:
        project(arrays.population, arrays.survival, arrays.asfr, arrays.srb,
                arrays.net_migrants, migration_timing=arrays.settings.migration_timing)

    index = pd.MultiIndex.from_product(
        [range(1000), range(2020, 2036), SEXES, range(OPEN_AGE + 1)],
        names=["trajectory", "year", "sex", "age"])
    population = pd.DataFrame({"population": 1000.0}, index=index).reset_index()

    def prophet() -> None:
        trends._trend.cache_clear()
        trends.tfr_trend_path("prophet", 2020, list(range(2021, 2036)))

    base = best_of(mexico, args.repeat)
    measured = {"care_demand, 1,000 trajectories": best_of(lambda: care_demand(population),
                                                           args.repeat),
                "prophet TFR fit": best_of(prophet, args.repeat)}
    print(f"{'project mexico (in process)':<34}{base:8.3f} s")
    for name, seconds in measured.items():
        verdict = "ok" if seconds <= BOUNDS[name] else "OVER BOUND"
        print(f"{name:<34}{seconds:8.3f} s  ({seconds / base:7.1f} x mexico; bound "
              f"{BOUNDS[name]:.0f} s: {verdict})")


if __name__ == "__main__":
    main()
