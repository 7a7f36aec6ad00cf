"""The dashboard on an ``s3://`` lake (a real moto_server over HTTP): the same code path as
``file://`` through ``salescast.lake``, markers listed with one LIST, never stale."""

from __future__ import annotations

import io
import math
from datetime import date
from urllib.parse import quote

import pandas as pd
import pytest

from ..net import point_aws_at
from .lakes import forecast_run, publish_history

pytestmark = pytest.mark.slow

BUCKET = "salescast-dashboard"
FIRST, LAST, RUN = date(2025, 2, 1), date(2025, 3, 30), date(2025, 3, 29)


@pytest.fixture
def s3_lake(airflow, moto_endpoint, tmp_path, monkeypatch):
    import boto3

    from salescast.config import Settings
    from salescast.lake import Lake

    point_aws_at(monkeypatch, moto_endpoint)
    monkeypatch.setenv("SALESCAST_HOME", str(tmp_path))
    monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/lake")
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    lake = Lake.from_settings(Settings.from_env())
    assert not lake.is_local
    publish_history(lake, FIRST, LAST)
    forecast_run(RUN)
    return lake, s3


def read(s3, key: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=f"lake/{key}")["Body"].read()))


def test_dashboard_reads_an_s3_lake_and_is_never_stale(airflow, s3_lake):
    from salescast.lake import SALES_DAILY
    from salescast.publish import DATA_FILE, publish_partition

    lake, s3 = s3_lake
    viewer = airflow.as_user("viewer")
    runs = airflow.client.get("/salescast/api/runs", headers=viewer).json()
    assert runs == {"run_dates": [RUN.isoformat()], "latest": RUN.isoformat(), "sales_days": (LAST - FIRST).days + 1}
    assert airflow.client.get("/salescast/api/series", headers=viewer).json()["total"] == 10

    forecasts = read(s3, f"forecasts/run_date={RUN}/part-0.parquet")
    store, item = forecasts.iloc[0]["store_id"], forecasts.iloc[0]["item_id"]
    url = f"/salescast/api/series/detail?store_id={quote(store)}&item_id={quote(item)}"
    detail = airflow.client.get(url, headers=viewer).json()
    mine = forecasts[(forecasts["store_id"] == store) & (forecasts["item_id"] == item)].sort_values("date")
    assert detail["forecast"]["p50"] == pytest.approx(list(mine["p50"]))
    last_day = read(s3, f"curated/sales_daily/dt={LAST}/part-0.parquet")
    row = last_day[(last_day["store_id"] == store) & (last_day["item_id"] == item)]
    expected = float(row["units"].sum()) if len(row) else 0.0
    assert detail["history"]["units"][-1] == expected
    assert detail["forecast"]["actual"][0] == expected  # the run's first target day has arrived
    accuracy = airflow.client.get("/salescast/api/accuracy", headers=viewer).json()["rows"]
    assert [(r["run_date"], r["horizon_step"], r["points"]) for r in accuracy] == [(RUN.isoformat(), 1, 10)]

    staged = lake.staging_dir(SALES_DAILY, LAST) / "run=again" / DATA_FILE
    lake.write_parquet(staged, last_day.assign(units=last_day["units"] + 1000))  # a re-run of the last day
    publish_partition(lake, staged, lake.curated_dir(LAST), {"dataset": "sales_daily", "run_id": "again"})
    again = airflow.client.get(url, headers=viewer).json()
    assert math.isclose(again["history"]["units"][-1], expected + 1000 if len(row) else 0.0)
