"""One store's file is missing from a day's landing folder, on file:// and s3://.

Before: the day was published with no warning and that store's series counted as zero sales
(in training and in accuracy). Now: a warning in the ingest result, the validation report and
the partition's manifest; the forecast imputes the store's day (summary ``imputed_store_days``)
and the accuracy view and the dashboard skip it; a retired store is not expected.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.catalog import sql as catalog
from salescast.config import Settings
from salescast.dashboard import accuracy, dagruns
from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
from salescast.publish import DATA_FILE, read_manifest

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


def test_a_retired_store_is_not_expected(history, monkeypatch):
    monkeypatch.setenv("SALESCAST_RETIRED_STORES", "S03, S09")
    result = ingest(history, DAY, ("S01", "S02"))
    assert result.missing_stores == []
    assert not any("sent nothing" in w for w in result.warnings)


def test_accuracy_skips_a_store_that_sent_nothing(tmp_path):
    """The view and the dashboard score only (store, day) pairs that delivered."""
    root = tmp_path / "lake"

    def write(prefix: str, key: str, value: str, frame: pd.DataFrame) -> None:
        folder = root / prefix / f"{key}={value}"
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / DATA_FILE, index=False)
        (folder / "_SUCCESS").write_text("{}")

    day = date(2025, 3, 2)  # S2 sent nothing; S1 sold 10 of A
    sales = pd.DataFrame({"date": [day], "store_id": ["S1"], "item_id": ["A"], "units": [10.0],
                          "revenue": [20.0], "source_rows": [1]})  # fmt: skip
    write("curated/sales_daily", "dt", day.isoformat(), sales)
    forecasts = pd.DataFrame({
        "run_date": date(2025, 3, 1), "store_id": ["S1", "S2"], "item_id": "A", "date": day,
        "p10": 8.0, "p50": 10.0, "p90": 12.0, "horizon_step": 1, "mean": 10.0, "model": "theta",
    })  # fmt: skip
    write("forecasts", "run_date", "2025-03-01", forecasts)
    warehouse = tmp_path / "w.duckdb"
    catalog.refresh_duckdb(Lake(str(root)), warehouse)
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        points, wape = con.execute("SELECT points, wape FROM forecast_accuracy").fetchone()
    assert (points, wape) == (1, 0.0)  # S2 is not a miss of 10 units against zero sales
    frame = forecasts.assign(date=pd.to_datetime(forecasts["date"]))
    sums = accuracy.run_sums(frame, sales.assign(date=pd.to_datetime(sales["date"])))
    assert sums["points"].tolist() == [1.0]
