"""What makes `forecast run` fast must not change what it writes: the on-disk cache (default
inputs, trend fits, font subset) and charts drawn in forked processes give the same bytes as a
cold, sequential run.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from forecast import cache
from forecast.cli import main
from forecast.defaults import trends

ROOT = Path(__file__).resolve().parents[1]


def _run(out: Path, *extra: str) -> None:
    result = CliRunner().invoke(main, ["run", str(ROOT / "configs" / "honghe.yaml"), "--out",
                                       str(out), "--scenario", "baseline", "--scenario",
                                       "trend_fertility", *extra])
    assert result.exit_code == 0, result.output


def _files(directory: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "manifest.json":
                manifest = json.loads(data)
                manifest.pop("stage_seconds")
                manifest.pop("run_seconds")
                for key in ("seconds", "stage_seconds"):  # the trajectories' timings
                    manifest.get("uncertainty", {}).pop(key, None)
                data = json.dumps(manifest, sort_keys=True).encode()
            files[str(path.relative_to(directory))] = data
    return files


def test_cold_and_warm_cache_and_parallel_charts_write_the_same_bytes(tmp_path, monkeypatch):
    """Run 1: empty cache, charts drawn in this process. Run 2: the cache run 1 filled, charts
    drawn by two forked processes. Every file (manifest less its timings) is byte-identical,
    and run 1 stored the default inputs, a trend fit and a font subset."""
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FORECAST_CHART_WORKERS", "1")
    trends._trend.cache_clear()  # the in-process memo would hide the disk cache
    _run(tmp_path / "cold")
    stored = sorted(p.parent.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    # the default inputs of the run's unit and of its counties, a trend fit and a font subset
    assert stored == ["defaults", "defaults", "font-subset", "trends"]
    monkeypatch.setenv("FORECAST_CHART_WORKERS", "2")
    trends._trend.cache_clear()  # run 2 reads the fit from disk
    _run(tmp_path / "warm")
    cold, warm = _files(tmp_path / "cold"), _files(tmp_path / "warm")
    assert sorted(cold) == sorted(warm)
    assert [name for name in cold if cold[name] != warm[name]] == []
    assert "charts/tfr_trend.svg" in cold
    for run in ("cold", "warm"):  # each stage's time is in the manifest
        stages = json.loads((tmp_path / run / "manifest.json").read_text())["stage_seconds"]
        assert {"config", "projection_and_demand", "tables", "workbook",
                "charts_and_workbook", "report"} <= set(stages)
        assert all(seconds >= 0 for seconds in stages.values())


def test_charts_drawn_during_the_trajectories_are_the_files_drawn_after_them(tmp_path):
    """`run --trajectories` in a new process: with two chart workers the deterministic charts
    are drawn in processes forked before the trajectories, and the fan charts are sent to them
    pickled afterwards; with one, every chart is drawn in the running process after the
    trajectories. Every file (manifest less its timings) is byte-identical, the four fan
    charts included."""
    import os
    import subprocess
    import sys

    files = {}
    for workers in ("1", "2"):
        env = dict(os.environ, FORECAST_CACHE_DIR=str(tmp_path / "cache"),
                   FORECAST_CHART_WORKERS=workers)
        done = subprocess.run(
            [sys.executable, "-m", "forecast.cli", "run", str(ROOT / "configs" / "honghe.yaml"),
             "--out", str(tmp_path / workers), "--scenario", "baseline", "--scenario",
             "trend_fertility", "--trajectories", "20", "--seed", "3"],
            capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr
        files[workers] = _files(tmp_path / workers)
    assert sorted(files["1"]) == sorted(files["2"])
    assert [name for name in files["1"] if files["1"][name] != files["2"][name]] == []
    fans = [name for name in files["1"] if name.startswith("charts/fan_")]
    assert len(fans) == 8  # four fan charts, PNG and SVG


_LATE_JOBS_SCRIPT = """
import functools, os, sys, threading
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from forecast.presentation import outputs

directory = Path(sys.argv[1])

def figure(tag):
    (directory / f"{tag}.pid").write_text(str(os.getpid()))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig

assert threading.active_count() == 1
drawing = outputs.ChartDrawing([("a", lambda: figure("a")), ("b", lambda: figure("b"))],
                               directory, workers=2)
assert drawing._pool is not None
# made after the fork: a partial of a module-level function pickles, a lambda does not
drawing.add([("c", functools.partial(figure, "c")), ("d", lambda: figure("d"))])
print(",".join(drawing.wait()))
print(os.getpid())
"""


def test_charts_added_after_the_fork_are_sent_to_the_workers_when_they_pickle(tmp_path):
    """ChartDrawing.add: a job made after the workers were forked is drawn by a worker when
    its drawing pickles, else in the calling process; all come back in the jobs' order."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _LATE_JOBS_SCRIPT, str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    stems, parent = done.stdout.split()
    assert stems == "charts/a,charts/b,charts/c,charts/d"
    pids = {tag: (tmp_path / f"{tag}.pid").read_text() for tag in "abcd"}
    assert pids["a"] != parent and pids["b"] != parent and pids["c"] != parent
    assert pids["d"] == parent
    for stem in "abcd":
        assert (tmp_path / f"{stem}.svg").stat().st_size > 0


def test_cache_keys_change_with_every_part():
    assert cache.cache_key("a", 1) == cache.cache_key("a", 1)
    assert cache.cache_key("a", 1) != cache.cache_key("a", 2)
    assert cache.cache_key("a", b"x") != cache.cache_key("a", "x")
    assert cache.cache_key(["a", "b"]) != cache.cache_key("a", "b")


def test_a_damaged_or_unwritable_cache_falls_back_to_computing(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    key = cache.cache_key("x")
    (tmp_path / "cache" / "ns").mkdir(parents=True)
    (tmp_path / "cache" / "ns" / f"{key}.json").write_text("{not json")
    assert cache.cached_json("ns", key, lambda: {"b": 1.5, "a": [1, 2]}) == {"b": 1.5,
                                                                              "a": [1, 2]}
    assert json.loads((tmp_path / "cache" / "ns" / f"{key}.json").read_text()) == {
        "b": 1.5, "a": [1, 2]}
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert cache.cached_bytes("ns", key, lambda: b"value") == b"value"
    monkeypatch.setenv("FORECAST_CACHE_DIR", "off")
    calls = []
    assert cache.cached_bytes("ns", key, lambda: calls.append(1) or b"v") == b"v"
    assert cache.cached_bytes("ns", key, lambda: calls.append(1) or b"v") == b"v"
    assert calls == [1, 1]




_DYING_WORKER_SCRIPT = """
import os, sys, threading
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from forecast.presentation import outputs

parent = os.getpid()

def figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig

def dies_in_a_worker():
    if os.getpid() != parent:
        os._exit(3)  # a worker killed mid-chart (as by the OOM killer)
    return figure()

assert threading.active_count() == 1
drawing = outputs.ChartDrawing([("a", figure), ("b", dies_in_a_worker), ("c", figure)],
                               Path(sys.argv[1]), workers=2)
assert drawing._pool is not None, "a single-threaded process forks its chart workers"
print(",".join(drawing.wait()))
"""


def test_a_dead_chart_worker_does_not_hang_the_run(tmp_path):
    """A worker that dies is not waited for: its charts are drawn in the calling process and
    every chart is written (multiprocessing.Pool would wait for the lost task for ever)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _DYING_WORKER_SCRIPT, str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "charts/a,charts/b,charts/c"
    for stem in "abc":
        assert (tmp_path / f"{stem}.png").stat().st_size > 0


def test_charts_are_drawn_in_process_while_other_threads_run(tmp_path):
    """Forking a process with other threads can leave a child waiting on a lock a thread held:
    with a thread alive the charts are drawn here, and the files are still all written."""
    import threading

    import matplotlib.pyplot as plt

    from forecast.presentation import outputs

    def figure():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        return fig

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        drawing = outputs.ChartDrawing([("x", figure), ("y", figure)], tmp_path, workers=2)
        assert drawing._pool is None
        assert drawing.wait() == ["charts/x", "charts/y"]
    finally:
        stop.set()
        thread.join()
    assert (tmp_path / "x.svg").is_file() and (tmp_path / "y.png").is_file()


def test_cached_default_inputs_equal_computed_ones_and_a_damaged_entry_is_recomputed(
        tmp_path, monkeypatch):
    """defaults_for read back from the cache equals defaults_for computed with the cache off
    (arrays bit for bit, provenance equal); a damaged entry is computed afresh and replaced."""
    import numpy as np

    from forecast.defaults.census import resolve_unit
    from forecast.defaults.consistency import defaults_for

    units = [resolve_unit("630000")]  # Qinghai: the nation and its 31 provinces
    monkeypatch.setenv("FORECAST_CACHE_DIR", "off")
    computed = defaults_for(units, 2020, 2030)
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    defaults_for(units, 2020, 2030)
    (entry,) = (tmp_path / "cache" / "defaults").iterdir()
    for damage in (None, b"not a pickle"):
        if damage is not None:
            entry.write_bytes(damage)
        read = defaults_for(units, 2020, 2030)
        for name in ("population", "mx", "asfr", "srb", "net_migrants"):
            np.testing.assert_array_equal(getattr(read, name), getattr(computed, name))
        assert read.provenance == computed.provenance and read.unit_ids == computed.unit_ids
    assert entry.read_bytes() != b"not a pickle"


def _in_a_fresh_process(script: str, *args: str) -> str:
    """Run ``script`` in a new interpreter (single-threaded, so forecast.forking splits even
    when a test earlier in the suite left a thread running here); its stdout."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


_SPLIT_SCENARIOS_SCRIPT = """
import os, sys
import pandas as pd
from forecast.config import load_config
from forecast.forking import can_split
from forecast.pipeline import run as run_module
from forecast.presentation.outputs import run_tables

config = load_config(sys.argv[1])
assert can_split(len(config.scenario_names())), "no split: nothing would be tested"
split = run_tables(run_module.run(config))
os.environ["FORECAST_RUN_WORKERS"] = "1"
alone = run_tables(run_module.run(config))
del os.environ["FORECAST_RUN_WORKERS"]
parent, original = os.getpid(), run_module.run_scenario

def fails_in_the_child(spec, scenario):
    if os.getpid() != parent:
        raise RuntimeError("a child that fails")
    return original(spec, scenario)

run_module.run_scenario = fails_in_the_child
recovered = run_tables(run_module.run(config))
for other in (alone, recovered):
    assert sorted(split) == sorted(other)
    for name, frame in split.items():
        pd.testing.assert_frame_equal(frame, other[name], check_exact=True)
print("equal", len(split))
"""


def test_scenarios_run_in_a_forked_process_give_the_same_tables():
    """Honghe's twelve scenarios: run with every second scenario in a forked process, then all
    in this process (FORECAST_RUN_WORKERS=1), then with a child that fails (its scenarios are
    run again here). Every table is equal cell for cell and dtype for dtype."""
    out = _in_a_fresh_process(_SPLIT_SCENARIOS_SCRIPT, str(ROOT / "configs" / "honghe.yaml"))
    assert out.split()[0] == "equal" and int(out.split()[1]) >= 10


_SPLIT_TRAJECTORIES_SCRIPT = """
import os, sys
import numpy as np
import pandas as pd
from forecast.config import load_config
from forecast.forking import can_split
from forecast.pipeline.run import run
from forecast.pipeline.uncertainty import STAGES, run_uncertainty

result = run(load_config(sys.argv[1]))
assert can_split(len(result.scenarios)), "no split: nothing would be tested"
heard = {"split": [], "alone": []}
split = run_uncertainty(result, 30, 5, progress=heard["split"].append)
os.environ["FORECAST_RUN_WORKERS"] = "1"
alone = run_uncertainty(result, 30, 5, progress=heard["alone"].append)
for table in ("summary_quantiles", "demand_quantiles", "probability_met"):
    pd.testing.assert_frame_equal(getattr(split, table), getattr(alone, table),
                                  check_exact=True)
assert list(split.draws) == list(alone.draws) == result.scenarios
for name in result.scenarios:
    np.testing.assert_array_equal(split.draws[name].tfr_log, alone.draws[name].tfr_log)
for key in ("seconds", "stage_seconds"):
    split.record.pop(key), alone.record.pop(key)
assert split.record == alone.record
for calls in heard.values():
    assert sorted(calls) == sorted(list(STAGES) * len(result.scenarios)), calls
print("equal")
"""


def test_trajectories_split_across_processes_give_the_same_tables():
    """run_uncertainty with every second scenario's trajectories in a forked process equals
    the run with all of them here (FORECAST_RUN_WORKERS=1), table for table, draws included;
    ``progress`` hears every stage of every scenario either way."""
    out = _in_a_fresh_process(_SPLIT_TRAJECTORIES_SCRIPT, str(ROOT / "configs" / "honghe.yaml"))
    assert out.strip() == "equal"


def test_report_built_while_the_charts_are_drawn_is_the_report_built_after(tmp_path,
                                                                           monkeypatch):
    """`forecast run` builds report.html's page while the charts are drawn and puts the charts
    in afterwards (start_report, finish_report): the file is byte for byte the one
    write_report builds from the finished output; a page built for other charts than those
    drawn is rebuilt, not patched."""
    from forecast.presentation.report import finish_report, start_report, write_report

    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "run"
    _run(out)
    during = (out / "report.html").read_bytes()
    assert during.count(b"<svg") >= 10 and b"data-forecast-chart" not in during
    write_report(out)
    assert (out / "report.html").read_bytes() == during
    stems = sorted(p.stem for p in (out / "charts").glob("*.svg"))
    (out / "report.html").unlink()
    finish_report(start_report(out, "zh", stems[1:]))  # one chart short: rebuilt
    assert (out / "report.html").read_bytes() == during
