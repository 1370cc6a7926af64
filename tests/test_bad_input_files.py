"""Bad-input corpus, part 3: inputs directories, census tables, a run's files for `forecast
report`, a full disk, and SIGTERM (issue 13).

Every case: exit 2, one line on stderr naming the file and the row, column or field, and the
earlier output (and the user's own files) byte-identical afterwards, no staging folder left."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from badinput_helpers import (
    CONFIGS,
    ROOT,
    assert_refused,
    invoke,
    make_earlier_output,
    tree_bytes,
)


@pytest.fixture(scope="module")
def inputs_dir(tmp_path_factory) -> Path:
    """Banan's default inputs for 2020-2023 (small: four steps)."""
    out = tmp_path_factory.mktemp("inputs") / "in"
    result = invoke("inputs", "500113", "--out", out, "--end-year", 2023)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One baseline run of Banan (its charts, tables, manifest and report)."""
    out = tmp_path_factory.mktemp("run") / "banan"
    result = invoke("run", CONFIGS / "banan.yaml", "--scenario", "baseline", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture()
def earlier(tmp_path) -> tuple[Path, dict]:
    out = make_earlier_output(tmp_path / "earlier")
    return out, tree_bytes(out)


# ------------------------------------------------------------------ canonical inputs directories

def _set_cell(file: str, column: str, value: str):
    def edit(directory: Path) -> None:
        frame = pd.read_csv(directory / file, dtype=str)
        frame.loc[0, column] = value
        frame.to_csv(directory / file, index=False)
    return edit


def _write(file: str, text: str):
    def edit(directory: Path) -> None:
        (directory / file).write_text(text, encoding="utf-8")
    return edit


SETTINGS = "start_year: 2020\nend_year: 2023\nmigration_timing: end\nage_width: 1\nopen_age: 100\n"
INPUT_CASES = {
    "population 1e308": (_set_cell("population.csv", "population", "1e308"), "population.csv",
                         "row 2, column population"),
    "population 2e9": (_set_cell("population.csv", "population", "2e9"), "population.csv",
                       "row 2, column population"),
    "population inf": (_set_cell("population.csv", "population", "inf"), "population.csv",
                       "row 2, column population"),
    "population -inf": (_set_cell("population.csv", "population", "-inf"), "population.csv",
                        "row 2, column population"),
    "population nan": (_set_cell("population.csv", "population", "nan"), "population.csv",
                       "row 2, column population"),
    "population negative": (_set_cell("population.csv", "population", "-1"), "population.csv",
                            "row 2, column population"),
    "population text": (_set_cell("population.csv", "population", "many"), "population.csv",
                        "row 2, column population"),
    "age 1.5": (_set_cell("population.csv", "age", "1.5"), "population.csv", "column age"),
    "age 1e308": (_set_cell("population.csv", "age", "1e308"), "population.csv", "age"),
    "sex x": (_set_cell("population.csv", "sex", "x"), "population.csv", "column sex"),
    "migration 1e308": (_set_cell("migration.csv", "net_migrants", "1e308"), "migration.csv",
                        "row 2, column net_migrants"),
    "migration -1e308": (_set_cell("migration.csv", "net_migrants", "-1e308"),
                         "migration.csv", "row 2, column net_migrants"),
    "migration 1e9": (_set_cell("migration.csv", "net_migrants", "1e9"), "migration.csv",
                      "row 2, column net_migrants"),
    "migration inf": (_set_cell("migration.csv", "net_migrants", "inf"), "migration.csv",
                      "row 2, column net_migrants"),
    "mortality 1e308": (_set_cell("mortality.csv", "mx", "1e308"), "mortality.csv",
                        "row 2, column mx"),
    "mortality negative": (_set_cell("mortality.csv", "mx", "-0.01"), "mortality.csv",
                           "row 2, column mx"),
    "mortality nan": (_set_cell("mortality.csv", "mx", "nan"), "mortality.csv",
                      "row 2, column mx"),
    "fertility 1e308": (_set_cell("fertility.csv", "asfr", "1e308"), "fertility.csv",
                        "column asfr"),
    "fertility inf": (_set_cell("fertility.csv", "asfr", "inf"), "fertility.csv",
                      "column asfr"),
    "srb 1e308": (_set_cell("srb.csv", "srb", "1e308"), "srb.csv", "column srb"),
    "srb text": (_set_cell("srb.csv", "srb", "male"), "srb.csv", "column srb"),
    "year 1e308": (_set_cell("fertility.csv", "year", "1e308"), "fertility.csv", "year"),
    "settings end 3000": (_write("settings.yaml", SETTINGS.replace("2023", "3000")),
                          "mortality.csv", "year 2023 is missing"),
    "settings bool year": (_write("settings.yaml", SETTINGS.replace("2023", "yes")),
                           "settings.yaml", "end_year"),
    "settings float year": (_write("settings.yaml", SETTINGS.replace("2023", "2023.5")),
                            "settings.yaml", "end_year"),
    "settings bad date": (_write("settings.yaml", SETTINGS.replace("2023", "2023-13-45")),
                          "settings.yaml", "end_year"),
    "settings deep": (_write("settings.yaml", "start_year: " + "[" * 50_000 + "]" * 50_000),
                      "settings.yaml", "line 1"),
    "settings recursive": (_write("settings.yaml", SETTINGS + "x: &r [*r]\n"),
                           "settings.yaml", "recursive"),
    "settings bomb": (_write("settings.yaml", SETTINGS + "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8))), "settings.yaml", "alias"),
    "settings huge": (_write("settings.yaml", SETTINGS + "#" + "x" * 1_100_000 + "\n"),
                      "settings.yaml", "characters"),
}


@pytest.mark.parametrize("case", sorted(INPUT_CASES))
def test_a_bad_inputs_directory_names_the_file_and_cell(inputs_dir, tmp_path, earlier, case):
    edit, file, where = INPUT_CASES[case]
    copy = tmp_path / "in"
    shutil.copytree(inputs_dir, copy)
    edit(copy)
    out, before = earlier
    inputs_before = tree_bytes(copy)
    result = invoke("project", copy, "--out", out)
    assert_refused(result, file, where, protected=[out, copy], before=[before, inputs_before])


# ------------------------------------------------------------------ a user's census table

def _table(male_85: str = "1000", female_85: str = "1200", total: str | None = None) -> str:
    rows = ["年龄,男,女" + (",合计" if total is not None else "")]
    for start in range(0, 85, 5):
        rows.append(f"{start}-{start + 4}岁,10000,9800" + (",19800" if total is not None else ""))
    rows.append(f"85岁及以上,{male_85},{female_85}" + (f",{total}" if total is not None else ""))
    return "\n".join(rows) + "\n"


TABLE_CASES = {
    "male inf": (_table(male_85="inf"), "row 19", "male"),
    "male -inf": (_table(male_85="-inf"), "row 19", "male"),
    "female 1e308": (_table(female_85="1e308"), "row 19", "female"),
    "female 2e9": (_table(female_85="2e9"), "row 19", "female"),
    "male nan": (_table(male_85="nan"), "row 19", "male"),
    "male negative": (_table(male_85="-5"), "row 19", "male"),
    "male text": (_table(male_85="many"), "row 19", "male"),
    "total inf": (_table(total="inf"), "row 19", "total"),
    "total 1e308": (_table(total="1e308"), "row 19", "total"),
    "total wrong": (_table(total="5"), "row 19", "合计"),
    "both 1e308": (_table(male_85="1e308", female_85="1e308"), "row 19", "male"),
}


@pytest.mark.parametrize("case", sorted(TABLE_CASES))
def test_a_bad_census_table_names_the_file_row_and_column(tmp_path, earlier, case):
    text, row, column = TABLE_CASES[case]
    table = tmp_path / "table.csv"
    table.write_text(text, encoding="utf-8")
    out, before = earlier
    result = invoke("inputs", "500113", "--out", out, "--census-table", table)
    assert_refused(result, "table.csv", row, column, protected=[out], before=[before])


UNIT_QUERIES = {
    "unknown name": ("不存在县", "不存在县"),
    "unknown code": ("999999", "999999"),
    "ambiguous name": ("城区", "城区"),
    "full-width unknown": ("９９９９９９", "９９９９９９"),
}


@pytest.mark.parametrize("case", sorted(UNIT_QUERIES))
def test_inputs_for_a_bad_unit_names_it(tmp_path, earlier, case):
    query, named = UNIT_QUERIES[case]
    out, before = earlier
    result = invoke("inputs", query, "--out", out)
    assert_refused(result, named, "6-digit code", protected=[out], before=[before])


def test_a_full_width_code_finds_its_unit():
    """Full-width digits (５００１１３) name the same unit as 500113."""
    result = invoke("units", "５００１１３")
    assert result.exit_code == 0 and "巴南区" in result.output


# ------------------------------------------------------------------ `forecast report`

def _manifest_edit(change):
    def edit(directory: Path) -> None:
        path = directory / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return edit


def _csv_edit(file: str, column: str, value):
    def edit(directory: Path) -> None:
        frame = pd.read_csv(directory / file)
        frame[column] = frame[column].astype(object)
        frame.loc[0, column] = value
        frame.to_csv(directory / file, index=False)
    return edit


def _svg(markup: str):
    def edit(directory: Path) -> None:
        path = directory / "charts" / "bed_demand.svg"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("</svg>", markup + "</svg>"), encoding="utf-8")
    return edit


REPORT_CASES = {
    "projection text": (_manifest_edit(lambda m: m.update(projection="2020-2035")),
                        "manifest.json", "projection"),
    "projection list": (_manifest_edit(lambda m: m.update(projection=[2020, 2035])),
                        "manifest.json", "projection"),
    "base_year text": (_manifest_edit(lambda m: m["projection"].update(base_year="2020")),
                       "manifest.json", "projection.base_year"),
    "end_year null": (_manifest_edit(lambda m: m["projection"].update(end_year=None)),
                      "manifest.json", "projection.end_year"),
    "end_year bool": (_manifest_edit(lambda m: m["projection"].update(end_year=True)),
                      "manifest.json", "projection.end_year"),
    "scenarios text": (_manifest_edit(lambda m: m.update(scenarios="baseline")),
                       "manifest.json", "scenarios"),
    "scenarios numbers": (_manifest_edit(lambda m: m.update(scenarios=[1, 2])),
                          "manifest.json", "scenarios[0]"),
    "jurisdiction list": (_manifest_edit(lambda m: m.update(jurisdiction=["巴南区"])),
                          "manifest.json", "jurisdiction"),
    "jurisdiction name object": (_manifest_edit(lambda m: m["jurisdiction"].update(
        name={"zh": "巴南区"})), "manifest.json", "jurisdiction.name"),
    "source_document text": (_manifest_edit(lambda m: m.update(source_document="x")),
                             "manifest.json", "source_document"),
    "provenance list": (_manifest_edit(lambda m: m.update(provenance=[])),
                        "manifest.json", "provenance"),
    "manifest is a list": (lambda d: (d / "manifest.json").write_text("[]"), "manifest.json",
                           "jurisdiction"),
    "manifest not json": (lambda d: (d / "manifest.json").write_text("{"), "manifest.json",
                          "manifest"),
    "summary year text": (_csv_edit("summary.csv", "year", "twenty"), "summary.csv",
                          "column year"),
    "summary total text": (_csv_edit("summary.csv", "total", "many"), "summary.csv",
                           "column total"),
    "summary pop_60plus inf": (_csv_edit("summary.csv", "pop_60plus", "inf"), "summary.csv",
                               "column pop_60plus"),
    "gaps demand text": (_csv_edit("gaps.csv", "demand", "lots"), "gaps.csv", "column demand"),
    "gaps year 2020.5": (_csv_edit("gaps.csv", "year", 2020.5), "gaps.csv", "column year"),
    "gaps missing column": (lambda d: pd.read_csv(d / "gaps.csv").drop(columns="gap").to_csv(
        d / "gaps.csv", index=False), "gaps.csv", "gap"),
    "svg script": (_svg("<script>alert(1)</script>"), "bed_demand.svg", "<script>"),
    "svg onload": (_svg('<g onload="alert(1)"></g>'), "bed_demand.svg", "onload"),
    "svg onclick single quotes": (_svg("<rect onclick='alert(1)'/>"), "bed_demand.svg",
                                  "onclick"),
    "svg foreignObject": (_svg("<foreignObject><iframe src='x'/></foreignObject>"),
                          "bed_demand.svg", "foreignObject"),
    "svg external href": (_svg('<use xlink:href="http://example.com/x.svg#a"/>'),
                          "bed_demand.svg", "external reference"),
    "svg external image": (_svg('<image href="https://example.com/a.png"/>'),
                           "bed_demand.svg", "image"),
    "svg javascript url": (_svg('<a href="javascript:alert(1)"></a>'), "bed_demand.svg",
                           "javascript:"),
    "svg external url()": (_svg('<rect style="fill:url(http://example.com/p)"/>'),
                           "bed_demand.svg", "url("),
    "svg style import": (_svg("<style>@import url(http://example.com/x.css);</style>"),
                         "bed_demand.svg", "@import"),
    "svg entity": (lambda d: (d / "charts" / "bed_demand.svg").write_text(
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol">]><svg>&a;</svg>'),
        "bed_demand.svg", "ENTITY"),
    "svg not utf-8": (lambda d: (d / "charts" / "bed_demand.svg").write_bytes(b"<svg>\xff</svg>"),
                      "bed_demand.svg", "UTF-8"),
}


@pytest.mark.parametrize("case", sorted(REPORT_CASES))
def test_report_on_edited_run_files_names_the_file_and_field(run_dir, tmp_path, case):
    edit, file, field = REPORT_CASES[case]
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    edit(copy)
    before = tree_bytes(copy)
    result = invoke("report", copy)
    assert_refused(result, file, protected=[copy], before=[before])
    assert field.lower() in result.stderr.lower(), result.stderr


def test_the_tools_own_svg_is_inlined(run_dir):
    """The charts a run draws pass the check: the report inlines every one of them."""
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= len(list((run_dir / "charts").glob("*.svg")))
    assert "<script" not in page


# ------------------------------------------------------------------ a full disk

def _fail_writes(monkeypatch, code: int) -> None:
    """Every DataFrame.to_csv raises OSError(code) as a full disk would."""
    def full(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EDQUOT])
@pytest.mark.parametrize("command", ["project", "inputs", "run"])
def test_a_full_disk_while_writing_is_one_line(inputs_dir, tmp_path, earlier, monkeypatch,
                                               command, code):
    out, before = earlier
    args = {"project": ["project", inputs_dir, "--out", out],
            "inputs": ["inputs", "500113", "--out", out, "--end-year", 2022],
            "run": ["run", CONFIGS / "banan.yaml", "--scenario", "baseline", "--out", out]}
    _fail_writes(monkeypatch, code)
    result = invoke(*args[command])
    assert_refused(result, str(out), "cannot write", protected=[out], before=[before])


def test_report_on_a_full_disk_is_one_line(run_dir, tmp_path, monkeypatch):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    before = tree_bytes(copy)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(Path, "write_text", full)
    result = invoke("report", copy)
    assert_refused(result, "report.html", protected=[copy], before=[before])


def test_a_real_file_size_limit_is_one_line(inputs_dir, tmp_path):
    """EFBIG from the kernel: `forecast project` under a 20 kB file-size limit (ulimit -f)."""
    import resource

    out = make_earlier_output(tmp_path / "earlier")
    before = tree_bytes(out)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = subprocess.run([sys.executable, "-m", "forecast.cli", "project", str(inputs_dir),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT,
                          preexec_fn=limit, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "too large" in lines[0] and str(out) in lines[0], done.stderr
    assert tree_bytes(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".earlier.")]


# ------------------------------------------------------------------ SIGTERM

def test_sigterm_while_writing_removes_the_staging_folder(tmp_path):
    """SIGTERM during `forecast run` (while it writes charts into the staging folder): exit
    143, one line, the staging folder removed, the earlier output untouched."""
    out = make_earlier_output(tmp_path / "earlier")
    before = tree_bytes(out)
    process = subprocess.Popen([sys.executable, "-m", "forecast.cli", "run",
                                str(CONFIGS / "banan.yaml"), "--scenario", "baseline", "--out",
                                str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    staging = []
    while time.monotonic() < deadline and process.poll() is None and not staging:
        staging = [p for p in tmp_path.iterdir() if p.name.startswith(".earlier.tmp-")]
        time.sleep(0.02)
    assert staging, "the run never started writing"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "SIGTERM" in lines[0], stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".earlier.")]
    assert tree_bytes(out) == before
