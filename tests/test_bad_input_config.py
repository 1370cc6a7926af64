"""Bad-input corpus, part 2: configs (issue 13).

Each case writes a broken copy of configs/banan.yaml and runs `forecast run CASE.yaml --out
EARLIER` in-process, where EARLIER holds an earlier output: exit 2, exactly one line on stderr
naming the config file and the line or key, and EARLIER byte-identical afterwards. Most cases
fail while the config is read (milliseconds); the unit and counts-file cases fail before the
projection starts."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from badinput_helpers import CONFIGS, assert_refused, invoke, make_earlier_output, tree_bytes

TEXT = (CONFIGS / "banan.yaml").read_text(encoding="utf-8")
BASE = yaml.safe_load(TEXT)

ELDERLY_BASE = {"base_year": 2020, "base_supply": 5000,
                "base_source": {"section": "test", "quote": "test"}}
ADDED = {  # keys the shipped config leaves at their defaults, set so that a case can break them
    "demand": {"elderly": {"norm_per_1000": 35, "nursing_share": 0.5, "target_occupancy": 0.9,
                           "u_severe": 0.5, "prevalence_trend": -0.01},
               "childcare": {"demand_rate": 0.3, "norm_per_1000_population": 4.5,
                             "target_utilisation": 0.8, "uptake": 0.5}},
    "assumptions": {"fertility": {"tfr_shift": 0.1}, "srb": 1.1,
                    "mortality": {"e0_shift": 1.0}, "migration": {"scale": 1.0}},
    "uncertainty": {"migration_sd": 0.5},
    "expectations": [{"year": 2025, "indicator": "pop_60plus", "value": 300000,
                      "source": {"section": "test", "quote": "test"}}],
}


def _get(tree, path):
    node = tree
    for part in path:
        node = node[part]
    return node


def _set(tree, path, value):
    _get(tree, path[:-1])[path[-1]] = value


def _dotted(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def base_tree() -> dict:
    tree = copy.deepcopy(BASE)
    for section, values in ADDED.items():
        if isinstance(values, list):
            tree[section] = copy.deepcopy(values)
            continue
        for key, value in values.items():
            if isinstance(value, dict):
                tree.setdefault(section, {}).setdefault(key, {}).update(copy.deepcopy(value))
            else:
                tree.setdefault(section, {})[key] = value
    tree["supply"]["elderly_beds"].update(copy.deepcopy(ELDERLY_BASE))
    return tree


# field path -> values that must each be refused (YAML text of the value)
NUMBER_FIELDS = {
    ("supply", "elderly_beds", "base_supply"): ["yes", ".inf", ".nan", "-1", "1e308", "lots"],
    ("supply", "elderly_beds", "targets", 0, "value"): ["yes", "on", ".inf", "-.inf", "1e308",
                                                        "-5", "many"],
    ("supply", "nursing_beds", "base_share_nursing"): ["true", ".nan", "32.3", "-0.1"],
    ("supply", "nursing_beds", "targets", 0, "value"): ["yes", ".inf", "60"],
    ("supply", "childcare_places", "base_supply_per_1000_population"): ["yes", ".inf", "1e308",
                                                                         "-1"],
    ("supply", "childcare_places", "additions", 0, "amount"): ["yes", ".inf", "1e308", "0",
                                                              "-150", "some"],
    ("supply", "childcare_places", "additions", 0, "start_year"): ["yes", ".inf", "2022.5",
                                                                  "1e308"],
    ("supply", "childcare_places", "targets", 0, "value"): ["yes", ".nan", "1e308", "4500"],
    ("supply", "childcare_places", "targets", 0, "year"): ["yes", "3000", ".inf"],
    ("demand", "elderly", "norm_per_1000"): ["yes", "no", "on", "off", "true", "false", ".inf",
                                             ".nan", "1e308", "-35", "thirty"],
    ("demand", "elderly", "nursing_share"): ["yes", ".inf", "55", "-0.5"],
    ("demand", "elderly", "target_occupancy"): ["yes", "0", "1.5", ".nan"],
    ("demand", "elderly", "u_severe"): ["yes", "2"],
    ("demand", "elderly", "prevalence_trend"): ["yes", ".inf", "5"],
    ("demand", "childcare", "demand_rate"): ["yes", ".inf", "30"],
    ("demand", "childcare", "norm_per_1000_population"): ["yes", "1e308", "-4.5"],
    ("demand", "childcare", "target_utilisation"): ["no", "0", "80"],
    ("demand", "childcare", "uptake"): ["yes", ".nan", "50"],
    ("assumptions", "fertility", "tfr_shift"): ["yes", ".inf", "1e308"],
    ("assumptions", "srb"): ["yes", ".inf", "111.3", "0"],
    ("assumptions", "mortality", "e0_shift"): ["yes", ".nan", "1e308"],
    ("assumptions", "migration", "scale"): ["yes", ".inf", "-1", "1e308"],
    ("uncertainty", "migration_sd"): ["yes", ".inf", "-0.5"],
    ("projection", "end_year"): ["yes", ".inf", "3000", "2035.5", "1e308", "2010"],
    ("expectations", 0, "value"): ["yes", ".inf", "1e308", "-1"],
    ("expectations", 0, "year"): ["yes", "2100"],
}
NUMBER_CASES = [(path, value) for path, values in NUMBER_FIELDS.items() for value in values]


def _number_case_id(case) -> str:
    path, value = case
    return f"{_dotted(path)}={value}"


@pytest.fixture()
def earlier(tmp_path) -> tuple[Path, dict]:
    out = make_earlier_output(tmp_path / "earlier")
    return out, tree_bytes(out)


def _write_tree(tmp_path: Path, tree: dict, name: str = "case") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_corpus_base_config_is_valid(tmp_path, earlier):
    """The unbroken base of the cases below loads (so each case fails for its own reason)."""
    from forecast.config import load_config

    config = load_config(_write_tree(tmp_path, base_tree()))
    assert config.demand.elderly.norm_per_1000 == 35
    assert config.supply.elderly_beds.base_supply == 5000


@pytest.mark.parametrize("case", NUMBER_CASES, ids=[_number_case_id(c) for c in NUMBER_CASES])
def test_a_bad_number_names_the_file_line_and_key(tmp_path, earlier, case):
    path, value = case
    tree = base_tree()
    _set(tree, path, "@@VALUE@@")
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    text = text.replace("'@@VALUE@@'", value).replace("\"@@VALUE@@\"", value)
    config = tmp_path / "case.yaml"
    config.write_text(text, encoding="utf-8")
    out, before = earlier
    result = invoke("run", config, "--out", out, "--scenario", "baseline")
    line = assert_refused(result, "case.yaml", "line ", protected=[out], before=[before])
    # the key is named: the whole dotted path, or (for a rule across keys) its section
    assert _dotted(path) in line or _dotted(path[:-1]) in line, line


# ------------------------------------------------------------------ YAML text cases

BOMB = ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9)
                  + "]\n" for i in range(8)))


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


TEXT_CASES = {
    "date month 13": (_replace("issued: 2021-12-30", "issued: 2022-13-45"), "issued"),
    "date feb 30": (_replace("issued: 2021-12-30", "issued: 2022-02-30"), "issued"),
    "date day 0": (_replace("issued: 2021-12-30", "issued: 2021-12-00"), "issued"),
    "date month 0": (_replace("issued: 2021-12-30", "issued: 2021-00-10"), "issued"),
    "datetime hour 25": (_replace("issued: 2021-12-30", "issued: 2021-12-30 25:00:00"),
                         "line "),
    "year 1800": (_replace("issued: 2021-12-30", "issued: 1800"), "issued"),
    "nested lists 50000": (lambda t: t + "\nextra: " + "[" * 50_000 + "]" * 50_000 + "\n",
                           "nested more than"),
    "nested mappings 200": (lambda t: t + "\nextra:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(200)) + "  " * 201 + "v: 1\n",
        "nested more than"),
    "recursive alias list": (lambda t: t + "\nextra: &r [*r]\n", "recursive"),
    "recursive alias map": (lambda t: t + "\nextra: &r {again: *r}\n", "recursive"),
    "recursive alias deep": (lambda t: t + "\nextra: &r [[1, [2, *r]]]\n", "recursive"),
    "billion laughs": (lambda t: t + "\n" + BOMB, "alias"),
    "billion laughs in a scenario": (lambda t: t + "  bomb:\n" + "".join(
        "    " + line + "\n" for line in BOMB.splitlines()), "alias"),
    "too many aliases": (lambda t: t + "\nx: &x 1\nmany: [" + ", ".join(["*x"] * 1001) + "]\n",
                         "aliases"),
    "too large": (lambda t: t + "#" + "x" * 1_100_000 + "\n", "characters"),
    "int of 5000 digits": (_replace("amount: 150", "amount: " + "9" * 5000), "amount"),
    "duplicate key": (_replace("  name: 巴南区\n", "  name: 巴南区\n  name: 巴南\n"),
                      "duplicate key"),
    "tab indentation": (_replace("  name: 巴南区\n", "\tname: 巴南区\n"), "case.yaml:10:"),
    "unclosed quote": (_replace('code: "500113"', 'code: "500113'), "YAML syntax error"),
    "unknown tag": (_replace("name_en: Banan", "name_en: !!python/object:os.system Banan"),
                    "case.yaml:11:"),
    "bool as code": (_replace('code: "500113"', "code: yes"), "jurisdiction.code"),
    "full-width code": (_replace('code: "500113"', 'code: "５００１１３"'), "jurisdiction.code"),
    "code of 5 digits": (_replace('code: "500113"', 'code: "50011"'), "jurisdiction.code"),
    "code with letters": (_replace('code: "500113"', 'code: "5OO113"'), "jurisdiction.code"),
    "full-width census_unit": (_replace('  name_en: Banan', '  name_en: Banan\n'
                                        '  census_unit: "５００１１３"'),
                               "jurisdiction.census_unit"),
    "scenario overlay bool": (lambda t: t + "  yes_norm:\n    demand.elderly.norm_per_1000: yes\n",
                              "yes_norm"),
    "scenario overlay inf": (lambda t: t + "  inf_tfr:\n    assumptions.fertility.tfr: .inf\n",
                             "inf_tfr"),
    "scenario overlay huge target": (lambda t: t + "  huge:\n    supply.elderly_beds.targets:\n"
                                     "      - {year: 2025, kind: count, value: 1e308, source: "
                                     "{quote: x}}\n", "huge"),
    "empty file": (lambda t: "", "empty"),
    "not a mapping": (lambda t: "- a\n- b\n", "mapping"),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_broken_yaml_text_names_the_file_and_line(tmp_path, earlier, case):
    edit, phrase = TEXT_CASES[case]
    config = tmp_path / "case.yaml"
    config.write_text(edit(TEXT), encoding="utf-8")
    out, before = earlier
    result = invoke("run", config, "--out", out, "--scenario", "baseline")
    assert_refused(result, "case.yaml", phrase, protected=[out], before=[before])


# ------------------------------------------------------------------ the census unit

UNIT_CASES = {
    "name of another unit": ({"name": "巴南区", "code": "532500"}, "jurisdiction.name"),
    "name of nothing": ({"name": "不存在区"}, "jurisdiction.name"),
    "unknown code": ({"code": "999999"}, "jurisdiction.code"),
    "code of no unit": ({"code": "000000"}, "jurisdiction.code"),
    "ambiguous census_unit": ({"census_unit": "城区"}, "jurisdiction.census_unit"),
    "unknown census_unit": ({"census_unit": "不存在县"}, "jurisdiction.census_unit"),
}


@pytest.mark.parametrize("case", sorted(UNIT_CASES))
def test_a_unit_that_does_not_fit_names_the_file_and_key(tmp_path, earlier, case):
    changes, key = UNIT_CASES[case]
    tree = copy.deepcopy(BASE)
    tree["jurisdiction"].update(changes)
    config = _write_tree(tmp_path, tree)
    out, before = earlier
    result = invoke("run", config, "--out", out, "--scenario", "baseline")
    assert_refused(result, "case.yaml", key, "line ", protected=[out], before=[before])


# ------------------------------------------------------------------ a migration counts file

COUNTS_CASES = {
    "1e300 migrants": ("1e300", "row 2, column net_migrants"),
    "-1e300 migrants": ("-1e300", "row 2, column net_migrants"),
    "1e9 migrants": ("1e9", "row 2, column net_migrants"),
    "inf migrants": ("inf", "row 2, column net_migrants"),
    "nan migrants": ("nan", "row 2, column net_migrants"),
    "text migrants": ("many", "row 2, column net_migrants"),
}


@pytest.mark.parametrize("case", sorted(COUNTS_CASES))
def test_a_bad_counts_file_names_the_file_row_and_column(tmp_path, earlier, case):
    value, where = COUNTS_CASES[case]
    (tmp_path / "migrants.csv").write_text(
        f"year,sex,age,net_migrants\n2020,male,30,{value}\n2020,female,30,10\n",
        encoding="utf-8")
    tree = copy.deepcopy(BASE)
    tree.setdefault("assumptions", {})["migration"] = {"mode": "counts",
                                                       "counts_file": "migrants.csv"}
    tree["scenarios"] = {"baseline": {}}
    config = _write_tree(tmp_path, tree)
    out, before = earlier
    result = invoke("run", config, "--out", out, "--scenario", "baseline")
    assert_refused(result, "migrants.csv", where, protected=[out], before=[before])


def test_out_may_not_hold_the_counts_file(tmp_path):
    """The counts file is read by the run, so --out may not contain it."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "migrants.csv").write_text("year,sex,age,net_migrants\n2020,male,30,1\n",
                                         encoding="utf-8")
    tree = copy.deepcopy(BASE)
    tree.setdefault("assumptions", {})["migration"] = {"mode": "counts",
                                                       "counts_file": "data/migrants.csv"}
    tree["scenarios"] = {"baseline": {}}
    config = _write_tree(tmp_path, tree)
    before = tree_bytes(folder)
    result = invoke("run", config, "--out", folder, "--scenario", "baseline")
    assert_refused(result, "migrants.csv", "--out", protected=[folder], before=[before])
