"""Engine speed on this machine (run on demand; not part of the tests).

    .venv/bin/python benchmarks/engine_speed.py

Targets (issue 2): one jurisdiction, 101 ages x 2 sexes x 30 years < 1 ms; 1,000 trajectories
< 0.2 s; 2,850 jurisdictions batched (China's county-level units) < 1 s; and
`forecast project` on the Mexico inputs (70 years) < 2 s wall including start-up and CSV I/O.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from forecast.demography.engine import project

ROOT = Path(__file__).resolve().parents[1]
MEXICO = ROOT.parent / "shared" / "reference-data" / "un-ccmpp" / "mexico"


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    years, ages = 30, 101
    survival = np.clip(rng.uniform(0.95, 1.0, (years, 2, ages)), 0, 1)
    asfr = np.zeros((years, ages))
    asfr[:, 15:50] = 0.05
    srb = np.full(years, 1.06)
    migrants = rng.normal(0, 10, (years, 2, ages))
    base = rng.uniform(1_000, 5_000, (2, ages))

    one = best_of(lambda: project(base, survival, asfr, srb, migrants), 50)
    print(f"1 jurisdiction x 30 years:        {one * 1e3:8.3f} ms   (target < 1 ms)")

    for label, batch, target in (("1,000 trajectories", 1000, 0.2),
                                 ("2,850 jurisdictions", 2850, 1.0)):
        pops = np.broadcast_to(base, (batch, 2, ages)) * rng.uniform(0.5, 2, (batch, 1, 1))
        scale = rng.uniform(0.7, 1.3, (1, batch, 1))
        t = best_of(lambda p=pops, s=scale: project(
            p, survival[:, None], asfr[:, None] * s, srb[:, None], migrants[:, None]), 3)
        print(f"{label + ' x 30 years:':33s} {t:8.3f} s    (target < {target} s)")

    if MEXICO.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            exe = Path(sys.executable).with_name("forecast")
            started = time.perf_counter()
            subprocess.run([str(exe), "project", str(MEXICO), "--out", f"{tmp}/mx"], check=True,
                           capture_output=True)
            wall = time.perf_counter() - started
        print(f"forecast project mexico (70 y):   {wall:8.3f} s    (target < 2 s wall)")


if __name__ == "__main__":
    main()
