"""`forecast project` runs the real command on real inputs, and bad inputs fail cleanly:
one line naming the file and the fix, exit code 2, no output directory left behind."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import main


@pytest.fixture()
def kuwait(reference, tmp_path):
    target = tmp_path / "kuwait"
    shutil.copytree(reference / "un-ccmpp" / "kuwait", target)
    return target


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_project_writes_every_year_and_balances(kuwait, tmp_path):
    out = tmp_path / "out"
    result = run("project", kuwait, "--out", out)
    assert result.exit_code == 0, result.output
    population = pd.read_csv(out / "population.csv")
    assert list(population.columns) == ["year", "sex", "age", "population"]
    assert sorted(population.year.unique()) == list(range(1950, 2021))
    assert len(population) == 71 * 2 * 101
    base = pd.read_csv(kuwait / "population.csv")
    assert population[population.year == 1950].population.sum() == pytest.approx(
        base.population.sum())
    births = pd.read_csv(out / "births.csv")
    deaths = pd.read_csv(out / "deaths.csv")
    assert list(births.columns) == ["year", "sex", "mother_age", "births"]
    assert list(deaths.columns) == ["year", "sex", "age", "deaths"]
    assert "balance check" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def _edit(path, transform):
    frame = pd.read_csv(path)
    transform(frame).to_csv(path, index=False)


CASES = {
    "missing file": (lambda d: (d / "fertility.csv").unlink(), "fertility.csv", "not found"),
    "missing column": (lambda d: _edit(d / "population.csv",
                                       lambda f: f.rename(columns={"population": "pop"})),
                       "population.csv", "missing column"),
    "age gap": (lambda d: _edit(d / "population.csv", lambda f: f[f.age != 40]),
                "population.csv", "age 40 is missing"),
    "bad sex": (lambda d: _edit(d / "population.csv",
                                lambda f: f.assign(sex=f.sex.replace("female", "f"))),
                "population.csv", "not male or female"),
    "survival above one": (lambda d: _edit(d / "survival.csv", lambda f: f.assign(
        survival_ratio=f.survival_ratio.where(f.index != 5, 1.2))), "survival.csv", "(0, 1]"),
    "survival zero": (lambda d: _edit(d / "survival.csv", lambda f: f.assign(
        survival_ratio=f.survival_ratio.where(f.index != 7, 0.0))), "survival.csv", "row 9"),
    "negative asfr": (lambda d: _edit(d / "fertility.csv", lambda f: f.assign(
        asfr=f.asfr.where(f.index != 20, -0.1))), "fertility.csv", "out of range"),
    "negative population": (lambda d: _edit(d / "population.csv", lambda f: f.assign(
        population=f.population.where(f.index != 3, -5))), "population.csv", "cannot be negative"),
    "years short": (lambda d: _edit(d / "fertility.csv", lambda f: f[f.year < 2000]),
                    "fertility.csv", "year 2000 is missing"),
    "gbk csv": (lambda d: (d / "srb.csv").write_bytes("year,srb\n1950,1.05 # 出生性别比\n"
                                                      .encode("gbk")), "srb.csv", "GBK"),
    "unknown timing": (lambda d: (d / "settings.yaml").write_text(
        "start_year: 1950\nend_year: 2020\nmigration_timing: middle\n"), "settings.yaml",
        "migration_timing"),
    "unknown setting": (lambda d: (d / "settings.yaml").write_text(
        "start_year: 1950\nend_yaer: 2020\n"), "settings.yaml", "did you mean 'end_year'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_exit_2_and_no_output(kuwait, tmp_path, case):
    break_it, filename, phrase = CASES[case]
    break_it(kuwait)
    out = tmp_path / "out"
    result = run("project", kuwait, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert filename in lines[0] and phrase in lines[0], lines[0]
    assert "fix:" in lines[0] or "did you mean" in lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_failed_run_leaves_earlier_outputs_untouched(kuwait, tmp_path):
    out = tmp_path / "out"
    assert run("project", kuwait, "--out", out).exit_code == 0
    before = (out / "population.csv").read_bytes()
    (kuwait / "fertility.csv").unlink()
    assert run("project", kuwait, "--out", out).exit_code == 2
    assert (out / "population.csv").read_bytes() == before
