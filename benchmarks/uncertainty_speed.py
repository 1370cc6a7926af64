"""Benchmark (not a test): 1,000 trajectories of one jurisdiction (Honghe) to 2035, demand,
gaps and probabilities included, after the deterministic run.

Run: .venv/bin/python benchmarks/uncertainty_speed.py [N] — prints the median of 3 timings.
Target: under 3 s for N = 1,000.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from forecast.config import load_config
from forecast.pipeline.run import run
from forecast.pipeline.uncertainty import run_uncertainty

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "honghe.yaml"


def main(n: int = 1000) -> None:
    config = load_config(CONFIG)
    result = run(config, ["baseline"])
    timings, stages = [], {}
    for _ in range(3):
        marks = [time.perf_counter()]
        names = []

        def tick(stage: str, marks=marks, names=names) -> None:
            marks.append(time.perf_counter())
            names.append(stage)

        run_uncertainty(result, n, 2024, progress=tick)
        timings.append(marks[-1] - marks[0])
        stages = {name: marks[i + 1] - marks[i] for i, name in enumerate(names)}
    print(f"{n:,} trajectories, {config.projection.base_year}-{config.projection.end_year}, "
          f"one scenario: median {statistics.median(timings):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in timings)})")
    print("last run by stage: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
