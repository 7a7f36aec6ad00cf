"""
### sales_ingest

Daily, for the logical date D: wait for `landing/sales/D/` to be complete, archive every
file byte for byte to `raw/`, map and validate the rows with Great Expectations,
quarantine bad rows with their reason, and publish `curated/sales_daily/dt=D/` atomically.

* **Ready rule**: a `_READY` marker in the folder, or every data file unchanged for
  `SALESCAST_LANDING_SETTLE_SECONDS`.
* **Rejection**: an unreadable file, or more than `SALESCAST_MAX_BAD_ROW_FRACTION` invalid
  records, fails the run without publishing and without retries. Fix the input, re-run D.
* Re-running D replaces D's partition and nothing else.
* **Expected deliveries**: a store that delivered on most recent days and sent nothing for D
  is a warning (the day is published, the forecast imputes it); `check_deliveries` mails
  once if it is still missing `SALESCAST_DELIVERY_SETTLE_SECONDS` after the end of D.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from salescast.config import Settings
from salescast.ops import defaults
from salescast.ops.alerts import notify_dag_failure
from salescast.ops.assets import SALES_DAILY

settings = Settings.from_env()

default_args = defaults.default_args(settings)


# long on purpose: TaskFlow defines the DAG's five tasks inside its function
@dag(
    dag_id="sales_ingest",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=defaults.start_date(settings),
    catchup=False,
    max_active_runs=4,
    # waits for landing, then (check_deliveries) for late stores until the settle time after D
    dagrun_timeout=timedelta(seconds=max(settings.sensor_timeout_seconds, settings.delivery_settle_seconds))
    + timedelta(hours=2),
    default_args=default_args,
    tags=["salescast", "ingest"],
    doc_md=__doc__,
    on_failure_callback=notify_dag_failure,
)
def sales_ingest() -> None:
    @task.sensor(**defaults.sensor_kwargs(settings))
    def wait_for_landing(ds: str | None = None) -> PokeReturnValue:
        from salescast.ingest.tasks import landing_readiness

        ready, files, detail = landing_readiness(ds)
        print(f"landing for {ds}: {detail}")
        return PokeReturnValue(is_done=ready, xcom_value=files)

    @task
    def archive_raw(files: list[str], ds: str | None = None) -> list[dict]:
        from salescast.ingest.tasks import archive_landing

        return archive_landing(ds, files)

    # one XCom per task (multiple_outputs=False): a dict return is a value, not one XCom per key
    @task(multiple_outputs=False)
    def validate(archived: list[dict], ds: str | None = None, run_id: str | None = None) -> dict:
        from salescast.ingest.tasks import validate_landing

        return validate_landing(ds, run_id, archived)

    @task(outlets=[SALES_DAILY], multiple_outputs=False)
    def publish(
        result: dict, ds: str | None = None, run_id: str | None = None, outlet_events: dict | None = None
    ) -> dict:
        from salescast.ingest.tasks import publish_curated

        manifest = publish_curated(ds, run_id, result)
        outlet_events[SALES_DAILY].extra = {"dt": ds, "rows": manifest["rows"]}
        return manifest

    # A store that delivered on most recent days and sent nothing today (salescast.deliveries):
    # the day is published with a warning; past the settle time, one alert mail. The timeout
    # leaves a day beyond the settle time for the look that sends it.
    @task.sensor(
        mode="reschedule",
        poke_interval=settings.sensor_poke_seconds,
        timeout=settings.delivery_settle_seconds + 2 * 86_400,
        retries=0,
    )
    def check_deliveries(ds: str | None = None) -> PokeReturnValue:
        from salescast.ingest.tasks import delivery_check

        done, detail = delivery_check(ds)
        print(detail)
        return PokeReturnValue(is_done=done)

    ready = wait_for_landing()
    if settings.is_s3:
        from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor

        # On S3, first wait deferrably (no worker slot, the triggerer polls) for any object
        # of the day; the ready rule above then checks _READY / settle time as usual.
        bucket, _, prefix = settings.lake_uri.removeprefix("s3://").partition("/")
        any_file = S3KeySensor(
            task_id="wait_for_landing_s3",
            bucket_name=bucket,
            bucket_key="/".join(p for p in (prefix, "landing/sales/{{ ds }}/*") if p),
            wildcard_match=True,
            deferrable=True,
            aws_conn_id=settings.aws_conn_id,
            poke_interval=settings.sensor_poke_seconds,
            timeout=settings.sensor_timeout_seconds,
            retries=0,
        )
        any_file >> ready
    publish(validate(archive_raw(ready))) >> check_deliveries()


sales_ingest()
