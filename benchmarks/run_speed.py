"""Wall time of `forecast run configs/honghe.yaml` (all scenarios; and with --trajectories 1000)
as a multiple of `forecast project` on the UN Mexico inputs, measured in the same run, with the
time of each stage (the manifest's ``stage_seconds``).

Targets (issue 9): the run in at most 10 times, and with --trajectories 1000 at most 15 times,
the wall time of `forecast project` on Mexico. For the probabilistic run it also prints the
stages of the trajectories (draws, projection, demand, gaps, quantiles; summed over the nine
scenarios, from the manifest's ``uncertainty.stage_seconds``). The machine is noisy: each
command runs ``--repeat`` times (best of), alternating, and only the ratios are compared with
the targets. The first run fills the on-disk cache (default inputs, trend fits,
font subset; forecast.cache):
it is timed separately ("cold") and not used for the ratios.

Stages are wall time in the main process, and some overlap work done elsewhere: a forked
process runs every second scenario (``projection_and_demand``, and each scenario's trajectories
in ``trajectories``); with ``--trajectories`` the deterministic charts are drawn by the chart
workers during ``trajectories``; the report's page is built while the charts are drawn (in
``charts_and_workbook``) and ``report`` is the charts put into it. The trajectories' parts are
summed over the scenarios in both processes, so they may add up to more than ``trajectories``.

``--compare EXE`` also times another checkout's ``forecast`` (e.g. main's, before a change) on
the same config, alternating with this one, each with a cache of its own, so a before/after
ratio is measured in one run.

    .venv/bin/python benchmarks/run_speed.py [--repeat 3] [--no-trajectories]
                                             [--compare /path/to/other/.venv/bin/forecast]
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


def wall(exe: Path, args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(exe), *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-trajectories", action="store_true",
                        help="time only the deterministic run")
    parser.add_argument("--compare", type=Path, default=None, metavar="EXE",
                        help="another checkout's forecast executable, timed alternately")
    args = parser.parse_args()
    config = str(ROOT / "configs" / "honghe.yaml")
    targets = {name: target for name, target in TARGETS.items()
               if not (args.no_trajectories and "trajectories" in name)}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FORECAST_CACHE_DIR=f"{tmp}/cache")
        commands: dict[str, tuple[Path, list[str], dict[str, str]]] = {
            "project mexico": (EXE, ["project", str(MEXICO), "--out", f"{tmp}/mx"], env),
            "run": (EXE, ["run", config, "--out", f"{tmp}/run"], env),
        }
        if "run --trajectories 1000" in targets:
            commands["run --trajectories 1000"] = (
                EXE, ["run", config, "--out", f"{tmp}/traj", "--trajectories", "1000",
                      "--seed", "1"], env)
        if args.compare is not None:
            other_env = dict(os.environ, FORECAST_CACHE_DIR=f"{tmp}/cache-compare")
            commands["compare: run"] = (args.compare, ["run", config, "--out",
                                                       f"{tmp}/compare"], other_env)
        cold = {name: wall(*commands[name]) for name in commands if "run" in name
                and "trajectories" not in name}
        best = {name: float("inf") for name in commands}
        stages: dict[str, dict[str, float]] = {}
        trajectory_stages: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, (exe, command, command_env) in commands.items():
                seconds = wall(exe, command, command_env)
                if seconds < best[name]:
                    best[name] = seconds
                    if name != "project mexico":
                        out = Path(command[command.index("--out") + 1])
                        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
                        stages[name] = manifest.get("stage_seconds", {})
                        if "uncertainty" in manifest:
                            trajectory_stages = manifest["uncertainty"].get("stage_seconds",
                                                                            {})
    base = best["project mexico"]
    print(f"forecast project mexico             {base:7.2f} s")
    for name, seconds in cold.items():
        print(f"forecast {name + ', cold cache':<28}{seconds:7.2f} s  ({seconds / base:5.1f} x)")
    for name in commands:
        if name == "project mexico":
            continue
        ratio = best[name] / base
        target = targets.get(name.removeprefix("compare: "))
        verdict = "" if target is None else (
            f"; target <= {target:.0f} x: {'ok' if ratio <= target else 'OVER TARGET'}")
        print(f"forecast {name:<28}{best[name]:7.2f} s  ({ratio:5.1f} x{verdict})")
        for stage, stage_seconds in stages.get(name, {}).items():
            print(f"    {stage:<32}{stage_seconds:7.3f} s")
            if stage == "trajectories":
                for part, part_seconds in trajectory_stages.items():
                    print(f"      {part:<30}{part_seconds:7.3f} s")
    if args.compare is not None:
        print(f"this checkout's run / the compared one's: {best['run'] / best['compare: run']:.2f}")


if __name__ == "__main__":
    main()
