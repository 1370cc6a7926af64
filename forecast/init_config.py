"""``forecast init UNIT``: a minimal, commented config for any census unit that runs as is.

The config names the unit (its census code and name, an English name romanised with pypinyin
for the English charts), the default horizon and only the baseline scenario; every input is the
tool's default for the unit. No plan document is named, so no plan figure is encoded: the
outputs say the plan's figures are absent, and the commented blocks show where to add them.
"""

from __future__ import annotations

import re
from pathlib import Path

from forecast.defaults.census import Unit, resolve_unit
from forecast.errors import ForecastError

#: The 55 minority nationalities, as they appear in the names of autonomous units.
_NATIONALITIES = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 "
    "水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 "
    "乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各").split()
#: Administrative suffixes left out of the English name (红河哈尼族彝族自治州 -> Honghe).
_SUFFIX = re.compile(
    "(?:(?:" + "|".join(sorted(_NATIONALITIES, key=len, reverse=True)) + ")族)*自治(?:州|县|旗|区)$"
    "|(?:特别行政区|地区|林区|特区|省|市|县|区|州|盟|旗)$")


class InitError(ForecastError):
    """A config that ``forecast init`` will not write (an existing file, a unit without a
    code)."""


def english_name(name: str) -> str:
    """The unit's name in pinyin without its administrative suffix, syllables joined, an
    apostrophe before a syllable starting with a, o or e (西安 -> Xi'an)."""
    from pypinyin import lazy_pinyin

    stem = _SUFFIX.sub("", name) or name
    if len(stem) < 2:  # 沙县, 赵县: the suffix is part of the name
        stem = name
    syllables = lazy_pinyin(stem)
    text = syllables[0]
    for syllable in syllables[1:]:
        text += ("'" if syllable[:1] in "aoe" else "") + syllable
    return text[:1].upper() + text[1:]


def default_file_name(unit: Unit) -> str:
    """``<english name, lower case>.yaml`` (the config's stem names its output folder)."""
    stem = re.sub(r"[^a-z0-9]+", "_", english_name(unit.name).lower()).strip("_")
    return f"{stem or unit.code}.yaml"


def config_text(unit: Unit, command: str) -> str:
    """The YAML of the minimal config for ``unit``, with comments (``command`` is quoted in
    the header)."""
    place = " · ".join(p for p in (unit.province, unit.prefecture) if p and p != unit.name)
    where = f" in {place}" if place else ""
    return f"""\
# {unit.name} ({unit.code}, {unit.level}{where}): written by `{command}`.
# A minimal config: every projection input and demand parameter is the tool's default for this
# census unit (2020 census base, UN WPP 2024; `forecast run` lists each with its source in
# assumptions.csv and report.html). It names no plan document and encodes no plan figure, so
# the outputs give the demand for beds and 托位 and say the plan's supply and targets are
# absent. To check a plan, add `source_document:` and `supply:` as in the commented blocks
# below (every key: `forecast schema`; full examples: configs/honghe.yaml).

jurisdiction:
  code: "{unit.code}"
  name: {unit.name}
  name_en: {english_name(unit.name)}  # for --lang en charts and report (pinyin; edit freely)

projection:
  base_year: 2020
  end_year: 2035

# source_document:          # the plan whose figures you encode under supply:
#   file: plan.txt          # its plain-text file (citations default to it)
#   title: 某某市促进养老托育服务健康发展实施方案
#   issuer: 某某市人民政府
#   issued: 2022-06-01
#
# supply:
#   elderly_beds:
#     base_year: 2020
#     base_supply: 1000     # beds the plan states for the base year
#     base_source:
#       section: 一、发展现状
#       quote: 全市共有养老床位1000张
#     targets:
#       - year: 2025
#         kind: per_1000_elderly
#         value: 35
#         source:
#           section: 二、主要目标
#           quote: 每千名老年人拥有养老床位35张

scenarios:
  baseline: {{}}
"""


def write_config(query: str, out: Path | None, command: str) -> tuple[Unit, Path]:
    """Resolve ``query`` to one census unit and write its minimal config to ``out`` (default
    ``<english name>.yaml`` here); never replaces an existing file."""
    unit = resolve_unit(query)
    if not unit.code:
        raise InitError(f"census unit {unit.name} ({unit.unit_id}) has no 6-digit code, which a "
                        "config needs", fix="give a unit with a code (`forecast units "
                        f"{unit.name}`), or write the config by hand with `census_unit:`")
    path = out if out is not None else Path(default_file_name(unit))
    if path.exists() or path.is_symlink():
        raise InitError("already exists; forecast init never replaces a file", path=path,
                        fix="give another --out FILE, or remove the file first")
    if not path.parent.is_dir():
        raise InitError("its folder does not exist", path=path,
                        fix=f"create {path.parent} first, or give another --out FILE")
    text = config_text(unit, command)
    try:
        with open(path, "x", encoding="utf-8") as handle:  # "x": fails if created meanwhile
            handle.write(text)
    except FileExistsError:
        raise InitError("already exists; forecast init never replaces a file", path=path,
                        fix="give another --out FILE, or remove the file first") from None
    except OSError as exc:
        raise InitError(f"cannot write it ({exc.strerror})", path=path,
                        fix="give a writable --out FILE") from None
    return unit, path
