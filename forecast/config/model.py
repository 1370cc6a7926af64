"""The typed config model: jurisdiction and plan document, projection, assumptions, demand,
uncertainty, supply, planning, expectations and scenarios. Validation only; no numerics."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from forecast.config.base import (
    BASELINE,
    MAX_PERSONS,
    MAX_PLACES,
    SHARE_KINDS,
    Indicator,
    Relation,
    StrictModel,
    TargetKind,
    _dotted,
    _rule_error,
    _suggest,
)
from forecast.demography.indicators import count_from_rate
from forecast.errors import ConfigError


class Jurisdiction(StrictModel):
    """The place being projected."""

    code: str = Field(
        description="6-digit 2020 census (administrative division) code of the unit, "
        "e.g. '532500' for 红河哈尼族彝族自治州.",
        pattern=r"^[0-9]{6}$",
    )
    name: str = Field(description="Chinese name as in the census tables, e.g. "
                      "'红河哈尼族彝族自治州'.", min_length=1)
    name_en: str = Field(description="English name used in charts and reports, e.g. 'Honghe'.",
                         min_length=1)
    census_unit: str | None = Field(
        default=None,
        description="Census unit to read instead of `code` (a 6-digit code or an exact Chinese "
        "name); only needed when the plan's area differs from the coded unit.",
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("code", "census_unit")
    @classmethod
    def _no_full_width(cls, value: str | None) -> str | None:
        import unicodedata

        if value is not None and unicodedata.normalize("NFKC", value) != value:
            raise ValueError(f"{value!r} holds full-width characters; write "
                             f"{unicodedata.normalize('NFKC', value)!r}")
        return value


class SourceDocument(StrictModel):
    """The plan document whose targets the config encodes."""

    file: str = Field(description="File name of the plain-text document in the seeds folder, "
                      "e.g. '001_311e494da490633c.txt'.", pattern=r"^[^/\\]+$")
    title: str = Field(description="Title of the document, in Chinese.", min_length=1)
    issuer: str = Field(description="Issuing body, in Chinese.", min_length=1)
    issued: date | int = Field(description="Date issued (YYYY-MM-DD), or the year alone when "
                               "only the year is known.")
    document_number: str | None = Field(default=None,
                                        description="The document number (文号), e.g. "
                                        "'红政发〔2022〕41号'.")
    draft: bool = Field(default=False, description="True when the text is a draft (代拟稿/征求"
                        "意见稿) rather than the issued document.")

    @field_validator("issued")
    @classmethod
    def _plausible_year(cls, value: date | int) -> date | int:
        year = value.year if isinstance(value, date) else value
        if not 1949 <= year <= 2100:
            raise ValueError(f"issued year {year} is not between 1949 and 2100")
        return value


NOTE_ZH_DESCRIPTION = ("`note` in Chinese, shown in the Chinese report and workbook in its "
                       "place (the CSV files keep `note`). Without it an English `note` shows "
                       "there as a pointer to the CSV file.")


def _check_note_zh(model: BaseModel) -> None:
    """A ``note_zh`` translates the ``note`` beside it: it needs one."""
    if getattr(model, "note_zh", None) and not getattr(model, "note", None):
        raise _rule_error("`note_zh` is the Chinese text of `note`: add the `note` it "
                          "translates, or rename it `note`", "note_zh")


class Citation(StrictModel):
    """Where a number comes from: a document plus the quoted phrase and/or its section."""

    document: str | None = Field(
        default=None,
        description="File name in the seeds folder, or the full name of another document "
        "(e.g. a national plan). None = the config's `source_document`.",
    )
    section: str | None = Field(default=None,
                                description="Section, article or table of the document, "
                                "e.g. '一、主要目标' or '附件1 指标12'.")
    quote: str | None = Field(default=None,
                              description="The phrase quoted verbatim from the document.")

    @model_validator(mode="after")
    def _section_or_quote(self) -> Citation:
        if not (self.section or self.quote):
            raise _rule_error("a source needs a `quote` or a `section` (or both)", "quote")
        return self


class Projection(StrictModel):
    """The projection horizon and timing conventions."""

    base_year: Literal[2010, 2020] = Field(
        default=2020, description="Census year used as the base population: 2020, or 2010 for "
        "backtests against the 2020 census.")
    end_year: int = Field(default=2035, description="Last projected year (inclusive).",
                          le=2100)
    migration_timing: Literal["end", "even"] = Field(
        default="end", description="When net migrants enter in each step: 'end' (all at the end, "
        "as in UN WPP inputs) or 'even' (half at the start, half at the end).")
    consistent: bool = Field(
        default=True, description="Control the default components top down so that counties "
        "add up to their prefecture, prefectures to their province and provinces to the nation "
        "(fertility, mortality and populations scaled to the parent's, net migration the "
        "residual; forecast.defaults.consistency). false: the unit's own defaults.")

    @model_validator(mode="after")
    def _end_after_base(self) -> Projection:
        if self.end_year <= self.base_year:
            raise _rule_error(f"end_year {self.end_year} must be after base_year "
                              f"{self.base_year}", "end_year")
        return self


class Fertility(StrictModel):
    """Overrides of the default fertility assumption."""

    tfr: float | dict[int, float] | None = Field(
        default=None,
        description="Total fertility rate, births per woman: one number held constant, or a "
        "path {year: tfr} (interpolated between the years given, flat outside them). None = "
        "the default for the census unit.")
    method: Literal["census_indirect", "wpp_trend", "statsmodels", "prophet"] | None = Field(
        default=None,
        description="How the TFR path is made when `tfr` is not given: 'census_indirect' (2020 "
        "census level held constant), 'wpp_trend' (census level moved with the WPP China trend), "
        "'statsmodels' or 'prophet' (a time-series forecast). None = the default.")
    tfr_shift: float | dict[int, float] | None = Field(
        default=None,
        description="Births per woman added to the TFR path (whatever made it: the default, "
        "`method` or `tfr`), e.g. -0.5 for the UN WPP low variant: one number, or a path "
        "{year: shift} (interpolated between the years given, flat outside them). The shifted "
        "TFR must stay above 0.")

    @field_validator("tfr_shift")
    @classmethod
    def _plausible_shift(cls, value: float | dict[int, float] | None) -> object:
        levels = value.values() if isinstance(value, dict) else [] if value is None else [value]
        for level in levels:
            if not -5 <= level <= 5:
                raise ValueError(f"tfr_shift {level:g} is not a change in births per woman "
                                 "between -5 and 5")
        if isinstance(value, dict) and not value:
            raise ValueError("the tfr_shift path is empty; give {year: shift} pairs")
        return value

    @field_validator("tfr")
    @classmethod
    def _plausible_tfr(cls, value: float | dict[int, float] | None) -> object:
        levels = value.values() if isinstance(value, dict) else [] if value is None else [value]
        for level in levels:
            if not 0 < level < 10:
                raise ValueError(f"tfr {level:g} is not a number of births per woman between 0 "
                                 "and 10")
        if isinstance(value, dict) and not value:
            raise ValueError("the tfr path is empty; give {year: tfr} pairs")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Fertility:
        if self.tfr is not None and self.method is not None:
            raise _rule_error("give either `tfr` (a fixed level or path) or `method` (how to "
                              "make one), not both", "method")
        return self


class E0BySex(StrictModel):
    """Life expectancy at birth by sex, years."""

    male: float = Field(description="Male life expectancy at birth, years.", gt=20, lt=100)
    female: float = Field(description="Female life expectancy at birth, years.", gt=20, lt=100)


class Mortality(StrictModel):
    """Overrides of the default mortality assumption."""

    e0: E0BySex | None = Field(default=None, description="Base-year life expectancy at birth "
                               "by sex, years; the WPP China schedule is fitted to it.")
    e0_shift: float | None = Field(default=None, description="Years added to the default "
                                   "base-year e0 of both sexes (negative = lower).", ge=-30,
                                   le=30)
    improvement: Literal["wpp", "none", "half"] | None = Field(
        default=None, description="Future mortality decline: 'wpp' (the WPP China e0 gains), "
        "'none' (base-year rates held), 'half' (half the WPP gains). None = the default.")

    @model_validator(mode="after")
    def _one_level(self) -> Mortality:
        if self.e0 is not None and self.e0_shift is not None:
            raise _rule_error("give either `e0` or `e0_shift`, not both", "e0_shift")
        return self


class Migration(StrictModel):
    """Overrides of the default migration assumption."""

    mode: Literal["census_residual", "zero", "counts"] | None = Field(
        default=None, description="'census_residual' (net migrants by age and sex from the "
        "2010→2020 census residual), 'zero' (a closed population) or 'counts' (read from "
        "`counts_file`). None = the default.")
    scale: float | None = Field(default=None, ge=0, le=10,
                                description="Multiplier applied to net migrants of every age "
                                "and sex (1 = as estimated, 0 = none).")
    counts_file: str | None = Field(
        default=None, description="With mode 'counts': CSV with columns year,sex,age,"
        "net_migrants (persons per year), relative to the config file.")
    path: Literal["converge", "constant"] | None = Field(
        default=None, description="The census residual over time: 'converge' (the default: "
        "scaled each year by WPP 2024 China's net migration rate relative to its 2010s level, "
        "about 0.73 by 2035) or 'constant' (the 2010s' level every year). None = the default.")

    @model_validator(mode="after")
    def _counts_need_file(self) -> Migration:
        if self.path is not None and self.mode in ("zero", "counts"):
            raise _rule_error(f"`path` applies to the census residual, not to mode "
                              f"'{self.mode}'", "path")
        if self.mode == "counts" and not self.counts_file:
            raise _rule_error("mode 'counts' needs `counts_file` (a CSV year,sex,age,"
                              "net_migrants)", "counts_file")
        if self.counts_file and self.mode != "counts":
            raise _rule_error("`counts_file` is used only with mode: counts", "counts_file")
        return self


class Assumptions(StrictModel):
    """Overrides of the default projection inputs; every field None = the default."""

    fertility: Fertility = Field(default_factory=Fertility,
                                 description="Fertility level and method.")
    mortality: Mortality = Field(default_factory=Mortality,
                                 description="Mortality level and improvement.")
    migration: Migration = Field(default_factory=Migration,
                                 description="Net migration mode and scale.")
    srb: float | None = Field(default=None, description="Sex ratio at birth, male births per "
                              "female birth (e.g. 1.113, not 111.3). None = the default.")

    @field_validator("srb")
    @classmethod
    def _srb_as_ratio(cls, value: float | None) -> float | None:
        if value is not None and not 0.9 <= value <= 1.3:
            raise ValueError(f"srb {value} is not male births per female birth; write e.g. "
                             "1.113 (not 111.3)")
        return value


def _share(description: str) -> Any:
    return Field(default=None, ge=0, le=1, description=description)


class ElderlyDemand(StrictModel):
    """Elderly-care bed demand parameters; None = the shipped default
    (data/care_parameters.csv)."""

    norm_per_1000: float | None = Field(default=None, ge=0, le=1000,
                                        description="Norm: beds per 1,000 persons aged 60+.")
    nursing_share: float | None = _share("Nursing-type (护理型) beds as a share of beds, "
                                         "fraction.")
    prevalence_trend: float | None = Field(
        default=None, ge=-0.2, le=0.2, description="Relative change per year in age-specific "
        "disability prevalence (e.g. -0.01 = 1% lower each year).")
    u_severe: float | None = _share("Share of severely disabled elderly cared for in "
                                    "institutions, fraction.")
    u_moderate: float | None = _share("Share of moderately disabled elderly cared for in "
                                      "institutions, fraction.")
    target_occupancy: float | None = Field(default=None, gt=0, le=1,
                                           description="Planning occupancy that turns residents "
                                           "into beds, fraction.")


class ChildcareDemand(StrictModel):
    """Childcare place (托位) demand parameters; None = the shipped default
    (data/care_parameters.csv)."""

    norm_per_1000_population: float | None = Field(
        default=None, ge=0, le=1000, description="Norm: 托位 per 1,000 total population.")
    demand_rate: float | None = _share("Share of under-3s whose families want childcare, "
                                       "fraction.")
    uptake: float | dict[int, float] | None = Field(
        default=None, description="Share of the expressed demand that is enrolled, fraction: "
        "one number held constant, or a path {year: uptake} (linear between the years given, "
        "flat outside them).")
    target_utilisation: float | None = Field(default=None, gt=0, le=1,
                                             description="Planning utilisation of places, "
                                             "fraction.")
    path: Literal["policy", "full_uptake"] | None = Field(
        default=None, description="Enrolment path of the needs method when `uptake` is not "
        "given: 'policy' (default: observed 5.5 % in 2021 and 12 % in 2025, then to the "
        "assumed 15 % of under-3s in 2035) or 'full_uptake' (the ceiling: to the whole "
        "expressed demand by 2035).")


    @field_validator("uptake")
    @classmethod
    def _uptake_fractions(cls, value: float | dict[int, float] | None) -> object:
        levels = value.values() if isinstance(value, dict) else [] if value is None else [value]
        for level in levels:
            if not 0 <= level <= 1:
                raise ValueError(f"uptake {level:g} is not a fraction between 0 and 1")
        if isinstance(value, dict) and not value:
            raise ValueError("the uptake path is empty; give {year: uptake} pairs")
        return value


class WorkforceDemand(StrictModel):
    """Staffing ratios of the workforce needed (issue 12); None = the shipped default
    (data/care_parameters.csv: 国卫人口发〔2019〕58号 for 托育, an assumption for 护理员)."""

    residents_per_carer_severe: float | None = Field(
        default=None, gt=0, le=100, description="Severely disabled residents per 护理员.")
    residents_per_carer_moderate: float | None = Field(
        default=None, gt=0, le=100, description="Moderately disabled residents per 护理员.")
    children_per_carer_age_0: float | None = Field(
        default=None, gt=0, le=100, description="Children aged 0 per 保育人员 (乳儿班).")
    children_per_carer_age_1: float | None = Field(
        default=None, gt=0, le=100, description="Children aged 1 per 保育人员 (托小班).")
    children_per_carer_age_2: float | None = Field(
        default=None, gt=0, le=100, description="Children aged 2 per 保育人员 (托大班).")


class Demand(StrictModel):
    """Overrides of the shipped demand parameters."""

    elderly: ElderlyDemand = Field(default_factory=ElderlyDemand,
                                   description="Elderly-care beds (养老床位).")
    childcare: ChildcareDemand = Field(default_factory=ChildcareDemand,
                                       description="Childcare places for under-3s (托位).")
    workforce: WorkforceDemand = Field(default_factory=WorkforceDemand,
                                       description="Staff ratios: 护理员 and 保育人员.")


class Uncertainty(StrictModel):
    """Distributions of a probabilistic run (``forecast run --trajectories N``). Every
    trajectory draws a TFR path, an e0 path, a migration scale and a disability trend; all
    are independent of each other. Defaults, and why:

    - TFR: a lognormal multiplier of the TFR path whose log has a standard deviation growing
      with the horizon; by default (``tfr_sd_source: wpp``) the sd ``h`` years after the base
      year is the one UN WPP 2024 gives China's TFR ``h`` years after its own jump-off (2023),
      from its 80 % interval: (log upper_80 − log lower_80) / 2.563 (0.12 after one year, 0.19
      after twelve). 'statsmodels' uses the damped-trend ETS forecast error of log TFR
      (forecast.defaults.trends; wider: 0.39 after twelve years). Successive years are a random
      walk, so
      paths are smooth in time and the marginal sd is as stated.
    - e0: a normal shift of life expectancy at birth (both sexes, years), the sd growing with the
      horizon as WPP 2024's 80 % interval for China's e0 (0.7 years after one, 1.7 after twelve),
      a random walk like the TFR; applied as a proportional change of every age's death rate.
    - Migration: net migrants × a normal scale with mean 1 and sd 0.5, one per trajectory
      (assumption: the 2010→2020 census residual could be half or one and a half times the
      future level; floored at 0).
    - Care parameters (institutional uptake, occupancy, disability level and trend, the share
      of families wanting childcare, 2035 enrolment, utilisation of places): each over its
      sourced range in data/care_parameters.csv, split triangular with mode and median at the
      deterministic value (the disability trend: E11's −3 % to 0 % a year around −1 %); the
      shape is an assumption, the ends are sourced (forecast.pipeline.uncertainty.care_ranges).
    """

    tfr_sd_source: Literal["wpp", "statsmodels", "fixed"] = Field(
        default="wpp", description="Where the sd of the log TFR multiplier comes from: 'wpp' "
        "(WPP 2024 China 80 % interval widths by horizon), 'statsmodels' (ETS forecast error of "
        "log TFR) or 'fixed' (`tfr_sd_log`).")
    tfr_sd_log: float | None = Field(
        default=None, ge=0, le=2, description="With tfr_sd_source 'fixed': sd of the log TFR "
        "multiplier 15 years after the base year, growing with the square root of the "
        "horizon (0 = no TFR uncertainty).")
    e0_sd_source: Literal["wpp", "fixed"] = Field(
        default="wpp", description="Where the sd of the e0 shift comes from: 'wpp' (WPP 2024 "
        "China e0 80 % interval by horizon) or 'fixed' (`e0_sd`).")
    e0_sd: float | None = Field(
        default=None, ge=0, le=20, description="With e0_sd_source 'fixed': sd of the e0 shift "
        "(years) 15 years after the base year, growing with the square root of the horizon.")
    migration_sd: float = Field(default=0.5, ge=0, le=5, description="sd of the normal "
                                "multiplier (mean 1) of net migrants; assumption.")
    disability_trend_low: float | None = Field(
        default=None, ge=-0.2, le=0.2, description="Lowest yearly relative change of "
        "disability prevalence; None = E11's low (−0.03).")
    disability_trend_high: float | None = Field(
        default=None, ge=-0.2, le=0.2, description="Highest yearly relative change of "
        "disability prevalence; None = E11's high (0).")
    care_parameters: Literal["sourced", "fixed"] = Field(
        default="sourced", description="'sourced': draw every care parameter over its range in "
        "data/care_parameters.csv, centred on the deterministic value; 'fixed': hold them at "
        "the deterministic values (the disability trend too, unless its low/high are given).")

    @model_validator(mode="after")
    def _consistent(self) -> Uncertainty:
        if self.tfr_sd_source == "fixed" and self.tfr_sd_log is None:
            raise _rule_error("tfr_sd_source 'fixed' needs `tfr_sd_log`", "tfr_sd_log")
        if self.tfr_sd_log is not None and self.tfr_sd_source != "fixed":
            raise _rule_error("`tfr_sd_log` is used only with tfr_sd_source: fixed",
                              "tfr_sd_log")
        if self.e0_sd_source == "fixed" and self.e0_sd is None:
            raise _rule_error("e0_sd_source 'fixed' needs `e0_sd`", "e0_sd")
        if self.e0_sd is not None and self.e0_sd_source != "fixed":
            raise _rule_error("`e0_sd` is used only with e0_sd_source: fixed", "e0_sd")
        if (self.disability_trend_low is not None and self.disability_trend_high is not None
                and self.disability_trend_low > self.disability_trend_high):
            raise _rule_error(f"disability_trend_low {self.disability_trend_low} is above "
                              f"disability_trend_high {self.disability_trend_high}",
                              "disability_trend_low")
        return self


BedScope = Literal["total", "institutional", "community"]


class SupplyComponent(StrictModel):
    """One part of a base-year supply that the document states in parts."""

    label: str = Field(description="What the part counts, e.g. 'institutional beds'.")
    amount: float = Field(ge=0, le=MAX_PLACES, description="Beds or places.")
    scope: BedScope = Field(
        default="total", description="Elderly beds only: which beds the part counts: "
        "'institutional' (beds in 养老机构), 'community' (beds in community facilities, "
        "居家/社区养老服务设施) or 'total' (both). With `base_reading: nested` the first part is "
        "the total whatever its scope, and the others lie inside it.")
    source: Citation = Field(description="Where the document states it.")


class Addition(StrictModel):
    """Supply the document commits to adding over a period."""

    start_year: int = Field(description="First year of the period (inclusive).")
    scope: BedScope | None = Field(
        default=None, description="Elderly beds only: which beds are added ('institutional', "
        "'community' or 'total'); None = the section's `scope`.")
    end_year: int = Field(description="Last year of the period (inclusive).")
    amount: float = Field(gt=0, le=MAX_PLACES, description="Beds or places added over the "
                          "whole period "
                          "(the total, not per year).")
    source: Citation = Field(description="Where the document states it.")
    note: str | None = Field(default=None, description="How the period or amount was read.")

    @model_validator(mode="after")
    def _ordered(self) -> Addition:
        if self.end_year < self.start_year:
            raise _rule_error(f"end_year {self.end_year} is before start_year "
                              f"{self.start_year}", "end_year")
        return self


class Target(StrictModel):
    """A quantitative target for one service in one year."""

    year: int = Field(description="Year the target is due (e.g. 2025 for '到2025年').")
    kind: TargetKind = Field(
        description="'count' (beds or places), 'per_1000_elderly' (beds per 1,000 aged 60+), "
        "'per_1000_population' (托位 per 1,000 residents), 'share_nursing' (nursing-type beds "
        "as a fraction of beds) or 'coverage_under3' (托位 as a fraction of under-3s).")
    value: float = Field(ge=0, description="The target, in the unit of `kind`; shares are "
                         "fractions (0.55, not 55).")
    relation: Relation = Field(default="at_least",
                               description="How the document phrases it: 'at_least' (以上/"
                               "不少于/不低于/≥), 'equal' (达到), 'about' (左右), 'at_most'.")
    origin: Literal["document", "national"] = Field(
        default="document", description="'document' = stated by the config's plan; 'national' "
        "= a national target applied because the plan states none.")
    source: Citation = Field(description="Document plus the quoted phrase or section.")

    @model_validator(mode="after")
    def _share_is_fraction(self) -> Target:
        if self.kind in SHARE_KINDS and self.value > 1:
            raise _rule_error(f"a {self.kind} target is a fraction; write {self.value / 100:g} "
                              f"for {self.value:g}%", "value")
        if self.kind.startswith("per_1000") and self.value > 1000:
            raise _rule_error(f"a {self.kind} target of {self.value:g} is more than 1,000 per "
                              "1,000", "value")
        if self.kind == "count" and self.value > MAX_PLACES:
            raise _rule_error(f"a count target of {self.value:g} is more than {MAX_PLACES:,.0f} "
                              "beds or places", "value")
        return self


class _ServiceSupply(StrictModel):
    """Base-year supply, committed additions and targets of one service."""

    allowed_kinds: ClassVar[tuple[str, ...]] = ()
    rate_fields: ClassVar[tuple[str, ...]] = ()
    scoped: ClassVar[bool] = False

    base_year: int | None = Field(default=None, description="Year of the base supply figure "
                                  "(end of 2020 = 2020).")
    base_supply: float | None = Field(default=None, ge=0, le=MAX_PLACES,
                                      description="Beds or places in "
                                      "base_year. None = unknown (then `note` is required).")
    base_components: list[SupplyComponent] = Field(
        default_factory=list, description="The base supply in parts, when the document states "
        "it so; `base_supply` is their sum.")
    base_source: Citation | None = Field(default=None, description="Where the document states "
                                         "the base supply.")
    note: str | None = Field(default=None, description="Required when the base supply is "
                             "unknown: what the document says (or does not say) about it.")
    note_zh: str | None = Field(default=None, description=NOTE_ZH_DESCRIPTION)
    additions: list[Addition] = Field(default_factory=list,
                                      description="Supply the document commits to adding.")
    targets: list[Target] = Field(default_factory=list, description="The document's targets.")

    @model_validator(mode="after")
    def _check_service(self) -> _ServiceSupply:
        if not self.scoped:
            for index, part in enumerate(self.base_components):
                if part.scope != "total":
                    raise _rule_error("a scope applies to elderly beds only; remove it",
                                      f"base_components.{index}.scope")
            for index, addition in enumerate(self.additions):
                if addition.scope is not None:
                    raise _rule_error("a scope applies to elderly beds only; remove it",
                                      f"additions.{index}.scope")
        for index, target in enumerate(self.targets):
            if target.kind not in self.allowed_kinds:
                raise _rule_error(f"kind '{target.kind}' does not apply here; use one of "
                                  f"{', '.join(self.allowed_kinds)}", f"targets.{index}.kind")
        if self.base_components:
            total = self.components_total()
            if self.base_supply is not None and abs(self.base_supply - total) > 0.5:
                raise _rule_error(f"base_supply {self.base_supply:g} differs from the "
                                  f"{self._components_phrase()} base_components {total:g}",
                                  "base_supply")
        given = [name for name in ("base_supply", *self.rate_fields)
                 if getattr(self, name) is not None or (name == "base_supply"
                                                        and self.base_components)]
        if len(given) > 1:
            raise _rule_error(f"give the base supply one way, not as {' and '.join(given)}",
                              given[1])
        if given:
            if self.base_year is None:
                raise _rule_error("a base supply needs its `base_year`", given[0])
            if self.base_source is None and not self.base_components:
                raise _rule_error("a base supply needs a `base_source` (document + quote)",
                                  given[0])
        elif not self.note:
            raise _rule_error("the base supply is unknown: add a `note` saying what the "
                              "document states (e.g. 'the plan states no bed count')", "note")
        _check_note_zh(self)
        return self

    def components_total(self) -> float:
        """The base supply the components add up to: their sum (parts side by side)."""
        return float(sum(part.amount for part in self.base_components))

    def _components_phrase(self) -> str:
        return "sum of"

    def base_total(self) -> float | None:
        """The stated base count (from `base_supply` or the components); None if not stated."""
        if self.base_components:
            return self.components_total()
        return self.base_supply

    def base_known(self) -> bool:
        """True when the document gives the base supply in some form."""
        return bool(self.base_components) or any(
            getattr(self, name) is not None for name in ("base_supply", *self.rate_fields))


class ElderlyBedSupply(_ServiceSupply):
    """Elderly-care beds (养老床位) by scope: institutional beds (养老机构), community beds
    (社区/居家养老服务设施) and their total, as the document states them. The per-1,000 norm is
    compared with the total, the needs, expected-use and 9073 methods with institutional beds
    (forecast.care.supply.gaps)."""

    allowed_kinds: ClassVar[tuple[str, ...]] = ("count", "per_1000_elderly")
    rate_fields: ClassVar[tuple[str, ...]] = ("base_supply_per_1000_elderly",)
    scoped: ClassVar[bool] = True

    scope: BedScope = Field(
        default="total", description="What `base_supply`, the rate, the targets and additions "
        "without their own scope count: 'total' (institutional + community, the meaning of "
        "养老床位 in the 民政 statistics and of the per-1,000 norm) or 'institutional'.")
    base_reading: Literal["additive", "nested"] = Field(
        default="additive", description="How `base_components` combine: 'additive' (parts side "
        "by side; the total is their sum) or 'nested' (the first part is the total, the others "
        "lie inside it; institutional = total − community). Choose with the sentence quoted; "
        "ship the other reading as a scenario when the document is ambiguous.")
    base_supply_per_1000_elderly: float | None = Field(
        default=None, ge=0, le=1000,
        description="Base supply stated as beds per 1,000 aged 60+; the count is derived "
                    "from the base-year population aged 60+.")

    def components_total(self) -> float:
        if self.base_reading == "nested":
            return float(self.base_components[0].amount)
        return float(sum(part.amount for part in self.base_components))

    def _components_phrase(self) -> str:
        return "first of the nested" if self.base_reading == "nested" else "sum of"

    def base_by_scope(self, population_60plus: float) -> dict[str, float | None]:
        """Base-year beds by scope ``{'total', 'institutional', 'community'}``; None = not
        stated. Components: additive sums each scope (a 'total' part adds to neither
        institutional nor community); nested takes the first part as the total and
        institutional = total − the community parts inside it."""
        total = self.base_count(population_60plus)
        scopes: dict[str, float | None] = {"total": total, "institutional": None,
                                           "community": None}
        parts = self.base_components
        if parts and self.base_reading == "nested":
            inside = parts[1:]
            community = sum(p.amount for p in inside if p.scope == "community")
            institutional = sum(p.amount for p in inside if p.scope == "institutional")
            if all(p.scope == "community" for p in inside):
                scopes["community"] = community
                scopes["institutional"] = total - community
            elif all(p.scope == "institutional" for p in inside):
                scopes["institutional"] = institutional
                scopes["community"] = total - institutional
        elif parts:
            if all(p.scope != "total" for p in parts):
                scopes["institutional"] = sum(p.amount for p in parts
                                              if p.scope == "institutional")
                scopes["community"] = sum(p.amount for p in parts if p.scope == "community")
        elif self.scope == "institutional":
            scopes["institutional"] = total
        return scopes

    @model_validator(mode="after")
    def _nested_parts(self) -> ElderlyBedSupply:
        if self.base_reading == "nested" and self.base_components:
            inside = self.base_components[1:]
            if not inside:
                raise _rule_error("a nested base needs the total first and at least one part "
                                  "inside it", "base_components")
            total = self.base_components[0].amount
            if sum(p.amount for p in inside) > total:
                raise _rule_error(f"the parts inside the nested total {total:g} add up to more "
                                  "than it; read them as additive", "base_reading")
        return self

    def base_count(self, population_60plus: float) -> float | None:
        """Base-year beds: the count, or the rate × persons aged 60+ / 1,000; None if unknown."""
        if self.base_total() is not None:
            return self.base_total()
        if self.base_supply_per_1000_elderly is not None:
            return count_from_rate(self.base_supply_per_1000_elderly, population_60plus)
        return None


class NursingBedSupply(_ServiceSupply):
    """Nursing-type beds (护理型床位)."""

    allowed_kinds: ClassVar[tuple[str, ...]] = ("count", "share_nursing")
    rate_fields: ClassVar[tuple[str, ...]] = ("base_share_nursing",)

    base_share_nursing: float | None = Field(
        default=None, ge=0, le=1, description="Base supply stated as the nursing-type share of "
        "beds, fraction; the count needs the base bed count.")

    def base_count(self, beds: float | None) -> float | None:
        """Base-year nursing beds: the count, or the share × beds; None if unknown."""
        if self.base_total() is not None:
            return self.base_total()
        if self.base_share_nursing is not None and beds is not None:
            return self.base_share_nursing * beds
        return None


class ChildcarePlaceSupply(_ServiceSupply):
    """Childcare places for children under 3 (托位)."""

    allowed_kinds: ClassVar[tuple[str, ...]] = ("count", "per_1000_population",
                                                "coverage_under3")
    rate_fields: ClassVar[tuple[str, ...]] = ("base_supply_per_1000_population",)

    base_supply_per_1000_population: float | None = Field(
        default=None, ge=0, le=1000,
        description="Base supply stated as 托位 per 1,000 residents; the count is derived "
                    "from the base-year (census) total population.")

    def base_count(self, population_total: float) -> float | None:
        """Base-year places: the count, or the rate × total population / 1,000; None if
        unknown."""
        if self.base_total() is not None:
            return self.base_total()
        if self.base_supply_per_1000_population is not None:
            return count_from_rate(self.base_supply_per_1000_population, population_total)
        return None


class Supply(StrictModel):
    """The plan's supply by service; an absent service has no stated supply or target."""

    elderly_beds: ElderlyBedSupply | None = Field(default=None,
                                                  description="Elderly-care beds (养老床位).")
    nursing_beds: NursingBedSupply | None = Field(default=None,
                                                  description="Nursing-type beds (护理型床位).")
    childcare_places: ChildcarePlaceSupply | None = Field(
        default=None, description="Childcare places for under-3s (托位).")

    def services(self) -> dict[str, _ServiceSupply]:
        """The services present, by name."""
        return {name: getattr(self, name) for name in type(self).model_fields
                if getattr(self, name) is not None}


class Expectation(StrictModel):
    """A population figure the document itself states or expects (checked against the
    projection)."""

    year: int = Field(description="Year the figure refers to (end of year = that year).")
    indicator: Indicator = Field(
        description="'pop_total', 'pop_60plus', 'pop_65plus', 'pop_80plus', 'pop_under3' "
        "(persons), 'births' (births in the year) or 'births_cumulative' (births from "
        "`start_year` to `year` inclusive).")
    value: float = Field(ge=0, le=MAX_PERSONS, description="Persons (or births).")
    relation: Relation = Field(default="equal", description="'equal' for a stated figure, "
                               "'about' for 左右/约, 'at_least', 'at_most'.")
    start_year: int | None = Field(default=None, description="First year of a cumulative "
                                   "indicator (births_cumulative only).")
    source: Citation = Field(description="Document plus the quoted phrase.")
    note: str | None = Field(default=None, description="How the statement was interpreted.")
    note_zh: str | None = Field(default=None, description=NOTE_ZH_DESCRIPTION)

    @model_validator(mode="after")
    def _period(self) -> Expectation:
        if self.indicator == "births_cumulative":
            if self.start_year is None:
                raise _rule_error("births_cumulative needs `start_year`", "start_year")
            if self.start_year > self.year:
                raise _rule_error(f"start_year {self.start_year} is after year {self.year}",
                                  "start_year")
        elif self.start_year is not None:
            raise _rule_error("`start_year` is used only with births_cumulative", "start_year")
        _check_note_zh(self)
        return self


class PlanRate(StrictModel):
    """One money, land or group norm a plan states, quoted."""

    value: float = Field(ge=0, le=1e12, description="Yuan, m² per resident, 托位 per 1,000 "
                         "residents or a share (fraction), as the field's name says.")
    source: Citation = Field(description="Document plus the quoted phrase.")
    note: str | None = Field(default=None, description="How the statement was read.")


def _rate(description: str) -> Any:
    return Field(default=None, description=description)


class Planning(StrictModel):
    """The plan's own rates for money, land and priority groups (issue 12); each is quoted
    from the document. An absent field: the plan states none."""

    subsidy_per_new_bed_yuan: PlanRate | None = _rate(
        "One-off subsidy per new elderly-care bed, yuan.")
    operating_subsidy_per_bed_month_yuan: PlanRate | None = _rate(
        "Operating subsidy per occupied bed and month, yuan.")
    operating_subsidy_min_occupancy: PlanRate | None = _rate(
        "Occupancy from which the operating subsidy is paid, fraction.")
    subsidy_per_new_place_yuan: PlanRate | None = _rate(
        "Subsidy per new 普惠 托位 paid by the plan's government, yuan.")
    central_subsidy_per_new_place_yuan: PlanRate | None = _rate(
        "Central-government subsidy per new 托位 the plan names, yuan.")
    budget_elderly_yuan_per_year: PlanRate | None = _rate(
        "Annual elderly-care budget, yuan (at least).")
    budget_childcare_yuan_per_year: PlanRate | None = _rate(
        "Annual childcare budget, yuan (at least).")
    land_elderly_m2_per_resident: PlanRate | None = _rate(
        "Elderly-facility land per resident, m² (at least).")
    places_per_1000_new_residential: PlanRate | None = _rate(
        "托位 per 1,000 residents of new residential areas (at least).")
    places_per_1000_old_residential: PlanRate | None = _rate(
        "托位 per 1,000 residents of old and built residential areas (at least).")
    tekun_centralised_share: PlanRate | None = _rate(
        "Target share of 特困 persons (unable to care for themselves) in centralised "
        "support, fraction.")

    @model_validator(mode="after")
    def _fractions(self) -> Planning:
        for name in ("operating_subsidy_min_occupancy", "tekun_centralised_share"):
            rate = getattr(self, name)
            if rate is not None and rate.value > 1:
                raise _rule_error(f"{rate.value:g} is not a fraction (0–1)", f"{name}.value")
        return self


_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


class Config(StrictModel):
    """One run: a jurisdiction, its plan, the projection and the scenarios."""

    name: str = Field(default="config", description="Run name = the config file's stem (set by "
                      "load_config; not written in the YAML). Outputs go to outputs/<name>/.",
                      pattern=r"^[^/\\]+$")
    jurisdiction: Jurisdiction = Field(description="The place projected.")
    source_document: SourceDocument | None = Field(
        default=None, description="The plan document the targets come from. Absent (e.g. a "
        "config from `forecast init`): no plan is checked and the outputs say the plan's "
        "figures are absent; every citation then names its own `document`.")
    projection: Projection = Field(default_factory=Projection,
                                   description="Horizon and timing.")
    assumptions: Assumptions = Field(default_factory=Assumptions,
                                     description="Overrides of the default projection inputs.")
    demand: Demand = Field(default_factory=Demand,
                           description="Overrides of the demand parameters shipped in "
                           "data/care_parameters.csv.")
    supply: Supply = Field(default_factory=Supply,
                           description="Base-year supply, additions and targets by service.")
    planning: Planning = Field(default_factory=Planning,
                               description="The plan's own money, land and group norms.")
    expectations: list[Expectation] = Field(default_factory=list,
                                            description="The document's own population "
                                            "figures.")
    uncertainty: Uncertainty = Field(default_factory=Uncertainty,
                                     description="Distributions for probabilistic runs "
                                     "(`forecast run --trajectories N`).")
    scenarios: dict[str, dict[str, Any] | None] = Field(
        default_factory=lambda: {BASELINE: {}},
        description="Scenario name → overlay on the baseline (nested mapping or dotted keys, "
        "e.g. 'assumptions.fertility.tfr: 1.2'). 'baseline' always exists and is empty.")

    _source_path: Path | None = PrivateAttr(default=None)
    _yaml_root: Any = PrivateAttr(default=None)

    def where(self, *key_path: str | int) -> str:
        """'FILE: line N: a.b' for a key of the config file, to name in an error found after
        loading (e.g. a census code with no census unit)."""
        from forecast.config.loading import _line_of  # the loader's line finder

        parts = [str(self._source_path or self.name)]
        if self._yaml_root is not None:
            parts.append(f"line {_line_of(self._yaml_root, key_path)}")
        parts.append(_dotted(key_path))
        return ": ".join(parts)

    @field_validator("scenarios")
    @classmethod
    def _scenario_names(cls, value: dict[str, dict[str, Any] | None]) -> dict[str, dict]:
        cleaned: dict[str, dict[str, Any]] = {BASELINE: {}}
        for name, overlay in value.items():
            if not _SCENARIO_NAME.match(str(name)):
                raise _rule_error(f"scenario name {name!r} may hold only letters, digits, '_' "
                                  "and '-' (it names an output folder)", str(name))
            if name == BASELINE and overlay:
                raise _rule_error("'baseline' is the config itself and must be empty; put "
                                  "baseline values in the main sections", BASELINE)
            cleaned[str(name)] = dict(overlay or {})
        return cleaned

    @model_validator(mode="after")
    def _citations_name_a_document(self) -> Config:
        """Without `source_document` a citation has no default document: it names its own."""
        if self.source_document is not None:
            return self
        cited: list[tuple[str, Citation | None]] = []
        for service, section in self.supply.services().items():
            cited.append((f"supply.{service}.base_source", section.base_source))
            cited += [(f"supply.{service}.base_components.{i}.source", part.source)
                      for i, part in enumerate(section.base_components)]
            cited += [(f"supply.{service}.additions.{i}.source", item.source)
                      for i, item in enumerate(section.additions)]
            cited += [(f"supply.{service}.targets.{i}.source", item.source)
                      for i, item in enumerate(section.targets)]
        cited += [(f"expectations.{i}.source", item.source)
                  for i, item in enumerate(self.expectations)]
        for path, citation in cited:
            if citation is not None and not citation.document:
                raise _rule_error("the config names no `source_document`, so this source "
                                  "must name its own `document`; or add `source_document:`",
                                  f"{path}.document")
        return self

    @model_validator(mode="after")
    def _within_horizon(self) -> Config:
        first, last = self.projection.base_year, self.projection.end_year
        for path, year in self._dated_years():
            if not first <= year <= last:
                raise _rule_error(f"year {year} is outside the projection {first}–{last}; "
                                  "change projection.end_year or the year", path)
        return self

    def _dated_years(self) -> list[tuple[str, int]]:
        dated: list[tuple[str, int]] = []
        for service, supply in self.supply.services().items():
            prefix = f"supply.{service}"
            if supply.base_year is not None:
                dated.append((f"{prefix}.base_year", supply.base_year))
            for i, addition in enumerate(supply.additions):
                dated.append((f"{prefix}.additions.{i}.start_year", addition.start_year))
                dated.append((f"{prefix}.additions.{i}.end_year", addition.end_year))
            for i, target in enumerate(supply.targets):
                dated.append((f"{prefix}.targets.{i}.year", target.year))
        for i, expectation in enumerate(self.expectations):
            if expectation.start_year is not None:
                dated.append((f"expectations.{i}.start_year", expectation.start_year))
            dated.append((f"expectations.{i}.year", expectation.year))
        return dated

    def scenario_names(self) -> list[str]:
        """'baseline' first, then the other scenarios in file order."""
        return list(self.scenarios)

    def scenario(self, name: str) -> Config:
        """The config with scenario ``name``'s overlay applied (its own scenarios reduced to
        the baseline)."""
        if name not in self.scenarios:
            raise ConfigError(f"unknown scenario {name!r}{_suggest(name, self.scenarios)}",
                              path=self._source_path or self.name)
        from forecast.config.overlay import apply_overlay  # overlays build on this model

        base = self.model_dump(exclude={"scenarios"})
        result = apply_overlay(base, self.scenarios[name])
        result._source_path = self._source_path
        return result

    def resolve_path(self, relative: str) -> Path:
        """A path written in the config, resolved against the config file's folder."""
        path = Path(relative)
        if path.is_absolute() or self._source_path is None:
            return path
        return self._source_path.parent / path
