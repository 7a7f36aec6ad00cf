"""
### sales_overrides

Planner overrides. Daily, for the logical date D: wait for `landing/overrides/D/` (the
overrides planners entered on D: for a store and item, either of them `*`, and a range of
target days, `set` the forecast to a value, `add` to it or change it by a `pct`, with a
reason, an author and optionally an `expires` day), archive the files to `raw/overrides/`,
check them with the `overrides` Great Expectations suite, quarantine bad rows with their
reason, and publish `curated/overrides/asof=D/` atomically, each override with its
`override_id` (`D/<file>:<line>`).

* **Always on, idle most days**: overrides need no mapping, and they come when planners make
  them. If nothing has landed `SALESCAST_OVERRIDES_SETTLE_SECONDS` after the end of D, the run
  succeeds with nothing to ingest (a backfill does not wait).
* **Rejection**: an unreadable file (or one without the contract's columns), or more than
  `SALESCAST_MAX_BAD_ROW_FRACTION` bad records, fails the run without publishing. Fix the
  input, re-run D.
* A run for D (and a backfill of D) sees every override delivered on or before D that has not
  expired, never a later one (`salescast.forecast.overrides_asof`).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from salescast.config import Settings
from salescast.ops import defaults
from salescast.ops.alerts import notify_dag_failure
from salescast.ops.assets import OVERRIDES

settings = Settings.from_env()


@dag(
    dag_id="sales_overrides",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=defaults.start_date(settings),
    catchup=False,
    max_active_runs=4,
    dagrun_timeout=timedelta(seconds=settings.overrides_settle_seconds + settings.sensor_timeout_seconds)
    + timedelta(hours=2),
    default_args=defaults.default_args(settings),
    tags=["salescast", "ingest", "overrides"],
    doc_md=__doc__,
    on_failure_callback=notify_dag_failure,
)
def sales_overrides() -> None:
    # waits at most until the settle time after D, and a day beyond it for files still copying
    @task.sensor(**defaults.sensor_kwargs(settings) | {"timeout": settings.overrides_settle_seconds + 2 * 86_400})
    def wait_for_overrides(ds: str | None = None) -> PokeReturnValue:
        from salescast.ingest.tasks import overrides_readiness

        ready, files, detail = overrides_readiness(ds)
        print(f"overrides as of {ds}: {detail}")
        return PokeReturnValue(is_done=ready, xcom_value=files)

    @task(outlets=[OVERRIDES], multiple_outputs=False, execution_timeout=timedelta(hours=1))
    def ingest(
        files: list[str], ds: str | None = None, run_id: str | None = None, outlet_events: dict | None = None
    ) -> dict:
        from salescast.ingest.tasks import ingest_overrides

        result = ingest_overrides(ds, run_id, files)
        outlet_events[OVERRIDES].extra = {
            "asof": ds, "overrides": result["published"], "quarantined": result["quarantined"]
        }  # fmt: skip
        return result

    ingest(wait_for_overrides())


sales_overrides()
