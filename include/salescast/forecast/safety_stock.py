"""Safety stock from the distribution of backtest errors of lead-time demand.

For a lead time L, every backtest window and every start step s (0 <= s <= h - L) gives one
error ``sum(y[s:s+L]) - sum(yhat[s:s+L])``. Safety stock is the service-level quantile of
those errors (never negative): the buffer that would have covered that share of lead-time
demand surprises. Errors are divided by the series' level at each window's origin (as the
forecast bands are, see calibration.level) and the buffer is multiplied back by today's
level, so a growing series is not buffered by the errors of when it was small; the
quantile is the split-conformal one (calibration.conformal_quantiles), which holds its
level on few samples where plain interpolation falls short. Series with too few samples
borrow the pooled errors of comparable series (same intermittent class; the engine pools
them), and say so in ``method``. The service level the policy *would have achieved* is
measured out of sample: the buffer estimated on some windows is tested on another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salescast.forecast.calibration import conformal_quantiles

MIN_OWN_SAMPLES = 30


def lead_time_errors(points: np.ndarray, actuals: np.ndarray, lead_time: int) -> np.ndarray:
    """``[k, n_starts]`` lead-time demand errors (actual minus forecast) per window and start."""
    k, h = points.shape
    lead_time = min(lead_time, h)
    kernel = np.ones(lead_time)
    err = actuals - points
    return np.stack([np.convolve(err[i], kernel, mode="valid") for i in range(k)])


def history_errors(history: np.ndarray, lead_time: int, window: int = 56) -> np.ndarray:
    """``[1, n]`` lead-time demand deviations from the mean over the recent history, for a
    series that had no backtest (a short or constant one): its own variability, so a
    constant seller is not buffered by other series' errors."""
    recent = np.asarray(history[-window:], dtype=float)
    if recent.size < lead_time:
        return np.zeros((1, 0))
    return np.convolve(recent - recent.mean(), np.ones(lead_time), mode="valid")[None, :]


@dataclass
class SafetyStock:
    safety_stock: float
    lead_time_demand: float
    reorder_point: float
    method: str


def safety_stock(
    errors: np.ndarray,
    forecast_mean: np.ndarray,
    lead_time: int,
    service_level: float,
    scale: float,
    pooled: tuple[float, float] | None,
) -> SafetyStock:
    """``errors`` are level-scaled; ``scale`` is today's level; ``pooled`` is the service-level
    quantile of comparable series' error *shapes* (errors over their mean absolute size) and
    of their level-scaled errors.

    The lead-time sums of one window overlap, so even 30 of them hold little evidence
    about the tail: the series' own quantile is averaged with the pooled shape quantile
    times the series' own error size. With fewer than MIN_OWN_SAMPLES errors the pooled
    shape alone is used (``pooled_errors``); with none, the pooled level-scaled quantile.
    Without a pool (too few comparable series) a series with fewer than MIN_OWN_SAMPLES
    errors still gets its own quantile, flagged ``few_errors``: thin evidence."""
    samples = errors.ravel()
    size = float(np.mean(np.abs(samples))) if samples.size else 0.0
    if pooled is None:
        buffer = float(conformal_quantiles(samples, [service_level])[0]) if samples.size else 0.0
        method = "series_errors" if samples.size >= MIN_OWN_SAMPLES else "few_errors"
    elif samples.size >= MIN_OWN_SAMPLES:
        buffer = (float(conformal_quantiles(samples, [service_level])[0]) + pooled[0] * size) / 2
        method = "series_errors"
    else:
        buffer = pooled[0] * size if samples.size else pooled[1]
        method = "pooled_errors"
    buffer = max(buffer * scale, 0.0)
    demand = float(np.clip(forecast_mean[:lead_time], 0, None).sum())
    return SafetyStock(buffer, demand, demand + buffer, method)


def pooled_quantiles(errors: list[np.ndarray], service_level: float) -> tuple[float, float] | None:
    """(shape quantile, level-scaled quantile) of several series' level-scaled errors."""
    errors = [e.ravel() for e in errors if e.size]
    if not errors:
        return None
    shapes = [e / max(float(np.mean(np.abs(e))), 1e-12) for e in errors]
    return (
        float(conformal_quantiles(np.concatenate(shapes), [service_level])[0]),
        float(conformal_quantiles(np.concatenate(errors), [service_level])[0]),
    )


def achieved_service_level(errors: np.ndarray, service_level: float) -> tuple[int, int]:
    """(covered, total) when each window's buffer comes from the other windows' errors."""
    k = errors.shape[0]
    covered = total = 0
    for i in range(k):
        train = errors[np.arange(k) != i].ravel() if k > 1 else errors.ravel()
        buffer = max(float(conformal_quantiles(train, [service_level])[0]), 0.0) if train.size else 0.0
        covered += int((errors[i] <= buffer).sum())
        total += errors[i].size
    return covered, total
