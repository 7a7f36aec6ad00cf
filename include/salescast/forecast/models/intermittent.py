"""Models for intermittent demand: most periods sell nothing, the rest a few units."""

from __future__ import annotations

from typing import Any

import numpy as np

from salescast.forecast.models.base import TRAIN_WINDOW, Context, Model


def croston_core(y: np.ndarray, alpha: float) -> tuple[float, float]:
    """Smoothed non-zero demand size and inter-demand interval (Croston's recursions)."""
    nonzero = np.flatnonzero(y > 0)
    if nonzero.size == 0:
        return 0.0, 1.0
    size, interval = float(y[nonzero[0]]), float(nonzero[0] + 1)
    last = nonzero[0]
    for idx in nonzero[1:]:
        size += alpha * (y[idx] - size)
        interval += alpha * ((idx - last) - interval)
        last = idx
    return size, max(interval, 1.0)


class CrostonSba(Model):
    """Croston with the Syntetos-Boylan bias correction: size over interval, times 1 - alpha/2."""

    name = "croston_sba"
    window = TRAIN_WINDOW
    intermittent_only = True

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        size, interval = croston_core(np.clip(train, 0, None), self.alpha)
        return np.full(h, (1 - self.alpha / 2) * size / interval)


class Tsb(Model):
    """Teunter-Syntetos-Babai: smooths the demand probability every period, so dying items decay."""

    name = "tsb"
    window = TRAIN_WINDOW
    intermittent_only = True

    def __init__(self, alpha: float = 0.1, beta: float = 0.05) -> None:
        self.alpha, self.beta = alpha, beta

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        train = np.clip(train, 0, None)
        nonzero = train[train > 0]
        if nonzero.size == 0:
            return np.zeros(h)
        prob, size = float(np.mean(train[: min(len(train), 28)] > 0)), float(nonzero[0])
        for value in train:
            if value > 0:
                prob += self.beta * (1 - prob)
                size += self.alpha * (value - size)
            else:
                prob += self.beta * (0 - prob)
        return np.full(h, prob * size)
