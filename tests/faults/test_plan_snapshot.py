"""The forecast plans from one consistent snapshot of the history, on file:// and s3://.

A late file re-ingests day D while ``sales_forecast`` of D plans. The plan reads the history
twice (ids, then rows): without a snapshot the two passes can see two versions of D (shard
files that disagree with the plan's counts, an IndexError), and for the instant of the
re-publish D is not published at all (a plan silently without its own day).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.forecast import tasks as forecast_tasks
from salescast.lake import SALES_DAILY, Lake
from salescast.publish import DATA_FILE, SUCCESS_MARKER, publish_partition

DAY = date(2025, 3, 26)
FIRST = DAY - timedelta(days=13)


def publish_day(lake: Lake, day: date, items: list[str]) -> None:
    frame = pd.DataFrame({"date": day, "store_id": "S01", "item_id": items, "units": 4.0})
    staged = lake.staging_dir(SALES_DAILY, day) / DATA_FILE
    lake.write_parquet(staged, frame)
    publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "rows": len(frame)})


@pytest.fixture
def history(lake, monkeypatch):
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "30")
    day = FIRST
    while day <= DAY:
        publish_day(lake, day, ["A", "B"])
        day += timedelta(days=1)
    return lake


def read_plan(lake: Lake, specs: list[dict]) -> tuple[dict, dict[int, pd.DataFrame]]:
    plan = lake.read_json(lake.path(specs[0]["plan"]))
    return plan, {s["shard"]: lake.read_parquet(lake.path(s["history"])) for s in specs}


def assert_consistent(plan: dict, shards: dict[int, pd.DataFrame]) -> None:
    """The shard files hold exactly the series and rows the plan counted for them."""
    for shard, frame in shards.items():
        assert plan["shard_rows"][str(shard)] == len(frame)
        assert plan["shard_series"][str(shard)] == frame[["store_id", "item_id"]].drop_duplicates().shape[0]
    assert plan["series"] == sum(plan["shard_series"].values())
    assert plan["rows"] == sum(plan["shard_rows"].values())


def test_a_republish_between_the_two_passes_does_not_mix_versions(history, monkeypatch):
    """D gains three series right after plan counted the ids: the rows pass must read the
    version the ids pass counted, not the new one."""
    lake, real_scan = history, forecast_tasks.scan_series

    def scan_then_republish(inputs):
        scan = real_scan(inputs)
        publish_day(lake, DAY, ["A", "B", "C", "D", "E"])
        return scan

    monkeypatch.setattr(forecast_tasks, "scan_series", scan_then_republish)
    monkeypatch.setenv("SALESCAST_SERIES_PER_SHARD", "1")  # one shard per series: counts per shard matter
    specs = forecast_tasks.plan_shards(DAY.isoformat(), "run1")
    plan, shards = read_plan(lake, specs)
    assert_consistent(plan, shards)
    assert plan["series"] == 2  # the snapshot taken before the re-publish
    assert plan["days"][-1] == DAY.isoformat()
    for spec in specs:  # every shard forecasts what the plan counted (once: "the plan has 270")
        done = forecast_tasks.forecast_shard(DAY.isoformat(), "run1", spec)
        assert done["series"] == plan["shard_series"][str(spec["shard"])]


def test_a_republish_while_copying_is_seen_and_the_copy_retried(history, monkeypatch, caplog):
    """The stamps listed after copying differ from those before: plan says so and copies again."""
    lake, real_copies, calls = history, Lake.local_copies, []

    def copies_during_republish(this, paths, folder):
        calls.append(folder)
        copied = real_copies(this, paths, folder)
        if len(calls) == 1:
            publish_day(lake, DAY - timedelta(days=3), ["A", "B", "C"])
        return copied

    monkeypatch.setattr(Lake, "local_copies", copies_during_republish)
    with caplog.at_level(logging.WARNING, logger=forecast_tasks.__name__):
        plan, shards = read_plan(lake, forecast_tasks.plan_shards(DAY.isoformat(), "run1"))
    assert len(calls) == 2
    assert f"day {DAY - timedelta(days=3)} changed while planning; retrying" in caplog.text
    assert_consistent(plan, shards)
    assert plan["series"] == 3  # the second copy holds the re-published day


def test_a_plan_waits_for_its_own_day_mid_republish(history):
    """D's marker is gone for the instant of its re-publish: plan waits, never plans without D."""
    lake = history
    marker = lake.curated_dir(DAY) / SUCCESS_MARKER
    saved = marker.read_bytes()
    marker.unlink()
    restore = threading.Timer(1.5, lambda: marker.write_bytes(saved))
    restore.start()
    try:
        started = time.monotonic()
        plan, shards = read_plan(lake, forecast_tasks.plan_shards(DAY.isoformat(), "run1"))
    finally:
        restore.join()
    assert time.monotonic() - started >= 1.5
    assert plan["days"][-1] == DAY.isoformat()
    assert_consistent(plan, shards)


def test_a_day_that_stays_unpublished_fails_clearly(history, tmp_path):
    lake = history
    (lake.curated_dir(DAY) / SUCCESS_MARKER).unlink()
    with pytest.raises(forecast_tasks.HistoryChanged, match=f"day {DAY} is not published"):
        forecast_tasks.snapshot_history(lake, DAY, 30, tmp_path / "in", patience=1.0)


def test_republishes_racing_many_plans_never_give_an_inconsistent_plan(history):
    """The hostile probe: a thread re-publishes D again and again (alternating two versions)
    while plans run; every plan is consistent and holds D."""
    lake, done = history, threading.Event()

    def republish() -> None:
        for n in range(16):
            publish_day(lake, DAY, (["A", "B", "C"], ["A", "B"])[n % 2])
            time.sleep(0.05)
        done.set()

    writer = threading.Thread(target=republish)
    writer.start()
    plans = 0
    try:
        while not done.is_set() or plans < 3:
            plan, shards = read_plan(lake, forecast_tasks.plan_shards(DAY.isoformat(), f"run{plans}"))
            assert plan["days"][-1] == DAY.isoformat()
            assert_consistent(plan, shards)
            plans += 1
    finally:
        writer.join()
