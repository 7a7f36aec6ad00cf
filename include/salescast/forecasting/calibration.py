"""Calibrated quantiles from backtest errors (split-conformal style), not textbook intervals.

For each series and model the backtest gives residuals ``y - yhat`` per window and horizon
step. Steps are grouped into a few horizon buckets (errors grow with the step); the
quantile ``tau`` of a bucket's residuals is added to the point forecast. To score a window
honestly its offsets come from the *other* windows (cross-fitting); the final forecast uses
all windows. Results are clipped at zero (unit sales) and made monotone across quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def horizon_buckets(h: int) -> np.ndarray:
    """Bucket id per step: one bucket up to two weeks, else about four equal buckets."""
    n_buckets = 1 if h <= 14 else 4
    return np.minimum((np.arange(h) * n_buckets) // h, n_buckets - 1)


def conformal_levels(taus: Sequence[float], n: int) -> np.ndarray:
    """Widen quantile levels away from the median by (n + 1) / n, the split-conformal
    finite-sample correction: with few residuals the plain empirical quantiles are too narrow."""
    taus = np.asarray(taus, dtype=float)
    return np.clip(0.5 + (taus - 0.5) * (n + 1) / max(n, 1), 0.0, 1.0)


def offsets(residuals: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """``residuals[k, h]`` -> quantile offsets ``[len(taus), h]`` pooled per horizon bucket."""
    residuals = np.atleast_2d(residuals)
    h = residuals.shape[1]
    buckets = horizon_buckets(h)
    out = np.zeros((len(taus), h))
    for b in np.unique(buckets):
        pool = residuals[:, buckets == b].ravel()
        out[:, buckets == b] = np.quantile(pool, conformal_levels(taus, pool.size), method="linear")[:, None]
    return out


def assemble(point: np.ndarray, offset: np.ndarray, nonnegative: bool = True) -> np.ndarray:
    """Point forecast + offsets -> quantiles ``[len(taus), h]``, >= 0 and monotone in tau."""
    q = point[None, :] + offset
    if nonnegative:
        q = np.clip(q, 0.0, None)
    return np.maximum.accumulate(q, axis=0)


def crossfit(points: np.ndarray, actuals: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Quantiles for every backtest window using only the other windows' residuals.

    With a single window there is nothing to hold out, so its own residuals are used
    (optimistic; the metrics record ``n_windows`` so this is visible)."""
    residuals = actuals - points
    k = points.shape[0]
    out = np.empty((k, len(taus), points.shape[1]))
    for i in range(k):
        others = residuals[np.arange(k) != i] if k > 1 else residuals
        out[i] = assemble(points[i], offsets(others, taus))
    return out
