"""Rolling-origin backtests, the same for every model: where the origins are, what each
window's actuals and level are, and how a model's paths are scored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from salescast.forecast import calibration
from salescast.forecast.config import ForecastConfig, level_window
from salescast.forecast.metrics import ScoreSums


@dataclass
class CandidateResult:
    """One model's (or ensemble's) backtest of a series: scores, paths, final forecast."""

    name: str
    sums: ScoreSums
    points: np.ndarray  # [windows, h]
    final: np.ndarray  # [h]
    members: tuple[str, ...] = ()  # the models an ensemble averaged
    because: str = ""  # what the chosen-model reason adds (an ensemble's members)

    def loss(self) -> float:
        return float(self.sums.ql.sum())


def warmup(m: int) -> int:
    """Periods before the first backtest origin: two seasons for the seasonal models to start."""
    return max(2 * m, 8) + 2


def backtest_plan(n: int, m: int, cfg: ForecastConfig) -> tuple[int, int]:
    """Backtest windows for a series of ``n`` periods with season ``m``, and the periods a
    bake-off needs (the series gets one when windows >= 2).

    The windows must span a whole season together (weekly data with a yearly season and
    horizon 13: four windows): a model chosen on part of the year was chosen for that part.
    The configured windows are raised to span a season where it is longer than them."""
    h, start = cfg.horizon, warmup(m)
    season = -(-m // h)  # windows that cover one season
    least = max(2, season)
    k = min(max(cfg.backtest_windows, season), (n - start) // h)
    return (k if k >= least else 0), start + least * h


def origins(n: int, k: int, h: int) -> list[int]:
    """The ``k`` backtest origins of a series of ``n`` periods, then ``n`` (the forecast's own)."""
    return [n - (k - i) * h for i in range(k)] + [n]


def windows(
    y: np.ndarray, starts: Sequence[int], h: int, freq: str, censored: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Actuals ``[k, h]`` after each origin and the series' level at each origin.

    An actual of a ``censored`` period (unknown demand: ``y`` holds an imputed value there)
    is NaN: no score, calibration residual or safety-stock error is made of a guess."""
    actuals = np.stack([y[o : o + h] for o in starts])
    if censored is not None:
        actuals = np.where(np.stack([censored[o : o + h] for o in starts]), np.nan, actuals)
    levels = np.array([calibration.level(y, o, level_window(freq)) for o in starts])
    return actuals, levels


def score(
    name: str,
    points: np.ndarray,
    final: np.ndarray,
    actuals: np.ndarray,
    levels: np.ndarray,
    scale: float,
    cfg: ForecastConfig,
) -> CandidateResult:
    """Backtest scores of ``points`` with cross-fitted calibrated quantiles."""
    quantiles = calibration.crossfit(points, actuals, cfg.quantiles, levels)
    sums = ScoreSums(cfg.quantiles)
    for i in range(points.shape[0]):
        sums.add(actuals[i], quantiles[i], scale)
    return CandidateResult(name, sums, points, final)
