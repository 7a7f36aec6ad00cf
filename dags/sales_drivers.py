"""
### sales_drivers

Only when demand drivers are on (`SALESCAST_DRIVERS_MAPPING` names a reviewed mapping in
`include/sources/drivers/`). Daily, for the logical date D: wait for `landing/drivers/D/`
(the drivers known on D: a promotion calendar, planned prices, closures, a weather forecast,
stock levels), archive the files to `raw/drivers/`, check every value against the mapping
with the `drivers` Great Expectations suite, quarantine bad values with their reason, and
publish `curated/drivers/asof=D/` atomically.

* **No delivery is normal**: drivers come when there is news. If nothing has landed
  `SALESCAST_DRIVERS_SETTLE_SECONDS` after the end of D, the run succeeds with nothing to
  ingest (a backfill does not wait).
* **Rejection**: an unreadable file, or more than `SALESCAST_MAX_BAD_ROW_FRACTION` bad
  values, fails the run without publishing. Fix the input, re-run D.
* The forecast for D uses the latest delivery on or before D for every value, never a later one.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from salescast.config import Settings
from salescast.ops import defaults
from salescast.ops.alerts import notify_dag_failure
from salescast.ops.assets import DRIVERS

settings = Settings.from_env()


@dag(
    dag_id="sales_drivers",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=defaults.start_date(settings),
    catchup=False,
    max_active_runs=4,
    dagrun_timeout=timedelta(seconds=settings.drivers_settle_seconds + settings.sensor_timeout_seconds)
    + timedelta(hours=2),
    default_args=defaults.default_args(settings),
    tags=["salescast", "ingest", "drivers"],
    doc_md=__doc__,
    on_failure_callback=notify_dag_failure,
)
def sales_drivers() -> None:
    # waits at most until the settle time after D, and a day beyond it for files still copying
    @task.sensor(**defaults.sensor_kwargs(settings) | {"timeout": settings.drivers_settle_seconds + 2 * 86_400})
    def wait_for_drivers(ds: str | None = None) -> PokeReturnValue:
        from salescast.ingest.tasks import drivers_readiness

        ready, files, detail = drivers_readiness(ds)
        print(f"drivers as of {ds}: {detail}")
        return PokeReturnValue(is_done=ready, xcom_value=files)

    @task(outlets=[DRIVERS], multiple_outputs=False, execution_timeout=timedelta(hours=1))
    def ingest(
        files: list[str], ds: str | None = None, run_id: str | None = None, outlet_events: dict | None = None
    ) -> dict:
        from salescast.ingest.tasks import ingest_drivers

        result = ingest_drivers(ds, run_id, files)
        outlet_events[DRIVERS].extra = {"asof": ds, "rows": result["published_rows"]}
        return result

    ingest(wait_for_drivers())


if settings.drivers_mapping:  # drivers off: no DAG, nothing changes
    sales_drivers()
