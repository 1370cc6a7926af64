"""Charts: every chart renders in Chinese and English, with the mplfonts CJK font, no missing
glyphs, a 200-dpi PNG and an SVG whose text is drawn as paths (needs no font).

Inputs are small synthetic tables shaped like a prefecture's projection (Honghe-sized:
about 4.5 million people, 0.67 million aged 60+ in 2020, seed 001).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager
from PIL import Image

from forecast.errors import ConfigError, ForecastError, InputError
from forecast.presentation import charts
from forecast.presentation.fonts import chart_style, cjk_font_family, cjk_font_path, style_params

YEARS = np.arange(2020, 2036)


def synthetic_population() -> pd.DataFrame:
    """Persons by year, sex, single age 0..100 (100 = 100+): an ageing, shrinking pyramid."""
    ages = np.arange(101)
    rows = []
    for year in (2020, 2035):
        shift = year - 2020
        for sex, scale in (("male", 1.04), ("female", 1.0)):
            cohort_age = ages - shift  # age in 2020 of the cohort now at `ages`
            base = 62_000 * np.exp(-(((ages - 32) / 38.0) ** 2)) + 12_000 * (ages < 60)
            births_fall = np.where(cohort_age < 0, 0.75, 1.0)
            survival = np.exp(-np.maximum(ages - 55, 0) ** 2 / 900.0)
            population = scale * base * births_fall * survival
            population[-1] = population[-5:].sum() * 0.3  # open group 100+
            rows.append(pd.DataFrame({"year": year, "sex": sex, "age": ages,
                                      "population": population.round()}))
    return pd.concat(rows, ignore_index=True)


def synthetic_summary(scenarios: tuple[str, ...] = ("baseline",)) -> pd.DataFrame:
    """Totals by scenario and year (persons)."""
    step = YEARS - 2020
    frames = []
    for index, scenario in enumerate(scenarios):
        frames.append(pd.DataFrame({
            "scenario": scenario,
            "year": YEARS,
            "total": 4_478_400 - (4_000 + 3_000 * index) * step,
            "pop_0_2": (150_000 * 0.97 ** step * (1 - 0.05 * index)).round(),
            "pop_60plus": 668_603 + (21_000 + 2_000 * index) * step,
            "pop_65plus": 480_000 + 17_000 * step,
            "pop_80plus": 92_000 + 4_500 * step,
        }))
    return pd.concat(frames, ignore_index=True)


def synthetic_gaps(summary: pd.DataFrame) -> pd.DataFrame:
    """Demand by service and method; bed supply stated for 2020–2025 only, 托位 not at all."""
    rows = []
    for item in summary.itertuples(index=False):
        norm = 35 * item.pop_60plus / 1000
        bed_supply = 19_193 + 1_000 * (item.year - 2020) if item.year <= 2025 else np.nan
        for method, demand in (("norm", norm), ("needs", 0.62 * norm + 200 * (item.year - 2020)),
                               ("rule_9073", 0.03 * item.pop_60plus / 0.85)):
            rows.append((item.scenario, item.year, "elderly_beds", method, demand, bed_supply))
        for method, demand in (("norm", 4.5 * item.total / 1000),
                               ("needs", item.pop_0_2 / 3 * 0.35)):
            rows.append((item.scenario, item.year, "childcare_places", method, demand, np.nan))
    gaps = pd.DataFrame(rows, columns=["scenario", "year", "service", "method", "demand",
                                       "supply"])
    gaps["gap"] = gaps["supply"] - gaps["demand"]
    gaps["status"] = np.where(gaps["supply"].isna(), "unknown",
                              np.where(gaps["gap"] < 0, "shortfall", "met"))
    return gaps


def synthetic_targets() -> pd.DataFrame:
    return pd.DataFrame({
        "service": ["elderly_beds", "elderly_beds", "childcare_places"],
        "year": [2025, 2030, 2025],
        "kind": ["per_1000_elderly", "count", "per_1000_population"],
        "value": [35.0, 30_000.0, 3.0],
        "label": ["≥35张/千名老人", "", "每千人3个托位"],
    })


def synthetic_quantiles() -> pd.DataFrame:
    median = 668_603 + 21_000 * (YEARS - 2020)
    spread = 2_500 * (YEARS - 2020)
    return pd.DataFrame({"year": YEARS, "q025": median - 1.96 * spread,
                         "q10": median - 1.28 * spread, "q50": median,
                         "q90": median + 1.28 * spread, "q975": median + 1.96 * spread})


def synthetic_trend() -> pd.DataFrame:
    years = np.arange(2000, 2036)
    history = years <= 2020
    fitted = 1.6 - 0.015 * (years - 2000)
    observed = np.where(history, fitted + 0.04 * np.sin(years), np.nan)
    spread = np.where(history, np.nan, 0.02 * (years - 2020))
    return pd.DataFrame({"year": years, "observed": observed,
                         "fitted": np.where(history, fitted, np.nan),
                         "forecast": np.where(history, np.nan, fitted),
                         "lower": fitted - spread, "upper": fitted + spread})


def all_charts(lang: str) -> dict[str, matplotlib.figure.Figure]:
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    targets = synthetic_targets()
    three = synthetic_summary(("baseline", "low", "high"))
    return {
        "pyramid": charts.population_pyramid(synthetic_population(), 2020, 2035, lang=lang),
        "pyramid5": charts.population_pyramid(synthetic_population(), 2020, 2035, age_width=5,
                                              lang=lang),
        "elderly": charts.elderly_trends(summary, lang=lang),
        "under3": charts.under3_trend(summary, lang=lang),
        "beds": charts.bed_demand_chart(gaps, targets, summary=summary, lang=lang),
        "childcare": charts.childcare_demand_chart(gaps, targets, summary=summary,
                                                   coverage=True, lang=lang),
        "scenarios": charts.scenario_lines(three, "pop_60plus", lang=lang),
        "fan": charts.fan_chart(synthetic_quantiles(), "pop_60plus", lang=lang,
                                target=900_000.0),
        "trend": charts.trend_fit_chart(synthetic_trend(), indicator_label="tfr", lang=lang),
    }


GLYPH_WARNING = re.compile(r"missing from (current )?font|glyph", re.IGNORECASE)


@pytest.fixture(scope="module", params=["zh", "en"])
def rendered(request, tmp_path_factory) -> tuple[str, dict[str, tuple[Path, Path]], list[str]]:
    """Render and save every chart once per language, recording every warning raised."""
    lang = request.param
    out = tmp_path_factory.mktemp(f"charts_{lang}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = all_charts(lang)
        files = {name: charts.save_figure(fig, out / f"{name}_{lang}")
                 for name, fig in figures.items()}
    return lang, files, [str(warning.message) for warning in caught]


def test_no_missing_glyph_warnings(rendered):
    """Chinese labels and minus signs render: no 'Glyph … missing from font' warning."""
    _lang, _files, messages = rendered
    assert not [message for message in messages if GLYPH_WARNING.search(message)]


def test_png_written_at_200_dpi(rendered):
    _lang, files, _ = rendered
    for png, _svg in files.values():
        with Image.open(png) as image:
            dpi = image.info["dpi"]
            assert dpi[0] == pytest.approx(200, abs=0.5)
            # 6.4 × 4 in at 200 dpi
            assert image.size == (1280, 800)


def test_svg_draws_text_as_paths(rendered):
    """svg.fonttype 'path': the SVG holds glyph outlines, no <text> elements needing a font."""
    _lang, files, _ = rendered
    for _png, svg in files.values():
        content = svg.read_text(encoding="utf-8")
        assert "<text" not in content
        assert "font-family" not in content
        assert "<path" in content


def test_no_temporary_files_left(rendered):
    _lang, files, _ = rendered
    folder = next(iter(files.values()))[0].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for pair in files.values() for p in pair)


def test_cjk_font_is_the_mplfonts_file():
    path = cjk_font_path()
    assert path.name == "NotoSansCJKsc-Regular.otf"
    assert path.parent.parent.name == "mplfonts"
    family = cjk_font_family()
    assert family == "Noto Sans CJK SC"
    with chart_style("zh"):
        resolved = font_manager.findfont(font_manager.FontProperties(),
                                         fallback_to_default=False)
    assert Path(resolved).resolve() == path.resolve()


def test_chinese_text_in_figure_uses_the_cjk_font():
    fig = charts.under3_trend(synthetic_summary(), lang="zh")
    texts = [text for text in fig.findobj(matplotlib.text.Text) if text.get_text()]
    assert any("资料来源" in text.get_text() for text in texts)
    assert len(texts) > 10  # title, source, axis labels, tick labels, annotations
    for text in texts:
        resolved = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        assert Path(resolved).resolve() == cjk_font_path().resolve(), text.get_text()


def test_chart_style_does_not_leak_into_global_rcparams():
    before = {key: matplotlib.rcParams[key] for key in
              ("font.sans-serif", "axes.unicode_minus", "svg.fonttype")}
    with chart_style("zh"):
        assert matplotlib.rcParams["axes.unicode_minus"] is False
        assert matplotlib.rcParams["font.sans-serif"][0] == "Noto Sans CJK SC"
    charts.under3_trend(synthetic_summary(), lang="zh")
    after = {key: matplotlib.rcParams[key] for key in before}
    assert after == before


def test_labels_cover_every_service_method_and_indicator_in_both_languages():
    keys = ["elderly_beds", "nursing_beds", "childcare_places", "norm", "needs", "rule_9073",
            "total", "pop_0_2", "pop_60plus", "pop_65plus", "pop_80plus", "share_60plus",
            "trend_fertility", "trend_fertility_prophet", "plan_document", "strict_norm"]
    for key in keys:
        assert key in charts.LABELS["zh"] and key in charts.LABELS["en"], key
    assert set(charts.LABELS["zh"]) == set(charts.LABELS["en"])
    assert charts.label("childcare_places", "zh") == "托位"
    assert charts.label("my_own_scenario", "en") == "my_own_scenario"


def test_chinese_chart_carries_chinese_units_and_source():
    fig = charts.elderly_trends(synthetic_summary(), lang="zh")
    texts = [text.get_text() for text in fig.findobj(matplotlib.text.Text)]
    assert "万人" in texts  # 668,603 persons → shown in 万人
    assert any(text.startswith("资料来源：第七次全国人口普查") for text in texts)
    fig_en = charts.elderly_trends(synthetic_summary(), lang="en")
    texts_en = [text.get_text() for text in fig_en.findobj(matplotlib.text.Text)]
    assert "Thousand persons" in texts_en
    assert "Source: 2020 census; forecast projection" in texts_en


def test_pyramid_labels_open_age_group_and_puts_males_left():
    fig = charts.population_pyramid(synthetic_population(), 2020, 2035, lang="en")
    ax = fig.axes[0]
    assert ax.get_yticklabels()[-1].get_text() == "100+"
    bars = [patch for patch in ax.patches if isinstance(patch, matplotlib.patches.Rectangle)]
    male_bars = [bar for bar in bars if bar.get_width() < 0]
    female_bars = [bar for bar in bars if bar.get_width() > 0]
    assert len(male_bars) == 101 and len(female_bars) == 101
    # bars hold persons: the bar at age 0 equals the 2020 male count at age 0
    population = synthetic_population()
    males_0 = population.query("year == 2020 and sex == 'male' and age == 0")["population"]
    assert min(bar.get_width() for bar in male_bars if abs(bar.get_y() + 0.5) < 1e-6) \
        == pytest.approx(-float(males_0.iloc[0]))


def test_bed_chart_notes_unknown_supply_and_shades_shortfall():
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    zh = charts.childcare_demand_chart(gaps, synthetic_targets(), summary=summary, lang="zh")
    assert "规划未给出托位数" in [t.get_text() for t in zh.findobj(matplotlib.text.Text)]
    en = charts.childcare_demand_chart(gaps, lang="en")
    assert "Supply not stated in the plan" in [t.get_text()
                                               for t in en.findobj(matplotlib.text.Text)]
    beds = charts.bed_demand_chart(gaps, synthetic_targets(), summary=summary, lang="en")
    texts = [t.get_text() for t in beds.findobj(matplotlib.text.Text)]
    # 2020–2025 supply (19,193 + 1,000/yr) is below the norm demand (35 per 1,000 aged 60+)
    assert "Shortfall (all methods)" in texts or "Shortfall (some methods)" in texts
    # the 35-per-1,000 target in 2025 becomes 35 × 773,603 / 1,000 = 27,076 beds
    assert any("27,076" in text for text in texts)


def test_bed_chart_says_a_shortfall_of_every_year_rather_than_shade_the_whole_plot():
    """Supply of 1,000 beds every year, below every method's demand every year: no shaded span
    (it would cover the whole plot), the note says it; the legend has no shading entry."""
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    beds = gaps.service == "elderly_beds"
    gaps.loc[beds, "supply"] = 1_000.0
    gaps["gap"] = gaps["supply"] - gaps["demand"]
    for lang, note in (("zh", "每年供给均低于各方法需求"),
                       ("en", "Supply below every method's demand in every year")):
        fig = charts.bed_demand_chart(gaps, summary=summary, lang=lang)
        ax = fig.axes[0]
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        assert note in texts
        assert charts.label("shortfall_all", lang) not in texts
        assert list(ax.patches) == []  # no shaded span (axvspan)


def test_tick_labels_share_their_decimals():
    formatter = charts._value_formatter()
    formatter.set_locs([0.8, 1.0, 1.2])
    assert [formatter(value) for value in (0.8, 1.0, 1.2)] == ["0.8", "1.0", "1.2"]
    formatter = charts._value_formatter(divisor=1e4, absolute=True)
    formatter.set_locs([-250_000, 0, 250_000])
    assert [formatter(value) for value in (-250_000, 0, 250_000)] == ["25", "0", "25"]
    formatter = charts._value_formatter()
    formatter.set_locs([0, 10_000, 20_000])
    assert formatter(20_000) == "20,000"


def test_shortfall_runs_merge_consecutive_years():
    years = np.array([2020, 2021, 2022, 2023, 2024])
    flags = np.array([True, True, False, True, False])
    assert charts._runs(years, flags) == [(2019.5, 2021.5), (2022.5, 2023.5)]


def test_user_mistakes_raise_forecast_errors():
    summary = synthetic_summary(("baseline", "low"))
    with pytest.raises(InputError, match="scenario"):
        charts.elderly_trends(summary)  # two scenarios, none chosen
    with pytest.raises(InputError, match="no scenario 'nope'"):
        charts.elderly_trends(summary, scenario="nope")
    with pytest.raises(InputError, match="lacks column"):
        charts.under3_trend(summary.drop(columns="pop_0_2"), scenario="low")
    with pytest.raises(InputError, match="no year 2050"):
        charts.population_pyramid(synthetic_population(), 2050)
    with pytest.raises(ConfigError, match="lang"):
        charts.under3_trend(summary, scenario="low", lang="fr")
    with pytest.raises(ForecastError):
        style_params("de")


def test_charts_take_the_tables_of_forecast_supply():
    """The gaps and target-consistency tables of forecast.care.supply draw without reshaping:
    Honghe-like ≥35 beds per 1,000 aged 60+ in 2025 → 35 × 773,603 / 1,000 = 27,076 beds."""
    supply = pytest.importorskip("forecast.care.supply")
    summary = synthetic_summary()
    drivers = summary.drop(columns="scenario").rename(columns={"total": "pop_total"})
    gaps_frame = synthetic_gaps(summary)
    demand = (gaps_frame.drop(columns=["scenario", "supply", "gap", "status"])
              .rename(columns={"demand": "value"}).assign(unit="", assumptions=""))
    bed_plan = supply.SupplyPlan("elderly_beds", 2020, 19_193.0, "seed 001",
                                 [supply.Addition(2021, 2025, 3_000.0, "seed 001")])
    targets = [supply.Target("elderly_beds", 2025, "per_1000_elderly", 35.0, "seed 001"),
               supply.Target("childcare_places", 2025, "per_1000_population", 3.0, "seed 000")]
    table = supply.gaps(demand, {"elderly_beds": supply.supply_path(bed_plan, YEARS)},
                        targets, drivers)
    consistency = supply.target_consistency(targets, drivers)
    for lang in ("zh", "en"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a missing glyph would fail here
            from_gaps = charts.bed_demand_chart(table, lang=lang)  # plan_target column
            from_targets = charts.bed_demand_chart(table, consistency, lang=lang)
            childcare = charts.childcare_demand_chart(table, consistency, coverage=True,
                                                      lang=lang)
            trends = charts.elderly_trends(drivers, lang=lang)  # pop_total, not total
        for fig in (from_gaps, from_targets):
            texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
            assert any("27,076" in text for text in texts), texts
        texts = [t.get_text() for t in childcare.findobj(matplotlib.text.Text)]
        assert charts.label("supply_unknown_places", lang) in texts
        assert len(childcare.axes) == 2 and len(trends.axes) == 2


def test_negative_ticks_use_an_ascii_minus_without_glyph_warnings():
    """A gap (supply − demand) below zero: tick labels read '-5,000' with U+002D."""
    frame = pd.DataFrame({"scenario": np.repeat(["baseline", "low"], 3),
                          "year": np.tile([2020, 2025, 2030], 2),
                          "gap": [-4_000.0, -9_000.0, -12_000.0, -3_000.0, -6_000.0, 1_000.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = charts.scenario_lines(frame, "gap", unit="beds", lang="zh")
    ticks = [text.get_text() for text in fig.axes[0].get_yticklabels()]
    assert any(tick.startswith("-") for tick in ticks), ticks
    assert not any("\u2212" in tick for tick in ticks)
    assert fig.axes[0].get_ylabel() == "缺口（张）"


# --- layout: legends, target labels and source lines never cover data or get clipped -------
SCENARIO_NAMES = ("baseline", "low_fertility", "high_fertility", "no_migration",
                  "slow_mortality", "strict_norm", "trend_fertility", "trend_fertility_prophet",
                  "plan_document")  # the nine scenarios of configs/honghe.yaml


def _only_legend(fig: matplotlib.figure.Figure) -> matplotlib.legend.Legend:
    legends = [artist for artist in fig.findobj(matplotlib.legend.Legend)]
    assert len(legends) == 1
    return legends[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scenario_legend_sits_below_the_axes_and_inside_the_figure(lang):
    """Nine scenarios (Honghe's configuration): the legend box lies wholly below the axes box
    (so it covers no line), fits the figure's width, names every scenario in words (no raw
    keys such as trend_fertility) and every line differs from the others in colour or style."""
    summary = synthetic_summary(SCENARIO_NAMES)
    figures = [charts.scenario_lines(summary, "pop_0_2", lang=lang),
               charts.scenario_demand_lines(synthetic_gaps(summary), "elderly_beds",
                                            lang=lang)]
    for fig in figures:
        ax = fig.axes[0]
        legend_box = _only_legend(fig).get_window_extent()
        axes_box = ax.get_window_extent()
        assert legend_box.y1 <= axes_box.y0, (legend_box, axes_box)
        assert not legend_box.overlaps(axes_box)
        assert 0 <= legend_box.x0 and legend_box.x1 <= fig.bbox.width
        names = [text.get_text() for text in _only_legend(fig).get_texts()]
        assert [name for name in names if "_" in name] == []
        styles = [(line.get_color(), str(line.get_linestyle()), line.get_linewidth())
                  for line in ax.get_lines()]
        assert len(set(styles)) == len(styles)
    names = [text.get_text() for text in _only_legend(figures[0]).get_texts()]
    assert names == [charts.label(name, lang) for name in SCENARIO_NAMES]


def _line_paths(ax) -> list[matplotlib.path.Path]:
    """The plotted lines of ``ax`` (two or more points) in display coordinates."""
    paths = []
    for line in ax.get_lines():
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) >= 2:
            paths.append(matplotlib.path.Path(xy))
    return paths


def _target_labels(ax) -> list[matplotlib.text.Annotation]:
    return [text for text in ax.texts if isinstance(text, matplotlib.text.Annotation)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_target_labels_cross_no_plotted_line(lang):
    """The 35-per-1,000 target sits on the norm line (35 per 1,000 aged 60+ is the norm) and the
    norm and 9073 lines rise through the space right above it: each label's glyph box is
    inside the axes and meets no plotted line, nor another label; a label moved away from its
    star has a visible leader line."""
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    targets = pd.DataFrame({"service": ["elderly_beds", "elderly_beds", "childcare_places"],
                            "year": [2025, 2030, 2025],
                            "kind": ["per_1000_elderly", "count", "per_1000_population"],
                            "value": [35.0, 30_000.0, 4.5]})
    beds = charts.bed_demand_chart(gaps, targets, summary=summary, lang=lang)
    childcare = charts.childcare_demand_chart(gaps, targets, summary=summary, coverage=True,
                                              lang=lang)
    for fig, expected in ((beds, 2), (childcare, 1)):
        ax = fig.axes[0]
        annotations = _target_labels(ax)
        assert len(annotations) == expected
        boxes = []
        for annotation in annotations:
            annotation.get_window_extent()  # positions the annotation
            box = matplotlib.text.Text.get_window_extent(annotation)
            assert ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1
            assert ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1
            crossed = [path for path in _line_paths(ax)
                       if path.intersects_bbox(box, filled=False)]
            assert crossed == [], annotation.get_text()
            star = ax.transData.transform(annotation.xy)
            moved = np.hypot(*annotation.xyann) > charts.LEADER_FROM
            assert annotation.arrow_patch.get_visible() == moved
            assert not box.contains(*star)
            boxes.append(box)
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # the 2025 target on the norm line: 35 × 773,603 / 1,000 = 27,076 beds
    assert any("27,076" in a.get_text() for a in _target_labels(beds.axes[0]))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_long_national_target_label_stays_inside_the_axes_and_is_named_national(lang):
    """Honghe's 托位 target is the national 4.5 per 1,000 population, which the plan did not
    adopt. Its English label ("2025 national target: 4.5 per 1,000 population (≈… places)") is
    wider than any free place beside the star; it was drawn over the y-axis title. It must lie
    inside the axes, clear of the axis title and every plotted line, and the legend (and the
    label) must call it 全国目标 / national target, never 规划目标 / plan target."""
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    gaps.loc[gaps["service"] == "childcare_places", "supply"] = np.nan
    targets = pd.DataFrame({"service": ["childcare_places"], "year": [2025],
                            "kind": ["per_1000_population"], "value": [4.5],
                            "source": ["national: 十四五规划纲要 (2021)"]})
    fig = charts.childcare_demand_chart(gaps, targets, summary=summary, lang=lang)
    ax = fig.axes[0]
    (annotation,) = _target_labels(ax)
    annotation.get_window_extent()
    box = matplotlib.text.Text.get_window_extent(annotation)
    assert ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1, annotation.get_text()
    assert ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1, annotation.get_text()
    assert not box.overlaps(ax.yaxis.label.get_window_extent())
    assert [p for p in _line_paths(ax) if p.intersects_bbox(box, filled=False)] == []
    national, plan = charts.label("target_national", lang), charts.label("target_plan", lang)
    assert national.lower() in annotation.get_text().lower()
    legend = [text.get_text() for text in _only_legend(fig).get_texts()]
    assert national in legend and plan not in legend


def test_source_line_names_the_plan_document_and_keeps_the_default():
    document = "红河州“一老一小”整体解决方案"
    assert charts.source_line("zh") == charts.LABELS["zh"]["source"] \
        == "资料来源：第七次全国人口普查；本工具预测"
    assert charts.source_line("en") == "Source: 2020 census; forecast projection"
    assert charts.source_line("zh", census=False) == charts.LABELS["zh"]["source_projection"]
    assert charts.source_line("zh", document) == \
        "资料来源：第七次全国人口普查；《红河州“一老一小”整体解决方案》；本工具预测"
    assert charts.source_line("zh", f"《{document}》") == charts.source_line("zh", document)
    assert charts.source_line("en", "Plan") == "Source: 2020 census; Plan; forecast projection"
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    for fig, expected in (
            (charts.bed_demand_chart(gaps, summary=summary, plan_document=document),
             charts.source_line("zh", document)),
            (charts.childcare_demand_chart(gaps, plan_document=document),
             charts.source_line("zh", document)),
            (charts.bed_demand_chart(gaps), "资料来源：第七次全国人口普查；本工具预测"),
            (charts.bed_demand_chart(gaps, plan_document=document, source="own"), "own")):
        assert fig.subfigs[1].texts[0].get_text() == expected


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_long_source_line_wraps_or_shrinks_inside_the_figure(lang):
    """A source line wider than the figure is drawn smaller or on more lines, never clipped:
    its box lies inside the figure and below the legend, and it keeps every character."""
    documents = "；".join(("《红河哈尼族彝族自治州“十四五”养老服务体系建设规划（2021—2025年）》",
                          "《红河州“十四五”托育服务发展规划》", "云南省统计年鉴2021"))
    source = (f"资料来源：第七次全国人口普查；{documents}；本工具预测" if lang == "zh"
              else f"Source: 2020 census; {documents}; forecast projection")
    summary = synthetic_summary()
    gaps = synthetic_gaps(summary)
    fig = charts.bed_demand_chart(gaps, synthetic_targets(), summary=summary, lang=lang,
                                  source=source)
    text = fig.subfigs[1].texts[0]
    box = text.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    assert 0 <= box.y0 and box.y1 <= fig.bbox.height
    assert box.y1 <= _only_legend(fig).get_window_extent().y0
    assert text.get_text().replace("\n", "") == source
    assert "\n" in text.get_text() or text.get_fontsize() < charts.SMALL_FONT_SIZE
    assert text.get_fontsize() >= charts.SMALLEST_SOURCE_SIZE
    # a short line stays as it was: one line at the small size
    plain = charts.bed_demand_chart(gaps, lang=lang).subfigs[1].texts[0]
    assert "\n" not in plain.get_text() and plain.get_fontsize() == charts.SMALL_FONT_SIZE
