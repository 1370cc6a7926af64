"""Helpers of the bad-input corpus (tests/test_bad_input_*.py): an earlier output to protect,
and the one assertion every case makes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from forecast.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def invoke(*args, cwd: Path | None = None):
    """`forecast ARGS` in-process (stdout and stderr kept apart)."""
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, [str(a) for a in args])
    import os

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, [str(a) for a in args])
    finally:
        os.chdir(old)


def make_earlier_output(directory: Path) -> Path:
    """An earlier output of this tool (its manifest names the tool) with a user-visible table."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps({"tool": {"name": "forecast",
                                                                  "version": "0"}}),
                                             encoding="utf-8")
    (directory / "summary.csv").write_text("scenario,year,total\nbaseline,2020,1\n",
                                           encoding="utf-8")
    return directory


def tree_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by relative path, with its bytes."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def assert_refused(result, *named: str, protected: list[Path] = (),
                   before: list[dict[str, bytes]] = ()) -> str:
    """Exit code 2, exactly one line on stderr starting 'error:' that names every string in
    ``named`` (the file, the field), no traceback, the ``protected`` trees byte-identical to
    ``before``, and no staging folder left beside them. Returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in result.output
    for text in named:
        assert str(text) in line, (text, line)
    for directory, old in zip(protected, before, strict=True):
        assert tree_bytes(directory) == old, f"{directory} changed"
        leftovers = [p.name for p in directory.parent.iterdir()
                     if p.name.startswith(f".{directory.name}.tmp-")
                     or p.name.startswith(f".{directory.name}.old-")]
        assert not leftovers, leftovers
    return line
