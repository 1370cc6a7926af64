"""`forecast run` on the real seed configs: numbers in the outputs against the census and the
seed documents, and bad input failing cleanly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image

from forecast.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def honghe(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "honghe"
    result = run("run", CONFIGS / "honghe.yaml", "--out", out, "--scenario", "baseline")
    assert result.exit_code == 0, result.output
    return out, result.output


def baseline(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame.scenario == "baseline"]


def test_base_year_equals_the_census(honghe):
    """Honghe 2020 census: 4,478,422 persons, 668,603 aged 60+ (seed 001: 66.86万)."""
    out, _ = honghe
    summary = baseline(pd.read_csv(out / "summary.csv")).set_index("year")
    assert summary.loc[2020, "total"] == pytest.approx(4_478_422, abs=0.5)
    assert summary.loc[2020, "pop_60plus"] == pytest.approx(668_603, abs=0.5)
    assert list(summary.index) == list(range(2020, 2036))
    population = baseline(pd.read_csv(out / "population.csv"))
    assert population[population.year == 2020].population.sum() == pytest.approx(4_478_422,
                                                                                  abs=0.5)


def test_supply_and_demand_follow_the_document(honghe):
    """Seed 001 read as nested (the baseline): 13,483 beds at the end of 2020, 5,710 of them in
    community facilities (7,773 institutional), +3,000 普惠 beds 2021-2025; the norm of 35 beds
    per 1,000 aged 60+ gives 23,401 beds in 2020 against all 13,483 beds, the needs method is
    compared with the 7,773 institutional beds."""
    out, _ = honghe
    gaps = baseline(pd.read_csv(out / "gaps.csv"))
    beds = gaps[(gaps.service == "elderly_beds") & (gaps.method == "norm")].set_index("year")
    assert beds.loc[2020, "supply"] == pytest.approx(13_483)
    assert beds.loc[2025, "supply"] == pytest.approx(16_483)
    assert (beds.supply_scope == "total").all()
    assert beds.loc[2020, "demand"] == pytest.approx(35 * 668_603 / 1000)
    assert beds.loc[2020, "gap"] == pytest.approx(13_483 - 35 * 668_603 / 1000)
    needs = gaps[(gaps.service == "elderly_beds") & (gaps.method == "needs")].set_index("year")
    assert needs.loc[2020, "supply"] == pytest.approx(7_773)
    assert needs.loc[2020, "supply_scope"] == "institutional"
    assert beds.loc[2020, "status"] == "short"
    shortfall = baseline(pd.read_csv(out / "first_shortfall.csv"))
    norm = shortfall[(shortfall.service == "elderly_beds") & (shortfall.method == "norm")]
    assert int(norm.first_shortfall_year.iloc[0]) == 2020
    # 托位: the document states no count, so supply is unknown and said so
    places = gaps[gaps.service == "childcare_places"]
    assert (places.status == "unknown").all()


def test_document_expectation_reported_beside_projection(honghe):
    """Seed 001 expects 'about 71万' aged 60+ in 2025; the projection is reported beside it."""
    out, _ = honghe
    expectations = pd.read_csv(out / "expectations.csv")
    row = expectations[(expectations.year == 2025) & (expectations.indicator == "pop_60plus")]
    assert row.document_value.iloc[0] == 710_000
    summary = baseline(pd.read_csv(out / "summary.csv")).set_index("year")
    assert row.projected_baseline.iloc[0] == pytest.approx(summary.loc[2025, "pop_60plus"])


def test_workbook_manifest_and_charts(honghe):
    out, output = honghe
    workbook = load_workbook(out / "results.xlsx")
    assert {"summary", "gaps", "demand", "population", "assumptions"} <= set(workbook.sheetnames)
    sheet = workbook["summary"]
    assert sheet.freeze_panes == "A2"
    assert sheet["B1"].value == "年份 year"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["config"]["sha256"]) == 64
    assert manifest["provenance"]["base_population"]["total_persons"] == 4_478_422
    assert any(not a["sourced"] for a in manifest["assumptions"])  # assumptions are labelled
    for stem in ("pyramid", "elderly_trends", "under3_trend", "bed_demand", "childcare_demand"):
        png = out / "charts" / f"{stem}.png"
        assert png.exists() and (out / "charts" / f"{stem}.svg").exists()
        assert round(Image.open(png).info["dpi"][0]) == 200
    assert "2025" in output and "2030" in output and "2035" in output
    assert "养老床位" in output and "首个短缺年份" in output  # Chinese terminal by default


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lincang", "qinghai", "banan", "wanyuan"])
def test_every_seed_config_runs(tmp_path, name):
    """All five configs run; base-year figures equal the census and the stated supply."""
    census_60plus = {"lincang": 338_086, "qinghai": 719_402, "banan": 257_338,
                     "wanyuan": 85_594}
    result = run("run", CONFIGS / f"{name}.yaml", "--out", tmp_path / name, "--scenario",
                 "baseline")
    assert result.exit_code == 0, result.output
    summary = baseline(pd.read_csv(tmp_path / name / "summary.csv")).set_index("year")
    assert summary.loc[2020, "pop_60plus"] == pytest.approx(census_60plus[name], abs=0.5)
    if name == "banan":
        gaps = baseline(pd.read_csv(tmp_path / name / "gaps.csv"))
        places = gaps[gaps.service == "childcare_places"].set_index(["method", "year"])
        # seed 003: 0.86 托位 per 1,000 in 2020, on the census population
        assert places.loc[("norm", 2020), "supply"] == pytest.approx(0.86 * 1_178_856 / 1000)
        targets = pd.read_csv(tmp_path / name / "targets.csv")
        beds = targets[targets.service == "elderly_beds"].iloc[0]
        # seed 003: 12,000 beds = 46.6 per 1,000 of the 2020 population aged 60+
        assert beds.per_1000_elderly_at_base_year == pytest.approx(12_000 / 257_338 * 1000)


@pytest.fixture()
def config_copy(tmp_path):
    target = tmp_path / "honghe.yaml"
    shutil.copy(CONFIGS / "honghe.yaml", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BAD = {
    "yaml syntax": (lambda p: _edit(p, "  end_year: 2035", "  end_year: [2035"), "line"),
    "unknown key": (lambda p: _edit(p, "  end_year: 2035", "  end_yeer: 2035"),
                    "did you mean 'end_year'"),
    "wrong type": (lambda p: _edit(p, "  end_year: 2035", "  end_year: soon"), "end_year"),
    "target outside projection": (lambda p: _edit(p, "  end_year: 2035", "  end_year: 2024"),
                                  "outside the projection"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_config_one_line_exit_2_outputs_untouched(config_copy, tmp_path, case):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("earlier run\n")
    BAD[case][0](config_copy)
    result = run("run", config_copy, "--out", out)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "honghe.yaml" in lines[0] and BAD[case][1] in lines[0], lines[0]
    assert (out / "summary.csv").read_text() == "earlier run\n"


def test_missing_config_and_unwritable_output(tmp_path):
    result = run("run", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "nope.yaml" in result.output
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = run("run", CONFIGS / "wanyuan.yaml", "--out", blocker / "out", "--scenario",
                 "baseline")
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "out" in result.output


def test_missing_data_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "empty"))
    result = run("run", CONFIGS / "wanyuan.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "FORECAST_DATA_DIR" in lines[0], result.output
