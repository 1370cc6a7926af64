"""forecast explore: time from a control's value to the page fragments, per view.

Prints the session start (config, defaults, baseline run), then for each config the median of
20 views (each a different bed norm, so nothing is cached between them): the run of the
scenario (forecast.pipeline.run.run with the cached defaults) and the rendering of findings, gap
table
and SVG charts. The page's target is half a second from a change to the redrawn view.

    .venv/bin/python benchmarks/explore_speed.py [configs/honghe.yaml ...]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from forecast.explore.render import view_payload
from forecast.explore.session import Session

ROOT = Path(__file__).resolve().parents[1]


def main(paths: list[str]) -> None:
    for path in paths or [str(ROOT / "configs" / "honghe.yaml"), str(ROOT / "configs" /
                                                                      "banan.yaml")]:
        started = time.perf_counter()
        session = Session.open(path)
        opened = time.perf_counter() - started
        runs, renders = [], []
        for index in range(20):
            started = time.perf_counter()
            view = session.view({"demand.elderly.norm_per_1000": str(30 + index)})
            runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            view_payload(view.result, session.baseline, view.name, "zh")
            renders.append(time.perf_counter() - started)
        run_ms, render_ms = statistics.median(runs) * 1000, statistics.median(renders) * 1000
        print(f"{Path(path).name}: session start {opened:.2f} s; per view (median of 20) "
              f"run {run_ms:.0f} ms + render {render_ms:.0f} ms = {run_ms + render_ms:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
