"""The catalog DAG's days: from the triggering Asset events of each feed, and its own logical date."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from salescast.catalog.sql import UnsafeSqlValue
from salescast.catalog.tasks import days_from_context


def test_days_come_from_every_feeds_event_and_the_logical_date():
    events = {
        "sales": [SimpleNamespace(extra={"dt": "2025-03-02"})],
        "forecasts": [SimpleNamespace(extra={"run_date": "2025-03-03"})],
        "items": [SimpleNamespace(extra={"asof": "2025-03-01", "items": 4}), SimpleNamespace(extra=None)],
    }
    context = {"triggering_asset_events": events, "ds": "2025-03-03"}
    assert days_from_context(context) == ["2025-03-01", "2025-03-02", "2025-03-03"]


def test_no_day_is_an_error_and_a_bad_value_never_reaches_sql():
    with pytest.raises(ValueError, match="no day to register"):
        days_from_context({"triggering_asset_events": {}})
    with pytest.raises(UnsafeSqlValue):
        days_from_context({"triggering_asset_events": {"x": [SimpleNamespace(extra={"asof": "1' OR '1"})]}})
