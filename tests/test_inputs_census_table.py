"""`forecast inputs --census-table`: a user's own census-style table (Chinese headers, GBK)
becomes the base population; the same numbers as the bundled census give the same inputs."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from forecast.cli import main
from forecast.defaults.census import census_population


def _write_table(path, scale_85plus: float = 1.0) -> None:
    census = census_population("511781")  # 万源市, 2020
    male = census[census.sex == "male"].reset_index(drop=True)
    female = census[census.sex == "female"].reset_index(drop=True)
    lines = ["年龄,男,女,合计"]
    for i in range(len(male)):
        start, end = int(male.age_start[i]), male.age_end[i]
        label = (f"{start}岁及以上" if pd.isna(end) else f"{start}岁" if int(end) == start
                 else f"{start}-{int(end)}岁")
        m = round(male.population[i] * (scale_85plus if pd.isna(end) else 1))
        f = round(female.population[i] * (scale_85plus if pd.isna(end) else 1))
        lines.append(f"{label},{m},{f},{m + f}")
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))


def test_user_table_in_gbk_gives_the_census_base(tmp_path):
    table = tmp_path / "万源.csv"
    _write_table(table)
    runner = CliRunner()
    mine = runner.invoke(main, ["inputs", "万源市", "--out", str(tmp_path / "mine"),
                                "--census-table", str(table)])
    bundled = runner.invoke(main, ["inputs", "万源市", "--out", str(tmp_path / "bundled")])
    assert mine.exit_code == 0 and bundled.exit_code == 0, mine.output + bundled.output
    a = pd.read_csv(tmp_path / "mine" / "population.csv")
    b = pd.read_csv(tmp_path / "bundled" / "population.csv")
    pd.testing.assert_frame_equal(a, b)
    assert abs(a.population.sum() - 406_685) < 1e-6
    assert "user table" in (tmp_path / "mine" / "provenance.yaml").read_text(encoding="utf-8")


def test_user_table_changes_the_base_where_it_differs(tmp_path):
    table = tmp_path / "t.csv"
    _write_table(table, scale_85plus=2.0)
    result = CliRunner().invoke(main, ["inputs", "万源市", "--out", str(tmp_path / "o"),
                                       "--census-table", str(table)])
    assert result.exit_code == 0, result.output
    population = pd.read_csv(tmp_path / "o" / "population.csv")
    census = census_population("511781")
    expected_85 = 2 * census[census.age_end.isna()].population.sum()
    assert abs(population[population.age >= 85].population.sum() - expected_85) <= 2


def test_table_with_a_gap_is_one_line_exit_2(tmp_path):
    table = tmp_path / "gap.csv"
    table.write_text("年龄,男,女\n0岁,10,9\n1-4岁,40,38\n10-14岁,50,45\n15岁及以上,500,480\n",
                     encoding="utf-8")
    result = CliRunner().invoke(main, ["inputs", "万源市", "--out", str(tmp_path / "o"),
                                       "--census-table", str(table)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "gap.csv" in result.output
    assert not (tmp_path / "o").exists()
