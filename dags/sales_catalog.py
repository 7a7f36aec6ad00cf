"""
### sales_catalog

Runs when `sales_ingest`, `sales_forecast` or `sales_items` publishes (Asset events), or for a date with
`make run DAG=sales_catalog DATE=D`. Makes the lake queryable with the SQL in
`include/sql/`:

* **duckdb** (default): rebuilds the table views and views in `$SALESCAST_HOME/warehouse.duckdb`
  (DuckDB provider hook, views transpiled from Athena SQL by sqlglot), over a `file://` or an
  `s3://` lake (read through the lake's own S3 connection: `salescast.catalog.warehouse`).
* **athena** (`SALESCAST_SQL_ENGINE=athena`): creates the Glue database and tables if missing,
  registers the new partitions through the Glue API (no crawler, no MSCK REPAIR), runs
  `CREATE OR REPLACE VIEW` for every view with `AthenaOperator`, then a smoke query counting
  the day's rows. Running twice changes nothing the second time.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task

from salescast.config import Settings
from salescast.ops import defaults
from salescast.ops.alerts import notify_dag_failure
from salescast.ops.assets import FORECASTS, ITEMS, SALES_DAILY

settings = Settings.from_env()


@dag(
    dag_id="sales_catalog",
    schedule=(SALES_DAILY | FORECASTS | ITEMS),
    start_date=defaults.start_date(settings),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=defaults.default_args(settings, execution_timeout=timedelta(minutes=15)),
    tags=["salescast", "catalog", settings.sql_engine],
    doc_md=__doc__,
    on_failure_callback=notify_dag_failure,
)
def sales_catalog() -> None:
    @task
    def days_to_register() -> list[str]:
        from salescast.catalog.tasks import days_from_context

        return days_from_context(get_current_context())

    if settings.sql_engine == "athena":
        from airflow.providers.amazon.aws.operators.athena import AthenaOperator

        from salescast.catalog.sql import VIEWS, athena_view  # light: Jinja over include/sql, no pandas

        @task(multiple_outputs=False)
        def register_partitions(days: list[str]) -> dict:
            from salescast.catalog.tasks import glue_register

            return glue_register(days)

        athena = {
            "database": settings.athena_database,
            "workgroup": settings.athena_workgroup,
            "output_location": settings.athena_output,
            "aws_conn_id": settings.aws_conn_id,
            "sleep_time": 2,
        }
        registered = register_partitions(days_to_register())
        previous = registered
        for view in VIEWS:
            step = AthenaOperator(task_id=f"view_{view}", query=athena_view(view, settings.athena_database), **athena)
            previous >> step
            previous = step
        smoke_count_rows = AthenaOperator(
            task_id="smoke_count_rows",
            query="{{ ti.xcom_pull(task_ids='register_partitions')['smoke_query'] }}",
            **athena,
        )
        previous >> smoke_count_rows
    else:

        @task(multiple_outputs=False)
        def refresh_duckdb(days: list[str]) -> dict:
            from salescast.catalog.tasks import refresh_duckdb_catalog

            counts = refresh_duckdb_catalog()
            print(f"catalog refreshed for {days}: {counts}")
            return counts

        refresh_duckdb(days_to_register())


sales_catalog()
