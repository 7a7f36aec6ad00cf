"""The forecast over a history with a rejected day, on a file:// and an s3:// lake.

A day whose ingest was rejected has no published partition: the forecast must impute it (not
read it as a day of zero sales), and, weekly, must not read the week in progress as a week of
low sales. Re-running the forecast for the day publishes the same bytes. The forecast steps run
as the ``sales_forecast`` tasks run them (``salescast.forecast.tasks``), without Airflow.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.forecast import tasks as forecast_tasks
from salescast.ingest.pipeline import DayRejected, ingest_day
from salescast.lake import SALES_DAILY, Lake
from salescast.publish import DATA_FILE, is_published, publish_partition

DAY = date(2025, 3, 26)  # a Wednesday
FIRST = DAY - timedelta(days=62)
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
    day = FIRST
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
