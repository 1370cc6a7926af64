"""Census tables: bundled totals equal the census yearbook; lookup; a user's own table.

Published figures are from the 7th census county yearbook via leiii/census, as listed in the
shared reference-data/SOURCES.md and care-demand-parameters.md §4.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecast.defaults import census
from forecast.errors import InputError, UnitError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LEIII = SHARED / "reference-data" / "leiii-census"


def total(unit: str, year: int = 2020, min_age: int = 0) -> int:
    table = census.census_population(unit, year)
    return int(table.loc[table["age_start"] >= min_age, "population"].sum())


@pytest.mark.parametrize(
    ("query", "persons", "aged_60_plus"),
    [
        ("红河", 4_478_422, 668_603),
        ("临沧", 2_257_991, 338_086),
        ("青海", 5_923_957, 719_402),
        ("巴南区", 1_178_856, 257_338),
        ("万源市", 406_685, 85_594),
    ],
)
def test_target_units_equal_the_2020_census(query, persons, aged_60_plus):
    unit = census.resolve_unit(query)
    assert unit.pop_total == persons
    assert total(unit.unit_id) == persons
    assert total(unit.unit_id, min_age=60) == aged_60_plus


def test_national_2020_is_the_sum_of_31_provinces():
    units = census.load_units(2020)
    provinces = units[units["level"] == "province"]
    assert len(provinces) == 31
    assert sum(total(u) for u in provinces["unit_id"]) == 1_409_778_724
    assert total("全国") == 1_409_778_724
    assert total("CN", min_age=60) == 264_018_218


def test_2010_national_is_the_province_sum_and_typos_are_corrected():
    assert total("CN", 2010) == 1_332_810_869
    units = census.load_units(2010).set_index("unit_id")
    for code in ("211422", "430407"):  # 建昌县 (female 35-39) and 石鼓区 (male 1-4)
        table = census.census_population(code, 2010)
        for sex in ("male", "female"):
            by_age = table.loc[table["sex"] == sex, "population"].sum()
            assert by_age == units.loc[code, f"pop_{sex}"]
    assert census.census_population("211422", 2010).query(
        "sex == 'female' and age_start == 35")["population"].item() == 18_236


def test_every_unit_with_age_data_adds_up_to_its_total():
    for year in census.CENSUS_YEARS:
        units = census.load_units(year)
        with_age = units[units["has_age_data"]]
        sums = pd.Series({u: total(u, year) for u in with_age["unit_id"]})
        assert (sums.to_numpy() == with_age["pop_total"].to_numpy()).all()
    no_age = census.load_units(2010).query("not has_age_data")["name"].tolist()
    assert sorted(no_age) == sorted(["南沙群岛", "中沙群岛的岛礁及其海域"])


def test_target_units_match_the_shared_long_extract():
    path = LEIII / "census_2010_2020_age_sex_target_areas_long.csv"
    if not path.exists():
        pytest.skip(f"shared reference data absent: {path}")
    extract = pd.read_csv(path, dtype={"code": str})
    for (year, code, name), rows in extract.groupby(["census_year", "code", "name"]):
        ours = census.census_population(code, year)
        theirs = rows.assign(sex=rows["sex"].map({"M": "male", "F": "female"}))
        merged = ours.merge(theirs, on=["sex", "age_start"], suffixes=("", "_shared"))
        assert len(merged) == len(ours) == 38, name
        assert (merged["population"] == merged["population_shared"]).all(), name


def test_ambiguous_name_lists_candidates():
    with pytest.raises(UnitError) as raised:
        census.resolve_unit("城区")
    message = str(raised.value)
    assert "140302" in message and "阳泉市" in message and "汕尾市" in message
    assert "\n" not in message
    assert census.resolve_unit("阳泉市城区").code == "140302"
    assert census.resolve_unit("晋城 城区").code == "140502"


def test_unknown_name_raises_with_a_hint():
    with pytest.raises(UnitError, match="no census unit matches '火星'.*forecast units"):
        census.resolve_unit("火星")


def test_lookup_by_code_suffixless_name_and_enclosing_unit():
    assert census.resolve_unit("532500").name == "红河哈尼族彝族自治州"
    assert census.resolve_unit("红河县").code == "532529"
    assert census.resolve_unit("新疆").code == "650000"
    assert census.resolve_unit("巴南", census_year=2010).pop_total == 918_692
    found = census.find_units("红河")
    assert set(found["code"]) == {"532500", "532529"}


def test_2010_directly_administered_county_has_corrected_prefecture():
    jiyuan = census.resolve_unit("济源", census_year=2010)
    assert (jiyuan.code, jiyuan.prefecture) == ("419001", "省直辖县级行政区划")
    assert census.load_units(2010).set_index("unit_id").loc["419001", "parent_id"] == (
        "410000/省直辖县级行政区划")


def test_units_command_output_shows_code_parent_and_population():
    text = census.units_command_output("城区")
    assert "140302" in text and "阳泉市" in text and "225,443" in text
    assert text.splitlines()[0].split()[:4] == ["code", "level", "parent", "name"]


def test_loading_is_cached():
    """The census tables are read once per process; repeated look-ups hit the cache (their
    speed is measured in benchmarks/all_units.py, not here)."""
    for cached in (census._all_units, census._units_of_year, census._population_table):
        cached.cache_clear()
    census.load_units(2020)
    first = census.census_population("532500", 2020)
    for _ in range(3):
        assert census.census_population("530900", 2020) is not None
    assert census._population_table.cache_info().misses == 1
    assert census._population_table.cache_info().hits >= 3
    assert census.census_population("532500", 2020).equals(first)


def test_missing_age_data_and_unknown_id_raise():
    with pytest.raises(UnitError, match="no age data"):
        census.census_population("460000/省直辖县级行政区划/南沙群岛", 2010)
    with pytest.raises(UnitError, match="no census unit with id '999999'"):
        census.census_population("999999", 2020)


# --------------------------------------------------------------------------- user tables

SINGLE_YEAR_ROWS = (
    [("年龄", "合计", "男", "女"), ("总计", "606", "303", "303")]
    + [(f"{a}岁", "6", "3", "3") for a in range(100)]
    + [("100岁及以上", "6", "3", "3")]
)


def write_csv(path: Path, rows, encoding: str) -> Path:
    path.write_bytes("\n".join(",".join(r) for r in rows).encode(encoding))
    return path


def test_gbk_csv_with_title_row_reads_correctly(tmp_path):
    rows = [("红河州2020年人口普查分年龄、性别的人口",), *SINGLE_YEAR_ROWS]
    path = write_csv(tmp_path / "gbk.csv", rows, "gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    table = census.read_census_table(path)
    assert len(table) == 2 * 101
    assert table["population"].sum() == 606
    open_group = table[table["age_end"].isna()]
    assert open_group["age_start"].tolist() == [100, 100]


def test_utf8_bom_five_year_groups_read(tmp_path):
    rows = [("age", "male", "female"), ("0", "10", "9"), ("1-4岁", "40", "38")]
    rows += [(f"{a}-{a + 4}岁", "50", "49") for a in range(5, 85, 5)]
    rows += [("85岁及以上", "7", "12")]
    table = census.read_census_table(write_csv(tmp_path / "bom.csv", rows, "utf-8-sig"))
    assert table.groupby("sex")["population"].sum().to_dict() == {
        "male": 10 + 40 + 16 * 50 + 7, "female": 9 + 38 + 16 * 49 + 12}
    assert table["age_start"].iloc[:3].tolist() == [0, 1, 5]


def test_xlsx_with_interleaved_five_year_subtotals(tmp_path):
    rows = [("年龄", "男", "女")]
    for start in range(0, 10, 5):
        rows.append((f"{start}-{start + 4}岁", 5 * 2, 5 * 3))
        rows += [(f"{a}岁", 2, 3) for a in range(start, start + 5)]
    rows.append(("10岁及以上", 4, 4))
    path = tmp_path / "t.xlsx"
    pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, index=False)
    table = census.read_census_table(path)
    assert len(table) == 2 * 11
    assert table.loc[table["sex"] == "male", "population"].sum() == 24


def test_missing_group_raises_naming_the_gap(tmp_path):
    rows = [r for r in SINGLE_YEAR_ROWS if r[0] != "37岁"]
    path = write_csv(tmp_path / "gap.csv", rows, "utf-8")
    with pytest.raises(InputError, match=r"gap\.csv.*age group 37 is missing"):
        census.read_census_table(path)


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ([("年龄", "合计"), ("0岁", "5")], "no 男/male and 女/female column"),
        ([("region", "x"), ("a", "b")], "no header row with an age column"),
        ([("年龄", "男", "女"), ("0岁", "-3", "1"), ("1岁及以上", "1", "1")], "negative"),
        ([("年龄", "男", "女"), ("零岁", "3", "1")], "age label '零岁' is not understood"),
        ([("年龄", "男", "女"), ("0-4岁", "3", "1"), ("5-9岁", "1", "1")], "no open age group"),
        ([("年龄", "男", "女", "合计"), ("0岁及以上", "3", "1", "5")], "≠ 合计"),
    ],
)
def test_bad_tables_raise_input_error(tmp_path, rows, pattern):
    with pytest.raises(InputError, match=pattern):
        census.read_census_table(write_csv(tmp_path / "bad.csv", rows, "utf-8"))


def test_undecodable_file_raises(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\x30\x81" * 10 + b"\x80\xff")
    with pytest.raises(InputError, match="cannot decode"):
        census.read_census_table(path)


def test_parse_age_label():
    assert census.parse_age_label("0岁") == (0, 0)
    assert census.parse_age_label("5-9") == (5, 9)
    assert census.parse_age_label("100岁及以上") == (100, None)
    assert census.parse_age_label("85+") == (85, None)
    assert census.parse_age_label("合计") is None
