"""What a planner must budget beside beds and 托位: groups, workforce (and, with a plan's own
rates, money and land) — issue 12.

Pure functions over a run's baseline tables. One long table, ``planning.csv``::

    year, topic, item, service, method, value, unit, basis, source

- ``topic`` ``groups``: ``pop_80plus``, ``severe_disabled``, ``moderate_disabled`` (the
  disability schedules of :mod:`forecast.care.demand`, E7/E8) and ``dementia`` (G1: 6.0 % of persons
  aged 60+, Jia et al. 2020), persons.
- ``topic`` ``workforce``: ``residents_severe`` / ``residents_moderate`` (residents by care
  level of the needs method: disabled × u_severe / u_moderate, persons); ``elderly_carers``
  (护理员) for the beds of each method: residents by level ÷ residents per carer (W2, an
  assumption), the norm and 9073 beds at the needs method's mix of levels and the target
  occupancy; ``childcare_carers`` (保育人员) for the places of each method: places by age of
  child (the age mix of the children wanting care) ÷ children per carer of its class
  (国卫人口发〔2019〕58号: 乳儿班 1:3, 托小班 1:5, 托大班 1:7; W1). Persons.

No plan states a workforce base, so these are needs, not gaps (``basis`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.care.demand import ChildcareParameters, ElderlyCareParameters, _value
from forecast.vocabulary import METHODS, PLACE_METHODS

COLUMNS = ("year", "topic", "item", "service", "method", "value", "unit", "basis", "source")
NO_WORKFORCE_BASE = "no workforce base is stated in the plan: a need, not a gap"


def _source(key: str) -> str:
    from forecast.care.demand import load_care_parameters

    table = load_care_parameters().set_index("key")
    return str(table.loc[key, "source"])


@dataclass(frozen=True)
class WorkforceParameters:
    """Staffing ratios and the dementia share (defaults from ``data/care_parameters.csv``)."""

    residents_per_carer_severe: float = field(
        default_factory=lambda: _value("residents_per_carer_severe"))
    residents_per_carer_moderate: float = field(
        default_factory=lambda: _value("residents_per_carer_moderate"))
    children_per_carer_age_0: float = field(
        default_factory=lambda: _value("children_per_carer_age_0"))
    children_per_carer_age_1: float = field(
        default_factory=lambda: _value("children_per_carer_age_1"))
    children_per_carer_age_2: float = field(
        default_factory=lambda: _value("children_per_carer_age_2"))
    dementia_share_60plus: float = field(default_factory=lambda: _value("dementia_share_60plus"))

    def children_per_carer(self) -> np.ndarray:
        return np.array([self.children_per_carer_age_0, self.children_per_carer_age_1,
                         self.children_per_carer_age_2], dtype=float)


def _rows(years, topic, item, service, method, values, unit, basis, source) -> pd.DataFrame:
    return pd.DataFrame({"year": np.asarray(years, dtype=int), "topic": topic, "item": item,
                         "service": service, "method": method,
                         "value": np.asarray(values, dtype=float), "unit": unit,
                         "basis": basis, "source": source})


def _wide_drivers(demand: pd.DataFrame) -> pd.DataFrame:
    rows = demand[demand["service"].astype(str) == "driver"]
    return rows.assign(method=rows["method"].astype(str)).pivot_table(
        index="year", columns="method", values="value", aggfunc="first")


def _demand(demand: pd.DataFrame, service: str) -> pd.DataFrame:
    rows = demand[demand["service"].astype(str) == service]
    return rows.assign(method=rows["method"].astype(str)).pivot_table(
        index="year", columns="method", values="value", aggfunc="first")


def under3_by_age(population: pd.DataFrame) -> pd.DataFrame:
    """Persons aged 0, 1 and 2 by year (columns 0, 1, 2) from a tidy population table."""
    young = population[population["age"] < 3]
    return young.pivot_table(index="year", columns="age", values="population", aggfunc="sum")


def groups_rows(demand: pd.DataFrame, workforce: WorkforceParameters) -> pd.DataFrame:
    """80+, severely and moderately disabled and dementia counts by year (persons)."""
    drivers = _wide_drivers(demand)
    years = drivers.index.to_numpy()
    projected = "forecast projection (2020 census base)"
    disability = _source("severe_disability_60plus_2020") + "; " + _source(
        "severe_disability_60_64")
    return pd.concat([
        _rows(years, "groups", "pop_80plus", "", "", drivers["pop_80plus"], "persons",
              "projected persons aged 80+", projected),
        _rows(years, "groups", "severe_disabled", "", "", drivers["severe_disabled"], "persons",
              "age-specific severe disability (unable to care for themselves) × persons",
              disability),
        _rows(years, "groups", "moderate_disabled", "", "", drivers["moderate_disabled"],
              "persons", "age-specific any disability − severe, × persons", disability),
        _rows(years, "groups", "dementia", "", "",
              workforce.dementia_share_60plus * drivers["pop_60plus"], "persons",
              f"{workforce.dementia_share_60plus:.1%} of persons aged 60+",
              _source("dementia_share_60plus")),
    ], ignore_index=True)


def workforce_rows(demand: pd.DataFrame, population: pd.DataFrame,
                   elderly: ElderlyCareParameters, childcare: ChildcareParameters,
                   workforce: WorkforceParameters) -> pd.DataFrame:
    """护理员 for the beds and 保育人员 for the places of every method, by year (persons)."""
    drivers = _wide_drivers(demand)
    years = drivers.index.to_numpy()
    severe = drivers["severe_disabled"] * elderly.u_severe
    moderate = drivers["moderate_disabled"] * elderly.u_moderate
    carers_needs = (severe / workforce.residents_per_carer_severe
                    + moderate / workforce.residents_per_carer_moderate)
    residents = severe + moderate
    with np.errstate(invalid="ignore", divide="ignore"):
        carers_per_resident = np.where(residents > 0, carers_needs / residents, 0.0)
    ratio_source = _source("residents_per_carer_severe")
    frames = [
        _rows(years, "workforce", "residents_severe", "elderly_beds", "needs", severe,
              "persons", "severely disabled × u_severe", _source("u_severe")),
        _rows(years, "workforce", "residents_moderate", "elderly_beds", "needs", moderate,
              "persons", "moderately disabled × u_moderate", _source("u_moderate")),
    ]
    beds = _demand(demand, "elderly_beds")
    for method in [m for m in METHODS if m in beds.columns]:
        if method == "needs":
            values = carers_needs.to_numpy()
            basis = (f"residents severe ÷ {workforce.residents_per_carer_severe:g} + "
                     f"moderate ÷ {workforce.residents_per_carer_moderate:g}; "
                     f"{NO_WORKFORCE_BASE}")
        else:
            values = (beds[method].reindex(years) * elderly.target_occupancy
                      * carers_per_resident).to_numpy()
            basis = (f"beds × occupancy {elderly.target_occupancy:g} × carers per resident "
                     f"of the needs method's mix of care levels; {NO_WORKFORCE_BASE}")
        frames.append(_rows(years, "workforce", "elderly_carers", "elderly_beds", method, values,
                            "persons", basis, ratio_source))
    places = _demand(demand, "childcare_places")
    by_age = under3_by_age(population).reindex(years)
    rate = childcare.demand_rate()
    wanting = by_age[[0, 1, 2]].to_numpy() * np.array([rate.get(a, 0.0) for a in (0, 1, 2)])
    total = wanting.sum(axis=1, keepdims=True)
    mix = np.divide(wanting, total, out=np.full_like(wanting, 1 / 3), where=total > 0)
    carers_per_place = (mix / workforce.children_per_carer()[None]).sum(axis=1)
    ratios = workforce.children_per_carer()
    for method in [m for m in PLACE_METHODS if m in places.columns]:
        values = places[method].reindex(years).to_numpy() * carers_per_place
        frames.append(_rows(
            years, "workforce", "childcare_carers", "childcare_places", method, values,
            "persons", f"places by age of child (the age mix of the children wanting care) ÷ "
            f"{ratios[0]:g}/{ratios[1]:g}/{ratios[2]:g} children per carer at ages 0/1/2; "
            f"{NO_WORKFORCE_BASE}", _source("children_per_carer_age_0")))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- money and land


@dataclass(frozen=True)
class PlanRate:
    """One rate or budget a plan states, with the citation text it is quoted from."""

    value: float
    source: str


@dataclass(frozen=True)
class PlanRates:
    """The plan's own money, land and group norms (None: the plan states none)."""

    subsidy_per_new_bed_yuan: PlanRate | None = None
    operating_subsidy_per_bed_month_yuan: PlanRate | None = None
    operating_subsidy_min_occupancy: PlanRate | None = None
    subsidy_per_new_place_yuan: PlanRate | None = None
    central_subsidy_per_new_place_yuan: PlanRate | None = None
    budget_elderly_yuan_per_year: PlanRate | None = None
    budget_childcare_yuan_per_year: PlanRate | None = None
    land_elderly_m2_per_resident: PlanRate | None = None
    places_per_1000_new_residential: PlanRate | None = None
    places_per_1000_old_residential: PlanRate | None = None
    tekun_centralised_share: PlanRate | None = None

    def given(self) -> list[str]:
        return [name for name in self.__dataclass_fields__ if getattr(self, name) is not None]


UNKNOWN_SUPPLY_NEW = ("no supply stated: every bed or place demanded is counted as new (an "
                      "upper bound; assumption)")
SHORTFALL_NEW = "new = demand − planned supply where positive (the gap to close), one-off"
TEKUN_NO_COUNT = ("the plan's target share; no count of 特困 persons is stated in the plan or "
                  "the shipped data, so none is made")


def _new_needed(gap_rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """New beds/places needed by year for one service and method: the shortfall against
    planned supply, or the whole demand in the years whose supply is unknown; and the basis
    of each year (the unknown years labelled an upper bound)."""
    rows = gap_rows.set_index("year").sort_index()
    known = rows["supply"].notna()
    new = (rows["demand"] - rows["supply"]).clip(lower=0).where(known, rows["demand"])
    basis = pd.Series(np.where(known, SHORTFALL_NEW, f"{SHORTFALL_NEW}; {UNKNOWN_SUPPLY_NEW}"),
                      index=rows.index)
    return new, basis


def money_rows(gaps: pd.DataFrame, demand: pd.DataFrame, rates: PlanRates,
               elderly: ElderlyCareParameters) -> pd.DataFrame:
    """Capital subsidy of each gap at the plan's rates, the operating subsidy of occupied beds
    and the plan's budgets against them, by year (yuan)."""
    frames = []
    bills: dict[str, pd.Series] = {}
    for service, rate, item in (
            ("elderly_beds", rates.subsidy_per_new_bed_yuan, "subsidy_new_beds"),
            ("childcare_places", rates.subsidy_per_new_place_yuan, "subsidy_new_places"),
            ("childcare_places", rates.central_subsidy_per_new_place_yuan,
             "central_subsidy_new_places")):
        if rate is None:
            continue
        for method, rows in gaps[gaps.service == service].groupby("method", sort=False):
            new, basis = _new_needed(rows)
            bill = new * rate.value
            frames.append(_rows(new.index, "money", item, service, method, bill, "yuan",
                                f"{rate.value:,.0f} yuan × new {service}; " + basis,
                                rate.source))
            if item != "central_subsidy_new_places":
                bills.setdefault(f"{service}:{method}", bill)
    monthly, floor = rates.operating_subsidy_per_bed_month_yuan, \
        rates.operating_subsidy_min_occupancy
    beds = gaps[(gaps.service == "elderly_beds") & (gaps.method == "needs")].set_index("year")
    if monthly is not None and len(beds):
        drivers = _wide_drivers(demand).reindex(beds.index)
        supply = beds["supply"]
        occupied = np.minimum(drivers["residents_needing_care"], supply * elderly.target_occupancy)
        occupancy = occupied / supply
        minimum = floor.value if floor is not None else 0.0
        yearly = (monthly.value * 12 * occupied).where(occupancy >= minimum, 0.0)
        yearly = yearly.where(supply.notna())
        frames.append(_rows(beds.index, "money", "operating_subsidy_beds", "elderly_beds",
                            "needs", yearly, "yuan a year",
                            f"{monthly.value:g} yuan × 12 months × occupied beds (residents "
                            f"needing care, at most planned beds × occupancy "
                            f"{elderly.target_occupancy:g}) where occupancy ≥ {minimum:.0%}; "
                            "every resident counted as a local (区籍) elder (assumption)",
                            monthly.source + ("; " + floor.source if floor else "")))
    years = sorted(gaps.year.unique())
    for service, budget, item in (
            ("elderly_beds", rates.budget_elderly_yuan_per_year, "budget_elderly"),
            ("childcare_places", rates.budget_childcare_yuan_per_year, "budget_childcare")):
        if budget is None:
            continue
        frames.append(_rows(years, "money", item, service, "", np.full(len(years), budget.value),
                            "yuan a year", "the plan's annual budget (at least)", budget.source))
        noun = "bed" if service == "elderly_beds" else "place"
        unit = f"yuan per {noun} a year"
        for method, rows in gaps[gaps.service == service].groupby("method", sort=False):
            demanded = rows.set_index("year").sort_index()["demand"]
            per = (budget.value / demanded.where(demanded > 0))
            frames.append(_rows(per.index, "money", "budget_per_demand", service, method, per,
                                unit, f"the plan's annual budget ÷ {noun}s demanded: what the "
                                "budget gives each bed or place a year if all of it went to "
                                "them (the budget covers more than beds and places)",
                                budget.source))
        for key, bill in bills.items():
            if key.startswith(service + ":"):
                frames.append(_rows(bill.index, "money", "budget_years_for_bill", service,
                                    key.split(":")[1], bill / budget.value, "years",
                                    "capital subsidy bill ÷ the annual budget",
                                    budget.source))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def land_rows(demand: pd.DataFrame, rates: PlanRates) -> pd.DataFrame:
    """Elderly-facility land and 托位 in residential areas at the plan's norms, by year."""
    drivers = _wide_drivers(demand)
    years, total = drivers.index.to_numpy(), drivers["pop_total"]
    frames = []
    if rates.land_elderly_m2_per_resident is not None:
        rate = rates.land_elderly_m2_per_resident
        frames.append(_rows(years, "land", "land_elderly_m2", "elderly_beds", "", rate.value
                            * total, "m2", f"{rate.value:g} m² × residents (at least)",
                            rate.source))
    for rate, item, where in ((rates.places_per_1000_new_residential, "places_new_residential",
                               "new residential areas"),
                              (rates.places_per_1000_old_residential, "places_old_residential",
                               "old and built residential areas")):
        if rate is not None:
            frames.append(_rows(years, "land", item, "childcare_places", "",
                                rate.value * total / 1000, "places",
                                f"{rate.value:g} 托位 per 1,000 residents if every resident "
                                f"lived in {where} (a bound: the split of residents is not "
                                "stated)", rate.source))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def tekun_rows(years, rates: PlanRates) -> pd.DataFrame:
    if rates.tekun_centralised_share is None:
        return pd.DataFrame(columns=COLUMNS)
    rate = rates.tekun_centralised_share
    return _rows(years, "groups", "tekun_centralised_share", "", "",
                 np.full(len(years), rate.value), "share", TEKUN_NO_COUNT, rate.source)


def planning_table(population: pd.DataFrame, demand: pd.DataFrame, gaps: pd.DataFrame,
                   elderly: ElderlyCareParameters, childcare: ChildcareParameters,
                   workforce: WorkforceParameters | None = None,
                   rates: PlanRates | None = None) -> pd.DataFrame:
    """``planning.csv`` of one scenario (tables without a ``scenario`` column)."""
    workforce = workforce or WorkforceParameters()
    rates = rates or PlanRates()
    years = sorted(int(y) for y in gaps.year.unique())
    frames = [groups_rows(demand, workforce), tekun_rows(years, rates),
              workforce_rows(demand, population, elderly, childcare, workforce),
              money_rows(gaps, demand, rates, elderly), land_rows(demand, rates)]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True).loc[:, list(COLUMNS)]
