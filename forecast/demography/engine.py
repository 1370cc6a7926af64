"""Cohort-component projection, UN WPP convention (Preston, Heuveline & Guillot 2001, ch. 6).

One pure step over plain numpy arrays, batched over any leading axes (scenarios, trajectories,
jurisdictions), and a loop over years that calls it. No files, no configs, no pandas here.

Array layout
------------
``population``    (..., 2, n_ages)  persons; sex axis: 0 = male, 1 = female; the last age is open.
``survival``      (..., 2, n_ages)  survival ratios indexed by age at the END of the step:
                                    [0] births -> first age group; [x] age x-1 -> x;
                                    [last] (open-1 and open) -> open.
``asfr``          (..., n_ages)     births per woman per year, by mother's age at the start of the
                                    step (zero outside the reproductive ages).
``srb``           (...)             male births per female birth.
``net_migrants``  (..., 2, n_ages)  persons per step, by age (the same age index as population).

Where ``n_ages`` counts age groups of ``age_width`` years (1 or 5) and the step is ``age_width``
years long.

The step
--------
1. Net migration timed ``end`` (all net migrants join after survival) or ``even`` (half join at
   the start and are exposed to mortality and fertility, half join at the end).
2. Survivors: ``end[x] = start[x-1] * S[x]`` for 1 <= x < open; the open group
   ``end[open] = (start[open-1] + start[open]) * S[open]``.
3. Births by mother's age: ``age_width * asfr[x] * (F_start[x] + F_end[x]) / 2`` where F_start
   includes the first half of migrants (``even``) and F_end is the surviving female population
   at the end of the step plus, with ``even`` timing, the second half of migrants (with ``end``
   timing migrants arrive after births, as in the UN's ``project_ccmpp_z_by_z``); none at the
   first and the open age group; split into sexes by ``srb``; ``end[0] = births_sex * S[0]``.
4. A cell that migration drives negative is set to zero; the persons added that way are counted
   (``clamped_cells``, ``clamped_persons``) and included in ``net_migrants_applied`` so the
   balance ``P(t+1) = P(t) + births - deaths + net_migrants_applied`` holds exactly.

Deaths are attributed to the cohort by its age at the end of the step (the survival ratio's index).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.vocabulary import FEMALE_INDEX, MALE_INDEX

MALE, FEMALE = MALE_INDEX, FEMALE_INDEX  # positions on the sex axis (forecast.vocabulary)
MIGRATION_TIMINGS = ("end", "even")


@dataclass(frozen=True)
class StepResult:
    """The outcome of one projection step (all in persons)."""

    population: np.ndarray  # (..., 2, n_ages) at the end of the step
    births_by_mother_age: np.ndarray  # (..., n_ages)
    births_by_sex: np.ndarray  # (..., 2)
    deaths: np.ndarray  # (..., 2, n_ages) by age at the end of the step
    net_migrants_applied: np.ndarray  # (..., 2, n_ages) given migrants + persons added by clamping
    clamped_cells: np.ndarray  # (...) count of cells set to zero
    clamped_persons: np.ndarray  # (...) persons added by clamping


def _clamp(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Set negative cells to zero; return (clamped, cells changed, persons added) per batch."""
    negative = cells < 0
    if not negative.any():
        zeros = np.zeros(cells.shape[:-2])
        return cells, zeros, zeros
    added = np.where(negative, -cells, 0.0)
    return (np.where(negative, 0.0, cells), negative.sum(axis=(-2, -1)).astype(float),
            added.sum(axis=(-2, -1)))


def survive(start: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """Advance each cohort one step: ages 1..open from ``start``; age 0 is left at zero."""
    survivors = np.zeros(np.broadcast_shapes(start.shape, survival.shape))
    survivors[..., 1:-1] = start[..., :-2] * survival[..., 1:-1]
    survivors[..., -1] = (start[..., -2] + start[..., -1]) * survival[..., -1]
    return survivors


def newborns(asfr: np.ndarray, females_start: np.ndarray, females_end: np.ndarray,
             srb: np.ndarray, age_width: int) -> tuple[np.ndarray, np.ndarray]:
    """Births by mother's age and by sex over a step of ``age_width`` years (persons)."""
    births_by_mother_age = age_width * asfr * 0.5 * (females_start + females_end)
    # as the UN's ccmppWPP: no births to the first age group or the open age group
    births_by_mother_age[..., 0] = 0.0
    births_by_mother_age[..., -1] = 0.0
    total = births_by_mother_age.sum(axis=-1)
    srb = np.asarray(srb, dtype=float)
    male = total * srb / (1.0 + srb)
    births_by_sex = np.empty(np.shape(male) + (2,))
    births_by_sex[..., 0] = male
    births_by_sex[..., 1] = total - male
    return births_by_mother_age, births_by_sex


def project_step(population: np.ndarray, survival: np.ndarray, asfr: np.ndarray,
                 srb: np.ndarray | float, net_migrants: np.ndarray | None = None, *,
                 age_width: int = 1, migration_timing: str = "end") -> StepResult:
    """One cohort-component step (see the module docstring for layout and formulas)."""
    if migration_timing not in MIGRATION_TIMINGS:
        raise ValueError(f"migration_timing must be one of {MIGRATION_TIMINGS}")
    population = np.asarray(population, dtype=float)
    survival = np.asarray(survival, dtype=float)
    asfr = np.asarray(asfr, dtype=float)
    if net_migrants is None:
        net_migrants = np.zeros_like(population)
    net_migrants = np.asarray(net_migrants, dtype=float)
    share_at_start = 0.5 if migration_timing == "even" else 0.0

    # 1. migrants joining at the start of the step
    start = population + share_at_start * net_migrants if share_at_start else population
    start, cells_a, persons_a = _clamp(start)

    # 2. survivors of each cohort; age 0 is filled with the survivors of births below
    survivors = survive(start, survival)
    end_migrants = (1.0 - share_at_start) * net_migrants
    # the female population exposed at the end of the step: with "even" timing it includes
    # the second half of migrants; with "end" timing migrants arrive after births (UN ccmppWPP)
    females_end = survivors[..., FEMALE, :]
    if share_at_start:
        females_end = females_end + end_migrants[..., FEMALE, :]

    # 3. births from the mean of start and end female populations, split by sex
    births_by_mother_age, births_by_sex = newborns(
        asfr, start[..., FEMALE, :], females_end, srb, age_width)
    end = survivors + end_migrants
    survivors[..., 0] = births_by_sex * survival[..., 0]
    end[..., 0] = survivors[..., 0] + end_migrants[..., 0]
    end, cells_b, persons_b = _clamp(end)

    # deaths: persons exposed (start cohorts, births) minus survivors, by age at end of step
    deaths = np.empty_like(survivors)
    deaths[..., 0] = births_by_sex - survivors[..., 0]
    deaths[..., 1:-1] = start[..., :-2] - survivors[..., 1:-1]
    deaths[..., -1] = start[..., -2] + start[..., -1] - survivors[..., -1]

    # migrants as applied: both halves, plus whatever clamping added
    applied = (start - population) + (end - survivors)
    return StepResult(end, births_by_mother_age, births_by_sex, deaths, applied,
                      cells_a + cells_b, persons_a + persons_b)


@dataclass(frozen=True)
class Projection:
    """A projection over ``n_steps`` steps; axes are (step/time, *batch, [sex], age).

    ``population`` has ``n_steps + 1`` entries along its first axis (the base and each step's
    end); the flows (births, deaths, migrants, clamps) have ``n_steps`` entries.
    """

    population: np.ndarray  # (T+1, ..., 2, n_ages)
    births_by_mother_age: np.ndarray  # (T, ..., n_ages)
    births_by_sex: np.ndarray  # (T, ..., 2)
    deaths: np.ndarray  # (T, ..., 2, n_ages)
    net_migrants_applied: np.ndarray  # (T, ..., 2, n_ages)
    clamped_cells: np.ndarray  # (T, ...)
    clamped_persons: np.ndarray  # (T, ...)


def project(base_population: np.ndarray, survival: np.ndarray, asfr: np.ndarray,
            srb: np.ndarray, net_migrants: np.ndarray | None = None, *, age_width: int = 1,
            migration_timing: str = "end") -> Projection:
    """Project ``base_population`` over ``T`` steps.

    ``survival``, ``asfr``, ``srb`` and ``net_migrants`` carry the step on their first axis
    (length T) and broadcast against the population's batch axes, e.g. one set of rates shared
    by many trajectories. ``net_migrants=None`` means no migration.
    """
    survival = np.asarray(survival, dtype=float)
    asfr = np.asarray(asfr, dtype=float)
    srb = np.asarray(srb, dtype=float)
    n_steps = survival.shape[0]
    if asfr.shape[0] != n_steps or srb.shape[0] != n_steps:
        raise ValueError("survival, asfr and srb must have the same number of steps")
    if net_migrants is not None:
        net_migrants = np.asarray(net_migrants, dtype=float)
        if net_migrants.shape[0] != n_steps:
            raise ValueError("net_migrants must have one entry per step")
    population = np.asarray(base_population, dtype=float)
    steps = []
    for t in range(n_steps):
        step = project_step(population, survival[t], asfr[t], srb[t],
                            None if net_migrants is None else net_migrants[t],
                            age_width=age_width, migration_timing=migration_timing)
        steps.append(step)
        population = step.population
    shape = np.broadcast_shapes(np.shape(base_population), steps[0].population.shape) \
        if steps else np.shape(base_population)
    base = np.broadcast_to(np.asarray(base_population, dtype=float), shape)
    return Projection(
        population=np.stack([base] + [s.population for s in steps]),
        births_by_mother_age=np.stack([s.births_by_mother_age for s in steps]),
        births_by_sex=np.stack([s.births_by_sex for s in steps]),
        deaths=np.stack([s.deaths for s in steps]),
        net_migrants_applied=np.stack([s.net_migrants_applied for s in steps]),
        clamped_cells=np.broadcast_to(np.stack([s.clamped_cells for s in steps]),
                                      (n_steps,) + shape[:-2]),
        clamped_persons=np.broadcast_to(np.stack([s.clamped_persons for s in steps]),
                                        (n_steps,) + shape[:-2]),
    )


def balance_residual(projection: Projection) -> np.ndarray:
    """Relative residual of P(t+1) - [P(t) + births - deaths + net migrants], per step and batch.

    The demographic balancing equation; zero to rounding for a correct projection.
    """
    totals = projection.population.sum(axis=(-2, -1))
    births = projection.births_by_sex.sum(axis=-1)
    deaths = projection.deaths.sum(axis=(-2, -1))
    migrants = projection.net_migrants_applied.sum(axis=(-2, -1))
    expected = totals[:-1] + births - deaths + migrants
    return (totals[1:] - expected) / np.maximum(np.abs(totals[1:]), 1.0)
