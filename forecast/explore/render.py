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

from .. import report
from ..charts import (
    METHOD_STYLE,
    PALETTE,
    SHORTFALL_COLOUR,
    SUPPLY_COLOUR,
    TARGET_COLOUR,
    label,
    method_label,
    unit_label,
)
from ..run import RunResult
from .session import SERVICES, tfr_by_year

esc = report.esc

UI_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{name}养老床位与托位情景探索",
        "subtitle": "移动假设，需求、供给与缺口即时更新；对照《{document}》",
        "lang_switch": "English",
        "scenario_name": "情景名称",
        "reset": "恢复基准",
        "fertility": "生育", "mortality": "死亡", "migration": "迁移",
        "elderly": "养老床位需求参数", "childcare": "托位需求参数", "supply": "规划新增供给",
        "assumptions.fertility.tfr_shift": "总和生育率增减（孩子数/妇女）",
        "assumptions.fertility.tfr": "总和生育率路径（各年之间线性插值）",
        "assumptions.mortality.improvement": "死亡率改善",
        "assumptions.mortality.e0_shift": "基期预期寿命增减（岁）",
        "assumptions.migration.scale": "净迁移倍数（1 = 2010–2020普查推算值）",
        "demand.elderly.norm_per_1000": "每千名60岁及以上老人床位数（千人指标）",
        "demand.elderly.u_severe": "重度失能老人入住机构比例",
        "demand.elderly.u_moderate": "中度失能老人入住机构比例",
        "demand.elderly.target_occupancy": "目标入住率",
        "demand.elderly.prevalence_trend": "失能率年变化（−0.01 = 每年下降1%）",
        "demand.elderly.nursing_share": "护理型床位占比",
        "demand.childcare.norm_per_1000_population": "每千人口托位数（千人指标）",
        "demand.childcare.demand_rate": "有入托需求的婴幼儿比例",
        "demand.childcare.uptake": "需求转化为入托的比例（路径）",
        "demand.childcare.target_utilisation": "托位目标使用率",
        "supply.elderly_beds.additions": "养老床位新增",
        "supply.nursing_beds.additions": "护理型床位新增",
        "supply.childcare_places.additions": "托位新增",
        "choice_wpp": "按联合国WPP 2024中国预期寿命增幅",
        "choice_half": "WPP增幅的一半", "choice_none": "不改善（保持基期水平）",
        "start_year": "起始年", "end_year": "结束年", "amount": "新增数量（合计）",
        "add_row": "增加一项", "remove_row": "删除", "plan_row": "规划文件", "new_row": "新增假设",
        "findings": "主要结论", "gaps": "供需缺口", "charts": "图表",
        "export": "导出", "export_overlay": "下载情景YAML", "export_report": "生成报告",
        "overlay_help": "将下列内容加入配置文件的 scenarios: 下，forecast run "
                        "即可得到完全相同的结果。",
        "report_written": "报告已写入", "open_report": "打开报告",
        "computing": "计算中…", "computed": "计算用时 {ms} 毫秒",
        "error_kept": "该值无效，图表仍显示上一次有效的结果。",
        "gap_intro": "缺口 = 规划供给 − 需求；负数为短缺（红色）。",
        "service": "服务", "method": "测算方法", "gap_col": "{year}年缺口",
        "first_short_col": "首个缺口年份", "supply_row": "规划供给", "not_stated": "未给出",
        "never": "无缺口", "unknown": "无法判断",
        "demand_supply": "{service}：需求与规划供给", "gap_chart": "{service}：缺口（供给 − 需求）",
        "this_scenario": "本情景", "baseline_dashed": "虚线为基准方案",
        "tfr_chart": "总和生育率", "population_chart": "重点年龄组人口",
        "unit": "单位：{unit}", "no_supply": "规划未给出供给，无法计算缺口",
        "offline": "本页面不需要联网：脚本、字体与图表均由本机提供。",
    },
    "en": {
        "title": "{name}: elderly-care beds and childcare places, scenario explorer",
        "subtitle": "Move the assumptions; demand, supply and gaps update at once. "
                    "Checked against {document}",
        "lang_switch": "中文",
        "scenario_name": "Scenario name",
        "reset": "Back to baseline",
        "fertility": "Fertility", "mortality": "Mortality", "migration": "Migration",
        "elderly": "Elderly-care bed demand", "childcare": "Childcare place demand",
        "supply": "Planned additions",
        "assumptions.fertility.tfr_shift": "TFR shift (children per woman)",
        "assumptions.fertility.tfr": "TFR path (linear between the years)",
        "assumptions.mortality.improvement": "Mortality improvement",
        "assumptions.mortality.e0_shift": "Base-year life expectancy shift (years)",
        "assumptions.migration.scale": "Net migration × (1 = the 2010–2020 census residual)",
        "demand.elderly.norm_per_1000": "Beds per 1,000 aged 60+ (norm)",
        "demand.elderly.u_severe": "Severely disabled in institutions, share",
        "demand.elderly.u_moderate": "Moderately disabled in institutions, share",
        "demand.elderly.target_occupancy": "Target occupancy",
        "demand.elderly.prevalence_trend": "Disability prevalence change a year (−0.01 = −1 %)",
        "demand.elderly.nursing_share": "Nursing-type share of beds",
        "demand.childcare.norm_per_1000_population": "Places per 1,000 population (norm)",
        "demand.childcare.demand_rate": "Under-3s whose families want childcare, share",
        "demand.childcare.uptake": "Share of that demand enrolled (path)",
        "demand.childcare.target_utilisation": "Target utilisation of places",
        "supply.elderly_beds.additions": "Elderly-care beds added",
        "supply.nursing_beds.additions": "Nursing-type beds added",
        "supply.childcare_places.additions": "Childcare places added",
        "choice_wpp": "WPP 2024 China life-expectancy gains",
        "choice_half": "half the WPP gains", "choice_none": "none (base-year rates held)",
        "start_year": "from", "end_year": "to", "amount": "amount (total)",
        "add_row": "Add", "remove_row": "Remove", "plan_row": "plan document",
        "new_row": "scenario assumption",
        "findings": "Key findings", "gaps": "Gaps", "charts": "Charts",
        "export": "Export", "export_overlay": "Download scenario YAML",
        "export_report": "Write the report",
        "overlay_help": "Add this under the config's scenarios:, and forecast run gives exactly "
                        "these results.",
        "report_written": "Report written to", "open_report": "Open the report",
        "computing": "computing…", "computed": "computed in {ms} ms",
        "error_kept": "That value is not valid; the charts still show the last valid result.",
        "gap_intro": "Gap = planned supply − demand; negative = shortfall (red).",
        "service": "Service", "method": "Method", "gap_col": "Gap {year}",
        "first_short_col": "First shortfall", "supply_row": "Planned supply",
        "not_stated": "not stated", "never": "none", "unknown": "unknown",
        "demand_supply": "{service}: demand and planned supply",
        "gap_chart": "{service}: gap (supply − demand)",
        "this_scenario": "this scenario", "baseline_dashed": "dashed: baseline",
        "tfr_chart": "Total fertility rate", "population_chart": "Key age groups",
        "unit": "unit: {unit}", "no_supply": "The plan states no supply: no gap",
        "offline": "This page needs no network: scripts, font and charts are served locally.",
    },
}


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
    return [m for m in ("norm", "needs", "rule_9073") if m in present] + \
        [m for m in present if m not in ("norm", "needs", "rule_9073")]


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
                first_text = t.get(str(first.outcome.iloc[0]), str(first.outcome.iloc[0]))
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
    points = [(int(y), float(v), label("target", lang))
              for y, v in zip(first["year"], targets, strict=True) if np.isfinite(v)]
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
