"""Benchmark (not a test) of `forecast batch` (issue 14): time, CPU time, throughput and peak
memory of the batch pipeline, each case in a fresh process (so every case pays its own
start-up: census tables, WPP schedules, the crosswalk).

Run: ``.venv/bin/python benchmarks/batch_speed.py [CASE ...] [--trajectories N]
[--sample K]``; without a case, all of them. Cases:

- ``national``: every county-level unit with age data (2,943 in the 2020 census), deterministic
  to 2035 with demand and gaps against the national targets (``units.csv``), in process.
  Target: under 20 s on 2 cores.
- ``national_cluster``: the same on a dask LocalCluster of 2 single-threaded worker processes
  (the 2 cores); its output must be byte-identical (sha256 shown).
- ``national_outputs``: the same through ``write_batch`` (workbook, ranked charts, map,
  report.html as well). No target; shown for what a user waits for.
- ``yunnan``: Yunnan's 129 counties with 1,000 trajectories to 2035, in process.
  Target: under 60 s.
- ``yunnan_cluster``: the same on a dask LocalCluster of 2 single-threaded worker processes.
- ``national_prob`` / ``national_prob_cluster``: the national probabilistic run reduced to
  every K-th county (``--sample``, default 25: 118 units spread over every province) with
  1,000 trajectories; throughput in unit-trajectories per second, and the full run's time
  extrapolated from it (2,943 units). The full run (2.9 million unit-trajectories) does not
  fit in a benchmark session on a shared 2-core machine: that is said in the output.
- ``memory_chunk4`` / ``memory_chunk16``: peak memory of the process tree with chunks of 4 and
  16 units (Yunnan's first 32 counties, 1,000 trajectories): bounded by the chunk, not the run.

Peak memory is the largest resident set of the process tree (this process plus any dask
worker and nanny processes) sampled every 50 ms with psutil, and ``ru_maxrss`` of the process
itself. CPU time is that of the process tree (user + system). The machine is shared: wall
times are noisy, so CPU time and ratios measured in one run are shown beside them, with the
time the tree's threads waited for a core (run queue, /proc/PID/task/TID/schedstat) and the
interpreter start-up and imports before the case: on a busy machine the wall time beyond the
CPU time is that wait, not I/O. Each case prints the sha256 of its output, so the in-process
and cluster cases can be seen to give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

YUNNAN = "530000"
END_YEAR = 2035
N_TRAJECTORIES = 1000
TARGETS = {"national": ("wall", 20.0), "national_cluster": ("wall", 20.0),
           "yunnan": ("wall", 60.0), "yunnan_cluster": ("wall", 60.0)}
CASES = ("national", "national_cluster", "national_outputs", "yunnan", "yunnan_cluster",
         "national_prob", "national_prob_cluster", "memory_chunk4", "memory_chunk16")


class TreeSampler:
    """Peak resident memory (sum over the process tree), CPU time and run-queue wait of the
    tree.

    The children are listed once a second (listing them reads every process of the machine
    from /proc, which at a 20 ms interval cost a good part of a core on a busy machine and was
    counted as the batch's CPU); the resident memory and CPU time of the processes known are
    read every 50 ms. The run-queue wait (``/proc/PID/task/TID/schedstat``, second field) is
    the time a thread was ready to run but waited for a core: on a shared machine this is
    where wall time goes beyond CPU time.
    """

    def __init__(self, interval: float = 0.05, refresh: float = 1.0) -> None:
        self.interval = interval
        self.refresh = refresh
        self.root = psutil.Process()
        self.known: dict[int, psutil.Process] = {self.root.pid: self.root}
        self.peak_rss = 0
        self.cpu_by_pid: dict[int, float] = {}
        self.wait_by_tid: dict[tuple[int, int], tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._listed = 0.0

    def _list_children(self) -> None:
        try:
            for child in self.root.children(recursive=True):
                self.known.setdefault(child.pid, child)
        except psutil.Error:
            pass
        for pid in list(self.known):
            for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
                try:
                    fields = task.read_text().split()
                except OSError:
                    continue
                key = (pid, int(task.parent.name))
                self.wait_by_tid[key] = (int(fields[0]) / 1e9, int(fields[1]) / 1e9)
        self._listed = time.monotonic()

    def _sample(self) -> None:
        if time.monotonic() - self._listed >= self.refresh:
            self._list_children()
        total = 0
        for pid, process in list(self.known.items()):
            try:
                with process.oneshot():
                    total += process.memory_info().rss
                    times = process.cpu_times()
                    self.cpu_by_pid[pid] = times.user + times.system
            except psutil.Error:
                del self.known[pid]
        self.peak_rss = max(self.peak_rss, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._list_children()
        self._sample()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_by_pid.values())

    @property
    def wait_seconds(self) -> float:
        """Run-queue wait of each process's busiest thread (the one doing the batch's work;
        idle BLAS and sampler threads wait too, but not for the batch), summed over the
        processes."""
        busiest: dict[int, tuple[float, float]] = {}
        for (pid, _), (run, wait) in self.wait_by_tid.items():
            if run > busiest.get(pid, (-1.0, 0.0))[0]:
                busiest[pid] = (run, wait)
        return sum(wait for _, wait in busiest.values())


def _selection(case: str, sample: int):
    from forecast.pipeline import batch

    if case.startswith("national"):
        selection = batch.select_units(None, "county")
        if case.startswith("national_prob"):
            units = selection.units[::sample]
            parents = selection.parent_ids[::sample]
            from dataclasses import replace
            selection = replace(selection, units=units, parent_ids=parents)
        return selection
    selection = batch.select_units(YUNNAN, "county")
    if case.startswith("memory"):
        from dataclasses import replace
        selection = replace(selection, units=selection.units[:32],
                            parent_ids=selection.parent_ids[:32])
    return selection


def run_case(case: str, trajectories: int, sample: int) -> dict:
    """One case in this process; returns its figures."""
    imports_started = time.perf_counter()
    from forecast.pipeline import batch

    started = time.perf_counter()
    import_seconds = started - imports_started
    # interpreter start-up and the benchmark's own imports (psutil) before run_case
    startup_seconds = time.time() - psutil.Process().create_time() - import_seconds
    selection = _selection(case, sample)
    probabilistic = not case.startswith("national") or case.startswith("national_prob")
    settings = batch.BatchSettings(end_year=END_YEAR,
                                   trajectories=trajectories if probabilistic else None,
                                   seed=2024)
    scheduler = "local" if case.endswith("cluster") else "none"
    workers = 2 if scheduler == "local" else None
    chunk = {"memory_chunk4": 4, "memory_chunk16": 16}.get(case)
    out = Path(tempfile.mkdtemp(prefix=f"batch-bench-{case}-"))
    try:
        with TreeSampler() as sampler:
            if case == "national_outputs":
                result = batch.write_batch(selection, settings, out / "out", chunk_size=chunk)
            else:
                (out / "out").mkdir()
                result = batch.compute_batch(selection, settings, out / "out",
                                             scheduler=scheduler, workers=workers,
                                             chunk_size=chunk)
        wall = time.perf_counter() - started
        rows = sum(1 for _ in (out / "out" / "units.csv").open(encoding="utf-8")) - 1
        digest = hashlib.sha256()
        for name in ("units.csv", "units_quantiles.csv"):
            if (out / "out" / name).exists():
                digest.update((out / "out" / name).read_bytes())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    n_units = len(selection.units)
    figures = {
        "case": case, "units": n_units, "trajectories": settings.trajectories,
        "scheduler": result.scheduler, "chunks": result.n_chunks,
        "failures": len(result.failures), "rows": rows,
        "wall_seconds": round(wall, 2), "batch_seconds": round(result.seconds, 2),
        "cpu_seconds_tree": round(sampler.cpu_seconds, 2),
        "cpu_seconds_main": round(sampler.cpu_by_pid.get(sampler.root.pid, 0.0), 2),
        "runqueue_wait_seconds_tree": round(sampler.wait_seconds, 2),
        "startup_seconds": round(startup_seconds, 2), "import_seconds": round(import_seconds, 2),
        "sha256": digest.hexdigest()[:16],
        "peak_rss_tree_mb": round(sampler.peak_rss / 2**20, 1),
        "maxrss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if settings.trajectories:
        figures["unit_trajectories_per_second"] = round(
            n_units * settings.trajectories / result.seconds, 1)
        figures["unit_trajectories_per_cpu_second"] = round(
            n_units * settings.trajectories / sampler.cpu_seconds, 1)
    return figures


def _line(figures: dict, n_all: int) -> str:
    case = figures["case"]
    text = (f"{case:22s} {figures['units']:>5,} units"
            + (f" × {figures['trajectories']:,} traj" if figures["trajectories"] else
               "            ")
            + f"  {figures['scheduler']:<34s} wall {figures['wall_seconds']:7.1f} s"
            f" (batch {figures['batch_seconds']:.1f} s)  CPU {figures['cpu_seconds_tree']:7.1f} s"
            f"  peak RSS {figures['peak_rss_tree_mb']:7.0f} MB"
            f"\n{'':22s} before the case: interpreter start {figures['startup_seconds']:.1f} s,"
            f" imports {figures['import_seconds']:.1f} s; in the case: waiting for a core "
            f"{figures['runqueue_wait_seconds_tree']:.1f} s (run queue, busiest thread of each "
            f"process), CPU/wall "
            f"{figures['cpu_seconds_tree'] / max(figures['wall_seconds'], 1e-9):.2f}; "
            f"output sha256 {figures['sha256']}"
            + (f"\n{'':22s} CPU of this process (client, scheduler, writing) "
               f"{figures['cpu_seconds_main']:.1f} s, of the worker processes "
               f"{figures['cpu_seconds_tree'] - figures['cpu_seconds_main']:.1f} s"
               if "cluster" in figures["scheduler"] else ""))
    if "unit_trajectories_per_second" in figures:
        rate = figures["unit_trajectories_per_second"]
        text += (f"\n{'':22s} throughput {rate:,.0f} unit-trajectories per s of wall, "
                 f"{figures['unit_trajectories_per_cpu_second']:,.0f} per CPU-s")
        if case.startswith("national_prob"):
            cpu_minutes = (n_all * figures["trajectories"]
                           / figures["unit_trajectories_per_cpu_second"] / 60)
            text += (f"\n{'':22s} full national run extrapolated: {n_all:,} units × "
                     f"{figures['trajectories']:,} / {rate:,.0f} per s = "
                     f"{n_all * figures['trajectories'] / rate / 60:.1f} min at this "
                     f"machine's load; {cpu_minutes:.1f} CPU-min (not run: a sample of units, "
                     "see --sample)")
    target = TARGETS.get(case)
    if target:
        met = figures["wall_seconds"] < target[1]
        cluster = "cluster" in figures["scheduler"]
        # in process: one core does the work; on the 2-worker cluster each core does half of
        # the workers' CPU while the client process waits on the other's spare time
        cpu = (figures["cpu_seconds_tree"] - figures["cpu_seconds_main"]) / 2 if cluster \
            else figures["cpu_seconds_tree"]
        cpu_met = cpu < target[1]
        text += (f"\n{'':22s} target: under {target[1]:.0f} s wall -> "
                 f"{'met' if met else 'MISSED'} on this machine now; CPU time "
                 + (f"per worker {cpu:.1f} s (workers' CPU ÷ 2) -> "
                    f"{'met' if cpu_met else 'MISSED'} on two free cores, not counting the "
                    f"client's {figures['cpu_seconds_main']:.1f} s" if cluster else
                    f"{cpu:.1f} s -> {'met' if cpu_met else 'MISSED'} on one free core"))
    if figures["failures"]:
        text += f"\n{'':22s} {figures['failures']} units FAILED"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=", ".join(CASES))
    parser.add_argument("--trajectories", type=int, default=N_TRAJECTORIES)
    parser.add_argument("--sample", type=int, default=25,
                        help="national_prob: every K-th county (default 25)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.cases or list(CASES)
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if args.child:
        print(json.dumps(run_case(cases[0], args.trajectories, args.sample)))
        return
    from forecast.pipeline import batch

    n_all = len(batch.select_units(None, "county").units)
    print(f"forecast batch benchmark, end year {END_YEAR}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f} at start (shared machine: wall times are noisy; "
          "compare CPU times and ratios)")
    results = {}
    for case in cases:
        done = subprocess.run([sys.executable, __file__, case, "--child", "--trajectories",
                               str(args.trajectories), "--sample", str(args.sample)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{case}: failed\n{done.stderr[-2000:]}")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results[case] = figures
        print(_line(figures, n_all), flush=True)
    pairs = [("national_cluster", "national"), ("yunnan_cluster", "yunnan"),
             ("national_prob_cluster", "national_prob"), ("memory_chunk16", "memory_chunk4")]
    for a, b in pairs:
        if a in results and b in results:
            wall = results[a]["wall_seconds"] / results[b]["wall_seconds"]
            cpu = results[a]["cpu_seconds_tree"] / results[b]["cpu_seconds_tree"]
            rss = results[a]["peak_rss_tree_mb"] / results[b]["peak_rss_tree_mb"]
            same = results[a]["sha256"] == results[b]["sha256"]
            print(f"ratio {a} / {b}: wall {wall:.2f}, CPU {cpu:.2f}, peak RSS {rss:.2f}; "
                  f"same output bytes: {'yes' if same else 'NO'}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
