"""
### sales_items

The item master. Daily, for the logical date D: wait for `landing/items/D/` (what was known
about items on D: new items with their category, brand, launch date and analog, status
changes, and, in files named `listings*`, the stores an item is planned to be listed in),
archive the files to `raw/items/`, check them with the `items` and `item_listings` Great
Expectations suites, quarantine bad rows with their reason, and publish
`curated/items/asof=D/` and `curated/item_listings/asof=D/` together, atomically.

* **Always on, idle most days**: the item master needs no mapping, and it comes when
  planners change it. If nothing has landed `SALESCAST_ITEMS_SETTLE_SECONDS` after the end
  of D, the run succeeds with nothing to ingest (a backfill does not wait).
* **Rejection**: an unreadable file (or one whose header does not fit its kind), or more than
  `SALESCAST_MAX_BAD_ROW_FRACTION` bad records, fails the run without publishing. Fix the
  input, re-run D.
* A run for D (and a backfill of D) sees the latest row per item and per listing delivered on
  or before D, never a later one (`salescast.forecast.items_asof`).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from salescast.config import Settings
from salescast.ops import defaults
from salescast.ops.alerts import notify_dag_failure
from salescast.ops.assets import ITEMS

settings = Settings.from_env()


@dag(
    dag_id="sales_items",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=defaults.start_date(settings),
    catchup=False,
    max_active_runs=4,
    dagrun_timeout=timedelta(seconds=settings.items_settle_seconds + settings.sensor_timeout_seconds)
    + timedelta(hours=2),
    default_args=defaults.default_args(settings),
    tags=["salescast", "ingest", "items"],
    doc_md=__doc__,
    on_failure_callback=notify_dag_failure,
)
def sales_items() -> None:
    # waits at most until the settle time after D, and a day beyond it for files still copying
    @task.sensor(**defaults.sensor_kwargs(settings) | {"timeout": settings.items_settle_seconds + 2 * 86_400})
    def wait_for_items(ds: str | None = None) -> PokeReturnValue:
        from salescast.ingest.tasks import items_readiness

        ready, files, detail = items_readiness(ds)
        print(f"items as of {ds}: {detail}")
        return PokeReturnValue(is_done=ready, xcom_value=files)

    @task(outlets=[ITEMS], multiple_outputs=False, execution_timeout=timedelta(hours=1))
    def ingest(
        files: list[str], ds: str | None = None, run_id: str | None = None, outlet_events: dict | None = None
    ) -> dict:
        from salescast.ingest.tasks import ingest_items

        result = ingest_items(ds, run_id, files)
        outlet_events[ITEMS].extra = {
            "asof": ds, "items": result["published_items"], "listings": result["published_listings"]
        }  # fmt: skip
        return result

    ingest(wait_for_items())


sales_items()
