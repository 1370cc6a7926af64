"""`forecast backtest`: project 2010 → 2020 with 2010 knowledge only, score it on the census.

For each unit (a 2020 census unit; its 2010 base is the 2010 population of its 2020 area,
:func:`forecast.defaults.census_base.match_2010` and :mod:`forecast.defaults.crosswalk`), the
default inputs of a
2010 base (:func:`forecast.defaults.assumptions.build_defaults` with ``base_year=2010``: WPP
estimates up to 2005–2010, a constant TFR at the 2010 census's birth level, net migration from
the 2010 census's net migrant stock, :func:`forecast.defaults.migration.registered_stock_migration`)
are projected ten one-year steps to 1 November 2020 and
compared by band (total, 0–2, 0–4, 60+, 65+, 80+) with the 2020 census, graduated to single
years exactly as a 2020 base is.

Error of a unit and band: ``e = projected / census − 1`` (a fraction; shown in %). Per band and
level: MAPE = mean |e|, median |e|, bias = mean e, p90 = 90th percentile of |e|, and the MAPE
relative to two naive forecasts that use no rates at all:

* ``ccr`` — Hamilton–Perry with national cohort-change ratios: the unit's 2010 population at age
  a (single years, graduated) × the nation's 2020/2010 ratio for the cohort (age a + 10 in 2020;
  the open group from 90+); ages 0–9 in 2020 from the nation's 2020 ratio of children at each
  age to women 15–49, applied to the unit's projected women 15–49.
* ``share`` — constant share: the band's 2010 share of the unit's population × the unit's real
  2020 census total (for the total itself: the unit's 2010 share of the nation × the nation's
  2020 total). It uses a 2020 figure that no forecast made in 2010 had.

A ratio below 1 means the projection beats the naive forecast.

The second part compares the 2020-base projection of the nation with the published annual
series shipped in ``data/`` for 2021–2023 (births; deaths, 60+ and 65+ where shipped): the
projection's step from 1 November t to 1 November t+1 is set against calendar year t+1.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.defaults import census
from forecast.defaults.assumptions import build_defaults
from forecast.defaults.census_base import base_population, census_groups, match_2010
from forecast.defaults.consistency import defaults_for, project_defaults
from forecast.errors import UnitError
from forecast.paths import data_dir
from forecast.timing import StageTimer

BANDS: dict[str, tuple[int, int]] = {  # name -> (first age, last age + 1); 100 = 100+
    "total": (0, 101), "0-2": (0, 3), "0-4": (0, 5), "60+": (60, 101), "65+": (65, 101),
    "80+": (80, 101)}
LEVELS = ("province", "prefecture", "county")
BASELINES = ("ccr", "share")
CHUNK = 400  # units built and projected at once (memory ~ 1.5 MB per unit)
HORIZON = 10  # 2010 -> 2020


@dataclass
class BacktestResult:
    """Per-unit errors, per-band summary, units that could not be backtested."""

    units: pd.DataFrame  # unit_id, code, name, level, province, band, census, projected, ...
    summary: pd.DataFrame  # level, band, n, mape, median, bias, p90, ratio_ccr, ratio_share
    skipped: pd.DataFrame  # unit_id, code, name, level, reason
    published: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0
    consistent: bool = True  # defaults controlled top down (forecast.defaults.consistency)


# ----------------------------------------------------------------------------- selecting units


def _unit(row) -> census.Unit:
    pop = row.pop_total
    return census.Unit(unit_id=row.unit_id, code=row.code, name=row.name, level=row.level,
                       province=row.province, prefecture=row.prefecture,
                       pop_total=None if pd.isna(pop) else int(pop),
                       parent_name=row.parent_name, census_year=2020)


def _descendants(units: pd.DataFrame, root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for uid, parent in zip(units.unit_id, units.parent_id, strict=True):
        children.setdefault(parent, []).append(uid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def select_units(level: str | None = None, within: str | None = None,
                 codes: tuple[str, ...] = ()) -> list[census.Unit]:
    """2020 units to backtest: the named ones, or those of ``level`` (default prefecture),
    optionally only inside ``within`` (a code or name of a 2020 unit)."""
    if codes:
        return [census.resolve_unit(c) for c in codes]
    level = level or "prefecture"
    if level not in LEVELS:
        raise UnitError(f"unknown level '{level}'", field="--level",
                        fix=f"use one of {', '.join(LEVELS)}")
    units = census.load_units(2020)
    chosen = units[units.level == level]
    if within:
        root = census.resolve_unit(within)
        inside = _descendants(units, root.unit_id)
        chosen = chosen[chosen.unit_id.isin(inside)]
        if chosen.empty:
            raise UnitError(f"{root.name} ({root.code or root.unit_id}) contains no "
                            f"{level}-level units", field="--within",
                            fix="choose a larger unit or another --level")
    return [_unit(r) for r in chosen.itertuples(index=False)]


# ----------------------------------------------------------------------------- band sums


def band_sums(population: np.ndarray) -> dict[str, np.ndarray]:
    """Persons per band, summed over sex and ages, for any leading axes (..., 2, 101)."""
    return {band: population[..., lo:hi].sum(axis=(-2, -1)) for band, (lo, hi) in BANDS.items()}


def national_ccr_baseline(pop_2010: np.ndarray, national_2010: np.ndarray,
                          national_2020: np.ndarray) -> np.ndarray:
    """Hamilton–Perry 2020 population (U, 2, 101) from national cohort-change ratios."""
    ratio = np.zeros_like(national_2020)
    ratio[:, HORIZON:100] = national_2020[:, HORIZON:100] / national_2010[:, :100 - HORIZON]
    out = np.zeros_like(pop_2010)
    out[..., HORIZON:100] = pop_2010[..., :100 - HORIZON] * ratio[:, HORIZON:100]
    open_from = 100 - HORIZON  # 90+ in 2010 -> 100+ in 2020
    out[..., 100] = (pop_2010[..., open_from:].sum(axis=-1)
                     * national_2020[:, 100] / national_2010[:, open_from:].sum(axis=-1))
    women = out[..., 1, 15:50].sum(axis=-1)  # (U,)
    child_woman = national_2020[:, :HORIZON] / national_2020[1, 15:50].sum()  # (2, 10)
    out[..., :HORIZON] = women[..., None, None] * child_woman
    return out


def constant_share_baseline(bands_2010: dict[str, np.ndarray], total_2020: np.ndarray,
                            national_total_2010: float, national_total_2020: float,
                            band: str) -> np.ndarray:
    """The constant-share forecast of ``band`` for 2020 (U,).

    An age band keeps its 2010 share of the unit's population, applied to the unit's real 2020
    total; the total keeps the unit's 2010 share of the nation, applied to the nation's real
    2020 total. Both use a 2020 census figure no forecast made in 2010 could have had.
    """
    if band == "total":
        return bands_2010["total"] / national_total_2010 * national_total_2020
    with np.errstate(invalid="ignore", divide="ignore"):
        return bands_2010[band] / bands_2010["total"] * total_2020


# ----------------------------------------------------------------------------- the backtest


def base_2010_keys(units: list[census.Unit]) -> list[tuple[str | None, str]]:
    """Per unit, the key of its area in the 2010 census (or None) and, if it cannot be
    backtested, why: no 2010 area, or an area apportioned with 2020 counts (a split unit)."""
    out = []
    for unit in units:
        key, note = match_2010(unit)
        if key is None:
            out.append((None, note))
        elif "apportioned" in note:
            out.append((None, "its 2010 area is part of a unit split after 2010, apportioned "
                              "with 2020 counts (not a forecast made with 2010 knowledge)"))
        else:
            out.append((key, ""))
    return out


def _project_2010_base(units: list[census.Unit], consistent: bool = True) -> np.ndarray:
    """Projected 1 Nov 2020 population (U, 2, 101) from default 2010-base inputs (controlled
    top down to the parents' 2010-base projections where ``consistent``)."""
    if not units:
        return np.zeros((0, 2, 101))
    if consistent:
        defaults = defaults_for(units, 2010, 2010 + HORIZON, consistent=True)
        return project_defaults(defaults).population[:, -1]
    out = []
    for start in range(0, len(units), CHUNK):
        defaults = build_defaults(units[start:start + CHUNK], 2010, 2010 + HORIZON)
        out.append(project_defaults(defaults).population[:, -1])
    return np.concatenate(out)


def run_backtest(units: list[census.Unit], published: bool = True, consistent: bool = True,
                 timer: StageTimer | None = None) -> BacktestResult:
    """Backtest ``units`` (2020 census units) from 2010 to 2020; see the module docstring.
    ``timer`` times the stages (projection_2010, scoring, published), e.g. for progress
    lines."""
    started = time.perf_counter()
    timer = timer or StageTimer()
    with timer.stage("projection_2010"):
        result = _backtest_units(units, consistent)
    if published:
        with timer.stage("published"):
            result.published = published_comparison(consistent=consistent)
    result.seconds = time.perf_counter() - started
    return result


def _backtest_units(units: list[census.Unit], consistent: bool) -> BacktestResult:
    """The 2010 -> 2020 projection of ``units`` scored on the 2020 census."""
    keys = base_2010_keys(units)
    groups = census_groups([k or "" for k, _ in keys], 2010)
    usable = np.isfinite(groups).all(axis=(1, 2)) & (np.nan_to_num(groups).sum(axis=(1, 2)) > 0)
    skipped = pd.DataFrame(
        [{"unit_id": u.unit_id, "code": u.code, "name": u.name, "level": u.level,
          "reason": reason or "no 2010 census population for this 2020 unit"}
         for u, ok, (_, reason) in zip(units, usable, keys, strict=True) if not ok],
        columns=["unit_id", "code", "name", "level", "reason"])
    kept = [u for u, ok in zip(units, usable, strict=True) if ok]
    kept_ids = [u.unit_id for u in kept]
    kept_keys = [k for (k, _), ok in zip(keys, usable, strict=True) if ok]
    projected = _project_2010_base(kept, consistent)
    observed = base_population(kept_ids, 2020)
    pop_2010 = base_population(kept_keys, 2010) if kept else np.zeros((0, 2, 101))
    national_2010 = base_population([census.NATIONAL_ID], 2010)[0]
    national_2020 = base_population([census.NATIONAL_ID], 2020)[0]
    ccr = national_ccr_baseline(pop_2010, national_2010, national_2020)

    bands_projected, bands_observed = band_sums(projected), band_sums(observed)
    bands_ccr, bands_2010 = band_sums(ccr), band_sums(pop_2010)
    nat_2010, nat_2020 = band_sums(national_2010), band_sums(national_2020)
    rows = []
    for band in BANDS:
        share = constant_share_baseline(bands_2010, bands_observed["total"], nat_2010["total"],
                                        nat_2020["total"], band)
        for i, unit in enumerate(kept):
            census_count = float(bands_observed[band][i])
            rows.append({
                "unit_id": unit.unit_id, "code": unit.code, "name": unit.name,
                "level": unit.level, "province": unit.province, "band": band,
                "census_2020": census_count, "projected_2020": float(bands_projected[band][i]),
                "ccr_2020": float(bands_ccr[band][i]), "share_2020": float(share[i])})
    table = pd.DataFrame(rows, columns=["unit_id", "code", "name", "level", "province", "band",
                                        "census_2020", "projected_2020", "ccr_2020",
                                        "share_2020"])
    with np.errstate(invalid="ignore", divide="ignore"):
        for column, source in (("error", "projected_2020"), ("error_ccr", "ccr_2020"),
                               ("error_share", "share_2020")):
            table[column] = table[source] / table["census_2020"] - 1.0
    table = table.replace([np.inf, -np.inf], np.nan)
    return BacktestResult(units=table, summary=summarise(table), skipped=skipped,
                          consistent=consistent)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """MAPE, median |e|, bias, p90 |e| per level and band; ratios to the naive baselines."""
    rows = []
    for (level, band), part in table.groupby(["level", "band"], sort=False):
        part = part[np.isfinite(part.error)]
        if part.empty:
            continue
        absolute = part.error.abs()
        row = {"level": level, "band": band, "n": len(part), "mape": absolute.mean(),
               "median": absolute.median(), "bias": part.error.mean(),
               "p90": absolute.quantile(0.9)}
        for baseline in BASELINES:
            mape = part[f"error_{baseline}"].abs().mean()
            row[f"mape_{baseline}"] = mape
            row[f"ratio_{baseline}"] = row["mape"] / mape if mape > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- published series


PUBLISHED_FILES = ("nbs_births_1949_2023.csv", "nbs_national_2021_2023.csv",
                   "registered_vital_rates.csv")
COUNT_INDICATORS = ("births", "deaths", "aged_60_plus", "aged_65_plus")
RATE_INDICATORS = {"crude_birth_rate": "births", "crude_death_rate": "deaths"}


def published_series() -> pd.DataFrame:
    """code, area, year, indicator, published, source: every published figure shipped in
    data/ that the comparison can use (counts in persons, rates per 1,000). Later files win
    for the same code, year and indicator; a file not (yet) shipped is skipped."""
    rows = []
    births = pd.read_csv(data_dir() / PUBLISHED_FILES[0])
    for r in births.itertuples(index=False):
        rows.append({"code": census.NATIONAL_ID, "area": "全国", "year": int(r.year),
                     "indicator": "births", "published": float(r.births_10k) * 1e4,
                     "source": f"NBS births (万人), data/{PUBLISHED_FILES[0]}"})
    national = data_dir() / PUBLISHED_FILES[1]
    if national.is_file():
        for r in pd.read_csv(national).itertuples(index=False):
            scale = 1e4 if r.unit == "10k persons" else 1.0
            rows.append({"code": census.NATIONAL_ID, "area": "全国", "year": int(r.year),
                         "indicator": r.indicator, "published": float(r.value) * scale,
                         "source": f"{r.source}; data/{PUBLISHED_FILES[1]}"})
    registered = data_dir() / PUBLISHED_FILES[2]
    if registered.is_file():
        table = pd.read_csv(registered, dtype={"code": str})
        for r in table.itertuples(index=False):
            if r.indicator not in COUNT_INDICATORS and r.indicator not in RATE_INDICATORS:
                continue
            scale = 1e4 if str(r.unit).startswith("10k") else 1.0
            rows.append({"code": str(r.code), "area": r.area, "year": int(r.year),
                         "indicator": r.indicator, "published": float(r.value) * scale,
                         "source": f"{r.source}; data/{PUBLISHED_FILES[2]}"})
    frame = pd.DataFrame(rows, columns=["code", "area", "year", "indicator", "published",
                                        "source"])
    return frame.drop_duplicates(["code", "year", "indicator"], keep="last")


def _projected_figures(defaults, step_years: np.ndarray) -> dict[tuple[int, int, str], float]:
    """(unit row, calendar year, indicator) -> projected figure: births and deaths of the step
    1 Nov t-1 → 1 Nov t against calendar year t (per 1,000 of the step's mean population for
    rates); persons aged 60+/65+ on 31 December t, interpolated between 1 Novembers."""
    projected = project_defaults(defaults)
    out = {}
    for i in range(len(defaults.unit_ids)):
        for t, step in enumerate(step_years):
            year = int(step) + 1
            births = float(projected.births[i, t])
            deaths = float(projected.deaths[i, t].sum())
            mean_population = 0.5 * float(projected.population[i, t].sum()
                                          + projected.population[i, t + 1].sum())
            out[(i, year, "births")] = births
            out[(i, year, "deaths")] = deaths
            out[(i, year, "crude_birth_rate")] = 1000 * births / mean_population
            out[(i, year, "crude_death_rate")] = 1000 * deaths / mean_population
        for t in range(len(step_years) - 1):  # 31 Dec of year t+1 lies 2/12 into step t+1
            year = int(step_years[t]) + 1
            now, later = projected.population[i, t + 1], projected.population[i, t + 2]
            for indicator, age in (("aged_60_plus", 60), ("aged_65_plus", 65)):
                value = now[:, age:].sum() + (later[:, age:].sum() - now[:, age:].sum()) / 6
                out[(i, year, indicator)] = float(value)
    return out


def published_comparison(years: tuple[int, ...] = (2021, 2022, 2023), consistent: bool = True
                         ) -> pd.DataFrame:
    """The 2020-base default projections of the nation and of every province with a shipped
    published figure, against those figures (births, deaths, crude rates, 60+, 65+)."""
    published = published_series()
    published = published[published.year.isin(years)]
    codes = [census.NATIONAL_ID] + sorted(c for c in set(published.code)
                                          if c != census.NATIONAL_ID)
    units = [census.resolve_unit(c) for c in codes]
    last = max(years) + 1  # one more step for the 31 December interpolation
    defaults = defaults_for(units, 2020, last, consistent)
    figures = _projected_figures(defaults, defaults.settings.step_years)
    rows = []
    for r in published.itertuples(index=False):
        value = figures.get((codes.index(r.code), r.year, r.indicator))
        if value is None:
            continue
        timing = ("31 December (projection interpolated between 1 Novembers)"
                  if r.indicator.startswith("aged") else
                  "calendar year (projection: 1 Nov of the year before to 1 Nov)")
        rows.append({"code": r.code, "area": r.area, "year": r.year, "indicator": r.indicator,
                     "published": r.published, "projected": value,
                     "error": value / r.published - 1.0, "timing": timing,
                     "source": r.source})
    return pd.DataFrame(rows, columns=["code", "area", "year", "indicator", "published",
                                       "projected", "error", "timing", "source"])


# ----------------------------------------------------------------------------- outputs


def format_summary(result: BacktestResult) -> str:
    """The terminal text: one line per level and band, then the skipped units."""
    lines = ["defaults controlled top down to their parents (forecast.defaults.consistency)"
             if result.consistent else "each unit's own defaults (--no-consistency)"]
    lines += [f"{'level':<11}{'band':<7}{'n':>5}{'MAPE':>8}{'median':>8}{'bias':>8}{'p90':>8}"
             f"{'÷ccr':>7}{'÷share':>8}"]
    for r in result.summary.itertuples(index=False):
        lines.append(f"{r.level:<11}{r.band:<7}{r.n:>5}{r.mape:>8.1%}{r.median:>8.1%}"
                     f"{r.bias:>+8.1%}{r.p90:>8.1%}{r.ratio_ccr:>7.2f}{r.ratio_share:>8.2f}")
    tried = len(result.skipped) + result.units.unit_id.nunique()
    lines.append(f"Of {tried} units tried, {len(result.skipped)} cannot be backtested"
                 + (": " + ", ".join(f"{r.name} ({r.code or r.unit_id})"
                                     for r in result.skipped.head(12).itertuples(index=False))
                    + (" …" if len(result.skipped) > 12 else "") if len(result.skipped) else ""))
    for r in result.published.itertuples(index=False):
        decimals = 2 if "rate" in r.indicator else 0
        lines.append(f"{r.area} {r.year} {r.indicator}: published {r.published:,.{decimals}f}, "
                     f"projected {r.projected:,.{decimals}f} ({r.error:+.1%})")
    return "\n".join(lines)


def error_chart(result: BacktestResult, path_stem: Path) -> tuple[Path, Path]:
    """Errors by unit: one panel per band, units sorted by error, the naive baselines' MAPE."""
    from matplotlib.figure import Figure

    from forecast.presentation.charts import save_figure
    from forecast.presentation.fonts import chart_style

    with chart_style("zh"):
        fig = Figure(figsize=(9, 7.5), layout="constrained")
        axes = fig.subplots(3, 2, sharey=False).ravel()
        for ax, band in zip(axes, BANDS, strict=True):
            part = result.units[(result.units.band == band) & np.isfinite(result.units.error)]
            for level, marker in zip(LEVELS, ("s", "o", "."), strict=True):
                rows = part[part.level == level].sort_values("error")
                if rows.empty:
                    continue
                x = np.linspace(0, 1, len(rows)) if len(rows) > 1 else np.array([0.5])
                ax.plot(x, 100 * rows.error.to_numpy(), marker, ms=3, ls="none",
                        label=f"{level} (n={len(rows)})")
            ax.axhline(0, color="black", lw=0.8)
            ax.set_title(f"{band}: projected ÷ census 2020 − 1")
            ax.set_ylabel("error, %")
            ax.set_xlabel("units, sorted by error")
            ax.set_xticks([])
        axes[0].legend(fontsize=7)
        fig.suptitle("Backtest 2010 → 2020, default inputs with 2010 knowledge only, by unit")
        return save_figure(fig, path_stem)


def backtest_html(result: BacktestResult, svg: str) -> str:
    """A self-contained page: summary table, the error chart, skipped units, published series."""
    def table(frame: pd.DataFrame, formats: dict[str, str]) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
        body = []
        for row in frame.itertuples(index=False):
            cells = []
            for column, value in zip(frame.columns, row, strict=True):
                fmt = formats.get(column)
                text = (format(value, fmt) if fmt and isinstance(value, (int, float))
                        and np.isfinite(value) else str(value))
                cells.append(f"<td>{html.escape(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    percent = {c: ".1%" for c in ("mape", "median", "bias", "p90", "mape_ccr", "mape_share",
                                  "error")}
    ratios = {"ratio_ccr": ".2f", "ratio_share": ".2f", "published": ",.0f", "projected": ",.0f"}
    svg_body = svg[svg.find("<svg"):]
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>forecast backtest 2010 → 2020</title><style>body{font-family:sans-serif;"
        "max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;"
        "font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}"
        "svg{width:100%;height:auto}</style></head><body>",
        "<h1>Backtest 2010 → 2020</h1>",
        "<p>Default inputs from the 2010 census and what was known in 2010 (WPP estimates up to "
        "2005–2010, a constant TFR at the 2010 census's birth level, net migration from the "
        "2010 census's net migrant stock: residents minus 户籍-registered persons ÷ 15 years, "
        "Rogers–Castro ages), projected to 1 November 2020 and compared "
        "with the 2020 census. Error = projected ÷ census − 1. Naive baselines: <b>ccr</b> "
        "national cohort-change ratios (Hamilton–Perry), <b>share</b> the band's 2010 share of "
        "the unit's population times the unit's real 2020 total (for the total: its 2010 share "
        "of the nation times the nation's 2020 total); a ratio below 1 beats it.</p>",
        table(result.summary, {**percent, **ratios}),
        f"<figure>{svg_body}<figcaption>Errors by unit and band.</figcaption></figure>",
        f"<h2>Units that cannot be backtested ({len(result.skipped)})</h2>",
        table(result.skipped, {}) if len(result.skipped) else "<p>None.</p>",
        "<h2>2020-base projection against published series</h2>",
        table(result.published, {**percent, **ratios}) if len(result.published)
        else "<p>No published series shipped.</p>",
        f"<p>Computed in {result.seconds:.1f} s.</p></body></html>"]
    return "\n".join(parts)


def write_backtest(result: BacktestResult, directory: Path) -> list[str]:
    """backtest_units.csv, backtest_summary.csv, backtest_skipped.csv, backtest_published.csv,
    backtest_errors.png/.svg and backtest.html in ``directory`` (a staging directory)."""
    directory = Path(directory)
    result.units.to_csv(directory / "backtest_units.csv", index=False)
    result.summary.to_csv(directory / "backtest_summary.csv", index=False)
    result.skipped.to_csv(directory / "backtest_skipped.csv", index=False)
    result.published.to_csv(directory / "backtest_published.csv", index=False)
    png, svg = error_chart(result, directory / "backtest_errors")
    (directory / "backtest.html").write_text(
        backtest_html(result, svg.read_text(encoding="utf-8")), encoding="utf-8")
    return sorted(p.name for p in directory.iterdir())


__all__ = ["BANDS", "BacktestResult", "band_sums", "format_summary", "national_ccr_baseline",
           "published_comparison", "run_backtest", "select_units", "summarise", "write_backtest"]
