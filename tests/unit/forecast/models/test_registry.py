"""Adding a model is one class and one registry line: the registry is the only list."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

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
        "recent_mean",
    )  # fmt: skip
    assert set(registry.SELECTABLE) == set(registry.MODEL_NAMES) - {"zero", "recent_mean"}
