from __future__ import annotations

import numpy as np
import pytest

from salescast.forecast.models.base import Context, ModelSkipped, forecast_paths
from salescast.forecast.models.ets import EtsDamped, EtsLog, is_seasonal

WEEK = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])


def test_ets_damped_reproduces_an_exact_weekly_pattern():
    np.testing.assert_allclose(forecast_paths(EtsDamped(), np.tile(WEEK, 10), [63, 70], 7, Context(m=7)),
                               [WEEK, WEEK], atol=1e-6)  # fmt: skip


def test_ets_damped_deseasonalises_a_yearly_weekly_season():
    """m = 52 is too long for Holt-Winters: classical seasonal indices are taken out and put
    back. Weekly retail: a flat year with a three-week Christmas peak of +60."""
    t = np.arange(4 * 52)
    season = np.where(t % 52 >= 49, 60.0, 0.0)
    y = 100 + season + np.random.default_rng(2).normal(0, 2, t.size)
    assert is_seasonal(y[:195], 52)
    forecast = forecast_paths(EtsDamped(), y, [195], 13, Context(m=52))[0]
    np.testing.assert_allclose(forecast, 100 + season[-13:], atol=4.0)  # the peak comes back in week 50


def test_ets_log_carries_a_season_that_grows_with_the_level():
    """Multiplicative by construction: y = 100 * 1.01^t * s[t mod 12]. In logs that is a line
    plus an additive season, so the forecast continues both: by hand, y[n + j]."""
    season = np.array([0.8, 0.85, 0.9, 1.0, 1.05, 1.1, 1.2, 1.15, 1.0, 0.95, 0.9, 1.1])
    t = np.arange(132)
    y = 100 * 1.01**t * season[t % 12]
    paths = forecast_paths(EtsLog(), y, [108, 120], 12, Context(m=12))
    np.testing.assert_allclose(paths[1], y[120:132], rtol=0.03)
    with pytest.raises(ModelSkipped, match="above zero"):
        forecast_paths(EtsLog(), np.r_[y, 0.0], [120], 12, Context(m=12))


def test_ets_needs_two_seasons_and_some():
    with pytest.raises(ModelSkipped, match="too short"):
        forecast_paths(EtsDamped(), np.tile(WEEK, 2), [14], 7, Context(m=7))
