"""Life tables against the UN's own values (Canada, WPP single-year inputs) and identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.demography.lifetable import (
    fit_to_e0,
    infant_separation_factor,
    life_expectancy,
    life_table,
)


@pytest.fixture(scope="module")
def canada(reference):
    base = reference / "un-ccmpp" / "canada"
    return (pd.read_csv(base / "mortality.csv"), pd.read_csv(base / "survival.csv"),
            pd.read_csv(base / "life_expectancy_un.csv"))


@pytest.mark.parametrize("sex", ["male", "female"])
def test_e0_e60_e80_match_un_within_005_years(canada, sex):
    """A life table from Canada's mx gives e0, e60 and e80 within 0.05 years of the UN's lt_ex,
    every year 1950-2019 and both sexes."""
    mortality, _, un = canada
    mx = mortality[mortality.sex == sex].pivot(index="year", columns="age", values="mx")
    table = life_table(mx.to_numpy(), sex)
    for age in (0, 60, 80):
        expected = (un[(un.sex == sex) & (un.age == age)].set_index("year").ex
                    .reindex(mx.index).to_numpy())
        assert np.abs(table.ex[:, age] - expected).max() < 0.05


@pytest.mark.parametrize("sex", ["male", "female"])
def test_survival_ratios_match_un_below_the_open_age(canada, sex):
    """Survival ratios L(x)/L(x-1) equal the UN's lt_Sx to 1e-6 at ages 2..99; ages 0-1 carry the
    infant a(0) convention (within 1e-3) and the open group the UN's closure (not compared)."""
    mortality, survival, _ = canada
    mx = mortality[mortality.sex == sex].pivot(index="year", columns="age", values="mx")
    un = survival[survival.sex == sex].pivot(index="year", columns="age", values="survival_ratio")
    ours = life_table(mx.to_numpy(), sex).survival_ratios()
    np.testing.assert_allclose(ours[:, 2:100], un.to_numpy()[:, 2:100], atol=1e-6)
    np.testing.assert_allclose(ours[:, :2], un.to_numpy()[:, :2], atol=1e-3)


def test_life_table_identities():
    """l(0) = 1, sum of d(x) = 1, T(0) = e(0), constant hazard gives e0 = 1/m in the open group."""
    mx = np.full(101, 0.02)
    table = life_table(mx, "female")
    assert table.lx[0] == 1.0
    assert table.dx.sum() == pytest.approx(1.0)
    assert table.Tx[0] == pytest.approx(table.e0)
    assert table.ex[100] == pytest.approx(1 / 0.02)


def test_andreev_kingkade_a0_segments():
    """a(0) follows the HMD formula: female m0 = 0.01 -> 0.14903 - 2.05527 * 0.01."""
    assert infant_separation_factor(0.01, "female") == pytest.approx(0.14903 - 0.0205527)
    assert infant_separation_factor(0.05, "male") == pytest.approx(0.02832 + 3.26201 * 0.05)
    assert infant_separation_factor(0.2, "male") == pytest.approx(0.29915)


def test_fit_to_target_e0_hits_the_target(canada):
    """A proportional shift of Canada's 1950 female schedule reaches e0 = 74.02 exactly."""
    mortality, _, _ = canada
    mx = mortality[(mortality.sex == "female") & (mortality.year == 1950)].sort_values("age")
    fitted, k = fit_to_e0(mx.mx.to_numpy(), "female", 74.02)
    assert life_expectancy(fitted, "female") == pytest.approx(74.02, abs=1e-8)
    assert k < 1  # 1950 Canada females lived about 70.9 years: the target needs lower mortality
    with pytest.raises(ValueError):
        fit_to_e0(mx.mx.to_numpy(), "female", 400.0)
