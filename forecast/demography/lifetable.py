"""Single-year period life tables from central death rates, and survival ratios for the engine.

Conventions (Preston, Heuveline & Guillot 2001, ch. 3; HMD Methods Protocol v6):

* ``mx`` is given for ages 0, 1, ..., A where A is the open age group A+.
* Separation factors a(x): infants use Andreev & Kingkade (2015), the formula of the Human
  Mortality Database and of UN WPP's single-year tables, by sex; ages 1..A-1 use a(x) = 0.5;
  the open group uses L(A) = l(A) / m(A) (a constant hazard in the open interval).
* q(x) = m(x) / (1 + (1 - a(x)) m(x)), capped at 1; q(A) = 1.
* Survival ratios indexed by age at the end of the step, as the engine expects:
  S(0) = L(0) / l(0) (births to age 0), S(x) = L(x) / L(x-1) for 1 <= x < A, and the open group
  S(A) = T(A) / T(A-1) (ages A-1 and A+ together to A+).

Arrays are batched: ``mx`` may carry any leading axes (year, sex, trajectory); the last axis is age.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.vocabulary import SEXES

# Andreev & Kingkade (2015) a0 for single-year tables: (upper m0 of segment, intercept, slope)
# by sex; above the last breakpoint a0 is constant. HMD Methods Protocol v6, table 1.
_A0_SEGMENTS = {
    "male": ((0.02300, 0.14929, -1.99545), (0.08307, 0.02832, 3.26201), 0.29915),
    "female": ((0.01724, 0.14903, -2.05527), (0.06891, 0.04667, 3.88089), 0.31411),
}


def infant_separation_factor(m0: np.ndarray, sex: str) -> np.ndarray:
    """a(0), the average years lived in the first year by infants who die (Andreev–Kingkade)."""
    (b1, c1, s1), (b2, c2, s2), top = _A0_SEGMENTS[sex]
    m0 = np.asarray(m0, dtype=float)
    return np.where(m0 < b1, c1 + s1 * m0, np.where(m0 < b2, c2 + s2 * m0, top))


@dataclass(frozen=True)
class LifeTable:
    """Life-table columns, each shaped like ``mx`` (..., n_ages); radix l(0) = 1."""

    mx: np.ndarray
    ax: np.ndarray
    qx: np.ndarray
    lx: np.ndarray
    dx: np.ndarray
    Lx: np.ndarray
    Tx: np.ndarray
    ex: np.ndarray

    @property
    def e0(self) -> np.ndarray:
        """Life expectancy at birth (years)."""
        return self.ex[..., 0]

    def survival_ratios(self) -> np.ndarray:
        """Survival ratios indexed by age at the end of a one-year step (see module docstring)."""
        ratios = np.empty_like(self.Lx)
        ratios[..., 0] = self.Lx[..., 0] / self.lx[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[..., 1:-1] = np.where(self.Lx[..., :-2] > 0,
                                         self.Lx[..., 1:-1] / self.Lx[..., :-2], 0.0)
            ratios[..., -1] = np.where(self.Tx[..., -2] > 0,
                                       self.Tx[..., -1] / self.Tx[..., -2], 0.0)
        return ratios


def life_table(mx: np.ndarray, sex: str | np.ndarray) -> LifeTable:
    """Build a single-year life table from central death rates ``mx`` (per person-year).

    ``sex`` is ``"male"``/``"female"`` or an array of those broadcasting against ``mx[..., 0]``
    (it selects the infant separation factor).
    """
    mx = np.asarray(mx, dtype=float)
    if np.any(~np.isfinite(mx)) or np.any(mx < 0):
        raise ValueError("mx must be finite and non-negative")
    m0 = mx[..., 0]
    sex_arr = np.asarray(sex)
    a0 = np.where(sex_arr == "male", infant_separation_factor(m0, "male"),
                  infant_separation_factor(m0, "female"))
    ax = np.full_like(mx, 0.5)
    ax[..., 0] = a0
    qx = np.minimum(mx / (1.0 + (1.0 - ax) * mx), 1.0)
    qx[..., -1] = 1.0
    survivorship = np.cumprod(1.0 - qx[..., :-1], axis=-1)
    lx = np.concatenate([np.ones_like(mx[..., :1]), survivorship], axis=-1)
    dx = lx * qx
    Lx = np.empty_like(mx)
    Lx[..., :-1] = lx[..., 1:] + ax[..., :-1] * dx[..., :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        open_L = np.where(mx[..., -1] > 0, lx[..., -1] / mx[..., -1], 0.0)
    Lx[..., -1] = open_L
    ax[..., -1] = np.where(dx[..., -1] > 0, open_L / np.where(dx[..., -1] > 0, dx[..., -1], 1),
                           0.0)
    Tx = np.cumsum(Lx[..., ::-1], axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = np.where(lx > 0, Tx / np.where(lx > 0, lx, 1.0), 0.0)
    return LifeTable(mx=mx, ax=ax, qx=qx, lx=lx, dx=dx, Lx=Lx, Tx=Tx, ex=ex)


def survival_ratios_from_mx(mx: np.ndarray, sex: str | np.ndarray) -> np.ndarray:
    """The engine's survival ratios from central death rates (single years, open age last)."""
    return life_table(mx, sex).survival_ratios()


def survival_ratios_by_sex(mx: np.ndarray) -> np.ndarray:
    """Survival ratios from central death rates whose second-to-last axis is sex
    (male, female), shape (..., 2, n_ages), as the engine's population is laid out."""
    return life_table(mx, np.array(SEXES)).survival_ratios()


def life_expectancy(mx: np.ndarray, sex: str | np.ndarray, age: int = 0) -> np.ndarray:
    """Life expectancy at ``age`` (years) from central death rates."""
    return life_table(mx, sex).ex[..., age]


def fit_to_e0(mx: np.ndarray, sex: str, target_e0: float, *,
              bounds: tuple[float, float] = (0.05, 20.0)) -> tuple[np.ndarray, float]:
    """Scale a schedule proportionally, k * mx, so that its e0 equals ``target_e0``.

    A proportional shift of the hazard at every age (the "proportional hazards" or level
    adjustment); e0 decreases monotonically in k, so the root is unique. Returns the fitted
    schedule and k. Raises ``ValueError`` if the target cannot be reached within ``bounds``.
    """
    mx = np.asarray(mx, dtype=float)

    def gap(k: float) -> float:
        return float(life_expectancy(k * mx, sex)) - target_e0

    low, high = bounds
    if gap(low) < 0 or gap(high) > 0:
        raise ValueError(f"target e0 {target_e0} is outside what scaling mx by "
                         f"{low}..{high} can reach")
    from scipy.optimize import brentq  # scipy on first use: a plain run needs none

    k = brentq(gap, low, high, xtol=1e-12, rtol=1e-14)
    return k * mx, k
