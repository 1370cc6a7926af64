"""What makes `forecast run` fast must not change what it writes: the on-disk cache (trend fits,
font subset) and charts drawn in forked processes give the same bytes as a cold, sequential run.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from forecast import cache, trends
from forecast.cli import main

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
                data = json.dumps(manifest, sort_keys=True).encode()
            files[str(path.relative_to(directory))] = data
    return files


def test_cold_and_warm_cache_and_parallel_charts_write_the_same_bytes(tmp_path, monkeypatch):
    """Run 1: empty cache, charts drawn in this process. Run 2: the cache run 1 filled, charts
    drawn by two forked processes. Every file (manifest less its timings) is byte-identical,
    and run 1 stored a trend fit and a font subset."""
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FORECAST_CHART_WORKERS", "1")
    trends._trend.cache_clear()  # the in-process memo would hide the disk cache
    _run(tmp_path / "cold")
    stored = sorted(p.parent.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert stored == ["font-subset", "trends"]
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


