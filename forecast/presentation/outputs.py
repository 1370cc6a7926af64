"""Writing results atomically: everything goes to a temporary sibling directory that replaces
the target only when complete, so a failed run leaves earlier outputs untouched.

Every command that writes a directory goes through :func:`atomic_directory` (which calls
:func:`check_output_directory` before it starts and again before it swaps): an existing ``--out``
is replaced only when it is empty or holds an earlier output of this tool, and never when it is
or contains a file or folder the command reads. Call :func:`check_output_directory` yourself
as soon as the paths are known, before any long computation, so a refusal comes at once.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from forecast.errors import ForecastError

if TYPE_CHECKING:
    import pandas as pd


class OutputError(ForecastError):
    """An output directory that cannot be written."""


#: Hidden file every command writes into its output directory: it marks the directory as an
#: output of this tool, which a later command may replace. A run's ``manifest.json`` (whose
#: ``tool.name`` is ``forecast``) marks it too, also for runs written before the marker existed.
MARKER_FILE = ".forecast-output.json"
#: Files that alone make a directory an output of ``forecast project`` written before the
#: marker file existed.
_LEGACY_PROJECT_FILES = {"population.csv", "births.csv", "deaths.csv"}


def _is_manifest_of_this_tool(path: Path) -> bool:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    tool = manifest.get("tool") if isinstance(manifest, dict) else None
    return isinstance(tool, dict) and tool.get("name") == "forecast"


def is_earlier_output(directory: Path) -> bool:
    """True when ``directory`` holds an earlier output of this tool: the marker file, a run's
    manifest, or exactly the three files of an unmarked `forecast project` output."""
    if (directory / MARKER_FILE).is_file():
        return True
    if _is_manifest_of_this_tool(directory / "manifest.json"):
        return True
    try:
        names = {p.name for p in directory.iterdir()}
    except OSError:
        return False
    return names == _LEGACY_PROJECT_FILES


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_directory(target: str | Path, *, reads: Iterable[str | Path] = (),
                           option: str = "--out") -> Path:
    """Refuse (OutputError, one line) an output directory this command may not replace.

    ``target`` may be written when it does not exist, is an empty directory, or holds an
    earlier output of this tool (:func:`is_earlier_output`); never when it is a file, or when it
    is, or contains, any path in ``reads`` (the config, the inputs directory, a census table,
    a counts file: whatever the command reads). Returns the resolved target.
    """
    given = Path(target)
    resolved = given.expanduser().resolve()
    for read in reads:
        source = Path(read).expanduser().resolve()
        if _within(source, resolved):
            what = "is" if source == resolved else "contains"
            raise OutputError(f"{option} {what} {read}, which this command reads; writing there "
                              "would replace it", path=given,
                              fix=f"choose a new folder for {option}, e.g. outputs/NAME")
    if not resolved.exists():
        if resolved.is_symlink():
            raise OutputError("is a broken symbolic link", path=given,
                              fix=f"remove it or choose another {option}")
        return resolved
    if not resolved.is_dir():
        raise OutputError("exists and is not a directory", path=given,
                          fix=f"choose another {option} path")
    try:
        empty = not any(resolved.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot list the directory ({exc.strerror})", path=given,
                          fix=f"check its permissions or choose another {option}") from None
    if empty or is_earlier_output(resolved):
        return resolved
    raise OutputError("exists and is not an earlier output of forecast (no manifest.json or "
                      f"{MARKER_FILE}); it would be replaced wholesale", path=given,
                      fix=f"choose a new or empty folder for {option}, or delete it yourself")


def write_marker(directory: Path, command: str) -> None:
    """Mark ``directory`` (a staging dir) as an output of ``forecast COMMAND``."""
    from forecast import __version__

    (directory / MARKER_FILE).write_text(
        json.dumps({"tool": "forecast", "version": __version__, "command": command}) + "\n",
        encoding="utf-8")


#: errno values of a full or failing disk, turned into one line instead of a traceback.
_WRITE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EFBIG: "a file is too large for "
                 "the file system or the process limit", errno.EDQUOT: "the disk quota is "
                 "exceeded", errno.EROFS: "the file system is read-only", errno.EACCES:
                 "permission denied", errno.EPERM: "permission denied", errno.EIO:
                 "an input/output error"}


def write_failure(exc: OSError, target: Path) -> OutputError:
    """The one-line error for an OSError raised while writing into ``target``'s staging dir."""
    reason = _WRITE_ERRORS.get(exc.errno, exc.strerror or exc.__class__.__name__)
    name = Path(exc.filename).name if getattr(exc, "filename", None) else None
    detail = f" ({name})" if name else ""
    return OutputError(f"cannot write the output{detail}: {reason}; nothing was written and "
                       "any earlier output is untouched", path=target,
                       fix="free disk space or choose another --out on a disk with room")


@contextlib.contextmanager
def atomic_directory(target: str | Path, *, reads: Iterable[str | Path] = (),
                     command: str = "run") -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target``, on failure it vanishes.

    ``target`` is checked with :func:`check_output_directory` (``reads``: the paths the command
    reads) before the staging directory is made and again before the swap; the staging
    directory gets the output marker. An OSError while writing (disk full, file too large)
    becomes a one-line OutputError; the earlier output stays as it was.
    """
    reads = list(reads)
    given = Path(target)
    target = check_output_directory(given, reads=reads)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot create the output directory ({exc.strerror})", path=given,
                          fix="choose a writable location with --out") from None
    try:
        yield staging
        write_marker(staging, command)
        check_output_directory(given, reads=reads)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in _WRITE_ERRORS:
            raise write_failure(exc, given) from None
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    try:
        if target.exists():
            old = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(staging, target)
    except OSError as exc:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot replace the output directory ({exc.strerror})", path=given,
                          fix="check permissions or choose another --out") from None
    except BaseException:
        # interrupted between the two renames: put the earlier output back
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------- a run's outputs

#: Number formats of the workbook. Shares (fractions) as per cent, probabilities as whole per
#: cent, rates per 1,000 and ratios with one decimal, years as plain integers, counts with
#: thousands separators. A column whose meaning changes by row (``value`` by target ``kind``,
#: quantiles by ``indicator``) is formatted row by row (:func:`cell_number_format`).
SHARE_COLUMNS = {"share_60plus", "share_0_2", "coverage_under3", "demand_coverage_under3",
                 "coverage_under3_at_base_year", "places_coverage_under3",
                 "places_needed_coverage_under3_norm", "places_needed_coverage_under3_needs",
                 # sensitivity.csv: the care parameters are shares (levels: × as per cent)
                 "low_value", "central_value", "high_value"}
PROBABILITY_COLUMNS = {"probability_met"}
RATE_COLUMNS = {"gap_pct", "demand_per_1000", "supply_per_1000", "per_1000_elderly",
                "per_1000_population", "per_1000_elderly_at_base_year",
                "per_1000_population_at_base_year", "child_dependency", "old_dependency",
                "total_dependency", "difference_pct"}
INTEGER_COLUMNS = {"year", "age", "first_shortfall_year", "driver_year", "target_year",
                   "n_trajectories", "supply_unknown_until"}
SHARE_FORMAT, PROBABILITY_FORMAT, RATE_FORMAT = "0.0%", "0.0%", "#,##0.0"
#: Beds or places per 1,000: two decimals, since 托位 rates are a few per 1,000 (3.65 against a
#: target of 4.5 must not show as 3.6).
PER_1000_FORMAT = "#,##0.00"
COUNT_FORMAT, INTEGER_FORMAT = "#,##0", "0"
_KIND_FORMAT = {"count": COUNT_FORMAT, "per_1000_elderly": PER_1000_FORMAT,
                "per_1000_population": PER_1000_FORMAT, "coverage_under3": SHARE_FORMAT,
                "share_nursing": SHARE_FORMAT}
#: planning.csv's value column, by its unit: a share as a percentage, years with a decimal.
_UNIT_FORMAT = {"share": SHARE_FORMAT, "years": RATE_FORMAT}
_INDICATOR_FORMAT = {"share_60plus": SHARE_FORMAT, "share_0_2": SHARE_FORMAT,
                     "child_dependency": RATE_FORMAT, "old_dependency": RATE_FORMAT,
                     "total_dependency": RATE_FORMAT, "tfr": "0.00", "e0": "0.0"}
_QUANTILES = {"q025", "q10", "q50", "q90", "q975"}


def cell_number_format(column: str, value: object, row: dict, *, shares: set[str] = frozenset(),
                       rates: set[str] = frozenset()) -> str | None:
    """The Excel number format of one cell of ``column`` (None: leave the cell as it is)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if column in SHARE_COLUMNS or column in shares:
        return SHARE_FORMAT
    if column in PROBABILITY_COLUMNS:
        return PROBABILITY_FORMAT
    if column in RATE_COLUMNS or column in rates:
        return PER_1000_FORMAT if "per_1000" in column else RATE_FORMAT
    if column in INTEGER_COLUMNS or column.startswith("first_shortfall_"):
        return INTEGER_FORMAT
    if column == "value" and "kind" in row:
        return _KIND_FORMAT.get(str(row["kind"]), "General")
    if column == "value" and "unit" in row:
        return _UNIT_FORMAT.get(str(row["unit"]), COUNT_FORMAT)
    if column in _QUANTILES and "indicator" in row:
        return _INDICATOR_FORMAT.get(str(row["indicator"]), COUNT_FORMAT)
    if isinstance(value, float):
        return COUNT_FORMAT
    return None


def display_frame(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """``frame`` with its code cells (scenario, service, method, status…) as display text in
    ``lang`` (forecast.presentation.labels.cell_label); the CSV files keep the codes."""
    import pandas as pd

    from forecast.presentation.labels import CODE_COLUMNS, cell_label, label

    out = frame.copy()
    for column in frame.columns:  # a yes/no column (probability_met's target_year): 是/否
        if pd.api.types.is_bool_dtype(frame[column].dtype) and column not in CODE_COLUMNS:
            out[column] = [None if v is pd.NA else label(str(bool(v)).lower(), lang)
                           for v in frame[column]]  # a nullable column's NA: an empty cell
    services = frame["service"].astype(str) if "service" in frame.columns else None
    for column in CODE_COLUMNS:
        if column not in frame.columns:
            continue
        if column in ("method", "supply_scope") and services is not None:
            out[column] = [cell_label(column, value, lang, service)
                           for value, service in zip(frame[column], services, strict=True)]
        else:
            mapping = {value: cell_label(column, value, lang)
                       for value in pd.unique(frame[column])}
            out[column] = frame[column].map(mapping).astype(object)
    return out


def _excel_cells(series) -> list:
    """A column's cells as Python values: None for a missing value (an empty cell)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return [None if v is pd.NA else bool(v) for v in series]  # nullable: NA empty
    if pd.api.types.is_integer_dtype(series.dtype) and not isinstance(series.dtype,
                                                                      pd.CategoricalDtype):
        return series.astype("int64").tolist() if not series.isna().any() else [
            None if pd.isna(v) else int(v) for v in series]
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float)
        return [None if not np.isfinite(v) else v for v in values.tolist()]
    return [None if (v is None or (isinstance(v, float) and v != v) or v is pd.NA
                     or v is pd.NaT) else (v if isinstance(v, (str, int, float, bool))
                                           else str(v)) for v in series.tolist()]


def _cell_writer(ws, values: list):
    """The worksheet's writer for a column of ``values`` (None cells are skipped): its number
    or string writer when every cell is a plain float/int or a non-empty string (what
    ``write`` would dispatch each cell to, without the per-cell dispatch: a run's workbook
    holds some 250,000 cells), else ``write``."""
    kinds = {value.__class__ for value in values if value is not None}
    number = getattr(ws, "_write_number", None)
    string = getattr(ws, "_write_string", None)
    if number is not None and kinds and kinds <= {float, int}:
        return number
    if (string is not None and kinds == {str} and not ws.strings_to_numbers
            and not ws.strings_to_formulas and not ws.strings_to_urls
            and all(value != "" for value in values)):
        return string
    return ws.write


def column_sheet_class():
    """An XlsxWriter worksheet that also takes a whole column of plain cells at once
    (``write_plain_column``) and writes its rows' XML from per-column cell texts: the same
    bytes as :class:`xlsxwriter.worksheet.Worksheet` writes for those cells written one by
    one (a run's workbook holds some 270,000 cells; per-cell objects and XML calls were most of
    its time). Cells written the ordinary way (headers, cells with a format of their own) mix
    with the columns; a sheet using anything else XlsxWriter can put in a row (comments, row
    options, the Excel 2010 extensions, constant memory) has its columns stored as ordinary
    cells and is written by XlsxWriter itself."""
    from xlsxwriter.utility import xl_col_to_name
    from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple, Worksheet

    class ColumnSheet(Worksheet):
        def __init__(self) -> None:
            super().__init__()
            # column -> (first row, cell values (None: no cell), shared-string indices?)
            self._columns: dict[int, tuple[int, list, bool]] = {}

        def write_plain_column(self, first_row: int, col: int, values: list,
                               strings: bool) -> bool:
            """Write ``values`` down column ``col`` from ``first_row`` (None: no cell), all
            floats/ints, or all non-empty strings when ``strings``, with no cell format; as
            many ``_write_number``/``_write_string`` calls would. False (nothing written):
            write them one by one instead."""
            rows = [i for i, value in enumerate(values) if value is not None]
            if (not rows or col in self._columns or self.constant_memory
                    or first_row + len(values) > self.xls_rowmax or col >= self.xls_colmax
                    or any(col in cells for row, cells in self.table.items()
                           if first_row <= row < first_row + len(values))):
                return False
            if strings:
                if any(len(value) > self.xls_strmax // 2 for value in values
                       if value is not None):
                    return False  # may need truncating: XlsxWriter's own path
                index = self.str_table._get_shared_string_index  # in the order written
                stored = [None if value is None else index(value) for value in values]
            else:
                if any(value != value or value in (math.inf, -math.inf) for value in values
                       if value is not None):
                    return False  # NaN/inf: XlsxWriter's own path decides
                stored = list(values)
            self._check_dimensions(first_row + rows[0], col)
            self._check_dimensions(first_row + rows[-1], col)
            self._columns[col] = (first_row, stored, strings)
            return True

        def _simple(self) -> bool:
            return not (self.comments or self.row_info or self.excel_version != 2007
                        or self.constant_memory
                        or self.default_row_height != self.original_row_height)

        def _calculate_spans(self) -> None:
            if not self._columns or not self._simple():
                return super()._calculate_spans()
            low: dict[int, int] = {}
            high: dict[int, int] = {}

            def see(row: int, col: int) -> None:
                block = row // 16
                if block not in low or col < low[block]:
                    low[block] = col
                if block not in high or col > high[block]:
                    high[block] = col

            for row, cells in self.table.items():
                if cells:
                    see(row, min(cells))
                    see(row, max(cells))
            for col, (first, stored, _strings) in self._columns.items():
                for offset, value in enumerate(stored):
                    if value is not None:
                        see(first + offset, col)
            self.row_spans = {block: f"{low[block] + 1}:{high[block] + 1}" for block in low}

        def _write_rows(self) -> None:
            if self._columns and not self._simple():  # XlsxWriter's own path for all cells
                for col, (first, stored, strings) in self._columns.items():
                    cell = CellStringTuple if strings else CellNumberTuple
                    for offset, value in enumerate(stored):
                        if value is not None:
                            self.table[first + offset][col] = cell(value, None)
                self._columns = {}
            if not self._columns:
                return super()._write_rows()
            self._calculate_spans()
            texts: dict[int, tuple[int, list]] = {}
            for col, (first, stored, strings) in self._columns.items():
                info = self.col_info.get(col)
                column_format = info.column_format if info is not None else None
                style = (f' s="{column_format._get_xf_index()}"' if column_format is not None
                         else "")
                name = xl_col_to_name(col)
                if strings:
                    cells = [None if value is None else
                             f'<c r="{name}{first + offset + 1}"{style} t="s"><v>{value}</v></c>'
                             for offset, value in enumerate(stored)]
                else:
                    cells = [None if value is None else
                             f'<c r="{name}{first + offset + 1}"{style}><v>{value:.16G}</v></c>'
                             for offset, value in enumerate(stored)]
                texts[col] = (first, cells)
            write = self.fh.write
            columns = range(self.dim_colmin, self.dim_colmax + 1)
            for row in range(self.dim_rowmin, self.dim_rowmax + 1):
                own = self.table.get(row) or {}
                parts = []
                for col in columns:
                    if col in own:
                        parts.append(col)
                    elif col in texts:
                        first, cells = texts[col]
                        if 0 <= row - first < len(cells) and cells[row - first] is not None:
                            parts.append(cells[row - first])
                if not parts:
                    continue
                span = self.row_spans.get(row // 16)
                write(f'<row r="{row + 1}" spans="{span}">' if span else f'<row r="{row + 1}">')
                for part in parts:
                    if isinstance(part, int):  # an ordinary cell: XlsxWriter writes it
                        self._write_cell(row, part, own[part])
                    else:
                        write(part)
                write("</row>")

    return ColumnSheet


def write_excel(tables: dict[str, pd.DataFrame], path: Path, *,
                extra_headers: dict[str, str] | None = None, shares: set[str] | None = None,
                rates: set[str] | None = None, lang: str = "zh") -> None:
    """One sheet per table; header row ``中文 English``, bold, wrapped and frozen; number formats
    by column, by row where a column's meaning changes by row (:func:`cell_number_format`);
    codes shown as labels in ``lang`` (:func:`display_frame`). XlsxWriter, one column written
    at a time.

    ``extra_headers``, ``shares`` and ``rates`` add Chinese headers, fraction (0.0%) columns and
    per-1,000 (#,##0.0) columns to the built-in ones."""
    import xlsxwriter

    from forecast.presentation.labels import WORKBOOK_EMPTY_SHEET, workbook_header

    shares, rates = shares or set(), rates or set()
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                               "strings_to_formulas": False,
                                               "strings_to_urls": False})
    # A fixed creation date: the same tables give the same workbook bytes.
    from datetime import datetime

    workbook.set_properties({"created": datetime(2020, 11, 1)})
    header_format = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats: dict[str, object] = {}
    column_sheet = column_sheet_class()

    def number_format(fmt: str | None):
        if fmt is None:
            return None
        if fmt not in formats:
            formats[fmt] = workbook.add_format({"num_format": fmt})
        return formats[fmt]

    try:
        for sheet, frame in tables.items():
            ws = workbook.add_worksheet(sheet[:31], worksheet_class=column_sheet)
            if len(frame.columns) == 0:  # e.g. targets without a plan: say so, not a blank
                ws.write(0, 0, WORKBOOK_EMPTY_SHEET[lang])
                continue
            headers = [workbook_header(c, extra_headers) for c in frame.columns]
            ws.write_row(0, 0, headers, header_format)
            ws.freeze_panes(1, 0)
            shown = display_frame(frame, lang)
            keys = [c for c in ("kind", "indicator", "unit") if c in frame.columns]
            key_rows = frame[keys].astype(str).to_dict("records") if keys else None
            for index, column in enumerate(frame.columns):
                values = _excel_cells(shown[column])
                by_row = key_rows is not None and (column == "value" or column in _QUANTILES)
                sample = next((v for v in values if v is not None), None)
                column_format = None if by_row else number_format(
                    cell_number_format(column, sample, {}, shares=shares, rates=rates))
                width = max(10, min(40, len(headers[index]) + 2))
                ws.set_column(index, index, width, column_format)
                if by_row:
                    for row, value in enumerate(values, start=1):
                        if value is not None:
                            ws.write(row, index, value, number_format(cell_number_format(
                                column, value, key_rows[row - 1], shares=shares,
                                rates=rates)))
                    continue
                write = _cell_writer(ws, values)
                plain = getattr(ws, "write_plain_column", None)
                if (plain is not None and write != ws.write
                        and plain(1, index, values, strings=write == ws._write_string)):
                    continue
                for row, value in enumerate(values, start=1):
                    if value is not None:
                        write(row, index, value)
    finally:
        workbook.close()


def _json_default(value):
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def run_tables(result) -> dict[str, pd.DataFrame]:
    """The tables a run writes as CSV (``name -> frame``), uncertainty tables included."""
    tables = {
        "summary": result.summary, "population": result.population,
        "demand": result.demand, "gaps": result.gaps, "supply": result.supply,
        "first_shortfall": result.first_shortfall,
        **({"additions_needed": result.additions_needed}
           if getattr(result, "additions_needed", None) is not None else {}),
        "targets": result.targets,
        "expectations": result.expectations, "assumptions": result.assumptions,
    }
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is not None:
        tables.update(summary_quantiles=uncertainty.summary_quantiles,
                      demand_quantiles=uncertainty.demand_quantiles,
                      probability_met=uncertainty.probability_met)
    sensitivity = getattr(result, "sensitivity", None)
    if sensitivity is not None:
        tables["sensitivity"] = sensitivity
    counties = getattr(result, "counties", None)
    if counties is not None:
        tables["counties"] = counties
    planning = getattr(result, "planning", None)
    if planning is not None:
        tables["planning"] = planning
    return tables


def write_tables(result, directory: Path) -> dict[str, pd.DataFrame]:
    """Write :func:`run_tables` as ``directory/<name>.csv``; returns them."""
    tables = run_tables(result)
    for name, frame in tables.items():
        frame.to_csv(directory / f"{name}.csv", index=False)
    return tables


def write_manifest(result, directory: Path, lang: str, charts: list[str],
                   stage_seconds: dict | None = None) -> None:
    """Write ``directory/manifest.json``: the run's manifest with its outputs, assumptions,
    language and stage timings."""
    import json

    manifest = dict(result.manifest)
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is not None:
        manifest["uncertainty"] = uncertainty.record
    manifest["outputs"] = sorted([f"{name}.csv" for name in run_tables(result)]
                                 + ["results.xlsx"] + [f"{c}.png" for c in charts]
                                 + [f"{c}.svg" for c in charts])
    manifest["assumptions"] = result.assumptions.to_dict(orient="records")
    manifest["language"] = lang
    manifest["stage_seconds"] = stage_seconds or {}
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default),
        encoding="utf-8")


def start_charts(result, directory: Path, lang: str = "zh") -> ChartDrawing:
    """Start drawing the charts of the deterministic run into ``directory/charts`` (in other
    processes where possible, see :class:`ChartDrawing`): a probabilistic run starts them
    before its trajectories, so they are drawn while the trajectories are computed, and
    :func:`write_run` adds the fan charts once the trajectories are there."""
    return ChartDrawing(chart_jobs(result, lang) + trend_chart_jobs(result, lang),
                        directory / "charts")


def write_run(result, directory: Path, lang: str = "zh", timer=None,
              drawing: ChartDrawing | None = None, report: bool = False) -> list[str]:
    """Write a run's tables, workbook, manifest and charts into ``directory`` (a staging dir),
    and with ``report`` its report (``report.html``, in ``lang``).

    ``timer`` (a :class:`forecast.timing.StageTimer`) records the time of each stage; its
    record so far goes into the manifest's ``stage_seconds``. ``drawing``: the charts already
    started by :func:`start_charts` (closed here); without it they are started here. The
    report's page is built while the charts are drawn (in ``charts_and_workbook``;
    :func:`forecast.presentation.report.start_report`) and the charts put in afterwards (the
    ``report`` stage). Returns the chart file stems written (relative to ``directory``).
    """
    from forecast.timing import StageTimer

    timer = timer or StageTimer()
    # The charts are drawn in other processes (started first: they take longest) while this
    # one writes the tables and the workbook.
    with timer.stage("charts_and_workbook"):
        try:
            drawing = drawing or start_charts(result, directory, lang)
            drawing.add(fan_chart_jobs(result, lang))
            with timer.stage("tables"):
                tables = write_tables(result, directory)
            with timer.stage("workbook"):
                from forecast.presentation.labels import COUNTY_HEADERS_ZH, SENSITIVITY_HEADERS_ZH

                write_excel(workbook_tables(result, tables, lang), directory / "results.xlsx",
                            lang=lang,
                            extra_headers={**COUNTY_HEADERS_ZH, **SENSITIVITY_HEADERS_ZH})
            pending = None
            if report:  # the page while the charts are drawn (it reads the manifest)
                from forecast.presentation.report import start_report

                write_manifest(result, directory, lang, drawing.stems(), timer.record())
                pending = start_report(directory, lang, [stem for stem, _ in drawing.jobs])
            charts = drawing.wait()
        finally:
            if drawing is not None:
                drawing.close()
    write_manifest(result, directory, lang, charts, timer.record())
    if pending is not None:
        from forecast.presentation.report import finish_report

        with timer.stage("report"):
            finish_report(pending)
    return charts


def workbook_tables(result, tables: dict[str, pd.DataFrame], lang: str = "zh"
                    ) -> dict[str, pd.DataFrame]:
    """The workbook's sheets: the CSV tables but the population, with the county and planning
    tables at their key years, and the population last."""
    excel = {k: v for k, v in tables.items() if k not in ("population", "counties",
                                                          "planning")}
    if "planning" in tables:  # the workbook's sheet: the key years
        from forecast.presentation.labels import translate

        planning = tables["planning"]
        planning = planning[planning.year.isin(_county_years(planning))].reset_index(drop=True)
        # the basis of each row in the run's language (the CSV keeps the English)
        excel["planning"] = planning.assign(basis=[translate(b, lang) for b in planning.basis])
    if "counties" in tables:  # the workbook's sheet: the key years
        counties = tables["counties"]
        excel["counties"] = counties[counties.year.isin(_county_years(counties))].reset_index(
            drop=True)
    excel["population"] = result.population
    if lang == "zh":
        excel = workbook_tables_zh(excel, result.manifest.get("notes_zh") or {})
    return excel


#: Columns of the run's tables holding the tool's notes or the config's (supply basis, the
#: planning basis, a document's or parameter's source, a config note).
NOTE_COLUMNS = ("supply_basis", "institutional_basis", "basis", "source", "note")


def workbook_tables_zh(tables: dict[str, pd.DataFrame],
                       notes_zh: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The Chinese workbook's sheets: notes in Chinese (forecast.presentation.labels.translate,
    with the
    config's ``note_zh``), the ``assumptions`` sheet as the Chinese report shows it
    (:func:`forecast.presentation.report.assumptions_in`). A note with no Chinese text stays as
    written
    (the workbook keeps its data); the CSV files keep the English."""
    from forecast.presentation.labels import UNTRANSLATED, translate
    from forecast.presentation.report import _care_parameters_zh, assumptions_in

    # a shipped demand parameter's source (planning.csv quotes them) reads as its Chinese text
    sources_zh = {str(p["source"]): str(p["source_zh"]) for p in _care_parameters_zh().values()}
    notes_zh = {**sources_zh, **notes_zh}
    out = {}
    for name, frame in tables.items():
        if name == "assumptions":
            out[name] = assumptions_in(frame, "zh", notes_zh, keep_untranslated=True)
            continue
        columns = [c for c in NOTE_COLUMNS if c in frame.columns]
        if columns:
            frame = frame.copy()
            for column in columns:
                mapping = {}
                for value in frame[column].dropna().unique():
                    text = translate(value, "zh", notes_zh)
                    mapping[value] = value if text == UNTRANSLATED else text
                frame[column] = frame[column].map(lambda v, m=mapping: m.get(v, v))
        out[name] = frame
    return out


def _county_years(counties) -> list[int]:
    """The base, 2025, 2030 and end years of a county table (the workbook's rows)."""
    years = sorted(int(y) for y in counties.year.unique())
    return sorted({years[0], years[-1]} | {y for y in (2025, 2030) if y in years})


def chart_jobs(result, lang: str = "zh") -> list[ChartJob]:
    """The standard charts of a run (baseline scenario), each as (file stem, drawing)."""
    from forecast.presentation import charts

    scenario = "baseline" if "baseline" in result.scenarios else result.scenarios[0]
    base_year = int(result.summary.year.min())
    end_year = int(result.summary.year.max())
    targets = result.targets if len(result.targets) else None
    jobs: list[ChartJob] = []

    def save(stem, draw):
        jobs.append((stem, draw))

    save("pyramid", lambda: charts.population_pyramid(result.population, base_year, end_year,
                                                      scenario=scenario, lang=lang))
    save("elderly_trends", lambda: charts.elderly_trends(result.summary, scenario=scenario,
                                                         lang=lang))
    save("under3_trend", lambda: charts.under3_trend(result.summary, scenario=scenario,
                                                     lang=lang))
    document = result.config.source_document
    plan = document.title if document else None  # named in the source line of plan charts
    save("bed_demand", lambda: charts.bed_demand_chart(
        result.gaps, targets, scenario=scenario, summary=result.summary, lang=lang,
        plan_document=plan))
    save("nursing_bed_demand", lambda: charts.bed_demand_chart(
        result.gaps, targets, service="nursing_beds", scenario=scenario,
        summary=result.summary, lang=lang, plan_document=plan))
    save("childcare_demand", lambda: charts.childcare_demand_chart(
        result.gaps, targets, scenario=scenario, summary=result.summary, lang=lang,
        plan_document=plan))
    if len(result.scenarios) > 1:
        for indicator in ("pop_60plus", "pop_0_2"):
            frame = result.summary[["scenario", "year", indicator]]
            save(f"scenarios_{indicator}",
                 lambda frame=frame, indicator=indicator: charts.scenario_lines(
                     frame, indicator, lang=lang))
    sensitivity = getattr(result, "sensitivity", None)
    if sensitivity is not None and len(sensitivity):
        from forecast.pipeline.uncertainty import TORNADO_PANELS, tornado_source

        source = tornado_source(sensitivity, lang)
        save("tornado", lambda: charts.tornado_chart(sensitivity, TORNADO_PANELS, lang=lang,
                                                     source=source))
    counties = getattr(result, "counties", None)
    if counties is not None:
        from forecast.pipeline.counties import chart_jobs as county_chart_jobs

        jobs += county_chart_jobs(counties, lang)
    return jobs


def write_charts(result, directory: Path, lang: str = "zh") -> list[str]:
    """The standard charts of a run (baseline scenario) as PNG (200 dpi) and SVG."""
    return draw_charts(chart_jobs(result, lang), directory)


def tfr_trend_source(record: dict, lang: str = "zh") -> str:
    """The source line of ``charts/tfr_trend``: WPP's China series and the fit, in ``lang``."""
    from forecast.presentation.labels import CHART_TEXT, label

    first, last = record["fit_window"][0], record["fit_window"][1]
    return CHART_TEXT[lang]["tfr_trend_source"].format(
        wpp=label("source_wpp_china", lang), method=record["method"], first=first, last=last)


def write_trend_and_fan_charts(result, directory: Path, lang: str = "zh") -> list[str]:
    """``charts/tfr_trend`` when a scenario's TFR comes from a trend forecast; fan charts
    (``fan_pop_60plus``, ``fan_pop_0_2``, ``fan_elderly_beds``, ``fan_childcare_places``) for
    the baseline (or first) scenario of a probabilistic run."""
    return draw_charts(trend_and_fan_chart_jobs(result, lang), directory)


def trend_and_fan_chart_jobs(result, lang: str = "zh") -> list[ChartJob]:
    """The jobs of :func:`write_trend_and_fan_charts`."""
    return trend_chart_jobs(result, lang) + fan_chart_jobs(result, lang)


def trend_chart_jobs(result, lang: str = "zh") -> list[ChartJob]:
    """``charts/tfr_trend`` when a scenario's TFR comes from a trend forecast."""
    from forecast.defaults.trends import trend_frame
    from forecast.presentation import charts

    jobs: list[ChartJob] = []
    records = [note for name in result.scenarios
               for note in result.manifest.get("scenario_changes", {}).get(name, [])
               if note.get("kind") == "trend forecast" and note.get("indicator") == "tfr"]
    if records:
        record = records[0]
        jobs.append(("tfr_trend", lambda: charts.trend_fit_chart(
            trend_frame(record), indicator_label="tfr_china", lang=lang,
            source=tfr_trend_source(record, lang))))
    return jobs


def fan_chart_jobs(result, lang: str = "zh") -> list[ChartJob]:
    """The fan charts of a probabilistic run (none without trajectories); each drawing is a
    ``functools.partial`` of :func:`forecast.presentation.charts.fan_chart` over its tables,
    so it can be sent to chart workers forked before the trajectories existed."""
    from functools import partial

    from forecast.presentation import charts
    from forecast.presentation.labels import CHART_TEXT, label, method_label

    jobs: list[ChartJob] = []
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is None:
        return jobs
    scenario = "baseline" if "baseline" in result.scenarios else result.scenarios[0]
    summary = uncertainty.summary_quantiles
    demand = uncertainty.demand_quantiles
    n = uncertainty.record["trajectories"]
    source = CHART_TEXT[lang]["trajectories_source"].format(n=n, seed=uncertainty.record["seed"])
    panels = [("pop_60plus", summary[(summary.scenario == scenario)
                                     & (summary.indicator == "pop_60plus")], None,
               (None, "supply")),
              ("pop_0_2", summary[(summary.scenario == scenario)
                                  & (summary.indicator == "pop_0_2")], None, (None, "supply"))]
    supply = result.supply[result.supply.scenario == scenario] if len(result.supply) else None
    for service in ("elderly_beds", "childcare_places"):
        rows = demand[(demand.scenario == scenario) & (demand.service == service)
                      & (demand.method == "needs")]
        target = None
        if len(result.targets) and "count" in result.targets.columns:
            own = result.targets[(result.targets.service == service)
                                 & result.targets["count"].notna()]
            if len(own):
                last = own.sort_values(["year", "count"]).iloc[-1]
                origin = ("national" if str(last.get("source", "")).startswith("national: ")
                          else "plan")
                target = (int(last["year"]), float(last["count"]), origin)
        path, path_label = None, "supply"
        if supply is not None:
            service_supply = supply[supply.service == service].set_index("year")
            path = service_supply["supply"]
            if (service == "elderly_beds" and "supply_institutional" in service_supply
                    and service_supply["supply_institutional"].notna().any()):
                # the needs method is compared with institutional beds (issue 11), in the
                # gaps and in probability_met: the fan shows that supply, labelled as such
                path = service_supply["supply_institutional"]
                path_label = "supply_institutional"
        panels.append((service, rows, target, (path, path_label)))
    for indicator, rows, target, (path, path_label) in panels:
        if rows.empty:
            continue
        # a service's fan is its need by the needs method: the title says so (beside the
        # plan's target and, where stated, the planned supply)
        title = (label("title_fan_need", lang).format(
            service=label(indicator, lang), method=method_label("needs", indicator, lang))
            if indicator in ("elderly_beds", "childcare_places") else None)
        jobs.append((f"fan_{indicator}",
                     partial(charts.fan_chart, rows, indicator, lang=lang,
                             target=target[:2] if target else None,
                             target_origin=target[2] if target else "plan",
                             supply=path, supply_label=path_label, source=source,
                             title=title)))
    return jobs


# ------------------------------------------------------------------- drawing charts in parallel
#: A chart to draw: its file stem under charts/ and a function returning the figure.
ChartJob = tuple[str, "Callable[[], object]"]

#: The jobs a forked drawing process reads (set just before the processes are forked).
_FORKED_JOBS: list[ChartJob] = []


def _draw_job(index: int, directory: str) -> str:
    from forecast.presentation.charts import save_figure

    stem, draw = _FORKED_JOBS[index]
    save_figure(draw(), Path(directory) / stem)
    return f"charts/{stem}"


def _draw_sent(stem: str, draw: Callable[[], object], directory: str) -> str:
    """Draw a job sent to a worker after it was forked (``draw`` came pickled)."""
    from forecast.presentation.charts import save_figure

    save_figure(draw(), Path(directory) / stem)
    return f"charts/{stem}"


def _picklable(value: object) -> bool:
    import pickle

    try:
        pickle.dumps(value)
    except Exception:  # a lambda or a closure: drawn in the calling process instead
        return False
    return True


def chart_workers() -> int:
    """How many processes draw charts: ``$FORECAST_CHART_WORKERS``, else one per core (at
    most 4); 1 draws in this process. Charts are independent and drawing them is most of a
    run's time, so on two cores they are drawn two at a time while the workbook is written."""
    configured = os.environ.get("FORECAST_CHART_WORKERS")
    if configured and configured.isdigit() and int(configured) >= 1:
        return int(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


#: Charts that take longest to draw (most panels, bars and labels), submitted to the workers
#: first; the others follow in the jobs' order.
SLOW_CHARTS = ("tornado", "pyramid", "nursing_bed_demand", "bed_demand", "scenarios_pop_60plus",
               "scenarios_pop_0_2", "childcare_demand")


def _draw_order(stem: str) -> int:
    return SLOW_CHARTS.index(stem) if stem in SLOW_CHARTS else len(SLOW_CHARTS)


#: How long the forked workers may take for all charts before the charts they have not
#: returned are drawn in this process (seconds). A run's charts take a few seconds; the bound
#: only keeps a stuck worker from hanging a run.
CHART_TIMEOUT_SECONDS = 120


class ChartDrawing:
    """Charts being drawn in forked processes (or, with one worker, no ``fork``, or other
    threads alive in this process, drawn here when :meth:`wait` is called). The files are the
    same either way: each chart is drawn from the same tables by the same code; only the
    process differs.

    Forking is safe only from a single-threaded process (a thread holding a lock at the fork
    leaves the child waiting on it forever), so a process with other threads (a test runner
    that started a dask cluster or a web server, the explorer) draws in process. If a worker dies,
    or the workers have not finished within :data:`CHART_TIMEOUT_SECONDS`, they are ended and
    the charts not yet returned are drawn here, so a run never hangs on its charts."""

    def __init__(self, jobs: list[ChartJob], directory: Path, workers: int | None = None):
        import multiprocessing
        import threading
        from concurrent.futures import ProcessPoolExecutor

        self.jobs, self.directory = jobs, directory
        directory.mkdir(parents=True, exist_ok=True)
        workers = chart_workers() if workers is None else workers
        methods = multiprocessing.get_all_start_methods()
        self._pool = None
        # a future per job, in the jobs' order; None: the job is drawn here at wait()
        self._pending: list = [None] * len(jobs)
        if (workers > 1 and len(jobs) > 1 and "fork" in methods
                and threading.active_count() == 1):
            global _FORKED_JOBS
            _FORKED_JOBS = jobs
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context)
            # the slowest charts first, so that no worker is left drawing one alone at the end
            for i in sorted(range(len(jobs)), key=lambda i: _draw_order(jobs[i][0])):
                self._pending[i] = self._pool.submit(_draw_job, i, str(directory))

    def add(self, jobs: list[ChartJob]) -> None:
        """Charts to draw as well, made after the workers were forked (the fan charts of the
        trajectories computed meanwhile): a job whose drawing pickles (a ``functools.partial``
        of a module-level function over tables) is sent to a worker, any other is drawn here
        at :meth:`wait`. They come after the earlier jobs in the order of :meth:`wait`."""
        for stem, draw in jobs:
            pending = None
            if self._pool is not None and _picklable(draw):
                pending = self._pool.submit(_draw_sent, stem, draw, str(self.directory))
            self.jobs = [*self.jobs, (stem, draw)]
            self._pending.append(pending)

    def _draw_here(self, index: int) -> str:
        from forecast.presentation.charts import save_figure

        stem, draw = self.jobs[index]
        save_figure(draw(), self.directory / stem)
        return f"charts/{stem}"

    def stems(self) -> list[str]:
        """The chart stems :meth:`wait` returns (``charts/<stem>``), known before drawing."""
        return [f"charts/{stem}" for stem, _ in self.jobs]

    def wait(self) -> list[str]:
        """The chart stems written (``charts/<stem>``), in the jobs' order."""
        global _FORKED_JOBS
        if self._pool is None:
            return [self._draw_here(i) for i in range(len(self.jobs))]
        import time
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        deadline = time.monotonic() + CHART_TIMEOUT_SECONDS
        written = []
        try:
            for index, pending in enumerate(self._pending):
                if self._pool is None or pending is None:  # workers given up, or a job
                    written.append(self._draw_here(index))  # that cannot be sent to them
                    continue
                try:
                    remaining = max(deadline - time.monotonic(), 0.0)
                    written.append(pending.result(timeout=remaining))
                except (BrokenProcessPool, FutureTimeout):
                    self.close()  # end the workers first, so none writes beside this process
                    written.append(self._draw_here(index))
            return written
        finally:
            self.close()
            _FORKED_JOBS = []

    def close(self) -> None:
        """Stop the drawing processes (after :meth:`wait`, or on an error elsewhere)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:  # a stuck worker is ended, not waited for
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout=5)


def draw_charts(jobs: list[ChartJob], directory: Path, workers: int = 1) -> list[str]:
    """Draw and save ``jobs`` into ``directory`` (PNG and SVG each); returns the stems."""
    drawing = ChartDrawing(jobs, directory, workers)
    try:
        return drawing.wait()
    finally:
        drawing.close()



def record_stage_seconds(directory: Path, timer) -> None:
    """Rewrite ``directory/manifest.json``'s ``stage_seconds`` with ``timer``'s full record
    (after the stages that follow the manifest, such as the report)."""
    import json

    path = directory / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["stage_seconds"] = timer.record()
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default),
                    encoding="utf-8")
