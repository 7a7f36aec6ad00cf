"""The GX `forecasts` suite catches what must never be published."""

from __future__ import annotations

from datetime import date

import pytest

from salescast.forecast.engine import ForecastConfig, run_forecast
from salescast.forecast.models.registry import MODEL_NAMES
from salescast.forecast.tasks import validation_view
from salescast.validation import validate
from salescast_dev.generate import PanelSpec, simulate_panel

CFG = ForecastConfig(horizon=7)
PARAMS = {"horizon": 7, "horizon_list": [7], "known_models": list(MODEL_NAMES)}


@pytest.fixture(scope="module")
def forecasts():
    history = simulate_panel(PanelSpec(stores=1, items=3, seed=1), date(2024, 1, 1), date(2024, 4, 30))
    return run_forecast(history, CFG).forecasts


def failures(frame) -> set[str]:
    outcome = validate(validation_view(frame, CFG), "forecasts", PARAMS)
    return set(outcome.table_failures) | {r for rs in outcome.row_reasons.values() for r in rs}


def test_a_good_forecast_passes(forecasts):
    assert failures(forecasts) == set()


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [
        (lambda f: f.assign(p10=f["p50"] + 1), "quantiles are not monotone (p10 <= p50 <= p90)"),
        (lambda f: f.assign(p10=-1.0), "a quantile is negative"),
        (lambda f: f.assign(p50=None), "the median is null"),
        (lambda f: f.assign(model="magic"), "unknown model name"),
        (lambda f: f.iloc[1:], "a series does not have the full horizon"),
        (lambda f: f.assign(horizon_step=f["horizon_step"] + 7), "horizon step outside 1..horizon"),
    ],
)
def test_broken_forecasts_are_caught_with_a_reason(forecasts, break_it, reason):
    assert any(reason in failure for failure in failures(break_it(forecasts.copy())))
