"""Wall time of `forecast run configs/honghe.yaml` (all scenarios; and with --trajectories 1000)
as a multiple of `forecast project` on the UN Mexico inputs, measured in the same run, with the
time of each stage (the manifest's ``stage_seconds``).

Targets (issue 9): the run in at most 10 times, and with --trajectories 1000 at most 15 times,
the wall time of `forecast project` on Mexico. For the probabilistic run it also prints the
stages of the trajectories (draws, projection, demand, gaps, quantiles; summed over the nine
scenarios, from the manifest's ``uncertainty.stage_seconds``). The machine is noisy: each
command runs ``--repeat`` times (best of), alternating, and only the ratios are compared with
the targets. The first run fills the on-disk cache (trend fits, font subset; forecast.cache):
it is timed separately ("cold") and not used for the ratios.

    .venv/bin/python benchmarks/run_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEXICO = ROOT.parent / "shared" / "reference-data" / "un-ccmpp" / "mexico"
EXE = Path(sys.executable).with_name("forecast")
TARGETS = {"run": 10.0, "run --trajectories 1000": 15.0}


def wall(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(EXE), *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FORECAST_CACHE_DIR=f"{tmp}/cache")
        commands = {
            "project mexico": ["project", str(MEXICO), "--out", f"{tmp}/mx"],
            "run": ["run", str(ROOT / "configs" / "honghe.yaml"), "--out", f"{tmp}/run"],
            "run --trajectories 1000": ["run", str(ROOT / "configs" / "honghe.yaml"), "--out",
                                        f"{tmp}/traj", "--trajectories", "1000", "--seed", "1"],
        }
        cold = wall(commands["run"], env)
        best = {name: float("inf") for name in commands}
        stages: dict[str, dict[str, float]] = {}
        trajectory_stages: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():
                seconds = wall(command, env)
                if seconds < best[name]:
                    best[name] = seconds
                    if name != "project mexico":
                        out = Path(command[command.index("--out") + 1])
                        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
                        stages[name] = manifest["stage_seconds"]
                        if "uncertainty" in manifest:
                            trajectory_stages = manifest["uncertainty"].get("stage_seconds",
                                                                            {})
    base = best["project mexico"]
    print(f"forecast project mexico           {base:7.2f} s")
    print(f"forecast run honghe, cold cache   {cold:7.2f} s  ({cold / base:5.1f} x)")
    for name, target in TARGETS.items():
        ratio = best[name] / base
        verdict = "ok" if ratio <= target else "OVER TARGET"
        print(f"forecast {name:<25}{best[name]:7.2f} s  ({ratio:5.1f} x; target "
              f"<= {target:.0f} x: {verdict})")
        for stage, seconds in stages[name].items():
            print(f"    {stage:<24}{seconds:7.3f} s")
            if stage == "trajectories":
                for part, part_seconds in trajectory_stages.items():
                    print(f"      {part:<22}{part_seconds:7.3f} s")


if __name__ == "__main__":
    main()
