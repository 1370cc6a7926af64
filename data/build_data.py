"""Rebuild the shipped tidy CSVs in ``data/`` from the shared reference data.

Run from the project root with the project's interpreter::

    .venv/bin/python data/build_data.py [--reference /path/to/shared/reference-data]

It reads ``shared/reference-data/`` (leiii-census, wpp2024, nbs-secondary and
care-demand-parameters.md) and overwrites the files listed in ``data/SOURCES.md``. The output is
deterministic: running it twice gives byte-identical files. Every correction of a source value is
made here, asserts the value it replaces, and is listed in SOURCES.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_REFERENCE = DATA_DIR.parent.parent / "shared" / "reference-data"

NATIONAL_ID = "CN"
NATIONAL_NAME = "全国"
#: District aggregates that contain the counties listed after them in the yearbook.
CONTAINER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
PROVINCE_CONTAINERS = {"省直辖县级行政区划", "自治区直辖县级行政区划"}

#: Census age groups in source column order: (label, age_start, age_end or None for the open group).
CENSUS_GROUPS = [("0", 0, 0), ("1-4", 1, 4)] + [
    (f"{a}-{a + 4}", a, a + 4) for a in range(5, 85, 5)
] + [("85+", 85, None)]

#: Corrections of source typos: (census_year, code, column, value in source, corrected value, why).
CENSUS_CORRECTIONS = [
    (2010, "211422", "F_35-39", 48236, 18236,
     "建昌县: the 12 female age groups summed to 284,114 against 女 254,114 and 合计 520,537; "
     "the 葫芦岛市 row's F_35-39 exceeds the sum of its counties by exactly 30,000 after the fix"),
    (2010, "430407", "M_1-4", 4640, 4646,
     "石鼓区: male age groups summed to 116,266 against 男 116,272; the 衡阳市 row's M_1-4 equals "
     "the sum of its counties only with 4,646"),
]


# --------------------------------------------------------------------------- census


def _read_census_wide(reference: Path, year: int) -> pd.DataFrame:
    path = reference / "leiii-census" / f"census{year}_age_sex_5yr_by_unit.csv"
    wide = pd.read_csv(path, dtype={"code": str})
    wide["code"] = wide["code"].fillna("")
    for census_year, code, column, wrong, right, _why in CENSUS_CORRECTIONS:
        if census_year != year:
            continue
        row = wide.index[wide["code"] == code]
        assert len(row) == 1 and wide.loc[row[0], column] == wrong, (code, column)
        wide.loc[row[0], column] = right
    return wide


def _age_columns(wide: pd.DataFrame) -> list[str]:
    return [c for c in wide.columns if c[:2] in ("M_", "F_")]


def _assign_parents(wide: pd.DataFrame) -> pd.DataFrame:
    """Add unit_id, parent_id, parent_name and a corrected prefecture name.

    Coded units use their 6-digit code as ``unit_id``; the national row is ``CN``; rows with no
    code get ``<parent_id>/<name>``. The parent of a county is the row coded ``code[:4] + "00"``
    or, failing that, the nearest preceding container aggregate of the yearbook (市辖区, 县,
    省直辖县级行政区划) in the same province; other uncoded rows hang under the nearest preceding
    prefecture or container of the same province.
    """
    rows = wide.to_dict("records")
    by_code = {r["code"]: i for i, r in enumerate(rows) if r["code"]}
    province_index = {r["province"]: i for i, r in enumerate(rows) if r["level"] == "province"}
    unit_ids: list[str] = [""] * len(rows)
    parents: list[int | None] = [None] * len(rows)

    def preceding(i: int, accept) -> int | None:
        for j in range(i - 1, -1, -1):
            if rows[j]["province"] != rows[i]["province"]:
                return None
            if accept(rows[j]):
                return j
        return None

    def is_container(r) -> bool:
        return r["level"] == "district_aggregate" and not r["code"] and r["name"] in CONTAINER_NAMES

    for i, r in enumerate(rows):
        level, code = r["level"], r["code"]
        prov = province_index.get(r["province"])
        if level == "national":
            parent = None
        elif level == "province":
            parent = None  # the national unit; parent_id is filled in below
        elif level == "prefecture" or (code and level == "district_aggregate"):
            parent = prov
        elif code:  # county
            parent = by_code.get(code[:4] + "00")
            if parent is None:
                parent = preceding(i, is_container)
            if parent is None:
                parent = prov
        elif r["name"] in PROVINCE_CONTAINERS or (
            is_container(r) and rows[prov]["name"] == r["prefecture"]
        ):
            parent = prov
        else:
            parent = preceding(
                i, lambda q: q["level"] == "prefecture" or is_container(q)
            )
            if parent is None:
                parent = prov
        parents[i] = parent

    for i, r in enumerate(rows):
        if r["level"] == "national":
            unit_ids[i] = NATIONAL_ID
        elif r["code"]:
            unit_ids[i] = r["code"]
    for i, r in enumerate(rows):  # parents precede children, so one pass in order suffices
        if not unit_ids[i]:
            unit_ids[i] = f"{unit_ids[parents[i]]}/{r['name']}"

    out = wide.copy()
    out.insert(0, "unit_id", unit_ids)
    out["parent_id"] = [
        unit_ids[p] if p is not None else (NATIONAL_ID if r["level"] == "province" else "")
        for r, p in zip(rows, parents, strict=True)
    ]
    out["parent_name"] = [
        rows[p]["name"] if p is not None else (NATIONAL_NAME if r["level"] == "province" else "")
        for r, p in zip(rows, parents, strict=True)
    ]
    # The 2010 prefecture column was filled from row order and is wrong for counties under a
    # 省直辖县级行政区划 aggregate (e.g. 济源市 listed under 驻马店市): take it from the parent.
    prefecture = out["prefecture"].tolist()
    for i, p in enumerate(parents):
        if p is not None and rows[i]["level"] in ("county", "district_aggregate") and (
            rows[p]["level"] == "prefecture" or rows[p]["name"] in PROVINCE_CONTAINERS
        ):
            prefecture[i] = rows[p]["name"]
        if rows[i]["name"] in PROVINCE_CONTAINERS:
            prefecture[i] = rows[i]["name"]
    out["prefecture"] = prefecture
    assert out["unit_id"].is_unique
    return out


def _national_2010(wide: pd.DataFrame) -> pd.DataFrame:
    """A 全国 row for 2010 as the sum of the 31 province rows (the yearbook has none)."""
    provinces = wide[wide["level"] == "province"]
    assert len(provinces) == 31
    numeric = ["pop_total", "pop_male", "pop_female", *_age_columns(wide)]
    row = {c: "" for c in wide.columns}
    row.update({"province": NATIONAL_NAME, "prefecture": NATIONAL_NAME, "name": NATIONAL_NAME,
                "level": "national"})
    row.update({c: provinces[c].sum() for c in numeric})
    return pd.concat([pd.DataFrame([row]), wide], ignore_index=True)


def build_census(reference: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, pd.DataFrame]]:
    units_frames, population_frames, keyed = [], [], {}
    for year in (2010, 2020):
        wide = _read_census_wide(reference, year)
        if year == 2010:
            wide = _national_2010(wide)
        wide = _assign_parents(wide)
        keyed[year] = wide
        age_cols = _age_columns(wide)
        has_age = wide[age_cols].notna().any(axis=1)
        # A blank age cell in a unit that has age data is a zero in the yearbook.
        wide.loc[has_age, age_cols] = wide.loc[has_age, age_cols].fillna(0)
        sums = wide.loc[has_age, age_cols].sum(axis=1)
        assert (sums == wide.loc[has_age, "pop_total"]).all(), year
        units = pd.DataFrame({
            "census_year": year,
            "unit_id": wide["unit_id"],
            "code": wide["code"],
            "name": wide["name"],
            "level": wide["level"],
            "province": wide["province"],
            "prefecture": wide["prefecture"],
            "parent_id": wide["parent_id"],
            "parent_name": wide["parent_name"],
            "pop_total": wide["pop_total"].astype("Int64"),
            "pop_male": wide["pop_male"].astype("Int64"),
            "pop_female": wide["pop_female"].astype("Int64"),
            "has_age_data": has_age,
        })
        units_frames.append(units)
        with_age = wide[has_age]
        for sex_code, sex in (("M", "male"), ("F", "female")):
            for label, start, end in CENSUS_GROUPS:
                population_frames.append(pd.DataFrame({
                    "census_year": year,
                    "unit_id": with_age["unit_id"].to_numpy(),
                    "sex": sex,
                    "age_start": start,
                    "age_end": pd.array([end] * len(with_age), dtype="Int64"),
                    "population": with_age[f"{sex_code}_{label}"].astype("int64").to_numpy(),
                    "_row": np.arange(len(with_age)),
                }))
    units = pd.concat(units_frames, ignore_index=True)
    population = pd.concat(population_frames, ignore_index=True)
    population["_sex"] = population["sex"].map({"male": 0, "female": 1})
    population = population.sort_values(["census_year", "_row", "_sex", "age_start"])
    population = population.drop(columns=["_row", "_sex"]).reset_index(drop=True)
    return units, population, keyed


def build_indicators(reference: Path, keyed: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Long table: census_year, unit_id, indicator, value, unit."""
    per_1000 = "per 1,000 population, 12 months before the census"
    spec = {
        2010: ("census2010_indicators_by_unit.csv", "地区", {
            "出生率（‰）": ("crude_birth_rate", per_1000),
            "死亡率（‰）": ("crude_death_rate", per_1000),
            "自然增长率（‰）": ("natural_growth_rate", per_1000),
            "户籍人口": ("registered_population", "persons registered (户籍) in the unit"),
            "15-64岁妇女-平均活产子女数": ("children_ever_born_per_woman_15_64", "per woman"),
            "15-64岁妇女-平均存活子女数": ("children_surviving_per_woman_15_64", "per woman"),
        }),
        2020: ("census2020_indicators_by_unit.csv", "区县", {
            "15-64岁妇女平均活产子女数": ("children_ever_born_per_woman_15_64", "per woman"),
            "15-64岁妇女平均存活子女数": ("children_surviving_per_woman_15_64", "per woman"),
        }),
    }
    frames = []
    for year, (filename, name_column, columns) in spec.items():
        source = pd.read_csv(reference / "leiii-census" / filename)
        units = keyed[year]
        units = units[units["level"] != "national"] if year == 2010 else units
        assert (source[name_column].to_numpy() == units["name"].to_numpy()).all()
        for column, (indicator, unit) in columns.items():
            values = source[column].to_numpy(dtype=float)
            present = ~np.isnan(values)
            frames.append(pd.DataFrame({
                "census_year": year,
                "unit_id": units["unit_id"].to_numpy()[present],
                "indicator": indicator,
                "value": values[present],
                "unit": unit,
            }))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- WPP

SEX_COLUMNS = {"M": "male", "F": "female"}


def _age_bounds(label: str) -> tuple[int, int | None]:
    label = str(label)
    if label.endswith("+"):
        return int(label[:-1]), None
    if "-" in label:
        start, end = label.split("-")
        return int(start), int(end)
    return int(label), None


def _period_bounds(period: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = period.str.split("-", expand=True).astype(int)
    return parts[0], parts[1]


def build_wpp_mx(reference: Path) -> pd.DataFrame:
    source = pd.read_csv(reference / "wpp2024" / "china_mx_abridged_5yr_periods.csv")
    ages = source["age"].astype(str)
    starts = ages.str.rstrip("+").astype(int)
    ordered = sorted(starts.unique())
    ends = {a: (ordered[k + 1] - 1 if k + 1 < len(ordered) else None)
            for k, a in enumerate(ordered)}
    period_start, period_end = _period_bounds(source["period"])
    frames = []
    for code, sex in SEX_COLUMNS.items():
        frames.append(pd.DataFrame({
            "period_start": period_start, "period_end": period_end, "sex": sex,
            "age_start": starts,
            "age_end": pd.array([ends[a] for a in starts], dtype="Int64"),
            "mx": source[f"mx{code}"],
        }))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["period_start", "sex", "age_start"], ignore_index=True)


def build_wpp_asfr(reference: Path) -> pd.DataFrame:
    source = pd.read_csv(reference / "wpp2024" / "china_percent_asfr_5yr_periods.csv")
    period_start, period_end = _period_bounds(source["period"])
    bounds = source["age"].map(_age_bounds)
    return pd.DataFrame({
        "period_start": period_start, "period_end": period_end,
        "age_start": [b[0] for b in bounds], "age_end": [b[1] for b in bounds],
        "percent_asfr": source["pasfr"],
    }).sort_values(["period_start", "age_start"], ignore_index=True)


ANNUAL_INDICATORS = {
    # source column stem: (indicator, unit)
    "tfr": ("tfr", "children per woman"),
    "e0M": ("e0_male", "years"),
    "e0F": ("e0_female", "years"),
    "e0B": ("e0_both", "years"),
    "srb": ("srb", "male births per female birth"),
    "births": ("births", "thousands"),
    "deaths": ("deaths", "thousands"),
    "mig": ("net_migration", "thousands"),
    "cbr": ("cbr", "per 1,000 population"),
    "cdr": ("cdr", "per 1,000 population"),
    "popM": ("population_male_31dec", "thousands"),
    "popF": ("population_female_31dec", "thousands"),
    "pop": ("population_total_31dec", "thousands"),
}
VARIANT_SUFFIXES = {
    "": "median", "_80l": "lower_80", "_80u": "upper_80", "_95l": "lower_95",
    "_95u": "upper_95", "_low": "low", "_high": "high",
}


def build_wpp_annual(reference: Path) -> pd.DataFrame:
    """Long table: year, kind (estimate/projection), indicator, variant, value, unit."""
    frames = []
    for kind, filename in (("estimate", "china_annual_estimates_1950_2023.csv"),
                           ("projection", "china_annual_projections_2024_2100.csv")):
        source = pd.read_csv(reference / "wpp2024" / filename)
        for stem, (indicator, unit) in ANNUAL_INDICATORS.items():
            for suffix, variant in VARIANT_SUFFIXES.items():
                column = stem + suffix
                if column not in source.columns:
                    continue
                frames.append(pd.DataFrame({
                    "year": source["year"], "kind": kind, "indicator": indicator,
                    "variant": variant if kind == "projection" else "estimate",
                    "value": source[column], "unit": unit,
                }))
    out = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    return out.sort_values(["indicator", "variant", "year"], ignore_index=True)


def build_wpp_population(reference: Path) -> pd.DataFrame:
    """year, kind, variant, sex, age_start, age_end, population (thousands, ~1 July)."""
    frames = []
    for kind, filename, variants in (
        ("estimate", "china_pop_age5_estimates_1950_2020.csv", {"": "estimate"}),
        ("projection", "china_pop_age5_projection_2025_2100.csv",
         {"": "median", "_low": "low", "_high": "high"}),
    ):
        source = pd.read_csv(reference / "wpp2024" / filename)
        bounds = source["age"].map(_age_bounds)
        for suffix, variant in variants.items():
            for code, sex in SEX_COLUMNS.items():
                frames.append(pd.DataFrame({
                    "year": source["year"], "kind": kind, "variant": variant, "sex": sex,
                    "age_start": [b[0] for b in bounds],
                    "age_end": pd.array([b[1] for b in bounds], dtype="Int64"),
                    "population": source[f"pop{code}{suffix}"],
                }))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["kind", "variant", "year", "sex", "age_start"], ignore_index=True)


def build_wpp_migration(reference: Path) -> pd.DataFrame:
    source = pd.read_csv(reference / "wpp2024" / "china_net_migration_by_single_age_projection.csv")
    frames = [pd.DataFrame({"year": source["year"], "sex": sex, "age": source["age"],
                            "net_migrants": source[f"mig{code}"]})
              for code, sex in SEX_COLUMNS.items()]
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["year", "sex", "age"], ignore_index=True)


# --------------------------------------------------------------------------- other


def build_nbs_births(reference: Path) -> pd.DataFrame:
    source = pd.read_csv(reference / "nbs-secondary" / "china_births_1949_2023.csv")
    return source[["year", "births_10k"]].sort_values("year", ignore_index=True)


LIFE_EXPECTANCY_SECTION = "### 3.4 Life expectancy"


def build_life_expectancy(reference: Path) -> pd.DataFrame:
    """Hand-keyed from care-demand-parameters.md §3.4; checks each figure is in that text."""
    text = (reference / "care-demand-parameters.md").read_text(encoding="utf-8")
    section = text.split(LIFE_EXPECTANCY_SECTION, 1)[1].split("\n## ", 1)[0]
    nhc = ("NHC 2021 bulletin; zhenguoke.com citing 《中国人口和就业统计年鉴2024》 "
           "(care-demand-parameters.md §3.4)")
    yunnan = "2020 census, Yunnan Statistics Bureau via chneye.com (care-demand-parameters.md §3.4)"
    qinghai = ("provincial CDC survey, qinghai.gov.cn 2019-12-18, 'current' as of Dec 2019 "
               "(care-demand-parameters.md §3.4)")
    daily = "China Daily 2016-11-10 (care-demand-parameters.md §3.4)"
    wenxue = ("wenxuecity.com list, mislabelled 2018, values are the 2010-census ones "
              "(care-demand-parameters.md §3.4)")
    rows = [
        # area, code, year, sex, e0, basis, source, confidence
        ("全国", "", 1990, "both", "68.55", "census", nhc, "H"),
        ("全国", "", 2000, "both", "71.40", "census", nhc, "H"),
        ("全国", "", 2010, "both", "74.83", "census", nhc, "H"),
        ("全国", "", 2020, "both", "77.93", "census", nhc, "H"),
        ("全国", "", 2021, "both", "78.2", "annual estimate", nhc, "H"),
        ("云南省", "530000", 2020, "both", "74.02", "census", yunnan, "M"),
        ("青海省", "630000", 2019, "both", "73.12", "survey", qinghai, "M"),
        ("青海省", "630000", 2019, "male", "70.92", "survey", qinghai, "M"),
        ("青海省", "630000", 2019, "female", "75.63", "survey", qinghai, "M"),
        ("云南省", "530000", 2010, "both", "69.54", "census", daily, "M"),
        ("青海省", "630000", 2010, "both", "69.96", "census", daily, "M"),
        ("四川省", "510000", 2010, "both", "74.75", "census", wenxue, "M"),
        ("重庆市", "500000", 2010, "both", "75.70", "census", wenxue, "M"),
    ]
    for row in rows:
        assert re.search(re.escape(row[4]), section), row
    out = pd.DataFrame(rows, columns=["area", "code", "year", "sex", "e0", "basis", "source",
                                      "confidence"])
    out["e0"] = out["e0"].astype(float)
    return out


PAGES = {  # stored public web pages quoting provincial statistical communiqués (not in shared)
    "gx21": "http://f2djj.com/zh/2022/0403/25911.html (扬子晚报/第一财经 2022-04-03 quoting the "
            "2021 Guangxi statistical communiqué)",
    "gd21": "http://sssv1.com/guancha/2022/0510/4491.html (repost quoting Guangdong 2021 figures)",
    "gd22": "http://xuexi.mbahome.com/guonei/2023/0427/11488.html (21世纪经济报道 2023-04-27 "
            "quoting the Guangdong Statistics Bureau)",
    "hlj": "http://www.kxwhcb.com/newsDetail_forward_22413309 (澎湃新闻 2023-03-23 repost: 2022 "
           "Heilongjiang statistical communiqué and the 2021 5‰ sample survey)",
    "cq21": "http://www.zaosha.cn/251679.html (Chongqing Statistics Bureau's reading of the 2021 "
            "population change sample survey, as reposted)",
    "cbr22": "http://hbzqbyyxgs.com/news/662599.html (third-party table of 28 provinces' 2022 "
             "crude birth rates compiled from their statistical bureaus)",
}
CBR_2022 = {  # province: 2022 crude birth rate (per 1,000), PAGES["cbr22"]
    "贵州省": 11.03, "青海省": 10.6, "海南省": 8.6, "广西壮族自治区": 8.51, "甘肃省": 8.47,
    "广东省": 8.3, "云南省": 8.14, "河南省": 7.42, "陕西省": 7.36, "江西省": 7.19,
    "安徽省": 7.16, "福建省": 7.07, "山西省": 6.75, "山东省": 6.71, "新疆维吾尔自治区": 6.53,
    "四川省": 6.39, "浙江省": 6.28, "湖南省": 6.23, "河北省": 6.09, "湖北省": 6.08,
    "重庆市": 5.98, "北京市": 5.67, "内蒙古自治区": 5.58, "江苏省": 5.23, "上海市": 4.35,
    "吉林省": 4.33, "辽宁省": 4.08, "黑龙江省": 3.34,
}


def build_registered_vital_rates(reference: Path, units: pd.DataFrame) -> pd.DataFrame:
    """Registered births, deaths and crude rates 2020-2023 (NBS and provincial communiqués).

    National figures and Yunnan/Chongqing 2022 come from shared nbs-secondary
    validation_points.csv (each row's URL kept); the other provinces from the stored pages in
    ``PAGES``. Chongqing 2021's death rate is derived: birth rate − natural growth rate.
    """
    points = pd.read_csv(reference / "nbs-secondary" / "validation_points.csv")
    names = {"China": ("全国", "CN"), "Yunnan": ("云南省", "530000"),
             "Chongqing": ("重庆市", "500000")}
    kinds = {"births": ("births", "10k persons"), "deaths": ("deaths", "10k persons"),
             "crude_birth_rate": ("crude_birth_rate", "per 1000"),
             "crude_death_rate": ("crude_death_rate", "per 1000")}
    rows = []
    for r in points.itertuples(index=False):
        if r.area in names and r.indicator in kinds and 2020 <= r.year <= 2023:
            area, code = names[r.area]
            rows.append((area, code, int(r.year), r.indicator, float(r.value),
                         kinds[r.indicator][1], f"{r.source_url} (shared nbs-secondary)"))
    # Yunnan 2022 deaths are in the note of its births row
    note = points[(points.area == "Yunnan") & (points.indicator == "births")].note.iloc[0]
    assert "deaths 38.52" in note
    rows.append(("云南省", "530000", 2022, "deaths", 38.52, "10k persons",
                 points[points.area == "Yunnan"].source_url.iloc[0] + " (shared nbs-secondary)"))
    keyed = [
        ("广西壮族自治区", "450000", 2021, "births", 48.7, "gx21"),
        ("广西壮族自治区", "450000", 2021, "crude_birth_rate", 9.68, "gx21"),
        ("广西壮族自治区", "450000", 2021, "deaths", 34.2, "gx21"),
        ("广西壮族自治区", "450000", 2021, "crude_death_rate", 6.80, "gx21"),
        ("广东省", "440000", 2021, "births", 118.31, "gd21"),
        ("广东省", "440000", 2021, "crude_birth_rate", 9.35, "gd21"),
        ("广东省", "440000", 2021, "deaths", 61.12, "gd21"),
        ("广东省", "440000", 2021, "crude_death_rate", 4.83, "gd21"),
        ("广东省", "440000", 2022, "births", 105.2, "gd22"),
        ("广东省", "440000", 2022, "crude_birth_rate", 8.30, "gd22"),
        ("广东省", "440000", 2022, "deaths", 63.0, "gd22"),
        ("广东省", "440000", 2022, "crude_death_rate", 4.97, "gd22"),
        ("黑龙江省", "230000", 2021, "crude_birth_rate", 3.59, "hlj"),
        ("黑龙江省", "230000", 2021, "crude_death_rate", 8.70, "hlj"),
        ("黑龙江省", "230000", 2022, "crude_death_rate", 9.09, "hlj"),
        ("重庆市", "500000", 2021, "births", 20.83, "cq21"),
        ("重庆市", "500000", 2021, "crude_birth_rate", 6.49, "cq21"),
        ("重庆市", "500000", 2021, "deaths", 25.81, "cq21"),
        ("重庆市", "500000", 2021, "crude_death_rate", round(6.49 + 1.55, 2), "cq21"),
    ]
    provinces = units[(units.census_year == 2020) & (units.level == "province")]
    code_of = dict(zip(provinces.name, provinces.code, strict=True))
    for name, value in CBR_2022.items():
        keyed.append((name, code_of[name], 2022, "crude_birth_rate", value, "cbr22"))
    for area, code, year, indicator, value, page in keyed:
        assert code_of.get(area, code) == code, area
        rows.append((area, code, year, indicator, value, kinds[indicator][1], PAGES[page]))
    out = pd.DataFrame(rows, columns=["area", "code", "year", "indicator", "value", "unit",
                                      "source"])
    out = out.drop_duplicates(["code", "year", "indicator"], keep="first")
    return out.sort_values(["code", "year", "indicator"], ignore_index=True)


def write_csv(frame: pd.DataFrame, name: str) -> None:
    frame.to_csv(DATA_DIR / name, index=False, encoding="utf-8", lineterminator="\n")
    print(f"wrote data/{name}: {len(frame):,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    reference = parser.parse_args().reference
    units, population, keyed = build_census(reference)
    write_csv(units, "census_units.csv")
    write_csv(population, "census_population_5yr.csv")
    write_csv(build_indicators(reference, keyed), "census_indicators.csv")
    write_csv(build_wpp_mx(reference), "wpp2024_china_mx_abridged.csv")
    write_csv(build_wpp_asfr(reference), "wpp2024_china_percent_asfr.csv")
    write_csv(build_wpp_annual(reference), "wpp2024_china_annual.csv")
    write_csv(build_wpp_population(reference), "wpp2024_china_population_5yr.csv")
    write_csv(build_wpp_migration(reference), "wpp2024_china_net_migration_single_age.csv")
    write_csv(build_nbs_births(reference), "nbs_births_1949_2023.csv")
    write_csv(build_life_expectancy(reference), "province_life_expectancy.csv")
    write_csv(build_registered_vital_rates(reference, units), "registered_vital_rates.csv")


if __name__ == "__main__":
    main()
