"""Build default inputs for every 2020 census unit with age data and project each to 2050.

Run: ``.venv/bin/python benchmarks/all_units.py [--chunk 400] [--end-year 2050]``. Prints the
time to build and to project, peak memory, warning counts and implausible units. Not part of
the test run (tests/test_all_units.py checks the same run, marked slow).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import Counter

import numpy as np
import pandas as pd

from forecast.defaults import census
from forecast.defaults.assumptions import build_defaults
from forecast.demography.engine import project
from forecast.demography.lifetable import life_table
from forecast.vocabulary import SEXES


def units_with_age_data(census_year: int = 2020) -> tuple[list[census.Unit], pd.DataFrame]:
    """Every unit of the census with age data, and the table of those without (with reason)."""
    table = census.load_units(census_year)
    with_age = table[table.has_age_data.astype(bool)]
    units = [census.Unit(unit_id=r.unit_id, code=r.code, name=r.name, level=r.level,
                         province=r.province, prefecture=r.prefecture,
                         pop_total=None if pd.isna(r.pop_total) else int(r.pop_total),
                         parent_name=r.parent_name, census_year=census_year)
             for r in with_age.itertuples(index=False)]
    without = table[~table.has_age_data.astype(bool)][["unit_id", "name", "level", "province"]]
    return units, without.assign(reason="no age-by-sex table in the census yearbook")


def warning_kind(text: str) -> str:
    """A warning's category, without its numbers."""
    if "no 2010 area" in text:
        return "migration: no 2010 area (formed after 2010), zero migration"
    if "zero migration used" in text:
        return "migration: decade residual loss above 40 % near zones or above 60 %, zero"
    if "heavy out-migration kept" in text:
        return "migration: decade residual loss above 40 %, kept and flagged"
    if "clipped" in text:
        return "mortality: level factor k clipped"
    if "national level" in text:
        return "mortality: no 2010 death rate, national level"
    if "no children aged 0" in text:
        return "fertility: no child aged 0, WPP TFR"
    if "outside" in text:
        return "fertility: census TFR outside plausible range"
    return text


def run_all(end_year: int = 2050, chunk: int = 400, base_year: int = 2020) -> dict:
    """Build and project every unit in chunks; returns per-unit summary and timings."""
    units, without = units_with_age_data(2020)
    build_seconds = project_seconds = 0.0
    rows = []
    for start in range(0, len(units), chunk):
        batch = units[start:start + chunk]
        started = time.perf_counter()
        defaults = build_defaults(batch, base_year, end_year)
        build_seconds += time.perf_counter() - started
        started = time.perf_counter()
        survival = np.stack([life_table(defaults.mx[:, :, i], sex).survival_ratios()
                             for i, sex in enumerate(SEXES)], axis=2)
        result = project(defaults.population, np.moveaxis(survival, 1, 0),
                         np.moveaxis(defaults.asfr, 1, 0), np.moveaxis(defaults.srb, 1, 0),
                         np.moveaxis(defaults.net_migrants, 1, 0))
        project_seconds += time.perf_counter() - started
        population = result.population  # (T+1, U, 2, 101)
        for i, unit in enumerate(batch):
            cells = population[:, i]
            provenance = defaults.provenance[i]
            warnings = [provenance[part]["warning"] for part in ("mortality", "fertility",
                                                                  "migration")
                        if "warning" in provenance[part]]
            rows.append({
                "unit_id": unit.unit_id, "name": unit.name, "level": unit.level,
                "province": unit.province,
                "finite": bool(np.isfinite(cells).all()),
                "min_cell": float(np.nanmin(cells)),
                "clamped_cells": int(result.clamped_cells[:, i].sum()),
                "clamped_persons": float(result.clamped_persons[:, i].sum()),
                "population_base": float(cells[0].sum()),
                "population_end": float(cells[-1].sum()),
                "tfr": provenance["fertility"]["tfr_base"],
                "net_migrants_per_1000": 1000 * provenance["migration"].get(
                    "annual_net_migrants", 0.0) / max(float(cells[0].sum()), 1.0),
                "warnings": warnings,
            })
    return {"units": pd.DataFrame(rows), "without_age_data": without,
            "build_seconds": build_seconds, "project_seconds": project_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunk", type=int, default=400)
    parser.add_argument("--end-year", type=int, default=2050)
    args = parser.parse_args()
    started = time.perf_counter()
    run = run_all(args.end_year, args.chunk)
    total = time.perf_counter() - started
    units = run["units"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(units)} units with age data, {len(run['without_age_data'])} without")
    for row in run["without_age_data"].itertuples(index=False):
        print(f"  without age data: {row.unit_id} {row.name} ({row.level}): {row.reason}")
    print(f"build_defaults {run['build_seconds']:.1f} s, projection to {args.end_year} "
          f"{run['project_seconds']:.1f} s, total {total:.1f} s "
          f"(chunks of {args.chunk}); peak RSS {peak_mb:.0f} MB")
    print(f"non-finite units: {(~units.finite).sum()}, negative cells: "
          f"{(units.min_cell < 0).sum()}, units with clamped cells: "
          f"{(units.clamped_cells > 0).sum()} ({units.clamped_cells.sum()} cells, "
          f"{units.clamped_persons.sum():,.0f} persons added)")
    kinds = Counter(warning_kind(w) for ws in units.warnings for w in ws)
    print(f"units with any warning: {(units.warnings.str.len() > 0).sum()}")
    for kind, count in kinds.most_common():
        print(f"  {count:5d}  {kind}")
    ratio = units.population_end / units.population_base
    print(f"TFR: median {units.tfr.median():.2f}, <0.6: {(units.tfr < 0.6).sum()}, "
          f">2.5: {(units.tfr > 2.5).sum()}")
    print(f"net migration per 1,000 a year: median {units.net_migrants_per_1000.median():.1f}, "
          f"|rate| > 20: {(units.net_migrants_per_1000.abs() > 20).sum()}")
    print(f"population {args.end_year}/base: median {ratio.median():.2f}, <0.4: "
          f"{(ratio < 0.4).sum()}, >2: {(ratio > 2).sum()}")
    columns = ["unit_id", "name", "province", "population_base", "population_end", "tfr",
               "net_migrants_per_1000"]
    print("largest growth:")
    print(units.assign(ratio=ratio).nlargest(5, "ratio")[columns].to_string(index=False))
    print("largest decline:")
    print(units.assign(ratio=ratio).nsmallest(5, "ratio")[columns].to_string(index=False))


if __name__ == "__main__":
    main()
