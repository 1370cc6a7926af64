"""The run configuration: a YAML file, validated into a typed :class:`Config`.

A config names one jurisdiction and the plan document it is checked against, the projection
horizon, optional overrides of the default assumptions and demand parameters, the plan's
base-year supply, supply additions and targets, the plan's own population statements
(``expectations``), and named scenarios. Each scenario is an overlay applied on the baseline
(a nested mapping or dotted keys such as ``assumptions.fertility.tfr: 1.2``).

Every mistake a user can make raises :class:`forecast.errors.ConfigError` with one line naming
the file, the YAML line, the dotted key and the fix, e.g.::

    configs/x.yaml: line 12: demand.elderly.norm_per_100: unknown key
    (did you mean 'norm_per_1000'?)

(shown here on two lines; the message is one).

This module holds no numerics: other modules receive the plain values it validates.

Units: beds and places are counts; ``per_1000_*`` are per 1,000 persons; shares, rates and
coverages are fractions in [0, 1] (write 0.55, not 55); years are calendar years (the census
reference date is 1 November); population values are persons.
"""

from __future__ import annotations

from forecast.config.base import BASELINE
from forecast.config.loading import config_hash, config_schema, load_config
from forecast.config.model import (
    Addition,
    Assumptions,
    ChildcareDemand,
    ChildcarePlaceSupply,
    Citation,
    Config,
    Demand,
    E0BySex,
    ElderlyBedSupply,
    ElderlyDemand,
    Expectation,
    Fertility,
    Jurisdiction,
    Migration,
    Mortality,
    NursingBedSupply,
    Planning,
    PlanRate,
    Projection,
    SourceDocument,
    Supply,
    SupplyComponent,
    Target,
    Uncertainty,
    WorkforceDemand,
)
from forecast.config.overlay import apply_overlay

__all__ = [
    "Addition",
    "Assumptions",
    "ChildcareDemand",
    "ChildcarePlaceSupply",
    "Citation",
    "Config",
    "Demand",
    "E0BySex",
    "ElderlyBedSupply",
    "ElderlyDemand",
    "Expectation",
    "Fertility",
    "Jurisdiction",
    "Migration",
    "Mortality",
    "NursingBedSupply",
    "PlanRate",
    "Planning",
    "Projection",
    "SourceDocument",
    "Supply",
    "SupplyComponent",
    "Target",
    "Uncertainty",
    "WorkforceDemand",
    "apply_overlay",
    "config_hash",
    "config_schema",
    "load_config",
    "BASELINE",
]
