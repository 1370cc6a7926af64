"""`forecast compare`: scenarios of one config, or several jurisdictions side by side.

Each config is run with :func:`forecast.pipeline.run.run` (all its scenarios); this module only
reshapes
the run tables into comparisons:

- ``scenarios.csv``: every config × scenario × year: the population indicators and the
  demand, planned supply and plan target of elderly-care beds and 托位 (the lines of the
  scenario charts).
- ``comparison.csv``: one row per config × scenario × key year (base year, 2025, 2030, end
  year): per-1,000 rates, shares, coverage, gaps and first shortfall years, so that
  jurisdictions of different sizes can be read side by side.
- ``comparison.xlsx``: those two tables, a ``side_by_side`` sheet (indicators as rows,
  jurisdictions as columns, baseline scenario) and the first-shortfall table.
- ``charts/``: per config, one line per scenario of 60+, under-3s, bed demand and 托位 demand
  against the plan; across configs, share aged 60+ by jurisdiction and grouped bars of beds per
  1,000 aged 60+ and 托位 per 1,000 residents (needed vs planned vs target).

Units: persons; beds and places are counts; ``*_per_1000_60plus`` per 1,000 persons aged 60+;
``*_per_1000`` (托位) per 1,000 residents; ``share_*`` and ``*coverage*`` are fractions;
gaps are supply − demand (negative = shortfall).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from forecast.errors import ConfigError
from forecast.vocabulary import METHODS, PLACE_METHODS

if TYPE_CHECKING:  # pandas, numpy and the run machinery load only when a command runs
    import pandas as pd

    from forecast.config import Config
    from forecast.pipeline.run import RunResult

__all__ = ["Comparison", "compare", "compare_command", "comparison_table", "key_years",
           "scenario_table", "side_by_side", "write_comparison"]

BED_METHODS = METHODS  # the three methods compare sets side by side
SHORTFALL_COLUMNS = [f"first_shortfall_beds_{m}" for m in BED_METHODS] + \
    [f"first_shortfall_places_{m}" for m in PLACE_METHODS]

# Chinese headers of the comparison columns are in forecast.presentation.labels.HEADERS.
SHARES = {"share_60plus", "share_0_2", "places_coverage_under3",
          *(f"places_needed_coverage_under3_{m}" for m in PLACE_METHODS)}
RATES = {"beds_planned_per_1000_60plus", "beds_target_per_1000_60plus",
         "places_planned_per_1000", "places_target_per_1000",
         *(f"beds_needed_per_1000_60plus_{m}" for m in BED_METHODS),
         *(f"places_needed_per_1000_{m}" for m in PLACE_METHODS)}


@dataclass
class Comparison:
    """The runs compared and the tables made from them."""

    results: list[RunResult]
    scenarios: pd.DataFrame
    comparison: pd.DataFrame
    side_by_side: pd.DataFrame
    first_shortfall: pd.DataFrame


def _identity(result: RunResult) -> dict:
    return {"config": result.config.name, "jurisdiction": result.unit.name,
            "name_en": result.config.jurisdiction.name_en, "level": result.unit.level}


def _service_wide(gaps: pd.DataFrame, service: str, prefix: str, methods: Sequence[str]
                  ) -> pd.DataFrame:
    """Per scenario × year: demand, rates, gaps by method, and supply/target (method-free)."""
    import pandas as pd

    rows = gaps[gaps["service"] == service]
    index = ["scenario", "year"]
    if rows.empty:
        return pd.DataFrame(columns=index)
    wide = rows.pivot_table(index=index, columns="method",
                            values=["demand", "demand_per_1000", "gap",
                                    "demand_coverage_under3"],
                            aggfunc="first", dropna=False)
    out = pd.DataFrame(index=wide.index)
    per_1000 = "needed_per_1000_60plus" if prefix == "beds" else "needed_per_1000"
    for method in methods:
        if ("demand", method) not in wide.columns:
            continue
        out[f"{prefix}_demand_{method}"] = wide[("demand", method)]
        out[f"{prefix}_{per_1000}_{method}"] = wide[("demand_per_1000", method)]
        if prefix == "places":
            out[f"places_needed_coverage_under3_{method}"] = \
                wide[("demand_coverage_under3", method)]
        out[f"{prefix}_gap_{method}"] = wide[("gap", method)]
    # the supply column is all beds (the norm's scope); institutional beds are in the gaps
    total = rows[rows["supply_scope"] == "total"] if "supply_scope" in rows.columns else rows
    plan = total.groupby(index)[["supply", "plan_target", "supply_per_1000"]].first()
    out[f"{prefix}_supply"] = plan["supply"]
    if "supply_scope" in rows.columns and (rows["supply_scope"] != "total").any():
        # the scope the needs, expected-use and 9073 methods are compared with
        out[f"{prefix}_supply_institutional"] = rows[rows["supply_scope"] != "total"].groupby(
            index)["supply"].first()
    out[f"{prefix}_plan_target"] = plan["plan_target"]
    return out.reset_index()


def scenario_table(result: RunResult) -> pd.DataFrame:
    """Every scenario × year of one run: population (persons), shares (fractions), bed and
    托位 demand by method, planned supply and the plan's targets as counts."""
    summary = result.summary[["scenario", "year", "total", "births", "pop_0_2", "pop_60plus",
                              "pop_65plus", "pop_80plus", "share_60plus"]].copy()
    summary["share_0_2"] = summary["pop_0_2"] / summary["total"]
    gaps = result.gaps.astype({"service": str, "method": str})
    table = summary
    for service, prefix, methods in (("elderly_beds", "beds", BED_METHODS),
                                     ("childcare_places", "places", PLACE_METHODS)):
        table = table.merge(_service_wide(gaps, service, prefix, methods),
                            on=["scenario", "year"], how="left")
    if "beds_supply" in table:
        table["beds_planned_per_1000_60plus"] = table["beds_supply"] / table["pop_60plus"] * 1000
        table["beds_target_per_1000_60plus"] = (table["beds_plan_target"] / table["pop_60plus"]
                                                * 1000)
    if "places_supply" in table:
        table["places_planned_per_1000"] = table["places_supply"] / table["total"] * 1000
        table["places_target_per_1000"] = table["places_plan_target"] / table["total"] * 1000
        table["places_coverage_under3"] = table["places_supply"] / table["pop_0_2"]
    for key, value in reversed(_identity(result).items()):
        table.insert(0, key, value)
    return table


def _shortfall_columns(result: RunResult) -> pd.DataFrame:
    """Per scenario: the first shortfall year of each service/method, or 'never' (met to the
    end year) or 'unknown' (the plan states no supply)."""
    import pandas as pd

    frame = result.first_shortfall.astype({"service": str, "method": str})
    out = pd.DataFrame({"scenario": result.scenarios})
    for service, prefix, methods in (("elderly_beds", "beds", BED_METHODS),
                                     ("childcare_places", "places", PLACE_METHODS)):
        for method in methods:
            rows = frame[(frame.service == service) & (frame.method == method)]
            text = {r.scenario: (str(int(r.first_shortfall_year)) if r.outcome == "short"
                                 else r.outcome) for r in rows.itertuples()}
            out[f"first_shortfall_{prefix}_{method}"] = out["scenario"].map(text)
    return out


def key_years(base_year: int, end_year: int) -> list[int]:
    """Base year, 2025, 2030 and the end year, within the horizon."""
    return sorted({y for y in (base_year, 2025, 2030, end_year) if base_year <= y <= end_year})


def comparison_table(results: Sequence[RunResult]) -> pd.DataFrame:
    """One row per config × scenario × key year: rates, shares, gaps, first shortfalls."""
    import pandas as pd

    frames = []
    for result in results:
        table = scenario_table(result)
        years = key_years(int(table.year.min()), int(table.year.max()))
        table = table[table.year.isin(years)].merge(_shortfall_columns(result), on="scenario",
                                                    how="left")
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    first = ["config", "jurisdiction", "name_en", "level", "scenario", "year", "total",
             "pop_60plus", "share_60plus", "pop_0_2", "share_0_2", "births"]
    rest = [c for c in out.columns if c not in first and c not in ("pop_65plus", "pop_80plus")]
    return out[first + rest]


SIDE_BY_SIDE_ROWS = ["total", "pop_60plus", "share_60plus", "pop_0_2", "share_0_2",
                     "beds_needed_per_1000_60plus_norm", "beds_needed_per_1000_60plus_needs",
                     "beds_planned_per_1000_60plus", "beds_target_per_1000_60plus",
                     "beds_gap_norm", "beds_gap_needs", "places_needed_per_1000_norm",
                     "places_needed_per_1000_needs", "places_planned_per_1000",
                     "places_target_per_1000", "places_coverage_under3", "places_gap_norm",
                     "places_gap_needs", *SHORTFALL_COLUMNS]


def side_by_side(comparison: pd.DataFrame, scenario: str = "baseline") -> pd.DataFrame:
    """Indicators as rows, ``<jurisdiction> <year>`` as columns, for one scenario."""
    import pandas as pd

    rows = comparison[comparison.scenario == scenario]
    indicators = [c for c in SIDE_BY_SIDE_ROWS if c in rows.columns]
    out = pd.DataFrame({"indicator": indicators})
    for record in rows.to_dict(orient="records"):
        out[f"{record['name_en']} {record['year']}"] = [record[c] for c in indicators]
    return out


def compare(configs: Sequence[Config]) -> Comparison:
    """Run every config (all its scenarios) and build the comparison tables."""
    import pandas as pd

    names = [c.name for c in configs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"config '{twice[0]}' is given twice", field="CONFIG",
                          fix="name each config once")
    from forecast.pipeline.run import run

    results = [run(config, counties=False) for config in configs]
    scenarios = pd.concat([scenario_table(r) for r in results], ignore_index=True)
    table = comparison_table(results)
    identity = ["config", "jurisdiction", "name_en", "level"]
    shortfalls = pd.concat([r.first_shortfall.assign(**_identity(r)) for r in results],
                           ignore_index=True)
    shortfalls = shortfalls[[*identity, *[c for c in shortfalls.columns if c not in identity]]]
    return Comparison(results=results, scenarios=scenarios, comparison=table,
                      side_by_side=side_by_side(table), first_shortfall=shortfalls)


def _bar_frame(comparison: pd.DataFrame, year: int, columns: dict[str, str],
               lang: str) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    rows = comparison[(comparison.scenario == "baseline") & (comparison.year == year)]
    names = rows["jurisdiction" if lang == "zh" else "name_en"]
    frame = pd.DataFrame({"jurisdiction": names.to_numpy()})
    for column, series in columns.items():
        frame[series] = rows[column].to_numpy(float) if column in rows else np.nan
    return frame


def write_charts(comparison: Comparison, directory: Path, lang: str = "zh") -> list[str]:
    """Scenario lines per config; jurisdictions side by side when there are several."""
    from forecast.presentation import charts
    from forecast.presentation.labels import COMPARE_CHART_TEXT, method_label

    t = COMPARE_CHART_TEXT[lang]
    directory.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    def save(fig, stem: str) -> None:
        charts.save_figure(fig, directory / stem)
        written.append(f"charts/{stem}")

    for result in comparison.results:
        name = result.config.name
        place = result.unit.name if lang == "zh" else result.config.jurisdiction.name_en
        for indicator in ("pop_60plus", "pop_0_2"):
            title = t["scenarios"].format(place=place, indicator=charts.label(indicator, lang))
            save(charts.scenario_lines(result.summary[["scenario", "year", indicator]],
                                       indicator, lang=lang, title=title),
                 f"{name}_scenarios_{indicator}")
        gaps = result.gaps.astype({"service": str, "method": str})
        for service in ("elderly_beds", "childcare_places"):
            if not (gaps.service == service).any():
                continue
            title = t["demand"].format(place=place, service=charts.label(service, lang),
                                       method=method_label("norm", service, lang))
            save(charts.scenario_demand_lines(gaps, service, method="norm", lang=lang,
                                              title=title), f"{name}_scenarios_{service}")
    if len(comparison.results) < 2:
        return written
    table = comparison.comparison
    baseline = comparison.scenarios[comparison.scenarios.scenario == "baseline"]
    lines = baseline.assign(scenario=baseline["jurisdiction" if lang == "zh" else "name_en"])
    title = t["jurisdictions_share"].format(indicator=charts.label("share_60plus", lang))
    save(charts.scenario_lines(lines[["scenario", "year", "pop_60plus", "total"]],
                               "share_60plus", lang=lang, title=title),
         "jurisdictions_share_60plus")
    year = 2025 if (table.year == 2025).any() else int(table.year.max())
    bars = (("elderly_beds", "beds", {"beds_needed_per_1000_60plus_norm": "norm",
                                      "beds_needed_per_1000_60plus_needs": "needs",
                                      "beds_planned_per_1000_60plus": "supply_total",
                                      "beds_target_per_1000_60plus": "target_either"}),
            ("childcare_places", "places", {"places_needed_per_1000_norm": "norm",
                                            "places_needed_per_1000_needs": "needs",
                                            "places_planned_per_1000": "supply",
                                            "places_target_per_1000": "target_either"}))
    for service, stem, columns in bars:
        save(charts.jurisdiction_bars(_bar_frame(table, year, columns, lang),
                                      axis_label=t[f"{stem}_axis"], lang=lang,
                                      title=t[f"{stem}_title"].format(year=year),
                                      service=service),
             f"jurisdictions_{stem}_per_1000")
    return written


def write_comparison(comparison: Comparison, directory: Path, lang: str = "zh") -> list[str]:
    """Write CSVs, the workbook and the charts into ``directory`` (a staging directory);
    returns the files written, relative to it."""
    from forecast.presentation.outputs import write_excel

    comparison.comparison.to_csv(directory / "comparison.csv", index=False)
    comparison.scenarios.to_csv(directory / "scenarios.csv", index=False)
    write_excel({"comparison": comparison.comparison, "side_by_side": comparison.side_by_side,
                 "scenarios": comparison.scenarios,
                 "first_shortfall": comparison.first_shortfall},
                directory / "comparison.xlsx", shares=SHARES, lang=lang,
                rates=RATES)
    charts = write_charts(comparison, directory / "charts", lang)
    return ["comparison.csv", "scenarios.csv", "comparison.xlsx",
            *[f"{c}.png" for c in charts], *[f"{c}.svg" for c in charts]]


def default_out_dir(configs: Sequence[Config]) -> Path:
    """``outputs/compare-<name>-<name>…/``."""
    return Path("outputs") / ("compare-" + "-".join(c.name for c in configs))


def _terminal_summary(comparison: Comparison, lang: str = "zh") -> str:
    """The baseline of each jurisdiction by year: the needs method's beds per 1,000 aged 60+
    beside the institutional beds it is compared with (issue 11) and all planned beds, and 托位
    per 1,000 residents needed and planned; text in ``lang``
    (forecast.presentation.labels.COMPARE_TEXT)."""
    import numpy as np
    import pandas as pd

    from forecast.defaults.census import _pad as pad_display
    from forecast.presentation.labels import COMPARE_TEXT

    t = COMPARE_TEXT[lang]
    table = comparison.comparison
    rows = table[(table.scenario == "baseline")]
    from forecast.defaults.census import _width

    names = rows["jurisdiction" if lang == "zh" else "name_en"].astype(str)
    widths = (max([_width(t["jurisdiction"]), *map(_width, names)]) + 2, 6, 12, 10, 12, 12, 12,
              12, 12)
    columns = [t[key] for key in ("jurisdiction", "year", "aged_60", "share_60", "beds_need",
                                  "beds_institutional", "beds_all", "places_need",
                                  "places_planned")]
    lines = ["".join(pad_display(c, w, right=i > 0) for i, (c, w) in enumerate(
        zip(columns, widths, strict=True)))]
    for r in rows.itertuples():
        def num(value, digits=1):
            return f"{value:.{digits}f}" if pd.notna(value) else "?"
        institutional = (getattr(r, "beds_supply_institutional", np.nan) / r.pop_60plus * 1000
                         if hasattr(r, "beds_supply_institutional") else np.nan)
        cells = [r.jurisdiction if lang == "zh" else r.name_en, str(r.year),
                 f"{r.pop_60plus:,.0f}", f"{r.share_60plus:.1%}",
                 num(getattr(r, "beds_needed_per_1000_60plus_needs", np.nan)),
                 num(institutional),
                 num(getattr(r, "beds_planned_per_1000_60plus", np.nan)),
                 num(getattr(r, "places_needed_per_1000_needs", np.nan)),
                 num(getattr(r, "places_planned_per_1000", np.nan))]
        lines.append("".join(pad_display(c, w, right=i > 0) for i, (c, w) in enumerate(
            zip(cells, widths, strict=True))))
    lines.append(t["footnote"])
    return "\n".join(lines)


@click.command("compare")
@click.argument("config_paths", metavar="CONFIG [CONFIG ...]", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: outputs/compare-<config names>/).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the charts, workbook labels and terminal summary.")
def compare_command(config_paths: tuple[Path, ...], out_dir: Path | None, lang: str) -> None:
    """Compare the scenarios of each CONFIG and, given several, the jurisdictions side by
    side (per-1,000 rates, shares, gaps, first shortfall years)."""
    from forecast.config import load_config
    from forecast.pipeline.run import config_reads
    from forecast.presentation.outputs import atomic_directory, check_output_directory

    started = time.perf_counter()
    configs = [load_config(path) for path in config_paths]  # every config checked first
    out_dir = out_dir or default_out_dir(configs)
    reads = [path for config in configs for path in config_reads(config)]
    check_output_directory(out_dir, reads=reads)
    comparison = compare(configs)
    with atomic_directory(out_dir, reads=reads, command="compare") as staging:
        written = write_comparison(comparison, staging, lang)
    click.echo(_terminal_summary(comparison, lang))
    click.echo(f"wrote {out_dir}/ ({len(written)} files: comparison.csv, scenarios.csv, "
               f"comparison.xlsx, charts/) in {time.perf_counter() - started:.1f} s")
