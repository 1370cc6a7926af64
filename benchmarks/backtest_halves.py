"""Backtest 2010 → 2020 MAPE by band on two halves of the provinces (issue 10).

A parameter of the default method is chosen on half A (provinces at even positions in code
order: 11 北京, 13 河北, 15 内蒙古, …) and reported on half B (12 天津, 14 山西, …), which it was
not chosen on. Prints MAPE (%) for each level, band and half, and the constant-share baseline's.

    FORECAST_CACHE_DIR=/tmp/cache .venv/bin/python benchmarks/backtest_halves.py \
        [--fade A,B] [--stock-years Y] [prefecture county]

``--fade A,B`` sets the ages over which the local mortality level fades to the national one
(forecast.defaults.mortality.LEVEL_FADE_AGES) for this run; ``--fade 100,101`` is no fade.
``--stock-years Y`` sets the years of flow the 2010 census's net migrant stock stands for
(forecast.defaults.migration.STOCK_YEARS, the 2010 base's migration). Either option turns the
defaults disk cache off (its key does not see a module constant changed at run time).
"""

from __future__ import annotations

import os
import sys

import pandas as pd

from forecast.defaults import census, migration, mortality
from forecast.pipeline.backtest import run_backtest, select_units

BANDS = ("total", "0-4", "60+", "80+")


def province_half(code: str) -> str:
    """'A' or 'B' by the province's position among the 31 province codes in order."""
    provinces = sorted(census.load_units(2020).query("level == 'province'").code.astype(str))
    position = provinces.index(str(code)[:2] + "0000")
    return "A" if position % 2 == 0 else "B"


def halves_table(level: str) -> pd.DataFrame:
    result = run_backtest(select_units(level), published=False)
    table = result.units.dropna(subset=["error"]).copy()
    table["half"] = [province_half(c) for c in table.code]
    rows = []
    for (band, half), part in table.groupby(["band", "half"]):
        if band in BANDS:
            rows.append({"level": level, "band": band, "half": half, "n": len(part),
                         "mape": 100 * part.error.abs().mean(),
                         "mape_share": 100 * part.error_share.abs().mean()})
    for band, part in table.groupby("band"):
        if band in BANDS:
            rows.append({"level": level, "band": band, "half": "all", "n": len(part),
                         "mape": 100 * part.error.abs().mean(),
                         "mape_share": 100 * part.error_share.abs().mean()})
    return pd.DataFrame(rows)


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--fade"]:
        start, stop = (int(a) for a in args[1].split(","))
        mortality.LEVEL_FADE_AGES = (start, stop)
        os.environ["FORECAST_CACHE_DIR"] = "off"
        args = args[2:]
        print(f"fade ages {mortality.LEVEL_FADE_AGES}")
    if args[:1] == ["--stock-years"]:
        migration.STOCK_YEARS = float(args[1])
        os.environ["FORECAST_CACHE_DIR"] = "off"
        args = args[2:]
        print(f"stock years {migration.STOCK_YEARS:g}")
    levels = args or ["prefecture", "county"]
    frame = pd.concat([halves_table(level) for level in levels])
    print(frame.pivot_table(index=["level", "band"], columns="half",
                            values="mape").round(2).to_string())
    print("constant-share baseline MAPE:")
    print(frame[frame.half == "all"].set_index(["level", "band"]).mape_share.round(2)
          .to_string())


if __name__ == "__main__":
    main()
