"""The default migration path over time (forecast.defaults.assumptions.migration_path_factor): the
2010→2020 census residual converges as WPP 2024's net migration rate for China does, instead of
running at its 2010s level for decades; `assumptions.migration.path: constant` keeps that level.
Each test states the figure or identity it checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.config import Assumptions
from forecast.defaults import census
from forecast.defaults.assumptions import build_defaults
from forecast.defaults.migration import migration_path_factor
from forecast.paths import data_dir
from forecast.pipeline.scenarios import apply_assumptions

UNITS = ("530900", "500113")  # 临沧市 (net out-migration), 巴南区 (net in-migration)


@pytest.fixture(scope="module")
def defaults():
    return build_defaults([census.resolve_unit(code) for code in UNITS], 2020, 2050)


def _wpp_rate_from_the_shipped_file() -> pd.Series:
    """China's net migrants per person from data/wpp2024_china_annual.csv, computed here
    independently: net_migration / (births / cbr × 1,000)."""
    frame = pd.read_csv(data_dir() / "wpp2024_china_annual.csv")
    frame = frame[frame.variant.isin(["estimate", "median"])]
    wide = frame.pivot_table(index="year", columns="indicator", values="value")
    return (wide.net_migration / (wide.births / wide.cbr * 1000)).dropna()


def test_factor_is_wpp_china_rate_relative_to_its_2010s_mean():
    """Factor of the step ending in calendar year y = 11-year centred mean of WPP's rate at y
    over the 2010–2019 mean, at most 1; WPP 2024 puts China at about 0.73 of its 2010s level by
    2035 and 0.70 by 2050 (net migration −297 thousand a year in 2010–19, −213 thousand in
    2035, −171 thousand in 2050)."""
    rate = _wpp_rate_from_the_shipped_file()
    smooth = rate.rolling(11, center=True, min_periods=6).mean()
    reference = rate.loc[2010:2019].mean()
    steps = np.arange(2020, 2050)
    factor = migration_path_factor(steps)
    expected = np.minimum(smooth.loc[steps + 1].to_numpy() / reference, 1.0)
    np.testing.assert_allclose(factor, expected, rtol=1e-12)
    assert (factor <= 1.0).all() and factor[0] > 0.95
    assert 0.70 <= factor[steps == 2034][0] <= 0.76
    assert 0.66 <= factor[steps == 2049][0] <= 0.73


def test_default_migrants_follow_the_path(defaults):
    """Net gains are counts: each year's count is the base year's × the path factor ratio
    (Banan's gaining cells), so by 2050 they are about 0.7 of the 2010s' level, not 1."""
    factor = migration_path_factor(np.arange(2020, 2050))
    migrants = defaults.net_migrants[1]  # (T, 2, 101)
    gaining = migrants[0] > 1.0
    assert gaining.sum() > 20
    ratio = migrants[:, gaining] / migrants[0, gaining]
    np.testing.assert_allclose(ratio, np.broadcast_to((factor / factor[0])[:, None],
                                                      ratio.shape), rtol=1e-9)
    assert factor[-1] < 0.75


def test_provenance_records_the_path_with_its_source(defaults):
    record = defaults.provenance[0]["migration"]
    assert record["path"] == "converge"
    assert "World Population Prospects 2024" in record["path_source"]
    assert set(record["path_factor"]) == set(range(2020, 2050))


def test_constant_path_restores_the_2010s_level(defaults):
    """`path: constant` divides the default path out: migrants / factor, so Lincang's net
    losses by 2049 are larger than the converging default's (by 1/factor ≈ 1.4; the factor
    as recorded in the provenance, to 4 decimals)."""
    factor = np.array(list(defaults.provenance[0]["migration"]["path_factor"].values()))
    converge = apply_assumptions(defaults, 0, Assumptions(), "baseline")
    constant = apply_assumptions(defaults, 0, Assumptions(migration={"path": "constant"}),
                                 "constant")
    np.testing.assert_allclose(constant.net_migrants,
                               converge.net_migrants / factor[:, None, None], rtol=1e-12)
    assert constant.net_migrants[-1].sum() < 1.3 * converge.net_migrants[-1].sum() < 0
    assert any("held constant" in note["change"] for note in constant.notes)


def test_path_with_zero_migration_is_a_config_error():
    """`path` shapes the census residual; with mode zero or counts it means nothing."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="path"):
        Assumptions(migration={"mode": "zero", "path": "constant"})
