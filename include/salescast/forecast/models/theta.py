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

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        m = ctx.m
        if len(train) < 2 * m + 2:
            raise ModelSkipped("theta: too short")
        fast = self._fast(train, m, h)
        if fast is not None:
            return fast
        return guarded(
            lambda: (
                ThetaModel(train, period=m if m > 1 else None, deseasonalize=m > 1, method="additive").fit().forecast(h)
            ),
            "theta",
        )

    @staticmethod
    def _fast(train: np.ndarray, m: int, h: int) -> np.ndarray | None:
        """None where the numpy path does not apply (e.g. a flat window whose likelihood is
        degenerate): statsmodels decides."""
        try:
            with np.errstate(divide="raise", over="raise", invalid="raise"):
                out = smoothing.theta(train, m, h)
        except smoothing.NotConverged as why:
            raise ModelSkipped(str(why)) from None
        except (smoothing.NotApplicable, ArithmeticError, ValueError, FloatingPointError):
            return None
        return out if np.all(np.isfinite(out)) else None
