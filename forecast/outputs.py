"""Writing results atomically: everything goes to a temporary sibling directory that replaces
the target only when complete, so a failed run leaves earlier outputs untouched."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ForecastError

if TYPE_CHECKING:
    import pandas as pd


class OutputError(ForecastError):
    """An output directory that cannot be written."""


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target``, on failure it vanishes."""
    target = Path(target).resolve()
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot create the output directory ({exc.strerror})", path=target,
                          fix="choose a writable location with --out") from None
    if target.exists() and not target.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError("exists and is not a directory", path=target,
                          fix="choose another --out path")
    try:
        yield staging
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
        raise OutputError(f"cannot replace the output directory ({exc.strerror})", path=target,
                          fix="check permissions or choose another --out") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------- a run's outputs

#: Column headers in Chinese and English for the Excel workbook (``中文 English``).
HEADERS_ZH = {
    "scenario": "情景", "year": "年份", "sex": "性别", "age": "年龄", "population": "人口",
    "total": "总人口", "births": "出生", "deaths": "死亡", "net_migrants": "净迁移",
    "pop_0_2": "0-2岁", "pop_3_5": "3-5岁", "pop_0_14": "0-14岁", "pop_15_64": "15-64岁",
    "pop_60plus": "60岁及以上", "pop_65plus": "65岁及以上", "pop_80plus": "80岁及以上",
    "share_60plus": "60岁及以上占比", "child_dependency": "少儿抚养比",
    "old_dependency": "老年抚养比", "total_dependency": "总抚养比", "service": "服务",
    "method": "测算方法", "value": "数值", "unit": "单位", "assumptions": "假设",
    "demand": "需求", "supply": "规划供给", "gap": "缺口(供给-需求)", "gap_pct": "缺口%",
    "status": "状态", "demand_per_1000": "每千人需求", "supply_per_1000": "每千人供给",
    "per_1000_of": "每千人口径", "coverage_under3": "托位覆盖率",
    "demand_coverage_under3": "需求覆盖率", "plan_target": "规划目标",
    "plan_target_gap": "目标-需求", "first_shortfall_year": "首个缺口年份", "outcome": "结果",
    "kind": "目标类型", "source": "来源", "driver_year": "基准年份", "count": "数量",
    "per_1000_elderly": "每千老人", "per_1000_population": "每千人口",
    "indicator": "指标", "document_value": "文件数值", "relation": "关系",
    "projected_baseline": "基准情景预测", "difference": "差值", "difference_pct": "差值%",
    "note": "说明", "supply_basis": "供给依据",
    "plan_target_path": "规划目标路径", "component": "组成部分", "assumption": "假设",
    "detail": "细节",
    "confidence": "可信度", "sourced": "有来源", "label": "标注",
}
SHARE_COLUMNS = {"share_60plus", "coverage_under3", "demand_coverage_under3"}
RATE_COLUMNS = {"gap_pct", "demand_per_1000", "supply_per_1000", "per_1000_elderly",
                "per_1000_population", "child_dependency", "old_dependency",
                "total_dependency", "difference_pct"}


def write_excel(tables: dict[str, pd.DataFrame], path: Path, *,
                extra_headers: dict[str, str] | None = None, shares: set[str] | None = None,
                rates: set[str] | None = None) -> None:
    """One sheet per table; header row ``中文 English``, frozen; number formats by column.

    ``extra_headers``, ``shares`` and ``rates`` add Chinese headers, fraction (0.0%) columns and
    per-1,000 (#,##0.0) columns to the built-in ones."""
    names = {**HEADERS_ZH, **(extra_headers or {})}
    share_columns = SHARE_COLUMNS | (shares or set())
    rate_columns = RATE_COLUMNS | (rates or set())
    import pandas as pd
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, frame in tables.items():
            headers = [f"{names[c]} {c}" if c in names else c for c in frame.columns]
            out = frame.copy()
            out.columns = headers
            out.to_excel(writer, sheet_name=sheet[:31], index=False)
            ws = writer.sheets[sheet[:31]]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for index, column in enumerate(frame.columns, start=1):
                letter = get_column_letter(index)
                if column in share_columns:
                    fmt = "0.0%"
                elif column in rate_columns:
                    fmt = "#,##0.0"
                elif column in ("year", "age", "first_shortfall_year", "driver_year"):
                    fmt = "0"
                elif pd.api.types.is_float_dtype(frame[column]):
                    fmt = "#,##0"
                else:
                    fmt = None
                if fmt:
                    for cell in ws[letter][1:]:
                        cell.number_format = fmt
                width = max(10, min(40, len(headers[index - 1]) + 2))
                ws.column_dimensions[letter].width = width


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


def write_run(result, directory: Path, lang: str = "zh") -> list[str]:
    """Write a run's tables, workbook, manifest and charts into ``directory`` (a staging dir).

    Returns the chart file stems written (relative to ``directory``).
    """
    import json

    tables = {
        "summary": result.summary, "population": result.population,
        "demand": result.demand, "gaps": result.gaps, "supply": result.supply,
        "first_shortfall": result.first_shortfall, "targets": result.targets,
        "expectations": result.expectations, "assumptions": result.assumptions,
    }
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is not None:
        tables.update(summary_quantiles=uncertainty.summary_quantiles,
                      demand_quantiles=uncertainty.demand_quantiles,
                      probability_met=uncertainty.probability_met)
    for name, frame in tables.items():
        frame.to_csv(directory / f"{name}.csv", index=False)
    excel = {k: v for k, v in tables.items() if k != "population"}
    excel["population"] = result.population
    write_excel(excel, directory / "results.xlsx")
    charts = write_charts(result, directory / "charts", lang)
    charts += write_trend_and_fan_charts(result, directory / "charts", lang)
    manifest = dict(result.manifest)
    if uncertainty is not None:
        manifest["uncertainty"] = uncertainty.record
    manifest["outputs"] = sorted([f"{name}.csv" for name in tables] + ["results.xlsx"]
                                 + [f"{c}.png" for c in charts] + [f"{c}.svg" for c in charts])
    manifest["assumptions"] = result.assumptions.to_dict(orient="records")
    manifest["language"] = lang
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default),
        encoding="utf-8")
    return charts


def write_charts(result, directory: Path, lang: str = "zh") -> list[str]:
    """The standard charts of a run (baseline scenario) as PNG (200 dpi) and SVG."""
    from . import charts

    directory.mkdir(parents=True, exist_ok=True)
    scenario = "baseline" if "baseline" in result.scenarios else result.scenarios[0]
    base_year = int(result.summary.year.min())
    end_year = int(result.summary.year.max())
    targets = result.targets if len(result.targets) else None
    written = []

    def save(fig, stem):
        charts.save_figure(fig, directory / stem)
        written.append(f"charts/{stem}")

    save(charts.population_pyramid(result.population, base_year, end_year, scenario=scenario,
                                   lang=lang), "pyramid")
    save(charts.elderly_trends(result.summary, scenario=scenario, lang=lang), "elderly_trends")
    save(charts.under3_trend(result.summary, scenario=scenario, lang=lang), "under3_trend")
    plan = result.config.source_document.title  # named in the source line of plan charts
    save(charts.bed_demand_chart(result.gaps, targets, scenario=scenario,
                                 summary=result.summary, lang=lang, plan_document=plan),
         "bed_demand")
    save(charts.bed_demand_chart(result.gaps, targets, service="nursing_beds",
                                 scenario=scenario, summary=result.summary, lang=lang,
                                 plan_document=plan), "nursing_bed_demand")
    save(charts.childcare_demand_chart(result.gaps, targets, scenario=scenario,
                                       summary=result.summary, lang=lang, plan_document=plan),
         "childcare_demand")
    if len(result.scenarios) > 1:
        for indicator in ("pop_60plus", "pop_0_2"):
            frame = result.summary[["scenario", "year", indicator]]
            save(charts.scenario_lines(frame, indicator, lang=lang), f"scenarios_{indicator}")
    return written


def write_trend_and_fan_charts(result, directory: Path, lang: str = "zh") -> list[str]:
    """``charts/tfr_trend`` when a scenario's TFR comes from a trend forecast; fan charts
    (``fan_pop_60plus``, ``fan_pop_0_2``, ``fan_elderly_beds``, ``fan_childcare_places``) for
    the baseline (or first) scenario of a probabilistic run."""
    from . import charts
    from .trends import trend_frame

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    records = [note for name in result.scenarios
               for note in result.manifest.get("scenario_changes", {}).get(name, [])
               if note.get("kind") == "trend forecast" and note.get("indicator") == "tfr"]
    if records:
        record = records[0]
        fig = charts.trend_fit_chart(trend_frame(record), indicator_label="tfr", lang=lang,
                                     source=f"{record['method']}: WPP 2024 China, "
                                            f"{record['fit_window'][0]}–"
                                            f"{record['fit_window'][1]}")
        charts.save_figure(fig, directory / "tfr_trend")
        written.append("charts/tfr_trend")
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is None:
        return written
    scenario = "baseline" if "baseline" in result.scenarios else result.scenarios[0]
    summary = uncertainty.summary_quantiles
    demand = uncertainty.demand_quantiles
    n = uncertainty.record["trajectories"]
    source = (f"{n:,} trajectories, seed {uncertainty.record['seed']}" if lang == "en" else
              f"{n:,}条模拟轨迹，随机种子{uncertainty.record['seed']}")
    panels = [("pop_60plus", summary[(summary.scenario == scenario)
                                     & (summary.indicator == "pop_60plus")], None),
              ("pop_0_2", summary[(summary.scenario == scenario)
                                  & (summary.indicator == "pop_0_2")], None)]
    for service in ("elderly_beds", "childcare_places"):
        rows = demand[(demand.scenario == scenario) & (demand.service == service)
                      & (demand.method == "needs")]
        target = None
        if len(result.targets) and "count" in result.targets.columns:
            own = result.targets[(result.targets.service == service)
                                 & result.targets["count"].notna()]
            if len(own):
                last = own.sort_values(["year", "count"]).iloc[-1]
                target = (int(last["year"]), float(last["count"]))
        panels.append((service, rows, target))
    for indicator, rows, target in panels:
        if rows.empty:
            continue
        fig = charts.fan_chart(rows, indicator, lang=lang, target=target, source=source)
        charts.save_figure(fig, directory / f"fan_{indicator}")
        written.append(f"charts/fan_{indicator}")
    return written

