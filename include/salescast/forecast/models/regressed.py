"""Drivers for the smoothing models: regression first, then the model on what is left.

Holt-Winters and Theta have no place for regressors. Their ``_drivers`` twins estimate once,
by least squares on the training window, how much each known-ahead driver moves sales (with
a constant and, for seasons up to :data:`MAX_ETS_SEASON`, one dummy per season position, so
a weekday pattern is not taken for a promotion effect); the smoothing model then runs on the
sales minus those effects, and the effects of the drivers' future values are added back to
its forecast. Holt-Winters' parameters are the plain model's, estimated on the same
training window (``Context.fits``; estimated here only when the plain model did not run): the
drivers' effects are removed, not the series' level, trend and season the parameters describe,
and estimating them again would double the cost of the smoothing models for every series with
drivers. Theta estimates its weight at every origin; its twin estimates it once, on the net
series before the first origin (``Theta(weight_once=True)``), for the same reason. The backtest
decides per series whether a twin beats its plain model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from salescast.forecast.models.base import MAX_ETS_SEASON, Context, Model, ModelSkipped
from salescast.forecast.models.ets import EtsDamped
from salescast.forecast.models.theta import Theta


class Regressed(Model):
    """``base`` on sales net of the drivers' estimated effects, plus their future effects."""

    drivers = True
    screened = True
    base: Model

    def check(self, y: np.ndarray) -> None:
        self.base.check(y)

    def fit(self, history: np.ndarray, ctx: Context) -> Any:
        if ctx.regressors is None:
            raise ModelSkipped(f"{self.name}: the series has no known-ahead drivers")
        start = max(0, len(history) - self.window)
        effects = driver_effects(history[start:], ctx.regressors[start : len(history)], ctx.m)
        net = history - ctx.regressors[: len(history)] @ effects
        shared = ctx.fits.get((self.base.name, len(history))) if ctx.fits is not None else None
        return effects, shared if shared is not None else self.base.fit(net, ctx)

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        effects, inner = fitted
        assert ctx.regressors is not None  # fit refused the series otherwise
        effect = ctx.regressors[start : start + len(train) + h] @ effects
        return self.base.predict(train - effect[: len(train)], start, h, ctx, inner) + effect[len(train) :]


def driver_effects(y: np.ndarray, x: np.ndarray, m: int) -> np.ndarray:
    """One coefficient per driver column of ``x``: OLS of ``y`` on a constant, season-position
    dummies and the drivers. A driver that does not vary over the window says nothing
    (coefficient 0); too few periods for the design is :class:`ModelSkipped`."""
    varies = np.ptp(x, axis=0) > 0 if len(x) else np.zeros(x.shape[1], dtype=bool)
    if not varies.any():
        raise ModelSkipped("drivers: no driver varies over the training window")
    season = m if 1 < m <= MAX_ETS_SEASON and len(y) >= 2 * m else 1
    positions = np.arange(len(y)) % season
    dummies = (positions[:, None] == np.arange(season)[None, :]).astype(float)  # includes the constant
    design = np.hstack([dummies, x[:, varies]])
    if len(y) < design.shape[1] + 8:
        raise ModelSkipped("drivers: too few periods to estimate the drivers' effects")
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    effects = np.zeros(x.shape[1])
    effects[varies] = coefficients[season:]
    return effects


class EtsDampedDrivers(Regressed):
    name = "ets_damped_drivers"
    base = EtsDamped()
    window = EtsDamped.window


class ThetaDrivers(Regressed):
    name = "theta_drivers"
    base = Theta(weight_once=True)
    window = Theta.window
