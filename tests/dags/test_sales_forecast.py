"""dags/sales_forecast.py: its shape as parsed; ingest then forecast for several days with dag.test(),
then the lake and the report."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from salescast.ingest.pipeline import ingest_day
from salescast.lake import FORECASTS, Lake
from salescast.publish import DATA_FILE, publish_partition, read_manifest
from salescast_dev.generate import PanelSpec, simulate_day, write_landing
from tests.support.dags import run

FIRST, LAST = date(2025, 3, 30), date(2025, 3, 31)


@pytest.fixture
def forecast_env(home, airflow_db, monkeypatch):
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_MAX_BAD_ROW_FRACTION", "0.25")
    monkeypatch.setenv("SALESCAST_SERIES_PER_SHARD", "10")  # 24 series -> 3 mapped shards
    from salescast.config import Settings

    lake = Lake.from_settings(Settings.from_env())
    spec = PanelSpec(stores=2, items=12, seed=5)
    write_landing(
        spec, date(2025, 1, 1), LAST, Path(lake.root.path) / "landing" / "sales", defects=True, bad_file_rate=0.0
    )
    day = date(2025, 1, 1)
    while day < FIRST:  # history before the DAG runs, through the same functions the tasks call
        ingest_day(lake, day, "bootstrap", 0.25)
        day += timedelta(days=1)
    return lake


@pytest.mark.slow
def test_ingest_then_forecast_publishes_tables_and_report(forecast_env):
    lake = forecast_env
    for day in (FIRST, LAST):
        assert run("sales_ingest", day).state == "success"
        dagrun = run("sales_forecast", day)
        assert dagrun.state == "success"
        mapped = [ti for ti in dagrun.get_task_instances() if ti.task_id == "train_shard"]
        assert len(mapped) == 3
        assert all(ti.state == "success" for ti in mapped)

    forecasts = lake.read_parquet(lake.run_dir("forecasts", LAST) / DATA_FILE)
    assert forecasts.groupby(["store_id", "item_id"]).size().eq(7).all()
    assert len(forecasts) == 24 * 7
    assert set(forecasts["date"]) == set(pd.date_range("2025-04-01", periods=7).date)
    assert (forecasts["p10"] <= forecasts["p50"]).all()
    assert (forecasts["p50"] <= forecasts["p90"]).all()
    assert (forecasts["p10"] >= 0).all()
    assert set(forecasts["run_date"]) == {LAST}
    metrics = lake.read_parquet(lake.run_dir("metrics", LAST) / DATA_FILE)
    assert metrics[metrics["chosen"]].groupby(["store_id", "item_id"]).size().eq(1).all()
    assert metrics["model"].nunique() >= 4  # every candidate has its own rows
    stock = lake.read_parquet(lake.run_dir("safety_stock", LAST) / DATA_FILE)
    assert len(stock) == 24
    assert (stock["safety_stock"] >= 0).all()
    for name in ("forecasts", "metrics", "safety_stock"):
        assert read_manifest(lake, lake.run_dir(name, LAST))["run_date"] == LAST.isoformat()
    assert not lake.staging_dir(FORECASTS, LAST).exists()

    report = Path(lake.reports_dir(LAST).path)
    page = (report / "index.html").read_text()
    for needle in (
        "Total sales and forecast",
        "Largest series",
        "Worst-forecast",
        "Model mix",
        "seasonal naive",
        "Safety stock",
        "quarantined",
    ):
        assert needle in page
    for image in ("total.png", "model_mix.png", "largest_0.png"):
        assert (report / image).read_bytes().startswith(b"\x89PNG")

    before = lake.read_parquet(lake.run_dir("forecasts", FIRST) / DATA_FILE)
    assert run("sales_forecast", LAST).state == "success"  # re-run: replaces only LAST
    pd.testing.assert_frame_equal(before, lake.read_parquet(lake.run_dir("forecasts", FIRST) / DATA_FILE))
    pd.testing.assert_frame_equal(forecasts, lake.read_parquet(lake.run_dir("forecasts", LAST) / DATA_FILE))


@pytest.mark.slow
def test_train_shard_log_has_a_progress_line_every_tenth(home, airflow_db, monkeypatch, capfd):
    """The bake-off's progress (off a terminal: a log line per 10%) is in the shard task's log."""
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", "60")
    monkeypatch.setenv("SALESCAST_SERIES_PER_SHARD", "20")  # 20 series -> one shard, a line per 2 series
    from salescast.config import Settings

    lake = Lake.from_settings(Settings.from_env())
    spec = PanelSpec(stores=2, items=10, seed=3)
    for offset in range(60):  # published history, as ingest leaves it
        day = LAST - timedelta(days=offset)
        rows = simulate_day(spec, day)[["date", "store_id", "item_id", "units", "revenue"]]
        staged = lake.staging_dir(FORECASTS, day) / DATA_FILE
        lake.write_parquet(staged, rows)
        publish_partition(lake, staged, lake.curated_dir(day), {"rows": len(rows)})
    capfd.readouterr()
    assert run("sales_forecast", LAST).state == "success"
    out = capfd.readouterr()
    text = out.out + out.err
    start = text.index("[DAG TEST] starting task_id=train_shard map_index=0")
    task_log = text[start : text.index("[DAG TEST] end task task_id=train_shard map_index=0", start)]
    lines = re.findall(r"forecast shard 0:\s+(\d+)%\|.*?(\d+)/20 \[", task_log)
    assert lines == [(str(10 * k), str(2 * k)) for k in range(1, 11)]
    assert "[salescast.forecast]" in task_log


def test_forecast_dag_maps_shards_between_plan_and_publish(dagbag):
    dag = dagbag.dags["sales_forecast"]
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    order = [t.task_id for t in dag.topological_sort()]
    assert order == ["wait_for_curated", "plan", "train_shard", "publish", "report"]
    train = dag.get_task("train_shard")
    assert "MappedOperator" in type(train).__name__
    assert train.pool == "salescast_forecast"  # shards share a pool: slots cap concurrent trainings
    assert [o.uri for o in dag.get_task("publish").outlets] == ["salescast://lake/forecasts"]
