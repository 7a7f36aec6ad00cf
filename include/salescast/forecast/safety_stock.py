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
them), and say so in ``method``. A series with no lead-time error at all (shorter than
the lead time) is still sized from its own level: the pooled level-scaled quantile times
its own level (``pooled_relative_errors``), or without a pool the normal approximation of
its own day-to-day spread (``own_spread``); never an absolute buffer borrowed from series of
another scale. The service level the policy *would have achieved* is measured out of
sample: the buffer estimated on some windows is tested on another.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

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


def own_spread(history: np.ndarray, lead_time: int, service_level: float) -> float:
    """Service-level quantile of lead-time demand deviations for a series too short to have
    any (normal, independent days): z x the day-to-day standard deviation x sqrt(lead time).

    One value has no spread to measure: its own size stands in for the standard deviation
    (a coefficient of variation of 1, the spread of a new item's first days)."""
    values = np.asarray(history, dtype=float)
    if values.size == 0:
        return 0.0
    sigma = float(np.std(values, ddof=1)) if values.size > 1 else abs(float(values[0]))
    return NormalDist().inv_cdf(service_level) * sigma * float(np.sqrt(lead_time))


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
    spread: float = 0.0,
) -> SafetyStock:
    """``errors`` are level-scaled; ``scale`` is today's level; ``pooled`` is the service-level
    quantile of comparable series' error *shapes* (errors over their mean absolute size) and
    of their level-scaled errors.

    The lead-time sums of one window overlap, so even 30 of them hold little evidence
    about the tail: the series' own quantile is averaged with the pooled shape quantile
    times the series' own error size. With fewer than MIN_OWN_SAMPLES errors the pooled
    shape alone is used (``pooled_errors``); with none, the pooled level-scaled quantile.
    Without a pool (too few comparable series) a series with fewer than MIN_OWN_SAMPLES
    errors still gets its own quantile, flagged ``few_errors``: thin evidence. With no error
    at all, the pooled level-scaled quantile times ``scale`` (``pooled_relative_errors``), or
    without a pool ``spread``, the series' own normal buffer in units (``own_spread``)."""
    samples = known_errors(errors)
    size = float(np.mean(np.abs(samples))) if samples.size else 0.0
    if not samples.size:
        if pooled is not None:
            buffer, method = pooled[1] * scale, "pooled_relative_errors"
        else:
            buffer, method = spread, "own_spread"
        return _stock(buffer, forecast_mean, lead_time, method)
    if pooled is None:
        buffer = float(conformal_quantiles(samples, [service_level])[0])
        method = "series_errors" if samples.size >= MIN_OWN_SAMPLES else "few_errors"
    elif samples.size >= MIN_OWN_SAMPLES:
        buffer = (float(conformal_quantiles(samples, [service_level])[0]) + pooled[0] * size) / 2
        method = "series_errors"
    else:
        buffer = pooled[0] * size
        method = "pooled_errors"
    return _stock(buffer * scale, forecast_mean, lead_time, method)


def _stock(buffer: float, forecast_mean: np.ndarray, lead_time: int, method: str) -> SafetyStock:
    buffer = max(buffer, 0.0)
    demand = float(np.clip(forecast_mean[:lead_time], 0, None).sum())
    return SafetyStock(buffer, demand, demand + buffer, method)


def pooled_quantiles(errors: list[np.ndarray], service_level: float) -> tuple[float, float] | None:
    """(shape quantile, level-scaled quantile) of several series' level-scaled errors."""
    errors = [e for e in map(known_errors, errors) if e.size]
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
        train = known_errors(errors[np.arange(k) != i] if k > 1 else errors)
        buffer = max(float(conformal_quantiles(train, [service_level])[0]), 0.0) if train.size else 0.0
        tested = known_errors(errors[i])
        covered += int((tested <= buffer).sum())
        total += tested.size
    return covered, total


def known_errors(errors: np.ndarray) -> np.ndarray:
    """The errors flattened, without those of lead times holding a censored period (NaN)."""
    flat = errors.ravel()
    return flat[~np.isnan(flat)]
