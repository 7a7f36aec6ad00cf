"""Exponential smoothing recursions in numpy, the same arithmetic as statsmodels, without its overhead.

Profiling the daily bake-off (1,000 series x 730 days, h=7) put 80% of the time in two
statsmodels calls repeated at every backtest origin: Holt-Winters re-filtered with fixed
parameters (a Python loop plus pandas bookkeeping, ~16 ms an origin) and ThetaModel
(a state-space Kalman filter driven by L-BFGS-B, ~23 ms an origin). Both models are cheap
in themselves:

* :func:`holt_winters` replays ``ExponentialSmoothing(trend="add", damped_trend=True,
  seasonal="add", initialization_method="heuristic").fit(optimized=False, ...).forecast(h)``
  operation for operation (same initial values, same recursions, same forecast quirks),
  so its forecasts equal the library's to rounding.
* :func:`theta` replays ``ThetaModel(..., method="additive").fit().forecast(h)``: the same
  seasonality test, decomposition, OLS drift and SES whose smoothing weight maximises the
  same concentrated likelihood with the same optimizer, start and step; the likelihood is
  computed in closed form (a linear filter) instead of by a Kalman filter, so the weight
  agrees to the optimizer's tolerance, not bit for bit.

Unit tests compare both with statsmodels (tests/unit/forecast/test_smoothing.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import fmin_l_bfgs_b
from scipy.signal import lfilter

# pinv of the level/trend regression on the first 10 (trend) values, as statsmodels solves it
_LEVEL_DESIGN = np.linalg.pinv(np.c_[np.ones(10), np.arange(10) + 1])


class NotApplicable(ValueError):
    """The fast path does not cover this input; the caller uses statsmodels instead."""


class NotConverged(ArithmeticError):
    """The optimizer stopped unconverged (where statsmodels warns ConvergenceWarning)."""


def _centered_mean(x: np.ndarray, m: int) -> np.ndarray:
    """pandas' ``rolling(m, center=True).mean()`` (then the 2-mean for even m), NaN-padded."""
    out = np.full(len(x), np.nan)
    sums = np.convolve(x, np.ones(m), mode="valid") / m
    offset = m // 2
    out[offset : offset + len(sums)] = sums
    if m % 2 == 0:
        shifted = np.r_[out[1:], np.nan]
        out = np.r_[np.nan, (shifted[1:] + shifted[:-1]) / 2]
    return out


def heuristic_init(y: np.ndarray, m: int) -> tuple[float, float, np.ndarray]:
    """Initial level, trend and seasons of Hyndman et al. 2.6 (statsmodels' ``heuristic``)."""
    n = len(y)
    min_obs = 10 + 2 * (m // 2)
    if n < 10 or n < 2 * m or n < min_obs:
        raise NotApplicable("too short for the heuristic initialisation")
    cycles = max(min(5, n // m), math.ceil(min_obs / m))
    series = y[: m * cycles]
    trend = _centered_mean(series, m)
    padded = np.full(cycles * m, np.nan)
    padded[: len(series)] = series - trend
    seasons = np.nanmean(padded.reshape(cycles, m).T, axis=1)
    seasons -= np.mean(seasons)
    beta = _LEVEL_DESIGN @ trend[~np.isnan(trend)][:10]
    return float(beta[0]), float(beta[1]), seasons


def holt_winters(
    y: np.ndarray, level: float, trend: float, seasonal: float, damping: float, m: int, h: int
) -> np.ndarray:
    """``h`` forecasts of additive damped Holt-Winters with fixed smoothing parameters.

    statsmodels' forecast re-runs the recursions from the fitted parameters, starting from
    the heuristic initial trend itself (its fit starts from that value times the damping,
    but only the fitted values see that run)."""
    l0, b0, s0 = heuristic_init(y, m)
    alpha, beta, gamma, phi = float(level), float(trend), float(seasonal), float(damping)
    alphac, betac, gammac = 1 - alpha, 1 - beta, 1 - gamma
    lvl = l0
    b = b0
    s = [float(v) for v in s0]
    for i, value in enumerate(y.tolist()):
        season = s[i]
        damped = b * phi
        base = lvl + damped
        new = alpha * value - alpha * season + alphac * base
        b = beta * (new - lvl) + betac * damped
        s.append(gamma * value - gamma * base + gammac * season)
        lvl = new
    n = len(y)
    s = s[: n + m - 1] + [s[n - 1 + j % m] for j in range(h + 2)]
    steps = np.cumsum(np.repeat(phi, h + 1) ** np.arange(1, h + 2))
    return np.array([lvl + b * steps[j] + s[n + j] for j in range(h)])


def estimate_only(model: Any) -> np.ndarray | None:
    """Smoothing level, trend, seasonal and damping of ``model.fit(use_brute=False)``, by the
    same optimisation without what ``fit`` does after it (a pure-Python re-filter and a
    results object: 40% of an estimate, and only the four numbers are used).

    Calls statsmodels' own ``_optimize_parameters`` as ``fit`` does; None when this
    statsmodels has no such step (the caller then fits in full)."""
    from statsmodels.tsa.holtwinters import model as hw

    if not (hasattr(hw, "_OptConfig") and hasattr(model, "_optimize_parameters")):
        return None
    config = hw._OptConfig()
    config.alpha = config.beta = config.phi = config.gamma = None
    config.level = config.trend = config.seasonal = None
    config.y, config.params, config.mle_retvals, config.mask = model._y, None, None, None
    found = model._optimize_parameters(config, False, "L-BFGS-B", {})
    values = [found.alpha, found.beta, found.gamma, found.phi if model.damped_trend else np.nan]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ---- theta -----------------------------------------------------------------------------

_SES_LOW, _SES_HIGH = 1e-4, 1 - 1e-4  # statsmodels' bounds for the smoothing weight
_THETA_SEASONAL_LIMIT = 2.705543454095404  # chi2(1) 90% (statsmodels' seasonality test)


def _acf(x: np.ndarray, nlags: int) -> np.ndarray:
    """statsmodels' ``acf(x, nlags, fft=True)``: biased autocovariance by FFT, normalised."""
    n = len(x)
    centered = x - x.mean()
    nfft = _next_regular(2 * n + 1)
    spectrum = np.fft.fft(centered, n=nfft)
    acov = np.fft.ifft(spectrum * np.conjugate(spectrum))[: nlags + 1].real / n
    return acov / acov[0]


def _next_regular(target: int) -> int:
    """Smallest 5-smooth number >= target (scipy's FFT size, as statsmodels picks it)."""
    from scipy.fft import next_fast_len

    return next_fast_len(target, real=True)


def _seasonal_decompose_additive(y: np.ndarray, m: int) -> np.ndarray:
    """statsmodels' ``seasonal_decompose(y, period=m, model="add").seasonal``."""
    if m % 2 == 0:
        filt = np.array([0.5] + [1.0] * (m - 1) + [0.5]) / m
    else:
        filt = np.repeat(1.0 / m, m)
    half = len(filt) // 2
    trend = np.full(len(y), np.nan)
    trend[half : len(y) - half] = np.convolve(y, filt[::-1], mode="valid")
    detrended = y - trend
    means = np.array([np.nanmean(detrended[i::m]) for i in range(m)])
    means -= np.mean(means)
    return np.tile(means, len(y) // m + 1)[: len(y)]


def _ses_levels(y: np.ndarray, alpha: float) -> np.ndarray:
    """Level after each value, starting from the known level ``y[0]``."""
    return lfilter([alpha], [1.0, -(1.0 - alpha)], y, zi=[(1.0 - alpha) * y[0]])[0]


def _alpha(u: float) -> float:
    return 1 / (1 + np.exp(-u)) * (_SES_HIGH - _SES_LOW) + _SES_LOW


def ses_weight(y: np.ndarray) -> tuple[float, float]:
    """Smoothing weight maximising the concentrated Gaussian likelihood of SES with the
    known initial level ``y[0]``, and the one-step forecast (the last level).

    The objective, start, parameter transform, gradient step and iteration limit are
    statsmodels' (``ExponentialSmoothing(...).fit()``: L-BFGS-B, forward-difference gradient
    with step 1e-5, 50 iterations); an optimizer that stops unconverged raises, as the
    library warns."""
    n = len(y)

    def objective(u: float) -> float:
        a = _alpha(u)
        errors = y[1:] - _ses_levels(y, a)[:-1]
        sse = float(errors @ errors)
        return 0.5 * (math.log(2 * math.pi) + math.log(sse / n) + 1)

    def with_gradient(u: np.ndarray) -> tuple[float, np.ndarray]:
        """The value and scipy's forward difference (``approx_grad=True, epsilon=1e-5``),
        computed here: the same numbers without scipy's finite-difference machinery, which
        cost as much as the filter itself."""
        x = float(u[0])
        value = objective(x)
        step = (x + 1e-5) - x
        return value, np.array([(objective(x + 1e-5) - value) / step])

    tmp = (0.1 - _SES_LOW) / (_SES_HIGH - _SES_LOW)
    start = np.array([math.log(tmp / (1 - tmp))])
    u, _, info = fmin_l_bfgs_b(with_gradient, start, maxiter=50)
    if info["warnflag"] != 0:
        raise NotConverged("theta: did not converge")
    a = _alpha(float(u[0]))
    return a, float(_ses_levels(y, a)[-1])


def _theta_deseasonalized(y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """ThetaModel's seasonality test and additive decomposition: the adjusted series and one
    season of the seasonal component (empty when the test finds no season)."""
    if m > 1:
        rho = _acf(y, m)
        if len(y) * rho[-1] ** 2 / np.sum(rho[:-1] ** 2) > _THETA_SEASONAL_LIMIT:
            full = _seasonal_decompose_additive(y, m)
            return y - full, full[:m]
    return y, np.empty(0)


def theta_weight(y: np.ndarray, m: int) -> float:
    """The SES weight :func:`theta` would estimate on ``y``."""
    return ses_weight(_theta_deseasonalized(y, m)[0])[0]


def theta(y: np.ndarray, m: int, h: int, weight: float | None = None) -> np.ndarray:
    """The standard Theta method (theta = 2) with additive deseasonalisation when ``m > 1``;
    ``weight`` fixes the SES weight instead of estimating it (:func:`theta_weight`)."""
    n = len(y)
    y, seasonal = _theta_deseasonalized(y, m)
    t = np.arange(n, dtype=float)
    design = np.c_[np.ones(n), t]
    b0 = np.linalg.lstsq(design, y, rcond=None)[0][1]
    if weight is None:
        alpha, one_step = ses_weight(y)
    else:
        alpha, one_step = weight, float(_ses_levels(y, weight)[-1])
    steps = np.arange(h, dtype=float)
    if alpha > 0:
        steps += 1 / alpha - ((1 - alpha) ** n / alpha)
    forecast = 0.5 * (b0 * steps) + one_step
    if seasonal.size:
        forecast = forecast + seasonal[(n + np.arange(h)) % m]
    return forecast
