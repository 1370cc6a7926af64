"""Bad-input corpus, part 1: `--out` never replaces what it should not (issue 13).

`--out` is written only if it does not exist, is empty, or holds an earlier output of this tool;
never when it is or contains the config's or the inputs' folder. Bad option values give one line,
not click's Usage/Try/Error block. Every case: exit 2, one line on stderr naming the path or the
option, and every protected file byte-identical afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from badinput_helpers import (
    CONFIGS,
    assert_refused,
    invoke,
    make_earlier_output,
    tree_bytes,
)

BANAN = CONFIGS / "banan.yaml"


@pytest.fixture(scope="module")
def inputs_dir(tmp_path_factory) -> Path:
    """A small canonical inputs directory (Banan, 2020-2023) written by `forecast inputs`."""
    out = tmp_path_factory.mktemp("inputs") / "in"
    result = invoke("inputs", "500113", "--out", out, "--end-year", 2023)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture()
def project_folder(tmp_path) -> Path:
    """A user's project folder: configs/banan.yaml, notes and data of their own."""
    folder = tmp_path / "project"
    (folder / "configs").mkdir(parents=True)
    shutil.copy(BANAN, folder / "configs" / "banan.yaml")
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (folder / "data").mkdir()
    (folder / "data" / "mine.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return folder


# ------------------------------------------------------------------ run / compare: --out guard

RUN_OUTS = {
    "dot": ".",                       # the project folder itself (holds configs/)
    "config_folder": "configs",       # the config's own folder
    "config_file": "configs/banan.yaml",
    "parent": "..",                   # an ancestor of the config
    "user_folder": "data",            # a folder of the user's that is no earlier output
    "user_file": "notes.txt",         # a file
}


@pytest.mark.parametrize("command", ["run", "compare"])
@pytest.mark.parametrize("case", sorted(RUN_OUTS))
def test_run_and_compare_refuse_an_out_they_may_not_replace(project_folder, command, case):
    out = RUN_OUTS[case]
    before = tree_bytes(project_folder)
    args = [command, "configs/banan.yaml", "--out", out]
    if command == "run":
        args += ["--scenario", "baseline"]
    result = invoke(*args, cwd=project_folder)
    line = assert_refused(result, out, "--out", protected=[project_folder], before=[before])
    assert "fix:" in line


@pytest.mark.parametrize("command", ["run", "compare"])
def test_default_out_inside_a_user_folder_named_outputs_is_refused(project_folder, command):
    """The default --out (outputs/<name>/) is guarded like any other."""
    user = project_folder / "outputs" / ("banan" if command == "run" else "compare-banan")
    user.mkdir(parents=True)
    (user / "thesis.docx").write_bytes(b"\x00draft")
    before = tree_bytes(project_folder)
    args = [command, "configs/banan.yaml"] + (["--scenario", "baseline"] if command == "run"
                                               else [])
    result = invoke(*args, cwd=project_folder)
    assert_refused(result, str(user.relative_to(project_folder)), "not an earlier output",
                   protected=[project_folder], before=[before])


# ------------------------------------------------------------------ project / inputs: --out guard

@pytest.mark.parametrize("case", ["itself", "parent", "user_folder", "file", "inputs_file"])
def test_project_refuses_an_out_it_may_not_replace(inputs_dir, tmp_path, case):
    copy = tmp_path / "work" / "in"
    shutil.copytree(inputs_dir, copy)
    user = tmp_path / "work" / "mine"
    user.mkdir()
    (user / "keep.txt").write_text("keep", encoding="utf-8")
    out = {"itself": copy, "parent": copy.parent, "user_folder": user,
           "file": user / "keep.txt", "inputs_file": copy / "population.csv"}[case]
    before = tree_bytes(tmp_path / "work")
    result = invoke("project", copy, "--out", out)
    assert_refused(result, str(out), protected=[tmp_path / "work"], before=[before])


@pytest.mark.parametrize("case", ["table_folder", "table_file", "user_folder"])
def test_inputs_refuses_an_out_it_may_not_replace(tmp_path, case):
    folder = tmp_path / "work"
    folder.mkdir()
    table = folder / "census.csv"
    table.write_text("年龄,男,女\n0-84,100,100\n85岁及以上,1,2\n", encoding="utf-8")
    user = folder / "mine"
    user.mkdir()
    (user / "keep.txt").write_text("keep", encoding="utf-8")
    out = {"table_folder": folder, "table_file": table, "user_folder": user}[case]
    before = tree_bytes(folder)
    result = invoke("inputs", "500113", "--out", out, "--census-table", table)
    assert_refused(result, str(out), "--out", protected=[folder], before=[before])


def test_report_refuses_a_folder_that_is_no_run_output(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("manifest.json", "summary.csv", "gaps.csv", "first_shortfall.csv",
                 "assumptions.csv"):
        (folder / name).write_text("{}" if name.endswith(".json") else "a\n1\n",
                                   encoding="utf-8")
    before = tree_bytes(folder)
    result = invoke("report", folder)
    assert_refused(result, str(folder), "forecast run", protected=[folder], before=[before])


# ------------------------------------------------------------------ what may be replaced

def test_project_replaces_an_empty_folder_and_an_earlier_output(inputs_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("project", inputs_dir, "--out", empty).exit_code == 0
    assert (empty / "population.csv").is_file() and (empty / ".forecast-output.json").is_file()
    earlier = make_earlier_output(tmp_path / "earlier")
    result = invoke("project", inputs_dir, "--out", earlier)
    assert result.exit_code == 0, result.output
    assert not (earlier / "summary.csv").exists()  # replaced wholesale, as an earlier output
    # an unmarked `forecast project` output of before the marker: exactly its three files
    legacy = tmp_path / "legacy"
    shutil.copytree(empty, legacy)
    (legacy / ".forecast-output.json").unlink()
    assert invoke("project", inputs_dir, "--out", legacy).exit_code == 0
    # the output it wrote is itself replaceable
    assert invoke("project", inputs_dir, "--out", empty).exit_code == 0


def test_inputs_output_is_marked_and_can_be_replaced(inputs_dir, tmp_path):
    copy = tmp_path / "in"
    shutil.copytree(inputs_dir, copy)
    assert (copy / ".forecast-output.json").is_file()
    result = invoke("inputs", "500113", "--out", copy, "--end-year", 2022)
    assert result.exit_code == 0, result.output
    assert "end_year: 2022" in (copy / "settings.yaml").read_text(encoding="utf-8")


# ------------------------------------------------------------------ click usage errors: one line

USAGE_CASES = [
    (["run", BANAN, "--seed", "-1"], "--seed"),
    (["run", BANAN, "--seed", "x"], "--seed"),
    (["run", BANAN, "--lang", "fr"], "--lang"),
    (["run", BANAN, "--trajectories", "0"], "--trajectories"),
    (["run", BANAN, "--trajectories", "1e9"], "--trajectories"),
    (["run", BANAN, "--scenario"], "--scenario"),
    (["run", BANAN, "--bogus"], "--bogus"),
    (["run"], "CONFIG"),
    (["run", BANAN, "--scenario", "baseline", "--scenario", "baseline"], "--scenario"),
    (["inputs", "500113", "--out", "x", "--end-year", "3000"], "--end-year"),
    (["inputs", "500113", "--out", "x", "--end-year", "2020"], "--end-year"),
    (["inputs", "500113", "--out", "x", "--end-year", "abc"], "--end-year"),
    (["inputs", "500113", "--out", "x", "--base-year", "2015"], "--base-year"),
    (["inputs", "500113"], "--out"),
    (["project", "in"], "--out"),
    (["units", "巴南", "--census-year", "2000"], "--census-year"),
    (["units"], "QUERY"),
    (["compare"], "CONFIG"),
    (["compare", BANAN, "--lang", "de"], "--lang"),
    (["report", "x", "--lang", "xx"], "--lang"),
    (["nosuchcommand"], "nosuchcommand"),
    (["--nosuchoption"], "--nosuchoption"),
]


@pytest.mark.parametrize("args,option", USAGE_CASES,
                         ids=[" ".join(map(str, a[:1] + a[2:])) or a[0] for a, _ in USAGE_CASES])
def test_bad_option_values_give_one_line(tmp_path, args, option):
    earlier = make_earlier_output(tmp_path / "earlier")
    before = tree_bytes(earlier)
    result = invoke(*args, cwd=tmp_path)
    line = assert_refused(result, option, protected=[earlier], before=[before])
    assert "Usage:" not in result.stderr and "Try " not in result.stderr
    assert "fix:" in line
