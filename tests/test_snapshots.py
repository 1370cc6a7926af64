"""Golden snapshots of whole `forecast run` outputs for Honghe and Banan (all scenarios).

Every table, the manifest (less its timings), the workbook's cell values and the report's text
must stay byte-identical to the files in ``tests/snapshots/<config>/``. A change that is meant to
alter the numbers regenerates them on purpose, and its commit says which and why::

    FORECAST_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_snapshots.py

Charts are not compared byte for byte (their pixels depend on the font and matplotlib build);
their numbers are the tables', and their text is in the report snapshot.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from forecast.cli import main

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "snapshots"
UPDATE = os.environ.get("FORECAST_UPDATE_SNAPSHOTS") == "1"
CONFIGS = ["honghe", "banan"]

#: Manifest entries that change from run to run or machine to machine.
VOLATILE_MANIFEST_KEYS = {"run_seconds", "stage_seconds", "config"}


def _manifest_text(path: Path) -> str:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key in VOLATILE_MANIFEST_KEYS:
        manifest.pop(key, None)
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _workbook_text(path: Path) -> str:
    """Every sheet's cell values, one tab-separated line per row."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    lines = []
    for sheet in workbook.worksheets:
        lines.append(f"## {sheet.title}")
        for row in sheet.iter_rows(values_only=True):
            lines.append("\t".join("" if v is None else repr(v) for v in row))
    workbook.close()
    return "\n".join(lines) + "\n"


def _report_text(path: Path) -> str:
    """The report's visible text: no style, no inline SVG, no embedded font; one line per block."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<svg.*?</svg>", "[chart]", page, flags=re.S)
    page = re.sub(r"<(?:p|li|tr|h[1-6]|div|caption|figcaption|section|table)\b[^>]*>", "\n", page)
    page = re.sub(r"<[^>]+>", " ", page)
    lines = [re.sub(r"\s+", " ", html.unescape(line)).strip() for line in page.splitlines()]
    return "\n".join(line for line in lines if line) + "\n"


def _snapshot_files(out: Path) -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.csv"))}
    files["manifest.json"] = _manifest_text(out / "manifest.json")
    files["results.xlsx.txt"] = _workbook_text(out / "results.xlsx")
    files["report.txt"] = _report_text(out / "report.html")
    return files


@pytest.fixture(scope="module", params=CONFIGS)
def run_output(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("snapshot") / request.param
    result = CliRunner().invoke(main, ["run", str(ROOT / "configs" / f"{request.param}.yaml"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    return request.param, out


def test_outputs_equal_the_snapshot(run_output):
    """The whole output of `forecast run configs/<name>.yaml` equals the committed snapshot."""
    name, out = run_output
    produced = _snapshot_files(out)
    directory = SNAPSHOTS / name
    if UPDATE:
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.iterdir():
            old.unlink()
        for file_name, text in produced.items():
            (directory / file_name).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.iterdir())}
    assert sorted(produced) == sorted(expected), "the set of output files changed"
    differing = [file_name for file_name in produced if produced[file_name] != expected[file_name]]
    for file_name in differing:
        new, old = produced[file_name].splitlines(), expected[file_name].splitlines()
        first = next((i for i, (a, b) in enumerate(zip(new, old, strict=False)) if a != b),
                     min(len(new), len(old)))
        print(f"{name}/{file_name}: first difference at line {first + 1}:\n"
              f"  snapshot: {old[first] if first < len(old) else '<end>'}\n"
              f"  now:      {new[first] if first < len(new) else '<end>'}")
    assert not differing, (f"{name}: {differing} differ from tests/snapshots/{name}/ "
                           "(regenerate on purpose with FORECAST_UPDATE_SNAPSHOTS=1)")
