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
