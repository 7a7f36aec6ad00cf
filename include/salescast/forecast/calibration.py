"""Calibrated quantiles from backtest errors (split-conformal style), not textbook intervals.

For each series and model the backtest gives residuals ``y - yhat`` per window and horizon
step. Residuals are divided by the series' level at their forecast origin (mean absolute
sales over the periods before it, see :func:`level`), so errors measured when a growing
series was small still size the intervals correctly once it is large. Steps are grouped
into a few horizon buckets (errors grow with the step); the quantile ``tau`` of a bucket's
scaled residuals, times the current level, is added to the point forecast. To score a
window honestly its offsets come from the *other* windows (cross-fitting); the final
forecast uses all windows. Results are clipped at zero (unit sales) and made monotone
across quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def horizon_profile(residuals: np.ndarray) -> np.ndarray:
    """Relative spread of the errors per horizon step, ``g[h] = h ** b``.

    Errors grow with the step (by sqrt(h) for a random walk, not at all for white noise);
    a few windows cannot estimate each step's spread on its own, so the exponent ``b`` is
    fit by least squares on log mean |error| against log step, and kept within [0, 1]."""
    residuals = np.atleast_2d(residuals)
    h = residuals.shape[1]
    steps = np.arange(1, h + 1, dtype=float)
    spread = np.mean(np.abs(residuals), axis=0)
    if np.isnan(spread).any():  # censored periods (unknown demand, NaN) have no residual
        known = ~np.isnan(residuals)
        spread = np.where(known, np.abs(residuals), 0.0).sum(axis=0) / np.maximum(known.sum(axis=0), 1)
    if h < 3 or not np.all(spread > 0):
        return np.ones(h)
    slope = np.polyfit(np.log(steps), np.log(spread), 1)[0]
    return steps ** float(np.clip(slope, 0.0, 1.0))


def conformal_levels(taus: Sequence[float], n: int) -> np.ndarray:
    """Widen quantile levels away from the median by (n + 1) / n, the split-conformal
    finite-sample correction: with few residuals the plain empirical quantiles are too narrow."""
    levels = np.asarray(taus, dtype=float)
    return np.clip(0.5 + (levels - 0.5) * (n + 1) / max(n, 1), 0.0, 1.0)


def conformal_quantiles(residuals: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Split-conformal quantiles of a residual sample: levels widened by (n + 1) / n and the
    order statistic taken on the outer side (lower below the median, higher above), which
    is what makes the finite-sample guarantee hold; interpolating between order statistics
    pulls the tails in and made bands too narrow on a few dozen residuals."""
    levels = conformal_levels(taus, residuals.size)
    out = np.empty(len(levels))
    ordered = np.sort(residuals, axis=None) if residuals.size and np.all(np.isfinite(residuals)) else None
    for i, (tau, lvl) in enumerate(zip(taus, levels, strict=True)):
        method = "lower" if tau < 0.5 else "higher" if tau > 0.5 else "linear"
        if ordered is not None and method != "linear":  # numpy's order statistic, without its overhead
            rounding = np.floor if method == "lower" else np.ceil
            out[i] = ordered[int(rounding((ordered.size - 1) * lvl))]
        else:
            out[i] = np.quantile(residuals, lvl, method=method)  # type: ignore[call-overload]  # method is a literal
    return out


def standardized(residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals ``[k, h]`` divided by their horizon profile, flattened (those of censored
    periods, NaN, left out), and the profile."""
    residuals = np.atleast_2d(residuals)
    profile = horizon_profile(residuals)
    flat = (residuals / profile[None, :]).ravel()
    return flat[~np.isnan(flat)], profile


def offsets(residuals: np.ndarray, taus: Sequence[float], prior: np.ndarray | None = None) -> np.ndarray:
    """``residuals[k, h]`` -> quantile offsets ``[len(taus), h]``: every step's residuals,
    divided by the horizon profile, are pooled into one sample, and its conformal quantiles
    are stretched back by the profile (many more residuals per quantile than per step).

    ``prior`` (standardized quantiles pooled over comparable series) is averaged in: a few
    dozen residuals give noisy tail quantiles, and noise in a band's width costs coverage
    on average (a band too narrow loses more than one as much too wide gains)."""
    pooled, profile = standardized(residuals)
    if not pooled.size:  # every residual censored (unknown demand): the prior alone, if any
        return (np.zeros(len(taus)) if prior is None else prior)[:, None] * profile[None, :]
    quantiles = conformal_quantiles(pooled, taus)
    if prior is not None:
        quantiles = (quantiles + prior) / 2
    return quantiles[:, None] * profile[None, :]


def level(y: np.ndarray, origin: int, window: int) -> float:
    """Typical size of the series just before ``origin``: mean |y| over ``window`` periods,
    floored by a tenth of the mean over all earlier periods (an item that paused selling
    keeps a scale) and by a tiny positive number."""
    recent = np.abs(y[max(0, origin - window) : origin])
    earlier = np.abs(y[:origin])
    floor = 0.1 * float(earlier.mean()) if earlier.size else 0.0
    return max(float(recent.mean()) if recent.size else 0.0, floor, 1e-9)


def assemble(point: np.ndarray, offset: np.ndarray, nonnegative: bool = True) -> np.ndarray:
    """Point forecast + offsets -> quantiles ``[len(taus), h]``, >= 0 and monotone in tau."""
    q = point[None, :] + offset
    if nonnegative:
        q = np.clip(q, 0.0, None)
    return np.maximum.accumulate(q, axis=0)


def crossfit(
    points: np.ndarray, actuals: np.ndarray, taus: Sequence[float], levels: np.ndarray | None = None
) -> np.ndarray:
    """Quantiles for every backtest window using only the other windows' (scaled) residuals.

    ``levels`` holds each window's level at its origin (none: residuals are not scaled).
    With a single window there is nothing to hold out, so its own residuals are used
    (optimistic; the metrics record ``n_windows`` so this is visible)."""
    k = points.shape[0]
    levels = np.ones(k) if levels is None else np.asarray(levels, dtype=float)
    scaled = (actuals - points) / levels[:, None]
    out = np.empty((k, len(taus), points.shape[1]))
    for i in range(k):
        others = scaled[np.arange(k) != i] if k > 1 else scaled
        out[i] = assemble(points[i], offsets(others, taus) * levels[i])
    return out
