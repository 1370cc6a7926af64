"""`forecast batch`: every unit of a prefecture in chunks, in process and on a dask cluster.

Identities checked: a unit's row of the batch equals a single-unit `forecast run` of that unit
with default inputs (summary and demand, exactly, and the trajectory quantiles of
`run --trajectories` with the same seed); the chunking and the scheduler do not change a byte;
gap = national target − demand with the target 35 beds per 1,000 aged 60+ (E1, data/
care_parameters.csv); a failing unit is named and the others are kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import main
from forecast.config import Config
from forecast.pipeline import batch
from forecast.pipeline.run import run
from forecast.pipeline.uncertainty import QUANTILE_COLUMNS, run_uncertainty

HONGHE = "532500"  # 13 counties
SAMPLE = ("532501", "532531")  # 个旧市, 绿春县
N_TRAJECTORIES = 20
SEED = 7


def _read(path):
    return pd.read_csv(path, dtype={"unit_id": str, "parent_id": str})


@pytest.fixture(scope="module")
def honghe():
    return batch.select_units(HONGHE, "county")


@pytest.fixture(scope="module")
def in_process(tmp_path_factory, honghe):
    """The Honghe batch with trajectories, in process, default chunks."""
    out = tmp_path_factory.mktemp("batch") / "in-process"
    settings = batch.BatchSettings(end_year=2035, trajectories=N_TRAJECTORIES, seed=SEED)
    result = batch.write_batch(honghe, settings, out, chunk_size=4)
    return out, result


def _single_run(code: str):
    config = Config.model_validate({
        "jurisdiction": {"code": code, "name": code, "name_en": code},
        "projection": {"end_year": 2035}})
    return run(config)


def test_selection_is_the_prefectures_counties(honghe):
    assert len(honghe.units) == 13
    assert {u.prefecture for u in honghe.units} == {"红河哈尼族彝族自治州"}
    assert set(honghe.parent_ids) == {HONGHE}
    assert all(u.level == "county" for u in honghe.units)


def test_batch_equals_single_unit_runs(in_process):
    out, result = in_process
    assert result.failures == []
    units = _read(out / "units.csv")
    assert units.groupby("unit_id").size().eq(16).all() and units.unit_id.nunique() == 13
    for code in SAMPLE:
        single = _single_run(code)
        rows = units[units.unit_id == code].set_index("year")
        summary = single.summary.drop(columns="scenario").set_index("year")
        np.testing.assert_allclose(rows[summary.columns].to_numpy(float),
                                   summary.to_numpy(float), rtol=1e-12, equal_nan=True)
        demand = single.demand[single.demand.service != "driver"]
        for (service, method), group in demand.groupby(["service", "method"], observed=True):
            np.testing.assert_allclose(rows[f"{service}_{method}"].to_numpy(),
                                       group.set_index("year")["value"].to_numpy(), rtol=1e-12)


def test_trajectory_quantiles_equal_a_single_units_probabilistic_run(in_process):
    out, _ = in_process
    quantiles = _read(out / "units_quantiles.csv")
    code = SAMPLE[1]
    single = _single_run(code)
    expected = run_uncertainty(single, N_TRAJECTORIES, SEED).summary_quantiles
    got = quantiles[quantiles.unit_id == code]
    merged = expected.merge(got, on=["year", "indicator"], suffixes=("_run", "_batch"))
    assert len(merged) == len(expected) == 16 * 15
    for column in QUANTILE_COLUMNS:
        np.testing.assert_allclose(merged[f"{column}_batch"], merged[f"{column}_run"],
                                   rtol=1e-12, equal_nan=True)


def test_probabilities_are_shares_and_base_year_quantiles_collapse(in_process):
    out, _ = in_process
    q = _read(out / "units_quantiles.csv").dropna(subset=["q50"])
    # (what each quantile column holds: test_uncertainty.py, test_quantile_columns_are_*)
    gaps = q[q.indicator.str.endswith("_gap")]
    assert gaps.probability_met.between(0, 1).all()
    assert q[~q.indicator.str.endswith("_gap")].probability_met.isna().all()
    # every trajectory starts from the census: base-year quantiles collapse
    base = q[(q.year == 2020) & (q.indicator == "total")]
    assert (base.q025 == base.q975).all()


def test_gap_is_national_target_minus_demand(in_process):
    out, _ = in_process
    units = _read(out / "units.csv")
    norm = float(batch.national_targets(2020, 2035)[0].value)
    assert norm == 35.0  # E1: 35 beds per 1,000 aged 60+
    np.testing.assert_allclose(units.elderly_beds_national_target,
                               norm * units.pop_60plus / 1000, rtol=1e-12)
    np.testing.assert_allclose(units.elderly_beds_needs_gap,
                               units.elderly_beds_national_target - units.elderly_beds_needs,
                               rtol=1e-9)
    # 托位: 4.5 per 1,000 population from 2025 (C1), nothing before
    assert units.loc[units.year < 2025, "childcare_places_national_target"].isna().all()
    later = units[units.year >= 2025]
    np.testing.assert_allclose(later.childcare_places_national_target, 4.5 * later.total / 1000,
                               rtol=1e-12)


def test_two_worker_cluster_gives_the_same_bytes(tmp_path, honghe, in_process):
    distributed = pytest.importorskip("distributed")
    out, _ = in_process
    settings = batch.BatchSettings(end_year=2035, trajectories=N_TRAJECTORIES, seed=SEED)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = batch.write_batch(honghe, settings, tmp_path / "cluster",
                                   scheduler=cluster.scheduler_address, chunk_size=3)
    assert "2 worker threads" in result.scheduler and result.n_chunks == 5
    for name in ("units.csv", "units_quantiles.csv"):
        assert (tmp_path / "cluster" / name).read_bytes() == (out / name).read_bytes()


def test_a_failing_unit_is_named_and_the_others_kept(tmp_path, monkeypatch, honghe):
    original = batch.deterministic_rows

    def failing(units, settings):
        if any(u.unit_id == "532523" for u in units):
            raise ZeroDivisionError("injected failure")
        return original(units, settings)

    monkeypatch.setattr(batch, "deterministic_rows", failing)
    runner = CliRunner()
    result = runner.invoke(main, ["batch", "--within", HONGHE, "--end-year", "2025",
                                  "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "屏边苗族自治县 (532523) failed: ZeroDivisionError: injected failure" in result.output
    units = _read(tmp_path / "out" / "units.csv")
    assert units.unit_id.nunique() == 12 and "532523" not in set(units.unit_id)
    failures = pd.read_csv(tmp_path / "out" / "failures.csv", dtype=str)
    assert failures.name.tolist() == ["屏边苗族自治县"]


@pytest.mark.parametrize("args, field", [
    (["--out", "{out}"], "--within/--all"),
    (["--all", "--within", HONGHE, "--out", "{out}"], "--within/--all"),
    (["--within", "没有这个县", "--out", "{out}"], "no census unit"),
    (["--within", "532501", "--out", "{out}"], "--within"),
    (["--within", HONGHE, "--workers", "2", "--out", "{out}"], "--workers"),
    (["--within", HONGHE, "--scheduler", "local2", "--out", "{out}"],
     "--scheduler"),
    (["--within", HONGHE, "--end-year", "2019", "--out", "{out}"], "--end-year"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, field):
    out = tmp_path / "out"  # a new folder: the option, not the output guard, is at fault
    (tmp_path / "mine.txt").write_text("a user's file")
    result = CliRunner().invoke(main, ["batch", *[a.format(out=out) for a in args]])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0]
    assert (tmp_path / "mine.txt").read_text() == "a user's file"
    assert not out.exists()  # nothing half-written


def test_batch_refuses_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("a user's file")
    result = CliRunner().invoke(main, ["batch", "--within", HONGHE, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "not an earlier output" in result.output
    assert (out / "mine.txt").read_text() == "a user's file"


def test_workbook_charts_map_and_report(in_process):
    import json

    from openpyxl import load_workbook

    out, result = in_process
    workbook = load_workbook(out / "results.xlsx", read_only=True)
    assert workbook.sheetnames == ["units", "quantiles", "national_targets"]
    header = next(workbook["units"].iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("单元代码 unit_id", "名称 name", "层级 level")
    assert "养老床位失能需求法缺口 elderly_beds_needs_gap" in header
    years = {row[4] for row in workbook["units"].iter_rows(min_row=2, values_only=True)}
    assert years == {2020, 2025, 2030, 2035}
    stems = ["rank_elderly_beds_per_1000", "rank_childcare_per_1000", "rank_share_60plus",
             "rank_population_change"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    if manifest["map"]["written"]:
        stems.append("map_share_60plus")
        assert manifest["map"]["units_without_boundary"] == 0
    for stem in stems:
        for extension in ("png", "svg"):
            assert (out / "charts" / f"{stem}.{extension}").stat().st_size > 10_000
    assert set(manifest["outputs"]) == {str(p.relative_to(out)) for p in out.rglob("*")
                                        if p.is_file() and p.name != ".forecast-output.json"}
    assert (out / ".forecast-output.json").is_file()  # the output guard's marker
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    units = _read(out / "units.csv")
    for name in units.name.unique():  # 13 units: all in the table
        assert f"<td class=\"nowrap\">{name}</td>" in page
    end = units[units.year == 2035]
    need = f"{end.elderly_beds_needs.sum():,.0f}"
    assert f"需养老床位{need}张" in page


def test_array_gaps_equal_supply_gaps_exactly(honghe):
    """The batch's demand, national targets and gaps as arrays (gap_arrays) are the numbers
    of forecast.care.supply.gaps on the long demand table, to the last bit: target − demand with
    E1 35 beds per 1,000 aged 60+, nursing the share target × the institutional part (E12) of
    that from 2025, 托位 4.5 per 1,000 from 2025."""
    settings = batch.BatchSettings(end_year=2030)
    units = honghe.units[:3]
    rows, _ = batch.deterministic_rows(units, settings)
    _, _, table, _ = batch.unit_projections(units, settings)  # through supply.gaps
    table = table.assign(column=table["service"] + "_" + table["method"])
    for column in batch.DEMAND_COLUMNS:
        block = table[table.column == column].set_index(["unit_id", "year"])
        got = rows.set_index(["unit_id", "year"]).loc[block.index]
        np.testing.assert_array_equal(got[column].to_numpy(), block["demand"].to_numpy())
        np.testing.assert_array_equal(got[f"{column}_gap"].to_numpy(),
                                      block["plan_target_gap"].to_numpy())
        service = next(s for s in batch.SERVICES if column.startswith(s))
        np.testing.assert_array_equal(got[f"{service}_national_target"].to_numpy(),
                                      block["plan_target"].to_numpy())
    assert rows["nursing_beds_national_target"].notna().sum() == 3 * 6  # 2025-2030


def test_trajectory_arrays_equal_the_stacked_projection_exactly(honghe):
    """Reducing each year as the engine steps (trajectory_arrays) gives the numbers of the
    whole projection (project_trajectories), summary_arrays, trajectory_demand and
    supply.gaps, bit for bit, for every trajectory and year."""
    from forecast.care.demand import ChildcareParameters, ElderlyCareParameters, drivers_from_demand
    from forecast.care.supply import gaps
    from forecast.pipeline.scenarios import ScenarioInputs
    from forecast.pipeline.uncertainty import (
        project_trajectories,
        summary_arrays,
        trajectory_demand,
    )

    settings = batch.BatchSettings(end_year=2030, trajectories=N_TRAJECTORIES, seed=SEED)
    _, defaults = batch.deterministic_rows(honghe.units[:2], settings)
    s = defaults.settings
    draws = batch._draws(settings, len(s.step_years))
    inputs = ScenarioInputs(name="baseline", years=s.years, step_years=s.step_years,
                            population=defaults.population[1], mx=defaults.mx[1],
                            asfr=defaults.asfr[1], srb=defaults.srb[1],
                            net_migrants=defaults.net_migrants[1])
    got = batch.trajectory_arrays(inputs, draws, s.migration_timing, settings)
    projection = project_trajectories(inputs, draws, s.migration_timing)
    for name, values in summary_arrays(projection).items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)
    demand = trajectory_demand(projection, s.years, ElderlyCareParameters(),
                               ChildcareParameters(), 2020, draws.disability_trend)
    table = gaps(demand, batch.NO_SUPPLY, batch.national_targets(2020, 2030),
                 drivers_from_demand(demand))
    table = table.assign(column=table["service"] + "_" + table["method"])
    n_years = len(s.years)
    for column in batch.DEMAND_COLUMNS:
        block = table[table.column == column].sort_values(["trajectory", "year"])
        for value, name in (("demand", column), ("plan_target_gap", f"{column}_gap")):
            expected = block[value].to_numpy().reshape(N_TRAJECTORIES, n_years).T
            np.testing.assert_array_equal(got[name], expected, err_msg=name)


def test_local_cluster_of_two_processes_gives_the_same_bytes(tmp_path, honghe):
    """--scheduler local: two spawned worker processes (not threads), chunks of 5 units."""
    pytest.importorskip("distributed")
    settings = batch.BatchSettings(end_year=2025)
    for name, scheduler, workers in (("none", "none", None), ("local", "local", 2)):
        (tmp_path / name).mkdir()
        result = batch.compute_batch(honghe, settings, tmp_path / name, scheduler=scheduler,
                                     workers=workers, chunk_size=5)
        assert result.failures == [] and result.n_chunks == 3
    assert "2 worker processes" in result.scheduler
    assert (tmp_path / "local" / "units.csv").read_bytes() == \
        (tmp_path / "none" / "units.csv").read_bytes()


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    """On a TTY the command draws a progress bar over the units on stderr (here a pty)."""
    import os
    import pty
    import sys

    master, slave = pty.openpty()
    terminal = open(slave, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        with pytest.raises(SystemExit) as done:
            batch.batch_command.main(["--within", "532500", "--end-year", "2021",
                                      "--chunk-size", "5", "--out", str(tmp_path / "out")])
        assert done.value.code in (0, None)
        terminal.flush()
        os.set_blocking(master, False)
        shown = b""
        with __import__("contextlib").suppress(BlockingIOError, OSError):
            while chunk := os.read(master, 65536):
                shown += chunk
    finally:
        terminal.close()
        os.close(master)
    text = shown.decode("utf-8", "replace")
    assert "13 units" in text and "100%" in text, text


def test_counties_add_up_to_their_prefecture(honghe, monkeypatch):
    """Issue 14: the counties of a prefecture add up to it (top-down control,
    forecast.defaults.consistency). Honghe's 13 counties and Yunnan's prefectures run as two
    batches in one process, so the second reuses the parents the first kept (batch.PARENTS)
    and must still agree: population (total, 60+, 0-2), births and the norm demand built on
    them to 1e-12, deaths to 1e-4 (one level factor per step and sex, solved numerically).
    The disk cache is off, so the first batch builds the parents and keeps them."""
    monkeypatch.setenv("FORECAST_CACHE_DIR", "off")
    monkeypatch.setattr(batch, "PARENTS", {})
    settings = batch.BatchSettings(end_year=2030)
    counties, _ = batch.deterministic_rows(honghe.units, settings)
    prefectures = batch.select_units("530000", "prefecture")
    rows, _ = batch.deterministic_rows(prefectures.units, settings)
    assert batch.PARENTS  # the parents were kept between the calls
    mine = rows[rows.unit_id == HONGHE].set_index("year")
    columns = ["total", "pop_60plus", "pop_0_2", "births", "elderly_beds_norm",
               "childcare_places_norm"]
    sums = counties.groupby("year")[[*columns, "deaths"]].sum(min_count=1)  # NaN flows in 2020
    for column in columns:
        np.testing.assert_allclose(sums[column], mine[column], rtol=1e-12, err_msg=column)
    np.testing.assert_allclose(sums["deaths"], mine["deaths"], rtol=1e-4, err_msg="deaths")
