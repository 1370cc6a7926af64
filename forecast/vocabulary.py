"""The project's vocabulary: sexes, ages, services, demand methods, target kinds and origins.

One definition each; every module imports these instead of spelling its own tuple. Display text
for them is in :mod:`forecast.presentation.labels`.
"""

from __future__ import annotations

#: Sexes in array order (axis ``sex`` of every population and rate array: 0 male, 1 female).
SEXES: tuple[str, str] = ("male", "female")
MALE, FEMALE = SEXES
#: Their positions on that axis.
MALE_INDEX, FEMALE_INDEX = SEXES.index(MALE), SEXES.index(FEMALE)

#: Single years of age 0..100, the last the open group 100+.
OPEN_AGE = 100
N_AGES = OPEN_AGE + 1

#: Services.
SERVICE_ELDERLY = "elderly_beds"
SERVICE_NURSING = "nursing_beds"
SERVICE_CHILDCARE = "childcare_places"
SERVICES: tuple[str, ...] = (SERVICE_ELDERLY, SERVICE_NURSING, SERVICE_CHILDCARE)
ELDERLY_SERVICES: tuple[str, ...] = (SERVICE_ELDERLY, SERVICE_NURSING)
#: The pseudo-service of the quantities demand is built from (forecast.care.demand).
DRIVER = "driver"

#: Demand methods.
METHOD_NORM = "norm"
METHOD_NEEDS = "needs"
METHOD_RULE_9073 = "rule_9073"
METHOD_EXPECTED_USE = "expected_use"
METHODS: tuple[str, ...] = (METHOD_NORM, METHOD_NEEDS, METHOD_RULE_9073)
#: Elderly-bed methods in display order (expected use beside needs); childcare's methods.
BED_METHODS: tuple[str, ...] = (METHOD_NORM, METHOD_NEEDS, METHOD_EXPECTED_USE,
                                METHOD_RULE_9073)
PLACE_METHODS: tuple[str, ...] = (METHOD_NORM, METHOD_NEEDS)

#: Target kinds (forecast.care.supply.Target).
TARGET_KINDS: tuple[str, ...] = ("count", "per_1000_elderly", "per_1000_population",
                                 "share_nursing", "coverage_under3")

#: Where a target comes from: the local plan itself, or a national target it did not adopt.
PLAN = "plan"
NATIONAL = "national"
TARGET_ORIGINS: tuple[str, ...] = (PLAN, NATIONAL)

#: Kinds of a scenario change; the first two carry a source (a file the user gave, a fit to a
#: published series), a 'scenario assumption' has none.
CHANGE_KINDS_SOURCED: tuple[str, ...] = ("user input", "trend forecast")
CHANGE_KINDS: tuple[str, ...] = (*CHANGE_KINDS_SOURCED, "scenario assumption")

#: Paths of the default net migration over time
# (forecast.defaults.assumptions.migration_path_factor):
#: 'converge' scales the 2010s' census residual by WPP China's net migration rate relative to
#: its 2010s level; 'constant' keeps the 2010s' level for every year.
MIGRATION_PATH_CONVERGE = "converge"
MIGRATION_PATH_CONSTANT = "constant"
MIGRATION_PATHS: tuple[str, ...] = (MIGRATION_PATH_CONVERGE, MIGRATION_PATH_CONSTANT)
