"""The fallback policy: which series get no bake-off, in order, and what they get instead.

The first rule that applies decides: no sales at all, a constant series, a history too short
for two backtest windows spanning a season. A series whose every candidate failed gets the
recent mean too (:func:`every_candidate_failed`), and so does one whose every backtest period
is of unknown demand (:func:`censored_backtest`: a stock-out longer than the backtest).
"""

from __future__ import annotations

import numpy as np

from salescast.forecast.backtest import backtest_plan
from salescast.forecast.config import ForecastConfig, season_length
from salescast.forecast.models.fallbacks import RecentMean, SeasonalNaiveBand, Zero
from salescast.forecast.outcome import SeriesOutcome, today_level

ZERO, RECENT_MEAN, SEASONAL_NAIVE = Zero(), RecentMean(), SeasonalNaiveBand()


def _outcome(model, y: np.ndarray, m: int, cfg: ForecastConfig, key: tuple[str, str], reason: str) -> SeriesOutcome:  # noqa: ANN001
    quantiles, mean = model.band(y, cfg.quantiles, cfg.horizon, m)
    return SeriesOutcome(key[0], key[1], model.name, reason, quantiles, mean, y, level=today_level(y, cfg))


def fallback(y: np.ndarray, m: int, cfg: ForecastConfig, key: tuple[str, str]) -> SeriesOutcome | None:
    """The fallback of a series no bake-off can be run on; None for a series that gets one."""
    if y.size == 0 or not np.any(y):
        return _outcome(ZERO, y, m, cfg, key, "all zeros: no sales in the history")
    if np.ptp(y) == 0:
        return _outcome(RECENT_MEAN, y, m, cfg, key, "constant series")
    k, needed = backtest_plan(y.size, m, cfg)  # a short series gets the windows it has room for
    if not k:
        reason = f"short history: {y.size} periods, a bake-off needs {needed} (two windows or more, spanning a season)"
        whole_season = m > 1 and y.size >= m + 4  # seasonal naive once a whole season (and some) exists
        return _outcome(SEASONAL_NAIVE if whole_season else RECENT_MEAN, y, m, cfg, key, reason)
    return None


def too_short(n: int, cfg: ForecastConfig) -> bool:
    """Whether a series of ``n`` periods (from its first sale) is too short for a bake-off:
    the rule :func:`fallback` applies (:func:`backtest.backtest_plan` gives it no two windows)."""
    return not backtest_plan(n, season_length(cfg.freq, n), cfg)[0]


def every_candidate_failed(
    y: np.ndarray, m: int, cfg: ForecastConfig, key: tuple[str, str], skipped: dict[str, str]
) -> SeriesOutcome:
    outcome = _outcome(RECENT_MEAN, y, m, cfg, key, "every candidate failed: " + "; ".join(skipped.values()))
    outcome.skipped = skipped
    return outcome


def censored_backtest(y: np.ndarray, m: int, cfg: ForecastConfig, key: tuple[str, str]) -> SeriesOutcome:
    """A series whose backtest periods are all censored: no score can choose a model, and its
    recent periods are imputed (the last week seen, carried on), so their mean is the estimate."""
    return _outcome(RECENT_MEAN, y, m, cfg, key, "every backtest period is censored (unknown demand)")
