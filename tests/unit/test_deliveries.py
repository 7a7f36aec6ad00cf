"""The expected-deliveries rule (salescast.deliveries), on hand-made delivery calendars; then one
store's file missing from a day's landing folder, on file:// and s3:// lakes.

Before: the day was published with no warning and that store's series counted as zero sales
(in training and in accuracy). Now: a warning in the ingest result, the validation report and
the partition's manifest; the forecast imputes the store's day (summary ``imputed_store_days``)
and the accuracy view and the dashboard skip it (tests/unit/catalog/test_sql.py); a retired
store is not expected.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from salescast.config import Settings
from salescast.dashboard import dagruns
from salescast.deliveries import DeliveryRule
from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
from salescast.publish import DATA_FILE, read_manifest
from tests.support.lakes import on_both_lakes

D = date(2025, 3, 26)  # a Wednesday


def calendar(days: int, stores: dict[str, set[int]] | None = None, every: tuple[str, ...] = ()) -> dict:
    """``days`` published days before D; ``every`` stores deliver daily, ``stores`` only on the
    listed offsets (1 = the day before D)."""
    out = {}
    for n in range(1, days + 1):
        day = (D - timedelta(days=n)).isoformat()
        out[day] = frozenset(every) | frozenset(s for s, offsets in (stores or {}).items() if n in offsets)
    return out


def test_a_store_that_delivered_daily_and_is_absent_today_is_missing():
    rule = DeliveryRule()
    assert rule.missing(D, frozenset({"S01", "S02"}), calendar(14, every=("S01", "S02", "S03"))) == ["S03"]


def test_a_store_closed_every_wednesday_is_not_expected_on_wednesdays():
    weekdays_only = {n for n in range(1, 15) if n % 7}  # offsets 7 and 14 are Wednesdays
    rule = DeliveryRule()
    assert rule.missing(D, frozenset({"S01"}), calendar(14, {"S02": weekdays_only}, every=("S01",))) == []
    thursday = D + timedelta(days=1)
    history = calendar(14, {"S02": weekdays_only}, every=("S01",)) | {D.isoformat(): frozenset({"S01"})}
    assert rule.missing(thursday, frozenset({"S01"}), history) == ["S02"]


def test_rare_stores_retired_stores_and_short_histories_are_not_expected():
    rule = DeliveryRule(retired=frozenset({"S03"}))
    rare = calendar(14, {"S02": {7, 14, 3}}, every=("S01", "S03"))
    assert rule.missing(D, frozenset({"S01"}), rare) == []  # S02: 3 of 14 days; S03 retired
    assert DeliveryRule().missing(D, frozenset(), calendar(3, every=("S01",))) == []  # 3 days: too few


def test_a_store_that_stopped_delivering_stops_being_expected():
    """Missing for a week: still expected (half the days); missing eight days: not any more."""
    rule = DeliveryRule()
    week = calendar(14, {"S02": set(range(8, 15))}, every=("S01",))
    assert rule.missing(D, frozenset({"S01"}), week) == ["S02"]
    longer = calendar(14, {"S02": set(range(9, 15))}, every=("S01",))
    assert rule.missing(D, frozenset({"S01"}), longer) == []


def test_missing_by_day_finds_every_day_of_a_history():
    history = calendar(20, every=("S01", "S02")) | {D.isoformat(): frozenset({"S01"})}
    gap = (D - timedelta(days=10)).isoformat()
    history[gap] = frozenset({"S02"})
    assert DeliveryRule().missing_by_day(history) == {gap: ["S01"], D.isoformat(): ["S02"]}


# ---- a store's file missing from a day's landing folder, on file:// and s3:// lakes ---------------


DAY = date(2025, 3, 26)


FIRST = DAY - timedelta(days=20)


STORES = ("S01", "S02", "S03")


LEVEL = {"S01": 10.0, "S02": 20.0, "S03": 30.0}  # every item of a store sells its level daily


def land(lake: Lake, day: date, stores: tuple[str, ...]) -> None:
    """One CSV per store, as POS systems deliver them."""
    lake.landing_dir(day).mkdir(parents=True, exist_ok=True)
    for store in stores:
        lines = ["date,store_id,item_id,units"] + [f"{day},{store},I{i},{LEVEL[store]}" for i in range(4)]
        (lake.landing_dir(day) / f"{store}.csv").write_text("\n".join(lines) + "\n")


def ingest(lake: Lake, day: date, stores: tuple[str, ...] = STORES):
    land(lake, day, stores)
    return ingest_day(lake, day, f"ingest-{day}", 0.05, Settings.from_env().delivery_rule)


@pytest.fixture
def history(lake, monkeypatch):
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "60")
    day = FIRST
    while day < DAY:
        assert ingest(lake, day).missing_stores == []
        day += timedelta(days=1)
    return lake


@on_both_lakes
def test_a_missing_store_is_a_warning_and_never_zero_sales(history):
    lake = history
    result = ingest(lake, DAY, ("S01", "S02"))
    assert result.missing_stores == ["S03"]
    assert any("sent nothing for 2025-03-26: S03" in w for w in result.warnings)
    assert read_manifest(lake, lake.curated_dir(DAY))["missing_stores"] == ["S03"]
    report = lake.read_json(lake.path(result.report).parent / "validation.json")
    assert report["summary"]["missing_stores"] == ["S03"]
    ingest_tab = dagruns.ingest_overview(lake, dagruns.RunRef("sales_ingest", f"ingest-{DAY}", DAY, "success"))
    assert any("S03" in w for w in ingest_tab["validation"]["warnings"])  # the dashboard's run tab

    ds = DAY.isoformat()
    specs = forecast_tasks.plan_shards(ds, "run1")
    shards = [forecast_tasks.forecast_shard(ds, "run1", spec) for spec in specs]
    forecast_tasks.publish_forecasts(ds, "run1", shards)
    summary = lake.read_json(lake.reports_dir(DAY) / forecast_tasks.SUMMARY_FILE)
    assert summary["imputed_store_days"] == 1
    assert summary["missing_stores"] == ["S03"]
    forecast_tab = dagruns.forecast_overview(lake, dagruns.RunRef("sales_forecast", "run1", DAY, "success"))
    assert (forecast_tab["summary"]["missing_stores"], forecast_tab["summary"]["imputed_store_days"]) == (["S03"], 1)
    forecasts = lake.read_parquet(lake.run_dir("forecasts", DAY) / DATA_FILE)
    s03 = forecasts[forecasts["store_id"] == "S03"]
    assert len(s03) == 28  # 4 items x 7 days
    assert s03["p50"].between(29.0, 31.0).all()  # its level, not a fall towards zero


@on_both_lakes
def test_a_retired_store_is_not_expected(history, monkeypatch):
    monkeypatch.setenv("SALESCAST_RETIRED_STORES", "S03, S09")
    result = ingest(history, DAY, ("S01", "S02"))
    assert result.missing_stores == []
    assert not any("sent nothing" in w for w in result.warnings)
