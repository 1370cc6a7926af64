"""The HTML report of a run: one self-contained file, ``report.html``, in the run's directory.

Built only from the files a run writes (``manifest.json``, the CSV tables, ``charts/*.svg`` or
``*.png``), so ``forecast report OUTPUT_DIR`` can rebuild it without recomputing anything. The
page needs no network, no system font and no JavaScript:

- charts are inlined as SVG (glyphs already drawn as paths; element ids prefixed per chart so
  that several charts can share one page) or, without an SVG, as a base64 PNG;
- styles are inline;
- the Chinese font is a subset of the charts' own font (Noto Sans CJK SC, from mplfonts, SIL
  Open Font License) holding exactly the characters of the page, embedded as a base64 WOFF2
  ``@font-face`` (WOFF when ``brotli`` is missing).

Every string that came from a user (names, notes, quotes from a config, scenario names) is
HTML-escaped on its way into the page.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecast.errors import ForecastError

REPORT_FILE = "report.html"
FONT_FAMILY = "ForecastCJK"
LANGUAGES = ("zh", "en")
KEY_YEARS = (2025, 2030, 2035)
REQUIRED_FILES = ("manifest.json", "summary.csv", "gaps.csv", "first_shortfall.csv",
                  "assumptions.csv")
OPTIONAL_TABLES = ("expectations", "targets", "supply", "summary_quantiles", "probability_met",
                   "demand_quantiles", "counties", "planning", "additions_needed",
                   "sensitivity")
CHART_ORDER = ("pyramid", "elderly_trends", "under3_trend", "bed_demand", "nursing_bed_demand",
               "childcare_demand")


class ReportError(ForecastError):
    """An output directory the report cannot be built from."""


# Every display text (sentences, captions, method section) is in forecast.presentation.labels.
from forecast.presentation.labels import (  # noqa: E402
    COMPONENT_TEXT,
    INDICATOR_TEXT,
    METHODS_HTML,
    RELATION_TEXT,
    count_text,
    label,
    persons_text,
    punctuation,
    translate,  # noqa: E402
)
from forecast.presentation.labels import REPORT_TEXT as TEXT  # noqa: E402
from forecast.vocabulary import BED_METHODS, METHODS, NATIONAL, SERVICES  # noqa: E402

CSS = """
@font-face { font-family: "%(family)s"; src: url(data:%(mime)s;base64,%(data)s)
  format("%(format)s"); font-weight: 100 900; font-style: normal; }
html { font-family: "%(family)s", sans-serif; color: #1a1a1a; background: #fff; }
body { max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.6;
  font-size: 15px; }
h1 { font-size: 1.6rem; line-height: 1.3; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem;
  margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-bottom: .3rem; }
.subtitle { font-size: 1.1rem; color: #333; margin: 0 0 .6rem; }
.meta { color: #555; font-size: .9rem; margin: .1rem 0; }
nav ol { columns: 2; font-size: .95rem; }
a { color: #0072B2; }
ul.findings li { margin-bottom: .35rem; }
table { border-collapse: collapse; width: 100%%; font-size: .85rem; margin: .6rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .25rem .45rem; vertical-align: top; text-align: left;
  overflow-wrap: break-word; }
td.wrap { overflow-wrap: anywhere; }
td.nowrap, th.nowrap { white-space: nowrap; overflow-wrap: normal; }
span.nobreak { white-space: nowrap; }
th { background: #eef3f8; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.short { color: #B00020; font-weight: bold; }
td.met { color: #006B4F; }
tr.supply td { background: #f6f6f6; font-weight: bold; }
tr.unsourced td { background: #FFF4C2; }
.badge { display: inline-block; padding: 0 .35rem; border-radius: 3px; font-size: .8rem;
  white-space: nowrap; }
.badge.unsourced { background: #E69F00; color: #000; }
.badge.sourced { background: #d9eee6; color: #004d38; }
figure { margin: 1.2rem 0 1.8rem; }
figure svg, figure img { width: 100%%; height: auto; max-width: 46rem; display: block; }
figcaption { font-size: .9rem; color: #333; margin-top: .3rem; }
.note { color: #555; font-size: .88rem; }
.formula { font-family: inherit; }
.table-wrap { max-width: 100%%; overflow-x: auto; }
@media (max-width: 700px) {
  body { margin: 1rem auto; padding: 0 .6rem; font-size: 14px; }
  table { font-size: .74rem; }
  th, td { padding: .15rem .25rem; }
  /* Chinese text may break between any two characters, so without a floor the browser squeezes
     text columns to one character a line beside the unbreakable numbers: text cells keep about
     four characters (long-text columns about nine) and a table wider than the phone scrolls
     sideways inside its own box, not the page. */
  td, th { overflow-wrap: anywhere; min-width: 4.2em; }
  td.wrap { min-width: 9em; }
  td.num, th.num, td.nowrap, th.nowrap { overflow-wrap: normal; min-width: 0; }
  .table-wrap { overscroll-behavior-x: contain; }
  nav ol { columns: 1; }
}
@media print { body { max-width: none; margin: 0; } figure { break-inside: avoid; } }
"""


# ---------------------------------------------------------------------------------------------
# Reading a run's directory
# ---------------------------------------------------------------------------------------------
@dataclass
class RunFiles:
    """The files of one run's output directory, read (tables as DataFrames)."""

    directory: Path
    manifest: dict
    tables: dict[str, pd.DataFrame]
    charts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (stem, kind, content)

    def table(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` (file stem), or None when the run did not write it."""
        return self.tables.get(name)

    @property
    def notes_zh(self) -> dict[str, str]:
        """The config's notes in Chinese (``note`` -> ``note_zh``; manifest ``notes_zh``)."""
        notes = self.manifest.get("notes_zh")
        return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {}


#: The kind of a chart not drawn yet (:func:`start_report`): a placeholder in the page.
PENDING = "pending"


def read_run_files(directory: str | Path,
                   pending_charts: Sequence[str] | None = None) -> RunFiles:
    """Read a run's output directory; a ReportError names what is missing or unreadable.
    ``pending_charts``: the stems of the charts being drawn (not read; see
    :func:`start_report`)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError("not a directory", path=directory,
                          fix="give the --out directory of a `forecast run`")
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise ReportError(f"missing {', '.join(missing)}; this is not a complete run's output",
                          path=directory, fix="run `forecast run CONFIG --out DIR` first")
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read the manifest ({exc})", path=directory / "manifest.json",
                          fix="rerun `forecast run` to write it again") from None
    for key in ("jurisdiction", "source_document", "projection", "scenarios"):
        if not isinstance(manifest, dict) or key not in manifest:
            raise ReportError(f"the manifest has no '{key}'", path=directory / "manifest.json",
                              fix="rerun `forecast run` to write it again")
    _check_manifest_types(manifest, directory / "manifest.json")
    tables = {}
    names = [n[:-4] for n in REQUIRED_FILES if n.endswith(".csv")] + list(OPTIONAL_TABLES)
    for name in names:
        path = directory / f"{name}.csv"
        if not path.is_file():
            continue
        try:
            tables[name] = pd.read_csv(path, encoding="utf-8")
        except pd.errors.EmptyDataError:
            tables[name] = pd.DataFrame()
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ReportError(f"cannot read the table ({exc})", path=path,
                              fix="rerun `forecast run` to write it again") from None
    expected = {"summary": ("scenario", "year", "total", "pop_60plus", "pop_0_2"),
                "gaps": ("scenario", "year", "service", "method", "demand", "supply", "gap",
                         "status"),
                "first_shortfall": ("scenario", "service", "method", "first_shortfall_year",
                                    "outcome"),
                "assumptions": ("component", "assumption", "source", "label")}
    for name, columns in expected.items():
        lacking = [c for c in columns if c not in tables[name].columns]
        if lacking:
            raise ReportError(f"missing columns {lacking}", path=directory / f"{name}.csv",
                              fix="rerun `forecast run` to write it again")
    _check_table_types(tables, directory)
    charts = (_read_charts(directory / "charts") if pending_charts is None else
              [(stem, PENDING, b"") for stem in sorted(set(pending_charts), key=_chart_rank)])
    return RunFiles(directory=directory, manifest=manifest, tables=tables, charts=charts)


#: Manifest entries the report reads, and the JSON type each must have.
MANIFEST_TYPES = {"jurisdiction": dict, "source_document": dict, "projection": dict,
                  "scenarios": list, "tool": dict, "provenance": dict,
                  "scenario_changes": dict, "demand_parameter_overrides": list,
                  "supply_notes": list, "language": str, "uncertainty": dict}
#: Columns of a run's tables that hold numbers (a year, a count, a rate).
NUMERIC_COLUMNS = {"summary": ("year", "total", "pop_60plus", "pop_0_2"),
                   "gaps": ("year", "demand", "supply", "gap"),
                   "expectations": ("year", "document_value", "projected_baseline"),
                   "targets": ("year", "value"),
                   "sensitivity": ("year", "rank", "low_value", "high_value", "demand_at_low",
                                   "demand", "demand_at_high", "swing")}


def _json_type(kind: type) -> str:
    return {dict: "an object {...}", list: "a list [...]", str: "text", int: "a whole number"
            }[kind]


def _check_manifest_types(manifest: dict, path: Path) -> None:
    """ReportError naming the first manifest entry of the wrong JSON type."""
    fix = "rerun `forecast run` to write it again"
    for key, kind in MANIFEST_TYPES.items():
        if key in manifest and not isinstance(manifest[key], kind):
            raise ReportError(f"'{key}' must be {_json_type(kind)}, not "
                              f"{type(manifest[key]).__name__}", path=path, field=key, fix=fix)
    for index, name in enumerate(manifest["scenarios"]):
        if not isinstance(name, str):
            raise ReportError(f"scenario {name!r} is not a name", path=path,
                              field=f"scenarios[{index}]", fix=fix)
    for key in ("base_year", "end_year"):
        value = manifest["projection"].get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1900 <= value <= 2200:
            raise ReportError(f"{value!r} is not a year", path=path, field=f"projection.{key}",
                              fix=fix)
    for section in ("jurisdiction", "source_document"):
        for key, value in manifest[section].items():
            if value is not None and not isinstance(value, str | int | float | bool):
                raise ReportError(f"must be text, not {type(value).__name__}", path=path,
                                  field=f"{section}.{key}", fix=fix)


def _check_table_types(tables: dict[str, pd.DataFrame], directory: Path) -> None:
    """ReportError naming the first cell of a number column that is not a finite number."""
    for name, columns in NUMERIC_COLUMNS.items():
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        for column in columns:
            if column not in frame.columns:
                continue
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = (values.isna() & frame[column].notna()) | values.abs().eq(float("inf"))
            if column == "year":
                bad |= values.isna() | (values.notna() & (values % 1 != 0))
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise ReportError(f"'{frame[column].iloc[row]}' is not a number",
                                  path=directory / f"{name}.csv",
                                  field=f"row {row + 2}, column {column}",
                                  fix="rerun `forecast run` to write it again")
            frame[column] = values


def _chart_rank(stem: str) -> tuple[int, str]:
    if stem in CHART_ORDER:
        return CHART_ORDER.index(stem), stem
    return len(CHART_ORDER) + (0 if stem.startswith("scenarios_") else 1), stem


def _read_charts(directory: Path) -> list[tuple[str, str, bytes]]:
    """Every chart in ``directory``: SVG where written, else PNG; in the report's order."""
    if not directory.is_dir():
        return []
    stems = {p.stem for p in directory.iterdir() if p.suffix in (".svg", ".png")}
    charts = []
    for stem in sorted(stems, key=_chart_rank):
        svg, png = directory / f"{stem}.svg", directory / f"{stem}.png"
        if svg.is_file():
            content = svg.read_bytes()
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                problem = "bytes that are not UTF-8 text"
            else:
                declares = re.search(r"<!ENTITY|<!DOCTYPE[^>]*\[", text, flags=re.I)
                problem = ("a DOCTYPE with ENTITY declarations" if declares
                           else unsafe_svg_content(inline_svg(text, "")))
            if problem is not None:
                raise ReportError(f"holds {problem}, which a chart drawn by forecast never "
                                  "does; it is not inlined into the report", path=svg,
                                  fix="delete the file or rerun `forecast run` to draw the "
                                      "charts again")
            charts.append((stem, "svg", content))
        elif png.is_file():
            charts.append((stem, "png", png.read_bytes()))
    return charts


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------
def esc(value: object) -> str:
    """HTML-escape any value (quotes too); NaN and None become an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _number(value: float, decimals: int = 0) -> str:
    if _is_missing(value):
        return ""
    return f"{value:,.{decimals}f}".replace("-", "−")


def _percent(value: float, decimals: int = 1) -> str:
    return f"{value * 100:.{decimals}f}%"


def _scenario_name(name: str, lang: str) -> str:
    from forecast.presentation.labels import label

    return label(str(name), lang)


def _service_name(service: str, lang: str) -> str:
    from forecast.presentation.labels import label

    return label(str(service), lang)


def _method_name(method: str, service: str, lang: str) -> str:
    from forecast.presentation.labels import method_label

    return method_label(str(method), str(service), lang)


def _key_years(years: Iterable[int], base: int, end: int) -> list[int]:
    wanted = [y for y in KEY_YEARS if base < y <= end]
    if end not in wanted and end > base:
        wanted.append(end)
    return sorted(set(wanted)) or [end]


def _main_scenario(files: RunFiles) -> str:
    scenarios = [str(s) for s in files.manifest.get("scenarios", [])]
    if "baseline" in scenarios:
        return "baseline"
    summary = files.table("summary")
    return scenarios[0] if scenarios else str(summary["scenario"].iloc[0])


#: Cells longer than this (characters) make their column a long-text column.
LONG_CELL_CHARS = 16


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: Sequence[bool] | None = None, row_classes: Sequence[str] | None = None,
           cell_classes: Sequence[Sequence[str]] | None = None,
           nowrap: Sequence[bool] | None = None) -> str:
    """An HTML table from already-escaped cell strings (``nowrap``: columns kept on one line)."""
    numeric = numeric or [False] * len(headers)
    nowrap = nowrap or [False] * len(headers)
    rows = [list(row) for row in rows]
    # A column of long text (sources, notes) is marked ``wrap``: on a phone it keeps a width of
    # about nine characters instead of four, so its rows do not grow a character a line.
    longest = [max((len(re.sub(r"<[^>]+>", "", str(row[j]))) for row in rows), default=0)
               for j in range(len(headers))]
    long_text = [longest[j] > LONG_CELL_CHARS and not numeric[j] and not nowrap[j]
                 for j in range(len(headers))]

    def base_classes(j: int) -> list[str]:
        return ((["num"] if numeric[j] else []) + (["nowrap"] if nowrap[j] else [])
                + (["wrap"] if long_text[j] else []))

    head = "".join(f'<th class="{" ".join(base_classes(j))}">{h}</th>' if base_classes(j)
                   else f"<th>{h}</th>" for j, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        klass = row_classes[i] if row_classes else ""
        cells = []
        for j, cell in enumerate(row):
            names = base_classes(j)
            if cell_classes and cell_classes[i][j]:
                names += [n for n in cell_classes[i][j].split() if n not in names]
            attr = f' class="{" ".join(names)}"' if names else ""
            cells.append(f"<td{attr}>{cell}</td>")
        body.append(f'<tr{f" class={klass}" if klass else ""}>{"".join(cells)}</tr>')
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table></div>")


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def key_findings(files: RunFiles, lang: str = "zh") -> list[str]:
    """Plain sentences (already HTML-escaped) on population, demand, gaps and the document."""
    t = TEXT[lang]
    scenario = _main_scenario(files)
    summary = files.table("summary")
    summary = summary[summary.scenario.astype(str) == scenario].set_index("year")
    base, end = int(summary.index.min()), int(summary.index.max())
    year = 2025 if base < 2025 <= end else min(base + 5, end)
    sentences = []
    change = (summary.loc[end, "total"] / summary.loc[base, "total"] - 1) * 100
    change_text = (f"{'+' if change >= 0 else '−'}{abs(change):.1f}%")
    sentences.append(t["sentence_population"].format(
        base=base, end=end, pop_base=persons_text(summary.loc[base, "total"], lang),
        pop_end=persons_text(summary.loc[end, "total"], lang), change=change_text))
    contribution = migration_contribution(files.table("summary"), scenario)
    if contribution is not None:
        sentences.append(_migration_sentence(contribution, base, end, lang))
    share = summary["pop_60plus"] / summary["total"]
    sentences.append(t["sentence_elderly"].format(
        year=year, end=end, pop=persons_text(summary.loc[year, "pop_60plus"], lang),
        share=_percent(share[year]), pop_end=persons_text(summary.loc[end, "pop_60plus"], lang),
        share_end=_percent(share[end])))
    sentences.append(t["sentence_under3"].format(
        base=base, year=year, end=end, pop_base=persons_text(summary.loc[base, "pop_0_2"], lang),
        pop=persons_text(summary.loc[year, "pop_0_2"], lang),
        pop_end=persons_text(summary.loc[end, "pop_0_2"], lang)))
    sentences = [esc(s) for s in sentences]
    sentences += _service_sentences(files, scenario, year, end, lang)
    sentences += [esc(s) for s in _scope_sentences(files, lang)]
    sentences += _probability_sentences(files, scenario, lang)
    sentences += _expectation_sentences(files, base, lang)
    sentences += [esc(s) for s in county_sentences(files, lang)]
    sentences += [esc(s) for s in planning_sentences(files, lang)]
    sentences += [esc(s) for s in planner_guide_sentences(files, lang, beds=False)]
    if len(files.manifest.get("scenarios", [])) > 1:
        sentences.append(esc(t["scenario_note"].format(scenario=_scenario_name(scenario,
                                                                               lang))))
    return sentences


def migration_contribution(summary: pd.DataFrame, scenario: str) -> dict | None:
    """How much of ``scenario``'s population change from the base to the end year comes from
    migration: ``change_count`` (end − base), ``net_migrants_count`` (net migrants summed over
    the steps) and, where the run has a scenario with no net migrants in any year (e.g.
    ``no_migration``), ``difference_count`` = end population − that scenario's end population
    (migrants plus their births less their deaths) and ``difference_share`` of the change.
    None when the summary has no net migrants column."""
    if summary is None or "net_migrants" not in summary.columns:
        return None
    names = summary.scenario.astype(str)
    own = summary[names == scenario].set_index("year").sort_index()
    base, end = int(own.index.min()), int(own.index.max())
    change = float(own.loc[end, "total"] - own.loc[base, "total"])
    result = {"change_count": change,
              "net_migrants_count": float(own.loc[own.index > base, "net_migrants"].sum())}
    for name in dict.fromkeys(names):
        if name == scenario:
            continue
        other = summary[names == name].set_index("year").sort_index()
        closed = other.loc[other.index > base, "net_migrants"].abs().sum() < 0.5
        if closed and other.index.max() == end and other.loc[base, "total"] == own.loc[base,
                                                                                       "total"]:
            difference = float(own.loc[end, "total"] - other.loc[end, "total"])
            result.update({"closed_scenario": name, "difference_count": difference,
                           "difference_share": difference / change if change else float("nan")})
            break
    return result


def _migration_sentence(contribution: dict, base: int, end: int, lang: str) -> str:
    t = TEXT[lang]
    text = t["sentence_migration"].format(
        base=base, end=end, migrants=_signed_persons(contribution["net_migrants_count"], lang),
        change=_signed_persons(contribution["change_count"], lang))
    if "difference_count" in contribution:
        share = contribution["difference_share"]
        text += t["sentence_migration_closed"].format(
            end=end, scenario=_scenario_name(contribution["closed_scenario"], lang),
            difference=_signed_persons(contribution["difference_count"], lang),
            share="" if _is_missing(share) else t["sentence_migration_share"].format(
                share=_percent(share, 0)))
    return esc(text)


def _signed_persons(value: float, lang: str) -> str:
    return ("+" if value >= 0 else "−") + persons_text(abs(value), lang)


def _service_sentences(files: RunFiles, scenario: str, year: int, end: int,
                       lang: str) -> list[str]:
    t = TEXT[lang]
    gaps = files.table("gaps")
    gaps = gaps[gaps.scenario.astype(str) == scenario]
    shortfalls = files.table("first_shortfall")
    shortfalls = shortfalls[shortfalls.scenario.astype(str) == scenario]
    sentences = []
    for service in _ordered(gaps.service.astype(str).unique(),
                            SERVICES):
        rows = gaps[(gaps.service == service) & (gaps.year == year)]
        if rows.empty:
            continue
        name = _service_name(service, lang)
        items = []
        for row in _method_rows(rows):
            method = _method_name(row.method, service, lang)
            demand = count_text(row.demand, service, lang)
            if _is_missing(row.gap):
                items.append(t["demand_item_plain"].format(method=method, demand=demand))
            else:
                key = "gap_short" if row.gap < 0 else "gap_met"
                gap = t[key].format(value=count_text(row.gap, service, lang))
                items.append(t["demand_item"].format(method=method, demand=demand, gap=gap))
        joiner = punctuation(lang)["comma"]
        supply = _supply_text(rows, service, lang)
        if supply is None:
            sentences.append(t["sentence_service_unknown"].format(
                service=name, year=year, demands=joiner.join(items)))
        else:
            sentences.append(t["sentence_service"].format(
                service=name, year=year, supply=supply, demands=joiner.join(items)))
        firsts = shortfalls[shortfalls.service == service]
        short = firsts[firsts.outcome == "short"]
        if len(short):
            parts = [t["first_short_item"].format(
                method=_method_name(r.method, service, lang),
                year=_first_short_text(r, lang, in_sentence=True))
                for r in _method_rows(short)]
            sentences.append(t["sentence_first_short"].format(service=name,
                                                               items=joiner.join(parts)))
        elif len(firsts) and (firsts.outcome == "never").all():
            sentences.append(t["sentence_never_short"].format(service=name, end=end))
    return [esc(s) for s in sentences]


def _scoped_supply(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series | None]:
    """Supply by year of all beds (the norm's scope) and, where the table has it, of
    institutional beds (the scope of the needs, expected-use and 9073 methods)."""
    if "supply_scope" not in rows.columns or (rows["supply_scope"] == "total").all() \
            or (rows["supply_scope"] != "total").all():  # one scope (nursing-type beds)
        return rows.groupby("year")["supply"].first(), None
    scope = rows["supply_scope"].astype(str)
    return (rows[scope == "total"].groupby("year")["supply"].first(),
            rows[scope != "total"].groupby("year")["supply"].first())


def _breakable(text: str) -> str:
    """``text`` escaped, in parts that each stay on one line: it may break only before a
    parenthesis ("16,483张" | "（其中机构床位9,648张）"), so that on a phone the summary's
    supply column wraps instead of pushing the verdict column out of its box."""
    parts = [part.strip() for part in re.split(r"(?=[（(])", text) if part.strip()]
    return "<wbr>".join(f'<span class="nobreak">{esc(part)}</span>' for part in parts)


def _supply_text(rows: pd.DataFrame, service: str, lang: str) -> str | None:
    """Planned supply of one year's rows as text: all beds, with the institutional part."""
    total, institutional = _scoped_supply(rows)
    total = total.dropna()
    if total.empty:
        return None
    text = count_text(total.iloc[0], service, lang)
    if institutional is not None and institutional.notna().any():
        text = TEXT[lang]["supply_with_institutional"].format(
            total=text, institutional=count_text(institutional.dropna().iloc[0], service, lang))
    return text


def _scope_sentences(files: RunFiles, lang: str) -> list[str]:
    """Which supply each bed method is compared with, and how the base beds were read."""
    t = TEXT[lang]
    gaps = files.table("gaps")
    if gaps is None or "supply_scope" not in gaps.columns or \
            (gaps["supply_scope"].astype(str) == "total").all():
        return []
    record = files.manifest.get("elderly_bed_scope", {})
    share = record.get("institutional_share")
    estimated = (gaps["supply_scope"].astype(str) == "institutional_estimated").any()
    sentences = [t["sentence_scope"].format(
        estimate=t["scope_estimate"].format(share=_percent(share)) if estimated and share
        else "")]
    reading = record.get("base_reading")
    if reading in ("nested", "additive"):
        others = [name for name, r in record.get("readings", {}).items()
                  if r != reading and name != "baseline"]
        other = t["reading_other"].format(scenario=_scenario_name(others[0], lang)) \
            if others else ""
        sentences.append(t[f"sentence_reading_{reading}"].format(
            total=_number(record["base_total"]), community=_number(record["base_community"]),
            institutional=_number(record["base_institutional"]), other=other))
    sentences.append(t["sentence_bed_methods"])
    return sentences


def _ordered(values: Iterable[str], order: Sequence[str]) -> list[str]:
    values = list(values)
    return [v for v in order if v in values] + sorted(v for v in values if v not in order)


def _method_rows(rows: pd.DataFrame) -> list:
    order = {"norm": 0, "needs": 1, "expected_use": 2, "rule_9073": 3}
    return sorted(rows.itertuples(), key=lambda r: (order.get(str(r.method), 9), str(r.method)))


def _expectation_records(files: RunFiles, table: pd.DataFrame) -> list[dict]:
    """The specification of each row of ``expectations.csv`` (manifest ``expectation_specs``,
    in the same order): indicator, year and, for cumulative births, the first year."""
    records = list(files.manifest.get("expectation_specs") or [])
    if len(records) != len(table):
        raise ReportError("manifest.json's expectation_specs do not match expectations.csv "
                          f"({len(records)} records, {len(table)} rows)",
                          path=files.directory / "manifest.json", field="expectation_specs",
                          fix="rerun `forecast run` to rewrite the run's files")
    return records


def _cumulative(record: dict) -> bool:
    return record.get("indicator") == "births_cumulative"


def _indicator_text(record: dict, lang: str) -> str:
    if _cumulative(record):
        first, last = record["start_year"], record["year"]
        return TEXT[lang]["births_cumulative"].format(first=first, last=last)
    indicator = str(record.get("indicator"))
    return INDICATOR_TEXT[lang].get(indicator, indicator)


def _expectation_sentences(files: RunFiles, base: int, lang: str) -> list[str]:
    t = TEXT[lang]
    table = files.table("expectations")
    if table is None or table.empty:
        return []
    sentences = []
    for row, record in zip(table.itertuples(), _expectation_records(files, table), strict=True):
        births = _cumulative(record)
        if int(row.year) <= base and not births:
            continue  # the base year is a check of the census, shown in the table
        pct = float(row.difference_pct)
        diff = t["higher" if pct >= 0 else "lower"].format(pct=f"{abs(pct):.1f}%")
        relation = t.get(f"relation_{row.relation}", str(row.relation))
        indicator = _indicator_text(record, lang)
        when = "" if births else TEXT[lang]["in_year"].format(year=int(row.year))
        text = t["sentence_expectation"].format(
            when=when, indicator=indicator, relation=relation,
            document=persons_text(row.document_value, lang),
            projected=persons_text(row.projected_baseline, lang), diff=diff)
        sentences.append(esc(text))
    return sentences


def _unknown_outcome_text(rows: pd.DataFrame, lang: str) -> str:
    """Why a method's first shortfall is unknown, from its gap rows: no supply in any year
    (规划未给出供给), no shortfall in the years supply is known from (2025年起无缺口（此前供给
    未知）), or supply missing in some years."""
    t = TEXT[lang]
    known = rows.dropna(subset=["supply"])
    if known.empty:
        return t["outcome_no_supply"]
    years = known.year.astype(int)
    if (known.gap >= 0).all() and years.max() == int(rows.year.max()) and (
            len(years) == years.max() - years.min() + 1):
        return t["outcome_met_since"].format(year=int(years.min()))
    return t["outcome_unknown"]


def _first_short_text(row, lang: str, in_sentence: bool = False) -> str:
    """A first-shortfall year (``2028``, in a Chinese sentence ``2028年``), noting when supply
    was unknown before it: ``2028（2024年及以前供给未知）``."""
    year = f"{int(row.first_shortfall_year)}"
    if in_sentence:
        year += label("year_suffix", lang)
    until = getattr(row, "supply_unknown_until", None)
    if until is None or pd.isna(until):
        return year
    return TEXT[lang]["first_after_unknown"].format(year=year, until=int(until))


def _main_gaps(files: RunFiles) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The main scenario and its rows of ``gaps`` and ``first_shortfall``."""
    scenario = _main_scenario(files)
    gaps = files.table("gaps")
    shortfalls = files.table("first_shortfall")
    return (scenario, gaps[gaps.scenario.astype(str) == scenario],
            shortfalls[shortfalls.scenario.astype(str) == scenario])


def summary_html(files: RunFiles, lang: str = "zh") -> str:
    """The one-page answer: beds and 托位 needed in the key years (range over the methods),
    the planned supply, whether it meets the need by each method, the first shortfall, and
    with trajectories the needs method's median, 80 % interval and the probability that the
    plan meets it."""
    t = TEXT[lang]
    scenario, gaps, shortfalls = _main_gaps(files)
    base, end = int(gaps.year.min()), int(gaps.year.max())
    years = [y for y in (2025, end) if base < y <= end] or [end]
    years = sorted(set(years))
    demand_q, probability = files.table("demand_quantiles"), files.table("probability_met")
    trajectories = files.manifest.get("uncertainty", {}).get("trajectories")
    joiner, separator = punctuation(lang)["list"], punctuation(lang)["colon"]
    headers = [t["year"], t["summary_demand_range"], t["summary_supply_plain"],
               t["summary_verdict"]]
    parts = [f'<p class="note">{esc(t["summary_intro"].format(scenario=_scenario_name(scenario, lang), end=end))}</p>']  # noqa: E501
    for service in _ordered(gaps.service.astype(str).unique(),
                            SERVICES):
        part = gaps[gaps.service == service]
        rows, classes = [], []
        for year in years:
            rows_year = part[part.year == year]
            low, high = rows_year.demand.min(), rows_year.demand.max()
            supply = rows_year.supply.dropna()
            supply_text = _supply_text(rows_year, service, lang)
            met = [r for r in _method_rows(rows_year) if not _is_missing(r.gap) and r.gap >= 0]
            if supply.empty:
                verdict, klass = t["verdict_unknown"], ""
            elif len(met) == len(rows_year):
                verdict, klass = t["verdict_all_met"], "met"
            elif not met:
                verdict, klass = t["verdict_none_met"], "short"
            else:
                verdict, klass = t["verdict_some_met"].format(methods=joiner.join(
                    _method_name(r.method, service, lang) for r in met)), "short"
            rows.append([esc(year), esc(t["range"].format(low=_number(low), high=_number(high))),
                         t["not_stated"] if supply_text is None else _breakable(supply_text),
                         esc(verdict)])
            classes.append(["", "", "", klass])
        firsts = shortfalls[(shortfalls.service == service) & (shortfalls.outcome == "short")]
        if len(firsts):
            first = joiner.join(f"{_method_name(r.method, service, lang)} "
                                f"{_first_short_text(r, lang)}" for r in _method_rows(firsts))
        elif (shortfalls[shortfalls.service == service].outcome == "never").all():
            first = t["outcome_never"]
        elif part.supply.isna().all():
            first = t["outcome_no_supply"]
        else:
            first = t["outcome_unknown"]
        notes = [f"{t['summary_first']}{separator}{first}"]
        if trajectories:
            notes.append(t["summary_uncertainty"].format(n=f"{int(trajectories):,}") + separator
                         + _uncertainty_cell(demand_q, probability, scenario, service, end,
                                             lang))
        parts.append(f'<h3>{esc(_service_name(service, lang))}</h3>'
                     + _table([esc(h) for h in headers], rows, [False, True, False, False],
                              cell_classes=classes, nowrap=[True, True, False, False])
                     + "".join(f'<p class="note">{esc(n)}</p>' for n in notes))
    return "\n".join(parts)


def _uncertainty_cell(demand_q: pd.DataFrame | None, probability: pd.DataFrame | None,
                      scenario: str, service: str, year: int, lang: str) -> str:
    """The needs method's median and 80 % interval in ``year``, and the probability that
    the planned supply meets it (where supply is known)."""
    t = TEXT[lang]
    if demand_q is None or demand_q.empty:
        return t["summary_none"]
    rows = demand_q[(demand_q.scenario.astype(str) == scenario) & (demand_q.service == service)
                    & (demand_q.method == "needs") & (demand_q.year == year)]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    method = _method_name("needs", service, lang)
    p = None
    if probability is not None and not probability.empty:
        match = probability[(probability.scenario.astype(str) == scenario)
                            & (probability.service == service)
                            & (probability.method == "needs") & (probability.year == year)]
        if len(match) and not _is_missing(float(match.probability_met.iloc[0])):
            p = _percent(float(match.probability_met.iloc[0]), 0)
    values = {"method": method, "q50": _number(row.q50), "q10": _number(row.q10),
              "q90": _number(row.q90)}
    return (t["uncertainty_cell"].format(p=p, **values) if p is not None
            else t["uncertainty_cell_plain"].format(**values))


def _probability_sentences(files: RunFiles, scenario: str, lang: str) -> list[str]:
    """Per service, the probability that the plan meets demand in the end year, by method."""
    t = TEXT[lang]
    probability = files.table("probability_met")
    if probability is None or probability.empty:
        return []
    probability = probability[probability.scenario.astype(str) == scenario]
    end = int(probability.year.max())
    trajectories = files.manifest.get("uncertainty", {}).get("trajectories", "")
    joiner = punctuation(lang)["comma"]
    sentences = []
    for service in _ordered(probability.service.astype(str).unique(),
                            SERVICES):
        rows = probability[(probability.service == service) & (probability.year == end)
                           & probability.probability_met.notna()]
        if rows.empty:
            continue
        items = [t["probability_item"].format(method=_method_name(r.method, service, lang),
                                              p=_percent(float(r.probability_met), 0))
                 for r in _method_rows(rows)]
        sentences.append(esc(t["sentence_probability"].format(
            service=_service_name(service, lang), year=end, items=joiner.join(items),
            n=f"{int(trajectories):,}" if trajectories else "")))
    return sentences


def planner_guide_sentences(files: RunFiles, lang: str = "zh",
                            beds: bool = True) -> list[str]:
    """Which method answers which question, and which verdicts rest on unsourced parameters
    (plain text; issue 11 item 7). ``beds=False`` leaves out the elderly-bed methods (the key
    findings state them already, with the occupancy figures)."""
    from forecast.presentation.labels import METHOD_GUIDE, TERMINAL_TEXT, assumption_keys_text

    text = TERMINAL_TEXT[lang]
    colon, joiner = punctuation(lang)["colon"], punctuation(lang)["semicolon"]
    guide = [line for (service, _), line in METHOD_GUIDE[lang].items()
             if beds or service != "elderly_beds"]
    sentences = [text["guide"] + colon + joiner.join(guide)]
    scenario, gaps, _ = _main_gaps(files)
    if "rests_on_assumptions" not in gaps.columns:
        return sentences
    rests = gaps[gaps["rests_on_assumptions"].fillna("").astype(str) != ""]
    rests = rests.drop_duplicates(["service", "method"])
    items = []
    for service in _ordered(rests.service.astype(str).unique(),
                            ("elderly_beds", "nursing_beds", "childcare_places")):
        for row in _method_rows(rests[rests.service == service]):
            detail = assumption_keys_text(str(row.rests_on_assumptions), lang)
            items.append(f"{_service_name(service, lang)}/"
                         f"{_method_name(row.method, service, lang)}"
                         + punctuation(lang)["parenthesis"].format(detail))
    if items:
        sentences.append(text["assumption_verdicts"] + colon + joiner.join(items))
    return sentences


def gap_kinds_html(files: RunFiles, lang: str = "zh") -> str | None:
    """The three named gaps in the first key year and the end year, the plan's horizon and
    the additions needed in each five-year period (issue 11 item 5); None for a run written
    before these columns existed."""
    from forecast.presentation.labels import TERMINAL_TEXT

    text = TERMINAL_TEXT[lang]
    scenario, gaps, _ = _main_gaps(files)
    needed = ("gap_status_quo", "gap_target_adequacy", "gap_delivery")
    if any(c not in gaps.columns for c in needed):
        return None
    t = TEXT[lang]
    base, end = int(gaps.year.min()), int(gaps.year.max())
    years = sorted({_key_years(gaps.year.unique(), base, end)[0], end})
    headers = [t["service"], t["method"]] + [
        esc(h) for year in years for h in text["gap_kinds"].format(year=year).split("|")]
    rows = []
    services = _ordered(gaps.service.astype(str).unique(),
                        ("elderly_beds", "nursing_beds", "childcare_places"))
    for service in services:
        for row in _method_rows(gaps[(gaps.service == service) & (gaps.year == years[0])]):
            method_rows = gaps[(gaps.service == service) & (gaps.method == row.method)]
            cells = [esc(_service_name(service, lang)), esc(_method_name(row.method, service,
                                                                         lang))]
            for year in years:
                at = method_rows[method_rows.year == year]
                for column in needed:
                    value = at[column].iloc[0] if len(at) else float("nan")
                    cells.append("–" if _is_missing(value) else esc(
                        ("+" if value >= 0 else "−") + count_text(value, service, lang)))
            rows.append(cells)
    parts = [f'<p class="note">{esc(text["three_gaps"])}</p>',
             _table(headers, rows, numeric=[False, False] + [True] * (3 * len(years)))]
    if "beyond_plan_horizon" in gaps.columns:
        beyond = gaps[gaps["beyond_plan_horizon"].astype(str) == "True"]
        if len(beyond):
            horizon = text["horizon"].format(year=int(beyond.year.min()) - 1)
            parts.append(f'<p class="note">{esc(horizon)}</p>')
    additions = files.tables.get("additions_needed")
    if additions is not None and len(additions):
        table = additions[additions.scenario.astype(str) == scenario]
        periods = list(dict.fromkeys(table["period"].astype(str)))
        rows = []
        for service in services:
            service_rows = table[table.service == service]
            for method in _ordered(service_rows.method.astype(str).unique(),
                                   ("norm", "needs", "expected_use", "rule_9073")):
                cells = [esc(_service_name(service, lang)), esc(_method_name(method, service,
                                                                             lang))]
                for period in periods:
                    row = service_rows[(service_rows.method == method)
                                       & (service_rows.period.astype(str) == period)].iloc[0]
                    if _is_missing(row.additions_beyond_plan):
                        cells.append(esc(text["additions_cell_unknown"].format(
                            value=count_text(max(row.demand_growth, 0.0), service, lang))))
                    else:
                        cells.append(esc(count_text(row.additions_beyond_plan, service, lang)))
                rows.append(cells)
        parts.append(f'<p class="note">{esc(text["additions"])}</p>')
        parts.append(_table([t["service"], t["method"]] + [esc(p) for p in periods], rows,
                            numeric=[False, False] + [True] * len(periods)))
    guide = "".join(f"<li>{esc(s)}</li>" for s in planner_guide_sentences(files, lang))
    parts.append(f"<ul>{guide}</ul>")
    return "\n".join(parts)


def gap_table_html(files: RunFiles, lang: str = "zh") -> str:
    """The gap table of the main scenario: demand and gap in the key years, planned supply,
    first shortfall year."""
    t = TEXT[lang]
    scenario, gaps, shortfalls = _main_gaps(files)
    base, end = int(gaps.year.min()), int(gaps.year.max())
    years = _key_years(gaps.year.unique(), base, end)
    headers = [t["service"], t["method"]]
    for year in years:
        headers += [t["demand_col"].format(year=year), t["gap_col"].format(year=year)]
    headers.append(t["first_short_col"])
    numeric = [False, False] + [True] * (2 * len(years)) + [False]
    rows, row_classes, cell_classes = [], [], []
    for service in _ordered(gaps.service.astype(str).unique(),
                            SERVICES):
        service_rows = gaps[gaps.service == service]
        by_year, institutional = _scoped_supply(service_rows)
        supply_rows = [(by_year, "supply_row" if institutional is None else "supply_row_total")]
        if institutional is not None:
            supply_rows.append((institutional, "supply_row_institutional"))
        for position, (series, key) in enumerate(supply_rows):
            supply_cells = [esc(_service_name(service, lang)) if position == 0 else "",
                            esc(t[key])]
            for year in years:
                value = series.get(year, float("nan"))
                supply_cells += [t["not_stated"] if _is_missing(value) else _number(value), ""]
            rows.append(supply_cells + [""])
            row_classes.append("supply")
            cell_classes.append([""] * len(headers))
        for method in _ordered(service_rows.method.astype(str).unique(),
                               BED_METHODS):
            cells = ["", esc(_method_name(method, service, lang))]
            classes = ["", ""]
            for year in years:
                row = service_rows[(service_rows.method == method) & (service_rows.year == year)]
                if row.empty:
                    cells += ["", ""]
                    classes += ["", ""]
                    continue
                row = row.iloc[0]
                cells.append(_number(row.demand))
                classes.append("")
                if _is_missing(row.gap):
                    cells.append("–")
                    classes.append("")
                else:
                    cells.append(_number(row.gap))
                    classes.append("short" if row.gap < 0 else "met")
            first = shortfalls[(shortfalls.service == service) & (shortfalls.method == method)]
            if first.empty:
                cells.append("")
            elif first.outcome.iloc[0] == "short":
                cells.append(esc(_first_short_text(next(first.itertuples()), lang)))
            elif first.outcome.iloc[0] == "unknown":
                cells.append(esc(_unknown_outcome_text(
                    service_rows[service_rows.method == method], lang)))
            else:
                cells.append(esc(t.get(f"outcome_{first.outcome.iloc[0]}",
                                       first.outcome.iloc[0])))
            classes.append("wrap short" if not first.empty and first.outcome.iloc[0] == "short"
                           else "wrap")
            rows.append(cells)
            row_classes.append("")
            cell_classes.append(classes)
    intro = f'<p class="note">{esc(t["gap_intro"])}</p>'
    # Service and method names are short labels: kept on one line in Chinese (on a phone the
    # table scrolls sideways rather than break 千人指标法 into two lines).
    nowrap = [lang == "zh", lang == "zh"] + [False] * (len(headers) - 2)
    table = _table([esc(h) for h in headers], rows, numeric, row_classes, cell_classes, nowrap)
    return intro + table + _supply_basis_html(files, scenario, lang)


def _supply_basis_html(files: RunFiles, scenario: str, lang: str) -> str:
    """Where each service's planned supply comes from (supply.csv ``supply_basis``)."""
    supply = files.table("supply")
    if supply is None or supply.empty or "supply_basis" not in supply:
        return ""
    supply = supply[supply.scenario.astype(str) == scenario]
    items = []
    for service in _ordered(supply.service.astype(str).unique(),
                            SERVICES):
        rows = supply[supply.service == service]
        if rows["supply"].isna().all():
            basis = TEXT[lang]["basis_none_own_target" if _has_own_target(files, service)
                              else "basis_none"]
        else:
            basis = str(rows["supply_basis"].dropna().iloc[0]) if rows["supply_basis"].notna(
            ).any() else ""
        basis = translate(basis, lang, files.notes_zh)
        items.append(f"<li><b>{esc(_service_name(service, lang))}</b>"
                     f"{punctuation(lang)['colon']}{esc(basis)}</li>")
    return (f'<p class="note">{esc(TEXT[lang]["basis_intro"])}</p>'
            f'<ul class="note">{"".join(items)}</ul>')


def _has_own_target(files: RunFiles, service: str) -> bool:
    """True when the plan states a target of its own for ``service`` (targets.csv; a national
    target's source starts 'national: ')."""
    targets = files.table("targets")
    if targets is None or targets.empty or "service" not in targets:
        return False
    rows = targets[targets.service.astype(str) == service]
    return bool((~rows.source.astype(str).str.startswith("national: ")).any())


def _chart_caption(stem: str, files: RunFiles, lang: str) -> tuple[str, str, str]:
    """(title, unit, source) of a chart file, all plain text."""
    t = TEXT[lang]
    manifest = files.manifest
    projection = manifest.get("projection", {})
    scenario = _scenario_name(_main_scenario(files), lang)
    document = manifest.get("source_document", {}).get("title", "")
    census = t["src_census"]
    projected = t["src_projection"].format(scenario=scenario)
    sep = punctuation(lang)["semicolon"]
    demand_sources = [census, projected, t["src_parameters"]]
    if document:
        demand_sources.append(t["src_plan"].format(document=document))
    units = {"pyramid": "persons", "elderly_trends": "persons", "under3_trend": "persons",
             "bed_demand": "beds", "nursing_bed_demand": "beds",
             "childcare_demand": "places"}
    if stem in CHART_ORDER:
        title = t[f"caption_{stem}"].format(base=projection.get("base_year", ""),
                                           end=projection.get("end_year", ""))
        if stem.endswith("demand"):
            sources = list(demand_sources)
            service = {"bed_demand": "elderly_beds", "nursing_bed_demand": "nursing_beds",
                       "childcare_demand": "childcare_places"}[stem]
            record = _main_record(files)
            national = [] if record is None else [
                target.document_short for target in record.targets
                if target.service == service and target.origin == NATIONAL]
            for short in dict.fromkeys(national):
                sources.append(t["src_national"].format(document=short))
        else:
            sources = [census, projected]
        unit = t[f"unit_{units[stem]}"]
        if stem in ("elderly_trends", "under3_trend"):
            unit = _persons_axis_unit(files, "pop_60plus" if stem == "elderly_trends"
                                      else "pop_0_2", lang)
            if stem == "elderly_trends":
                unit = t["unit_elderly"].format(unit=unit)
        return title, unit, sep.join(sources)
    if stem.startswith("scenarios_"):
        indicator = stem[len("scenarios_"):]
        title = t["caption_scenarios"].format(indicator=_indicator_label(indicator, lang))
        unit = (_persons_axis_unit(files, indicator, lang, every_scenario=True)
                if indicator.startswith("pop_") and indicator in files.table("summary")
                else t["unit_axis"])
        return title, unit, sep.join([census, t["src_projection"].format(
            scenario=t["every_scenario"])])
    if stem.startswith("fan_"):
        indicator = stem[len("fan_"):]
        title = t["caption_fan"].format(indicator=_indicator_label(indicator, lang))
        summary_columns = files.table("summary").columns
        unit = (_persons_axis_unit(files, indicator, lang) if indicator in summary_columns
                and (indicator.startswith("pop_") or indicator == "total")
                else t["unit_beds"] if "beds" in indicator
                else t["unit_places"] if "places" in indicator else t["unit_axis"])
        return title, unit, sep.join([census, projected])
    if stem.startswith("counties_"):
        from forecast.presentation.labels import COUNTY_TEXT

        c = COUNTY_TEXT[lang]
        end = projection.get("end_year", "")
        if stem == "counties_share_60plus":
            return c["chart_share"].format(year=end), c["unit_percent"], c["source"]
        return (c["chart_places"].format(year=end), c["unit_per_1000"],
                sep.join([c["source"], t["src_parameters"]]))
    if stem == "tornado":
        from forecast.presentation.labels import SENSITIVITY_TEXT

        table = files.table("sensitivity")
        year = (int(table.year.iloc[0]) if table is not None and len(table)
                else projection.get("end_year", ""))
        return (SENSITIVITY_TEXT[lang]["caption"].format(year=year),
                t["unit_beds"] + punctuation(lang)["list"] + t["unit_places"],
                sep.join([census, projected, t["src_parameters"]]))
    if stem == "tfr_trend":
        return (t["caption_tfr_trend"], t["unit_per_woman"],
                sep.join([t["src_wpp"], t["src_projection"].format(scenario=scenario)]))
    return t["caption_other"].format(stem=stem), t["unit_axis"], projected


def _persons_axis_unit(files: RunFiles, column: str, lang: str,
                       every_scenario: bool = False) -> str:
    """The head-count unit the chart's axis uses (人/万人, persons/thousand persons), named in
    the report's language: the charts scale by the largest value in the chart's language."""
    from forecast.presentation.charts import _count_scale, unit_label

    summary = files.table("summary")
    values = (summary[column] if every_scenario else
              summary.loc[summary.scenario.astype(str) == _main_scenario(files), column])
    chart_lang = files.manifest.get("language", lang)
    chart_lang = chart_lang if chart_lang in LANGUAGES else lang
    divisor, _ = _count_scale(float(values.max()), "persons", chart_lang)
    key = {1.0: "persons", 1e3: "thousand_persons", 1e4: "ten_thousand_persons"}[divisor]
    return unit_label(key, lang)


def _indicator_label(indicator: str, lang: str) -> str:
    from forecast.presentation.labels import label

    return label(indicator, lang)


#: What an inlined chart may hold: matplotlib's SVG elements and other plain shapes. Anything
#: else (<script>, <foreignObject>, <iframe>, ...), an on* attribute, a reference outside the
#: file or a javascript: URL means the SVG was not drawn by this tool, and it is refused.
SVG_ELEMENTS = frozenset({
    "svg", "g", "path", "defs", "clipPath", "use", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "title", "desc", "style", "linearGradient",
    "radialGradient", "stop", "pattern", "mask", "symbol", "marker"})
_SVG_TAG = re.compile(r"<\s*/?\s*([A-Za-z_][\w:.-]*)")
_SVG_ATTRIBUTE = re.compile(r"""\s([A-Za-z_][\w:.-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_SVG_URL = re.compile(r"""url\(\s*(['"]?)([^)'"]*)\1\s*\)""", re.I)


def unsafe_svg_content(text: str) -> str | None:
    """What makes the SVG markup ``text`` (after :func:`inline_svg`'s clean-up) unsafe to
    inline, or None: an element outside SVG_ELEMENTS, an event handler (on*) attribute, an
    href or url() that does not point inside the file (#id), a javascript: URL, an @import, a
    CDATA section or a DOCTYPE/ENTITY declaration."""
    lowered = text.lower()
    for needle in ("<!doctype", "<!entity", "<![cdata[", "javascript:", "@import", "<?"):
        if needle in lowered:
            return f"'{needle}'"
    for match in _SVG_TAG.finditer(text):
        if match.group(1) not in SVG_ELEMENTS:
            return f"the element <{match.group(1)}>"
    for match in _SVG_ATTRIBUTE.finditer(text):
        name, value = match.group(1), match.group(2).strip("'\"").strip()
        if name.lower().startswith("on"):
            return f"the event handler {name}="
        if name.lower().split(":")[-1] in ("href", "src") and not value.startswith("#"):
            return f"the external reference {name}=\"{value[:40]}\""
    for match in _SVG_URL.finditer(text):
        if not match.group(2).strip().startswith("#"):
            return f"the external reference url({match.group(2)[:40]})"
    return None


def inline_svg(svg: bytes | str, prefix: str) -> str:
    """An SVG file as markup to place inside HTML.

    Drops the XML prolog, DOCTYPE, comments and ``<metadata>`` (which carries namespace URLs),
    and the ``xmlns`` declarations (HTML parses inline SVG without them); prefixes every
    ``id`` and every reference to it (``url(#id)``, ``href="#id"``) with ``prefix`` so that
    several charts can share a page. The chart is labelled for screen readers by its caption.
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'((?:xlink:)?href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}'
                  f'{m.group(2)}"', text)
    text = re.sub(r"<svg\b", '<svg role="img" aria-hidden="false"', text, count=1)
    return text.strip()


def _county_names(rows: pd.DataFrame, column: str, lang: str, item: str, ascending: bool,
                  n: int = 3) -> str:
    from forecast.presentation.labels import COUNTY_TEXT

    c = COUNTY_TEXT[lang]
    ordered = rows.sort_values(column, ascending=ascending, kind="stable").head(n)
    joiner = punctuation(lang)["list"]
    if item == "share":
        return joiner.join(c["share_item"].format(name=r["name"], share=_percent(r[column]))
                           for _, r in ordered.iterrows())
    return joiner.join(c["places_item"].format(name=r["name"], value=_number(abs(r[column])))
                       for _, r in ordered.iterrows())


def county_sentences(files: RunFiles, lang: str = "zh") -> list[str]:
    """Plain sentences naming the counties with the largest share aged 60+ and the largest
    托位 gap (needs-method demand above the target) in the end year; none without counties."""
    from forecast.presentation.labels import COUNTY_TEXT

    counties = files.table("counties")
    if counties is None or counties.empty:
        return []
    c = COUNTY_TEXT[lang]
    end = int(counties.year.max())
    last = counties[counties.year == end]
    sentences = [c["finding_share"].format(
        year=end, names=_county_names(last, "share_60plus", lang, "share", ascending=False))]
    gap = last.dropna(subset=["childcare_places_needs_gap"])
    if len(gap):
        short = gap[gap.childcare_places_needs_gap < 0]
        if len(short):
            sentences.append(c["finding_places_short"].format(year=end, names=_county_names(
                short, "childcare_places_needs_gap", lang, "places", ascending=True)))
        else:
            sentences.append(c["finding_places_met"].format(year=end, names=_county_names(
                gap, "childcare_places_needs_gap", lang, "places", ascending=True)))
    return sentences


def _small_share(value: float, lang: str) -> str:
    """A small relative difference as a planner reads it: 0, under 0.01 %, else a percentage."""
    if not value:
        return "0"
    if value < 1e-4:
        return TEXT[lang]["under_0_01_pct"]
    return TEXT[lang]["small_share"].format(value=value, percent=value * 100)


def counties_html(files: RunFiles, lang: str = "zh") -> str | None:
    """The counties of a prefecture or province: how they were projected, a table of the key
    figures in the target and end years, and where the ranked charts are; None without."""
    from forecast.presentation.labels import COUNTY_TEXT, label

    counties = files.table("counties")
    if counties is None or counties.empty:
        return None
    c = COUNTY_TEXT[lang]
    record = files.manifest.get("counties", {}) if isinstance(
        files.manifest.get("counties"), dict) else {}
    check = record.get("sum_max_relative_difference", {})
    diff = max((float(v) for v in check.values()), default=0.0)
    joiner = punctuation(lang)["semicolon"]
    targets = []
    for service in SERVICES:
        origin = counties[f"{service}_target_origin"].dropna()
        if len(origin):
            key = "target_plan" if origin.iloc[0] == "plan" else "target_national"
            targets.append(c[key].format(service=label(service, lang)))
    name = files.manifest["jurisdiction"].get("name") if lang == "zh" else (
        files.manifest["jurisdiction"].get("name_en")
        or files.manifest["jurisdiction"].get("name"))
    parts = [f'<p class="note">{esc(c["intro"].format(n=counties.unit_id.nunique(), name=name, diff=_small_share(diff, lang), targets=joiner.join(targets)))}</p>']  # noqa: E501
    base, end = int(counties.year.min()), int(counties.year.max())
    years = [y for y in (2025, end) if base < y <= end]
    headers = [c[k] for k in ("col_name", "col_total", "col_share", "col_beds",
                              "col_beds_target", "col_places", "col_places_target",
                              "col_places_gap")]
    for year in dict.fromkeys(years):
        rows = counties[counties.year == year].sort_values("share_60plus", ascending=False)
        cells, classes = [], []
        for _, r in rows.iterrows():
            gap = r["childcare_places_needs_gap"]
            cells.append([esc(r["name"]), persons_text(r["total"], lang),
                          _percent(r["share_60plus"]),
                          _number(r["elderly_beds_needs"]),
                          _number(r["elderly_beds_target"]), _number(r["childcare_places_needs"]),
                          _number(r["childcare_places_target"]),
                          ("−" if gap < 0 else "+") + _number(abs(gap))])
            classes.append([""] * 7 + ["short" if gap < 0 else ""])
        parts.append(f"<h3>{esc(c['table_caption'].format(year=year))}</h3>")
        parts.append(_table([esc(h) for h in headers], cells, numeric=[False] + [True] * 7,
                            cell_classes=classes))
    figures = [t_index for t_index, (stem, _, _) in enumerate(files.charts, start=1)
               if stem.startswith("counties_")]
    if figures:
        t = TEXT[lang]
        joiner = punctuation(lang)["list"]
        parts.append(f'<p class="note">{esc(c["see_charts"].format(figures=joiner.join(t["figure"].format(n=n) for n in figures)))}</p>')  # noqa: E501
    return "\n".join(parts)


def _planning_value(value: float, unit: str, lang: str) -> str:
    if _is_missing(value):
        return ""
    if unit in ("yuan", "yuan a year"):
        return (_number(value / 1e4, 1) if lang == "zh" else _number(value / 1e6, 2))
    if unit == "share":
        return _percent(value, 0)
    if unit == "years":
        return _number(value, 1)
    return _number(value)


def _planning_unit(unit: str, lang: str) -> str:
    from forecast.presentation.labels import PLANNING_TEXT

    p = PLANNING_TEXT[lang]
    return {"persons": p["unit_persons"], "yuan": p["unit_money"],
            "yuan a year": p["unit_money_per_year"], "m2": p["unit_m2"],
            "places": p["unit_places"], "share": p["unit_share"],
            "years": p["unit_years"], "yuan per bed a year": p["unit_yuan_per_bed_year"],
            "yuan per place a year": p["unit_yuan_per_place_year"]}.get(unit, unit)


def planning_sentences(files: RunFiles, lang: str = "zh") -> list[str]:
    """The workforce needed in the target year, as a key finding (plain text)."""
    from forecast.presentation.labels import PLANNING_TEXT

    table = files.table("planning")
    if table is None or table.empty:
        return []
    years = sorted(int(y) for y in table.year.unique())
    year = 2025 if 2025 in years[1:] else years[-1]
    rows = table[(table.year == year) & (table.topic == "workforce")]
    elderly = rows[(rows.item == "elderly_carers") & (rows.method == "needs")].value
    childcare = rows[(rows.item == "childcare_carers") & (rows.method == "needs")].value
    if elderly.empty or childcare.empty:
        return []
    return [PLANNING_TEXT[lang]["finding_workforce"].format(
        year=year, elderly=_number(elderly.iloc[0]), childcare=_number(childcare.iloc[0]))]


#: planning.csv items that are a one-off subsidy of each year's gap (a cumulative sum).
ONE_OFF_SUBSIDIES = ("subsidy_new_beds", "subsidy_new_places", "central_subsidy_new_places")


def planning_html(files: RunFiles, lang: str = "zh") -> str | None:
    """Groups, workforce, money and land in the key years (baseline), one row per item."""
    from forecast.presentation.labels import PLANNING_TEXT, label, method_label

    table = files.table("planning")
    if table is None or table.empty:
        return None
    p = PLANNING_TEXT[lang]
    years = sorted(int(y) for y in table.year.unique())
    shown = [y for y in (2025, 2030) if years[0] < y < years[-1]] + [years[-1]]
    budgets = table.item.isin(("budget_elderly", "budget_childcare"))
    extra = "".join(p[k] for k, present in (
        ("extra_money", table.item.isin((*ONE_OFF_SUBSIDIES, "operating_subsidy_beds")).any()),
        ("extra_budget", budgets.any()),
        ("extra_land", (table.topic == "land").any())) if present)
    from forecast.care.planning import UNKNOWN_SUPPLY_NEW

    one_off = table.item.isin(ONE_OFF_SUBSIDIES)
    note = p["intro"].format(extra=extra) + (p["money_note"] if one_off.any() else "")
    parts = [f'<p class="note">{esc(note)}</p>']
    rows_bounded = table[one_off & table.year.isin(shown)
                         & table.basis.fillna("").str.contains(UNKNOWN_SUPPLY_NEW, regex=False)]
    bounded = set(zip(rows_bounded.item, rows_bounded.service.fillna(""),
                      rows_bounded.method.fillna(""), strict=True))
    keys = table[["topic", "item", "service", "method", "unit"]].fillna("").drop_duplicates()
    by_year = {year: table[table.year == year] for year in shown}
    rows = []
    for _, key in keys.iterrows():
        item = p.get(key["item"], key["item"])
        method = (method_label(str(key["method"]), str(key["service"]), lang)
                  if key["method"] else "")
        if key["item"] in ("budget_years_for_bill",) or key["topic"] == "money":
            item += punctuation(lang)["parenthesis"].format(label(str(key["service"]), lang))
        if (key["item"], key["service"], key["method"]) in bounded:
            item += p["upper_bound"]
        cells = [esc(p[f"topic_{key['topic']}"]), esc(item), esc(method),
                 esc(_planning_unit(str(key["unit"]), lang))]
        for year in shown:
            frame = by_year[year]
            match = frame[(frame.item == key["item"]) & (frame.method.fillna("") == key["method"])
                          & (frame.service.fillna("") == key["service"])]
            cells.append(_planning_value(match.value.iloc[0], str(key["unit"]), lang)
                         if len(match) else "")
        rows.append(cells)
    headers = [esc(h) for h in (p["col_topic"], p["col_item"], p["col_method"], p["col_unit"])]
    headers += [esc(TEXT[lang]["year_column"].format(year=y)) for y in shown]
    parts.append(_table(headers, rows, numeric=[False] * 4 + [True] * len(shown)))
    return "\n".join(parts)


def charts_html(files: RunFiles, lang: str = "zh") -> str:
    """Every chart of the run with a numbered caption stating its unit and source."""
    t = TEXT[lang]
    parts = []
    chart_lang = files.manifest.get("language")
    if chart_lang in LANGUAGES and chart_lang != lang:
        parts.append(f'<p class="note">{esc(t["chart_language_note"].format(chart_lang=t["lang_" + chart_lang]))}</p>')  # noqa: E501
    for number, (stem, kind, content) in enumerate(files.charts, start=1):
        title, unit, source = _chart_caption(stem, files, lang)
        body = (_chart_placeholder(number) if kind == PENDING
                else _chart_body(number, kind, content, title))
        mark = punctuation(lang)
        caption = f"<b>{esc(t['figure'].format(n=number))}</b> {esc(title)}{mark['stop']}"
        caption += esc(t["unit"].format(unit=unit)) + mark["stop"]
        caption += esc(t["source"].format(source=source)) + mark["final_stop"]
        parts.append(f'<figure id="fig-{esc(stem)}">{body}<figcaption>{caption}</figcaption>'
                     "</figure>")
    return "\n".join(parts)


def _chart_body(number: int, kind: str, content: bytes, title: str) -> str:
    """Chart ``number`` as markup: its SVG inline, else its PNG as an image."""
    if kind == "svg":
        return inline_svg(content, f"c{number}-")
    data = base64.b64encode(content).decode("ascii")
    return f'<img alt="{esc(title)}" src="data:image/png;base64,{data}">'


def _chart_placeholder(number: int) -> str:
    """Where chart ``number`` goes in a page built before the charts were drawn: an empty SVG
    element, so that the page's visible text (and so its font subset) is the same as with the
    chart (:func:`_visible_text` drops SVGs)."""
    return f'<svg data-forecast-chart="{number}"></svg>'


def expectations_html(files: RunFiles, lang: str = "zh") -> str:
    """The document's own population statements beside the baseline projection."""
    t = TEXT[lang]
    table = files.table("expectations")
    if table is None or table.empty:
        return f"<p>{esc(t['no_expectations'])}</p>"
    headers = [t["year"], t["indicator"], t["relation"], t["document_value"], t["projected"],
               t["difference_pct"], t["quote"], t["note"]]
    rows = []
    for row, record in zip(table.itertuples(), _expectation_records(files, table), strict=True):
        indicator = (_indicator_text(record, lang) if lang == "zh" or _cumulative(record)
                     else _indicator_label(str(record["indicator"]), lang))
        rows.append([esc(int(row.year)), esc(indicator),
                     esc(RELATION_TEXT[lang].get(str(row.relation), row.relation)),
                     _number(row.document_value),
                     _number(row.projected_baseline), _number(row.difference_pct, 1),
                     esc(translate(row.source, lang)),
                     esc(translate(row.note, lang, files.notes_zh))])
    return _table([esc(h) for h in headers], rows,
                  [False, False, False, True, True, True, False, False],
                  nowrap=[True, False, True, True, True, True, False, False])


def scenarios_html(files: RunFiles, lang: str = "zh") -> str | None:
    """Summary and norm-method gaps by scenario in the key years: one table per indicator and
    per service, a row per scenario and a column per year (narrow enough for a phone, however
    many scenarios); None when the run has one scenario."""
    from forecast.presentation.labels import label

    t = TEXT[lang]
    summary = files.table("summary")
    scenarios = list(dict.fromkeys(summary.scenario.astype(str)))
    if len(scenarios) < 2:
        return None
    base, end = int(summary.year.min()), int(summary.year.max())
    years = _key_years(summary.year.unique(), base, end)
    columns = [c for c in ("total", "pop_60plus", "share_60plus", "pop_80plus", "pop_0_2",
                           "births") if c in summary.columns]
    headers = [esc(t["scenario"])] + [esc(year) for year in years]
    numeric = [False] + [True] * len(years)
    indexed = summary.assign(scenario=summary.scenario.astype(str)).set_index(["scenario",
                                                                               "year"])
    parts = []
    for column in columns:
        rows = []
        for name in scenarios:
            cells = [esc(_scenario_name(name, lang))]
            for year in years:
                value = indexed[column].get((name, year), float("nan"))
                cells.append(_percent(value) if column.startswith("share") else _number(value))
            rows.append(cells)
        parts.append(f"<h3>{esc(label(column, lang))}</h3>" + _table(headers, rows, numeric))
    gaps = files.table("gaps")
    norm = gaps[(gaps.method == "norm") & (gaps.year.isin(years))]
    if not norm.empty:
        services = _ordered(norm.service.astype(str).unique(),
                            SERVICES)
        indexed = norm.assign(scenario=norm.scenario.astype(str)).set_index(
            ["service", "year", "scenario"])["gap"]
        parts.append(f"<p>{esc(t['scenario_gap_intro'])}</p>")
        for service in services:
            rows, classes = [], []
            for name in scenarios:
                cells, cell_classes = [esc(_scenario_name(name, lang))], [""]
                for year in years:
                    value = indexed.get((service, year, name), float("nan"))
                    cells.append(t["not_stated"] if _is_missing(value) else _number(value))
                    cell_classes.append("" if _is_missing(value) else
                                        "short" if value < 0 else "met")
                rows.append(cells)
                classes.append(cell_classes)
            parts.append(f"<h3>{esc(_service_name(service, lang))}</h3>"
                         + _table(headers, rows, numeric, cell_classes=classes))
    return "\n".join(parts)


def uncertainty_html(files: RunFiles, lang: str = "zh") -> str:
    """Quantiles of the main indicators and the probability that the plan meets demand, for
    the main scenario, when the run drew trajectories (else a sentence saying it did not)."""
    t = TEXT[lang]
    scenario = _main_scenario(files)
    quantiles = files.table("summary_quantiles")
    probability = files.table("probability_met")
    parts = []
    wanted = ("q025", "q10", "q50", "q90", "q975")
    if quantiles is not None and {"year", "indicator", *wanted} <= set(quantiles.columns):
        if "scenario" in quantiles:
            quantiles = quantiles[quantiles.scenario.astype(str) == scenario]
        years = _key_years(quantiles.year.unique(), int(quantiles.year.min()),
                           int(quantiles.year.max()))
        rows = []
        for indicator in ("total", "pop_60plus", "pop_80plus", "pop_0_2", "births"):
            for year in years:
                match = quantiles[(quantiles.indicator == indicator) & (quantiles.year == year)]
                if len(match):
                    rows.append([esc(t[indicator]), esc(year)]
                                + [_number(match[q].iloc[0]) for q in wanted])
        headers = [t["indicator"], t["year"], "2.5%", "10%", t["median"], "90%", "97.5%"]
        parts.append(f"<p>{esc(t['uncertainty_draws'])}</p>")
        parts.append(f"<p>{esc(t['uncertainty_intro'].format(file='summary_quantiles.csv'))}"
                     "</p>")
        parts.append(_table([esc(h) for h in headers], rows, [False, False] + [True] * 5))
    if probability is not None and {"year", "service", "method",
                                    "probability_met"} <= set(probability.columns):
        if "scenario" in probability:
            probability = probability[probability.scenario.astype(str) == scenario]
        years = _key_years(probability.year.unique(), int(probability.year.min()) - 1,
                           int(probability.year.max()))
        rows = []
        for service in _ordered(probability.service.astype(str).unique(),
                                SERVICES):
            part = probability[probability.service == service]
            for method in _ordered(part.method.astype(str).unique(),
                                   METHODS):
                values = [part[(part.method == method) & (part.year == y)].probability_met
                          for y in years]
                cells = [_percent(float(v.iloc[0]), 0) if len(v) and not _is_missing(
                    float(v.iloc[0])) else t["not_stated"] for v in values]
                rows.append([esc(_service_name(service, lang)),
                             esc(_method_name(method, service, lang)), *cells])
        headers = [t["service"], t["method"], *[str(y) for y in years]]
        parts.append(f"<p>{esc(t['probability_intro'].format(file='probability_met.csv'))}"
                     "</p>")
        parts.append(_table([esc(h) for h in headers], rows,
                            [False, False] + [True] * len(years)))
    return "\n".join(parts) or f"<p>{esc(t['no_uncertainty'])}</p>"


def _parameter_value(name: str, value: float) -> str:
    """A care parameter's value as the sensitivity table shows it (shares as per cent)."""
    if _is_missing(value):
        return "–"
    if name.endswith("_level"):
        return f"×{value:.3f}"
    return _percent(value, 1).replace("-", "−")


def sensitivity_html(files: RunFiles, lang: str = "zh") -> str | None:
    """The one-at-a-time swings of the care parameters (sensitivity.csv): for each service
    and method, which parameter moves the gap most, then the table (None if the run wrote no
    sensitivity table)."""
    from forecast.presentation.labels import SENSITIVITY_TEXT, label

    table = files.table("sensitivity")
    if table is None:
        return None
    s, t = SENSITIVITY_TEXT[lang], TEXT[lang]
    if table.empty:
        return f"<p>{esc(s['none'])}</p>"
    scenario = str(table.scenario.iloc[0]) if "scenario" in table else _main_scenario(files)
    year = int(table.year.iloc[0])
    parts = [f"<p>{esc(s['intro'].format(scenario=_scenario_name(scenario, lang), year=year, file='sensitivity.csv'))}</p>",  # noqa: E501
             f'<p class="note">{esc(s["why"])}</p>']
    findings, rows = [], []
    for (service, method), block in table.groupby(["service", "method"], sort=False):
        block = block.sort_values("rank", kind="stable")
        top = block.iloc[0]
        name = str(top.parameter)
        values = {"service": _service_name(service, lang),
                  "method": _method_name(method, service, lang), "year": year,
                  "parameter": label(name, lang),
                  "low": _parameter_value(name, float(top.low_value)),
                  "high": _parameter_value(name, float(top.high_value)),
                  "swing": _number(float(top.swing))}
        if not _is_missing(float(top.gap_at_low)):
            sentence = s["largest"].format(gap_low=_number(float(top.gap_at_low)),
                                           gap_high=_number(float(top.gap_at_high)), **values)
        else:
            sentence = s["largest_demand"].format(
                demand_low=_number(float(top.demand_at_low)),
                demand_high=_number(float(top.demand_at_high)), **values)
        if str(getattr(top, "confidence", "")) == "A":
            sentence += s["unsourced"]
        findings.append(f"<li>{esc(sentence)}</li>")
        for record in block.itertuples(index=False):
            parameter = str(record.parameter)
            rows.append([esc(_service_name(service, lang)),
                         esc(_method_name(method, service, lang)), esc(int(record.rank)),
                         esc(label(parameter, lang)),
                         _parameter_value(parameter, float(record.low_value)),
                         _parameter_value(parameter, float(record.central_value)),
                         _parameter_value(parameter, float(record.high_value)),
                         _number(float(record.gap_at_low)), _number(float(record.gap)),
                         _number(float(record.gap_at_high)), _number(float(record.swing)),
                         esc(str(record.source).split(" (")[0])])
    parts.append(f"<ul>{''.join(findings)}</ul>")
    from forecast.presentation.labels import SENSITIVITY_HEADERS_ZH, header

    columns = ("rank", "parameter", "low_value", "central_value", "high_value", "gap_at_low",
               "gap", "gap_at_high", "swing", "source")
    headers = [t["service"], t["method"]] + [
        SENSITIVITY_HEADERS_ZH.get(c, header(c, lang)) if lang == "zh" else c for c in columns]
    parts.append(_table([esc(h) for h in headers], rows,
                        [False, False, True, False] + [True] * 7 + [False]))
    return "\n".join(parts)


def assumptions_html(files: RunFiles, lang: str = "zh") -> str:
    """Every assumption with its provenance; unsourced ones labelled and shaded."""
    t = TEXT[lang]
    table = files.table("assumptions")
    unsourced = table["label"].astype(str) != "sourced"
    intro = t["assumption_intro"].format(n=len(table), m=int(unsourced.sum()))
    headers = [t["scenario"], t["component"], t["assumption"], t["detail"], t["source_col"],
               t["confidence"], t["label"]]
    rows, classes = [], []
    shown = assumptions_in(table, lang, files.notes_zh)
    for row, no_source in zip(shown.itertuples(), unsourced, strict=True):
        badge = (f'<span class="badge unsourced">{esc(t["label_unsourced"])}</span>' if no_source
                 else f'<span class="badge sourced">{esc(t["label_sourced"])}</span>')
        scenario = getattr(row, "scenario", "all")
        scenario = t["all_scenarios"] if str(scenario) == "all" else _scenario_name(scenario,
                                                                                    lang)
        component = COMPONENT_TEXT[lang].get(str(row.component), row.component)
        rows.append([esc(scenario), esc(component), esc(row.assumption), esc(row.detail),
                     esc(row.source), esc(row.confidence), badge])
        classes.append("unsourced" if no_source else "")
    wrap = [["", "", "wrap", "wrap", "wrap", "", ""]] * len(rows)
    return f"<p>{esc(intro)}</p>" + _table(
        [esc(h) for h in headers], rows, row_classes=classes, cell_classes=wrap,
        nowrap=[True, lang == "zh", False, False, False, True, True])


def assumptions_in(table: pd.DataFrame, lang: str = "zh",
                   notes_zh: dict[str, str] | None = None, *,
                   keep_untranslated: bool = False) -> pd.DataFrame:
    """``assumptions.csv`` with its text columns (assumption, detail, source, confidence) in
    ``lang``: the tool's phrases and the config's notes (``notes_zh``) in Chinese, a shipped
    demand parameter with its Chinese unit and source (data/care_parameters_zh.csv). A text
    left with an English sentence reads :data:`forecast.presentation.labels.UNTRANSLATED` (the
    report), or
    as written with ``keep_untranslated`` (the workbook keeps its data). The report's table
    and the Chinese workbook's ``assumptions`` sheet."""
    from forecast.presentation.labels import UNTRANSLATED

    out = table.copy()
    columns = [c for c in ("assumption", "detail", "source", "confidence") if c in out]
    for column in columns:
        out[column] = out[column].astype(object)
    parameters_zh = _care_parameters_zh() if lang == "zh" else {}
    for index, row in table.iterrows():
        texts = {}
        for column in columns:
            text = translate(row[column], lang, notes_zh)
            if column == "detail":
                text = text.replace(" (range nan–nan)", "")
            if keep_untranslated and text == UNTRANSLATED:
                text = str(row[column])
            texts[column] = text
        parameter = (parameters_zh.get(str(row.get("assumption")))
                     if str(row.get("component")) == "demand parameter" else None)
        if parameter is not None:  # a shipped demand parameter: its Chinese unit and source
            texts.update(assumption=str(row["assumption"]), source=parameter["source_zh"],
                         detail=_parameter_detail_zh(parameter))
        for column, text in texts.items():
            out.at[index, column] = text
    return out


def _care_parameters_zh() -> dict[str, dict]:
    """Shipped demand parameters with their Chinese unit and source (data/care_parameters.csv
    joined with data/care_parameters_zh.csv), by key."""
    from forecast.care.demand import load_care_parameters
    from forecast.paths import data_dir

    parameters = load_care_parameters()
    chinese = pd.read_csv(data_dir() / "care_parameters_zh.csv", encoding="utf-8")
    joined = parameters.merge(chinese, on="key", how="inner")
    return {str(r["key"]): r for r in joined.to_dict("records")}


def _parameter_detail_zh(parameter: dict) -> str:
    """``35 每千名60岁及以上老人床位数（范围 30–40）``."""
    def number(value) -> str:
        return f"{float(value):g}"

    text = f"{number(parameter['value'])} {parameter['unit_zh']}"
    if not _is_missing(parameter.get("low")) and not _is_missing(parameter.get("high")):
        text += TEXT["zh"]["parameter_range"].format(low=number(parameter["low"]),
                                                     high=number(parameter["high"]))
    return text


def _parameter(files: RunFiles, key: str, fallback: str = "?") -> str:
    """A demand parameter's value as the main scenario ran with it (its specification in the
    manifest, :func:`forecast.pipeline.spec.scenario_records`)."""
    record = _main_record(files)
    if record is None:
        return fallback
    for parameters in (record.elderly, record.childcare):
        if key in parameters:
            return str(parameters[key])
    return fallback


def _shipped_value(key: str) -> float:
    """A shipped care parameter (data/care_parameters.csv)."""
    from forecast.care.demand import load_care_parameters

    table = load_care_parameters()
    return float(table.set_index("key").loc[key, "value"])


def _main_record(files: RunFiles):
    """The main scenario's :class:`forecast.pipeline.spec.ScenarioRecord` (None for an older
    run)."""
    from forecast.pipeline.spec import scenario_records

    return scenario_records(files.manifest).get(_main_scenario(files))


def _scenario_rates(files: RunFiles, lang: str) -> dict[str, str]:
    """The methods section's fertility and mortality values of the main scenario: the census
    defaults, or the scenario's own TFR/e0 and changes where it sets them."""
    t = TEXT[lang]
    provenance = files.manifest.get("provenance", {})
    values = {"tfr": t["methods_tfr_base"].format(
                  tfr=provenance.get("fertility", {}).get("tfr_base", "?")),
              "e0_male": provenance.get("mortality", {}).get("e0_base_male", "?"),
              "e0_female": provenance.get("mortality", {}).get("e0_base_female", "?"),
              "fertility_changes": "", "mortality_changes": ""}
    record = _main_record(files)
    if record is None:
        return values
    name = _scenario_name(record.name, lang)
    sep = punctuation(lang)["semicolon"]
    for component in ("fertility", "mortality"):
        changes = [translate(c.change, lang) for c in record.changes
                   if c.component == component]
        if changes:
            values[f"{component}_changes"] = sep + t["methods_scenario_change"].format(
                scenario=name, change=sep.join(changes))
    if "fertility" in record.components_changed() and record.tfr:
        values["tfr"] = t["methods_tfr_scenario"].format(
            scenario=name, first=f"{record.tfr[0]:g}", first_year=record.years[0],
            last=f"{record.tfr[-1]:g}", last_year=record.years[-1])
    if "mortality" in record.components_changed() and record.e0_male:
        values["e0_male"], values["e0_female"] = record.e0_male[0], record.e0_female[0]
    return values


def _migration_path_text(provenance: dict, lang: str) -> str:
    """The default migration path (method and factors for 2035 and 2050), or ''."""
    record = provenance.get("migration", {})
    if not record.get("path_method"):
        return ""
    factors = {int(y): f for y, f in record.get("path_factor", {}).items()}
    shown = ", ".join(TEXT[lang]["migration_factor"].format(year=y, factor=factors[y - 1])
                      for y in (2035, 2050) if y - 1 in factors)
    mark = punctuation(lang)
    return (mark["semicolon"] + translate(record["path_method"], lang)
            + mark["parenthesis"].format(shown))


def methods_html(files: RunFiles, lang: str = "zh") -> str:
    """Engine, life tables, default assumptions and demand formulas with parameter values."""
    provenance = files.manifest.get("provenance", {})

    def part(name: str, key: str = "method") -> str:
        record = provenance.get(name, {})
        text = translate(record.get(key, ""), lang)
        source = translate(record.get("source"), lang)
        if not source or key != "method":
            return text
        return text + punctuation(lang)["parenthesis"].format(source)

    residual = files.manifest.get("projection", {}).get("max_balance_residual")
    rates = _scenario_rates(files, lang)
    values = {
        "residual": f"{residual:.1e}" if isinstance(residual, (int, float)) else "?",
        "base_population": part("base_population"),
        "mortality": part("mortality") + rates["mortality_changes"],
        "e0_male": rates["e0_male"],
        "e0_female": rates["e0_female"],
        "fertility": part("fertility") + rates["fertility_changes"],
        "tfr": rates["tfr"],
        "srb": provenance.get("srb", {}).get("value", "?"),
        "migration": part("migration") + _migration_path_text(provenance, lang),
        "migrants": _number(float(provenance.get("migration", {}).get("annual_net_migrants",
                                                                      float("nan")))),
        "norm": _parameter(files, "norm_per_1000"),
        "u_severe": _parameter(files, "u_severe"),
        "u_moderate": _parameter(files, "u_moderate"),
        "occupancy": _parameter(files, "target_occupancy"),
        "trend": _parameter(files, "prevalence_trend"),
        "rule_9073": _parameter(files, "rule_9073_share"),
        "nursing": _parameter(files, "nursing_share"),
        "childcare_norm": _parameter(files, "norm_per_1000_population"),
        "utilisation": _parameter(files, "target_utilisation"),
        "demand_share": _parameter(files, "demand_share"),
        "observed_occupancy": _parameter(files, "observed_occupancy"),
        "enrolment_2035": _percent(_shipped_value("childcare_enrolment_policy_2035"), 0),
    }
    text = METHODS_HTML[lang]
    if lang == "zh":  # a line break between Chinese characters would show as a space
        text = re.sub(r"\n(?!<)", "", text)
    return text.format(**{k: esc(v) for k, v in values.items()})


# ---------------------------------------------------------------------------------------------
# The font
# ---------------------------------------------------------------------------------------------
def font_subset(text: str) -> tuple[bytes, str]:
    """The charts' CJK font cut down to the characters of ``text``: (font bytes, flavor).

    WOFF2 when ``brotli`` is installed, else WOFF. Layout features are kept (so punctuation
    and Latin spacing stay right); hinting is dropped (the font is CFF-based).
    """
    from importlib.metadata import version

    from forecast.cache import cache_key, cached_bytes
    from forecast.presentation.fonts import cjk_font_path

    try:
        import brotli  # noqa: F401

        flavor = "woff2"
    except ImportError:  # pragma: no cover - brotli is a dependency
        flavor = "woff"
    characters = "".join(sorted(set(text) | set(" 0123456789")))
    font_path = cjk_font_path()
    stat = font_path.stat()
    # The subset depends only on the font file, the characters and fontTools: cached on disk
    # (forecast.cache), so a report costs no subsetting after the first run with its text.
    key = cache_key("font-subset", str(font_path), stat.st_size, stat.st_mtime_ns,
                    version("fonttools"), flavor, SUBSET_OPTIONS, characters)
    data = cached_bytes("font-subset", key,
                        lambda: _subset_font(font_path, characters, flavor))
    return data, flavor


#: The subsetting options of :func:`_subset_font`, part of the cache key.
SUBSET_OPTIONS = "layout_features=*; hinting=False; desubroutinize; notdef_outline; " \
                 "name_IDs=0-6,13,14"


def _subset_font(font_path, characters: str, flavor: str) -> bytes:
    """The uncached subsetting behind :func:`font_subset`."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = flavor
    options.layout_features = ["*"]
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and licence
    font = TTFont(str(font_path), lazy=True, recalcTimestamp=False)  # same page twice
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = flavor
    font.save(buffer)
    return buffer.getvalue()


def _visible_text(page: str) -> str:
    """The characters a browser may draw with the page font: text outside tags and SVGs,
    with character references resolved."""
    without_svg = re.sub(r"<svg\b.*?</svg>", "", page, flags=re.S)
    without_style = re.sub(r"<style\b.*?</style>", "", without_svg, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", without_style)
    return html.unescape(text)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def build_report(directory: str | Path, lang: str = "zh",
                 pending_charts: Sequence[str] | None = None) -> str:
    """The report of the run in ``directory`` as one self-contained HTML string
    (``pending_charts``: with a placeholder for each of these charts, see
    :func:`start_report`)."""
    _check_language(lang)
    return _report_page(read_run_files(directory, pending_charts), lang)


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ReportError(f"unknown report language {lang!r}", field="--lang",
                          fix="use 'zh' or 'en'")


def _report_page(files: RunFiles, lang: str) -> str:
    """The page of :func:`build_report` from the run's files."""
    t = TEXT[lang]
    manifest = files.manifest
    jurisdiction = manifest["jurisdiction"]
    document = manifest["source_document"]
    projection = manifest["projection"]
    name = (jurisdiction.get("name") if lang == "zh"
            else jurisdiction.get("name_en") or jurisdiction.get("name"))
    title = t["title"].format(name=name)
    code = jurisdiction.get("code")
    number = document.get("document_number")
    planned = bool(document.get("title"))  # {} when the config names no plan document
    doc_line = t["doc_line_no_plan"] if not planned else t["doc_line"].format(
        title=document.get("title", ""),
        number=punctuation(lang)["parenthesis_tight"].format(number) if number else "",
        issuer=document.get("issuer", ""), issued=document.get("issued", ""))
    scenarios = punctuation(lang)["list"].join
    run_line = t["run_line"].format(
        base=projection.get("base_year"), end=projection.get("end_year"),
        scenarios=scenarios(_scenario_name(s, lang) for s in manifest.get("scenarios", [])),
        version=manifest.get("tool", {}).get("version", ""))
    sections: list[tuple[str, str, str]] = [("summary", t["summary"],
                                              summary_html(files, lang))]
    findings = "".join(f"<li>{s}</li>" for s in key_findings(files, lang))
    sections.append(("findings", t["findings"], f'<ul class="findings">{findings}</ul>'))
    sections.append(("gaps", t["gaps"], gap_table_html(files, lang)))
    kinds = gap_kinds_html(files, lang)
    if kinds is not None:
        from forecast.presentation.labels import TERMINAL_TEXT

        sections.append(("gap_kinds", TERMINAL_TEXT[lang]["gap_kinds_section"], kinds))
    counties = counties_html(files, lang)
    if counties is not None:
        from forecast.presentation.labels import COUNTY_TEXT

        sections.append(("counties", COUNTY_TEXT[lang]["section"], counties))
    planning = planning_html(files, lang)
    if planning is not None:
        from forecast.presentation.labels import PLANNING_TEXT

        sections.append(("planning", PLANNING_TEXT[lang]["section"], planning))
    sections.append(("charts", t["charts"], charts_html(files, lang)))
    sections.append(("expectations", t["expectations"], expectations_html(files, lang)))
    comparison = scenarios_html(files, lang)
    if comparison is not None:
        sections.append(("scenarios", t["scenarios"], comparison))
    sections.append(("uncertainty", t["uncertainty"], uncertainty_html(files, lang)))
    sensitivity = sensitivity_html(files, lang)
    if sensitivity is not None:
        from forecast.presentation.labels import SENSITIVITY_TEXT

        sections.append(("sensitivity", SENSITIVITY_TEXT[lang]["section"], sensitivity))
    sections.append(("assumptions", t["assumptions"], assumptions_html(files, lang)))
    sections.append(("methods", t["methods"], methods_html(files, lang)))
    sections.append(("files", t["files"], f'<p class="note">{esc(t["file_list"])}</p>'))
    toc = "".join(f'<li><a href="#{key}">{esc(heading)}</a></li>'
                  for key, heading, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{esc(heading)}</h2>\n{content}</section>'
                     for key, heading, content in sections)
    subtitle = (t["subtitle"].format(document=document.get("title", "")) if planned
                else t["subtitle_no_plan"])
    header = (f"<header><h1>{esc(title)}</h1>"
              f'<p class="subtitle">{esc(subtitle)}</p>'
              f'<p class="meta">{esc(jurisdiction.get("name", ""))}'
              f'{" · " + esc(jurisdiction.get("name_en")) if jurisdiction.get("name_en") else ""}'
              f'{" · " + esc(code) if code else ""}</p>'
              f'<p class="meta">{esc(doc_line)}</p><p class="meta">{esc(run_line)}</p>'
              f"</header>")
    nav = f'<nav><h2>{esc(t["toc"])}</h2><ol>{toc}</ol></nav>'
    page_body = f"<body>\n{header}\n{nav}\n{body}\n</body>"
    font, flavor = font_subset(_visible_text(page_body + esc(title)))
    css = CSS % {"family": FONT_FAMILY, "mime": f"font/{flavor}",
                 "data": base64.b64encode(font).decode("ascii"), "format": flavor}
    return (f'<!DOCTYPE html>\n<html lang="{t["html_lang"]}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n{page_body}\n</html>\n")


@dataclass(frozen=True)
class PendingReport:
    """A report built while its charts are still being drawn (:func:`start_report`)."""

    directory: Path
    lang: str
    page: str  # with a placeholder per chart
    stems: tuple[str, ...]  # the charts, in the report's order
    titles: tuple[str, ...]  # their captions' titles (a PNG's alt text)


def start_report(directory: str | Path, lang: str, chart_stems: Sequence[str]
                 ) -> PendingReport:
    """The report of the run in ``directory`` (its tables and manifest written) before the
    charts ``chart_stems`` are drawn: everything but the charts themselves, which
    :func:`finish_report` puts in once they are. A run builds the page while other processes
    draw the charts; the file is the one :func:`write_report` writes afterwards."""
    directory = Path(directory)
    _check_language(lang)
    files = read_run_files(directory, pending_charts=chart_stems)
    page = _report_page(files, lang)
    stems = tuple(stem for stem, _, _ in files.charts)
    titles = tuple(_chart_caption(stem, files, lang)[0] for stem in stems)
    return PendingReport(directory, lang, page, stems, titles)


def finish_report(pending: PendingReport) -> Path:
    """Put the charts, now drawn, into ``pending``'s page and write ``report.html`` (built
    afresh by :func:`write_report` if the charts are not the ones the page was built for)."""
    charts = _read_charts(pending.directory / "charts")
    if tuple(stem for stem, _, _ in charts) != pending.stems:
        return write_report(pending.directory, pending.lang)
    bodies = {_chart_placeholder(number): _chart_body(number, kind, content, title)
              for number, ((_, kind, content), title)
              in enumerate(zip(charts, pending.titles, strict=True), start=1)}
    page = re.sub(r'<svg data-forecast-chart="\d+"></svg>',
                  lambda match: bodies[match.group(0)], pending.page)
    return _write_page(pending.directory, page)


def write_report(directory: str | Path, lang: str = "zh") -> Path:
    """Build the report from the run in ``directory`` and write ``directory/report.html``.

    The file is written under a temporary name and renamed, so a reader never sees half a page.
    """
    directory = Path(directory)
    return _write_page(directory, build_report(directory, lang))


def _write_page(directory: Path, page: str) -> Path:
    target = directory / REPORT_FILE
    partial = directory / f".{REPORT_FILE}.partial"
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ReportError(f"cannot write the report ({exc.strerror})", path=target,
                          fix="check the directory's permissions") from None
    return target


# ---------------------------------------------------------------------------------------------
# `forecast report`
# ---------------------------------------------------------------------------------------------
def _report_command():
    import click

    @click.command("report")
    @click.argument("output_dir", type=click.Path(path_type=Path))
    @click.option("--lang", type=click.Choice(list(LANGUAGES)), default="zh", show_default=True,
                  help="Language of the report text (charts keep the run's language).")
    def report(output_dir: Path, lang: str) -> None:
        """Rebuild report.html from the files of an existing run in OUTPUT_DIR (no recompute)."""
        from forecast.presentation.outputs import is_earlier_output

        if output_dir.is_dir() and not is_earlier_output(output_dir):
            raise ReportError("is not the output of a `forecast run` (no manifest.json written "
                              "by forecast)", path=output_dir,
                              fix="give the --out directory of a `forecast run`")
        try:
            path = write_report(output_dir, lang)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # a run's files edited by hand into a combination the report cannot read
            raise ReportError(f"the run's files do not fit together ({exc.__class__.__name__}: "
                              f"{exc})", path=output_dir,
                              fix="rerun `forecast run` to write them again") from None
        click.echo(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KB)")

    return report


report_command = _report_command()
