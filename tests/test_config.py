"""Tests of the run configuration: the shipped configs, line-numbered errors, overlays, schema
and hash."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from forecast.config import (
    Citation,
    Config,
    apply_overlay,
    config_hash,
    config_schema,
    load_config,
)
from forecast.errors import ConfigError, ForecastError

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
CENSUS_2020 = SHARED / "reference-data" / "leiii-census" / "census2020_age_sex_5yr_by_unit.csv"
SHIPPED = ["honghe", "lincang", "qinghai", "banan", "wanyuan"]

MINIMAL = """\
jurisdiction:
  code: "532500"
  name: 红河哈尼族彝族自治州
  name_en: Honghe
source_document:
  file: 001_311e494da490633c.txt
  title: 红河州“一老一小”整体解决方案
  issuer: 红河州人民政府
  issued: 2022-12-01
projection:
  base_year: 2020
  end_year: 2035
demand:
  elderly:
    norm_per_1000: 35
supply:
  elderly_beds:
    note: no base figure
    targets:
      - year: 2025
        kind: per_1000_elderly
        value: 35
        source:
          quote: 每千名老年人拥有养老床位35张以上
scenarios:
  baseline: {}
"""


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message, "a config error is one line"
    assert isinstance(caught.value, ForecastError)
    return message


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def citations(obj: object) -> list[Citation]:
    if isinstance(obj, Citation):
        return [obj]
    if isinstance(obj, BaseModel):
        return [c for name in type(obj).model_fields for c in citations(getattr(obj, name))]
    if isinstance(obj, list):
        return [c for item in obj for c in citations(item)]
    return []


# ----------------------------------------------------------------------------- shipped configs


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_loads_with_its_stem_as_name(name: str) -> None:
    config = load_config(CONFIGS / f"{name}.yaml")
    assert config.name == name
    assert config.scenario_names()[0] == "baseline"
    assert config.projection.base_year == 2020 and config.projection.end_year == 2035
    # every service is present: known supply or a note saying the document states none
    for service in ("elderly_beds", "nursing_beds", "childcare_places"):
        supply = getattr(config.supply, service)
        assert supply is not None, service
        assert supply.base_known() or supply.note


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_census_code_names_the_unit(name: str) -> None:
    """The 6-digit code is the census row whose name is the config's Chinese name."""
    if not CENSUS_2020.exists():
        pytest.skip(f"shared census table absent: {CENSUS_2020}")
    config = load_config(CONFIGS / f"{name}.yaml")
    with CENSUS_2020.open(encoding="utf-8") as handle:
        names = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    assert names[config.jurisdiction.code] == config.jurisdiction.name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_quote_is_verbatim_in_its_seed_document(name: str) -> None:
    """Each quote (parts separated by ……) occurs in the cited document, ignoring whitespace."""
    if not SEEDS.exists():
        pytest.skip(f"shared seeds folder absent: {SEEDS}")
    config = load_config(CONFIGS / f"{name}.yaml")
    assert (SEEDS / config.source_document.file).exists()
    checked = 0
    for citation in citations(config):
        document = citation.document or config.source_document.file
        if not (SEEDS / document).exists():
            continue  # a national document, not a seed
        text = re.sub(r"\s", "", (SEEDS / document).read_text(encoding="utf-8"))
        for part in (citation.quote or "").split("……"):
            assert re.sub(r"\s", "", part) in text, f"{document}: {part}"
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("name", SHIPPED)
def test_every_english_note_shown_in_the_report_has_its_chinese_text(name: str) -> None:
    """The supply and expectation notes reach the Chinese report (assumptions, supply basis,
    expectations); each English one carries a `note_zh` with no English sentence in it, and
    every quote in that Chinese text is verbatim in the seed document (Honghe's nursing-bed
    and 托位 notes and the note on the expected births showed a placeholder)."""
    from forecast.presentation.labels import english_sentences

    config = load_config(CONFIGS / f"{name}.yaml")
    items = [*config.supply.services().values(), *config.expectations]
    notes = [item for item in items if item.note and english_sentences(item.note)]
    assert notes, "every shipped config writes at least one English note"
    seed = (re.sub(r"\s", "", (SEEDS / config.source_document.file).read_text(encoding="utf-8"))
            if SEEDS.exists() else None)
    for item in notes:
        assert item.note_zh, item.note
        assert english_sentences(item.note_zh) == [], item.note_zh
        for quote in re.findall(r"“([^”]+)”", item.note_zh):
            if seed is not None and quote != "新增人口":
                assert re.sub(r"\s", "", quote) in seed, quote


def test_note_zh_needs_the_note_it_translates(tmp_path: Path) -> None:
    text = MINIMAL.replace("scenarios:\n", "expectations:\n  - year: 2020\n    indicator: "
                           "pop_total\n    value: 4478400\n    source: {quote: 总人口}\n"
                           "    note_zh: 按常住人口理解\nscenarios:\n", 1)
    assert text != MINIMAL
    message = error_of(write(tmp_path, text))
    assert f"line {line_of(text, 'note_zh')}: expectations[0].note_zh" in message
    assert "add the `note` it translates" in message


def test_honghe_encodes_the_documents_figures() -> None:
    """001: 13,483 + 5,710 beds end 2020; +3,000 普惠 beds 2021–2025; ≥35 per 1,000; ≥55%
    nursing; 60+ about 71万 in 2025; national 4.5 托位 labelled national."""
    config = load_config(CONFIGS / "honghe.yaml")
    beds = config.supply.elderly_beds
    # nested reading (the baseline): 13,483 is the total, the 5,710 community beds inside it
    assert beds.base_year == 2020 and beds.base_reading == "nested"
    assert beds.base_total() == 13483
    assert beds.base_by_scope(668_603) == {"total": 13483, "institutional": 13483 - 5710,
                                           "community": 5710}
    additive = config.scenario("beds_additive").supply.elderly_beds
    assert additive.base_total() == 13483 + 5710
    assert additive.base_by_scope(668_603) == {"total": 19193, "institutional": 13483,
                                               "community": 5710}
    assert config.scenario("beds_nested").supply.elderly_beds.base_total() == 13483
    assert [(a.start_year, a.end_year, a.amount) for a in beds.additions] == [(2021, 2025, 3000)]
    assert [(t.year, t.kind, t.value) for t in beds.targets] == [(2025, "per_1000_elderly", 35)]
    assert config.supply.nursing_beds.targets[0].value == pytest.approx(0.55)
    (childcare,) = config.supply.childcare_places.targets
    assert (childcare.value, childcare.origin) == (4.5, "national")
    expected = {(e.indicator, e.year): (e.value, e.relation) for e in config.expectations}
    assert expected[("pop_60plus", 2025)] == (710000, "about")
    assert expected[("births_cumulative", 2025)] == (180000, "about")


def test_banan_childcare_base_is_a_rate_of_the_census_population() -> None:
    """003 附件1 指标12: 0.86 托位 per 1,000 in 2020 → count = 0.86 × 1,178,856 / 1,000."""
    config = load_config(CONFIGS / "banan.yaml")
    places = config.supply.childcare_places
    assert places.base_supply is None and places.base_supply_per_1000_population == 0.86
    assert places.base_count(population_total=1_178_856) == pytest.approx(1013.816)
    assert config.supply.nursing_beds.base_count(beds=None) is None
    assert config.supply.nursing_beds.base_count(beds=1000) == pytest.approx(323)
    assert config.supply.elderly_beds.targets[0].value == 12000


@pytest.mark.parametrize(("name", "share"), [("honghe", 0.55), ("lincang", 0.55),
                                             ("qinghai", 0.60), ("banan", 0.60),
                                             ("wanyuan", 0.55)])
def test_nursing_share_targets(name: str, share: float) -> None:
    (target,) = load_config(CONFIGS / f"{name}.yaml").supply.nursing_beds.targets
    assert (target.year, target.kind, target.value) == (2025, "share_nursing", share)


@pytest.mark.parametrize(("name", "rate", "origin"), [
    ("honghe", 4.5, "national"), ("lincang", 3.0, "document"), ("qinghai", 4.5, "national"),
    ("banan", 4.5, "document"), ("wanyuan", 4.5, "document")])
def test_childcare_rate_targets(name: str, rate: float, origin: str) -> None:
    (target,) = load_config(CONFIGS / f"{name}.yaml").supply.childcare_places.targets
    assert (target.kind, target.value, target.origin) == ("per_1000_population", rate, origin)


# ----------------------------------------------------------------------------- errors


def test_unknown_key_gives_line_and_suggestion(tmp_path: Path) -> None:
    text = MINIMAL.replace("norm_per_1000: 35", "norm_per_100: 35")
    path = write(tmp_path, text)
    message = error_of(path)
    assert message == (f"{path}: line {line_of(text, 'norm_per_100')}: "
                       "demand.elderly.norm_per_100: unknown key (did you mean 'norm_per_1000'?)")


def test_unknown_key_in_a_list_item_is_preferred_to_the_missing_one(tmp_path: Path) -> None:
    text = MINIMAL.replace("      - year: 2025", "      - yeer: 2025")
    message = error_of(write(tmp_path, text))
    assert f"line {line_of(text, 'yeer')}: supply.elderly_beds.targets[0].yeer" in message
    assert "did you mean 'year'?" in message


def test_yaml_syntax_error_gives_file_line_column(tmp_path: Path) -> None:
    text = MINIMAL.replace("  name_en: Honghe", "  name_en Honghe")
    path = write(tmp_path, text)
    message = error_of(path)
    assert re.match(rf"{re.escape(str(path))}:{line_of(text, 'name_en')}:\d+: YAML syntax error",
                    message), message


def test_wrong_type_names_key_expected_type_and_value(tmp_path: Path) -> None:
    text = MINIMAL.replace("end_year: 2035", "end_year: twenty")
    message = error_of(write(tmp_path, text))
    assert (f"line {line_of(text, 'twenty')}: projection.end_year: expected a whole number, "
            "got 'twenty'") in message


def test_wrong_choice_lists_the_choices(tmp_path: Path) -> None:
    text = MINIMAL.replace("  end_year: 2035", "  end_year: 2035\n  migration_timing: middle")
    message = error_of(write(tmp_path, text))
    assert "projection.migration_timing: expected one of 'end' or 'even', got 'middle'" in message


def test_target_year_outside_horizon_names_the_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("end_year: 2035", "end_year: 2024")
    message = error_of(write(tmp_path, text))
    assert (f"line {line_of(text, '- year: 2025')}: supply.elderly_beds.targets[0].year: "
            "year 2025 is outside the projection 2020–2024") in message


def test_share_written_as_percent_is_caught(tmp_path: Path) -> None:
    text = MINIMAL.replace("kind: per_1000_elderly", "kind: share_nursing")
    message = error_of(write(tmp_path, text))
    assert "targets[0].value: a share_nursing target is a fraction; write 0.35 for 35%" in message


def test_target_kind_must_fit_the_service(tmp_path: Path) -> None:
    text = MINIMAL.replace("kind: per_1000_elderly", "kind: coverage_under3").replace(
        "value: 35", "value: 0.1")
    message = error_of(write(tmp_path, text))
    assert (f"line {line_of(text, 'coverage_under3')}: supply.elderly_beds.targets[0].kind: "
            "kind 'coverage_under3' does not apply here; use one of count, per_1000_elderly"
            ) in message


def test_unknown_base_supply_needs_a_note(tmp_path: Path) -> None:
    text = MINIMAL.replace("    note: no base figure\n", "")
    message = error_of(write(tmp_path, text))
    assert "supply.elderly_beds.note: the base supply is unknown" in message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = MINIMAL + "projection:\n  end_year: 2030\n"
    message = error_of(write(tmp_path, text))
    assert f"line {len(text.splitlines()) - 1}: projection: duplicate key" in message


def test_gbk_file_is_rejected_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(MINIMAL.encode("gbk"))
    message = error_of(path)
    assert "not UTF-8" in message and "GBK" in message and "line 3" in message


def test_name_key_is_not_allowed(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "name: other\n" + MINIMAL))
    assert "line 1: name: unknown key" in message


# ----------------------------------------------------------------------------- overlays


def test_overlay_changes_only_what_it_names() -> None:
    base = Config.model_validate(yaml.safe_load(MINIMAL)).model_dump()
    nested = apply_overlay(base, {"assumptions": {"fertility": {"tfr": 1.2}},
                                  "demand.elderly": {"target_occupancy": 0.9}})
    dotted = apply_overlay(base, {"assumptions.fertility.tfr": 1.2,
                                  "demand.elderly.target_occupancy": 0.9})
    assert nested == dotted
    changed = nested.model_dump()
    assert changed["assumptions"]["fertility"]["tfr"] == 1.2
    assert changed["demand"]["elderly"] == {**base["demand"]["elderly"], "target_occupancy": 0.9}
    assert changed["demand"]["elderly"]["norm_per_1000"] == 35  # sibling kept
    for section in ("jurisdiction", "source_document", "projection", "supply", "expectations"):
        assert changed[section] == base[section], section


def test_overlay_replaces_a_value_mapping_whole() -> None:
    """A tfr path is a value: the overlay's path replaces the baseline's, it is not merged."""
    base = yaml.safe_load(MINIMAL)
    base["assumptions"] = {"fertility": {"tfr": {2020: 1.5, 2035: 1.3}}}
    result = apply_overlay(base, {"assumptions.fertility.tfr": {2025: 1.0}})
    assert result.assumptions.fertility.tfr == {2025: 1.0}


def test_unknown_overlay_path_names_path_and_nearest_key() -> None:
    base = yaml.safe_load(MINIMAL)
    with pytest.raises(ConfigError, match=r"assumptions\.fertility\.tfrr: unknown key "
                       r"\(did you mean 'tfr'\?\)"):
        apply_overlay(base, {"assumptions.fertility.tfrr": 1.0})
    with pytest.raises(ConfigError, match=r"assumptons: unknown key \(did you mean "
                       r"'assumptions'\?\)"):
        apply_overlay(base, {"assumptons": {"srb": 1.1}})


def test_scenarios_are_checked_at_load_with_line_numbers(tmp_path: Path) -> None:
    text = MINIMAL.replace("  baseline: {}", "  baseline: {}\n  low:\n"
                           "    assumptions.fertility.tfrr: 1.0")
    message = error_of(write(tmp_path, text))
    assert (f"line {line_of(text, 'tfrr')}: scenario 'low': assumptions.fertility.tfrr: "
            "unknown key (did you mean 'tfr'?)") in message
    text = MINIMAL.replace("  baseline: {}", "  baseline: {}\n  short:\n"
                           "    projection.end_year: 2024")
    message = error_of(write(tmp_path, text))
    assert "scenario 'short': supply.elderly_beds.targets[0].year: year 2025 is outside" \
        in message


def test_scenario_method_applies_the_overlay(tmp_path: Path) -> None:
    text = MINIMAL.replace("  baseline: {}", "  baseline: {}\n  low:\n"
                           "    assumptions.fertility.tfr: 1.0\n    assumptions.srb: 1.08")
    config = load_config(write(tmp_path, text, "demo.yaml"))
    assert config.scenario_names() == ["baseline", "low"]
    low = config.scenario("low")
    assert (low.assumptions.fertility.tfr, low.assumptions.srb) == (1.0, 1.08)
    assert low.name == "demo" and config.assumptions.fertility.tfr is None
    assert config.scenario("baseline").model_dump(exclude={"scenarios"}) == \
        config.model_dump(exclude={"scenarios"})
    with pytest.raises(ConfigError, match="did you mean 'low'"):
        config.scenario("lo")


# ----------------------------------------------------------------------------- schema, hash


def test_schema_is_json_and_every_property_is_described() -> None:
    schema = json.loads(json.dumps(config_schema()))
    assert "name" not in schema["properties"]
    assert {"jurisdiction", "supply", "scenarios"} <= set(schema["properties"])
    models = [schema, *schema["$defs"].values()]
    undescribed = [(model.get("title"), key) for model in models
                   for key, prop in model.get("properties", {}).items()
                   if not prop.get("description")]
    assert undescribed == []
    assert schema["$defs"]["ElderlyDemand"]["additionalProperties"] is False


def test_hash_is_stable_and_sensitive(tmp_path: Path) -> None:
    first = load_config(write(tmp_path, MINIMAL, "a.yaml"))
    reordered = MINIMAL.replace("projection:\n  base_year: 2020\n  end_year: 2035\n", "")
    reordered += "projection:\n  end_year: 2035\n  base_year: 2020\n"
    second = load_config(write(tmp_path, reordered, "b.yaml"))
    assert config_hash(first) == config_hash(second)  # key order and file name do not count
    assert re.fullmatch(r"[0-9a-f]{64}", config_hash(first))
    changed = load_config(write(tmp_path, MINIMAL.replace("end_year: 2035", "end_year: 2036"),
                                "c.yaml"))
    assert config_hash(changed) != config_hash(first)


def test_uptake_is_a_fraction_or_a_path(tmp_path: Path) -> None:
    base = yaml.safe_load(MINIMAL)
    path = apply_overlay(base, {"demand.childcare.uptake": {2021: 0.17, 2030: 0.5}})
    assert path.demand.childcare.uptake == {2021: 0.17, 2030: 0.5}
    with pytest.raises(ConfigError, match=r"demand\.childcare\.uptake: uptake 17 is not a "
                       "fraction"):
        apply_overlay(base, {"demand.childcare.uptake": 17})


def test_base_supply_is_given_one_way_and_components_must_add_up() -> None:
    base = yaml.safe_load(MINIMAL)
    with pytest.raises(ConfigError, match="give the base supply one way, not as base_supply "
                       "and base_supply_per_1000_elderly"):
        apply_overlay(base, {"supply.elderly_beds": {
            "base_year": 2020, "base_supply": 100, "base_supply_per_1000_elderly": 20,
            "base_source": {"quote": "x"}}})
    part = {"label": "institutional", "amount": 13483, "source": {"quote": "13483张"}}
    with pytest.raises(ConfigError, match="base_supply 19000 differs from the sum of "
                       "base_components 13483"):
        apply_overlay(base, {"supply.elderly_beds": {
            "base_year": 2020, "base_supply": 19000, "base_components": [part]}})
    summed = apply_overlay(base, {"supply.elderly_beds": {"base_year": 2020,
                                                          "base_components": [part, part]}})
    assert summed.supply.elderly_beds.base_total() == 2 * 13483
    nested = {"base_year": 2020, "base_reading": "nested",
              "base_components": [part, {**part, "amount": 20000, "scope": "community"}]}
    with pytest.raises(ConfigError, match="add up to more than it; read them as additive"):
        apply_overlay(base, {"supply.elderly_beds": nested})
    with pytest.raises(ConfigError, match="a scope applies to elderly beds only"):
        apply_overlay(base, {"supply.childcare_places": {
            "base_year": 2020, "base_components": [{**part, "scope": "community"}]}})


def test_counts_file_is_resolved_beside_the_config(tmp_path: Path) -> None:
    text = MINIMAL + "assumptions:\n  migration:\n    mode: counts\n    counts_file: mig.csv\n"
    config = load_config(write(tmp_path, text))
    assert config.resolve_path(config.assumptions.migration.counts_file) == tmp_path / "mig.csv"
    message = error_of(write(tmp_path, text.replace("    counts_file: mig.csv\n", "")))
    assert "assumptions.migration.counts_file: mode 'counts' needs `counts_file`" in message


def test_every_problem_is_shown_on_the_one_line(tmp_path: Path) -> None:
    """Two mistakes: both are named (the second used to hide behind "(and 1 more problem)"),
    each with its field, still on one line."""
    text = MINIMAL.replace("norm_per_1000: 35", "norm_per_100: 35").replace(
        "      - year: 2025", "      - yeer: 2025")
    message = error_of(write(tmp_path, text))
    assert "more problem" not in message
    assert "norm_per_100" in message and "yeer" in message
    assert "; also " in message
