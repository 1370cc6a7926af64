"""The Chinese report's notes (forecast.presentation.labels.translate): the run's own phrases in
Chinese, a
config label glossed in Chinese shown as its gloss, and an English sentence never shown."""

from forecast.presentation.labels import UNTRANSLATED, translate


def test_supply_basis_with_glossed_labels_reads_in_chinese():
    basis = ("base 2020: nested reading: all elderly-care institutions and facilities "
             "(各类养老服务机构及设施): 13,483 (001.txt, “共设置养老床位13483张”); "
             "beds in community facilities (居家养老服务中心/农村互助养老服务站): 5,710")
    assert translate(basis) == (
        "2020年基期：嵌套解读：各类养老服务机构及设施: 13,483 (001.txt, “共设置养老床位13483张”); "
        "居家养老服务中心/农村互助养老服务站: 5,710")
    assert translate(basis, "en") == basis


def test_an_english_sentence_is_not_shown_in_the_chinese_report():
    assert translate("The plan states no base-year count of nursing beds.") == UNTRANSLATED


def test_a_config_note_reads_as_the_chinese_text_the_config_gives_it():
    """A config's `note_zh` (manifest notes_zh) replaces its English note, alone or inside a
    sentence of the tool's ("base supply unknown: <note>" in assumptions.csv)."""
    note = "The plan states no 托位 count, and no 托位 target of its own."
    notes_zh = {note: "规划未给出托位数量，也未给出本地托位目标。"}
    assert translate(f"base supply unknown: {note}", "zh", notes_zh) == (
        "基期供给未知：规划未给出托位数量，也未给出本地托位目标。")
    assert translate(note, "zh", notes_zh) == notes_zh[note]
    assert translate(note, "zh") == UNTRANSLATED
    assert translate(note, "en", notes_zh) == note


def test_provenance_figures_read_by_name_in_chinese():
    """The detail column's ``key: value`` pairs read as Chinese names
    (labels.DETAIL_KEY_NAMES_ZH), before the phrases, so ``total_persons`` is not half
    translated; a key without a name stays as it is."""
    from forecast.presentation.labels import translate

    text = ("tfr_base: 1.613; registered_cbr: 8.14; total_persons: 4478422; "
            "schedule: WPP abridged mx by period graduated to single years, log-linear in time")
    assert translate(text, "zh") == ("基期总和生育率：1.613; 登记出生率（‰）：8.14; 总人口（人）："
                                     "4478422; 死亡率表：WPP分时期简略死亡率拆分为单岁组，"
                                     "随时间对数线性插值")
    assert translate("some_new_key: 3", "zh") == "some_new_key: 3"
    assert translate(text, "en") == text


def test_nested_provenance_is_spread_into_pairs():
    """A unit's birth level (a nested record) gives its own ``key: value`` pairs in
    assumptions.csv, not a Python dict, and a key already given is not repeated."""
    from forecast.pipeline.run import _detail_items

    record = {"method": "m", "source": "s", "tfr_base": 1.6, "path_factor": {2025: 0.9},
              "birth_level": {"registered_cbr": 8.14, "registered_cbr_year": 2022},
              "registered_cbr_year": 2022}
    assert _detail_items(record) == [("tfr_base", 1.6), ("registered_cbr", 8.14),
                                     ("registered_cbr_year", 2022)]


def test_unsourced_parameters_named_in_chinese():
    """The verdicts' unsourced parameters (gaps.csv rests_on_assumptions) by name in Chinese,
    as keys in English."""
    from forecast.presentation.labels import assumption_keys_text

    keys = "severe_disability_*; u_severe/u_moderate ratio; supply: the plan's target assumed met"
    assert assumption_keys_text(keys, "zh") == (
        "分年龄重度失能率；重度与中轻度失能老人入住机构比例之比；供给：假定规划目标达成")
    assert assumption_keys_text(keys, "en").startswith("severe_disability_*; u_severe/")
