"""``salescast.forecast.tasks``, the steps of ``sales_forecast`` run as its tasks run them,
without Airflow, on a file:// and an s3:// lake.

The forecast plans from one consistent snapshot of the history. A late file re-ingests day D
while ``sales_forecast`` of D plans. The plan reads the history twice (ids, then rows): without
a snapshot the two passes can see two versions of D (shard files that disagree with the plan's
counts, an IndexError), and for the instant of the re-publish D is not published at all (a plan
silently without its own day).

The forecast over a history with a rejected day: a day whose ingest was rejected has no
published partition, so the forecast must impute it (not read it as a day of zero sales), and,
weekly, must not read the week in progress as a week of low sales. Re-running the forecast for
the day publishes the same bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import DayRejected, ingest_day
from salescast.lake import SALES_DAILY, Lake
from salescast.publish import DATA_FILE, SUCCESS_MARKER, is_published, publish_partition
from tests.support.lakes import on_both_lakes

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


@on_both_lakes
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


@on_both_lakes
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


@on_both_lakes
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


@on_both_lakes
def test_a_day_that_stays_unpublished_fails_clearly(history, tmp_path):
    lake = history
    (lake.curated_dir(DAY) / SUCCESS_MARKER).unlink()
    with pytest.raises(forecast_tasks.HistoryChanged, match=f"day {DAY} is not published"):
        forecast_tasks.snapshot_history(lake, DAY, 30, tmp_path / "in", patience=1.0)


@on_both_lakes
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


# ---- a history with a rejected day ---------------------------------------------------------------


HISTORY_FIRST = DAY - timedelta(days=62)
REJECTED = DAY - timedelta(days=10)
LEVELS = {("S01", "A"): 5.0, ("S01", "B"): 12.0, ("S02", "A"): 30.0}  # units a day, every day


def rows(day: date) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"date": day, "store_id": s, "item_id": i, "units": u, "revenue": u * 2.49, "source_rows": 1}
            for (s, i), u in LEVELS.items()
        ]
    )


def landing_csv(day: date) -> bytes:
    lines = "".join(f"{day},{s},{i},{u:g},{u * 2.49:.2f}\n" for (s, i), u in LEVELS.items())
    return ("date,store_id,item_id,units,revenue\n" + lines).encode()


def build_history(lake: Lake) -> None:
    """Published days up to DAY (bulk-published, as an earlier load left them), one rejected."""
    day = HISTORY_FIRST
    while day < DAY:
        if day != REJECTED:
            staged = lake.staging_dir(SALES_DAILY, day) / "part-0.parquet"
            lake.write_parquet(staged, rows(day))
            publish_partition(lake, staged, lake.curated_dir(day), {"rows": len(LEVELS)})
        day += timedelta(days=1)
    lake.write_bytes(lake.landing_dir(REJECTED) / "export.csv.gz", b"\x1f\x8b\x08\x00 cut off")
    with pytest.raises(DayRejected, match="not a valid gzip file"):
        ingest_day(lake, REJECTED, "load", 0.05)
    lake.write_bytes(lake.landing_dir(DAY) / "export.csv", landing_csv(DAY))
    ingest_day(lake, DAY, "load", 0.05)
    assert not is_published(lake.curated_dir(REJECTED))
    assert is_published(lake.curated_dir(DAY))


def forecast(run_id: str) -> None:
    ds = DAY.isoformat()
    shards = [forecast_tasks.forecast_shard(ds, run_id, spec) for spec in forecast_tasks.plan_shards(ds, run_id)]
    forecast_tasks.publish_forecasts(ds, run_id, shards)


@pytest.mark.parametrize(("freq", "per_period", "first_target"), [("D", 1, "2025-03-27"), ("W-SUN", 7, "2025-03-30")])
@on_both_lakes
def test_a_rejected_day_and_a_partial_week_are_not_read_as_low_sales(lake, monkeypatch, freq, per_period, first_target):
    monkeypatch.setenv("SALESCAST_FREQ", freq)
    monkeypatch.setenv("SALESCAST_HORIZON", "2")
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "70")
    build_history(lake)

    forecast("run1")
    published = lake.run_dir("forecasts", DAY) / DATA_FILE
    first_bytes = published.read_bytes()
    forecasts = lake.read_parquet(published)
    assert len(forecasts) == len(LEVELS) * 2
    assert not forecasts.isna().any().any()
    assert str(forecasts["date"].min()) == first_target  # weekly: the week in progress is step 1
    for (store, item), level in LEVELS.items():
        series = forecasts[(forecasts["store_id"] == store) & (forecasts["item_id"] == item)]
        assert series["p50"].tolist() == pytest.approx([level * per_period] * 2), (store, item)
    summary = lake.read_json(lake.reports_dir(DAY) / "forecast_summary.json")
    assert summary["imputed_days"] == 1  # the rejected day: imputed, not zero sales
    trailing = summary["dropped_partial_period"]["trailing"]
    assert (trailing or {}).get("period_end") == (None if freq == "D" else first_target)

    forecast("run2")  # a re-run of the day
    assert published.read_bytes() == first_bytes
    assert [p.name for p in lake.list_files(lake.run_dir("forecasts", DAY))] == ["_SUCCESS", DATA_FILE]


@on_both_lakes
def test_hostile_drivers_through_the_run_tasks(lake, monkeypatch):
    """Drivers a planner can get wrong, through plan -> train -> publish: a constant driver
    (no information), in_stock 0 on every day of a series, a weather forecast that stops
    before the horizon end, drivers for a store and an item never sold. The run goes through, and the summary
    and metrics say what happened to each."""
    import numpy as np

    from salescast.driver_mapping import DriverMapping
    from salescast.ingest.drivers import ingest_drivers_day

    monkeypatch.setenv("SALESCAST_DRIVERS_MAPPING", "retail")
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "120")
    first, rng = DAY - timedelta(days=99), np.random.default_rng(4)
    day = first
    while day <= DAY:
        frame = pd.DataFrame({"date": day, "store_id": "S01", "item_id": ["A", "B", "C"],
                              "units": rng.poisson(8, 3).astype(float)})  # fmt: skip
        staged = lake.staging_dir(SALES_DAILY, day) / DATA_FILE
        lake.write_parquet(staged, frame)
        publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "rows": 3})
        day += timedelta(days=1)
    days = pd.date_range(first, DAY + timedelta(days=7))
    rows = [f"{d:%Y-%m-%d},S01,A,1,," for d in days]  # promo on every day: constant, says nothing
    rows += [f"{d:%Y-%m-%d},S01,B,,0," for d in days[days <= pd.Timestamp(DAY)]]  # never in stock
    rows += [f"{d:%Y-%m-%d},S01,C,,,{5.0 if d.day % 2 else 8.0}" for d in days[:-3]]  # weather stops 3 days early
    rows += [f"{DAY:%Y-%m-%d},S99,A,1,,", f"{DAY:%Y-%m-%d},S01,NEVER,1,,"]
    lake.write_text(lake.landing_dir(DAY, "drivers") / "d.csv", "date,store_id,item_id,promo,in_stock,temperature\n"
                    + "\n".join(rows) + "\n")  # fmt: skip
    ingest_drivers_day(lake, DAY, "drivers-run", DriverMapping.load("retail"), 0.0)

    specs = forecast_tasks.plan_shards(DAY.isoformat(), "run1")
    shards = [forecast_tasks.forecast_shard(DAY.isoformat(), "run1", spec) for spec in specs]
    forecast_tasks.publish_forecasts(DAY.isoformat(), "run1", shards)
    summary = lake.read_json(lake.reports_dir(DAY) / forecast_tasks.SUMMARY_FILE)["drivers"]
    assert summary["as_of_days"] == [DAY.isoformat()]
    assert summary["unknown_series_keys"] == 2
    assert "temperature" in summary["past_only_unused"]  # no series has it through the horizon: unused, and said
    metrics = lake.read_parquet(lake.run_dir("metrics", DAY) / DATA_FILE)
    chosen = metrics[metrics["chosen"]].set_index("item_id")
    assert chosen.loc["B", "reason"] == "every backtest period is censored (unknown demand)"
    assert chosen.loc["B", "censored_days"] >= 99
    assert "drivers used" not in chosen.loc["A", "reason"]  # a constant promotion explains nothing
    forecasts = lake.read_parquet(lake.run_dir("forecasts", DAY) / DATA_FILE)
    assert len(forecasts) == 3 * 7
    assert np.isfinite(forecasts[["p10", "p50", "p90"]].to_numpy()).all()
