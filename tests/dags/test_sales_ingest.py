"""dags/sales_ingest.py: its shape as parsed, and runs for real with dag.test() on a SQLite Airflow DB
and a temporary lake."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from salescast.lake import Lake
from salescast.publish import DATA_FILE, read_manifest
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.dags import run

DAYS = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]


@pytest.fixture
def ingest_env(home, airflow_db, monkeypatch):
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    # a 12-series panel has few rows a day, so the generator's ~2% defects can exceed 5% by chance
    monkeypatch.setenv("SALESCAST_MAX_BAD_ROW_FRACTION", "0.25")
    from salescast.config import Settings

    return Lake.from_settings(Settings.from_env())


@pytest.mark.slow
def test_ingest_days_then_rerun_a_day(ingest_env):
    lake = ingest_env
    landing = Path(lake.root.path) / "landing" / "sales"
    write_landing(PanelSpec(stores=3, items=12, seed=1), DAYS[0], DAYS[-1], landing, defects=True, bad_file_rate=0.0)
    for day in DAYS:
        assert run("sales_ingest", day).state == "success"
    for day in DAYS:
        manifest = read_manifest(lake, lake.curated_dir(day))
        assert manifest is not None
        assert manifest["rows"] > 0
        frame = lake.read_parquet(lake.curated_dir(day) / DATA_FILE)
        assert set(frame["date"]) == {day}
        assert len(frame) == manifest["rows"]
        quarantined = lake.read_parquet(lake.root / "quarantine" / "sales" / f"dt={day}" / "rows.parquet")
        assert manifest["quarantined"] == len(quarantined)
        assert set(quarantined["run_id"]) == {manifest["run_id"]}
        raw = sorted(p.name for p in Path(lake.raw_dir(day).path).iterdir())
        assert raw == sorted(p.name for p in (landing / day.isoformat()).iterdir() if p.name != "_READY")

    before = {d: lake.read_parquet(lake.curated_dir(d) / DATA_FILE) for d in DAYS}
    untouched = Path(lake.curated_dir(DAYS[0]).path) / DATA_FILE
    stamp = untouched.stat().st_mtime_ns
    first_run = read_manifest(lake, lake.curated_dir(DAYS[1]))["run_id"]
    assert run("sales_ingest", DAYS[1]).state == "success"
    assert read_manifest(lake, lake.curated_dir(DAYS[1]))["run_id"] != first_run
    for day in DAYS:
        pd.testing.assert_frame_equal(before[day], lake.read_parquet(lake.curated_dir(day) / DATA_FILE))
    assert untouched.stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_bad_file_fails_the_run_and_publishes_nothing(ingest_env):
    lake = ingest_env
    day = DAYS[0]
    folder = Path(lake.landing_dir(day).path)
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text("date,store_id,item_id,units\n2025-03-01,S1,I1,3\n")
    (folder / "bad.csv").write_text("sku;qty\nA;1\n")
    (folder / "_READY").write_text("")
    dagrun = run("sales_ingest", day)
    assert dagrun.state == "failed"
    states = {ti.task_id: ti.state for ti in dagrun.get_task_instances()}
    assert states == {
        "wait_for_landing": "success",
        "archive_raw": "success",
        "validate": "failed",
        "publish": "upstream_failed",
        "check_deliveries": "upstream_failed",
    }
    assert not lake.curated_dir(day).exists()
    rows = lake.read_parquet(lake.root / "quarantine" / "sales" / f"dt={day}" / "rows.parquet")
    assert rows["kind"].tolist() == ["unreadable_file"]
    assert rows["source_file"].tolist() == ["bad.csv"]


@pytest.mark.slow
def test_sensor_times_out_when_no_files_arrive(ingest_env):
    dagrun = run("sales_ingest", date(2025, 4, 1))
    assert dagrun.state == "failed"
    states = {ti.task_id: ti.state for ti in dagrun.get_task_instances()}
    assert states["wait_for_landing"] == "failed"
    assert states["archive_raw"] == "upstream_failed"


def test_ingest_dag_is_daily_and_time_based(dagbag):
    dag = dagbag.dags["sales_ingest"]
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.timetable.expression == "0 0 * * *"
    publish = dag.get_task("publish")
    assert [o.uri for o in publish.outlets] == ["salescast://curated/sales_daily"]
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["wait_for_landing", "archive_raw", "validate", "publish", "check_deliveries"]
    check = dag.get_task("check_deliveries")  # waits for late stores without holding a worker slot
    assert check.mode == "reschedule"
    assert check.timeout > 12 * 3600  # beyond the default settle time, when its one alert goes out
    assert dag.dagrun_timeout.total_seconds() > 12 * 3600 + 3600
