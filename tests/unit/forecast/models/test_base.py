"""The engine owns origins and training windows: forecast_paths fits once, predicts per origin."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from salescast.forecast.models.base import Context, Model, ModelSkipped, forecast_paths


class LastValuePlusFit(Model):
    """A real model small enough to check by hand: the last value of its window plus the
    mean of the history it was fit on; it records what the engine gave it."""

    name = "last_plus_fit"
    window = 3

    def __init__(self) -> None:
        self.fits: list[np.ndarray] = []
        self.calls: list[tuple[list[float], int]] = []

    def fit(self, history: np.ndarray, ctx: Context) -> Any:
        self.fits.append(history.copy())
        return float(history.mean())

    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        self.calls.append((train.tolist(), start))
        return np.full(h, train[-1] + fitted)


def test_fit_once_on_the_history_before_the_first_origin_then_predict_from_each_window():
    y = np.arange(10.0)  # 0..9
    model = LastValuePlusFit()
    paths = forecast_paths(model, y, [4, 6, 10], 2, Context())
    assert [f.tolist() for f in model.fits] == [[0.0, 1.0, 2.0, 3.0]]  # once, y before origin 4
    assert model.calls == [([1.0, 2.0, 3.0], 1), ([3.0, 4.0, 5.0], 3), ([7.0, 8.0, 9.0], 7)]
    np.testing.assert_array_equal(paths, [[4.5, 4.5], [6.5, 6.5], [10.5, 10.5]])  # last + mean(0..3)


def test_a_model_that_refuses_the_series_is_skipped_before_any_fit():
    class PositiveOnly(LastValuePlusFit):
        def check(self, y: np.ndarray) -> None:
            if np.any(y <= 0):
                raise ModelSkipped("positive only")

    model = PositiveOnly()
    with pytest.raises(ModelSkipped, match="positive only"):
        forecast_paths(model, np.array([1.0, 0.0, 2.0, 3.0]), [2], 1, Context())
    assert model.fits == []
