"""Age groups → single years of age 0..open_age (the last age is the open group).

The Chinese census county tables give persons by sex in the groups 0, 1–4, 5–9, …, 80–84, 85+.
:func:`graduate` turns any such grouping (or single years, or a census whose open group is 100+
already) into single years 0..``open_age``, batched over any leading axes.

Method (chosen on the validation in ``benchmarks/graduation_validation.py``)
------------------------------------------------------------------------------
1. The cumulative count ``C(x)`` (persons below exact age ``x``) is known exactly at every group
   boundary. It is interpolated with a cubic spline (``scipy.interpolate.CubicSpline``,
   not-a-knot ends) and differenced at whole ages, so every closed group keeps its total and a
   one-year group (age 0) stays exact.
2. Above the open group's start the cumulative is extended with pseudo-knots taken from the
   open-age pattern (``open_count × cumulative proportions`` at every 5th year and at
   ``open_age``). They inform the slope at the top boundary (80–84 in the census layout) and do
   not change any group total.
3. Where the spline would make any single year of a group negative (a group of zero next to a
   big one, or a spiky county), that whole group is replaced by the monotone PCHIP interpolant
   (``scipy.interpolate.PchipInterpolator``) of the same cumulative knots. PCHIP passes through
   the same knots, so the group total is unchanged, and it never decreases, so the counts are
   never negative.
4. The open group is spread over ``open_start..open_age`` by ``open_age_pattern``.
5. Each group is finally rescaled to its exact input total (removing float rounding of the
   differenced cumulative).

Against the UN's own single-year 1950 populations of Canada and Mexico, by sex (summed into
the census layout, graduated back, open-age pattern from :func:`old_age_pattern_from_groups` of
the same population's 85–89 … 100+ totals): mean absolute error over ages 0–84 was 0.13–0.44 %
for the spline against 0.67–0.99 % for PCHIP alone, and the maximum over ages 5–79 was
0.37–3.3 % against 2.8–7.7 % (PCHIP flattens the density into steps at every boundary; the
spline's worst ages are Mexico's 77–79, where the UN series itself is bumpy). Ages 80–84 depend
on the open-age pattern: with another country's pattern they were off by up to 9 %.
Makima/Akima interpolation of the cumulative was worse than both, and a natural or not-a-knot
spline without the pseudo-knots of step 2 was off by 11–49 % at 80–84.
Pure PCHIP is kept as ``method="pchip"`` for comparison.

Default open-age pattern
------------------------
This module does not know where the groups came from, so it cannot look up a national old-age
distribution. Callers should pass ``open_age_pattern`` (for example from
:func:`old_age_pattern_from_groups` applied to WPP China 85–89, 90–94, 95–99, 100+). Without
one, :func:`stationary_old_age_pattern` is used: the stationary population (``L_x``) of a
Gompertz hazard ``mu(x) = 0.11 · exp(0.10 · (x − 85))`` per person-year. This is an
assumption: a log-linear fit, rounded, to WPP 2024 China both-sex abridged central death rates
for 2015–2020 (0.141 at 85–89, 0.238 at 90–94, 0.386 at 95–99). A stationary pattern ignores
the growth of successive cohorts and so puts somewhat too many people at the highest ages of a
population whose cohorts grew.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecast.errors import InputError

#: Gompertz hazard at age 85 (deaths per person-year), default stationary old-age pattern.
GOMPERTZ_HAZARD_AT_85 = 0.11
#: Gompertz rate of increase of the hazard with age (per year of age).
GOMPERTZ_SLOPE = 0.10

_METHODS = ("spline", "pchip")


def _as_counts(values: object, name: str) -> np.ndarray:
    counts = np.asarray(values, dtype=float)
    if counts.ndim == 0:
        raise InputError("must be an array of counts, got a single number", field=name)
    if np.isnan(counts).any():
        raise InputError("contains NaN", field=name, fix="fill the missing counts")
    if np.isinf(counts).any():
        raise InputError("contains an infinite value", field=name)
    if (counts < 0).any():
        where = np.argwhere(counts < 0)[0]
        raise InputError(f"negative count {counts[tuple(where)]:g} at index {tuple(where)}",
                         field=name, fix="counts of persons must be zero or more")
    return counts


def _as_group_starts(group_starts: Sequence[int] | np.ndarray) -> np.ndarray:
    starts = np.asarray(group_starts)
    if starts.ndim != 1 or starts.size == 0:
        raise InputError("must be a non-empty list of ages", field="group_starts")
    if not np.all(np.equal(np.mod(starts, 1), 0)):
        raise InputError(f"ages must be whole numbers, got {starts.tolist()}",
                         field="group_starts")
    starts = starts.astype(int)
    if starts[0] != 0:
        raise InputError(f"must start at age 0, got {starts[0]}", field="group_starts")
    if np.any(np.diff(starts) <= 0):
        raise InputError(f"must be strictly increasing, got {starts.tolist()}",
                         field="group_starts")
    return starts


def _group_index(starts: np.ndarray, n_ages: int) -> np.ndarray:
    """The group (position in ``starts``) that each single age 0..n_ages-1 belongs to."""
    return np.searchsorted(starts, np.arange(n_ages), side="right") - 1


def aggregate(single_year_counts: object, group_starts: Sequence[int] | np.ndarray) -> np.ndarray:
    """Sum single years of age into groups (the inverse of :func:`graduate`).

    ``single_year_counts``: persons, shape ``(..., n_ages)`` for ages 0..n_ages-1, the last age
    being the open group. ``group_starts``: first age of each group, the last group open (it
    takes every age from its start to the end). Returns persons, shape ``(..., n_groups)``.
    """
    counts = _as_counts(single_year_counts, "single_year_counts")
    starts = _as_group_starts(group_starts)
    n_ages = counts.shape[-1]
    if starts[-1] >= n_ages:
        raise InputError(f"last group starts at {starts[-1]} but there are only ages "
                         f"0..{n_ages - 1}", field="group_starts")
    return np.add.reduceat(counts, starts, axis=-1)


def stationary_old_age_pattern(start_age: int = 85, open_age: int = 100,
                               hazard_at_start: float = GOMPERTZ_HAZARD_AT_85,
                               gompertz_slope: float = GOMPERTZ_SLOPE,
                               growth_rate: float = 0.0) -> np.ndarray:
    """Proportions of the persons aged ``start_age``+ at each age start_age..open_age (open).

    The stationary population ``L_x`` of a Gompertz hazard
    ``mu(x) = hazard_at_start · exp(gompertz_slope · (x − start_age))`` (per person-year), times
    ``exp(−growth_rate · (x − start_age))`` for a population growing at ``growth_rate`` per year
    (stable population). Defaults: see the module docstring. Sums to 1.
    """
    if open_age < start_age:
        raise InputError(f"open_age {open_age} is below start_age {start_age}",
                         field="open_age")
    if hazard_at_start <= 0 or gompertz_slope <= 0:
        raise InputError("Gompertz hazard and slope must be positive",
                         field="hazard_at_start/gompertz_slope")
    ratio = hazard_at_start / gompertz_slope

    def density(u: float) -> float:  # u = years above start_age
        return float(np.exp(-ratio * np.expm1(gompertz_slope * u) - growth_rate * u))

    from scipy.integrate import quad  # scipy on first use: a cached run needs none

    person_years = [quad(density, u, u + 1)[0] for u in range(open_age - start_age)]
    person_years.append(quad(density, open_age - start_age, np.inf)[0])
    person_years = np.asarray(person_years)
    return person_years / person_years.sum()


def old_age_pattern_from_groups(counts_85_89: object, counts_90_94: object,
                                counts_95_99: object, counts_100plus: object,
                                method: str = "log_survivors") -> np.ndarray:
    """Proportions at single ages 85..100 (100 = 100+) from 85–89, 90–94, 95–99, 100+ counts.

    Inputs are persons (any unit, e.g. WPP thousands), scalars or arrays of one shape (e.g. by
    sex). Each group keeps exactly its share; within groups the counts decline smoothly.

    ``method="log_survivors"`` (default): the log of the share aged x and over, known at 85,
    90, 95 and 100, is interpolated monotonically (PCHIP) and differenced. Survivorship at old
    ages is close to log-linear with a steepening slope (Gompertz), so the single-year ratios
    come out steadily declining. ``method="cumulative"``: PCHIP of the cumulative share through
    85, 90, 95, 100 and a pseudo-knot at 105 (the 100+ group as if within 100–104); it follows
    the UN's own 1950 Canada/Mexico single years more closely (they are themselves wavy) but
    makes kinks at 90 and 95 on WPP China 2020 (see ``benchmarks/graduation_validation.py``).

    Returns shape ``(..., 16)``, summing to 1 along the last axis.
    """
    if method not in ("log_survivors", "cumulative"):
        raise InputError(f"unknown old-age pattern method {method!r}", field="method",
                         fix="use log_survivors or cumulative")
    groups = np.stack(np.broadcast_arrays(*[np.asarray(c, dtype=float) for c in
                                            (counts_85_89, counts_90_94, counts_95_99,
                                             counts_100plus)]), axis=-1)
    groups = _as_counts(groups, "old-age group counts (85-89, 90-94, 95-99, 100+)")
    totals = groups.sum(axis=-1, keepdims=True)
    if (totals <= 0).any():
        raise InputError("85+ total is zero, so there is no age pattern to take",
                         field="old-age group counts", fix="pass counts with some persons 85+")
    shares = groups / totals
    ages = np.arange(16.0)
    if method == "log_survivors":
        # share aged 85+x and over at x = 0, 5, 10, 15; floored so that the log is finite
        survivors = 1.0 - np.concatenate([np.zeros_like(shares[..., :1]),
                                          np.cumsum(shares[..., :3], axis=-1)], axis=-1)
        log_survivors = np.log(np.maximum(survivors, 1e-15))
        from scipy.interpolate import PchipInterpolator

        curve = np.exp(PchipInterpolator([0.0, 5.0, 10.0, 15.0], log_survivors, axis=-1)(ages))
        single = -np.diff(curve, axis=-1)
    else:
        cumulative = np.concatenate([np.zeros_like(shares[..., :1]),
                                     np.cumsum(shares, axis=-1)], axis=-1)
        from scipy.interpolate import PchipInterpolator

        curve = PchipInterpolator([0.0, 5.0, 10.0, 15.0, 20.0], cumulative, axis=-1)(ages)
        single = np.diff(curve, axis=-1)
    single = np.clip(single, 0.0, None)  # float rounding only: both curves are monotone
    pattern = np.concatenate([single, shares[..., 3:4]], axis=-1)
    return _rescale_to_groups(pattern, shares, np.array([0, 5, 10, 15]))


def _rescale_to_groups(single: np.ndarray, group_totals: np.ndarray,
                       starts: np.ndarray) -> np.ndarray:
    """Scale each group of ``single`` so that it sums exactly to ``group_totals``."""
    index = _group_index(starts, single.shape[-1])
    sums = np.add.reduceat(single, starts, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, group_totals / np.where(sums > 0, sums, 1.0), 0.0)
    scaled = single * factor[..., index]
    # a group whose interpolated counts are all zero but whose total is not: spread evenly
    empty = (sums <= 0) & (group_totals > 0)
    if empty.any():
        widths = np.diff(np.append(starts, single.shape[-1]))
        even = (group_totals / widths)[..., index]
        scaled = np.where(empty[..., index], even, scaled)
    return scaled


def _check_pattern(open_age_pattern: object, n_open: int, batch_shape: tuple) -> np.ndarray:
    pattern = _as_counts(open_age_pattern, "open_age_pattern")
    if pattern.shape[-1] != n_open:
        raise InputError(f"has {pattern.shape[-1]} values but the open group needs "
                         f"{n_open} (one per age from its start to open_age)",
                         field="open_age_pattern")
    try:
        np.broadcast_shapes(pattern.shape[:-1], batch_shape)
    except ValueError:
        raise InputError(f"leading shape {pattern.shape[:-1]} does not match the counts' "
                         f"{batch_shape}", field="open_age_pattern") from None
    sums = pattern.sum(axis=-1, keepdims=True)
    if (np.abs(sums - 1.0) > 1e-6).any():
        raise InputError(f"proportions must sum to 1, got {float(np.ravel(sums)[0]):.6g}",
                         field="open_age_pattern", fix="divide by the total")
    return pattern / sums


def graduate(group_counts: object, group_starts: Sequence[int] | np.ndarray,
             open_age_pattern: object | None = None, open_age: int = 100,
             method: str = "spline") -> np.ndarray:
    """Persons by age group → persons by single year of age 0..open_age (open_age = open+).

    ``group_counts``: persons, shape ``(..., n_groups)``, batched over any leading axes (units,
    sexes). ``group_starts``: first age of each group, starting at 0, strictly increasing; the
    last group is open (e.g. ``[0, 1, 5, 10, …, 85]`` for the census). Single-year input and a
    higher open group are accepted; an open group starting above ``open_age`` is graduated as
    if closed and the ages from ``open_age`` up summed.

    ``open_age_pattern``: proportions at ages open_start..open_age (last = open), shape
    ``(..., open_age − open_start + 1)`` broadcastable to the counts' leading axes, summing to
    1. ``None`` uses :func:`stationary_old_age_pattern`. Ignored when the open group starts at
    or above ``open_age``.

    ``method``: ``"spline"`` (default; cubic spline of the cumulative, PCHIP in any group it
    would make negative) or ``"pchip"`` (monotone throughout). See the module docstring.

    Returns persons, shape ``(..., open_age + 1)``: every group total preserved (to float
    rounding), never negative.
    """
    if method not in _METHODS:
        raise InputError(f"unknown graduation method {method!r}", field="method",
                         fix=f"use one of {', '.join(_METHODS)}")
    counts = _as_counts(group_counts, "group_counts")
    starts = _as_group_starts(group_starts)
    if counts.shape[-1] != starts.size:
        raise InputError(f"{counts.shape[-1]} counts per row but {starts.size} group starts",
                         field="group_counts", fix="give one count per age group")
    if open_age < 1:
        raise InputError(f"must be at least 1, got {open_age}", field="open_age")
    batch_shape = counts.shape[:-1]
    open_start = int(starts[-1])
    closed_counts = counts[..., :-1]
    open_count = counts[..., -1:]

    if open_start >= open_age:
        single = _graduate_closed(closed_counts, starts, None, None, method)
        single = np.concatenate([single, open_count], axis=-1)
        return np.concatenate([single[..., :open_age],
                               single[..., open_age:].sum(axis=-1, keepdims=True)], axis=-1)

    n_open = open_age - open_start + 1
    if open_age_pattern is None:
        pattern = stationary_old_age_pattern(open_start, open_age)
    else:
        pattern = _check_pattern(open_age_pattern, n_open, batch_shape)
    pattern = np.broadcast_to(pattern, batch_shape + (n_open,))
    open_single = open_count * pattern
    single_closed = _graduate_closed(closed_counts, starts, open_single, open_start, method)
    return np.concatenate([single_closed, open_single], axis=-1)


def _graduate_closed(closed_counts: np.ndarray, starts: np.ndarray,
                     open_single: np.ndarray | None, open_start: int | None,
                     method: str) -> np.ndarray:
    """Single years 0..starts[-1]-1 from the closed groups (shape (..., n_groups - 1))."""
    top = int(starts[-1])
    if top == 0:
        return closed_counts[..., :0]
    knots = starts.astype(float)
    cumulative = np.concatenate([np.zeros_like(closed_counts[..., :1]),
                                 np.cumsum(closed_counts, axis=-1)], axis=-1)
    if open_single is not None:
        # pseudo-knots above the open start from the open-age pattern: they set the slope at
        # the top boundary; the closed groups' totals stay those of the knots below.
        n_open = open_single.shape[-1]
        offsets = [k for k in range(5, n_open - 1, 5)] + [n_open - 1]
        extra = np.cumsum(open_single, axis=-1)[..., [k - 1 for k in offsets]]
        knots = np.append(knots, [top + k for k in offsets])
        cumulative = np.concatenate([cumulative, cumulative[..., -1:] + extra], axis=-1)
    ages = np.arange(top + 1, dtype=float)
    closed_starts = starts[:-1]
    group_of_age = _group_index(closed_starts, top)
    if knots.size < 3:  # a single knot interval: both interpolants are linear
        method = "pchip"
    from scipy.interpolate import CubicSpline, PchipInterpolator  # on first use

    monotone = np.diff(PchipInterpolator(knots, cumulative, axis=-1)(ages), axis=-1)
    monotone = np.clip(monotone, 0.0, None)  # float rounding only
    if method == "pchip":
        single = monotone
    else:
        spline = np.diff(CubicSpline(knots, cumulative, axis=-1)(ages), axis=-1)
        scale = np.maximum(closed_counts.max(axis=-1, keepdims=True), 1.0)
        negative = spline < -1e-12 * scale
        group_negative = np.zeros(closed_counts.shape, dtype=bool)
        np.logical_or.at(np.moveaxis(group_negative, -1, 0), group_of_age,
                         np.moveaxis(negative, -1, 0))
        single = np.where(group_negative[..., group_of_age], monotone,
                          np.clip(spline, 0.0, None))
    return _rescale_to_groups(single, closed_counts, closed_starts)
