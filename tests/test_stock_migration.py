"""A 2010 base's net migration from the 2010 census's net migrant stock (issue 10): residents
(常住) minus 户籍-registered persons, less the nation's share, ÷ the years of flow it stands for,
spread over ages with the Rogers–Castro standard schedule (forecast.defaults.migration)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.defaults import census, migration
from forecast.defaults.census_base import base_population, registered_share_2010


def test_rogers_castro_fundamental_schedule():
    """Rogers & Castro (1981) fundamental parameters (a1 0.02, α1 0.1, a2 0.06, α2 0.1, μ2 20,
    λ2 0.4, c 0.003): at age 0 the schedule is a1 + a2·e^(2 − e^8) + c ≈ 0.023, it peaks in
    the early twenties and falls to about c after 60."""
    rates = migration.rogers_castro(np.arange(101))
    assert rates[0] == pytest.approx(0.02 + 0.06 * np.exp(2 - np.exp(8)) + 0.003)
    assert 20 <= int(rates.argmax()) <= 26
    assert rates[60:].max() < 0.0045 and rates[60:].min() > 0.003


def test_census_stock_shares_of_known_units():
    """2010 census 合计 and 户籍人口 (reference-data census2010_indicators_by_unit.csv):
    Shenzhen 10,358,381 residents, 2,510,145 registered; Guizhou 34,748,556 and 41,600,385;
    the nation's 31 provinces 1,332,810,869 and 1,337,376,754."""
    residents, registered = registered_share_2010(["440300", "520000", census.NATIONAL_ID])
    assert residents.tolist() == [10_358_381, 34_748_556, 1_332_810_869]
    assert registered.tolist() == [2_510_145, 41_600_385, 1_337_376_754]


def test_rate_is_the_centred_stock_over_its_years_and_provinces_sum_to_zero():
    """rate = (gap share − national share) ÷ STOCK_YEARS, so Shenzhen gains, Guizhou loses, and
    the 31 provinces' first-year net migrants add up to zero (their residents and registered
    persons are the nation's)."""
    rate, national = migration.stock_migration_rate(["440300", "520000"])
    assert national == pytest.approx((1_332_810_869 - 1_337_376_754) / 1_332_810_869)
    assert rate[0] == pytest.approx(((10_358_381 - 2_510_145) / 10_358_381 - national)
                                    / migration.STOCK_YEARS)
    assert rate[1] < 0 < rate[0]
    units = census.load_units(2010)
    provinces = units[units.level == "province"].unit_id.tolist()
    population = base_population(provinces, 2010)
    migrants, notes = migration.registered_stock_migration(provinces, population)
    total = population.sum()
    assert abs(migrants.sum()) < 1e-9 * total
    assert migrants.sum(axis=(1, 2)) / population.sum(axis=(1, 2)) == pytest.approx(
        migration.stock_migration_rate(provinces)[0], rel=1e-9)
    assert all(n["stock_years"] == migration.STOCK_YEARS for n in notes)


def test_age_pattern_follows_the_schedule_times_population():
    """Net migrants at each age and sex ∝ Rogers–Castro rate × persons: a gaining unit's
    migrants per person at 22 are about 1.5× those at age 0 and 10× those at 70."""
    population = base_population(["440300"], 2010)
    migrants, _ = migration.registered_stock_migration(["440300"], population)
    per_person = migrants[0] / population[0]
    schedule = migration.rogers_castro(np.arange(101))
    assert per_person[1] / per_person[1, 22] == pytest.approx(schedule / schedule[22])
    assert (migrants > 0).all()


def test_unknown_registered_count_gives_zero_migration_with_a_warning():
    """A key the 2010 indicator table has no 户籍 count for: no migrants, and the note says
    why."""
    population = np.full((1, 2, 101), 100.0)
    migrants, notes = migration.registered_stock_migration(["no-such-unit"], population)
    assert (migrants == 0).all()
    assert "no registered" in notes[0]["warning"]
