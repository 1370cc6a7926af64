"""The HTML report: content from the run's tables, self-contained, escaped, rendered in Chromium.

One real run (`forecast run` on the Honghe config, baseline + low fertility, with hostile
strings in name_en and notes) feeds every test; Chromium tests skip only when no chromium
binary is installed.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from forecast.cli import main
from forecast.presentation.report import FONT_FAMILY, REPORT_FILE, _visible_text, build_report

PROJECT = Path(__file__).resolve().parents[1]
HOSTILE_NAME = 'Honghe <script>alert("x")</script> & Co'
HOSTILE_NOTE = "<script>document.title='pwned'</script> beds & places"
HOSTILE_NOTE_ZH = "<script>document.title='床位'</script> 床位与托位"
HOSTILE_NOTE_EN = "<script>document.title='pwned'</script> places & beds"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """`forecast run` of Honghe (baseline, low_fertility) with hostile user strings."""
    root = tmp_path_factory.mktemp("report")
    config = yaml.safe_load((PROJECT / "configs" / "honghe.yaml").read_text(encoding="utf-8"))
    config["jurisdiction"]["name_en"] = HOSTILE_NAME
    config["supply"]["nursing_beds"]["note"] = HOSTILE_NOTE
    config["supply"]["nursing_beds"]["note_zh"] = HOSTILE_NOTE_ZH
    config["expectations"][0]["note"] = HOSTILE_NOTE_EN  # no note_zh: shown as written
    path = root / "honghe.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = root / "out"
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(out), "--scenario",
                                       "baseline", "--scenario", "low_fertility"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def page(run_dir) -> str:
    return (run_dir / REPORT_FILE).read_text(encoding="utf-8")


def _plain(page: str) -> str:
    """The page's text with tags removed and entities resolved."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<svg\b.*?</svg>", "", page,
                                                          flags=re.S)))


# --------------------------------------------------------------------------------- content
def test_header_names_jurisdiction_and_document(page, run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    text = _plain(page)
    assert f"<title>{manifest['jurisdiction']['name']}" in page
    assert manifest["jurisdiction"]["name"] == "红河哈尼族彝族自治州"
    assert manifest["source_document"]["title"] in text
    assert manifest["source_document"]["document_number"] in text


def test_findings_state_the_2025_elderly_population_from_summary(page, run_dir):
    summary = pd.read_csv(run_dir / "summary.csv")
    row = summary[(summary.scenario == "baseline") & (summary.year == 2025)].iloc[0]
    expected = f"2025年60岁及以上人口预计为{row.pop_60plus / 1e4:,.1f}万人"
    assert expected in _plain(page)


def test_findings_state_the_migration_share_of_population_change(page, run_dir):
    """The key findings say how much of the change base → end comes from net migration:
    the sum of summary.csv's net migrants over the projected years (Honghe loses people)."""
    summary = pd.read_csv(run_dir / "summary.csv")
    rows = summary[summary.scenario == "baseline"].set_index("year")
    migrants = rows.net_migrants.iloc[1:].sum()
    change = rows.total.iloc[-1] - rows.total.iloc[0]
    assert migrants < 0
    expected = (f"{rows.index[0]}–{rows.index[-1]}年人口变动−{abs(change) / 1e4:,.1f}万人，"
                f"其中累计净迁移−{abs(migrants) / 1e4:,.1f}万人")
    assert expected in _plain(page)


def test_migration_contribution_against_the_closed_scenario():
    """difference = end population − the no-migration scenario's end population, and its
    share of the change (end − base); a scenario whose base differs is not the closed one."""
    from forecast.presentation.report import migration_contribution

    summary = pd.DataFrame({
        "scenario": ["baseline"] * 3 + ["other"] * 3 + ["no_migration"] * 3,
        "year": [2020, 2021, 2022] * 3,
        "total": [100.0, 95.0, 90.0, 120.0, 118.0, 116.0, 100.0, 99.0, 98.0],
        "net_migrants": [np.nan, -4.0, -4.0, np.nan, 0.0, 0.0, np.nan, 0.0, 0.0]})
    result = migration_contribution(summary, "baseline")
    assert result["change_count"] == -10.0 and result["net_migrants_count"] == -8.0
    assert result["closed_scenario"] == "no_migration"
    assert result["difference_count"] == -8.0
    assert result["difference_share"] == pytest.approx(0.8)


def test_gap_table_matches_gaps_csv_and_first_shortfall(page, run_dir):
    gaps = pd.read_csv(run_dir / "gaps.csv")
    first = pd.read_csv(run_dir / "first_shortfall.csv")
    row = gaps[(gaps.scenario == "baseline") & (gaps.service == "elderly_beds")
               & (gaps.method == "norm") & (gaps.year == 2030)].iloc[0]
    assert row.gap < 0  # Honghe's plan falls short of the 35-per-1,000 norm by 2030
    section = page[page.index('<section id="gaps">'):page.index('<section id="charts">')]
    assert f'<td class="num short">{f"{row.gap:,.0f}".replace("-", "−")}</td>' in section
    year = first[(first.scenario == "baseline") & (first.service == "elderly_beds")
                 & (first.method == "norm")].first_shortfall_year.iloc[0]
    assert re.search(rf'<td class="[^"]*\bshort\b[^"]*">{int(year)}</td>', section)


def test_every_chart_inlined_with_unit_and_source(page, run_dir):
    stems = sorted(p.stem for p in (run_dir / "charts").glob("*.svg"))
    assert len(stems) >= 6
    for stem in stems:
        figure = re.search(rf'<figure id="fig-{stem}">(.*?)</figure>', page, flags=re.S)
        assert figure, stem
        assert "<svg" in figure.group(1)
        caption = _plain(figure.group(1))
        assert "单位：" in caption and "资料来源：" in caption, stem
    beds = re.search(r'<figure id="fig-bed_demand">.*?<figcaption>(.*?)</figcaption>', page,
                     flags=re.S).group(1)
    assert "张" in beds and "红河州“一老一小”整体解决方案" in html.unescape(beds)


def test_assumptions_mark_unsourced_rows(page, run_dir):
    assumptions = pd.read_csv(run_dir / "assumptions.csv")
    unsourced = int((assumptions.label != "sourced").sum())
    assert unsourced > 0
    assert page.count('<tr class=unsourced>') == unsourced
    assert f"共{len(assumptions)}项假设，其中{unsourced}项无来源" in _plain(page)


def test_expectations_scenarios_and_methods(page):
    text = _plain(page)
    assert "文件称2025年60岁及以上人口约为71.0万人" in text
    assert '<section id="scenarios">' in page and "低生育率方案" in text
    assert "本次运行未做随机预测" in text
    for phrase in ("队列要素法", "存活比", "千人指标法", "目标入住率", "托位 = "):
        assert phrase in text, phrase


# ------------------------------------------------------------------------- self-contained
def test_page_references_nothing_outside_itself(page):
    assert not re.search(r"https?://", page)
    for attribute in re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page):
        assert attribute.startswith(("data:", "#")), attribute
    for target in re.findall(r"url\(([^)]*)\)", page):
        assert target.startswith(("data:", "#")), target[:40]
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()


def test_chart_ids_are_unique_on_the_page(page):
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) > 100
    assert len(ids) == len(set(ids))


def test_user_strings_are_escaped(page):
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt; places &amp; beds" in page
    assert "&lt;script&gt;document.title=&#x27;床位&#x27;&lt;/script&gt; 床位与托位" in page
    assert "<script" not in page


def test_embedded_font_is_a_subset_covering_the_page(page):
    from fontTools.ttLib import TTFont

    match = re.search(r"url\(data:font/(woff2?);base64,([A-Za-z0-9+/=]+)\)", page)
    assert match and match.group(1) == "woff2"
    data = base64.b64decode(match.group(2))
    assert len(data) < 300_000
    font = TTFont(io.BytesIO(data))
    cmap = font.getBestCmap()
    needed = {ord(c) for c in _visible_text(page) if not c.isspace()}
    assert needed - set(cmap) == set()
    assert len(font.getGlyphOrder()) < 3000  # the full Noto Sans CJK SC has 65,535


# ------------------------------------------------------------------------ `forecast report`
def test_report_command_rebuilds_the_same_page(run_dir, page, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / REPORT_FILE).unlink()
    result = CliRunner().invoke(main, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert (copy / REPORT_FILE).read_text(encoding="utf-8") == page


def test_report_command_english(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    result = CliRunner().invoke(main, ["report", str(copy), "--lang", "en"])
    assert result.exit_code == 0, result.output
    english = (copy / REPORT_FILE).read_text(encoding="utf-8")
    assert '<html lang="en">' in english
    assert "Key findings" in english and "主要结论" not in english
    assert "&lt;script&gt;alert" in english and "<script" not in english


@pytest.mark.parametrize("setup", ["missing", "empty", "bad_manifest"])
def test_report_command_bad_directory_exits_2(tmp_path, run_dir, setup):
    target = tmp_path / "out"
    if setup == "empty":
        target.mkdir()
    elif setup == "bad_manifest":
        shutil.copytree(run_dir, target)
        (target / "manifest.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(target)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert message.startswith("error: ") and "\n" not in message and str(target) in message


def test_optional_tables_absent_or_present(run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "expectations.csv").unlink()
    summary = pd.read_csv(copy / "summary.csv")
    quantiles = summary.melt(id_vars=["scenario", "year"], value_vars=["total", "pop_60plus"],
                             var_name="indicator", value_name="q50")
    for name, factor in (("q025", 0.9), ("q10", 0.95), ("q90", 1.05), ("q975", 1.1)):
        quantiles[name] = quantiles["q50"] * factor
    quantiles.to_csv(copy / "summary_quantiles.csv", index=False)
    pd.DataFrame({"scenario": "baseline", "service": "elderly_beds", "method": "norm",
                  "year": [2025, 2030, 2035], "probability_met": [0.25, 0.1, 0.0],
                  "n_trajectories": 100}).to_csv(copy / "probability_met.csv", index=False)
    text = _plain(build_report(copy, "zh"))
    assert "配置未给出文件中的人口预期" in text
    median_2030 = summary.set_index(["scenario", "year"]).loc[("baseline", 2030), "pop_60plus"]
    assert f"{median_2030:,.0f}" in text
    assert "25%" in text and "本次运行未做随机预测" not in text


def test_elderly_share_panel_is_in_per_cent(run_dir):
    """summary.csv holds share_60plus as a fraction; the chart's % axis must show 100×."""
    from forecast.presentation.charts import elderly_trends

    summary = pd.read_csv(run_dir / "summary.csv")
    fig = elderly_trends(summary, scenario="baseline")
    bottom = fig.subfigs[0].axes[1]
    drawn = bottom.lines[0].get_ydata()
    expected = summary[summary.scenario == "baseline"].share_60plus.to_numpy() * 100
    np.testing.assert_allclose(drawn, expected)


# --------------------------------------------------------------------------------- Chromium
def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def _screenshot(page_path: Path, png: Path, profile: Path, size: str = "1280,2000") -> np.ndarray:
    result = _chromium(["--enable-logging=stderr", "--v=0", f"--screenshot={png}",
                        f"--window-size={size}", page_path.as_uri()], profile)
    assert png.is_file(), result.stderr[-2000:]
    for failure in ("net::ERR", "Failed to load resource", "Not allowed to load"):
        assert failure not in result.stderr, failure
    return mpimg.imread(png)[..., :3]


def test_chromium_renders_the_page_with_the_embedded_font(run_dir, tmp_path):
    shot = _screenshot(run_dir / REPORT_FILE, tmp_path / "page.png", tmp_path / "profile")
    assert shot.shape[:2] == (2000, 1280)
    dark = (shot.mean(axis=2) < 0.5).mean()
    assert 0.005 < dark < 0.5  # text and charts on a white page, not blank

    # The title drawn with the embedded font and with a family that does not exist: without
    # system CJK fonts the fallback draws other glyphs (or boxes), so the pixels differ.
    page = (run_dir / REPORT_FILE).read_text(encoding="utf-8")
    bogus = page.replace(f'html {{ font-family: "{FONT_FAMILY}"',
                         'html { font-family: "NoSuchFontAnywhere"', 1)
    assert bogus != page
    bogus_path = tmp_path / "bogus.html"
    bogus_path.write_text(bogus, encoding="utf-8")
    fallback = _screenshot(bogus_path, tmp_path / "bogus.png", tmp_path / "profile2")
    title_rows = slice(0, 90)
    assert (shot[title_rows].mean(axis=2) < 0.5).any()
    assert np.abs(shot[title_rows] - fallback[title_rows]).max() > 0.5


def test_chromium_loads_the_font_and_no_external_resource(run_dir, tmp_path):
    """A test-only copy adds a script that writes the font status and the resource list into
    the DOM (the report itself has no script)."""
    page = (run_dir / REPORT_FILE).read_text(encoding="utf-8")
    probe = (
        "<script>document.fonts.load('16px " + FONT_FAMILY + "', '红河').then(function (f) {"
        "var external = performance.getEntriesByType('resource').map(function (e) {"
        "return e.name; }).filter(function (n) { return n.indexOf('data:') !== 0; });"
        "var out = document.createElement('pre'); out.id = 'probe';"
        "out.textContent = JSON.stringify({faces: f.length, check: document.fonts.check("
        "'16px " + FONT_FAMILY + "', '红河哈尼族'), external: external});"
        "document.body.appendChild(out); });</script>")
    probe_path = tmp_path / "probe.html"
    probe_path.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    result = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe_path.as_uri()],
                       tmp_path / "profile")
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, flags=re.S)
    assert found, result.stderr[-2000:]
    status = json.loads(html.unescape(found.group(1)))
    assert status == {"faces": 1, "check": True, "external": []}


# ------------------------------------------------------------------ language and layout checks
def test_chinese_report_holds_no_english_sentence_and_no_nan(page, run_dir):
    """Outside names and codes the Chinese report is Chinese: no run of four English words with
    a function word in it (supply basis, assumptions table, method bullets were English), and
    no literal nan (ten cells showed one). Every note the tool itself writes has a Chinese text
    (only notes a user wrote in English fall back to a pointer to the CSV)."""
    from forecast.presentation.labels import UNTRANSLATED, english_sentences, translate

    text = _visible_text(page)
    assert english_sentences(text) == []
    assert re.findall(r"\bnan\b", text, flags=re.I) == []
    # the shipped config's English notes show as their note_zh, never as the placeholder
    assert UNTRANSLATED not in text
    assert "规划未给出托位数量，只给出机构数" in text  # Honghe's 托位 supply note
    assumptions = pd.read_csv(run_dir / "assumptions.csv")
    tool_rows = assumptions[(assumptions.source.astype(str) != "config")
                            & (assumptions.component != "demand parameter")]
    untranslated = [str(v) for column in ("assumption", "detail", "source")
                    for v in tool_rows[column] if translate(v) == UNTRANSLATED]
    assert untranslated == []
    supply = pd.read_csv(run_dir / "supply.csv")
    assert [b for b in supply.supply_basis.dropna().unique()
            if translate(b) == UNTRANSLATED and "additions" not in b] == []


def test_report_starts_with_a_one_page_summary(page):
    """The first section answers how many beds and 托位, and whether the plan supplies them."""
    sections = re.findall(r'<section id="([^"]+)"', page)
    assert sections[0] == "summary"
    summary = _plain(page.split('<section id="summary">')[1].split("</section>")[0])
    for service in ("养老床位", "护理型床位", "托位"):
        assert service in summary
    assert "规划能否满足" in summary and "首个缺口年份" in summary


def _layout_probe(report: Path, width: int, tmp_path: Path) -> dict:
    """Load ``report`` in an iframe ``width`` px wide and measure its tables
    (tests/data/report_probe.js): tables wider than the text column, cells whose text spills
    out, cells squeezed to about one character a line."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    probe = (PROJECT / "tests" / "data" / "report_probe.js").read_text(encoding="utf-8")
    shutil.copy(report, tmp_path / "report.html")
    wrapper = tmp_path / f"wrap{width}.html"
    wrapper.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="report.html" '
        f'style="width:{width}px;height:3000px;border:0"></iframe><script>{probe}\n'
        'document.getElementById("f").onload = function() { var f = '
        'document.getElementById("f"); var pre = document.createElement("pre"); '
        'pre.id = "probe-result"; pre.textContent = JSON.stringify(probe(f.contentWindow, '
        'f.contentDocument)); document.body.appendChild(pre); };</script></body></html>',
        encoding="utf-8")
    result = _chromium(["--allow-file-access-from-files", "--window-size=1400,2000",
                        "--dump-dom", wrapper.as_uri()], tmp_path / f"profile{width}")
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', result.stdout, re.S)
    assert match, result.stderr[-2000:]
    return json.loads(html.unescape(match.group(1)))


def test_no_table_overflows_its_column_at_1280_px(run_dir, tmp_path):
    """At 1280 px (a laptop) no table is wider than the text column, no cell's text spills out
    and no cell is squeezed to a character a line (the scenario tables were, with 9 scenarios
    as columns)."""
    found = _layout_probe(run_dir / REPORT_FILE, 1280, tmp_path)
    assert found["viewport"] == 1280
    assert found["tables"] == [] and found["cells"] == []
    assert found["scrolling"] == []  # at 1280 px every table fits without scrolling
    assert found["page"] <= found["viewport"]


def test_every_table_fits_or_scrolls_in_its_own_box_at_390_px(run_dir, tmp_path):
    """At 390 px (a phone) the page does not scroll sideways, a table wider than the column
    scrolls inside its own box no wider than the column, and no cell is squeezed to a
    character a line (the gap and assumptions tables were: their text columns 20 px wide beside
    unbreakable numbers)."""
    found = _layout_probe(run_dir / REPORT_FILE, 390, tmp_path)
    assert found["viewport"] == 390
    assert found["tables"] == [] and found["cells"] == []
    assert found["page"] <= found["viewport"]
    # the wide tables are the ones that scroll, each inside its own box
    assert {"gaps", "assumptions"} <= {table["section"] for table in found["scrolling"]}
    # the one-page summary fits: its verdict column scrolled out of sight (the supply column
    # "16,483张（其中机构床位9,648张）" was kept on one line)
    assert "summary" not in {table["section"] for table in found["scrolling"]}


def test_an_unknown_first_shortfall_says_why(page):
    """无法判断（部分年份供给未知） was said of every unknown outcome, also where the plan gives
    no supply at all (Honghe's 托位) and where supply, known from 2025, meets demand in every
    year it is known."""
    from forecast.presentation.report import _unknown_outcome_text

    gap_section = _plain(page.split('<section id="gaps">')[1].split("</section>")[0])
    assert "无法判断（规划未给出供给）" in gap_section  # Honghe states no 托位 supply
    rows = pd.DataFrame({"year": [2024, 2025, 2026], "supply": [float("nan"), 10.0, 10.0],
                         "gap": [float("nan"), 1.0, 0.0]})
    assert _unknown_outcome_text(rows, "zh") == "2025年起无缺口（此前供给未知）"
    assert _unknown_outcome_text(rows.assign(supply=float("nan")), "zh") == \
        "无法判断（规划未给出供给）"
    gap_in_2025 = rows.assign(supply=[10.0, float("nan"), 10.0], gap=[1.0, float("nan"), 1.0])
    assert _unknown_outcome_text(gap_in_2025, "en") == "unknown (supply missing in some years)"


def test_supply_basis_says_an_own_target_could_not_be_counted(tmp_path):
    """Qinghai's and Lincang's nursing beds: no supply, but the plan's own share target (60 %,
    55 %) with no bed count to take it of. The basis said 也未给出本地目标, which is wrong; a
    national target alone (Qinghai's 托位) is no target of the plan's own."""
    from forecast.presentation.report import RunFiles, _supply_basis_html

    supply = pd.DataFrame({"scenario": "baseline", "service": ["nursing_beds", "childcare_places"],
                           "year": 2025, "supply": float("nan"), "supply_basis": "unknown"})
    targets = pd.DataFrame({"service": ["nursing_beds", "childcare_places"],
                            "source": ["002.txt, “护理型床位占比达到60%”", "national: 《纲要》"]})
    files = RunFiles(directory=tmp_path, manifest={}, tables={"supply": supply,
                                                              "targets": targets})
    text = _plain(_supply_basis_html(files, "baseline", "zh"))
    assert "护理型床位：文件未给出供给数量；本地目标无法折算为数量" in text
    assert "托位：文件未给出供给数量，也未给出本地目标。" in text
