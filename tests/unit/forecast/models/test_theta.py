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


def test_theta_with_weight_once_equals_theta_at_the_first_origin_and_keeps_that_weight_later():
    """The weight is estimated once on the window before the first origin: there the forecast is
    plain Theta's; a later origin re-filters with it (``smoothing.theta(..., weight)``)."""
    from salescast.forecast import smoothing

    rng = np.random.default_rng(4)
    y = np.cumsum(rng.normal(0, 1, 300)) + 50 + np.tile([0.0, 1, 2, 3, 2, 1, 0], 43)[:300]
    once = forecast_paths(Theta(weight_once=True), y, [250, 280], 7, Context(m=7))
    plain = forecast_paths(Theta(), y, [250, 280], 7, Context(m=7))
    np.testing.assert_allclose(once[0], plain[0], rtol=1e-9)
    weight = smoothing.theta_weight(y[:250], 7)
    np.testing.assert_allclose(once[1], smoothing.theta(y[:280], 7, 7, weight), rtol=1e-12)
    assert not np.allclose(once[1], plain[1])  # plain Theta re-estimated its weight there
