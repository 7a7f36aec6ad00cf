from __future__ import annotations

import numpy as np
import pytest

from salescast.forecast.models.base import Context, ModelSkipped, forecast_paths
from salescast.forecast.models.theta import Theta


def test_theta_carries_half_the_trend_from_the_last_value():
    """The Theta method's known property: on a straight line its forecast starts at the last
    value and climbs at half the slope (the theta=0 line's drift, halved)."""
    y = 10 + 2 * np.arange(60.0)  # last value 128, slope 2
    np.testing.assert_allclose(forecast_paths(Theta(), y, [60], 4, Context(m=1))[0], [129, 130, 131, 132], atol=1e-3)


def test_theta_reproduces_an_exact_weekly_pattern():
    week = np.array([3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 11.0])
    np.testing.assert_allclose(forecast_paths(Theta(), np.tile(week, 10), [70], 7, Context(m=7))[0], week, atol=1e-6)


def test_theta_needs_two_seasons():
    with pytest.raises(ModelSkipped, match="too short"):
        forecast_paths(Theta(), np.arange(1.0, 14.0), [13], 7, Context(m=7))
