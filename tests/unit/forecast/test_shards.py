"""plan splits the history into one file per shard; a shard forecasts from its file alone.

Runs the ``sales_forecast`` task functions without Airflow, on a ``file://`` lake and on an
``s3://`` lake on a real moto_server, and compares each shard's output with the old path:
the whole history built into one panel and filtered to the shard (``run_forecast(shard=i)``).
"""

from __future__ import annotations

import re
import zlib
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from salescast.config import Settings
from salescast.contracts import shard_of
from salescast.forecast import tasks as forecast_tasks
from salescast.forecast.engine import ForecastConfig, run_forecast
from salescast.forecast.shards import KeyCodes
from salescast.lake import FORECASTS, Lake
from salescast.publish import publish_partition
from salescast_dev.generate import PanelSpec, simulate_day
from tests.support.net import point_aws_at

DAY = date(2025, 3, 26)
DAYS = 63
UNPUBLISHED = DAY - timedelta(days=20)  # a rejected ingest: imputed, not zero sales
BUCKET = "salescast-shards"


@pytest.fixture(params=["file", pytest.param("s3", marks=[pytest.mark.slow, pytest.mark.aws])])
def lake(request, home, monkeypatch):
    if request.param == "s3":
        import boto3

        endpoint = request.getfixturevalue("moto_endpoint")
        point_aws_at(monkeypatch, endpoint)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setenv("SALESCAST_HISTORY_DAYS", str(DAYS))
    monkeypatch.setenv("SALESCAST_SERIES_PER_SHARD", "5")  # 24 series -> 5 shards
    return Lake.from_settings(Settings.from_env())


def curated_rows(spec: PanelSpec, day: date) -> pd.DataFrame:
    """A day as ingest publishes it: only series that moved; on the first day only one series
    (so most shards start later and need the anchor), and items I0007/I0008 launch mid-way."""
    rows = simulate_day(spec, day)
    rows = rows[(rows["sold"] > 0) | (rows["returned"] > 0)]
    if day == DAY - timedelta(days=DAYS - 1):
        rows = rows.head(1)
    if day < DAY - timedelta(days=30):
        rows = rows[~rows["item_id"].isin(["I0007", "I0008"])]
    return rows.assign(source_rows=1)[["date", "store_id", "item_id", "units", "revenue", "source_rows"]]


def publish_history(lake: Lake) -> pd.DataFrame:
    spec, frames = PanelSpec(stores=3, items=8, seed=11), []
    for offset in range(DAYS - 1, -1, -1):
        day = DAY - timedelta(days=offset)
        if day == UNPUBLISHED:
            continue
        rows = curated_rows(spec, day)
        staged = lake.staging_dir(FORECASTS, day) / "part-0.parquet"
        lake.write_parquet(staged, rows)
        publish_partition(lake, staged, lake.curated_dir(day), {"rows": len(rows)})
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def test_plan_writes_each_series_once_in_its_shard_and_shards_forecast_as_the_whole_panel(lake):
    history = publish_history(lake)
    ds, run_id = DAY.isoformat(), "manual__1"
    specs = forecast_tasks.plan_shards(ds, run_id)

    plan = lake.read_json(lake.path(specs[0]["plan"]))
    assert plan["n_shards"] == 5
    assert plan["series"] == 24
    assert plan["rows"] == len(history)
    assert len(plan["days"]) == DAYS - 1
    assert UNPUBLISHED.isoformat() not in plan["days"]
    assert plan["first_day"] == (DAY - timedelta(days=DAYS - 1)).isoformat()
    assert [s["shard"] for s in specs] == sorted(int(k) for k in plan["shard_series"])
    assert set(specs[0]) == {"shard", "history", "plan"}  # small XComs: no list of days per shard

    staged = []
    for spec in specs:
        rows = lake.read_parquet(lake.path(spec["history"]))
        keys = rows[["store_id", "item_id"]].drop_duplicates()
        assert {shard_of(s, i, 5) for s, i in keys.itertuples(index=False)} == {spec["shard"]}
        assert len(keys) == plan["shard_series"][str(spec["shard"])]
        assert len(rows) == plan["shard_rows"][str(spec["shard"])]
        staged.append(rows)
    together = pd.concat(staged, ignore_index=True)
    columns, order = ["date", "store_id", "item_id", "units"], ["date", "store_id", "item_id"]
    pd.testing.assert_frame_equal(
        together.sort_values(order).reset_index(drop=True),
        history[columns].sort_values(order).reset_index(drop=True),
    )
    late = [s for s, rows in zip(specs, staged, strict=True) if str(rows["date"].min()) > plan["first_day"]]
    assert late, "no shard starts after the first day: the anchor would not be exercised"

    settings = Settings.from_env()
    cfg, end = ForecastConfig.from_settings(settings), pd.Timestamp(DAY)
    known = pd.DatetimeIndex(plan["days"])
    for spec in specs:
        out = forecast_tasks.forecast_shard(ds, run_id, spec)
        old = run_forecast(history, cfg, shard=spec["shard"], n_shards=5, end=end, known_days=known)
        folder = lake.path(out["folder"])
        for name in ("forecasts", "metrics", "safety_stock"):
            pd.testing.assert_frame_equal(lake.read_parquet(folder / f"{name}.parquet"), getattr(old, name))
        summary = lake.read_json(folder / "summary.json")
        assert summary["sums"] == old.summary["sums"]
        assert summary["imputed_days"] == old.summary["imputed_days"] == 1

    forecast_tasks.plan_shards(ds, "manual__2")  # a re-run replaces the day's staging
    runs = sorted(p.name for p in lake.iter_dirs(lake.staging_dir(FORECASTS, DAY)))
    assert runs == ["run=manual__2"]


def test_key_codes_give_the_engines_shard_for_every_distinct_series():
    keys = KeyCodes()
    day1 = pa.table({"store_id": ["S1", "S1", "S2", "é"], "item_id": ["A", "B", "A", "Z"]})
    day2 = pa.table({"store_id": ["S3", "S1"], "item_id": ["A", "B"]})
    codes = np.unique(np.concatenate([keys.codes(day1), keys.codes(day2)]))
    assert len(codes) == 5
    assert keys.codes(day2)[1] == keys.codes(day1)[1]  # the same pair, the same code on any day
    shards = keys.shards(codes, 7)
    pairs = [(keys.stores[int(c >> 32)].as_py(), keys.items[int(c & 0xFFFFFFFF)].as_py()) for c in codes]
    assert shards.tolist() == [zlib.crc32(f"{s}\x1f{i}".encode()) % 7 for s, i in pairs]


@pytest.mark.parametrize(
    ("series", "per_shard", "max_shards", "map_limit", "expected"),
    [
        (24, 5, None, 1024, 5),
        (1, 500, None, 1024, 1),
        (100_000, 500, None, 1024, 200),
        (1_000_000, 500, None, 1024, 1024),  # Airflow's map length caps the default
        (1_000_000, 500, 300, 1024, 300),
        (1_000_000, 500, 5000, 1024, 1024),  # above the map length: capped with a warning
        (10_000, 500, None, 8, 8),
    ],
)
def test_shard_count_follows_the_series(monkeypatch, series, per_shard, max_shards, map_limit, expected):
    monkeypatch.setenv("SALESCAST_SERIES_PER_SHARD", str(per_shard))
    if max_shards:
        monkeypatch.setenv("SALESCAST_MAX_SHARDS", str(max_shards))
    assert forecast_tasks.shard_count(series, Settings.from_env(), map_limit) == expected


def test_max_shards_defaults_to_airflows_map_length(monkeypatch):
    monkeypatch.delenv("SALESCAST_MAX_SHARDS", raising=False)
    assert Settings.from_env().max_shards is None
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "1024")
    assert forecast_tasks.max_map_length() == 1024
