"""Writing results atomically: everything goes to a temporary sibling directory that replaces
the target only when complete, so a failed run leaves earlier outputs untouched."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
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


def _excel_format(column: str, dtype, share_columns: set[str], rate_columns: set[str]
                  ) -> str | None:
    """The number format of a workbook column."""
    import pandas as pd

    if column in share_columns:
        return "0.0%"
    if column in rate_columns:
        return "#,##0.0"
    if column in ("year", "age", "first_shortfall_year", "driver_year"):
        return "0"
    if pd.api.types.is_float_dtype(dtype):
        return "#,##0"
    return None


def _excel_cells(series) -> list:
    """A column's cells as Python values: None for a missing value (an empty cell)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return [bool(v) for v in series]
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


def write_excel(tables: dict[str, pd.DataFrame], path: Path, *,
                extra_headers: dict[str, str] | None = None, shares: set[str] | None = None,
                rates: set[str] | None = None) -> None:
    """One sheet per table; header row ``中文 English``, bold, wrapped and frozen; number formats
    by column (XlsxWriter, one column written at a time).

    ``extra_headers``, ``shares`` and ``rates`` add Chinese headers, fraction (0.0%) columns and
    per-1,000 (#,##0.0) columns to the built-in ones."""
    import xlsxwriter

    names = {**HEADERS_ZH, **(extra_headers or {})}
    share_columns = SHARE_COLUMNS | (shares or set())
    rate_columns = RATE_COLUMNS | (rates or set())
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                               "strings_to_formulas": False,
                                               "strings_to_urls": False})
    # A fixed creation date: the same tables give the same workbook bytes.
    from datetime import datetime

    workbook.set_properties({"created": datetime(2020, 11, 1)})
    header_format = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats: dict[str, object] = {}
    try:
        for sheet, frame in tables.items():
            ws = workbook.add_worksheet(sheet[:31])
            headers = [f"{names[c]} {c}" if c in names else str(c) for c in frame.columns]
            ws.write_row(0, 0, headers, header_format)
            ws.freeze_panes(1, 0)
            for index, column in enumerate(frame.columns):
                fmt = _excel_format(column, frame[column].dtype, share_columns, rate_columns)
                cell_format = None
                if fmt:
                    cell_format = formats.get(fmt)
                    if cell_format is None:
                        cell_format = formats[fmt] = workbook.add_format({"num_format": fmt})
                width = max(10, min(40, len(headers[index]) + 2))
                ws.set_column(index, index, width, cell_format)
                for row, value in enumerate(_excel_cells(frame[column]), start=1):
                    if value is not None:
                        ws.write(row, index, value)
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


def write_run(result, directory: Path, lang: str = "zh", timer=None) -> list[str]:
    """Write a run's tables, workbook, manifest and charts into ``directory`` (a staging dir).

    ``timer`` (a :class:`forecast.timing.StageTimer`) records the time of each stage; its
    record so far goes into the manifest's ``stage_seconds``. Returns the chart file stems
    written (relative to ``directory``).
    """
    import json

    from .timing import StageTimer

    timer = timer or StageTimer()

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
    with timer.stage("tables"):
        for name, frame in tables.items():
            frame.to_csv(directory / f"{name}.csv", index=False)
    excel = {k: v for k, v in tables.items() if k != "population"}
    excel["population"] = result.population
    # The charts are drawn in other processes while this one writes the workbook.
    with timer.stage("charts_and_workbook"):
        drawing = ChartDrawing(chart_jobs(result, lang) + trend_and_fan_chart_jobs(result, lang),
                               directory / "charts")
        try:
            with timer.stage("workbook"):
                write_excel(excel, directory / "results.xlsx")
            charts = drawing.wait()
        finally:
            drawing.close()
    manifest = dict(result.manifest)
    if uncertainty is not None:
        manifest["uncertainty"] = uncertainty.record
    manifest["outputs"] = sorted([f"{name}.csv" for name in tables] + ["results.xlsx"]
                                 + [f"{c}.png" for c in charts] + [f"{c}.svg" for c in charts])
    manifest["assumptions"] = result.assumptions.to_dict(orient="records")
    manifest["language"] = lang
    manifest["stage_seconds"] = timer.record()
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=_json_default),
        encoding="utf-8")
    return charts


def chart_jobs(result, lang: str = "zh") -> list[ChartJob]:
    """The standard charts of a run (baseline scenario), each as (file stem, drawing)."""
    from . import charts

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
    plan = result.config.source_document.title  # named in the source line of plan charts
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
    return jobs


def write_charts(result, directory: Path, lang: str = "zh") -> list[str]:
    """The standard charts of a run (baseline scenario) as PNG (200 dpi) and SVG."""
    return draw_charts(chart_jobs(result, lang), directory)


def write_trend_and_fan_charts(result, directory: Path, lang: str = "zh") -> list[str]:
    """``charts/tfr_trend`` when a scenario's TFR comes from a trend forecast; fan charts
    (``fan_pop_60plus``, ``fan_pop_0_2``, ``fan_elderly_beds``, ``fan_childcare_places``) for
    the baseline (or first) scenario of a probabilistic run."""
    return draw_charts(trend_and_fan_chart_jobs(result, lang), directory)


def trend_and_fan_chart_jobs(result, lang: str = "zh") -> list[ChartJob]:
    """The jobs of :func:`write_trend_and_fan_charts`."""
    from . import charts
    from .trends import trend_frame

    jobs: list[ChartJob] = []
    records = [note for name in result.scenarios
               for note in result.manifest.get("scenario_changes", {}).get(name, [])
               if note.get("kind") == "trend forecast" and note.get("indicator") == "tfr"]
    if records:
        record = records[0]
        jobs.append(("tfr_trend", lambda: charts.trend_fit_chart(
            trend_frame(record), indicator_label="tfr", lang=lang,
            source=f"{record['method']}: WPP 2024 China, {record['fit_window'][0]}–"
                   f"{record['fit_window'][1]}")))
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is None:
        return jobs
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
        jobs.append((f"fan_{indicator}",
                     lambda rows=rows, indicator=indicator, target=target: charts.fan_chart(
                         rows, indicator, lang=lang, target=target, source=source)))
    return jobs


# ------------------------------------------------------------------- drawing charts in parallel
#: A chart to draw: its file stem under charts/ and a function returning the figure.
ChartJob = tuple[str, "Callable[[], object]"]

#: The jobs a forked drawing process reads (set just before the processes are forked).
_FORKED_JOBS: list[ChartJob] = []


def _draw_job(index: int, directory: str) -> str:
    from .charts import save_figure

    stem, draw = _FORKED_JOBS[index]
    save_figure(draw(), Path(directory) / stem)
    return f"charts/{stem}"


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


class ChartDrawing:
    """Charts being drawn in forked processes (or, with one worker or no ``fork``, drawn here
    when :meth:`wait` is called). The files are the same either way: each chart is drawn
    from the same tables by the same code; only the process differs."""

    def __init__(self, jobs: list[ChartJob], directory: Path, workers: int | None = None):
        import multiprocessing

        self.jobs, self.directory = jobs, directory
        directory.mkdir(parents=True, exist_ok=True)
        workers = chart_workers() if workers is None else workers
        methods = multiprocessing.get_all_start_methods()
        self._pool = None
        self._pending = None
        if workers > 1 and len(jobs) > 1 and "fork" in methods:
            global _FORKED_JOBS
            _FORKED_JOBS = jobs
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(min(workers, len(jobs)))
            self._pending = [self._pool.apply_async(_draw_job, (i, str(directory)))
                             for i in range(len(jobs))]

    def wait(self) -> list[str]:
        """The chart stems written (``charts/<stem>``), in the jobs' order."""
        global _FORKED_JOBS
        if self._pool is None:
            from .charts import save_figure

            written = []
            for stem, draw in self.jobs:
                save_figure(draw(), self.directory / stem)
                written.append(f"charts/{stem}")
            return written
        try:
            return [pending.get() for pending in self._pending]
        finally:
            self.close()
            _FORKED_JOBS = []

    def close(self) -> None:
        """Stop the drawing processes (after :meth:`wait`, or on an error elsewhere)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


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
