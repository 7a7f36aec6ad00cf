"""The item master through its DAG with dag.test(): deliveries as of their day, a day without
one succeeds with nothing to ingest, and a bad row is quarantined while the rest publish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from salescast.forecast.items_asof import items_as_of
from salescast.lake import ITEM_LISTINGS, ITEMS, Lake
from salescast.publish import DATA_FILE, is_published
from tests.support.dags import run

pytestmark = pytest.mark.slow

HEADER = "item_id,category,subcategory,brand,launch_date,status,analog_item_id"


@pytest.fixture
def items_env(home, airflow_db, monkeypatch):
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_ITEMS_SETTLE_SECONDS", "0")
    monkeypatch.setenv("SALESCAST_LANDING_SETTLE_SECONDS", "0")
    monkeypatch.setenv("SALESCAST_MAX_BAD_ROW_FRACTION", "0.5")  # small deliveries: one bad row in three
    from salescast.config import Settings

    lake = Lake.from_settings(Settings.from_env())
    return lake, Path(lake.root.path)


def _deliver(root: Path, asof: date, name: str, lines: list[str]) -> None:
    folder = root / "landing" / "items" / asof.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def test_deliveries_publish_as_of_their_day_and_a_day_without_one_is_a_quiet_success(items_env):
    lake, root = items_env
    _deliver(root, date(2025, 3, 1), "items.csv", [HEADER, "N1,Dairy,Milk,Acme,2025-03-20,active,A1",
                                                   "N2,Dairy,Milk,Acme,2025-03-20,launched,"])  # fmt: skip
    _deliver(root, date(2025, 3, 1), "listings.csv", ["store_id,item_id,list_date", "S1,N1,2025-03-20"])
    _deliver(root, date(2025, 3, 3), "items.csv", [HEADER, "N1,Dairy,Milk,Acme,2025-03-27,active,A1"])
    _deliver(root, date(2025, 3, 4), "listings.csv", ["store_id,item_id", "S1,N1"])  # no list_date: unreadable
    for asof in (date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)):
        assert run("sales_items", asof).state == "success"
    assert run("sales_items", date(2025, 3, 4)).state == "failed"  # rejected: fix the file, re-run the day
    assert not lake.partition_dir(ITEMS, date(2025, 3, 4)).exists()
    assert is_published(lake.partition_dir(ITEMS, date(2025, 3, 1)))
    assert is_published(lake.partition_dir(ITEM_LISTINGS, date(2025, 3, 1)))
    assert not lake.partition_dir(ITEMS, date(2025, 3, 2)).exists()  # no delivery: nothing to publish
    assert (root / "raw" / "items" / "dt=2025-03-03" / "items.csv").exists()
    bad = lake.read_parquet(lake.quarantine_file(date(2025, 3, 1), "items"))
    assert bad["reason"].tolist() == ["status is neither active nor discontinued (got 'launched')"]

    on_second = items_as_of(lake, date(2025, 3, 2))  # a backfill of 03-02 does not see 03-03's change
    assert on_second.items.set_index("item_id").loc["N1", "launch_date"] == date(2025, 3, 20)
    assert items_as_of(lake, date(2025, 3, 3)).items.set_index("item_id").loc["N1", "launch_date"] == date(2025, 3, 27)


def test_the_items_dag_is_always_there_with_the_ingest_conventions(dagbag):
    dag = dagbag.dags["sales_items"]
    sensor = dag.get_task("wait_for_items")
    assert sensor.mode == "reschedule"
    assert 0 < sensor.timeout < 7 * 86_400
    assert dag.get_task("ingest").outlets[0].name == "salescast.items"
    assert dag.on_failure_callback is not None
    assert "ingest" in dag.tags
    assert "items" in dag.tags


@pytest.fixture
def launch_env(items_env):
    """Six weeks of tests.support.launches' sales ingested (E0, the analog A1, D1, and R1 launched ten days ago)."""
    from salescast.ingest.pipeline import ingest_day
    from tests.support.launches import END, history

    lake, root = items_env
    sales = history()
    sales = sales[
        sales["item_id"].isin(["E0", "A1", "D1", "R1"]) & (pd.to_datetime(sales["date"]) > END - pd.Timedelta(days=42))
    ]
    for day, rows in sales.groupby("date"):
        folder = root / "landing" / "sales" / day.isoformat()
        folder.mkdir(parents=True)
        rows.assign(date=day.isoformat()).to_csv(folder / "sales.csv", index=False)
        ingest_day(lake, day, "bootstrap", 0.05)
    return lake, root, END.date()


def test_an_item_master_delivery_makes_a_new_item_appear_in_the_forecasts_as_cold_start(launch_env):
    from salescast.lake import EXPORTS

    lake, root, day = launch_env
    assert run("sales_forecast", day).state == "success"  # no item master: the run is as it always was
    before = lake.read_parquet(lake.run_dir("forecasts", day) / DATA_FILE)
    assert "N1" not in set(before["item_id"])
    assert set(before.loc[before["item_id"] == "R1", "model"]) == {"recent_mean"}  # 10 days: a fallback
    assert "cold_start" not in lake.read_json(lake.reports_dir(day) / "forecast_summary.json")

    _deliver(root, day, "items.csv", [HEADER, "E0,snacks,,,2020-01-01,active,", "A1,snacks,,,2020-01-01,active,",
                                      "R1,snacks,,,2025-04-21,active,", "D1,snacks,,,2020-01-01,discontinued,",
                                      "N1,snacks,,,2025-05-01,active,A1"])  # fmt: skip
    _deliver(
        root, day, "listings.csv", ["store_id,item_id,list_date"] + [f"{s},N1,2025-05-01" for s in ("S1", "S2", "S3")]
    )
    assert run("sales_items", day).state == "success"
    assert run("sales_forecast", day).state == "success"
    after = lake.read_parquet(lake.run_dir("forecasts", day) / DATA_FILE)
    new = after[after["item_id"] == "N1"]
    assert sorted(set(new["store_id"])) == ["S1", "S2", "S3"]
    assert set(new["model"]) == {"cold_start"}
    assert len(new) == 3 * 7
    assert set(after.loc[after["item_id"] == "R1", "model"]) == {"recent_mean"}  # 10 days of its own: the engine's
    assert "D1" not in set(after["item_id"])  # discontinued: no rows
    metrics = lake.read_parquet(lake.run_dir("metrics", day) / DATA_FILE)
    reasons = metrics[(metrics["item_id"] == "N1") & metrics["chosen"]].set_index("store_id")["reason"]
    assert reasons["S1"].startswith("analog A1 in S1")
    summary = lake.read_json(lake.reports_dir(day) / "forecast_summary.json")
    assert summary["cold_start"]["series"] == 3  # N1 in three stores
    assert summary["cold_start"]["discontinued"]["items"] == 1
    assert summary["model_mix"]["cold_start"] == 3
    assert summary["series"] == len(after[["store_id", "item_id"]].drop_duplicates())
    export = pd.read_csv(lake.partition_dir(EXPORTS, day).path + "/forecast.csv.gz", dtype=str)
    assert (export.loc[export["item_id"] == "N1", "model"] == "cold_start").sum() == 21  # flows to the planners' CSV
