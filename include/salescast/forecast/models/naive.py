"""Seasonal naive: the benchmark every other model must beat."""

from __future__ import annotations

from typing import Any

import numpy as np

from salescast.forecast.models.base import Context, Model


class SeasonalNaive(Model):
    """Repeat the last season (the last value when there is no season, or not one yet)."""

    name = "seasonal_naive"

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        m = ctx.m
        season = train[-m:] if m > 1 and start + len(train) >= m else train[-1:]
        return np.resize(season, h)
