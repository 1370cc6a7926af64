"""Display text lives in one module, ``forecast/presentation/labels.py``, in Chinese and English
(issue 9, item 2): charts, the report, the terminal and the workbook read their words from it.

The check reads every module of the package with :mod:`ast`, so it inspects real string
constants, the literal parts of f-strings included, and skips docstrings and comments. A
module's string constant that contains Chinese characters (CJK unified ideographs, U+4E00 to
U+9FFF) fails the test unless the module, or that Chinese word in that module, is in the
commented allowlists below: names that are data (census column and unit names used to look
things up), Chinese terms glossed in English notes that ``labels.translate`` turns into Chinese,
and two modules left for the lead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from forecast.presentation import labels

PACKAGE = Path(__file__).resolve().parent.parent / "forecast"
CHINESE_RUN = re.compile(r"[\u4e00-\u9fff]+")

#: Modules whose Chinese string constants are all allowed, and why.
ALLOWED_MODULES: dict[str, str] = {
    "presentation/labels.py": "the one module of display text",
    "defaults/census.py": "data: census table column names, unit names, level suffixes and "
                          "aliases used to find units (全国, 市辖区, 自治州 …)",
    "defaults/crosswalk.py": "data: the 巿/市 variant spelling of unit names in the 2010 tables",
    "init_config.py": "data: the ethnic-group list and division suffixes that turn a unit's "
                      "name into pinyin, and the commented YAML template `forecast init` writes",
    "config/model.py": "documentation of the config fields (the JSON schema) that quotes the "
                       "plan documents' own Chinese terms (文号, 到2025年, 不少于 …)",
}

#: Chinese words allowed in the named module: data, or a gloss inside an English note (a
#: provenance or basis note written into a CSV table, which labels.translate renders in
#: Chinese for the Chinese report).
ALLOWED_WORDS: dict[str, set[str]] = {
    # glosses in the notes of planning.csv
    "care/planning.py": {"特困", "区籍", "托位"},
    # gloss in a config error's fix
    "care/supply.py": {"托位"},
    # the column names a user's census-style table must have (--census-table help)
    "cli.py": {"年龄", "男", "女", "合计"},
    # glosses in the notes of the 2010 migration default
    "defaults/migration.py": {"户籍", "户籍人口"},
    # gloss in the provenance note of an explorer scenario
    "explore/session.py": {"情景假设", "非规划文件"},
    # the national unit's name in the published-figures table (data), the NBS's own unit
    # (万人) in a source note, and a gloss in the backtest's English page
    "pipeline/backtest.py": {"全国", "万人", "户籍"},
    # the national unit's name, shown like every unit name in the terminal line
    "pipeline/batch.py": {"全国"},
    # glosses in the provenance of the planning stage
    "pipeline/run.py": {"护理员", "保育人员"},
    # glosses in a target's origin note and in a held demand parameter's note
    "pipeline/spec.py": {"托位"},
    "pipeline/uncertainty.py": {"托位"},
}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants of a module, class or function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.add(id(body[0].value))
    return found


def chinese_constants(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant of ``source`` with Chinese characters, f-string
    parts included, docstrings and comments not."""
    tree = ast.parse(source)
    skipped = _docstrings(tree)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in skipped and CHINESE_RUN.search(node.value))


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_the_scan_sees_literals_and_f_string_parts_but_not_docstrings_or_comments():
    source = '''
"""模块说明"""
# 注释
def f(place, lang):
    """函数说明"""
    title = f"{place}：各方案比较" if lang == "zh" else f"{place} by scenario"
    return title + "万人"
'''
    assert chinese_constants(source) == [(6, "：各方案比较"), (7, "万人")]


def test_display_text_is_only_in_labels():
    """No Chinese string constant outside labels.py but the allowed data and glosses."""
    offending = []
    for path in _modules():
        name = _name(path)
        if name in ALLOWED_MODULES:
            continue
        allowed = ALLOWED_WORDS.get(name, set())
        for line, text in chinese_constants(path.read_text(encoding="utf-8")):
            if not set(CHINESE_RUN.findall(text)) <= allowed:
                offending.append(f"forecast/{name}:{line}: {text[:60]!r}")
    assert not offending, ("display text outside forecast/presentation/labels.py (move it "
                           "there, zh and en):\n" + "\n".join(offending))


@pytest.mark.parametrize("name", sorted(ALLOWED_MODULES))
def test_every_allowed_module_exists_and_still_needs_it(name):
    """An allowlisted module that no longer holds Chinese text is taken off the list."""
    path = PACKAGE / name
    assert path.is_file(), name
    assert chinese_constants(path.read_text(encoding="utf-8")), name


@pytest.mark.parametrize("name", sorted(ALLOWED_WORDS))
def test_every_allowed_word_is_still_used(name):
    """An allowed word that left its module is taken off the list."""
    used = {word for _, text in chinese_constants((PACKAGE / name).read_text(encoding="utf-8"))
            for word in CHINESE_RUN.findall(text)}
    assert ALLOWED_WORDS[name] <= used, sorted(ALLOWED_WORDS[name] - used)


@pytest.mark.parametrize("table", ["BATCH_TEXT", "CHART_TEXT", "COMPARE_CHART_TEXT", "PUNCTUATION",
                                   "REPORT_TEXT"])
def test_moved_text_has_both_languages(table):
    texts = getattr(labels, table)
    assert set(texts["zh"]) == set(texts["en"])


def test_head_counts_and_counts_in_words():
    # the formats the report and the batch report print (80.8万人 is 808,153 persons)
    assert labels.persons_text(808_153, "zh") == "80.8万人"
    assert labels.persons_text(9_999, "zh") == "9,999人"
    assert labels.persons_text(808_153, "en") == "808,153 persons"
    assert labels.persons_text(1, "en") == "1 person"
    assert labels.persons_text(4_512_345, "en", millions=True) == "4.51 million"
    assert labels.persons_text(808_153, "en", millions=True) == "808,153"
    assert labels.persons_text(4_512_345, "zh", millions=True) == "451.2万人"
    assert labels.count_text(-1_200, "childcare_places", "zh") == "1,200个"
    assert labels.count_text(1_200, "elderly_beds", "zh") == "1,200张"
    assert labels.count_text(1_200, "nursing_beds", "en") == "1,200 beds"
    assert labels.count_text(1_200, "childcare_places", "en") == "1,200 places"


def test_batch_workbook_headers():
    # columns <service>_<method>[_gap] and <service>_national_target of units.csv
    assert labels.batch_header_zh("elderly_beds_needs_gap") == "养老床位失能需求法缺口"
    assert labels.batch_header_zh("childcare_places_needs") == "托位入托需求法需求"
    assert labels.batch_header_zh("elderly_beds_rule_9073") == "养老床位“9073”格局法需求"
    assert labels.batch_header_zh("childcare_places_norm") == "托位千人指标法需求"
    assert labels.batch_header_zh("nursing_beds_national_target") == "护理型床位全国目标"
    assert labels.batch_header_zh("total") == "total"
