"""The model interface, and how the engine runs a model over its backtest origins."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

# Longest history a model estimates on; older data adds little for daily retail and costs time.
FIT_WINDOW = 364
TRAIN_WINDOW = 728
AR_TRAIN_WINDOW = 3 * 364
# Holt-Winters with a long season (52 weeks) has more states than 2-3 years can estimate:
# such seasons are left to Fourier terms (autoreg) and seasonal differences (sdiff_ar).
MAX_ETS_SEASON = 24


class ModelSkipped(Exception):
    """The model could not produce a forecast for this series (reason in the message)."""


@dataclass(frozen=True)
class Context:
    """What a model may know besides the values: all arrays are aligned with the series.

    ``events`` has one row per period of the series plus the horizon (so future holidays are
    known) and one 0/1 column per holiday; ``None`` when no holiday calendar is set.
    ``regressors`` is laid out the same way with one column per known-ahead driver
    (salescast.forecast.drivers); ``None`` when the series has none."""

    m: int = 1
    year: float | None = None  # periods per year, for yearly Fourier terms (None: no yearly cycle)
    events: np.ndarray | None = None
    regressors: np.ndarray | None = None
    # What each model's ``fit`` estimated on this series, by (model name, periods fitted on):
    # forecast_paths records it, a model built on another may reuse it (the drivers twins).
    fits: dict[tuple[str, int], Any] | None = None


class Model(ABC):
    """One forecasting model for one series.

    The engine calls ``check`` with the whole series, ``fit`` once with the series before the
    first origin, then ``predict`` from every origin with the ``window`` periods before it.
    Estimating once and only re-filtering at later origins is where the speed of a
    backtest comes from. Any failure is :class:`ModelSkipped`: the series goes on without
    this model."""

    name: ClassVar[str]
    window: ClassVar[int] = TRAIN_WINDOW  # periods before an origin that ``predict`` trains on
    intermittent_only: ClassVar[bool] = False  # only offered to intermittent series
    drivers: ClassVar[bool] = False  # reads ctx.regressors: only offered to series that have them
    # only offered where a screening twin showed the drivers help (registry.drivers_helped)
    screened: ClassVar[bool] = False

    def check(self, y: np.ndarray) -> None:  # noqa: B027 - most models take every series
        """Raise :class:`ModelSkipped` if the model cannot take this series at all."""

    def fit(self, history: np.ndarray, ctx: Context) -> Any:
        """Parameters estimated once on ``history`` (the series before the first origin)."""
        return None

    @abstractmethod
    def predict(self, train: np.ndarray, start: int, h: int, ctx: Context, fitted: Any) -> np.ndarray:
        """``h`` periods after ``train`` (the series from position ``start`` to an origin)."""


def forecast_paths(model: Model, y: np.ndarray, origins: Sequence[int], h: int, ctx: Context) -> np.ndarray:
    """``[len(origins), h]``: row i forecasts ``y[origins[i] : origins[i] + h]`` from the
    ``model.window`` periods before ``origins[i]``."""
    model.check(y)
    fitted = model.fit(y[: origins[0]], ctx)
    if ctx.fits is not None:
        ctx.fits[(model.name, origins[0])] = fitted
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        start = max(0, o - model.window)
        out[i] = model.predict(y[start:o], start, h, ctx, fitted)
    return out


def guarded(call: Callable[[], np.ndarray], name: str) -> np.ndarray:
    """Run statsmodels quietly; a convergence warning or an error skips the model."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as error:
            raise ModelSkipped(f"{name}: {type(error).__name__}: {error}") from None
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        raise ModelSkipped(f"{name}: did not converge")
    result = np.asarray(result, dtype=float)
    if not np.all(np.isfinite(result)):
        raise ModelSkipped(f"{name}: non-finite forecast")
    return result
