"""Default projections against what was registered after 2020 (issue 10).

Prints, for the 2020 base: China's crude death and birth rates 2021-2023 against NBS and WPP
2024, every province's projected rates against the registered ones shipped in
data/registered_vital_rates.csv (marking the figures the defaults were calibrated on), the 65+
against NBS year-end counts, Honghe's crude death rate; for the 2010 base: projected births
2011-2019 against NBS registered births.

    .venv/bin/python benchmarks/registered_rates.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.defaults import assumptions, census, registered, wpp
from forecast.demography.engine import project
from forecast.demography.lifetable import survival_ratios_by_sex
from forecast.paths import data_dir

NBS_65_PLUS_YEAR_END = {2021: 20_056e4, 2022: 20_978e4}  # validation_points.csv, 公报


def projected_rates(unit_ids: list[str], base_year: int, end_year: int) -> dict:
    units = [census.resolve_unit(u, base_year) for u in unit_ids]
    d = assumptions.build_defaults(units, base_year, end_year)
    surv = survival_ratios_by_sex(d.mx)
    p = project(d.population, np.moveaxis(surv, 1, 0), np.moveaxis(d.asfr, 1, 0),
                np.moveaxis(d.srb, 1, 0), np.moveaxis(d.net_migrants, 1, 0))
    total = p.population.sum(axis=(-2, -1))  # (T+1, U)
    mid = (total[:-1] + total[1:]) / 2
    years = np.arange(base_year + 1, end_year + 1)  # step t ~ calendar year t + 1
    return {"years": years, "cdr": 1000 * p.deaths.sum(axis=(-2, -1)) / mid,
            "cbr": 1000 * p.births_by_sex.sum(axis=-1) / mid,
            "births": p.births_by_sex.sum(axis=-1), "deaths": p.deaths.sum(axis=(-2, -1)),
            "aged_65": p.population[1:, :, :, 65:].sum(axis=(-2, -1)), "defaults": d}


def main() -> None:
    table = registered.registered_vital_rates()
    rates = table[table.indicator.isin(["crude_death_rate", "crude_birth_rate"])]
    codes = sorted(set(rates.code) - {"CN"})
    ids = ["CN"] + [census.resolve_unit(c).unit_id for c in codes] + ["532500"]
    r = projected_rates(ids, 2020, 2024)
    col = {u: i for i, u in enumerate(ids)}
    wpp_cdr, wpp_cbr = wpp.wpp_indicator("cdr"), wpp.wpp_indicator("cbr")
    print("China, 2020 base (step Nov t-1 -> Nov t ~ calendar year t):")
    for y in (2021, 2022, 2023):
        t = y - 2021
        nbs_cdr = registered.registered_rate("CN", y, "crude_death_rate")
        nbs_cbr = registered.registered_rate("CN", y, "crude_birth_rate")
        print(f"  {y}: CDR {r['cdr'][t, 0]:.2f} (NBS {nbs_cdr:.2f}, WPP {wpp_cdr[y]:.2f})  "
              f"CBR {r['cbr'][t, 0]:.2f} (NBS {nbs_cbr:.2f}, WPP {wpp_cbr[y]:.2f})"
              + (f"  65+ 1 Nov {r['aged_65'][t, 0] / 1e4:,.0f}万 (NBS 31 Dec "
                 f"{NBS_65_PLUS_YEAR_END[y] / 1e4:,.0f}万)" if y in NBS_65_PLUS_YEAR_END else ""))
    print(f"  Honghe CDR 2021/2022: {r['cdr'][0, col['532500']]:.2f} / "
          f"{r['cdr'][1, col['532500']]:.2f}")
    print("\nProvinces: projected vs registered (T = calibrated on this figure)")
    worst = 0.0
    for row in rates.sort_values(["code", "year", "indicator"]).itertuples():
        if row.code == "CN" or row.year > 2024 or row.year < 2021:
            continue
        i, t = col[census.resolve_unit(row.code).unit_id], row.year - 2021
        key = "cdr" if row.indicator == "crude_death_rate" else "cbr"
        ours = r[key][t, i]
        prov = r["defaults"].provenance[i]
        tuned = (key == "cdr" and prov["mortality"].get("registered_cdr") is not None
                 and row.year == registered.CALIBRATION_YEAR) or (
                 key == "cbr" and prov["fertility"].get("registered_cbr_year") == row.year)
        gap = ours / row.value - 1
        if not tuned:
            worst = max(worst, abs(gap))
        print(f"  {row.area:8s} {row.year} {key.upper()} {ours:6.2f} vs {row.value:6.2f} "
              f"{gap:+6.1%}{'  T' if tuned else ''}")
    print(f"  largest gap on figures not calibrated on: {worst:.1%}")

    b = projected_rates(["CN"], 2010, 2020)
    nbs = pd.read_csv(data_dir() / "nbs_births_1949_2023.csv").set_index("year").births_10k
    print("\n2010 base, China births (projected step ~ calendar year) vs NBS registered:")
    line = []
    for t, y in enumerate(b["years"][:9]):
        line.append(f"{y} {b['births'][t, 0] / 1e4:,.0f}/{nbs[y]:,.0f} "
                    f"({b['births'][t, 0] / 1e4 / nbs[y] - 1:+.0%})")
    print("  " + "; ".join(line))


if __name__ == "__main__":
    main()
