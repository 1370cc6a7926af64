"""Time `forecast backtest` for all prefectures, all counties and all provinces.

Run: ``.venv/bin/python benchmarks/backtest_speed.py``. Target: all prefectures in under 60 s.
Prints, per level, the units tried and skipped, the seconds, and the summary table.
"""

from __future__ import annotations

import time

from forecast.pipeline.backtest import format_summary, run_backtest, select_units


def main() -> None:
    for level in ("prefecture", "county", "province"):
        started = time.perf_counter()
        result = run_backtest(select_units(level), published=level == "province")
        elapsed = time.perf_counter() - started
        print(f"== {level}: {elapsed:.1f} s (target for prefectures: < 60 s)")
        print(format_summary(result))


if __name__ == "__main__":
    main()
