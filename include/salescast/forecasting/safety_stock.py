"""Safety stock from the distribution of backtest errors of lead-time demand.

For a lead time L, every backtest window and every start step s (0 <= s <= h - L) gives one
error ``sum(y[s:s+L]) - sum(yhat[s:s+L])``. Safety stock is the service-level quantile of
those errors (never negative): the buffer that would have covered that share of lead-time
demand surprises. Series with too few samples borrow the shape of the pooled errors of all
series, scaled by their own demand level. The service level the policy *would have
achieved* is measured out of sample: the buffer estimated on one window is tested on the
others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_OWN_SAMPLES = 30


def lead_time_errors(points: np.ndarray, actuals: np.ndarray, lead_time: int) -> np.ndarray:
    """``[k, n_starts]`` lead-time demand errors (actual minus forecast) per window and start."""
    k, h = points.shape
    lead_time = min(lead_time, h)
    kernel = np.ones(lead_time)
    err = actuals - points
    return np.stack([np.convolve(err[i], kernel, mode="valid") for i in range(k)])


@dataclass
class SafetyStock:
    safety_stock: float
    lead_time_demand: float
    reorder_point: float
    method: str


def level_scale(history: np.ndarray, lead_time: int) -> float:
    """Typical lead-time demand, used to normalise errors for pooling."""
    recent = history[-56:] if history.size else history
    return max(float(np.mean(np.abs(recent))) * lead_time if recent.size else 0.0, 1e-9)


def safety_stock(
    errors: np.ndarray,
    forecast_mean: np.ndarray,
    lead_time: int,
    service_level: float,
    scale: float,
    pooled_normalized: np.ndarray | None,
) -> SafetyStock:
    samples = errors.ravel()
    if samples.size >= MIN_OWN_SAMPLES or pooled_normalized is None or pooled_normalized.size == 0:
        buffer = float(np.quantile(samples, service_level)) if samples.size else 0.0
        method = "series_errors"
    else:
        buffer = float(np.quantile(pooled_normalized, service_level)) * scale
        method = "pooled_errors"
    buffer = max(buffer, 0.0)
    demand = float(np.clip(forecast_mean[:lead_time], 0, None).sum())
    return SafetyStock(buffer, demand, demand + buffer, method)


def achieved_service_level(errors: np.ndarray, service_level: float) -> tuple[int, int]:
    """(covered, total) when each window's buffer comes from the other windows' errors."""
    k = errors.shape[0]
    covered = total = 0
    for i in range(k):
        train = errors[np.arange(k) != i].ravel() if k > 1 else errors.ravel()
        buffer = max(float(np.quantile(train, service_level)), 0.0) if train.size else 0.0
        covered += int((errors[i] <= buffer).sum())
        total += errors[i].size
    return covered, total
