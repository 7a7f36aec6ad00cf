"""Fallback models: what a series gets when no bake-off can be run on it.

Each gives the band (quantiles x horizon) and the mean directly from the series, with no
backtest. Which one a series gets, and why, is the engine's fallback policy
(:mod:`salescast.forecast.fallbacks`).
"""

from __future__ import annotations

from statistics import NormalDist
from typing import ClassVar

import numpy as np

from salescast.forecast import calibration

RECENT = 28  # periods a recent mean reads


class Zero:
    """No sales in the history: zero, with a zero band."""

    name: ClassVar[str] = "zero"

    def band(self, y: np.ndarray, quantiles: tuple[float, ...], h: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((len(quantiles), h)), np.zeros(h)


class RecentMean:
    """The mean of the last RECENT periods, with their empirical quantiles as the band."""

    name: ClassVar[str] = "recent_mean"

    def band(self, y: np.ndarray, quantiles: tuple[float, ...], h: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        recent = y[-RECENT:] if y.size else np.zeros(1)
        mean = np.full(h, float(np.mean(recent)))
        q = np.repeat(np.quantile(recent, quantiles)[:, None], h, axis=1)
        return np.maximum.accumulate(np.clip(q, 0, None), axis=0), mean


class SeasonalNaiveBand:
    """Seasonal naive with its textbook band, for a series with a whole season but too short
    for a bake-off (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.,
    5.5): normal, with the root mean square of the seasonal changes seen so far as the
    one-season sigma, times sqrt(seasons ahead). Those changes lie between the same one or
    two years, a single draw of how far a year moves the level: their empirical quantiles
    (two clusters, one per year) would give a band narrower than the normal one."""

    name: ClassVar[str] = "seasonal_naive"

    def band(self, y: np.ndarray, quantiles: tuple[float, ...], h: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        point = np.resize(y[-m:], h)
        changes = y[m:] - y[:-m]
        sigma = float(np.sqrt(np.mean(changes**2)))
        seasons_ahead = np.floor(np.arange(h) / m) + 1
        z = np.array([NormalDist().inv_cdf(tau) for tau in quantiles])
        band = calibration.assemble(point, z[:, None] * sigma * np.sqrt(seasons_ahead)[None, :])
        return band, np.clip(point, 0, None)
