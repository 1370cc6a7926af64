"""What the explorer page shows for a view: key findings (the report's own sentences), a gap
table, and server-rendered SVG charts of demand, supply and gaps.

The SVG is drawn here (plain strings, no JavaScript chart library) so the page needs no file
from outside the package; its text uses the page's font (the charts' Noto Sans CJK SC subset,
served by the app), so Chinese renders without a system font.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.pipeline.run import RunResult
from forecast.presentation import report
from forecast.presentation.charts import (
    METHOD_STYLE,
    PALETTE,
    SHORTFALL_COLOUR,
    SUPPLY_COLOUR,
    TARGET_COLOUR,
)
from forecast.presentation.labels import EXPLORE_TEXT as UI_TEXT
from forecast.presentation.labels import label, method_label, target_label, unit_label
from forecast.vocabulary import METHODS, SERVICES

from .session import tfr_by_year

esc = report.esc



def run_files(result: RunResult) -> report.RunFiles:
    """A run's tables as the report reads them, without writing them to disk."""
    tables = {"summary": result.summary, "gaps": result.gaps,
              "first_shortfall": result.first_shortfall, "expectations": result.expectations,
              "targets": result.targets, "supply": result.supply,
              "assumptions": result.assumptions, "demand": result.demand}
    plain = {}
    for name, frame in tables.items():
        frame = frame.copy()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(str)
        plain[name] = frame
    return report.RunFiles(directory=Path("."), manifest=result.manifest, tables=plain)


def findings_html(result: RunResult, lang: str) -> str:
    """The report's key findings for the view (the same sentences report.html gives)."""
    items = "".join(f"<li>{s}</li>" for s in report.key_findings(run_files(result), lang))
    return f'<ul class="findings">{items}</ul>'


def _service_order(frame: pd.DataFrame) -> list[str]:
    present = set(frame["service"].astype(str))
    return [s for s in SERVICES if s in present]


def _methods(frame: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(frame["method"].astype(str)))
    return [m for m in METHODS if m in present] + \
        [m for m in present if m not in METHODS]


def gap_table_html(result: RunResult, name: str, lang: str) -> str:
    """Gap in the key years and first shortfall year, by service and method; each gap cell
    carries ``data-service``, ``data-method``, ``data-year`` and ``data-gap`` (unrounded)."""
    t = UI_TEXT[lang]
    gaps = result.gaps[result.gaps.scenario.astype(str) == name]
    firsts = result.first_shortfall[result.first_shortfall.scenario.astype(str) == name]
    base, end = int(gaps.year.min()), int(gaps.year.max())
    years = report._key_years(gaps.year.unique(), base, end)
    head = "".join(f"<th>{esc(h)}</th>" for h in
                   [t["service"], t["method"], *[t["gap_col"].format(year=y) for y in years],
                    t["first_short_col"]])
    table = _lines(gaps)
    body = []
    for service in _service_order(gaps):
        methods = [m for (s, m) in table if s == service]
        line = table[(service, methods[0])]
        supply = dict(zip(line["year"].astype(int), line["supply"], strict=True))
        cells = "".join(
            f'<td class="num">{esc(t["not_stated"]) if report._is_missing(supply.get(y)) else report._number(supply.get(y))}</td>'  # noqa: E501
            for y in years)
        body.append(f'<tr class="supply"><th scope="row">{esc(label(service, lang))}</th>'
                    f'<td>{esc(t["supply_row"])}</td>{cells}<td></td></tr>')
        for method in methods:
            line = table[(service, method)]
            by_year = dict(zip(line["year"].astype(int), line["gap"], strict=True))
            cells = []
            for year in years:
                gap = float(by_year.get(year, math.nan))
                status = "short" if gap < 0 else "met" if gap >= 0 else ""
                text = "–" if math.isnan(gap) else report._number(gap)
                cells.append(f'<td class="num gap {status}" data-service="{service}" '
                             f'data-method="{method}" data-year="{year}" '
                             f'data-gap="{"" if math.isnan(gap) else repr(gap)}">{text}</td>')
            first = firsts[(firsts.service.astype(str) == service)
                           & (firsts.method.astype(str) == method)]
            if first.empty:
                first_text, first_class = "", ""
            elif first.outcome.iloc[0] == "short":
                first_text, first_class = str(int(first.first_shortfall_year.iloc[0])), "short"
            else:
                first_text = label(str(first.outcome.iloc[0]), lang)
                first_class = ""
            body.append(f'<tr><td></td><td>{esc(method_label(method, service, lang))}</td>'
                        f'{"".join(cells)}<td class="first {first_class}" '
                        f'data-service="{service}" data-method="{method}">'
                        f'{esc(first_text)}</td></tr>')
    return (f'<p class="note">{esc(t["gap_intro"])}</p><div class="table-wrap"><table>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


# ------------------------------------------------------------------------------ SVG charts
@dataclass
class Series:
    """One line: values by year; ``dash`` an SVG dash array ('' = solid)."""

    name: str
    years: np.ndarray
    values: np.ndarray
    colour: str
    dash: str = ""
    width: float = 2.0
    legend: bool = True


WIDTH, HEIGHT = 520, 300
LEFT, RIGHT, TOP, BOTTOM = 66, 22, 38, 30


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 × 10^k apart)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high - low <= 0:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _tick_text(value: float, step: float) -> str:
    decimals = 0 if step >= 1 else min(3, max(0, -math.floor(math.log10(step))))
    if step < 1 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-9:
        decimals += 1
    return f"{value:,.{decimals}f}".replace("-", "−")


def line_chart(title: str, series: Sequence[Series], unit_text: str, *,
               zero_band: bool = False, points: Sequence[tuple[int, float, str]] = (),
               note: str = "", chart_id: str = "") -> str:
    """An SVG line chart (year axis), scaled by its viewBox; ``zero_band`` shades the area
    below zero (shortfall); ``points`` are (year, value, label) markers (plan targets)."""
    drawn = [s for s in series if np.isfinite(s.values).any()]
    all_years = np.concatenate([s.years for s in series]) if series else np.array([0, 1])
    x0, x1 = float(all_years.min()), float(all_years.max())
    values = [v for s in drawn for v in s.values[np.isfinite(s.values)]]
    values += [p[1] for p in points]
    low = min([0.0, *values]) if values else 0.0
    high = max([0.0, *values]) if values else 1.0
    ticks = nice_ticks(low, high)
    y0, y1 = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(year: float) -> float:
        return LEFT + (year - x0) / ((x1 - x0) or 1) * plot_w

    def py(value: float) -> float:
        return TOP + (y1 - value) / ((y1 - y0) or 1) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'class="chart" role="img" aria-label="{esc(title)}"'
             f'{f" id={chr(34)}{chart_id}{chr(34)}" if chart_id else ""}>',
             f'<text x="8" y="17" class="title">{esc(title)}</text>',
             f'<text x="{WIDTH - RIGHT}" y="33" class="unit" text-anchor="end">'
             f'{esc(unit_text)}</text>']
    if zero_band and y0 < 0:
        parts.append(f'<rect x="{LEFT}" y="{py(0):.1f}" width="{plot_w}" '
                     f'height="{py(y0) - py(0):.1f}" fill="{SHORTFALL_COLOUR}" '
                     'fill-opacity="0.08"/>')
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for tick in ticks:
        y = py(tick)
        cls = "zero" if tick == 0 else "grid"
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'class="{cls}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                     f'{_tick_text(tick, step)}</text>')
    first_year, last_year = int(x0), int(x1)
    every = 5 if last_year - first_year > 12 else 2 if last_year - first_year > 5 else 1
    labelled = [y for y in range(first_year, last_year + 1) if y % every == 0]
    for end_year in (first_year, last_year):  # the ends, unless a round year is too close
        if all(abs(end_year - y) >= every / 2 for y in labelled if y != end_year):
            labelled.append(end_year)
    for year in sorted(set(labelled)):
        x = px(year)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + plot_h}" '
                     f'y2="{TOP + plot_h + 4}" class="axis"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
                     f'class="tick">{year}</text>')
    for s in drawn:
        ok = np.isfinite(s.values)
        segments, current = [], []
        for year, value, good in zip(s.years, s.values, ok, strict=True):
            if good:
                current.append(f"{px(year):.1f},{py(value):.1f}")
            elif current:
                segments.append(current)
                current = []
        if current:
            segments.append(current)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        for segment in segments:
            parts.append(f'<polyline points="{" ".join(segment)}" fill="none" '
                         f'stroke="{s.colour}" stroke-width="{s.width}"{dash} '
                         f'stroke-linejoin="round"><title>{esc(s.name)}</title></polyline>')
    for year, value, text in points:
        x, y = px(year), py(value)
        parts.append(f'<path d="M{x:.1f},{y - 6:.1f} L{x + 6:.1f},{y:.1f} L{x:.1f},{y + 6:.1f} '
                     f'L{x - 6:.1f},{y:.1f} Z" fill="{TARGET_COLOUR}"><title>{esc(text)}: '
                     f'{report._number(value)}</title></path>')
    if note:
        parts.append(f'<text x="{LEFT + 8}" y="{TOP + 16}" class="note">{esc(note)}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><svg viewBox="0 0 28 10" width="28" height="10"><line x1="0" '
        f'x2="28" y1="5" y2="5" stroke="{s.colour}" stroke-width="{s.width}"'
        f'{f" stroke-dasharray={chr(34)}{s.dash}{chr(34)}" if s.dash else ""}/></svg>'
        f'{esc(s.name)}</span>' for s in series if s.legend)
    if points:
        legend += (f'<span class="key"><svg viewBox="0 0 12 12" width="12" height="12"><path '
                   f'd="M6,0 L12,6 L6,12 L0,6 Z" fill="{TARGET_COLOUR}"/></svg>'
                   f'{esc(points[0][2])}</span>')
    return f'<figure class="chart-box">{"".join(parts)}<figcaption>{legend}</figcaption></figure>'


def _lines(gaps: pd.DataFrame) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """One scenario's gaps as arrays by (service, method), years ascending, methods in the
    usual order."""
    columns = ["year", "demand", "supply", "gap", "plan_target"]
    out: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    frame = gaps.assign(service=gaps.service.astype(str), method=gaps.method.astype(str))
    groups = {key: rows for key, rows in frame.groupby(["service", "method"], sort=False)}
    for service in SERVICES:
        methods = [m for (s, m) in groups if s == service]
        for method in _methods(pd.DataFrame({"method": methods})):
            rows = groups[(service, method)].sort_values("year")
            out[(service, method)] = {c: rows[c].to_numpy(float) for c in columns
                                      if c in rows}
            if "target_origin" in rows:
                out[(service, method)]["target_origin"] = rows["target_origin"].astype(
                    str).to_numpy()
    return out


def service_charts(view: dict, base: dict, service: str, lang: str) -> str:
    """Demand (each method, this scenario solid and the baseline dashed) against planned
    supply and the plan's targets; then the gap by method. ``view`` and ``base`` are
    :func:`_lines` of the scenario and of the baseline."""
    t = UI_TEXT[lang]
    methods = [m for (s, m) in view if s == service]
    unit = "places" if service == "childcare_places" else "beds"
    unit_text = t["unit"].format(unit=unit_label(unit, lang))
    series, gap_series = [], []
    for method in methods:
        colour, _ = METHOD_STYLE.get(method, (PALETTE["grey"], "-"))
        name = method_label(method, service, lang)
        line, bline = view[(service, method)], base.get((service, method))
        series.append(Series(name, line["year"], line["demand"], colour))
        gap_series.append(Series(name, line["year"], line["gap"], colour))
        if bline is not None:
            series.append(Series(name, bline["year"], bline["demand"], colour, dash="5 4",
                                 width=1.2, legend=False))
            gap_series.append(Series(name, bline["year"], bline["gap"], colour, dash="5 4",
                                     width=1.2, legend=False))
    first = view[(service, methods[0])]
    has_supply = bool(np.isfinite(first["supply"]).any())
    if has_supply:
        series.append(Series(label("supply", lang), first["year"], first["supply"],
                             SUPPLY_COLOUR, width=2.6))
        bfirst = base.get((service, methods[0]))
        if bfirst is not None and not np.allclose(np.nan_to_num(bfirst["supply"], nan=-1),
                                                  np.nan_to_num(first["supply"], nan=-1)):
            series.append(Series(label("supply", lang), bfirst["year"], bfirst["supply"],
                                 SUPPLY_COLOUR, dash="5 4", width=1.2, legend=False))
    targets = first.get("plan_target", np.full(len(first["year"]), np.nan))
    origins = first.get("target_origin", ["plan"] * len(first["year"]))
    points = [(int(y), float(v), target_label(str(o), lang))
              for y, v, o in zip(first["year"], targets, origins, strict=True)
              if np.isfinite(v)]
    service_name = label(service, lang)
    top = line_chart(t["demand_supply"].format(service=service_name), series, unit_text,
                     points=points, note=t["baseline_dashed"], chart_id=f"chart-{service}")
    if not has_supply:
        return top + f'<p class="note">{esc(t["no_supply"])}</p>'
    bottom = line_chart(t["gap_chart"].format(service=service_name), gap_series, unit_text,
                        zero_band=True, chart_id=f"gap-{service}")
    return top + bottom


def _by_year(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    frame = frame.sort_values("year")
    return frame.year.to_numpy(float), frame[column].to_numpy(float)


def population_chart(result: RunResult, baseline: RunResult, name: str, lang: str) -> str:
    t = UI_TEXT[lang]
    summary = result.summary[result.summary.scenario.astype(str) == name]
    base = baseline.summary[baseline.summary.scenario.astype(str) == "baseline"]
    series = []
    for column, colour in (("pop_60plus", PALETTE["blue"]), ("pop_80plus", PALETTE["purple"]),
                           ("pop_0_2", PALETTE["orange"])):
        series.append(Series(label(column, lang), *_by_year(summary, column), colour))
        series.append(Series(label(column, lang), *_by_year(base, column), colour,
                             dash="5 4", width=1.2, legend=False))
    return line_chart(t["population_chart"], series,
                      t["unit"].format(unit=unit_label("persons", lang)),
                      note=t["baseline_dashed"], chart_id="chart-population")


def tfr_chart(result: RunResult, baseline: RunResult, name: str, lang: str) -> str:
    t = UI_TEXT[lang]
    years, tfr = tfr_by_year(result, name)
    byears, btfr = tfr_by_year(baseline, "baseline")
    series = [Series(t["this_scenario"], years.astype(float), tfr, PALETTE["vermillion"]),
              Series(label("baseline", lang), byears.astype(float), btfr, PALETTE["grey"],
                     dash="5 4", width=1.2)]
    return line_chart(t["tfr_chart"], series, t["unit"].format(unit=unit_label("per_woman",
                                                                                lang)),
                      chart_id="chart-tfr")


def charts_html(result: RunResult, baseline: RunResult, name: str, lang: str) -> str:
    view = _lines(result.gaps[result.gaps.scenario.astype(str) == name])
    base = _lines(baseline.gaps[baseline.gaps.scenario.astype(str) == "baseline"])
    services = list(dict.fromkeys(s for s, _ in view))
    blocks = [service_charts(view, base, s, lang) for s in services]
    blocks.append(population_chart(result, baseline, name, lang))
    blocks.append(tfr_chart(result, baseline, name, lang))
    return "".join(f'<div class="chart-cell">{b}</div>' for b in blocks)


def view_payload(result: RunResult, baseline: RunResult, name: str, lang: str) -> dict:
    """The page fragments of one view."""
    return {"findings": findings_html(result, lang),
            "gaps": gap_table_html(result, name, lang),
            "charts": charts_html(result, baseline, name, lang)}
