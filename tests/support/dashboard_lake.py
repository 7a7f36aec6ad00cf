"""A small but real lake for the dashboard tests, built by the package's own functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import ingest_day
from salescast.lake import SALES_DAILY, Lake
from salescast.publish import DATA_FILE, publish_partition
from salescast_dev.generate import PanelSpec, simulate_day, write_landing

SPEC = PanelSpec(stores=2, items=5, seed=11)
HISTORY_START = date(2025, 1, 1)
INGESTED = [date(2025, 3, 28), date(2025, 3, 29), date(2025, 3, 30)]  # ingest_day (GX, quarantine)
TASK_RUNS = INGESTED  # forecast runs made with the task functions
LAST = date(2025, 3, 31)  # sales_ingest and sales_forecast run for real with dag.test()


@dataclass
class BuiltLake:
    lake: Lake
    root: Path
    ingest_run_id: str
    forecast_run_id: str


def lake_env(root: Path, **settings: str) -> dict[str, str]:
    """The environment of a test lake under ``root``: sensors that look every second and give
    up soon, landing files ready at once; ``settings`` (SALESCAST_* names) override."""
    return {
        "SALESCAST_HOME": str(root),
        "SALESCAST_LAKE_URI": (root / "lake").as_uri(),
        "SALESCAST_SENSOR_TIMEOUT_SECONDS": "5",
        "SALESCAST_SENSOR_POKE_SECONDS": "1",
        "SALESCAST_LANDING_SETTLE_SECONDS": "0",
    } | settings


def scheduled(day: date) -> str:
    return f"scheduled__{day.isoformat()}T00:00:00+00:00"


def publish_history(lake: Lake, start: date, end: date) -> None:
    """Curated days straight from the generator (zero-sale rows left out, as feeds do), through
    the package's publish step: ingesting three months with GX would take ~40 s."""
    day = start
    while day <= end:
        frame = simulate_day(SPEC, day)[["date", "store_id", "item_id", "units", "revenue"]]
        frame = frame[frame["units"] != 0].assign(source_rows=1)
        staged = lake.staging_dir(SALES_DAILY, day) / "run=history" / DATA_FILE
        lake.write_parquet(staged, frame)
        manifest = {"dataset": "sales_daily", "dt": day.isoformat(), "run_id": "history", "rows": len(frame)}
        publish_partition(lake, staged, lake.curated_dir(day), manifest)
        lake.remove_tree(lake.staging_dir(SALES_DAILY, day))
        day += timedelta(days=1)


def forecast_run(day: date) -> None:
    """One forecast run through the same task functions the DAG calls."""
    ds, run_id = day.isoformat(), scheduled(day)
    shards = [forecast_tasks.forecast_shard(ds, run_id, spec) for spec in forecast_tasks.plan_shards(ds, run_id)]
    forecast_tasks.publish_forecasts(ds, run_id, shards)


def dag_run(dag_id: str, day: date):
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from salescast.config import DAGS_DIR

    # built once per module, before tests/conftest.py's per-test fixture: no deadline alert in
    # DAG.test() (salescast_dev.airflow_env.without_deadline says why)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESCAST_FORECAST_DEADLINE", "off")
        dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag(dag_id)
        return dag.test(logical_date=pendulum.datetime(day.year, day.month, day.day, tz="UTC"))


# two bad records next to the generator's files on the last day, so its run quarantines some
BAD_RECORDS = "date,store_id,item_id,units\n2025-03-31,S01,,3\n2025-03-31,S02,I-BAD,12x\n"


def build(lake: Lake) -> BuiltLake:
    root = Path(lake.root.path)
    write_landing(SPEC, INGESTED[0], LAST, root / "landing" / "sales", defects=True, bad_file_rate=0.0)
    (root / "landing" / "sales" / LAST.isoformat() / "corrections.csv").write_text(BAD_RECORDS)
    publish_history(lake, HISTORY_START, INGESTED[0] - timedelta(days=1))
    for day in INGESTED:
        ingest_day(lake, day, scheduled(day), 0.25)
    for day in TASK_RUNS:
        forecast_run(day)
    ingest = dag_run("sales_ingest", LAST)
    assert ingest.state == "success", ingest.state
    forecast = dag_run("sales_forecast", LAST)
    assert forecast.state == "success", forecast.state
    return BuiltLake(lake, root, ingest.run_id, forecast.run_id)
