"""The Theta method (Assimakopoulos & Nikolopoulos 2000), winner of the M3 competition."""

from __future__ import annotations

from typing import Any

import numpy as np

from salescast.forecast import smoothing
from salescast.forecast.models.base import TRAIN_WINDOW, Context, Model, ModelSkipped, guarded


class Theta(Model):
    """statsmodels' ThetaModel (replayed in numpy: :func:`smoothing.theta`), additive
    deseasonalisation when m > 1."""

    name = "theta"
    window = TRAIN_WINDOW

    def __init__(self, weight_once: bool = False) -> None:
        """``weight_once``: estimate the SES weight once, on the window before the first origin,
        and keep it at later origins: the engine's rule for the other models (estimate once,
        re-filter). Plain Theta re-estimates at every origin, which its twin with drivers cannot
        afford on every series with drivers; the weight describes how fast the level moves,
        which the drivers' effects, removed from the series, do not change."""
        self.weight_once = weight_once

    def fit(self, history: np.ndarray, ctx: Context) -> Any:
        train = history[-self.window :]
        if not self.weight_once or len(train) < 2 * ctx.m + 2:
            return None  # estimated at each origin (predict says why a series is too short)
        try:
            with np.errstate(divide="raise", over="raise", invalid="raise"):
                return smoothing.theta_weight(train, ctx.m)
        except smoothing.NotConverged as why:
            raise ModelSkipped(str(why)) from None
        except (smoothing.NotApplicable, ArithmeticError, ValueError, FloatingPointError):
            return None  # estimated at each origin, as plain Theta does

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = ctx.m
        if len(train) < 2 * m + 2:
            raise ModelSkipped("theta: too short")
        fast = self._fast(train, m, h, fitted)
        if fast is not None:
            return fast
        return guarded(
            lambda: (
                ThetaModel(train, period=m if m > 1 else None, deseasonalize=m > 1, method="additive").fit().forecast(h)
            ),
            "theta",
        )

    @staticmethod
    def _fast(train: np.ndarray, m: int, h: int, weight: float | None = None) -> np.ndarray | None:
        """None where the numpy path does not apply (e.g. a flat window whose likelihood is
        degenerate): statsmodels decides."""
        try:
            with np.errstate(divide="raise", over="raise", invalid="raise"):
                out = smoothing.theta(train, m, h, weight)
        except smoothing.NotConverged as why:
            raise ModelSkipped(str(why)) from None
        except (smoothing.NotApplicable, ArithmeticError, ValueError, FloatingPointError):
            return None
        return out if np.all(np.isfinite(out)) else None
