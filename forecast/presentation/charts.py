"""Publication-quality charts, Chinese labels by default (``lang="en"`` for English).

Every function takes tidy DataFrames and returns a :class:`matplotlib.figure.Figure`, built
with ``Figure`` directly (Agg canvas, no pyplot global state) under
:func:`forecast.presentation.fonts.chart_style`.
Save with :func:`save_figure`, which writes ``<stem>.png`` (200 dpi) and ``<stem>.svg`` (glyphs
as paths, so the SVG needs no font).

Sizes suit a figure pasted at half an A4 page width: 6.4 × 4 in, text 9–12 pt. Colours are the
Okabe–Ito palette (colour-blind safe); lines also differ in style so that grey-scale prints work.
Axis labels state units (人, 万人, 张, 个 / persons, beds, places) and every figure carries a
source line.

Input tables (columns):

- ``population``: ``[scenario,] year, sex, age, population`` (persons; the last age is open).
- ``summary``: ``[scenario,] year, total, pop_0_2, pop_60plus, pop_80plus, …`` (persons).
- ``gaps``: ``[scenario,] year, service, method, demand, supply[, gap, status]`` (beds or
  places; ``supply`` NaN where the plan states none). Shortfalls are computed here as
  ``supply < demand``, so the sign convention of ``gap`` does not matter.
- ``targets``: ``service, year, kind, value[, label]``. ``kind`` is ``count`` (beds or places;
  also accepted: ``absolute``, ``total``, ``number``, ``beds``, ``places``) or a rate
  ``per_1000_60plus``, ``per_1000_65plus``, ``per_1000_80plus``, ``per_1000_total``
  (alias ``per_1000_population``), ``per_1000_under3``, turned into a count with ``summary``
  when it is given; other kinds (shares) are written in the chart's note.
- fan-chart quantiles: ``year, q025, q10, q50, q90, q975``.
- trend fit: ``year, observed, fitted, forecast, lower, upper`` (NaN where not applicable).
"""

from __future__ import annotations

import os
import re
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # non-interactive; we never touch pyplot, but be explicit

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure, SubFigure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from forecast.demography.indicators import count_from_rate  # noqa: E402
from forecast.errors import InputError  # noqa: E402
from forecast.presentation.fonts import SMALL_FONT_SIZE, chart_style, check_language  # noqa: E402
from forecast.vocabulary import BED_METHODS, SEXES, TARGET_ORIGINS  # noqa: E402

FIGURE_SIZE = (6.4, 4.0)  # inches
SAVE_DPI = 200

# Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#666666",
}
# Eight colours and seven line styles: lengths without a common factor, so the first 56
# series all differ in colour or style (the eighth is grey and solid, the ninth blue and
# dashed, unlike the first, blue and solid).
SERIES_COLOURS = [PALETTE[name] for name in
                  ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "black",
                   "grey")]
SERIES_STYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2))]
SEX_COLOURS = {"male": PALETTE["blue"], "female": PALETTE["vermillion"]}
METHOD_ORDER = BED_METHODS
METHOD_STYLE = {
    "norm": (PALETTE["blue"], "-"),
    "needs": (PALETTE["orange"], "--"),
    "expected_use": (PALETTE["vermillion"], (0, (1, 1.5))),
    "rule_9073": (PALETTE["green"], "-."),
}
SUPPLY_COLOUR = PALETTE["black"]
TARGET_COLOUR = PALETTE["purple"]
SHORTFALL_COLOUR = PALETTE["vermillion"]

# Every label comes from forecast.presentation.labels (one module for all display text);
# re-exported here.
from forecast.presentation.labels import (  # noqa: E402,F401
    CHART_TEXT,
    LABELS,
    label,
    method_label,
    punctuation,
    target_label,
    unit_label,
)

# What each indicator counts: decides the unit on the axis.
INDICATOR_UNIT = {
    "total": "persons", "pop_total": "persons", "births": "persons", "deaths": "persons",
    "pop_0_2": "persons", "pop_60plus": "persons", "pop_65plus": "persons",
    "pop_80plus": "persons",
    "share_0_2": "percent", "share_60plus": "percent", "share_65plus": "percent",
    "share_80plus": "percent", "coverage": "percent",
    "elderly_beds": "beds", "nursing_beds": "beds", "childcare_places": "places",
    "tfr": "per_woman", "tfr_china": "per_woman", "e0": "years",
}
UNIT_KINDS = ("persons", "beds", "places", "percent", "per_woman", "years")

COUNT_TARGET_KINDS = {"count", "absolute", "total", "number", "beds", "places"}
# Target kind -> (summary column in persons, divisor): count = value × column / divisor.
# Kind names follow forecast.care.supply.TARGET_KINDS; the others are accepted aliases.
TARGET_DENOMINATOR = {
    "per_1000_elderly": ("pop_60plus", 1000.0),
    "per_1000_60plus": ("pop_60plus", 1000.0),
    "per_1000_population": ("total", 1000.0),
    "per_1000_total": ("total", 1000.0),
    "coverage_under3": ("pop_0_2", 1.0),  # places per child aged 0–2
}
_TOTAL_ALIASES = {"total": "pop_total"}  # forecast.care.demand.drivers calls it pop_total

_FIGURE_LANGUAGE: weakref.WeakKeyDictionary[Figure, str] = weakref.WeakKeyDictionary()


def source_line(lang: str = "zh", plan_document: str | None = None,
                census: bool = True) -> str:
    """The source line of a chart: the census (unless ``census=False``), the plan document
    if named, and this tool's projection.

    ``source_line("zh", "红河州“十四五”养老服务体系规划")`` gives
    ``资料来源：第七次全国人口普查；《红河州“十四五”养老服务体系规划》；本工具预测``; a Chinese
    title is put in 《》 unless it already is. Without a document the line is the charts' default
    (``LABELS[lang]["source"]`` or, with ``census=False``, ``["source_projection"]``).
    """
    check_language(lang)
    parts = [label("source_census", lang)] if census else []
    document = (plan_document or "").strip()
    if document:
        if not document.startswith("《"):
            document = CHART_TEXT[lang]["document_title"].format(document)
        parts.append(document)
    parts.append(label("source_tool", lang))
    return label("source_prefix", lang) + label("source_separator", lang).join(parts)


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------
def save_figure(fig: Figure, path_stem: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<path_stem>.png`` (200 dpi) and ``<path_stem>.svg`` (text as paths).

    Each file is written beside its destination under a temporary name and then moved into
    place, so a reader never sees half a file. Returns the two paths (png, svg).
    """
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    lang = _FIGURE_LANGUAGE.get(fig, "zh")
    written = []
    with chart_style(lang):
        for extension, metadata in (("png", {"Software": None}),
                                    ("svg", {"Date": None, "Creator": None})):
            destination = stem.with_name(f"{stem.name}.{extension}")
            handle, temporary = tempfile.mkstemp(prefix=f".{stem.name}.", suffix=f".{extension}",
                                                 dir=stem.parent)
            os.close(handle)
            try:
                fig.savefig(temporary, format=extension, dpi=SAVE_DPI, metadata=metadata)
                if extension == "svg":
                    _number_clip_paths(Path(temporary))
                os.replace(temporary, destination)
                # Laid out once: the SVG keeps the PNG's positions instead of running the
                # constrained layout again (a third pass after the one in _finish).
                fig.set_layout_engine("none")
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            written.append(destination)
    return written[0], written[1]


_CLIP_ID = re.compile(r"\bp[0-9a-f]{10}\b")


def _number_clip_paths(path: Path) -> None:
    """Replace matplotlib's clip-path ids (a hash of the clip rectangle at full float
    precision, which constrained layout perturbs in the 16th digit from one process to the
    next) by their order of appearance, so the same chart gives the same bytes."""
    text = path.read_text(encoding="utf-8")
    order: dict[str, str] = {}
    text = _CLIP_ID.sub(lambda m: order.setdefault(m.group(0), f"p{len(order):010d}"), text)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def _require_columns(frame: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"the {table} table lacks column(s) {', '.join(missing)}",
                         fix=f"give the {table} table the columns {', '.join(columns)}")
    if frame.empty:
        raise InputError(f"the {table} table is empty", fix="pass a table with at least one row")


def _one_scenario(frame: pd.DataFrame, scenario: str | None, table: str) -> pd.DataFrame:
    """The rows of one scenario; a table without a ``scenario`` column is one scenario."""
    if "scenario" not in frame.columns:
        if scenario is not None:
            raise InputError(f"the {table} table has no scenario column, so scenario="
                             f"{scenario!r} cannot be chosen", fix="pass scenario=None")
        return frame
    names = list(pd.unique(frame["scenario"]))
    if scenario is None:
        if len(names) > 1:
            raise InputError(f"the {table} table holds scenarios {', '.join(map(str, names))}",
                             field="scenario", fix="pass scenario= one of them")
        return frame
    chosen = frame[frame["scenario"] == scenario]
    if chosen.empty:
        raise InputError(f"the {table} table has no scenario {scenario!r} "
                         f"(it has {', '.join(map(str, names))})", field="scenario",
                         fix="pass one of the scenarios it has")
    return chosen


def _with_total(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``total`` column, from ``pop_total`` (the drivers' name) if need be."""
    if "total" not in frame.columns and "pop_total" in frame.columns:
        return frame.assign(total=frame["pop_total"])
    return frame


def _indicator_values(frame: pd.DataFrame, indicator: str, table: str) -> pd.Series:
    """Column ``indicator``; ``share_X`` in per cent: 100 × ``pop_X`` / ``total``, else
    100 × the ``share_X`` column (tables hold shares as fractions, as summary.csv does)."""
    frame = _with_total(frame)
    if indicator.startswith("share_"):
        numerator = "pop_" + indicator.removeprefix("share_")
        if numerator in frame.columns and "total" in frame.columns:
            return 100.0 * frame[numerator].astype(float) / frame["total"].astype(float)
        if indicator in frame.columns:
            return 100.0 * frame[indicator].astype(float)
    if indicator in frame.columns:
        return frame[indicator].astype(float)
    raise InputError(f"the {table} table lacks column {indicator}", field=indicator,
                     fix="name a column the table has")


def _count_scale(max_value: float, unit: str, lang: str) -> tuple[float, str]:
    """Divisor and unit text for an axis of counts whose largest value is ``max_value``."""
    if unit == "persons":
        if lang == "zh":
            return (1e4, unit_label("ten_thousand_persons", lang)) if max_value >= 1e5 \
                else (1.0, unit_label("persons", lang))
        return (1e3, unit_label("thousand_persons", lang)) if max_value >= 1e4 \
            else (1.0, unit_label("persons", lang))
    return 1.0, unit_label(unit, lang)


def _format_number(value: float) -> str:
    """``12,000``, ``2.5``, ``0.25``: thousands separators, no trailing zeros, ASCII minus."""
    if not np.isfinite(value):
        return ""
    if abs(value - round(value)) < 1e-9 * max(1.0, abs(value)):
        return f"{round(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


class _ValueFormatter(Formatter):
    """Tick labels with thousands separators and the same number of decimals on every tick
    (``0.8, 1.0, 1.2``, not ``0.8, 1, 1.2``); values are divided by ``divisor`` first."""

    def __init__(self, divisor: float = 1.0, absolute: bool = False) -> None:
        self.divisor = divisor
        self.absolute = absolute
        self.decimals = 0

    def set_locs(self, locs: Sequence[float]) -> None:
        super().set_locs(locs)
        shown = [abs(loc) / self.divisor for loc in locs]
        self.decimals = max((_decimals_needed(value) for value in shown), default=0)

    def __call__(self, value: float, pos: int | None = None) -> str:
        shown = value / self.divisor
        shown = abs(shown) if self.absolute else shown
        text = f"{shown:,.{self.decimals}f}"
        return text[1:] if text.startswith("-") and float(shown) == 0 else text


def _decimals_needed(value: float, most: int = 3) -> int:
    for decimals in range(most + 1):
        if abs(value - round(value, decimals)) < 1e-9 * max(1.0, abs(value)):
            return decimals
    return most


def _value_formatter(divisor: float = 1.0, absolute: bool = False) -> Formatter:
    return _ValueFormatter(divisor, absolute)


def _axis_title(name: str, unit_text: str | None, lang: str) -> str:
    if not unit_text:
        return name
    return name + punctuation(lang)["parenthesis"].format(unit_text)


def _year_axis(ax: Axes, lang: str, show_label: bool = True) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{int(round(value))}"))
    if show_label:
        ax.set_xlabel(label("year", lang))


def _year_text(year: int, lang: str) -> str:
    return f"{int(year)}{label('year_suffix', lang)}"


def _new_figure(lang: str, nrows: int = 1, height_ratios: Sequence[float] | None = None,
                sharex: bool = True) -> tuple[Figure, SubFigure, list[Axes]]:
    """A figure split into the chart (title, axes, legend) and a footer strip for the source.

    The split lets constrained layout place a legend below the axes without it running into
    the source line.
    """
    fig = Figure(figsize=FIGURE_SIZE, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.03, w_pad=0.04, hspace=0.0)
    main, _footer = fig.subfigures(2, 1, height_ratios=[1.0, 0.055], hspace=0.0)
    axes = main.subplots(nrows, 1, sharex=sharex, squeeze=False,
                         gridspec_kw={"height_ratios": height_ratios} if height_ratios else None)
    _FIGURE_LANGUAGE[fig] = lang
    return fig, main, [row[0] for row in axes]


def _finish(fig: Figure, main: SubFigure, lang: str, title: str | None, default_title: str,
            source: str | None, default_source: str = "source") -> Figure:
    """Add title and source line, then lay the figure out while the chart style is active.

    Drawing once here creates tick labels under the chart style, so they keep the CJK font
    even if the caller later saves the figure outside :func:`chart_style`.
    """
    heading = default_title if title is None else title
    if heading:
        main.suptitle(heading)  # the CJK font has one weight: no bold
    source_text = label(default_source, lang) if source is None else source
    if source_text:
        _source_text(fig, source_text)
    fig.draw_without_rendering()
    return fig


SOURCE_MARGIN = 0.01  # figure fraction left (and kept free right) of the source line
SMALLEST_SOURCE_SIZE = 7.5  # points; below this the line wraps instead of shrinking
FOOTER_LINE_RATIO = 0.055  # footer height per source line, as a fraction of the chart's
# Break a source line after these (or before a 《title》), never inside a word.
_SOURCE_BREAK = re.compile(r"(?<=[；;，,、：:\s])|(?=《)")


def _source_text(fig: Figure, text: str) -> None:
    """Write ``text`` in the footer at the small size; a line wider than the figure is drawn
    smaller (down to :data:`SMALLEST_SOURCE_SIZE`), and if still too wide wrapped onto more
    lines at that size, the footer growing to hold them. The text is never clipped."""
    footer = fig.subfigs[1]
    artist = footer.text(SOURCE_MARGIN, 0.5, text, ha="left", va="center",
                         fontsize=SMALL_FONT_SIZE, color=PALETTE["grey"])
    room = fig.bbox.width * (1.0 - 2 * SOURCE_MARGIN)

    def width(candidate: str) -> float:
        artist.set_text(candidate)
        return artist.get_window_extent().width

    size = SMALL_FONT_SIZE
    while width(text) > room and size > SMALLEST_SOURCE_SIZE:
        size = max(size - 0.5, SMALLEST_SOURCE_SIZE)
        artist.set_fontsize(size)
    lines = [text] if width(text) <= room else _wrap(text, width, room)
    artist.set_text("\n".join(lines))
    if len(lines) > 1:
        # the chart and footer share the figure height: give the footer one strip per line
        grid = fig.subfigs[0]._subplotspec.get_gridspec()
        grid.set_height_ratios([1.0, FOOTER_LINE_RATIO * len(lines)])


def _wrap(text: str, width, room: float) -> list[str]:
    """Greedy line breaking of ``text`` at :data:`_SOURCE_BREAK` (at characters where a piece
    alone is too wide) so that ``width(line) <= room`` for every line."""
    pieces: list[str] = []
    for piece in (piece for piece in _SOURCE_BREAK.split(text) if piece):
        pieces.extend([piece] if width(piece) <= room else list(piece))
    lines = [""]
    for piece in pieces:
        joined = lines[-1] + piece
        if lines[-1] and width(joined.rstrip()) > room:
            lines.append(piece.lstrip())
        else:
            lines[-1] = joined
    return [line.rstrip() for line in lines if line.strip()]


def _note(ax: Axes, lines: Sequence[str], loc: str = "upper left") -> None:
    if not lines:
        return
    x, ha = (0.02, "left") if loc == "upper left" else (0.98, "right")
    ax.text(x, 0.97, "\n".join(lines), transform=ax.transAxes, ha=ha, va="top",
            fontsize=SMALL_FONT_SIZE, color=PALETTE["black"],
            bbox={"boxstyle": "round,pad=0.35", "facecolor": "white",
                  "edgecolor": PALETTE["grey"], "linewidth": 0.6, "alpha": 0.9}, zorder=6)


def _runs(years: np.ndarray, flags: np.ndarray) -> list[tuple[float, float]]:
    """Merge consecutive flagged years into spans ``(start - 0.5, end + 0.5)``."""
    spans: list[tuple[float, float]] = []
    for year, flag in zip(years, flags, strict=True):
        if not flag:
            continue
        if spans and year - 0.5 <= spans[-1][1] + 1e-9:
            spans[-1] = (spans[-1][0], year + 0.5)
        else:
            spans.append((year - 0.5, year + 0.5))
    return spans


def _legend_below(main: SubFigure, handles: Sequence[object], most_columns: int = 4,
                  **options: object) -> None:
    """A legend below the axes, outside the plotting area (constrained layout makes room).

    It takes the fewest rows, and for those rows the fewest columns, whose width fits the
    figure; so 8 scenarios give 3 rows of 3, 3, 2 in Chinese (2 columns if the names are long).
    """
    count = len(handles)
    room = main.bbox.width * 0.98
    legend = None
    for rows in range(-(-count // max(1, most_columns)), count + 1):
        columns = -(-count // rows)
        if legend is not None:
            legend.remove()
        legend = main.legend(handles=handles, loc="outside lower center", ncols=columns,
                             **options)
        if legend.get_window_extent().width <= room:
            return


def _series_style(index: int) -> tuple[str, object]:
    return (SERIES_COLOURS[index % len(SERIES_COLOURS)],
            SERIES_STYLES[index % len(SERIES_STYLES)])


# ---------------------------------------------------------------------------------------------
# 1. Population pyramid
# ---------------------------------------------------------------------------------------------
def _pyramid_counts(population: pd.DataFrame, year: int, age_width: int,
                    open_age: int) -> pd.DataFrame:
    """Persons by sex (columns) and age-group start (index) in ``year``."""
    rows = population[population["year"] == year]
    if rows.empty:
        years = sorted(pd.unique(population["year"]))
        raise InputError(f"the population table has no year {year} "
                         f"(it has {years[0]}–{years[-1]})", field="year",
                         fix="choose a year the projection covers")
    group = np.minimum((rows["age"].to_numpy() // age_width) * age_width, open_age)
    counts = (rows.assign(group=group).groupby(["group", "sex"])["population"].sum()
              .unstack("sex").reindex(columns=list(SEXES)).fillna(0.0))
    return counts.reindex(range(0, open_age + 1, age_width), fill_value=0.0)


def population_pyramid(population: pd.DataFrame, year_a: int, year_b: int | None = None, *,
                       scenario: str | None = None, age_width: int = 1,
                       title: str | None = None, lang: str = "zh",
                       source: str | None = None) -> Figure:
    """Males left, females right; ``year_a`` as filled bars, ``year_b`` as an outline.

    ``population``: ``[scenario,] year, sex, age, population`` (persons; the last age is the
    open group, labelled e.g. ``100+``). ``age_width`` 1 draws single years, 5 draws 5-year
    groups (the open group stays one bar).
    """
    check_language(lang)
    _require_columns(population, ["year", "sex", "age", "population"], "population")
    if age_width not in (1, 5):
        raise InputError(f"age_width={age_width} is not supported", field="age_width",
                         fix="use 1 (single years) or 5 (5-year groups)")
    frame = _one_scenario(population, scenario, "population")
    open_age = int(frame["age"].max())
    if age_width == 5 and open_age % 5:
        raise InputError(f"the open age {open_age} is not a multiple of 5", field="age",
                         fix="use age_width=1")
    first = _pyramid_counts(frame, year_a, age_width, open_age)
    second = None if year_b is None else _pyramid_counts(frame, year_b, age_width, open_age)
    largest = max(first.to_numpy().max(), 0.0 if second is None else second.to_numpy().max())
    divisor, unit_text = _count_scale(largest, "persons", lang)

    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        starts = first.index.to_numpy()
        centres = starts + (age_width - 1) / 2.0
        for sex, sign in (("male", -1.0), ("female", 1.0)):
            # single years: touching bars (a gap would alias into uneven white lines)
            ax.barh(centres, sign * first[sex].to_numpy(),
                    height=1.0 if age_width == 1 else age_width * 0.92,
                    color=SEX_COLOURS[sex], alpha=0.55, linewidth=0)
            if second is not None:
                edges = np.append(starts, starts[-1] + age_width) - 0.5
                ax.stairs(sign * second[sex].to_numpy(), edges, orientation="horizontal",
                          baseline=None, color=PALETTE["black"], linewidth=1.1)
        ax.axvline(0.0, color=PALETTE["black"], linewidth=0.8)
        limit = largest * 1.08
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-0.5 - 0.5 * (age_width > 1), starts[-1] + age_width - 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=7, symmetric=True))
        ax.xaxis.set_major_formatter(_value_formatter(divisor, absolute=True))
        ax.set_xlabel(_axis_title(label("population", lang), unit_text, lang))
        ax.grid(axis="y", visible=False)

        tick_starts = [start for start in starts if start % 10 == 0]
        if age_width == 1:
            ticks = tick_starts
            tick_text = [str(age) for age in tick_starts]
        else:
            ticks = [start + 2 for start in tick_starts]
            tick_text = [f"{age}–{age + 4}" for age in tick_starts]
        if open_age in tick_starts:
            tick_text[-1] = f"{open_age}{label('open_age_suffix', lang)}"
        else:
            ticks.append(open_age + (age_width - 1) / 2.0)
            tick_text.append(f"{open_age}{label('open_age_suffix', lang)}")
        ax.set_yticks(ticks, tick_text)
        ax.set_ylabel(label("age", lang))

        for sex, x, ha in (("male", 0.03, "left"), ("female", 0.97, "right")):
            ax.text(x, 0.97, label(sex, lang), transform=ax.transAxes, ha=ha, va="top",
                    fontsize=11, color=SEX_COLOURS[sex])
        handles = [Patch(facecolor=SEX_COLOURS[sex], alpha=0.55,
                         label=f"{_year_text(year_a, lang)} {label(sex, lang)}")
                   for sex in SEXES]
        if year_b is not None:
            handles.append(Line2D([], [], color=PALETTE["black"], linewidth=1.1,
                                  label=_year_text(year_b, lang)))
        ax.legend(handles=handles, loc="upper right", bbox_to_anchor=(1.0, 0.9))
        text = CHART_TEXT[lang]
        years = _year_text(year_a, lang) + ("" if year_b is None else text["second_year"].format(
            year=_year_text(year_b, lang)))
        default_title = text["pyramid_title"].format(years=years,
                                                     title=label("title_pyramid", lang))
        return _finish(fig, main, lang, title, default_title, source)


# ---------------------------------------------------------------------------------------------
# 2–3. Age-group trends
# ---------------------------------------------------------------------------------------------
def _line_with_ends(ax: Axes, years: np.ndarray, values: np.ndarray, colour: str,
                    linestyle: object, name: str, annotate: bool = False,
                    digits: int = 1) -> None:
    ax.plot(years, values, color=colour, linestyle=linestyle, label=name)
    if annotate:
        for index, ha in ((0, "left"), (-1, "right")):
            ax.annotate(f"{values[index]:,.{digits}f}", (years[index], values[index]),
                        xytext=(0, 6), textcoords="offset points", ha=ha, va="bottom",
                        fontsize=SMALL_FONT_SIZE, color=colour)


def elderly_trends(summary: pd.DataFrame, *, scenario: str | None = None, lang: str = "zh",
                   title: str | None = None, source: str | None = None) -> Figure:
    """Persons aged 60+ and 80+ (top, 万人 / thousand persons) and the 60+ share (bottom, %).

    ``summary``: ``[scenario,] year, total, pop_60plus, pop_80plus`` (persons).
    """
    check_language(lang)
    summary = _with_total(summary)
    _require_columns(summary, ["year", "total", "pop_60plus", "pop_80plus"], "summary")
    frame = _one_scenario(summary, scenario, "summary").sort_values("year")
    years = frame["year"].to_numpy()
    divisor, unit_text = _count_scale(frame["pop_60plus"].max(), "persons", lang)
    with chart_style(lang):
        fig, main, (top, bottom) = _new_figure(lang, nrows=2, height_ratios=[3, 2])
        for index, column in enumerate(("pop_60plus", "pop_80plus")):
            colour, style = _series_style(index)
            _line_with_ends(top, years, frame[column].to_numpy() / divisor, colour, style,
                            label(column, lang), annotate=True)
        top.set_ylim(bottom=0)
        top.margins(y=0.15)
        top.set_ylabel(unit_text if lang == "zh" else unit_text.capitalize())
        top.yaxis.set_major_formatter(_value_formatter())
        top.legend(loc="upper left", ncols=2)
        share = _indicator_values(frame, "share_60plus", "summary").to_numpy()
        _line_with_ends(bottom, years, share, PALETTE["green"], "-",
                        label("share_60plus", lang), annotate=True)
        bottom.set_ylabel(CHART_TEXT[lang]["share_axis"])
        bottom.margins(y=0.25)
        bottom.yaxis.set_major_locator(MaxNLocator(nbins=4))
        bottom.yaxis.set_major_formatter(_value_formatter())
        bottom.legend(loc="upper left")
        _year_axis(bottom, lang)
        main.align_ylabels([top, bottom])
        return _finish(fig, main, lang, title, label("title_elderly", lang), source)


def under3_trend(summary: pd.DataFrame, *, scenario: str | None = None, lang: str = "zh",
                 title: str | None = None, source: str | None = None) -> Figure:
    """Children aged 0–2 (persons, or 万人 / thousand persons when large) by year.

    ``summary``: ``[scenario,] year, pop_0_2`` (persons).
    """
    check_language(lang)
    _require_columns(summary, ["year", "pop_0_2"], "summary")
    frame = _one_scenario(summary, scenario, "summary").sort_values("year")
    years = frame["year"].to_numpy()
    values = frame["pop_0_2"].to_numpy(dtype=float)
    divisor, unit_text = _count_scale(values.max(), "persons", lang)
    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        shown = values / divisor
        digits = 2 if divisor > 1 and shown.max() < 10 else (1 if divisor > 1 else 0)
        ax.plot(years, shown, color=PALETTE["blue"], marker="o", markersize=3.5,
                label=label("pop_0_2", lang))
        for index, ha in ((0, "left"), (-1, "right")):
            ax.annotate(f"{shown[index]:,.{digits}f}", (years[index], shown[index]),
                        xytext=(0, 7), textcoords="offset points", ha=ha, va="bottom",
                        fontsize=SMALL_FONT_SIZE, color=PALETTE["blue"])
        ax.set_ylim(0, shown.max() * 1.18)
        ax.set_ylabel(_axis_title(label("pop_0_2", lang), unit_text, lang))
        ax.yaxis.set_major_formatter(_value_formatter())
        _year_axis(ax, lang)
        return _finish(fig, main, lang, title, label("title_under3", lang), source)


# ---------------------------------------------------------------------------------------------
# 4–5. Demand against planned supply
# ---------------------------------------------------------------------------------------------
def _target_description(kind: str, value: float, service: str, lang: str) -> str:
    """A target in words, e.g. ``每千名老人35张`` / ``35 per 1,000 aged 60+``."""
    unit = unit_label(INDICATOR_UNIT.get(service, "beds"), lang)
    number = _format_number(value)
    text = CHART_TEXT[lang]
    if kind in COUNT_TARGET_KINDS:
        return text["target_count"].format(number=number, unit=unit)
    if kind in ("per_1000_elderly", "per_1000_60plus"):
        return text["target_per_1000_elderly"].format(number=number, unit=unit)
    if kind in ("per_1000_population", "per_1000_total"):
        return text["target_per_1000_population"].format(number=number, unit=unit)
    if kind == "coverage_under3":
        return text["target_coverage_under3"].format(share=_format_number(100 * value))
    if kind == "share_nursing":
        share = _format_number(100 * value if value <= 1 else value)
        return text["target_share_nursing"].format(share=share)
    return f"{kind} {number}"


def _target_count(kind: str, value: float, year: int,
                  drivers: pd.DataFrame | None) -> float | None:
    """A rate target as a count with the projected drivers of its year, or None."""
    if kind in COUNT_TARGET_KINDS:
        return value
    if drivers is None or year not in drivers.index or kind not in TARGET_DENOMINATOR:
        return None
    column, per = TARGET_DENOMINATOR[kind]
    column = column if column in drivers.columns else _TOTAL_ALIASES.get(column, column)
    if column not in drivers.columns:
        return None
    return count_from_rate(value, float(drivers.loc[year, column]), per)


def _target_points(targets: pd.DataFrame | None, service: str, summary: pd.DataFrame | None,
                   scenario: str | None, lang: str) -> tuple[list[tuple[int, float, str]],
                                                         list[str]]:
    """Targets as (year, count, text) points, and notes for those not drawable as counts.

    A ``count`` column (as :func:`forecast.care.supply.target_consistency` gives) is used when
    present; otherwise rates are converted with ``summary`` (persons by year).
    """
    if targets is None or targets.empty:
        return [], []
    _require_columns(targets, ["service", "year", "kind", "value"], "targets")
    rows = _one_scenario(targets, scenario, "targets") if "scenario" in targets.columns \
        and scenario is not None else targets
    rows = rows[rows["service"] == service]
    unit = unit_label(INDICATOR_UNIT.get(service, "beds"), lang)
    drivers = None
    if summary is not None and not summary.empty:
        _require_columns(summary, ["year"], "summary")
        chosen = scenario if "scenario" in summary.columns else None
        drivers = _one_scenario(summary, chosen, "summary").set_index("year")
    points: list[tuple[int, float, str]] = []
    notes: list[str] = []
    seen: set[tuple[int, str, float]] = set()
    for row in rows.to_dict("records"):  # not itertuples: its rows have a .count method
        kind, year, value = str(row["kind"]), int(row["year"]), float(row["value"])
        if (year, kind, value) in seen:  # one row per driver group in a consistency table
            continue
        seen.add((year, kind, value))
        text = row.get("label")
        text = text if isinstance(text, str) and text else \
            _target_description(kind, value, service, lang)
        given = row.get("count")
        count = float(given) if given is not None and pd.notna(given) \
            else _target_count(kind, value, year, drivers)
        if count is None:
            separator = punctuation(lang)["colon"]
            notes.append(f"{label('target_not_converted', lang)}{separator}"
                         f"{_year_text(year, lang)} {text}")
            continue
        # a national target the plan did not adopt (run.py marks its source "national: ")
        origin = str(row.get("origin") or "")
        if origin not in TARGET_ORIGINS:
            origin = "national" if str(row.get("source", "")).startswith("national") \
                else "plan"
        prefix = _target_prefix(year, origin, lang)
        if kind in COUNT_TARGET_KINDS:
            points.append((year, count, prefix + text, origin))
        else:
            approx = _format_number(round(count))
            points.append((year, count, prefix + CHART_TEXT[lang]["target_approx"].format(
                text=text, approx=approx, unit=unit), origin))
    return points, notes


def _target_prefix(year: int, origin: str, lang: str) -> str:
    """The words before a target marker's value: its year and origin (plan or national)."""
    key = "target_prefix_national" if origin == "national" else "target_prefix_plan"
    return CHART_TEXT[lang][key].format(year=_year_text(year, lang),
                                        origin=target_label(origin, lang))


def _gap_target_points(rows: pd.DataFrame, unit: str, lang: str) -> list[tuple[int, float, str]]:
    """Plan targets from the ``plan_target`` column of a gaps table (counts by year)."""
    if "plan_target" not in rows.columns:
        return []
    known = rows.dropna(subset=["plan_target"])
    counts = known.groupby("year")["plan_target"].max()
    origins = (known.groupby("year")["target_origin"].first() if "target_origin" in known
               else pd.Series(dtype=object))
    unit_text = unit_label(unit, lang)
    points = []
    for year, count in counts.items():
        origin = "national" if origins.get(year) == "national" else "plan"
        number = _format_number(round(count))
        text = _target_prefix(int(year), origin, lang) + CHART_TEXT[lang]["target_count"].format(
            number=number, unit=unit_text)
        points.append((int(year), float(count), text, origin))
    return points


def _children_aged_0_2(rows: pd.DataFrame, summary: pd.DataFrame | None,
                       scenario: str | None, years: pd.Index) -> pd.Series:
    """Persons aged 0–2 by year: from ``summary``, else implied by the gaps table's
    ``demand_coverage_under3`` column (demand ÷ children, :func:`forecast.care.supply.gaps`)."""
    if summary is not None:
        _require_columns(summary, ["year", "pop_0_2"], "summary")
        chosen = scenario if "scenario" in summary.columns else None
        return (_one_scenario(summary, chosen, "summary").set_index("year")["pop_0_2"]
                .reindex(years).astype(float))
    if "demand_coverage_under3" in rows.columns:
        implied = rows["demand"] / rows["demand_coverage_under3"]
        return implied.groupby(rows["year"]).first().reindex(years).astype(float)
    raise InputError("coverage=True needs persons aged 0–2", field="summary",
                     fix="pass summary= (with pop_0_2) or coverage=False")


def _service_demand_chart(gaps: pd.DataFrame, targets: pd.DataFrame | None, service: str,
                          scenario: str | None, summary: pd.DataFrame | None,
                          coverage: bool, lang: str, title: str | None,
                          default_title: str, source: str | None) -> Figure:
    _require_columns(gaps, ["year", "service", "method", "demand", "supply"], "gaps")
    frame = _one_scenario(gaps, scenario, "gaps")
    rows = frame[frame["service"] == service]
    if rows.empty:
        services = ", ".join(map(str, pd.unique(frame["service"])))
        raise InputError(f"the gaps table has no rows for service {service} "
                         f"(it has {services})", field="service",
                         fix="compute demand for that service first")
    scenario_name = None if "scenario" not in rows.columns else rows["scenario"].iloc[0]
    demand = rows.pivot_table(index="year", columns="method", values="demand", aggfunc="first")
    methods = [m for m in METHOD_ORDER if m in demand.columns] + \
              [m for m in demand.columns if m not in METHOD_ORDER]
    demand = demand[methods].sort_index()
    years = demand.index.to_numpy()
    # each method against the supply of its own scope (forecast.care.supply.gaps: the norm with all
    # beds, the institutional methods with institutional beds)
    supply_by_method = rows.pivot_table(index="year", columns="method", values="supply",
                                        aggfunc="first", dropna=False).reindex(
        index=demand.index, columns=methods).astype(float)
    scoped = "supply_scope" in rows.columns and (rows["supply_scope"] != "total").any()
    total_rows = rows[rows["supply_scope"] == "total"] if scoped else rows
    supply = total_rows.groupby("year")["supply"].first().reindex(demand.index).astype(float)
    institutional_supply = (rows[rows["supply_scope"] != "total"].groupby("year")["supply"]
                            .first().reindex(demand.index).astype(float) if scoped else None)
    unit = INDICATOR_UNIT[service]
    unit_text = unit_label(unit, lang)
    if coverage:
        children = _children_aged_0_2(rows, summary, scenario_name, demand.index)
    if targets is None:
        points, notes = _gap_target_points(rows, unit, lang), []
    else:
        points, notes = _target_points(targets, service, summary, scenario_name, lang)

    with chart_style(lang):
        if coverage:
            fig, main, (ax, lower) = _new_figure(lang, nrows=2, height_ratios=[3, 1.6])
        else:
            fig, main, (ax,) = _new_figure(lang)
        handles: list[object] = []
        for index, method in enumerate(methods):
            colour, style = METHOD_STYLE.get(method, _series_style(index + 3))
            separator = punctuation(lang)["colon"]
            (line,) = ax.plot(years, demand[method].to_numpy(), color=colour, linestyle=style,
                              label=f"{label('demand', lang)}{separator}"
                                    f"{method_label(method, service, lang)}")
            handles.append(line)
        known = supply.notna().to_numpy()
        if known.any():
            (line,) = ax.plot(years[known], supply.to_numpy()[known], color=SUPPLY_COLOUR,
                              linewidth=3.2, solid_capstyle="butt",
                              label=label("supply_total" if scoped else "supply", lang),
                              zorder=4, marker="o" if known.sum() == 1 else None)
            handles.append(line)
            if institutional_supply is not None and institutional_supply.notna().any():
                inside = institutional_supply.notna().to_numpy()
                (line,) = ax.plot(years[inside], institutional_supply.to_numpy()[inside],
                                  color=SUPPLY_COLOUR, linewidth=1.8, linestyle=(0, (5, 2)),
                                  label=label("supply_institutional", lang), zorder=4)
                handles.append(line)
            demand_values = demand.to_numpy()
            supply_values = supply_by_method.to_numpy()
            with np.errstate(invalid="ignore"):
                short_all = known & (supply_values < demand_values).all(axis=1)
                short_some = known & (supply_values < demand_values).any(axis=1) \
                    & ~short_all
            for flags, alpha, key in ((short_all, 0.20, "shortfall_all"),
                                      (short_some, 0.08, "shortfall_some")):
                if flags.all():
                    # shading every year would cover the whole plot and mark nothing out:
                    # say it in the note instead
                    notes.insert(0, label(f"{key}_every_year", lang))
                    continue
                spans = _runs(years, flags)
                for start, end in spans:
                    ax.axvspan(start, end, color=SHORTFALL_COLOUR, alpha=alpha, linewidth=0,
                               zorder=0)
                if spans:
                    handles.append(Patch(color=SHORTFALL_COLOUR, alpha=alpha,
                                         label=label(key, lang)))
            if not known.all():
                notes.insert(0, label("supply_partly_unknown", lang))
        else:
            key = "supply_unknown_places" if unit == "places" else "supply_unknown_beds"
            notes.insert(0, label(key, lang))
        for year, value, _text, origin in points:
            ax.plot([year], [value], marker=TARGET_MARKERS[origin],
                    markersize=TARGET_MARKER_SIZE * TARGET_MARKER_SCALE[origin],
                    color=TARGET_COLOURS[origin], markeredgecolor=PALETTE["black"],
                    markeredgewidth=0.6, linestyle="none", zorder=5)
        handles += _target_handles((point[3] for point in points), lang)
        _note(ax, notes)
        top_value = np.nanmax([np.nanmax(demand.to_numpy()),
                               np.nanmax(supply.to_numpy()) if known.any() else 0.0,
                               max((point[1] for point in points), default=0.0)])
        ax.set_ylim(0, top_value * 1.22)
        ax.set_xlim(years.min() - 0.6, years.max() + 0.6)
        # the title names the service; English service names are too long for a two-panel axis
        ax.set_ylabel(_axis_title(label(service, lang), unit_text, lang) if lang == "zh"
                      else unit_text.capitalize())
        ax.yaxis.set_major_formatter(_value_formatter())
        if coverage:
            for index, method in enumerate(methods):
                colour, style = METHOD_STYLE.get(method, _series_style(index + 3))
                lower.plot(years, 100.0 * demand[method].to_numpy() / children.to_numpy(),
                           color=colour, linestyle=style)
            if known.any():
                lower.plot(years[known], 100.0 * supply.to_numpy()[known]
                           / children.to_numpy()[known], color=SUPPLY_COLOUR, linewidth=3.2)
            lower.set_ylim(bottom=0)
            lower.margins(y=0.2)
            lower.yaxis.set_major_locator(MaxNLocator(nbins=4))
            lower.yaxis.set_major_formatter(_value_formatter())
            lower.set_ylabel(CHART_TEXT[lang]["under3_axis"])
            _year_axis(lower, lang)
            main.align_ylabels([ax, lower])
        else:
            _year_axis(ax, lang)
        _legend_below(main, handles, most_columns=3, handlelength=2.6, columnspacing=1.2)
        _finish(fig, main, lang, title, default_title, source)
        # labels go where the laid-out axes leave room, so after the layout; they take no
        # part in it (in_layout False), so the figure needs no drawing again before it is
        # saved (a second draw here changed no byte of the PNG or SVG of any shipped config's
        # bed, nursing-bed or childcare chart, in either language)
        _place_target_labels(ax, points)
        return fig


def bed_demand_chart(gaps: pd.DataFrame, targets: pd.DataFrame | None = None, *,
                     service: str = "elderly_beds", scenario: str | None = None,
                     summary: pd.DataFrame | None = None, lang: str = "zh",
                     title: str | None = None, source: str | None = None,
                     plan_document: str | None = None) -> Figure:
    """Bed demand by method (lines) against planned supply (thick line) and targets (stars).

    Years where supply is below every method's demand are shaded dark, below some methods'
    light. ``service`` is ``elderly_beds`` or ``nursing_beds``. A target given as a rate
    (``per_1000_60plus`` …) is drawn as beds when ``summary`` supplies its denominator, else
    written in the note. With no supply at all the chart says so (规划未给出床位数).
    Each target is labelled where its label crosses no line (:func:`_place_target_labels`).
    ``plan_document`` (the plan's title) is cited in the source line, see :func:`source_line`;
    an explicit ``source`` wins.
    """
    check_language(lang)
    if service not in ("elderly_beds", "nursing_beds"):
        raise InputError(f"service {service!r} is not a kind of bed", field="service",
                         fix="use elderly_beds or nursing_beds")
    default_title = label("title_beds", lang).format(service=label(service, lang))
    return _service_demand_chart(gaps, targets, service, scenario, summary, False, lang,
                                 title, default_title, _plan_source(source, plan_document,
                                                                    lang))


def childcare_demand_chart(gaps: pd.DataFrame, targets: pd.DataFrame | None = None, *,
                           scenario: str | None = None, summary: pd.DataFrame | None = None,
                           coverage: bool = False, lang: str = "zh", title: str | None = None,
                           source: str | None = None,
                           plan_document: str | None = None) -> Figure:
    """托位 demand by method against planned supply and targets, as :func:`bed_demand_chart`.

    With ``coverage=True`` (needs ``summary`` with ``pop_0_2``) a lower panel shows demand and
    supply as a percentage of the population aged 0–2.
    """
    check_language(lang)
    return _service_demand_chart(gaps, targets, "childcare_places", scenario, summary,
                                 coverage, lang, title, label("title_childcare", lang),
                                 _plan_source(source, plan_document, lang))


def _plan_source(source: str | None, plan_document: str | None, lang: str,
                 census: bool = True) -> str | None:
    """``source`` if given, else the source line citing ``plan_document`` (None: default)."""
    if source is not None or not plan_document:
        return source
    return source_line(lang, plan_document, census=census)


TARGET_MARKER_SIZE = 13  # points
# A plan's own target is a purple star; a national target the plan did not adopt a sky-blue
# diamond, so that the two read apart in the chart as in the legend.
TARGET_MARKERS = {"plan": "*", "national": "D"}
TARGET_MARKER_SCALE = {"plan": 1.0, "national": 0.6}
TARGET_COLOURS = {"plan": TARGET_COLOUR, "national": PALETTE["sky_blue"]}


def _target_handles(origins: Iterable[str], lang: str) -> list[Line2D]:
    """Legend entries for the target origins present (规划目标, 全国目标), plan first."""
    present = set(origins)
    return [Line2D([], [], marker=TARGET_MARKERS[origin],
                   markersize=11 * TARGET_MARKER_SCALE[origin], color=TARGET_COLOURS[origin],
                   markeredgecolor=PALETTE["black"],
                   markeredgewidth=0.6, linestyle="none", label=target_label(origin, lang))
            for origin in TARGET_ORIGINS if origin in present]
LEADER_FROM = 14.0  # points: a label set further than this from its star gets a leader line
# Candidate label offsets from the star (points), as (dx, dy). dx = 0 centres the label over
# or under the star; otherwise the label starts (dx > 0) or ends (dx < 0) dx from the star.
_LABEL_DX = (0.0, 14.0, -14.0, 36.0, -36.0, 70.0, -70.0, 120.0, -120.0)
_LABEL_DY = (9.0, -9.0, 16.0, -16.0, 24.0, -24.0, 34.0, -34.0, 46.0, -46.0, 60.0, -60.0,
             76.0, -76.0, 94.0, -94.0)
_BELOW_PENALTY = 4.0  # points of distance: above the star reads more naturally
_CROSSING_PENALTY = 80.0  # points of distance per plotted line the leader line crosses
LABEL_CLEARANCE = 2.5  # points of air around a label's glyphs (its white box, and a little)
LINE_CLEARANCE = 4.0  # points between a label's glyphs and a plotted line, beyond its width


def _line_paths(ax: Axes) -> list[tuple[MplPath, float]]:
    """Every plotted line with two or more points, in display coordinates (one path per run
    between NaNs), with half its width in pixels."""
    paths = []
    pixels_per_point = ax.get_figure(root=True).dpi / 72.0
    for line in ax.get_lines():
        if not line.get_visible() or line.get_linestyle() in ("None", "none", " ", ""):
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        finite = np.isfinite(xy).all(axis=1)
        starts = np.flatnonzero(finite & ~np.r_[False, finite[:-1]])
        ends = np.flatnonzero(finite & ~np.r_[finite[1:], False])
        for start, end in zip(starts, ends, strict=True):
            if end > start:
                paths.append((MplPath(xy[start:end + 1]),
                              line.get_linewidth() * pixels_per_point / 2.0))
    return paths


def _marker_boxes(ax: Axes) -> list[Bbox]:
    """Display boxes around the markers of every line that has them (target stars…)."""
    boxes = []
    pixels_per_point = ax.get_figure(root=True).dpi / 72.0
    for line in ax.get_lines():
        if line.get_marker() in (None, "None", "none", "", " ") or not line.get_visible():
            continue
        radius = 0.8 * line.get_markersize() * pixels_per_point / 2.0  # a star's tips
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        for x, y in xy[np.isfinite(xy).all(axis=1)]:
            boxes.append(Bbox.from_extents(x - radius, y - radius, x + radius, y + radius))
    return boxes


def _text_box(text: Text) -> Bbox:
    """The display box of a text's glyphs (for an annotation without its leader line)."""
    text.get_window_extent()  # an annotation updates its position (and leader line) here
    return Text.get_window_extent(text)


def _crossings(start: tuple[float, float], end: tuple[float, float],
               paths: Sequence[tuple[MplPath, float]]) -> int:
    """How many of ``paths`` the straight segment from ``start`` to ``end`` crosses."""
    segment = MplPath([start, end])
    return sum(segment.intersects_path(path, filled=False) for path, _ in paths)


_LABEL_BREAK = re.compile(r"(?<=[：:])\s*|\s*(?=[（(]≈)")


def _label_variants(text: str) -> list[str]:
    """``text`` on one line, then broken in two after its ``：``/``:`` or before ``（≈``."""
    variants = [text]
    for match in _LABEL_BREAK.finditer(text):
        head, tail = text[:match.start()].rstrip(), text[match.end():].lstrip()
        if head and tail:
            variants.append(f"{head}\n{tail}")
    return variants


def _place_target_labels(ax: Axes, points: Sequence[tuple[int, float, str]]) -> list[object]:
    """Label each target star where the label crosses no plotted line, no other marker, no
    note or label already placed, and stays inside the axes.

    Of the candidate offsets (:data:`_LABEL_DX` × :data:`_LABEL_DY`) the nearest free one is
    taken (below the star costs a little more; a leader line crossing a plotted line much
    more); a label set more than :data:`LEADER_FROM` points away gets a thin leader line to
    its star. If no place is free, the place with the fewest overlaps is taken. Must run after
    the figure is laid out (display coordinates). Returns the annotations.
    """
    if not points:
        return []
    fig = ax.get_figure(root=True)
    pixels_per_point = fig.dpi / 72.0
    pad = LABEL_CLEARANCE * pixels_per_point
    line_pad = (LINE_CLEARANCE - LABEL_CLEARANCE) * pixels_per_point
    lines = _line_paths(ax)
    occupied = _marker_boxes(ax) + [_text_box(text).padded(pad)
                                    for text in ax.texts if text.get_text()]
    inside = ax.bbox.padded(-pad)
    candidates = sorted(((dx, dy) for dx in _LABEL_DX for dy in _LABEL_DY),
                        key=lambda d: np.hypot(*d) + (_BELOW_PENALTY if d[1] < 0 else 0.0))
    annotations = []
    for point in points:
        year, value, text = point[0], point[1], point[2]
        annotation = ax.annotate(
            text, (year, value), xytext=(0.0, _LABEL_DY[0]), textcoords="offset points",
            ha="center", va="bottom", fontsize=SMALL_FONT_SIZE, color=PALETTE["black"],
            zorder=6, annotation_clip=False,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                  "alpha": 0.85},
            arrowprops={"arrowstyle": "-", "color": PALETTE["grey"], "linewidth": 0.6,
                        "shrinkA": 1.0, "shrinkB": TARGET_MARKER_SIZE / 2.0 + 1.0})
        annotation.set_in_layout(False)
        star = ax.transData.transform((year, value))
        # The annotation's transform (offset points from its star) is set here once; it does
        # not depend on the offset or alignment tried below, so each candidate needs only the
        # glyph box (not the leader line the annotation's own extent would recompute).
        _text_box(annotation)
        best: tuple[tuple[float, float], tuple[float, float], str, str, str] | None = None
        # the label on one line, else on two (a long English label is wider than the axes)
        for variant in _label_variants(text):
            annotation.set_text(variant)
            for dx, dy in candidates:
                if (best is not None and best[0][0] == 0
                        and np.hypot(dx, dy) + (_BELOW_PENALTY if dy < 0 else 0.0)
                        >= best[0][1]):
                    # candidates come cheapest first and a crossing only adds to the cost: no
                    # later one can beat a free place already found (same choice, fewer boxes)
                    break
                ha = "center" if dx == 0 else "left" if dx > 0 else "right"
                va = "bottom" if dy > 0 else "top"
                annotation.xyann = (dx, dy)
                annotation.set_horizontalalignment(ha)
                annotation.set_verticalalignment(va)
                box = Text.get_window_extent(annotation).padded(pad)
                outside = not (inside.x0 <= box.x0 and box.x1 <= inside.x1
                               and inside.y0 <= box.y0 and box.y1 <= inside.y1)
                overlaps = int(outside) * 100 \
                    + sum(path.intersects_bbox(box.padded(half_width + line_pad), filled=False)
                          for path, half_width in lines) \
                    + sum(box.overlaps(other) for other in occupied)
                distance = np.hypot(dx, dy)
                cost = distance + (_BELOW_PENALTY if dy < 0 else 0.0)
                if distance > LEADER_FROM:
                    anchor = (star[0] + dx * pixels_per_point, star[1] + dy * pixels_per_point)
                    cost += _CROSSING_PENALTY * _crossings(star, anchor, lines)
                if best is None or (overlaps, cost) < best[0]:
                    best = ((overlaps, cost), (dx, dy), ha, va, variant)
            if best is not None and best[0][0] == 0:
                break
        assert best is not None
        (dx, dy), ha, va = best[1], best[2], best[3]
        annotation.set_text(best[4])
        annotation.xyann = (dx, dy)
        annotation.set_horizontalalignment(ha)
        annotation.set_verticalalignment(va)
        annotation.arrow_patch.set_visible(bool(np.hypot(dx, dy) > LEADER_FROM))
        occupied.append(_text_box(annotation).padded(pad))
        annotations.append(annotation)
    return annotations


# ---------------------------------------------------------------------------------------------
# 6–8. Scenarios, fan chart, trend fit
# ---------------------------------------------------------------------------------------------
def _value_axis(ax: Axes, indicator: str, unit: str | None, max_value: float,
                lang: str) -> float:
    """Label the value axis of ``indicator``; returns the divisor applied to its values."""
    unit = unit or INDICATOR_UNIT.get(indicator)
    if unit is not None and unit not in UNIT_KINDS:
        raise InputError(f"unknown unit {unit!r}", field="unit",
                         fix=f"use one of {', '.join(UNIT_KINDS)}")
    divisor, unit_text = (1.0, None) if unit is None else _count_scale(max_value, unit, lang)
    ax.set_ylabel(_axis_title(label(indicator, lang), unit_text, lang))
    ax.yaxis.set_major_formatter(_value_formatter())
    return divisor


def scenario_lines(frame: pd.DataFrame, indicator: str, *, lang: str = "zh",
                   unit: str | None = None, title: str | None = None,
                   source: str | None = None) -> Figure:
    """One line per scenario of ``indicator`` by year (for ``forecast compare``).

    ``frame``: ``scenario, year, <indicator>``; ``share_60plus`` and the like are computed from
    ``pop_60plus`` and ``total`` when not a column. ``unit`` (persons, beds, places, percent,
    per_woman, years) defaults from the indicator's name.
    """
    check_language(lang)
    _require_columns(frame, ["scenario", "year"], "scenario")
    values = _indicator_values(frame, indicator, "scenario")
    # a stable sort keeps the scenarios in the order of the table (legend, colours)
    data = frame.assign(_value=values).sort_values("year", kind="stable")
    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        divisor = _value_axis(ax, indicator, unit, float(np.nanmax(values)), lang)
        handles = []
        for index, (name, rows) in enumerate(data.groupby("scenario", sort=False)):
            colour, style = _series_style(index)
            (line,) = ax.plot(rows["year"], rows["_value"] / divisor, color=colour,
                              linestyle=style, label=label(str(name), lang))
            handles.append(line)
        ax.margins(y=0.12)
        _year_axis(ax, lang)
        _legend_below(main, handles, handlelength=2.6, columnspacing=1.2)
        default_title = label("title_scenarios", lang).format(indicator=label(indicator, lang))
        return _finish(fig, main, lang, title, default_title, source)


def fan_chart(quantiles: pd.DataFrame, indicator_label: str, *, lang: str = "zh",
              target: float | tuple[int, float] | None = None, unit: str | None = None,
              title: str | None = None, source: str | None = None,
              target_origin: str = "plan", supply: pd.Series | None = None,
              supply_label: str = "supply") -> Figure:
    """Median line with 80 % (q10–q90) and 95 % (q025–q975) bands.

    ``quantiles``: ``year, q025, q10, q50, q90, q975`` for one indicator. ``indicator_label`` is
    a key of :data:`LABELS` or free text. ``target`` is a level (horizontal line) or a
    ``(year, value)`` point, labelled 规划目标 or, with ``target_origin="national"``, 全国目标.
    ``supply`` (by year; NaN where unknown) is drawn as the planned-supply line, labelled by
    the :data:`LABELS` key ``supply_label`` (``supply_institutional`` for the institutional beds
    a bed need is compared with).
    """
    check_language(lang)
    columns = ["year", "q025", "q10", "q50", "q90", "q975"]
    _require_columns(quantiles, columns, "quantiles")
    frame = quantiles.sort_values("year")
    years = frame["year"].to_numpy()
    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        divisor = _value_axis(ax, indicator_label, unit, float(frame["q975"].max()), lang)
        colour = PALETTE["blue"]
        ax.fill_between(years, frame["q025"] / divisor, frame["q975"] / divisor, color=colour,
                        alpha=0.15, linewidth=0, label=label("band95", lang))
        ax.fill_between(years, frame["q10"] / divisor, frame["q90"] / divisor, color=colour,
                        alpha=0.32, linewidth=0, label=label("band80", lang))
        ax.plot(years, frame["q50"] / divisor, color=colour, label=label("median", lang))
        if supply is not None and supply.notna().any():
            known = supply.dropna().sort_index()
            ax.plot(known.index.to_numpy(), known.to_numpy(float) / divisor,
                    color=SUPPLY_COLOUR, linewidth=2.4, label=label(supply_label, lang), zorder=4,
                    marker="o" if len(known) == 1 else None)
        origin = "national" if target_origin == "national" else "plan"
        if target is not None:
            if isinstance(target, tuple):
                ax.plot([target[0]], [target[1] / divisor], marker=TARGET_MARKERS[origin],
                        markersize=TARGET_MARKER_SIZE * TARGET_MARKER_SCALE[origin],
                        color=TARGET_COLOURS[origin], markeredgecolor=PALETTE["black"],
                        markeredgewidth=0.6, linestyle="none", zorder=5,
                        label=target_label(origin, lang))
            else:
                ax.axhline(float(target) / divisor, color=TARGET_COLOURS[origin],
                           linestyle="--", linewidth=1.6, label=target_label(origin, lang))
        ax.margins(y=0.1)
        ax.legend(loc="best")
        _year_axis(ax, lang)
        default_title = label("title_fan", lang).format(indicator=label(indicator_label, lang))
        return _finish(fig, main, lang, title, default_title, source, "source_projection")


def trend_fit_chart(frame: pd.DataFrame, *, indicator_label: str = "tfr", lang: str = "zh",
                    unit: str | None = None, title: str | None = None,
                    source: str | None = None) -> Figure:
    """Observed history (dots), fitted values (line), forecast (dashed) and its interval.

    ``frame``: ``year, observed, fitted, forecast, lower, upper`` with NaN where a column does
    not apply (no ``observed`` in forecast years, no ``forecast`` in history).
    """
    check_language(lang)
    _require_columns(frame, ["year", "observed", "fitted", "forecast", "lower", "upper"],
                     "trend")
    data = frame.sort_values("year")
    largest = float(np.nanmax(data[["observed", "fitted", "forecast", "upper"]].to_numpy()))
    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        divisor = _value_axis(ax, indicator_label, unit, largest, lang)
        band = data[data["lower"].notna() & data["upper"].notna()]
        fitted_rows = data[data["fitted"].notna()]
        if not band.empty and not fitted_rows.empty \
                and band["year"].min() > fitted_rows["year"].max():  # start at the last fit
            last = fitted_rows.tail(1)
            band = pd.concat([last.assign(lower=last["fitted"], upper=last["fitted"]), band])
        if not band.empty:
            ax.fill_between(band["year"], band["lower"] / divisor, band["upper"] / divisor,
                            color=PALETTE["orange"], alpha=0.25, linewidth=0,
                            label=label("interval", lang))
        fitted = data[data["fitted"].notna()]
        ax.plot(fitted["year"], fitted["fitted"] / divisor, color=PALETTE["blue"],
                label=label("fitted", lang))
        forecast = data[data["forecast"].notna()]
        if not fitted.empty and not forecast.empty:  # join the forecast to the last fit
            forecast = pd.concat([fitted.tail(1).assign(forecast=fitted["fitted"].iloc[-1]),
                                  forecast[forecast["year"] > fitted["year"].iloc[-1]]])
        ax.plot(forecast["year"], forecast["forecast"] / divisor, color=PALETTE["vermillion"],
                linestyle="--", label=label("forecast", lang))
        observed = data[data["observed"].notna()]
        ax.plot(observed["year"], observed["observed"] / divisor, linestyle="none", marker="o",
                markersize=4.5, color=PALETTE["black"], label=label("observed", lang), zorder=5)
        if not observed.empty:
            ax.axvline(observed["year"].max(), color=PALETTE["grey"], linewidth=0.8,
                       linestyle=":")
        ax.margins(y=0.12)
        ax.legend(loc="best")
        _year_axis(ax, lang)
        default_title = label("title_trend", lang).format(indicator=label(indicator_label, lang))
        return _finish(fig, main, lang, title, default_title, source, "source_projection")


# ---------------------------------------------------------------------------------------------
# 9–10. Comparisons (``forecast compare``): demand by scenario; jurisdictions side by side
# ---------------------------------------------------------------------------------------------
def scenario_demand_lines(gaps: pd.DataFrame, service: str, *, method: str = "norm",
                          lang: str = "zh", title: str | None = None,
                          source: str | None = None,
                          plan_document: str | None = None) -> Figure:
    """Demand for ``service`` by ``method``, one line per scenario, against the plan.

    ``gaps``: ``scenario, year, service, method, demand, supply[, plan_target]`` (beds or
    places). The planned supply (black) and the plan's targets as counts (stars) are those of
    the first scenario in the table (the baseline in ``forecast compare``); where the plan
    states no supply the line is absent. ``plan_document`` (the plan's title) is cited in the
    source line; an explicit ``source`` wins.
    """
    source = _plan_source(source, plan_document, lang, census=False)
    check_language(lang)
    _require_columns(gaps, ["scenario", "year", "service", "method", "demand", "supply"],
                     "gaps")
    rows = gaps[(gaps["service"].astype(str) == service) & (gaps["method"].astype(str) == method)]
    if rows.empty:
        raise InputError(f"the gaps table has no rows for {service}/{method}", field="service",
                         fix="name a service and method the table has")
    rows = rows.sort_values("year", kind="stable")  # keeps the first scenario first
    first = rows["scenario"].iloc[0]
    plan = rows[rows["scenario"] == first]
    largest = float(np.nanmax(np.r_[rows["demand"].to_numpy(float),
                                    plan["supply"].to_numpy(float),
                                    plan.get("plan_target", pd.Series(dtype=float))
                                    .to_numpy(float)]))
    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        divisor = _value_axis(ax, service, None, largest, lang)
        handles = []
        for index, (name, group) in enumerate(rows.groupby("scenario", sort=False)):
            colour, style = _series_style(index)
            handles += ax.plot(group["year"], group["demand"] / divisor, color=colour,
                               linestyle=style, label=label(str(name), lang))
        if plan["supply"].notna().any():
            handles += ax.plot(plan["year"], plan["supply"] / divisor, color=SUPPLY_COLOUR,
                               linewidth=2.2, label=label("supply", lang))
        if "plan_target" in plan.columns and plan["plan_target"].notna().any():
            points = plan[plan["plan_target"].notna()]
            origins = (points["target_origin"].astype(str) if "target_origin" in points
                       else pd.Series("plan", index=points.index))
            for origin in TARGET_ORIGINS:
                chosen = points[(origins == "national") == (origin == "national")]
                if chosen.empty:
                    continue
                handles += ax.plot(chosen["year"], chosen["plan_target"] / divisor,
                                   marker=TARGET_MARKERS[origin],
                                   markersize=TARGET_MARKER_SIZE * TARGET_MARKER_SCALE[origin],
                                   color=TARGET_COLOURS[origin],
                                   markeredgecolor=PALETTE["black"], markeredgewidth=0.6,
                                   linestyle="none", label=target_label(origin, lang))
        ax.set_ylim(bottom=0)
        ax.margins(y=0.12)
        _year_axis(ax, lang)
        _legend_below(main, handles, handlelength=2.6, columnspacing=1.2)
        default_title = CHART_TEXT[lang]["scenario_demand_title"].format(
            service=label(service, lang), demand=label("demand", lang),
            method=method_label(method, service, lang))
        return _finish(fig, main, lang, title, default_title, source, "source_projection")


def jurisdiction_bars(frame: pd.DataFrame, *, axis_label: str, lang: str = "zh",
                      title: str | None = None, source: str | None = None,
                      service: str | None = None) -> Figure:
    """Grouped bars: one group per jurisdiction, one bar per series.

    ``frame``: a ``jurisdiction`` column (display names) and one numeric column per series
    (e.g. ``norm``, ``needs``, ``supply``, ``target``; shown through :func:`label`). A missing
    value (NaN: the plan states no supply, say) leaves its bar out and is marked "?" (n/a).
    ``axis_label`` names the value axis with its unit, e.g. "beds per 1,000 aged 60+".
    ``service`` names a method series for that service (``needs`` of ``childcare_places`` is
    入托需求法, of beds 失能需求法).
    """
    check_language(lang)
    _require_columns(frame, ["jurisdiction"], "comparison")
    series = [c for c in frame.columns if c != "jurisdiction"]
    if not series:
        raise InputError("the comparison table has no value columns",
                         fix="add one numeric column per series")
    names = frame["jurisdiction"].astype(str).tolist()
    positions = np.arange(len(names), dtype=float)
    width = 0.8 / len(series)
    with chart_style(lang):
        fig, main, (ax,) = _new_figure(lang)
        for index, column in enumerate(series):
            colour, _style = _series_style(index)
            values = frame[column].to_numpy(float)
            offsets = positions - 0.4 + width * (index + 0.5)
            known = np.isfinite(values)
            name = (method_label(str(column), service, lang) if service is not None
                    else label(str(column), lang))
            ax.bar(offsets[known], values[known], width=width * 0.92, color=colour, label=name)
            for x in offsets[~known]:
                ax.text(x, 0, "?", ha="center", va="bottom", fontsize=SMALL_FONT_SIZE,
                        color=PALETTE["grey"])
        ax.set_xticks(positions, names)
        ax.set_ylabel(axis_label)
        ax.yaxis.set_major_formatter(_value_formatter())
        ax.margins(y=0.12)
        # below the axes: the bars keep their room whatever the length of the series' names
        # ("Planned supply (institutional + community beds)")
        _legend_below(main, ax.get_legend_handles_labels()[0], most_columns=4)
        return _finish(fig, main, lang, title, axis_label, source, "source_projection")


# ---------------------------------------------------------------------------------------------
# Tornado: which care parameter moves the gap most (sensitivity.csv)
# ---------------------------------------------------------------------------------------------
TORNADO_LOW_COLOUR = PALETTE["sky_blue"]
TORNADO_HIGH_COLOUR = PALETTE["orange"]


def tornado_panels(table: pd.DataFrame,
                   panels: Sequence[tuple[str, str]]) -> list[tuple[str, str, pd.DataFrame]]:
    """The (service, method, rows) drawn, rows in the table's order (rank 1 first), panels
    without rows left out."""
    out = []
    for service, method in panels:
        rows = table[(table["service"].astype(str) == service)
                     & (table["method"].astype(str) == method)]
        if len(rows):
            out.append((service, method, rows.sort_values("rank", kind="stable")))
    return out


def _parameter_value_text(name: str, value: float) -> str:
    if name == "disability_trend":
        return f"{value * 100:.1f}%".replace("-", "−")
    if name.endswith("_level"):
        return f"×{value:.2f}"
    return f"{value:.3g}" if abs(value) >= 1 else f"{value * 100:.3g}%"


def tornado_chart(table: pd.DataFrame, panels: Sequence[tuple[str, str]], *, lang: str = "zh",
                  title: str | None = None, source: str | None = None) -> Figure:
    """One panel per (service, method) of ``panels``: a bar per parameter from the
    deterministic gap to the gap with the parameter at its low end (one colour) and at its high
    end (another), largest swing at the top, each end labelled with the parameter's value.

    ``table``: :func:`forecast.pipeline.uncertainty.sensitivity_table`. Where planned supply is
    unknown
    the panel shows demand instead of the gap (its axis says so).
    """
    from forecast.presentation.labels import SENSITIVITY_TEXT

    check_language(lang)
    _require_columns(table, ["service", "method", "year", "rank", "parameter", "low_value",
                             "high_value", "demand_at_low", "demand", "demand_at_high",
                             "gap_at_low", "gap", "gap_at_high"], "sensitivity")
    t = SENSITIVITY_TEXT[lang]
    drawn = tornado_panels(table, panels)
    if not drawn:
        raise InputError("the sensitivity table has no rows for the chart's panels",
                         fix="run forecast run again")
    year = int(table["year"].iloc[0])
    with chart_style(lang):
        fig, main, axes = _new_figure(lang, nrows=len(drawn),
                                      height_ratios=[len(rows) + 1.6 for *_, rows in drawn],
                                      sharex=False)
        fig.set_size_inches(FIGURE_SIZE[0], 1.3 + 0.42 * sum(len(r) + 1.6 for *_, r in drawn))
        for ax, (service, method, rows) in zip(axes, drawn, strict=True):
            use_gap = rows["gap"].notna().all()
            prefix = "gap" if use_gap else "demand"
            centre = float(rows[prefix].iloc[0])
            low = rows[f"{prefix}_at_low"].to_numpy(float)
            high = rows[f"{prefix}_at_high"].to_numpy(float)
            unit = label("unit_beds" if "beds" in service else "unit_places", lang)
            positions = np.arange(len(rows))[::-1].astype(float)
            ax.barh(positions, low - centre, left=centre, height=0.62,
                    color=TORNADO_LOW_COLOUR, label=t["low"])
            ax.barh(positions, high - centre, left=centre, height=0.62,
                    color=TORNADO_HIGH_COLOUR, label=t["high"])
            ax.axvline(centre, color=PALETTE["black"], linewidth=1.2, label=t["central"])
            span = float(np.nanmax(np.r_[low, high, centre]) - np.nanmin(np.r_[low, high,
                                                                               centre]))
            pad = 0.02 * (span or 1.0)
            for y, name, a, b, lo, hi in zip(positions, rows["parameter"], low, high,
                                             rows["low_value"], rows["high_value"],
                                             strict=True):
                for end, value in ((a, lo), (b, hi)):
                    if end == centre:
                        continue
                    ax.text(end + (pad if end > centre else -pad), y,
                            _parameter_value_text(str(name), float(value)),
                            ha="left" if end > centre else "right", va="center",
                            fontsize=SMALL_FONT_SIZE, color=PALETTE["grey"])
            ax.set_yticks(positions, [label(str(p), lang) for p in rows["parameter"]])
            ax.set_ylim(-0.7, len(rows) - 0.3)
            ax.margins(x=0.16)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.xaxis.set_major_formatter(_value_formatter())
            ax.set_xlabel(t["axis_gap" if use_gap else "axis_demand"].format(year=year,
                                                                            unit=unit))
            ax.set_title(t["panel"].format(service=label(service, lang),
                                           method=method_label(method, service, lang)),
                         loc="left", fontsize=SMALL_FONT_SIZE + 1)
        _legend_below(main, axes[0].get_legend_handles_labels()[0], most_columns=3)
        return _finish(fig, main, lang, title, t["title"].format(year=year), source,
                       "source_projection")
