"""WPP 2024 China readers: published figures and identities.

Published values (shared reference-data/SOURCES.md §1b): TFR 2020 = 1.236, e0 2020 = 78.02,
SRB 2020 = 1.112, births 2020 = 11.84 M, mid-2020 population 1,426.1 M of which 60+ 255.4 M.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.defaults import wpp
from forecast.errors import ForecastError


def test_published_2020_indicators():
    assert round(wpp.wpp_indicator("tfr")[2020], 3) == 1.236
    assert wpp.wpp_indicator("e0_both")[2020] == pytest.approx(78.02, abs=0.005)
    assert wpp.wpp_indicator("srb")[2020] == pytest.approx(1.112, abs=0.0005)
    assert wpp.wpp_indicator("births")[2020] == pytest.approx(11_840, abs=5)  # thousands


def test_annual_series_is_continuous_1950_2100_with_bounds():
    tfr = wpp.wpp_indicator("tfr")
    assert tfr.index.tolist() == list(range(1950, 2101))
    annual = wpp.wpp_annual()
    bounds = annual[(annual["indicator"] == "tfr") & (annual["year"] == 2050)]
    by_variant = bounds.set_index("variant")["value"]
    assert by_variant["lower_95"] < by_variant["lower_80"] < by_variant["median"]
    assert by_variant["median"] < by_variant["upper_80"] < by_variant["upper_95"]
    with pytest.raises(ForecastError, match="no WPP indicator 'tfrr'"):
        wpp.wpp_indicator("tfrr")


def test_mid_2020_population_and_its_60_plus():
    population = wpp.wpp_population_5yr()
    year_2020 = population[population["year"] == 2020]
    assert year_2020["population"].sum() == pytest.approx(1_426_100, abs=100)  # thousands
    aged_60 = year_2020.loc[year_2020["age_start"] >= 60, "population"].sum()
    assert aged_60 == pytest.approx(255_400, abs=100)


def test_percent_asfr_sums_to_100_in_every_period():
    asfr = wpp.wpp_percent_asfr()
    sums = asfr.groupby("period_start")["percent_asfr"].sum()
    assert len(sums) == 30
    assert np.allclose(sums, 100, atol=0.01)


def test_mx_table_is_complete_and_positive():
    mx = wpp.wpp_mx_abridged()
    assert len(mx) == 30 * 2 * 22
    assert (mx["mx"] > 0).all()
    infant = mx[(mx["period_start"] == 2015) & (mx["age_start"] == 0)].set_index("sex")["mx"]
    assert infant["male"] > infant["female"]
    assert mx.loc[mx["age_start"] == 100, "age_end"].isna().all()


def test_old_age_pattern_sums_to_one_and_interpolates():
    at_2020 = wpp.wpp_old_age_pattern(2020, "female")
    at_2025 = wpp.wpp_old_age_pattern(2025, "female")
    between = wpp.wpp_old_age_pattern(2022, "female")
    assert at_2020["age_start"].tolist() == [85, 90, 95, 100]
    assert at_2020["proportion"].sum() == pytest.approx(1.0)
    assert (np.diff(at_2020["proportion"]) < 0).all()  # fewer survivors at each older group
    expected = 0.6 * at_2020["proportion"] + 0.4 * at_2025["proportion"]
    assert np.allclose(between["proportion"], expected)
    with pytest.raises(ForecastError):
        wpp.wpp_old_age_pattern(2101, "male")


def test_single_age_migration_matches_annual_total():
    migration = wpp.wpp_net_migration_single_age()
    assert set(migration["age"]) == set(range(101))
    total_2030 = migration.loc[migration["year"] == 2030, "net_migrants"].sum()
    assert total_2030 == pytest.approx(wpp.wpp_indicator("net_migration")[2030], rel=0.01)
