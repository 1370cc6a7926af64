"""Default 2020-base projections against what was registered after 2020 (issue 10 targets).

Registered figures: data/registered_vital_rates.csv (NBS communiqués; provincial communiqués
as reposted, see data/SOURCES.md). WPP 2024: data/wpp2024_china_annual.csv. A step runs
1 Nov t-1 -> 1 Nov t and is compared with calendar year t; rates are per 1,000 of the mean
population of the step. Figures the defaults were calibrated on are excluded from the checks
where marked; benchmarks/registered_rates.py prints every gap.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecast.defaults import assumptions, census, registered, wpp
from forecast.demography.engine import project
from forecast.demography.lifetable import survival_ratios_by_sex

pytestmark = pytest.mark.slow
YEARS = (2021, 2022, 2023)


@pytest.fixture(scope="module")
def projected():
    """China and every province with a shipped registered rate, projected to 2023."""
    table = registered.registered_vital_rates()
    codes = ["CN"] + sorted(set(table.code) - {"CN"})
    units = [census.resolve_unit(c) for c in codes]
    d = assumptions.build_defaults(units, 2020, 2023)
    surv = survival_ratios_by_sex(d.mx)
    p = project(d.population, np.moveaxis(surv, 1, 0), np.moveaxis(d.asfr, 1, 0),
                np.moveaxis(d.srb, 1, 0), np.moveaxis(d.net_migrants, 1, 0))
    total = p.population.sum(axis=(-2, -1))
    mid = (total[:-1] + total[1:]) / 2
    rates = {"crude_death_rate": 1000 * p.deaths.sum(axis=(-2, -1)) / mid,
             "crude_birth_rate": 1000 * p.births_by_sex.sum(axis=-1) / mid}
    return {"codes": codes, "rates": rates, "provenance": d.provenance}


def _ours(projected, code: str, year: int, indicator: str) -> float:
    return float(projected["rates"][indicator][year - 2021, projected["codes"].index(code)])


@pytest.mark.parametrize("year", [2021, 2022])
@pytest.mark.parametrize("indicator", ["crude_death_rate", "crude_birth_rate"])
def test_china_between_nbs_and_wpp(projected, year, indicator):
    """China's CDR and CBR of 2021-2022 between NBS's (7.18/7.37 ‰ deaths, 7.52/6.77 ‰
    births) and WPP 2024's (7.54/7.72, 7.33/6.63), at most 3 % outside (issue 10 target).
    Measured: CDR 7.56 / 7.78 (WPP's deaths by age on the census population)."""
    nbs = registered.registered_rate("CN", year, indicator)
    un = float(wpp.wpp_indicator("cdr" if indicator == "crude_death_rate" else "cbr")[year])
    low, high = min(nbs, un) * 0.97, max(nbs, un) * 1.03
    assert low <= _ours(projected, "CN", year, indicator) <= high


def test_every_shipped_provincial_death_rate_within_8_percent(projected):
    """Every province's registered CDR of 2021-2023 that is shipped, within 8 % (issue 10).
    The 2021 figures set the provincial levels; 2022 (Yunnan 8.21, Chongqing 8.09, Guangdong
    4.97, Heilongjiang 9.09) are checks: measured +3.9 %, +7.4 %, +3.9 %, +6.8 %. The
    projection is above the registered rates by about the nation's 5 % (7.56 against 7.18 ‰
    in 2021): the registered deaths are judged under-registered by that much."""
    table = registered.registered_vital_rates()
    rows = table[(table.indicator == "crude_death_rate") & (table.code != "CN")
                 & table.year.isin(YEARS)]
    assert len(rows) >= 8
    gaps = {(r.area, r.year): _ours(projected, r.code, r.year, r.indicator) / r.value - 1
            for r in rows.itertuples()}
    assert max(abs(g) for g in gaps.values()) < 0.08, gaps


def test_provincial_birth_levels_reproduce_the_calibration_year(projected):
    """A province with a registered crude birth rate shipped gets the level at which its
    projected CBR of that year, relative to the nation's, is the registered ratio (e.g.
    Yunnan 2022 8.14 ‰ against China's 6.77 ‰): within 1 % (the residual is the migrants'
    and children's response to the new level)."""
    table = registered.registered_vital_rates()
    rows = table[(table.indicator == "crude_birth_rate") & (table.code != "CN")]
    checked = 0
    for code in sorted(set(rows.code)):
        note = projected["provenance"][projected["codes"].index(code)]["fertility"]
        year = note["registered_cbr_year"]
        ratio_ours = (_ours(projected, code, year, "crude_birth_rate")
                      / _ours(projected, "CN", year, "crude_birth_rate"))
        ratio_registered = (registered.registered_rate(code, year, "crude_birth_rate")
                            / registered.registered_rate("CN", year, "crude_birth_rate"))
        assert ratio_ours == pytest.approx(ratio_registered, rel=0.01), code
        checked += 1
    assert checked >= 28


def test_provincial_birth_rates_not_calibrated_on_within_8_percent(projected):
    """The 2022 crude birth rates of provinces calibrated on 2021 (Heilongjiang 3.34 ‰,
    Guangdong 8.30, Guangxi 8.51, Chongqing 5.98 ‰) are checks, within 8 % (issue 10);
    measured -4.2 %, +1.6 %, +3.5 %, -0.1 % (before the calibration -10.7 %, -1.9 %, +7.5 %,
    +2.9 %)."""
    table = registered.registered_vital_rates()
    rows = table[(table.indicator == "crude_birth_rate") & (table.code != "CN")]
    gaps = {}
    for r in rows.itertuples():
        note = projected["provenance"][projected["codes"].index(r.code)]["fertility"]
        if r.year != note["registered_cbr_year"]:
            gaps[(r.area, r.year)] = _ours(projected, r.code, r.year, r.indicator) / r.value - 1
    assert len(gaps) >= 4
    assert max(abs(g) for g in gaps.values()) < 0.08, gaps
