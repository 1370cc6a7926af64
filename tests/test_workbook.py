"""results.xlsx as a reader sees it: every number cell's format shows the value to the
precision it carries, code cells show labels, headers are ``中文 English``.

One real run (Honghe baseline with 40 trajectories, so that the probability sheet exists)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from forecast.cli import main
from forecast.presentation.labels import CODE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]

# decimals shown and scale of each number format the workbook uses
FORMATS = {"0": (0, 1.0), "#,##0": (0, 1.0), "#,##0.0": (1, 1.0), "0.00": (2, 1.0),
           "#,##0.00": (2, 1.0), "0.0%": (1, 100.0), "0%": (0, 100.0), "General": (None, 1.0)}


# columns whose meaning (and so format) changes by row: a target's value by its kind, a
# quantile by its indicator
ROW_DEPENDENT = {"value", "q025", "q10", "q50", "q90", "q975"}


def shown(value: float, number_format: str) -> float:
    """The value Excel displays under ``number_format``, in the cell's own units."""
    assert number_format in FORMATS, f"format {number_format!r} not checked by this test"
    decimals, scale = FORMATS[number_format]
    if decimals is None:
        return value
    return round(value * scale, decimals) / scale


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    out = tmp_path_factory.mktemp("workbook") / "honghe"
    result = CliRunner().invoke(main, ["run", str(ROOT / "configs" / "honghe.yaml"), "--out",
                                       str(out), "--scenario", "baseline", "--trajectories",
                                       "40", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return out, load_workbook(out / "results.xlsx")


def _columns(sheet) -> dict[str, list]:
    """English column name -> its cells below the header."""
    columns = {}
    for index, cell in enumerate(sheet[1], start=1):
        name = str(cell.value).split(" ")[-1]
        columns[name] = [row[0] for row in sheet.iter_rows(min_row=2, min_col=index,
                                                           max_col=index)]
    return columns


def test_every_number_shows_its_precision(workbook):
    """Per sheet and column: each number as displayed is within 1 % of its value or within
    0.5 % of the largest magnitude of its column (for a target's value and the quantiles: of
    the rows of the same target kind, indicator or unit). 0.54 shown as "1" (a probability
    as a count) or 4.5 as "5" (a rate per 1,000 as a count) fails; 12,345.6 beds shown as
    "12,346" passes."""
    _, book = workbook
    failures = []
    for sheet in book.worksheets:
        columns = _columns(sheet)
        groups = next((columns[k] for k in ("kind", "indicator", "unit") if k in columns), None)
        for name, cells in columns.items():
            numbers = [(i, c) for i, c in enumerate(cells)
                       if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
            if not numbers:
                continue
            by_row = groups is not None and name in ROW_DEPENDENT
            key = [str(groups[i].value) if by_row else "" for i, _ in numbers]
            largest: dict[str, float] = {}
            for k, (_, cell) in zip(key, numbers, strict=True):
                largest[k] = max(largest.get(k, 0.0), abs(float(cell.value)))
            for k, (_, cell) in zip(key, numbers, strict=True):
                value = float(cell.value)
                error = abs(shown(value, cell.number_format) - value)
                if error > max(0.01 * abs(value), 0.005 * largest[k]):
                    failures.append(f"{sheet.title}.{name} {cell.coordinate}: {value!r} shown "
                                    f"with {cell.number_format!r}")
                    break
    assert failures == []


def test_known_columns_have_their_formats(workbook):
    """The findings of issue 16: probabilities as per cent (one decimal: 1 of 40 trajectories is
    2.5 %), base-year rates with a decimal."""
    _, book = workbook
    probability = _columns(book["probability_met"])["probability_met"]
    assert {c.number_format for c in probability if c.value is not None} == {"0.0%"}
    targets = _columns(book["targets"])
    rate = targets["per_1000_population_at_base_year"]
    assert {c.number_format for c in rate if c.value is not None} == {"#,##0.00"}
    kinds = [c.value for c in targets["kind"]]
    formats = dict(zip(kinds, [c.number_format for c in targets["value"]], strict=True))
    assert formats["每千人口"] == "#,##0.00" and formats["护理型床位占比"] == "0.0%"
    assert {c.number_format for c in _columns(book["summary"])["share_60plus"]} == {"0.0%"}
    assert {c.number_format for c in _columns(book["gaps"])["year"]} == {"0"}


def test_code_cells_show_labels_and_csvs_keep_codes(workbook):
    """baseline → 基准方案, needs of 托位 → 入托需求法, short → 短缺; the CSVs keep the codes."""
    out, book = workbook
    gaps = _columns(book["gaps"])
    assert {c.value for c in gaps["scenario"]} == {"基准方案"}
    assert {c.value for c in gaps["status"]} <= {"满足", "短缺", "供给未知"}
    methods = {(s.value, m.value) for s, m in zip(gaps["service"], gaps["method"], strict=True)}
    assert ("托位", "入托需求法") in methods and ("养老床位", "失能需求法") in methods
    codes = {"baseline", "needs", "norm", "short", "met", "unknown", "elderly_beds",
             "childcare_places", "male", "female", "total", "institutional",
             "institutional_estimated", "stated", "estimated"}
    for sheet in book.worksheets:
        for name, cells in _columns(sheet).items():
            if name in CODE_COLUMNS:
                leaked = {c.value for c in cells} & codes
                assert not leaked, (sheet.title, name, leaked)
    # which supply a gap compares with: 机构床位 / 全部床位（机构+社区）, not the codes
    scopes = {c.value for c in gaps["supply_scope"]}
    assert {"全部床位（机构+社区）", "机构床位", "全部"} <= scopes <= {
        "全部床位（机构+社区）", "机构床位", "机构床位（按全国机构床位占比估算）", "全部"}
    assert {c.value for c in _columns(book["supply"])["institutional_basis"]} <= {
        "文件给出", "按全国机构床位占比估算", "未知", None}
    csv = pd.read_csv(out / "gaps.csv")
    assert set(csv.scenario) == {"baseline"} and "needs" in set(csv.method)
    assert book["gaps"]["A1"].value == "方案 scenario"


def test_chinese_workbook_shows_yes_no_and_chinese_notes(workbook):
    """Issue 16's second read: probability_met's target_year showed True/False, and the
    assumptions sheet was in English. Yes/no columns read 是/否; the assumptions sheet and the
    notes of the other sheets (supply basis, sources, config notes) have no English sentence
    where a Chinese text exists (the config's note_zh, the tool's phrases, the demand
    parameters' Chinese sources); the CSV files keep the English."""
    from forecast.presentation.labels import english_sentences

    out, book = workbook
    target_year = _columns(book["probability_met"])["target_year"]
    assert {c.value for c in target_year} == {"是", "否"}
    for sheet in ("assumptions", "supply", "expectations", "targets", "planning"):
        for name, cells in _columns(book[sheet]).items():
            english = [c.value for c in cells if isinstance(c.value, str)
                       and english_sentences(c.value)]
            assert english == [], (sheet, name, english[:2])
    assumptions = _columns(book["assumptions"])
    assert any("规划未给出托位数量" in str(c.value) for c in assumptions["assumption"])
    csv = pd.read_csv(out / "assumptions.csv")
    assert csv.assumption.str.contains("The plan states no 托位 count").any()


def _both_ways(tables: dict, tmp_path: Path, monkeypatch) -> tuple[bytes, bytes]:
    """``tables`` written by write_excel with whole columns (ColumnSheet) and with XlsxWriter's
    own worksheet, cell by cell."""
    from xlsxwriter.worksheet import Worksheet

    from forecast.presentation import outputs

    outputs.write_excel(tables, tmp_path / "columns.xlsx", lang="zh")
    monkeypatch.setattr(outputs, "column_sheet_class", lambda: Worksheet)
    outputs.write_excel(tables, tmp_path / "cells.xlsx", lang="zh")
    return ((tmp_path / "columns.xlsx").read_bytes(), (tmp_path / "cells.xlsx").read_bytes())


def test_columns_written_whole_are_the_bytes_of_cells_written_one_by_one(tmp_path,
                                                                          monkeypatch):
    """write_excel's fast path (a column of plain numbers or strings at once) writes the same
    file, byte for byte, as XlsxWriter writing each cell: empty cells (NaN) inside and at the
    end of a column, ints, floats, Chinese strings, a column of mixed types, a column whose
    format changes by row, rows beyond the first 16-row span block, an empty table."""
    n = 40
    value = [float(i) * 1.5 if i % 7 else np.nan for i in range(n)]
    tables = {
        "mixed": pd.DataFrame({
            "scenario": ["baseline", "低生育"] * (n // 2),
            "year": list(range(2020, 2020 + n)),
            "value": value,
            "kind": ["count", "per_1000_elderly"] * (n // 2),
            "tail": [1.25] * 10 + [np.nan] * (n - 10),
            "note": ["a", 3] * (n // 2),
            "share_60plus": np.linspace(0.1, 0.3, n)}),
        "empty": pd.DataFrame(),
        "sparse": pd.DataFrame({"first": [np.nan] * 20 + [2.0] * 5, "second": [1.0] * 25}),
    }
    columns, cells = _both_ways(tables, tmp_path, monkeypatch)
    assert columns == cells


def test_a_run_workbook_is_the_same_bytes_either_way(workbook, tmp_path, monkeypatch):
    """The tables of a real run (Honghe baseline with trajectories), read back from its CSVs,
    give the same workbook bytes with and without whole-column writing."""
    out, _ = workbook
    tables = {path.stem: pd.read_csv(path) for path in sorted(out.glob("*.csv"))}
    columns, cells = _both_ways(tables, tmp_path, monkeypatch)
    assert columns == cells
