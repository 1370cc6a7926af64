"""The ``forecast`` command line. Turns user errors into one line on stderr and exit code 2.

Heavy libraries (matplotlib, statsmodels, prophet) are imported inside the commands that use
them, so ``forecast project`` starts fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from forecast import __version__
from forecast.errors import ForecastError


def _one_line_usage_error(exc: click.UsageError) -> None:
    """Print click's usage error as one line (naming the option and the fix) and exit 2."""
    command = exc.ctx.command_path if exc.ctx is not None else "forecast"
    message = " ".join(exc.format_message().split())
    click.echo(f"error: {command}: {message} (fix: see `{command} --help`)", err=True)
    sys.exit(2)


class _Terminated(SystemExit):
    """Raised in the main thread on SIGTERM, so that staging directories are removed (as on
    Ctrl-C) before the process exits with 128 + 15."""


_MAIN_PID = [0]  # the process that installed the handler (forked chart workers do not act)


def _on_sigterm(signum, frame):  # pragma: no cover - exercised in a subprocess test
    import os
    import signal

    if os.getpid() != _MAIN_PID[0]:  # a forked worker: die as SIGTERM would
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise _Terminated(128 + signum)


class _Group(click.Group):
    """A click group that prints ForecastError and usage errors as one line and exits 2, and
    turns SIGTERM into an orderly exit that removes half-written output."""

    def main(self, *args, **kwargs):
        import signal
        import threading

        previous = None
        if threading.current_thread() is threading.main_thread():
            import os

            _MAIN_PID[0] = os.getpid()
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().main(*args, **kwargs)
        except _Terminated as exc:
            click.echo("error: terminated (SIGTERM); nothing was written and any earlier "
                       "output is untouched", err=True)
            sys.exit(exc.code)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            _one_line_usage_error(exc)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _one_line_usage_error(exc)
        except ForecastError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except FileNotFoundError as exc:
            from forecast.paths import data_dir

            missing = Path(str(exc.filename or ""))
            if data_dir().resolve() not in missing.resolve().parents:
                raise
            click.echo(f"error: {missing}: shipped data file missing (fix: restore data/ from "
                       "the repository, or set FORECAST_DATA_DIR to a complete copy)", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="forecast")
def main() -> None:
    """Population projection and care-service demand (养老床位, 托位) for Chinese jurisdictions."""


@main.command()
@click.argument("inputs_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Directory to write population.csv, births.csv and deaths.csv into.")
def project(inputs_dir: Path, out_dir: Path) -> None:
    """Project a canonical inputs directory (INPUTS_DIR) with the cohort-component engine."""
    from forecast.demography.engine import balance_residual
    from forecast.demography.engine import project as run_projection
    from forecast.demography.frames import births_frame, deaths_frame, population_frame
    from forecast.demography.inputs import read_inputs
    from forecast.presentation.outputs import atomic_directory, check_output_directory

    started = time.perf_counter()
    check_output_directory(out_dir, reads=[inputs_dir])
    inputs = read_inputs(inputs_dir)
    arrays = inputs.to_arrays()
    s = arrays.settings
    result = run_projection(arrays.population, arrays.survival, arrays.asfr, arrays.srb,
                            arrays.net_migrants, age_width=s.age_width,
                            migration_timing=s.migration_timing)
    residual = float(abs(balance_residual(result)).max())
    with atomic_directory(out_dir, reads=[inputs_dir], command="project") as staging:
        population_frame(result.population, s.years, s.ages).to_csv(
            staging / "population.csv", index=False)
        births_frame(result, s.step_years, s.ages).to_csv(staging / "births.csv", index=False)
        deaths_frame(result, s.step_years, s.ages).to_csv(staging / "deaths.csv", index=False)
    totals = result.population.sum(axis=(-2, -1))
    elapsed = time.perf_counter() - started
    for note in inputs.notes:
        click.echo(f"note: {note}")
    click.echo(f"population {s.start_year}: {totals[0]:,.0f}  ->  {s.end_year}: {totals[-1]:,.0f}")
    click.echo(f"births {result.births_by_sex.sum():,.0f}, deaths {result.deaths.sum():,.0f}, "
               f"net migrants {result.net_migrants_applied.sum():,.0f} over "
               f"{len(s.step_years)} steps of {s.age_width} year(s)")
    clamped = int(result.clamped_cells.sum())
    if clamped:
        click.echo(f"warning: {clamped} cells driven negative by migration were set to zero "
                   f"({result.clamped_persons.sum():,.1f} persons added)")
    click.echo(f"balance check: max relative residual {residual:.1e}")
    click.echo(f"wrote {out_dir}/population.csv, births.csv, deaths.csv in {elapsed:.2f} s")


@main.command()
@click.argument("query")
@click.option("--census-year", type=click.Choice(["2020", "2010"]), default="2020",
              show_default=True, help="Which census's units to search.")
def units(query: str, census_year: str) -> None:
    """List census units matching QUERY (a 6-digit code or a Chinese name)."""
    from forecast.defaults.census import units_command_output

    click.echo(units_command_output(query, int(census_year)))


@main.command("init")
@click.argument("unit")
@click.option("--out", "out_file", type=click.Path(path_type=Path), default=None,
              help="Config file to write (default: <English name>.yaml here); never "
              "replaced if it exists.")
def init_command(unit: str, out_file: Path | None) -> None:
    """Write a minimal, commented config for UNIT (code or name) that `forecast run` runs as
    is: the unit's default inputs, no plan document (add yours to check a plan)."""
    from forecast.init_config import write_config

    command = f"forecast init {unit}" + (f" --out {out_file}" if out_file else "")
    resolved, path = write_config(unit, out_file, command)
    click.echo(f"{resolved.name} ({resolved.code}, {resolved.level}): wrote {path}; run it "
               f"with `forecast run {path}`")


@main.command("inputs")
@click.argument("unit")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Directory to write the canonical inputs and provenance.yaml into.")
@click.option("--base-year", type=click.Choice(["2020", "2010"]), default="2020",
              show_default=True, help="Census base; 2010 uses only what was known in 2010.")
@click.option("--end-year", type=click.IntRange(max=2100), default=2050,
              show_default=True, help="Last projected year (after the base year, at most "
              "2100, the end of UN WPP 2024's projections).")
@click.option("--census-table", type=click.Path(path_type=Path), default=None,
              help="Your own census-style table (CSV or XLSX; 年龄, 男, 女[, 合计]; UTF-8 or "
                   "GBK) to use as the base population instead of the bundled census.")
@click.option("--own-defaults", is_flag=True, default=False,
              help="The unit's own defaults, not controlled top down to add up to its "
                   "prefecture, province and the nation.")
def inputs_command(unit: str, out_dir: Path, base_year: str, end_year: int,
                   census_table: Path | None, own_defaults: bool) -> None:
    """Write default inputs for UNIT (code or name) from the census and UN WPP 2024."""
    import yaml

    from forecast.defaults.census import read_census_table, resolve_unit
    from forecast.defaults.census_base import population_from_table
    from forecast.defaults.consistency import defaults_for
    from forecast.demography.inputs import write_inputs
    from forecast.errors import UnitError
    from forecast.presentation.outputs import atomic_directory, check_output_directory

    started = time.perf_counter()
    reads = [census_table] if census_table is not None else []
    check_output_directory(out_dir, reads=reads)
    table = read_census_table(census_table) if census_table is not None else None
    try:
        resolved = resolve_unit(unit)
    except UnitError:
        if base_year != "2010":
            raise
        resolved = resolve_unit(unit, 2010)  # a unit of 2010 only (e.g. 巢湖市 341400)
    defaults = defaults_for([resolved], int(base_year), end_year, consistent=not own_defaults)
    provenance = defaults.provenance[0]
    if census_table is not None:
        defaults.population[0] = population_from_table(table, int(base_year))
        provenance["base_population"] = {
            "source": f"user table {census_table}", "census_year": int(base_year),
            "total_persons": int(round(float(table.population.sum()))),
            "method": "the user's groups graduated to single years "
                      "(forecast.demography.graduation); rates and migration still those of the "
                      "bundled census unit"}
    with atomic_directory(out_dir, reads=reads, command="inputs") as staging:
        write_inputs(defaults.inputs_for(0), staging)
        (staging / "provenance.yaml").write_text(
            yaml.safe_dump(provenance, allow_unicode=True, sort_keys=False), encoding="utf-8")
    click.echo(f"{resolved.name} ({resolved.code or resolved.unit_id}, {resolved.level}): "
               f"{provenance['base_population']['total_persons']:,} persons in "
               + (f"{census_table}" if census_table else f"the {base_year} census"))
    click.echo(f"  TFR {provenance['fertility']['tfr_base']}, e0 "
               f"{provenance['mortality']['e0_base_male']} (m) / "
               f"{provenance['mortality']['e0_base_female']} (f), SRB "
               f"{provenance['srb']['value']}, net migrants "
               f"{provenance['migration'].get('annual_net_migrants', 0):,.0f} a year")
    for part in ("mortality", "fertility", "migration"):
        if "warning" in provenance[part]:
            click.echo(f"  warning ({part}): {provenance[part]['warning']}")
    click.echo(f"wrote {out_dir} (canonical inputs + provenance.yaml) in "
               f"{time.perf_counter() - started:.1f} s; project it with "
               f"`forecast project {out_dir} --out DIR`")


@main.command("run")
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: outputs/<config name>/).")
@click.option("--scenario", "scenarios", multiple=True,
              help="Run only this scenario (repeatable); default: all in the config.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of chart text.")
@click.option("--trajectories", type=click.IntRange(min=1, max=100_000), default=None,
              help="Also draw N joint trajectories (TFR, e0, migration and the care parameters "
              "over their sourced ranges; see the config's uncertainty section) and write "
              "quantiles, probabilities and fan charts.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0,
              show_default=True,
              help="Random seed of --trajectories (same seed, same results).")
def run_command(config_path: Path, out_dir: Path | None, scenarios: tuple[str, ...],
                lang: str, trajectories: int | None, seed: int) -> None:
    """Project CONFIG's jurisdiction, compute bed and 托位 demand and check the plan."""
    from forecast.timing import StageTimer

    # --trajectories takes minutes: a progress line per stage on stderr (the bar only on a TTY)
    timer = StageTimer(announce=_stage_line(lang) if trajectories else None)
    with timer.stage("imports"):
        from forecast.config import load_config
        from forecast.errors import ConfigError
        from forecast.pipeline.run import config_reads, run
        from forecast.presentation.outputs import (
            atomic_directory,
            check_output_directory,
            record_stage_seconds,
            start_charts,
            write_run,
        )

    started = time.perf_counter()
    twice = sorted({name for name in scenarios if scenarios.count(name) > 1})
    if twice:
        raise ConfigError(f"scenario '{twice[0]}' is given twice", field="--scenario",
                          fix="name each scenario once")
    with timer.stage("config"):
        config = load_config(config_path)
    out_dir = out_dir or Path("outputs") / config.name
    reads = config_reads(config)
    check_output_directory(out_dir, reads=reads)
    with timer.stage("projection_and_demand"):
        result = run(config, list(scenarios) or None)
    with atomic_directory(out_dir, reads=reads, command="run") as staging:
        drawing = None
        if trajectories:
            from forecast.pipeline.uncertainty import STAGES, start_uncertainty

            # half the scenarios' trajectories in a forked process (forked first, while this
            # process has no other thread) and the deterministic charts in the chart workers,
            # all while this process computes the other half
            pending = start_uncertainty(result, trajectories, seed)
            try:
                drawing = start_charts(result, staging, lang)
                with timer.stage("trajectories"):
                    if sys.stderr.isatty():
                        with click.progressbar(length=len(STAGES) * len(result.scenarios),
                                               file=sys.stderr,
                                               label=f"{trajectories:,} trajectories") as bar:
                            result.uncertainty = pending.finish(
                                progress=lambda stage: bar.update(1))
                    else:
                        result.uncertainty = pending.finish()
            except BaseException:
                pending.cancel()
                if drawing is not None:
                    drawing.close()
                raise
        write_run(result, staging, lang, timer, drawing, report=True)
        record_stage_seconds(staging, timer)
    click.echo(_run_summary(result, lang))
    from forecast.presentation.labels import TERMINAL_TEXT

    click.echo(TERMINAL_TEXT[lang]["wrote_run"].format(
        out_dir=out_dir, seconds=time.perf_counter() - started))


def _run_summary(result, lang: str = "zh") -> str:
    """A compact terminal table: the gap in 2025, 2030 and the end year (Chinese or English);
    with ``--trajectories`` also the median and 80 % interval of the main figures and the
    probability that planned supply meets demand. Names come from
    :mod:`forecast.presentation.labels`."""
    from forecast.defaults.census import _pad, _width
    from forecast.presentation.labels import TERMINAL_TEXT, label, method_label

    text = TERMINAL_TEXT[lang]
    scenario = "baseline" if "baseline" in result.scenarios else result.scenarios[0]
    unit = result.unit
    summary = result.summary[result.summary.scenario == scenario].set_index("year")
    base, end = int(summary.index.min()), int(summary.index.max())
    years = sorted({y for y in (2025, 2030, end) if base <= y <= end})

    def trend(column: str) -> str:
        first, last = summary.loc[base, column], summary.loc[end, column]
        return f"{first:,.0f} ({base}) -> {last:,.0f} ({end})"

    document = result.config.source_document
    lines = [f"{unit.name} ({unit.code or unit.unit_id}) — "
             f"{document.title if document else text['no_plan']}",
             f"{text['scenario']} {label(scenario, lang)}: {text['population']} "
             f"{trend('total')}; {text['aged_60']} {trend('pop_60plus')}; "
             f"{text['aged_0_2']} {trend('pop_0_2')}"]
    gaps = result.gaps[(result.gaps.scenario == scenario) & result.gaps.year.isin(years)]
    width = 26
    # the name columns as wide as their longest name (English names are longer than 17)
    service_width = 2 + max([_width(text["service"])] + [_width(label(s, lang))
                                                          for s in gaps.service.unique()])
    method_width = 2 + max([_width(text["method"])] + [
        _width(method_label(m, s, lang)) for s, m in
        gaps[["service", "method"]].drop_duplicates().itertuples(index=False)])
    header = (_pad(text["service"], service_width) + _pad(text["method"], method_width)
              + "".join(_pad(str(y), width, right=True) for y in years))
    lines += [text["legend"]]
    if (gaps["supply_scope"] != "total").any():
        from forecast.pipeline.run import institutional_share_of_beds

        lines.append(text["scope"].format(share=f"{institutional_share_of_beds():.1%}"))
    lines.append(header)
    assumed = False
    for (service, method), rows in gaps.groupby(["service", "method"], sort=True):
        cells = []
        for year in years:
            row = rows[rows.year == year]
            if row.empty:
                cells.append(" " * width)
                continue
            row = row.iloc[0]
            if row.status == "unknown":
                cell = text["need"].format(demand=f"{row.demand:,.0f}")
            elif row.status == "same_as_target":
                cell = label(row.status, lang)
            else:
                cell = f"{row.gap:+,.0f} ({label(row.status, lang)})"
                if getattr(row, "supply_source", None) == "target_assumed":
                    cell += "*"
                    assumed = True
            cells.append(_pad(cell, width, right=True))
        lines.append(_pad(label(service, lang), service_width)
                     + _pad(method_label(method, service, lang), method_width) + "".join(cells))
    if assumed:
        lines.append(text["assumed_mark"])
    shortfalls = result.first_shortfall[result.first_shortfall.scenario == scenario]
    short = shortfalls[shortfalls.outcome == "short"]
    if len(short):
        items = []
        for r in short.itertuples():
            unknown = getattr(r, "supply_unknown_until", None)
            note = ("" if unknown is None or pd_missing(unknown)
                    else text["first_after_unknown"].format(year=int(unknown) + 1))
            items.append(f"{label(r.service, lang)}/{method_label(r.method, r.service, lang)} "
                         f"{r.first_shortfall_year}{note}")
        lines.append(f"{text['first']}: " + "; ".join(items))
    supply = result.supply[result.supply.scenario == scenario]
    for service, rows in supply.groupby("service", sort=True):
        known = rows.dropna(subset=["supply"]).sort_values("year")
        if known.empty:
            targets = result.targets
            own = (len(targets) > 0 and "service" in targets
                   and (~targets[targets.service == service].source.astype(str)
                        .str.startswith("national: ")).any())
            basis = text["unknown_own_target" if own else "unknown"]
        elif str(rows["supply_basis"].iloc[0]).startswith("the plan's own target"):
            basis = text["target"].format(count=f"{known.supply.iloc[0]:,.0f}",
                                          year=known.year.iloc[0])
        else:
            basis = text["stated"].format(c0=f"{known.supply.iloc[0]:,.0f}",
                                          y0=known.year.iloc[0],
                                          c1=f"{known.supply.iloc[-1]:,.0f}",
                                          y1=known.year.iloc[-1])
        lines.append(f"{text['supply_of'].format(service=label(service, lang))}: {basis}")
    lines += _planner_lines(result, scenario, years, lang, (service_width, method_width))
    uncertainty = getattr(result, "uncertainty", None)
    if uncertainty is not None:
        lines += _uncertainty_lines(uncertainty, scenario, years, lang)
    return "\n".join(lines)


def _planner_lines(result, scenario: str, years: list[int], lang: str,
                   widths: tuple[int, int]) -> list[str]:
    """The three named gaps in the plan year and the end year, the plan's horizon, the
    additions needed per five-year period, which method answers which question and which
    verdicts rest on unsourced parameters (issue 11)."""
    import numpy as np

    from forecast.defaults.census import _pad
    from forecast.presentation.labels import (
        TERMINAL_TEXT,
        assumption_keys_text,
        label,
        method_guide,
        method_label,
    )

    text = TERMINAL_TEXT[lang]
    service_width, method_width = widths
    gaps = result.gaps[result.gaps.scenario == scenario]
    key_years = sorted({years[0], years[-1]})
    width = 16
    lines = [text["three_gaps"]]
    heads = [h for year in key_years for h in text["gap_kinds"].format(year=year).split("|")]
    lines.append(" " * (service_width + method_width)
                 + "".join(_pad(h, width, right=True) for h in heads))

    def number(value) -> str:
        return "–" if value is None or not np.isfinite(value) else f"{value:+,.0f}"

    for (service, method), rows in gaps.groupby(["service", "method"], sort=True):
        rows = rows.set_index("year")
        cells = []
        for year in key_years:
            row = rows.loc[year] if year in rows.index else None
            for column in ("gap_status_quo", "gap_target_adequacy", "gap_delivery"):
                value = None if row is None else float(row[column])
                cells.append(_pad(number(value), width, right=True))
        lines.append(_pad(label(service, lang), service_width)
                     + _pad(method_label(method, service, lang), method_width) + "".join(cells))
    beyond = gaps[gaps["beyond_plan_horizon"].astype("boolean").fillna(False)]
    if len(beyond):
        horizon = int(beyond["year"].min()) - 1
        lines.append(text["horizon"].format(year=horizon))
    additions = getattr(result, "additions_needed", None)
    if additions is not None and len(additions):
        table = additions[additions.scenario == scenario]
        periods = list(dict.fromkeys(table["period"]))
        lines.append(text["additions"])
        lines.append(" " * (service_width + method_width)
                     + "".join(_pad(p, width, right=True) for p in periods))
        for (service, method), rows in table.groupby(["service", "method"], sort=True):
            cells = []
            for period in periods:
                row = rows[rows.period == period].iloc[0]
                if np.isfinite(row.additions_beyond_plan):
                    cell = f"{row.additions_beyond_plan:,.0f}"
                else:
                    cell = text["additions_cell_unknown"].format(
                        value=f"{max(row.demand_growth, 0):,.0f}")
                cells.append(_pad(cell, width, right=True))
            lines.append(_pad(label(service, lang), service_width)
                         + _pad(method_label(method, service, lang), method_width)
                         + "".join(cells))
    lines.append(f"{text['guide']}:")
    lines += [f"  - {line}" for line in method_guide(lang)]
    rests = (gaps[gaps["rests_on_assumptions"].fillna("") != ""]
             .drop_duplicates(["service", "method"]).sort_values(["service", "method"]))
    items = [f"{label(r.service, lang)}/{method_label(r.method, r.service, lang)} "
             f"({assumption_keys_text(r.rests_on_assumptions, lang)})"
             for r in rests.itertuples()]
    if items:
        lines.append(f"{text['assumption_verdicts']}: " + "; ".join(items))
    return lines


def pd_missing(value) -> bool:
    """True for None, NaN and pandas' NA."""
    import pandas as pd

    return bool(pd.isna(value))


def _stage_line(lang: str):
    """``announce`` for :class:`forecast.timing.StageTimer`: one progress line on stderr."""
    from forecast.presentation.labels import STAGE_TEXT

    text = STAGE_TEXT[lang]

    def announce(stage: str, seconds: float) -> None:
        click.echo(text["line"].format(stage=text.get(stage, stage), seconds=seconds),
                   err=True)

    return announce


def _uncertainty_lines(uncertainty, scenario: str, years: list[int], lang: str) -> list[str]:
    """For ``forecast run --trajectories``: the median and 80 % interval of the population,
    60+, 0–2 and the bed and 托位 need in each key year, and per service and method the
    probability that planned supply meets demand in each key year (where the plan states
    supply)."""
    from forecast.defaults.census import _pad, _width
    from forecast.presentation.labels import TERMINAL_TEXT, label, method_label
    from forecast.vocabulary import SERVICES

    text = TERMINAL_TEXT[lang]
    record = uncertainty.record
    rows: list[tuple[str, dict[int, str]]] = []

    def cells(frame) -> dict[int, str]:
        return {int(r.year): text["quantile_cell"].format(
            q50=f"{r.q50:,.0f}", q10=f"{r.q10:,.0f}", q90=f"{r.q90:,.0f}")
            for r in frame.itertuples() if int(r.year) in years}

    summary = uncertainty.summary_quantiles
    summary = summary[summary.scenario == scenario]
    for indicator in ("total", "pop_60plus", "pop_0_2"):
        rows.append((label(indicator, lang), cells(summary[summary.indicator == indicator])))
    demand = uncertainty.demand_quantiles
    demand = demand[(demand.scenario == scenario) & (demand.method == "needs")]
    for service in SERVICES:
        frame = demand[demand.service == service]
        if len(frame):
            rows.append((text["demand_of"].format(service=label(service, lang),
                                                  method=method_label("needs", service, lang)),
                         cells(frame)))
    name_width = max(_width(name) for name, _ in rows) + 2
    width = max(_width(cell) for _, by_year in rows for cell in by_year.values()) + 2
    header = _pad(text["indicator"], name_width) + "".join(
        _pad(str(y), width, right=True) for y in years)
    lines = [text["uncertainty"].format(n=f"{record['trajectories']:,}", seed=record["seed"]),
             header]
    for name, by_year in rows:
        lines.append(_pad(name, name_width) + "".join(
            _pad(by_year.get(y, ""), width, right=True) for y in years))
    probability = uncertainty.probability_met
    probability = probability[(probability.scenario == scenario)
                              & probability.year.isin(years)]
    known = probability[probability.probability_met.notna()]
    if known.empty:
        lines.append(text["probability_unknown"])
        return lines
    for service, frame in known.groupby("service", sort=False):
        lines.append(text["probability"].format(service=label(service, lang)))
        for method, by_method in frame.groupby("method", sort=False):
            values = {int(r.year): f"{r.probability_met:.0%}" for r in by_method.itertuples()}
            lines.append(_pad("  " + method_label(method, service, lang), name_width) + "".join(
                _pad(values.get(y, "–"), width, right=True) for y in years))
    return lines


@main.command("backtest")
@click.argument("codes", nargs=-1)
@click.option("--level", type=click.Choice(["prefecture", "county", "province"]), default=None,
              help="Backtest every unit of this level (default prefecture).")
@click.option("--within", default=None, metavar="CODE",
              help="Only the units of --level inside this unit (code or name).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output directory (default: outputs/backtest-<level>/).")
@click.option("--no-consistency", is_flag=True, default=False,
              help="Each unit's own defaults, not controlled to its parents.")
def backtest_command(codes: tuple[str, ...], level: str | None, within: str | None,
                     out_dir: Path | None, no_consistency: bool) -> None:
    """Project 2010 -> 2020 with 2010 knowledge only and score it against the 2020 census."""
    from forecast.pipeline.backtest import (
        format_summary,
        run_backtest,
        select_units,
        write_backtest,
    )
    from forecast.presentation.outputs import atomic_directory, check_output_directory
    from forecast.timing import StageTimer

    started = time.perf_counter()
    timer = StageTimer(announce=_stage_line("en"))  # a progress line per stage on stderr
    if codes and (level or within):
        raise click.UsageError("give unit CODES or --level/--within, not both")
    name = "units" if codes else (level or "prefecture") + (f"-{within}" if within else "")
    out_dir = out_dir or Path("outputs") / f"backtest-{name}"
    check_output_directory(out_dir)
    with timer.stage("units"):
        units = select_units(level, within, codes)
    result = run_backtest(units, consistent=not no_consistency, timer=timer)
    with timer.stage("outputs"), atomic_directory(out_dir, command="backtest") as staging:
        write_backtest(result, staging)
    click.echo(format_summary(result))
    click.echo(f"wrote {out_dir}/ (backtest_summary.csv, backtest_units.csv, "
               f"backtest_skipped.csv, backtest_published.csv, backtest_errors.png/.svg, "
               f"backtest.html) in {time.perf_counter() - started:.1f} s")


@main.command("explore")
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0 = any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where exported reports go (default: outputs/<config name>-explore/).")
def explore_command(config_path: Path, port: int, no_browser: bool,
                    out_dir: Path | None) -> None:
    """Explore CONFIG's scenarios in the browser (127.0.0.1 only; Ctrl-C stops it)."""
    from forecast.explore.server import serve

    serve(config_path, port, not no_browser, out_dir,
          echo=lambda line: click.echo(line, err=False))


@main.command()
def schema() -> None:
    """Print the JSON Schema of run configs (for editor autocompletion)."""
    import json

    from forecast.config import config_schema

    click.echo(json.dumps(config_schema(), ensure_ascii=False, indent=2))


from forecast.pipeline.compare import compare_command  # noqa: E402

main.add_command(compare_command)
from forecast.presentation.report import report_command  # noqa: E402

main.add_command(report_command)
from forecast.pipeline.batch import batch_command  # noqa: E402

main.add_command(batch_command)

if __name__ == "__main__":  # pragma: no cover
    main()
