"""The smoothing models' drivers twins: regression first, then the model on what is left."""

from __future__ import annotations

import numpy as np
import pytest

from salescast.forecast.models.base import Context, ModelSkipped, forecast_paths
from salescast.forecast.models.ets import EtsDamped
from salescast.forecast.models.regressed import EtsDampedDrivers, ThetaDrivers, driver_effects

WEEK = np.array([10.0, 12, 11, 13, 15, 20, 9])


def test_driver_effects_recover_a_known_lift_next_to_a_weekly_pattern():
    """Promotions on Saturdays more often than not: without the weekday dummies the Saturday
    peak would be read as promotion lift."""
    rng = np.random.default_rng(1)
    n = 140
    promo = ((np.arange(n) % 7 == 5) & (rng.random(n) < 0.6) | (rng.random(n) < 0.1)).astype(float)
    y = np.tile(WEEK, n // 7) + 7.0 * promo
    np.testing.assert_allclose(driver_effects(y, promo[:, None], 7), [7.0], atol=1e-9)


def test_a_driver_that_never_varies_says_nothing():
    with pytest.raises(ModelSkipped, match="no driver varies"):
        driver_effects(np.arange(30.0), np.ones((30, 1)), 7)


@pytest.mark.parametrize("model", [EtsDampedDrivers(), ThetaDrivers()])
def test_a_future_promotion_gets_its_lift_and_a_plain_day_does_not(model):
    rng = np.random.default_rng(2)
    n, h = 280, 7
    promo = (rng.random(n + h) < 0.15).astype(float)
    promo[n : n + h] = [0, 1, 0, 0, 1, 0, 0]
    y = np.tile(WEEK, n // 7) + 8.0 * promo[:n] + rng.normal(0, 0.3, n)
    path = forecast_paths(model, np.r_[y, np.zeros(h)], [n], h, Context(m=7, regressors=promo[:, None]))[0]
    expected = np.resize(WEEK, h) + 8.0 * promo[n:]
    np.testing.assert_allclose(path, expected, atol=1.0)


def test_the_twin_reuses_the_plain_models_parameters_fitted_on_the_same_window():
    rng = np.random.default_rng(3)
    n = 210
    promo = (rng.random(n + 7) < 0.2).astype(float)
    y = np.tile(WEEK, n // 7) + 5.0 * promo[:n] + rng.normal(0, 0.5, n)
    ctx = Context(m=7, regressors=promo[:, None], fits={})
    forecast_paths(EtsDamped(), np.r_[y, np.zeros(7)], [n - 14, n], 7, ctx)
    plain = ctx.fits[("ets_damped", n - 14)]
    forecast_paths(EtsDampedDrivers(), np.r_[y, np.zeros(7)], [n - 14, n], 7, ctx)
    effects, inner = ctx.fits[("ets_damped_drivers", n - 14)]
    assert inner is plain  # refiltered with the plain model's parameters, not estimated again
    assert effects[0] == pytest.approx(5.0, abs=0.5)
