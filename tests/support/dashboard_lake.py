"""A small but real lake for the dashboard tests, built by the package's own functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
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


def publish_history(
    lake: Lake, start: date, end: date, adjust: Callable[[date, pd.DataFrame], pd.DataFrame] | None = None
) -> None:
    """Curated days straight from the generator (zero-sale rows left out, as feeds do), through
    the package's publish step: ingesting three months with GX would take ~40 s. ``adjust``
    changes a day's rows before they are published."""
    day = start
    while day <= end:
        frame = simulate_day(SPEC, day)[["date", "store_id", "item_id", "units", "revenue"]]
        frame = adjust(day, frame) if adjust else frame
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


# ---- a forecast run with demand drivers (SALESCAST_DRIVERS_MAPPING=retail) ------------------------
# The chain's promotion calendar and prices come from the generator (its promotions lift demand);
# on top, hand-placed days whose page is known: a local event, a store closure, an item out of
# stock, and rows more specific than the `*` rows they override.

DRIVERS_FIRST = date(2024, 9, 1)  # 200 days: enough for the AR models with drivers to see the promotions
DRIVERS_RUN = date(2025, 3, 20)  # the run with drivers; the day before: a run without
DRIVERS_HORIZON = 7
EVENTS = (DRIVERS_RUN - timedelta(days=10), DRIVERS_RUN - timedelta(days=9), DRIVERS_RUN + timedelta(days=4))
CLOSED = (DRIVERS_RUN - timedelta(days=5), DRIVERS_RUN + timedelta(days=2))  # store S01: no sales that day
OUT_OF_STOCK = (DRIVERS_RUN - timedelta(days=3), DRIVERS_RUN - timedelta(days=2))  # STOCKED_OUT: in_stock 0.2
PARTLY = DRIVERS_RUN - timedelta(days=1)  # STOCKED_OUT: in_stock 0.7 (kept: not censored)
STOCKED_OUT = ("S01", "I0003")  # also its own price, one above the item's chain price (`*, I0003`)
NO_EVENT = ("S02", "I0005")  # event 0 (given on one event day, 0 on the others by the mapping's absent rule)
STORE_PRICE_UP = 1.0


def _drivers_sales(day: date, frame: pd.DataFrame) -> pd.DataFrame:
    """What the shops recorded: nothing from S01 on a closure, one unit of STOCKED_OUT on a
    day it was out of stock."""
    if day in CLOSED:
        return frame[frame["store_id"] != "S01"]
    if day in OUT_OF_STOCK:
        hit = (frame["store_id"] == STOCKED_OUT[0]) & (frame["item_id"] == STOCKED_OUT[1])
        return frame.assign(units=np.where(hit, 1.0, frame["units"]))
    return frame


def drivers_delivery() -> pd.DataFrame:
    """The wide drivers file delivered as of DRIVERS_RUN (empty cells say nothing)."""
    rows = []
    last = DRIVERS_RUN + timedelta(days=DRIVERS_HORIZON)
    day = DRIVERS_FIRST
    while day <= last:
        items = simulate_day(SPEC, day).drop_duplicates("item_id")  # promotions and prices are chain-wide
        for item, promo, price in zip(items["item_id"], items["promo"], items["price"], strict=True):
            rows.append({"date": day, "store_id": "*", "item_id": item, "promo": float(promo), "price": price})
            if item == STOCKED_OUT[1]:
                rows.append({"date": day, "store_id": STOCKED_OUT[0], "item_id": item, "price": price + STORE_PRICE_UP})
        day += timedelta(days=1)
    rows += [{"date": d, "store_id": "*", "item_id": "*", "event": 1.0} for d in EVENTS]
    rows.append({"date": EVENTS[0], "store_id": NO_EVENT[0], "item_id": NO_EVENT[1], "event": 0.0})
    rows += [{"date": d, "store_id": "S01", "item_id": "*", "store_open": 0.0} for d in CLOSED]
    stock = [(d, 0.2) for d in OUT_OF_STOCK] + [(PARTLY, 0.7)]
    rows += [{"date": d, "store_id": STOCKED_OUT[0], "item_id": STOCKED_OUT[1], "in_stock": v} for d, v in stock]
    frame = pd.DataFrame(rows)
    return frame.assign(date=frame["date"].map(date.isoformat))


def build_with_drivers(lake: Lake) -> None:
    """History DRIVERS_FIRST..DRIVERS_RUN, the drivers delivered as of DRIVERS_RUN through the
    drivers ingest, a run on the day before without drivers and a run on DRIVERS_RUN with
    them (the task functions, as the DAG calls them). Needs the lake's SALESCAST_* environment."""
    from salescast.driver_mapping import DriverMapping
    from salescast.ingest.drivers import ingest_drivers_day

    publish_history(lake, DRIVERS_FIRST, DRIVERS_RUN, _drivers_sales)
    lake.write_text(lake.landing_dir(DRIVERS_RUN, "drivers") / "plan.csv", drivers_delivery().to_csv(index=False))
    ingest_drivers_day(lake, DRIVERS_RUN, "drivers", DriverMapping.load("retail"), max_bad_fraction=0.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SALESCAST_DRIVERS_MAPPING", raising=False)
        forecast_run(DRIVERS_RUN - timedelta(days=1))
        patch.setenv("SALESCAST_DRIVERS_MAPPING", "retail")
        patch.setenv("SALESCAST_DRIVERS_SETTLE_SECONDS", "0")
        forecast_run(DRIVERS_RUN)
