"""`forecast init UNIT`: a minimal, commented config that `forecast run` runs as is, for any
census unit; `source_document` optional; never a replaced file."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from forecast.cli import main
from forecast.config import load_config
from forecast.errors import ConfigError
from forecast.init_config import english_name
from forecast.presentation.labels import REPORT_TEXT, TERMINAL_TEXT


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_english_names_drop_the_administrative_suffix():
    """Pinyin of the name without 市/县/区/省/自治州 and its nationalities; an apostrophe before
    a syllable starting with a vowel (西安 Xi'an); a one-character stem keeps its suffix."""
    assert english_name("红河哈尼族彝族自治州") == "Honghe"
    assert english_name("双江拉祜族佤族布朗族傣族自治县") == "Shuangjiang"
    assert english_name("广西壮族自治区") == "Guangxi"
    assert english_name("万源市") == "Wanyuan"
    assert english_name("西安市") == "Xi'an"
    assert english_name("城区") == "Chengqu"


@pytest.fixture(scope="module")
def wanyuan(tmp_path_factory):
    """`forecast init 万源市` and `forecast run` of the file it wrote, unedited."""
    root = tmp_path_factory.mktemp("init")
    path = root / "wanyuan.yaml"
    written = invoke("init", "万源市", "--out", path)
    assert written.exit_code == 0, written.output
    ran = invoke("run", path, "--out", root / "out")
    assert ran.exit_code == 0, ran.output
    return path, root / "out", ran.output


def test_init_writes_a_valid_config_for_the_census_unit(wanyuan):
    """万源市 is census unit 511781; the config validates, has only the baseline and names no
    plan document; its comments say so."""
    path, _, _ = wanyuan
    config = load_config(path)
    assert (config.jurisdiction.code, config.jurisdiction.name) == ("511781", "万源市")
    assert config.jurisdiction.name_en == "Wanyuan"
    assert config.source_document is None and config.supply.services() == {}
    assert list(config.scenarios) == ["baseline"]
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# 万源市 (511781, county") and "forecast init 万源市" in text


def test_forecast_run_runs_it_and_says_the_plan_is_absent(wanyuan):
    """The run is complete (all tables, the report); the terminal and the report say the plan's
    figures are absent and every service's supply is unknown."""
    _, out, output = wanyuan
    assert TERMINAL_TEXT["zh"]["no_plan"] in output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_document"] == {}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert REPORT_TEXT["zh"]["doc_line_no_plan"] in page
    assert "《》" not in page
    import pandas as pd

    gaps = pd.read_csv(out / "gaps.csv")
    assert len(gaps) and (gaps.status == "unknown").all() and gaps.supply.isna().all()
    assert (gaps.demand > 0).all()
    # no supply at all: not 部分年份供给未知 (issue 16), and no blank workbook sheet
    assert "无法判断（规划未给出供给）" in page and "部分年份供给未知" not in page
    from openpyxl import load_workbook

    from forecast.presentation.labels import WORKBOOK_EMPTY_SHEET

    book = load_workbook(out / "results.xlsx")
    assert book["targets"]["A1"].value == WORKBOOK_EMPTY_SHEET["zh"]


def test_the_commented_plan_block_is_a_valid_config_when_uncommented(wanyuan, tmp_path):
    """The example in the comments (source_document, supply) validates once uncommented, so
    the file's guidance is not stale."""
    path, _, _ = wanyuan
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# source_document:"))
    end = next(i for i, line in enumerate(lines) if line.startswith("scenarios:"))
    block = [re.sub(r"^# ?", "", line) for line in lines[start:end]]
    edited = tmp_path / "wanyuan.yaml"
    edited.write_text("\n".join(lines[:start] + block + lines[end:]) + "\n", encoding="utf-8")
    config = load_config(edited)
    assert config.source_document.title.endswith("实施方案")
    assert config.supply.elderly_beds.base_supply == 1000


def test_init_never_replaces_a_file(tmp_path):
    """An existing --out is refused in one line naming it, exit 2, its bytes unchanged."""
    path = tmp_path / "mine.yaml"
    path.write_bytes(b"# my own config\n")
    result = invoke("init", "511781", "--out", path)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and str(path) in result.output
    assert "never replaces" in result.output
    assert path.read_bytes() == b"# my own config\n"


def test_init_unit_errors_are_those_of_forecast_units(tmp_path):
    """An ambiguous name lists the candidates, an unknown one suggests `forecast units`; one
    line, exit 2, nothing written."""
    ambiguous = invoke("init", "城区", "--out", tmp_path / "a.yaml")
    assert ambiguous.exit_code == 2 and ambiguous.output.count("\n") == 1
    assert "matches 3 census units" in ambiguous.output
    unknown = invoke("init", "不存在县", "--out", tmp_path / "b.yaml")
    assert unknown.exit_code == 2 and "forecast units" in unknown.output
    assert list(tmp_path.iterdir()) == []


def test_without_source_document_every_citation_names_its_document(tmp_path):
    """A config without `source_document` whose supply cites no document is refused, naming
    the field (its citations would otherwise name no document at all)."""
    config = {"jurisdiction": {"code": "511781", "name": "万源市", "name_en": "Wanyuan"},
              "supply": {"elderly_beds": {
                  "base_year": 2020, "base_supply": 100,
                  "base_source": {"section": "一", "quote": "床位100张"}}}}
    path = tmp_path / "wanyuan.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"supply\.elderly_beds\.base_source\.document.*"
                                          r"names no `source_document`"):
        load_config(path)
    config["supply"]["elderly_beds"]["base_source"]["document"] = "某某市实施方案"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert load_config(path).supply.elderly_beds.base_supply == 100


def test_readme_minimal_config_is_what_init_writes(wanyuan):
    """The README's minimal config is the data of `forecast init 万源市` (comments aside)."""
    from pathlib import Path

    path, _, _ = wanyuan
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### A minimal config", 1)[1]
    block = section.split("```yaml", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(block) == yaml.safe_load(path.read_text(encoding="utf-8"))
