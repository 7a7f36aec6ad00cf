"""The DuckDB engine over an ``s3://`` lake, as docker-compose.yaml runs it (MinIO there, a real
moto_server here): sales_catalog succeeds, and the warehouse's views give exactly the rows the
same lake gives on a local disk, read through the lake's own S3 filesystem (no httpfs download).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from salescast.catalog import sql as catalog
from salescast.catalog.warehouse import connect
from salescast.config import Settings
from salescast.lake import Lake
from tests.support.dags import run
from tests.support.net import point_aws_at
from tests.unit.catalog.test_sql import build_lake, write

pytestmark = [pytest.mark.slow, pytest.mark.aws]

BUCKET, PREFIX = "salescast-duckdb", "lake"
NAMES = [t.name for t in catalog.TABLES] + list(catalog.VIEWS)


@pytest.fixture
def s3_duckdb(moto_endpoint, home, airflow_db, monkeypatch, tmp_path) -> Path:
    """The same small lake on a local disk (returned) and under s3://BUCKET/PREFIX, with a
    partition left unpublished (no ``_SUCCESS``) in both."""
    import boto3

    point_aws_at(monkeypatch, moto_endpoint)
    monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/{PREFIX}")
    monkeypatch.setenv("SALESCAST_SQL_ENGINE", "duckdb")
    local = build_lake(tmp_path / "local-lake")
    write(local, "forecasts", "run_date", "2025-03-05", pd.DataFrame({"junk": [1]}))
    (local / "forecasts/run_date=2025-03-05/_SUCCESS").unlink()
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{path.relative_to(local).as_posix()}", Body=path.read_bytes())
    return local


def rows(connection, name: str) -> list[tuple]:
    frame = connection.execute(f"SELECT * FROM {catalog.identifier(name)}").df()
    frame = frame.astype(str)  # dates and NaN compare as text; the column order stays the views'
    return sorted(frame.itertuples(index=False, name=None))


def test_sales_catalog_on_duckdb_over_s3_gives_the_local_rows(s3_duckdb, tmp_path):
    settings = Settings.from_env()
    assert (settings.sql_engine, settings.is_s3) == ("duckdb", True)
    assert run("sales_catalog", date(2025, 3, 2)).state == "success"

    local_warehouse = tmp_path / "local.duckdb"
    counts = catalog.refresh_duckdb(Lake(str(s3_duckdb)), local_warehouse)
    assert (counts["sales_daily"], counts["forecasts"], counts["safety_stock_runs"]) == (2, 4, 2)
    with connect(settings) as on_s3:
        (definition,) = on_s3.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'sales_daily'").fetchone()
        assert f"s3://{BUCKET}/{PREFIX}/curated/sales_daily/dt=*/*.parquet" in definition  # S3, not a local copy
        loaded = {r[0] for r in on_s3.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
        assert "httpfs" not in loaded
        with duckdb.connect(str(local_warehouse), read_only=True) as on_disk:
            for name in NAMES:
                assert rows(on_s3, name) == rows(on_disk, name), name
        assert on_s3.execute("SELECT COUNT(*) FROM forecast_accuracy").fetchone()[0] == 3
