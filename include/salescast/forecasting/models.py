"""Candidate models. Each returns point forecasts for several forecast origins at once.

``forecast(y, origins, h, m)`` gives an array ``[len(origins), h]``: row i forecasts
``y[origins[i] : origins[i] + h]`` from ``y[: origins[i]]``. Computing every origin in one
call lets a model estimate its parameters once (at the first origin) and only re-filter the
data for the later ones, instead of re-estimating per backtest window: that is where most
of the time would go.

A model that does not converge or raises is skipped for the series (:class:`ModelSkipped`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Longest history a model estimates on; older data adds little for daily retail and costs time.
FIT_WINDOW = 364
TRAIN_WINDOW = 728


class ModelSkipped(Exception):
    """The model could not produce a forecast for this series (reason in the message)."""


def _guarded(call: Callable[[], np.ndarray], name: str) -> np.ndarray:
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


def seasonal_naive(y: np.ndarray, origins: Sequence[int], h: int, m: int) -> np.ndarray:
    """Repeat the last season (the last value when there is no season)."""
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        season = y[max(0, o - m) : o] if m > 1 and o >= m else y[o - 1 : o]
        out[i] = np.resize(season, h)
    return out


def ets_damped(y: np.ndarray, origins: Sequence[int], h: int, m: int) -> np.ndarray:
    """Holt-Winters: additive damped trend, additive season of length m.

    Smoothing parameters are estimated once on the year before the first origin; every
    origin then re-runs the recursions with those parameters (``optimized=False``)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "add" if m > 1 else None
    spec = {"trend": "add", "damped_trend": True, "seasonal": seasonal, "seasonal_periods": m if m > 1 else None}
    first = origins[0]
    if first < max(2 * m + 2, 10):
        raise ModelSkipped("ets_damped: too short")

    def estimate() -> np.ndarray:
        train = y[max(0, first - FIT_WINDOW) : first]
        model = ExponentialSmoothing(train, initialization_method="heuristic" if m > 1 else "estimated", **spec)
        fitted = model.fit(use_brute=False)  # the brute-force start grid costs more than the fit
        keys = ["smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend"]
        return np.array([fitted.params.get(k) if fitted.params.get(k) is not None else np.nan for k in keys])

    params = _guarded(estimate, "ets_damped") if m > 1 else None
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        train = y[max(0, o - TRAIN_WINDOW) : o]

        def refilter(train: np.ndarray = train) -> np.ndarray:
            model = ExponentialSmoothing(train, initialization_method="heuristic" if m > 1 else "estimated", **spec)
            if params is None:
                return model.fit().forecast(h)
            level, trend, season, damping = params
            kwargs = {"smoothing_level": level, "smoothing_trend": trend, "damping_trend": damping}
            if m > 1:
                kwargs["smoothing_seasonal"] = season
            return model.fit(optimized=False, **kwargs).forecast(h)

        out[i] = _guarded(refilter, "ets_damped")
    return out


def theta(y: np.ndarray, origins: Sequence[int], h: int, m: int) -> np.ndarray:
    """Theta method (statsmodels ThetaModel), additive deseasonalisation when m > 1."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        train = y[max(0, o - TRAIN_WINDOW) : o]
        if len(train) < 2 * m + 2:
            raise ModelSkipped("theta: too short")
        out[i] = _guarded(
            lambda train=train: (
                ThetaModel(train, period=m if m > 1 else None, deseasonalize=m > 1, method="additive").fit().forecast(h)
            ),
            "theta",
        )
    return out


def fourier_terms(t: np.ndarray, period: float, harmonics: int) -> np.ndarray:
    """Sine/cosine pairs of a long cycle (the year) at absolute positions ``t``."""
    angles = 2 * np.pi * np.outer(t, np.arange(1, harmonics + 1)) / period
    return np.hstack([np.sin(angles), np.cos(angles)])


YEAR_HARMONICS = 6
AR_TRAIN_WINDOW = 3 * 364


def autoreg(y: np.ndarray, origins: Sequence[int], h: int, m: int) -> np.ndarray:
    """ARIMA family: AR(p) with intercept, seasonal dummies and, for daily data with two
    years of history, yearly Fourier terms as exogenous regressors (statsmodels AutoReg, OLS)."""
    from statsmodels.tsa.ar_model import AutoReg

    lags = min(2 * m, 14) if m > 1 else 3
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        start = max(0, o - AR_TRAIN_WINDOW)
        train = y[start:o]
        if len(train) < 3 * lags + m + 2:
            raise ModelSkipped("autoreg: too short")
        yearly = m == 7 and len(train) >= 2 * 365
        exog = fourier_terms(np.arange(start, o), 365.25, YEAR_HARMONICS) if yearly else None
        future = fourier_terms(np.arange(o, o + h), 365.25, YEAR_HARMONICS) if yearly else None

        def fit_predict(train: np.ndarray = train, exog: np.ndarray | None = exog, future: np.ndarray | None = future):
            model = AutoReg(train, lags=lags, trend="c", seasonal=m > 1, period=m if m > 1 else None, exog=exog)
            return model.fit().predict(start=len(train), end=len(train) + h - 1, exog_oos=future)

        out[i] = _guarded(fit_predict, "autoreg")
    return out


def _croston_core(y: np.ndarray, alpha: float) -> tuple[float, float]:
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


def croston_sba(y: np.ndarray, origins: Sequence[int], h: int, m: int, alpha: float = 0.1) -> np.ndarray:
    """Croston with the Syntetos-Boylan bias correction, for intermittent demand."""
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        size, interval = _croston_core(np.clip(y[max(0, o - TRAIN_WINDOW) : o], 0, None), alpha)
        out[i] = (1 - alpha / 2) * size / interval
    return out


def tsb(y: np.ndarray, origins: Sequence[int], h: int, m: int, alpha: float = 0.1, beta: float = 0.05) -> np.ndarray:
    """Teunter-Syntetos-Babai: smooths demand probability every period, so dying items decay."""
    out = np.empty((len(origins), h))
    for i, o in enumerate(origins):
        train = np.clip(y[max(0, o - TRAIN_WINDOW) : o], 0, None)
        nonzero = train[train > 0]
        if nonzero.size == 0:
            out[i] = 0.0
            continue
        prob, size = float(np.mean(train[: min(len(train), 28)] > 0)), float(nonzero[0])
        for value in train:
            if value > 0:
                prob += beta * (1 - prob)
                size += alpha * (value - size)
            else:
                prob += beta * (0 - prob)
        out[i] = prob * size
    return out


@dataclass(frozen=True)
class Candidate:
    name: str
    forecast: Callable[[np.ndarray, Sequence[int], int, int], np.ndarray]
    intermittent_only: bool = False


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("seasonal_naive", seasonal_naive),
    Candidate("ets_damped", ets_damped),
    Candidate("theta", theta),
    Candidate("autoreg", autoreg),
    Candidate("croston_sba", croston_sba, intermittent_only=True),
    Candidate("tsb", tsb, intermittent_only=True),
)
MODEL_NAMES = (*tuple(c.name for c in CANDIDATES), "zero", "recent_mean")
