"""AWS mode for real over HTTP: S3 lake, Glue catalog and Athena on a local moto_server.

Ingest, forecast and catalog run with dag.test() against moto; the test then reads what
moto holds (objects, Glue database/tables/partitions, the Athena queries submitted) and
checks the rows equal those of the embedded mode for the same input.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from salescast.catalog.sql import TABLES, VIEWS
from salescast.ingest.pipeline import ingest_day
from salescast.lake import Lake
from salescast.publish import DATA_FILE
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.dags import run
from tests.support.net import point_aws_at

pytestmark = [pytest.mark.slow, pytest.mark.aws]

BUCKET, PREFIX = "salescast-test", "lake"
FIRST, LAST = date(2025, 2, 20), date(2025, 3, 31)
DAG_DAYS = [date(2025, 3, 30), date(2025, 3, 31)]


@pytest.fixture
def aws_env(moto_endpoint, home, airflow_db, monkeypatch):
    import boto3

    point_aws_at(monkeypatch, moto_endpoint)
    monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/{PREFIX}")
    monkeypatch.setenv("SALESCAST_SQL_ENGINE", "athena")
    monkeypatch.setenv("SALESCAST_ATHENA_DATABASE", "salescast_it")
    monkeypatch.setenv("SALESCAST_ATHENA_OUTPUT", f"s3://{BUCKET}/athena-results/")
    monkeypatch.setenv("SALESCAST_SENSOR_TIMEOUT_SECONDS", "20")
    monkeypatch.setenv("SALESCAST_SENSOR_POKE_SECONDS", "1")
    monkeypatch.setenv("SALESCAST_MAX_BAD_ROW_FRACTION", "0.5")
    monkeypatch.setenv("SALESCAST_SERIES_PER_SHARD", "6")
    clients = {
        name: boto3.client(name, endpoint_url=moto_endpoint, region_name="us-east-1")
        for name in ("s3", "glue", "athena")
    }
    clients["s3"].create_bucket(Bucket=BUCKET)
    return clients


def generate(into: Path) -> None:
    write_landing(PanelSpec(stores=2, items=5, seed=9), FIRST, LAST, into, defects=True, bad_file_rate=0.0)


# long on purpose: the three DAGs run in order against one moto_server, then the same input through
# the embedded mode; each step depends on the one before
def test_pipeline_on_s3_glue_and_athena_matches_local_mode(aws_env, tmp_path):  # noqa: C901, PLR0915
    from salescast.config import Settings

    s3, glue, athena = aws_env["s3"], aws_env["glue"], aws_env["athena"]
    lake = Lake.from_settings(Settings.from_env())
    assert lake.uri == f"s3://{BUCKET}/{PREFIX}"
    assert not lake.is_local
    generate(tmp_path / "landing")
    uploaded_at: dict[str, float] = {}

    def upload(folder: Path) -> None:
        for file in sorted(folder.iterdir(), key=lambda p: p.name == "_READY"):  # _READY last
            s3.put_object(
                Bucket=BUCKET, Key=f"{PREFIX}/landing/sales/{folder.name}/{file.name}", Body=file.read_bytes()
            )
        uploaded_at[folder.name] = time.time()

    late = tmp_path / "landing" / DAG_DAYS[0].isoformat()
    for folder in sorted((tmp_path / "landing").iterdir()):
        if folder != late:
            upload(folder)
    day = FIRST
    while day < DAG_DAYS[0]:  # history, through the functions the tasks call
        ingest_day(lake, day, "bootstrap", 0.5)
        day += timedelta(days=1)

    # The first DAG day's files arrive only once its S3 sensor has deferred: it found nothing,
    # and the trigger (run inline by dag.test, which logs "running trigger in line") must see
    # the files land. If that never happens the files still arrive after 60 s, so the test
    # fails on the assertion below instead of hanging (an inline trigger has no timeout).
    deferred_seen = threading.Event()

    class TriggerStarted(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "running trigger in line" in record.getMessage():
                deferred_seen.set()

    dag_test_log = logging.getLogger("airflow.sdk.definitions.dag")
    handler, level, disabled = TriggerStarted(), dag_test_log.level, dag_test_log.disabled
    dag_test_log.addHandler(handler)
    dag_test_log.setLevel(logging.INFO)
    dag_test_log.disabled = False

    def upload_when_deferred() -> None:
        deferred_seen.wait(timeout=60)
        time.sleep(2)  # let the trigger poll S3 at least once and find nothing
        upload(late)

    arrival = threading.Thread(target=upload_when_deferred, daemon=True)
    arrival.start()
    try:
        ingest_first = run("sales_ingest", DAG_DAYS[0])
    finally:
        dag_test_log.removeHandler(handler)
        dag_test_log.setLevel(level)
        dag_test_log.disabled = disabled
    assert deferred_seen.is_set(), "the S3 sensor never deferred to its trigger"
    for day in DAG_DAYS:
        ingest = ingest_first if day == DAG_DAYS[0] else run("sales_ingest", day)
        tis = {ti.task_id: ti for ti in ingest.get_task_instances()}
        assert ingest.state == "success", {k: ti.state for k, ti in tis.items()}
        assert tis["wait_for_landing_s3"].state == "success"
        if day == DAG_DAYS[0]:
            assert late.name in uploaded_at
        assert run("sales_forecast", day).state == "success"
        assert run("sales_catalog", day).state == "success"
    assert run("sales_catalog", DAG_DAYS[-1]).state == "success"  # idempotent: nothing new, nothing raised

    keys = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for o in page.get("Contents", [])
    }
    for day in DAG_DAYS:
        for expected in (
            f"{PREFIX}/curated/sales_daily/dt={day}/part-0.parquet",
            f"{PREFIX}/curated/sales_daily/dt={day}/_SUCCESS",
            f"{PREFIX}/forecasts/run_date={day}/_SUCCESS",
            f"{PREFIX}/metrics/run_date={day}/_SUCCESS",
            f"{PREFIX}/safety_stock/run_date={day}/_SUCCESS",
            f"{PREFIX}/exports/run_date={day}/forecast.csv.gz",
            f"{PREFIX}/exports/run_date={day}/quicksight-manifest.json",
            f"{PREFIX}/exports/run_date={day}/_SUCCESS",
            f"{PREFIX}/reports/run_date={day}/index.html",
            f"{PREFIX}/raw/sales/dt={day}/store_S01.csv",
        ):
            assert expected in keys
    assert not [k for k in keys if "/_staging/" in k]
    export = f"{PREFIX}/exports/run_date={DAG_DAYS[-1]}"
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{export}/quicksight-manifest.json")["Body"].read())
    assert manifest["fileLocations"] == [{"URIs": [f"s3://{BUCKET}/{export}/forecast.csv.gz"]}]  # QuickSight's S3 URI

    assert glue.get_database(Name="salescast_it")["Database"]["Name"] == "salescast_it"
    tables = {t["Name"] for t in glue.get_tables(DatabaseName="salescast_it")["TableList"]}
    assert tables == {t.name for t in TABLES}  # sales_daily, the run tables, censored_days, item_master
    for table, key_days in (("sales_daily", DAG_DAYS), ("forecasts", DAG_DAYS), ("safety_stock_runs", DAG_DAYS)):
        parts = glue.get_partitions(DatabaseName="salescast_it", TableName=table)["Partitions"]
        assert sorted(p["Values"][0] for p in parts) == [d.isoformat() for d in key_days]
    location = glue.get_partition(DatabaseName="salescast_it", TableName="forecasts", PartitionValues=["2025-03-31"])
    assert (
        location["Partition"]["StorageDescriptor"]["Location"]
        == f"s3://{BUCKET}/{PREFIX}/forecasts/run_date=2025-03-31/"
    )

    ids = athena.list_query_executions()["QueryExecutionIds"]
    queries = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    views = [q for q in queries if q.lstrip().startswith("--") or "CREATE OR REPLACE VIEW" in q]
    views_sent = VIEWS  # every view, in creation order
    for view in views_sent:
        assert sum(f"CREATE OR REPLACE VIEW salescast_it.{view} AS" in q for q in views) == 3  # 3 catalog runs
    assert all("END AS bias" in q for q in views if "VIEW salescast_it.forecast_accuracy AS" in q)
    smoke = [q for q in queries if q.startswith("SELECT COUNT(*)")]
    assert sorted(set(smoke)) == [
        f"SELECT COUNT(*) AS row_count FROM salescast_it.sales_daily WHERE dt = '{d}'" for d in DAG_DAYS
    ]

    # The same input through the embedded mode gives the same rows.
    local = Lake((tmp_path / "local").as_uri())
    generate(Path(local.root.path) / "landing" / "sales")
    day = FIRST
    while day <= LAST:
        ingest_day(local, day, "local", 0.5)
        day += timedelta(days=1)
    for day in DAG_DAYS:
        pd.testing.assert_frame_equal(
            local.read_parquet(local.curated_dir(day) / DATA_FILE), lake.read_parquet(lake.curated_dir(day) / DATA_FILE)
        )
    from salescast.forecast.engine import ForecastConfig, run_forecast
    from salescast.forecast.tasks import load_history

    history, days = load_history(local, LAST, 730)
    expected = run_forecast(history, ForecastConfig.from_settings(Settings.from_env()), end=pd.Timestamp(LAST),
                            known_days=pd.DatetimeIndex(days)).forecasts  # fmt: skip
    published = lake.read_parquet(lake.run_dir("forecasts", LAST) / DATA_FILE).drop(columns="run_date")
    pd.testing.assert_frame_equal(expected.reset_index(drop=True), published.reset_index(drop=True), check_dtype=False)
    assert os.environ["SALESCAST_SQL_ENGINE"] == "athena"
