"""``salescast.publish``: a forecast run publishes its tables all together or not at all (the
commit journal), on file:// and s3://.

A day already published is forecast again and the storage fails part-way: while the new
run's tables are staged (a full disk), or half-way through the commit itself (a worker
killed between two moves). A reader must never find tables of two runs each marked
published, and the next attempt finishes (or rolls back) what was left, saying so in the
run summary. A real full disk (tmpfs) shows the same on a local lake.
"""

from __future__ import annotations

import errno
import os
from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.config import Settings
from salescast.forecast import tasks as forecast_tasks
from salescast.lake import RUN_DATASETS, SALES_DAILY, Lake
from salescast.publish import DATA_FILE, publish_partition, read_manifest
from tests.support.lakes import fill, on_both_lakes

DAY = date(2025, 3, 26)
FIRST = DAY - timedelta(days=20)


def build_history(lake: Lake, extra_item: str | None = None, first: date = FIRST) -> None:
    day = first
    while day <= DAY:
        units = [3.0 + (day.toordinal() % 7), 11.0, 40.0] + ([5.0] if extra_item else [])
        items = ["A", "B", "C"] + ([extra_item] if extra_item else [])
        frame = pd.DataFrame({"date": day, "store_id": "S01", "item_id": items, "units": units})
        staged = lake.staging_dir(SALES_DAILY, day) / DATA_FILE
        lake.write_parquet(staged, frame)
        publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "rows": len(frame)})
        day += timedelta(days=1)


def shards_of(run_id: str) -> list[dict]:
    ds = DAY.isoformat()
    return [forecast_tasks.forecast_shard(ds, run_id, spec) for spec in forecast_tasks.plan_shards(ds, run_id)]


def published_runs(lake: Lake) -> dict[str, str | None]:
    """The run id each run table of DAY is marked published by (None: not marked)."""
    return {name: (read_manifest(lake, lake.run_dir(name, DAY)) or {}).get("run_id") for name in RUN_DATASETS}


def table_bytes(lake: Lake) -> dict[str, bytes]:
    return {name: (lake.run_dir(name, DAY) / DATA_FILE).read_bytes() for name in RUN_DATASETS}


class StorageFault:
    """Fails the lake's writes or moves whose target matches, as a full disk or a killed
    worker would, at the one place every byte of the lake goes through."""

    def __init__(self, monkeypatch, lake: Lake, method: str, match: str) -> None:
        self.hits = 0
        original = getattr(Lake, method)

        def failing(this, *args):
            target = str(args[-1] if method == "move" else args[0])
            if match in target:
                self.hits += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
            return original(this, *args)

        monkeypatch.setattr(Lake, method, failing)
        self.undo = lambda: monkeypatch.setattr(Lake, method, original)


@pytest.fixture
def first_run(lake, monkeypatch):
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "30")
    build_history(lake)
    forecast_tasks.publish_forecasts(DAY.isoformat(), "run1", shards_of("run1"))
    assert set(published_runs(lake).values()) == {"run1"}
    return table_bytes(lake)


def rerun_with_more_series(lake: Lake) -> list[dict]:
    """The day again, now with a fourth series: every table of run2 differs from run1's."""
    build_history(lake, extra_item="D", first=DAY)
    return shards_of("run2")


def half_done_commit(lake: Lake, monkeypatch, failing_table: str) -> list[dict]:
    """Run 2 of the day dies in its commit, at the move of ``failing_table``; its shards."""
    shards = rerun_with_more_series(lake)
    fault = StorageFault(monkeypatch, lake, "move", f"{failing_table}/run_date={DAY}/{DATA_FILE}")
    with pytest.raises(OSError, match="No space left"):
        forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)
    fault.undo()
    return shards


@on_both_lakes
def test_a_full_disk_while_staging_leaves_the_old_run_whole(lake, first_run, monkeypatch):
    shards = rerun_with_more_series(lake)
    fault = StorageFault(monkeypatch, lake, "write_bytes", "metrics.parquet")
    with pytest.raises(OSError, match="No space left"):
        forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)
    assert fault.hits == 1
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS, "run1")
    assert table_bytes(lake) == first_run  # forecasts too: nothing of run2 was promoted

    fault.undo()  # space freed: the retry publishes all of run2
    forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS, "run2")
    for name, frame in ((n, lake.read_parquet(lake.run_dir(n, DAY) / DATA_FILE)) for n in RUN_DATASETS):
        assert set(frame["item_id"]) == {"A", "B", "C", "D"}, name


@on_both_lakes
def test_a_commit_killed_half_way_is_finished_by_the_next_attempt(lake, first_run, monkeypatch):
    shards = rerun_with_more_series(lake)
    fault = StorageFault(monkeypatch, lake, "move", f"metrics/run_date={DAY}/{DATA_FILE}")
    with pytest.raises(OSError, match="No space left"):
        forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)
    # forecasts already moved, metrics not: no table is marked, so no reader mixes the runs
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS)

    fault.undo()
    forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)  # Airflow's retry of publish
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS, "run2")
    summary = lake.read_json(lake.reports_dir(DAY) / "forecast_summary.json")
    assert summary["run_id"] == "run2"
    assert summary["recovered_publish"]["run_id"] == "run2"
    assert summary["recovered_publish"]["action"] == "finished"


@on_both_lakes
def test_the_next_run_finishes_what_an_earlier_run_left(lake, first_run, monkeypatch):
    """Not a retry: a new run of the day (a new plan) finds the half-done commit first."""
    half_done_commit(lake, monkeypatch, "safety_stock")
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS)

    forecast_tasks.publish_forecasts(DAY.isoformat(), "run3", shards_of("run3"))
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS, "run3")
    summary = lake.read_json(lake.reports_dir(DAY) / "forecast_summary.json")
    assert summary["recovered_publish"] == {
        "run_id": "run2",
        "action": "finished",
        "detail": "7 file(s) published as staged",  # 3 tables, the final one, the export and its manifest, the summary
    }


@on_both_lakes
def test_a_half_done_commit_whose_staging_was_deleted_is_rolled_back(lake, first_run, monkeypatch):
    shards = half_done_commit(lake, monkeypatch, "metrics")
    run_folder = lake.path(shards[0]["folder"]).parent
    (run_folder / "metrics.parquet").unlink()  # somebody cleaned the staging area by hand
    plans = forecast_tasks.plan_shards(DAY.isoformat(), "run3")  # recovers before clearing staging
    plan = lake.read_json(lake.path(plans[0]["plan"]))
    assert plan["recovered_publish"]["action"] == "rolled back"
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS)  # left unpublished, never mixed


def test_a_real_full_disk_during_publish_leaves_the_old_run_whole(tiny_disk, monkeypatch):
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "30")
    lake = Lake.from_settings(Settings.from_env())
    build_history(lake)
    forecast_tasks.publish_forecasts(DAY.isoformat(), "run1", shards_of("run1"))
    before = table_bytes(lake)
    shards = rerun_with_more_series(lake)
    filler = fill(tiny_disk, leave=8 * 1024)  # room for a marker, not for three tables
    with pytest.raises(OSError, match="No space left") as failure:
        forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)
    assert failure.value.errno == errno.ENOSPC
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS, "run1")
    assert table_bytes(lake) == before
    filler.unlink()
    forecast_tasks.publish_forecasts(DAY.isoformat(), "run2", shards)
    assert published_runs(lake) == dict.fromkeys(RUN_DATASETS, "run2")
