"""Census tables: the bundled 2010/2020 county tables and a user's own census-style table.

The bundled tables are ``data/census_units.csv`` (one row per unit and census year) and
``data/census_population_5yr.csv`` (persons by sex and age group 0, 1–4, 5–9, …, 80–84, 85+ at
the census reference date, 1 November). Both come from the NBS census yearbooks via the
``leiii/census`` repository; see ``data/SOURCES.md``.

Units are identified by ``unit_id``: the 6-digit division code where the yearbook gives one,
``CN`` for the national total (全国), and ``<parent unit_id>/<name>`` for rows without a code
(e.g. ``110000/市辖区`` in 2010, development zones in 2020).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import InputError, UnitError
from forecast.paths import data_dir
from forecast.vocabulary import SEXES

CENSUS_YEARS = (2010, 2020)
NATIONAL_ID = "CN"
NATIONAL_ALIASES = {"全国", "中国", "china", "national", "cn", "全国合计"}
LEVEL_RANK = {"national": 0, "province": 1, "prefecture": 2, "district_aggregate": 3, "county": 4}

UNITS_FILE = "census_units.csv"
#: More persons in one row of a census table than China has (1.41 billion) is a mistake.
MAX_PERSONS_PER_ROW = 1_500_000_000
POPULATION_FILE = "census_population_5yr.csv"


@dataclass(frozen=True)
class Unit:
    """One census unit (a county, prefecture, province, a yearbook aggregate, or the nation)."""

    unit_id: str
    code: str
    name: str
    level: str
    province: str
    prefecture: str
    pop_total: int | None
    parent_name: str = ""
    census_year: int = 2020


# --------------------------------------------------------------------------- bundled tables


@lru_cache(maxsize=1)
def _all_units() -> pd.DataFrame:
    path = data_dir() / UNITS_FILE
    units = pd.read_csv(
        path,
        dtype={"unit_id": str, "code": str, "name": str, "level": str, "province": str,
               "prefecture": str, "parent_id": str, "parent_name": str, "pop_total": "Int64",
               "pop_male": "Int64", "pop_female": "Int64", "has_age_data": bool},
        keep_default_na=False, na_values={"pop_total": [""], "pop_male": [""],
                                          "pop_female": [""]},
    )
    units["stem"] = units["name"].map(name_stem)
    return units


def _check_year(census_year: int) -> int:
    if census_year not in CENSUS_YEARS:
        raise UnitError(f"no bundled census for {census_year}",
                        field="census_year", fix=f"use one of {', '.join(map(str, CENSUS_YEARS))}")
    return int(census_year)


@lru_cache(maxsize=len(CENSUS_YEARS))
def _units_of_year(census_year: int) -> pd.DataFrame:
    units = _all_units()
    return units[units["census_year"] == census_year].reset_index(drop=True)


def load_units(census_year: int = 2020) -> pd.DataFrame:
    """All units of one census: unit_id, code, name, level, province, prefecture, parent_id,
    parent_name, pop_total, pop_male, pop_female (persons), has_age_data.

    ``level`` is one of national, province, prefecture, county, district_aggregate (yearbook
    subtotals such as 市辖区 and uncoded rows such as development zones).
    """
    units = _units_of_year(_check_year(census_year))
    return units.drop(columns=["census_year", "stem"]).copy()


@lru_cache(maxsize=1)
def _population_table() -> tuple[pd.DataFrame, dict[tuple[int, str], tuple[int, int]]]:
    """The 5-year table and, per (census_year, unit_id), the slice of its rows."""
    population = pd.read_csv(
        data_dir() / POPULATION_FILE,
        dtype={"census_year": "int64", "unit_id": str, "sex": str, "age_start": "int64",
               "age_end": "Int64", "population": "int64"},
        keep_default_na=False, na_values={"age_end": [""]},
    )
    years = population["census_year"].to_numpy()
    ids = population["unit_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, (years[1:] != years[:-1]) | (ids[1:] != ids[:-1])])
    stops = np.r_[starts[1:], len(population)]
    slices = {(int(years[a]), str(ids[a])): (int(a), int(b))
              for a, b in zip(starts, stops, strict=True)}
    if len(slices) != len(starts):
        raise RuntimeError(f"{POPULATION_FILE}: rows of a unit are not contiguous")
    return population[["sex", "age_start", "age_end", "population"]], slices


def census_population(unit: str | Unit, census_year: int = 2020) -> pd.DataFrame:
    """Population by sex and age group of one unit at the census date (persons).

    ``unit`` is a unit_id, a 6-digit code, or a :class:`Unit`. Returns columns sex
    (male/female), age_start, age_end (inclusive; <NA> for the open group 85+), population.
    """
    census_year = _check_year(census_year)
    unit_id = unit.unit_id if isinstance(unit, Unit) else str(unit).strip()
    if unit_id.lower() in NATIONAL_ALIASES:
        unit_id = NATIONAL_ID
    population, slices = _population_table()
    rows = slices.get((census_year, unit_id))
    if rows is None:
        units = _units_of_year(census_year)
        if (units["unit_id"] == unit_id).any():
            raise UnitError(f"census unit '{unit_id}' has no age data in the {census_year} census",
                            fix="choose its parent unit (see `forecast units`)")
        raise UnitError(f"no census unit with id '{unit_id}' in the {census_year} census",
                        fix=f"look it up with `forecast units {unit_id}`")
    return population.iloc[rows[0]:rows[1]].reset_index(drop=True)


# --------------------------------------------------------------------------- finding units

#: Names of China's ethnic groups, as they appear in names of autonomous areas.
ETHNIC_GROUPS = (
    "柯尔克孜 乌孜别克 俄罗斯 鄂伦春 鄂温克 达斡尔 塔吉克 塔塔尔 哈萨克 维吾尔 土家 哈尼 傈僳 "
    "拉祜 东乡 纳西 景颇 仫佬 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 德昂 保安 裕固 独龙 赫哲 "
    "门巴 珞巴 基诺 布依 朝鲜 蒙古 高山 蒙 回 藏 苗 彝 壮 满 侗 瑶 白 傣 黎 佤 畲 水 土 羌 怒 京"
).split()
_AUTONOMY = re.compile(r"自治(区|州|县|旗)$")
_GENERIC_SUFFIXES = ("特别行政区", "地区", "省", "市", "县", "区", "州", "盟", "旗")


def name_stem(name: str) -> str:
    """A place name without its administrative suffix: 红河哈尼族彝族自治州 → 红河,
    新疆维吾尔自治区 → 新疆, 巴南区 → 巴南. Names that would shrink below two characters
    (城区, 忠县) are kept whole."""
    stem = str(name).strip()
    autonomous = _AUTONOMY.search(stem)
    if autonomous:
        stem = stem[: autonomous.start()]
        stripped = True
        while stripped:
            stripped = False
            for group in ETHNIC_GROUPS:
                for ending in (group + "族", group if len(group) > 1 else None):
                    if ending and stem.endswith(ending) and len(stem) - len(ending) >= 2:
                        stem = stem[: -len(ending)]
                        stripped = True
                        break
                if stripped:
                    break
        return stem
    for suffix in _GENERIC_SUFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= 2:
            return stem[: -len(suffix)]
    return stem


def _qualified_names(units: pd.DataFrame) -> pd.Series:
    """Per row, the names qualified by an ancestor: 阳泉市城区, 阳泉城区, 山西省阳泉市城区 …"""
    qualified = []
    for row in units.itertuples(index=False):
        names = set()
        for parent in {row.parent_name, row.prefecture, row.province}:
            if not parent or parent == row.name:
                continue
            for p in (parent, name_stem(parent)):
                names.add(p + row.name)
                names.add(p + row.stem)
        names.add(row.province + row.prefecture + row.name)
        names.add(name_stem(row.province) + name_stem(row.prefecture) + row.name)
        qualified.append(names)
    return pd.Series(qualified, index=units.index)


@lru_cache(maxsize=len(CENSUS_YEARS))
def _qualified_of_year(census_year: int) -> pd.Series:
    return _qualified_names(_units_of_year(census_year))


def _match_with_parents(units: pd.DataFrame, parts: list[str]) -> pd.Series:
    """Rows named by the last part whose parent, prefecture or province matches every other."""
    *parents, last = parts
    mask = (units["name"] == last) | (units["stem"] == name_stem(last))
    ancestors = units[["parent_name", "prefecture", "province"]].map(name_stem)
    for parent in parents:
        mask &= ancestors.eq(name_stem(parent)).any(axis=1)
    return mask


def find_units(query: str, census_year: int = 2020) -> pd.DataFrame:
    """Units matching ``query``, best matches only, in the layout of :func:`load_units`.

    Tried in order, the first non-empty stage wins: a 6-digit code or unit_id (exact); 全国/
    China; the exact name; the name without its suffix (红河 → 红河哈尼族彝族自治州 and 红河县);
    the name qualified by a parent (阳泉市城区, "阳泉 城区"); a substring of the name.
    """
    census_year = _check_year(census_year)
    units = _units_of_year(census_year)
    # full-width digits, letters and spaces (５００１１３, ＣＮ) read as their ASCII forms
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(query))).strip()
    if not text:
        return load_units(census_year).iloc[0:0]
    compact = text.replace(" ", "")
    stages = []  # callables, evaluated in order until one matches
    if re.fullmatch(r"[0-9]{6}", compact) or "/" in compact:
        stages.append(lambda: units["unit_id"] == compact)
    if compact.lower() in NATIONAL_ALIASES:
        stages.append(lambda: units["level"] == "national")
    stages.append(lambda: units["name"] == compact)
    stages.append(lambda: units["stem"] == name_stem(compact))
    stages.append(lambda: _qualified_of_year(census_year).map(lambda names: compact in names))
    if " " in text:
        stages.append(lambda: _match_with_parents(units, text.split(" ")))
    stages.append(lambda: units["name"].str.contains(compact, regex=False))
    for stage in stages:
        mask = stage()
        if mask.any():
            found = units[mask.to_numpy()]
            return found.drop(columns=["census_year", "stem"]).reset_index(drop=True)
    return load_units(census_year).iloc[0:0]


def _shorter(query: str) -> str:
    """A shorter search to suggest: the first two characters, or one if that is all there is."""
    text = str(query).strip()
    return text[: max(1, min(2, len(text) - 1))] or "NAME"


def _ancestors(unit_id: str, parents: dict[str, str]) -> set[str]:
    seen = set()
    while unit_id in parents and parents[unit_id] and parents[unit_id] not in seen:
        unit_id = parents[unit_id]
        seen.add(unit_id)
    return seen


def _display_parent(row) -> str:
    """The parent to show: the prefecture or province for counties under a 市辖区/县 subtotal."""
    if row.parent_name in ("市辖区", "县"):
        return row.prefecture
    return row.parent_name or ""


def _describe(row) -> str:
    code = row.code or row.unit_id
    return f"{code} {row.name} ({row.level}, in {_display_parent(row) or '—'})"


def resolve_unit(query: str, census_year: int = 2020) -> Unit:
    """The one census unit ``query`` names, or :class:`UnitError` if none or several do.

    When the matches are a unit and units inside it (红河 → 红河州 and its 红河县), the
    enclosing unit is chosen.
    """
    census_year = _check_year(census_year)
    found = find_units(query, census_year)
    if found.empty:
        hint = _shorter(query)
        raise UnitError(
            f"no census unit matches '{query}' in the {census_year} census",
            fix=f"try `forecast units {hint}` to list candidates, or give the 6-digit code",
        )
    if len(found) > 1:
        parents = dict(zip(_units_of_year(census_year)["unit_id"],
                           _units_of_year(census_year)["parent_id"], strict=True))
        ids = set(found["unit_id"])
        enclosing = [u for u in ids if all(u in _ancestors(o, parents) for o in ids - {u})]
        if len(enclosing) == 1:
            found = found[found["unit_id"] == enclosing[0]]
        else:
            shown = [_describe(r) for r in found.head(12).itertuples(index=False)]
            more = f"; … and {len(found) - 12} more" if len(found) > 12 else ""
            raise UnitError(
                f"'{query}' matches {len(found)} census units: {'; '.join(shown)}{more}",
                fix="give the 6-digit code, or qualify the name with its parent, "
                    f"e.g. '{_display_parent(found.iloc[0])}{found.iloc[0]['name']}'",
            )
    row = found.iloc[0]
    pop = row["pop_total"]
    return Unit(
        unit_id=row["unit_id"], code=row["code"], name=row["name"], level=row["level"],
        province=row["province"], prefecture=row["prefecture"],
        pop_total=None if pd.isna(pop) else int(pop), parent_name=row["parent_name"],
        census_year=census_year,
    )


# --------------------------------------------------------------------------- display


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def format_units_table(units: pd.DataFrame, population_label: str = "2020 population") -> str:
    """A plain-text table of units: code (or unit_id), level, parent, name, population."""
    header = ["code", "level", "parent", "name", population_label]
    rows = []
    for row in units.itertuples(index=False):
        pop = "" if pd.isna(row.pop_total) else f"{int(row.pop_total):,}"
        rows.append([row.code or row.unit_id, row.level, _display_parent(row), row.name, pop])
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [_pad(c, w, right=(i == len(header) - 1)) for i, (c, w) in
                 enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def units_command_output(query: str, census_year: int = 2020) -> str:
    """The text `forecast units QUERY` prints: matching units, or a UnitError if none."""
    found = find_units(query, census_year)
    if found.empty:
        hint = _shorter(query)
        raise UnitError(f"no census unit matches '{query}' in the {census_year} census",
                        fix=f"try a shorter part of the name, e.g. `forecast units {hint}`")
    found = found.sort_values(["level"], key=lambda s: s.map(LEVEL_RANK), kind="stable")
    table = format_units_table(found, population_label=f"{census_year} population")
    noun = "unit" if len(found) == 1 else "units"
    return f"{table}\n{len(found)} {noun} match '{query}'"


# --------------------------------------------------------------------------- user tables

ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads UTF-8 without a BOM; GB18030 ⊃ GBK
HEADER_ALIASES = {
    "age": {"年龄", "年龄组", "年龄段", "年龄别", "岁", "age", "agegroup", "age_group", "ages"},
    "male": {"男", "男性", "男口", "male", "males", "men", "m"},
    "female": {"女", "女性", "女口", "female", "females", "women", "f"},
    "total": {"合计", "总计", "小计", "总人口", "人口", "total", "both", "persons", "all"},
}
TOTAL_LABELS = {"合计", "总计", "小计", "总人口", "total", "all", "allages", "全部"}
_OPEN = re.compile(r"^(\d+)(?:及以上|以上|及其以上|\+|andover|andolder|plus|ormore)$")
_RANGE = re.compile(r"^(\d+)[-–—~～至到](\d+)$")
_SINGLE = re.compile(r"^(\d+)$")


def _normalise_header(cell: object) -> str:
    text = re.sub(r"[（(].*?[)）]", "", str(cell or ""))
    return re.sub(r"[\s_]+", "", text).lower()


def _normalise_label(cell: object) -> str:
    text = str(cell).strip().lower()
    text = re.sub(r"\s+", "", text)
    return text.replace("周岁", "").replace("岁", "").replace("years", "").replace("year", "")


def parse_age_label(label: object) -> tuple[int, int | None] | None:
    """``'0岁'`` → (0, 0); ``'0-4岁'`` → (0, 4); ``'85岁及以上'`` → (85, None); totals → None.

    Raises ValueError for a label that is none of these.
    """
    text = _normalise_label(label)
    if text in TOTAL_LABELS:
        return None
    for pattern, make in ((_SINGLE, lambda m: (int(m[1]), int(m[1]))),
                          (_RANGE, lambda m: (int(m[1]), int(m[2]))),
                          (_OPEN, lambda m: (int(m[1]), None))):
        match = pattern.match(text)
        if match:
            return make(match)
    raise ValueError(label)


def _read_rows(path: Path) -> list[list[object]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            sheet = pd.read_excel(path, header=None, dtype=object, sheet_name=0)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InputError(f"cannot read the workbook ({exc.__class__.__name__})", path=path,
                             fix="save it again as .xlsx or as a UTF-8 CSV") from exc
        return [[None if pd.isna(v) else v for v in row] for row in sheet.itertuples(index=False)]
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError("cannot decode the file as UTF-8, UTF-8 with BOM, GBK or GB18030",
                         path=path, fix="save it as UTF-8 CSV")
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _find_header(rows: list[list[object]], path: Path) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:30]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            name = _normalise_header(cell)
            for role, aliases in HEADER_ALIASES.items():
                if name in aliases and role not in columns:
                    columns[role] = position
        if "age" in columns:
            missing = [role for role in SEXES if role not in columns]
            if missing:
                wanted = " and ".join({"male": "男/male", "female": "女/female"}[m]
                                      for m in missing)
                raise InputError(f"header row {index + 1} has no {wanted} column", path=path,
                                 fix="give population by sex in columns headed 男 and 女")
            return index, columns
    raise InputError("no header row with an age column (年龄 or age) in the first 30 rows",
                     path=path, fix="head the columns 年龄, 男, 女 (and optionally 合计)")


def _count(cell: object, path: Path, line: int, label: object, column: str) -> float:
    text = "" if cell is None else str(cell).strip().replace(",", "").replace("，", "")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"row {line} ('{label}'): {column} count '{cell}' is not a number",
                         path=path, fix="enter a whole number of persons (0 if none)") from None
    if np.isnan(value):
        raise InputError(f"row {line} ('{label}'): {column} count is empty", path=path,
                         fix="enter a whole number of persons (0 if none)")
    if not np.isfinite(value) or value > MAX_PERSONS_PER_ROW:
        raise InputError(f"row {line} ('{label}'): {column} count '{cell}' is not a plausible "
                         "number of persons", path=path,
                         fix=f"enter a whole number of persons between 0 and "
                             f"{MAX_PERSONS_PER_ROW:,}")
    if value < 0:
        raise InputError(f"row {line} ('{label}'): {column} count {value:g} is negative",
                         path=path, fix="counts of persons cannot be negative")
    return value


def _drop_subtotals(groups: list[dict], path: Path) -> list[dict]:
    """Drop 5-year rows that only sum the single-year rows listed beside them."""
    kept = []
    for group in groups:
        start, end = group["age_start"], group["age_end"]
        if end is None or end == start:
            kept.append(group)
            continue
        inside = [g for g in groups if g is not group and g["age_end"] is not None
                  and start <= g["age_start"] and g["age_end"] <= end]
        covered = sorted(a for g in inside for a in range(g["age_start"], g["age_end"] + 1))
        if covered != list(range(start, end + 1)):
            kept.append(group)
            continue
        for sex in SEXES:
            if abs(sum(g[sex] for g in inside) - group[sex]) > 0.5:
                raise InputError(
                    f"row {group['line']} ('{group['label']}'): {sex} {group[sex]:g} differs "
                    f"from the sum of its single ages", path=path,
                    fix="correct the subtotal or remove the overlapping rows")
    return kept


def read_census_table(path: str | Path) -> pd.DataFrame:
    """A user's census-style table (CSV or XLSX) as sex, age_start, age_end, population.

    Accepts Chinese or English headers (年龄/age, 男/male, 女/female, optional 合计/total),
    labels like ``0岁``, ``1-4岁``, ``0-4``, ``85岁及以上``, ``100+``; rows labelled 合计/总计 are
    skipped; single years, 5-year groups or a mix; 5-year subtotals interleaved with single years
    are dropped after checking they add up. Age groups must run from 0 without gaps or overlaps
    and end in one open group. ``age_end`` is <NA> for the open group; population is in persons.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path, fix="check the path")
    rows = _read_rows(path)
    header_index, columns = _find_header(rows, path)
    groups = []
    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        cells = list(row) + [None] * (max(columns.values()) + 1 - len(row))
        label = cells[columns["age"]]
        if label is None or str(label).strip() == "":
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            raise InputError(f"row {offset}: the age label is empty", path=path,
                             fix="label every row with an age such as '5-9岁'")
        try:
            bounds = parse_age_label(label)
        except ValueError:
            raise InputError(f"row {offset}: age label '{label}' is not understood", path=path,
                             fix="use labels like '0岁', '1-4岁', '85岁及以上' or '100+'") from None
        if bounds is None:
            continue
        male = _count(cells[columns["male"]], path, offset, label, "male")
        female = _count(cells[columns["female"]], path, offset, label, "female")
        if "total" in columns and str(cells[columns["total"]] or "").strip():
            total = _count(cells[columns["total"]], path, offset, label, "total")
            if abs(male + female - total) > 0.5:
                raise InputError(
                    f"row {offset} ('{label}'): 男 {male:g} + 女 {female:g} ≠ 合计 {total:g}",
                    path=path, fix="correct the counts so that male + female = total")
        groups.append({"age_start": bounds[0], "age_end": bounds[1], "male": male,
                       "female": female, "line": offset, "label": label})
    if not groups:
        raise InputError("no age rows below the header", path=path,
                         fix="list one row per age group under 年龄, 男, 女")
    groups = _drop_subtotals(groups, path)
    groups.sort(key=lambda g: (g["age_start"], g["age_end"] is None))
    _check_contiguous(groups, path)
    records = [(sex, g["age_start"], g["age_end"], g[sex])
               for sex in SEXES for g in groups]
    table = pd.DataFrame(records, columns=["sex", "age_start", "age_end", "population"])
    table["age_start"] = table["age_start"].astype("int64")
    table["age_end"] = table["age_end"].astype("Int64")
    if np.all(np.mod(table["population"], 1) == 0):
        table["population"] = table["population"].astype("int64")
    return table


def _check_contiguous(groups: list[dict], path: Path) -> None:
    expected = 0
    for k, group in enumerate(groups):
        label = group["label"]
        if group["age_start"] > expected:
            missing = (f"{expected}" if group["age_start"] - 1 == expected
                       else f"{expected}-{group['age_start'] - 1}")
            raise InputError(f"age group {missing} is missing (before row {group['line']}, "
                             f"'{label}')", path=path,
                             fix=f"add a row for ages {missing} (0 if nobody)")
        if group["age_start"] < expected:
            raise InputError(f"row {group['line']} ('{label}') overlaps the age group before it",
                             path=path, fix="give each age once, in single years or groups")
        if group["age_end"] is None:
            if k != len(groups) - 1:
                raise InputError(f"row {group['line']} ('{label}') is an open age group but is "
                                 "not the oldest", path=path,
                                 fix="keep one open group, the last (e.g. '85岁及以上')")
            return
        if group["age_end"] < group["age_start"]:
            raise InputError(f"row {group['line']}: age label '{label}' ends before it starts",
                             path=path, fix="write groups as 'start-end', e.g. '5-9岁'")
        expected = group["age_end"] + 1
    raise InputError(f"the table has no open age group (last row '{groups[-1]['label']}')",
                     path=path, fix=f"add a row '{expected}岁及以上' (0 if nobody is older)")
