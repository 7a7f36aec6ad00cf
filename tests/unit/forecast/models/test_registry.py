"""Adding a model is one class and one registry line: the registry is the only list."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np

import salescast.forecast.models as package
from salescast.forecast.models import registry
from salescast.forecast.models.base import Model


def test_every_model_class_of_the_package_is_registered_once():
    classes = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        classes |= {c for _, c in inspect.getmembers(module, inspect.isclass)
                    if issubclass(c, Model) and "name" in vars(c) and c.__module__ == module.__name__}  # fmt: skip
    assert classes == {type(m) for m in registry.CANDIDATES}
    assert len({m.name for m in registry.CANDIDATES}) == len(registry.CANDIDATES)


def test_model_names_are_derived_from_the_registry():
    assert registry.MODEL_NAMES == (
        "seasonal_naive", "ets_damped", "ets_log", "theta", "autoreg", "sdiff_ar", "croston_sba", "tsb",
        "autoreg_drivers", "sdiff_ar_drivers", "ets_damped_drivers", "theta_drivers", "combo", "top3", "zero",
        "recent_mean", "cold_start",
    )  # fmt: skip
    assert set(registry.SELECTABLE) == set(registry.MODEL_NAMES) - {"zero", "recent_mean", "cold_start"}


def test_the_smoothing_twins_run_only_where_an_ar_twin_beat_its_plain_model():
    """registry.SCREENS: a drivers effect the AR regression cannot turn into a better backtest
    is not worth the smoothing twins' cost; a real promotion lift passes the screen."""
    from salescast.forecast.config import ForecastConfig
    from salescast.forecast.drivers import SeriesDrivers
    from salescast.forecast.selection import forecast_series

    rng = np.random.default_rng(5)
    n, h = 400, 7
    week = np.tile([10.0, 12, 11, 13, 15, 20, 9], n // 7 + 2)[: n + h]
    promo = (rng.random(n + h) < 0.15).astype(float)
    cfg = ForecastConfig(horizon=h)
    drivers = SeriesDrivers(regressors=promo[:, None], names=("promo",))
    lifted = forecast_series(week[:n] + 8.0 * promo[:n] + rng.normal(0, 0.5, n), 0, ("S", "I"), cfg, drivers=drivers)
    assert {"ets_damped_drivers", "theta_drivers"} <= set(lifted.candidates)
    # the promotions lifted sales until 100 days ago and no longer: the drivers mislead the AR twins
    misleading = week[:n] + 8.0 * promo[:n] * (np.arange(n) < n - 100) + rng.normal(0, 0.5, n)
    stale = forecast_series(misleading, 0, ("S", "I"), cfg, drivers=drivers)
    assert stale.candidates["autoreg_drivers"].ql.sum() >= stale.candidates["autoreg"].ql.sum()
    assert stale.skipped["theta_drivers"] == stale.skipped["ets_damped_drivers"] == registry.NOT_SCREENED


def test_the_screen_needs_a_twin_and_its_plain_model_scored():
    assert registry.screened_out({"autoreg_drivers": 2.0, "autoreg": 1.0, "sdiff_ar_drivers": 1.0, "sdiff_ar": 1.0})
    assert not registry.screened_out({"autoreg_drivers": 2.0, "autoreg": 1.0, "sdiff_ar_drivers": 0.9, "sdiff_ar": 1.0})
    assert not registry.screened_out({"autoreg_drivers": 2.0, "sdiff_ar": 1.0})  # no pair ran: no screen
