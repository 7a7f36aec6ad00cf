"""
### sales_forecast

Daily, for the logical date D: wait for `curated/sales_daily/dt=D/_SUCCESS`, build the
training panel from published partitions up to D, train and forecast every store x item
series in shards (dynamically mapped tasks: more workers, more shards in parallel), validate
the forecast table with Great Expectations, publish `forecasts/`, `metrics/` and
`safety_stock/` for `run_date=D` atomically, and write `reports/run_date=D/index.html`.

With demand drivers on (`SALESCAST_DRIVERS_MAPPING`), it also waits for the drivers as of D
(`curated/drivers/asof=D/`) until `SALESCAST_DRIVERS_SETTLE_SECONDS` after the end of D, then
goes on with the latest earlier deliveries; the run summary names the as-of days it used.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from salescast.config import Settings
from salescast.ops import defaults
from salescast.ops.alerts import notify_dag_failure
from salescast.ops.assets import FORECASTS
from salescast.ops.deadline import forecast_deadline_alerts

settings = Settings.from_env()

default_args = defaults.default_args(settings, max_retry_delay=timedelta(minutes=20))


# long on purpose: TaskFlow defines the DAG's tasks (and, with drivers on, their sensor) inside its function
@dag(
    dag_id="sales_forecast",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=defaults.start_date(settings),
    catchup=False,
    max_active_runs=2,
    dagrun_timeout=timedelta(seconds=settings.sensor_timeout_seconds) + timedelta(hours=4),
    default_args=default_args,
    tags=["salescast", "forecast"],
    doc_md=__doc__,
    on_failure_callback=notify_dag_failure,
    # one mail if the forecast for D is not published by SALESCAST_FORECAST_DEADLINE on D+1
    deadline=forecast_deadline_alerts(settings),
)
def sales_forecast() -> None:
    @task.sensor(**defaults.sensor_kwargs(settings))
    def wait_for_curated(ds: str | None = None) -> PokeReturnValue:
        from salescast.forecast.tasks import curated_ready

        return PokeReturnValue(is_done=curated_ready(ds))

    @task
    def plan(ds: str | None = None, run_id: str | None = None) -> list[dict]:
        from salescast.forecast.tasks import plan_shards

        return plan_shards(ds, run_id)

    # one XCom per task (multiple_outputs=False): a dict return is a value, not one XCom per key.
    # The pool alone bounds how many shards train at once (all runs and backfills together):
    # operators size it to their workers in the UI, with no redeploy and no second cap per run.
    @task(
        execution_timeout=timedelta(hours=2),
        pool=settings.forecast_pool,
        multiple_outputs=False,
    )
    def train_shard(spec: dict, ds: str | None = None, run_id: str | None = None) -> dict:
        from salescast.forecast.tasks import forecast_shard

        return forecast_shard(ds, run_id, spec)

    @task(outlets=[FORECASTS], multiple_outputs=False)
    def publish(
        shards: list[dict], ds: str | None = None, run_id: str | None = None, outlet_events: dict | None = None
    ) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from salescast.forecast.tasks import ForecastRejected, publish_forecasts

        try:
            summary = publish_forecasts(ds, run_id, list(shards))
        except ForecastRejected as error:
            raise AirflowFailException(str(error)) from error
        outlet_events[FORECASTS].extra = {"run_date": ds, "series": summary["series"]}
        return summary

    @task
    def report(ds: str | None = None) -> str:
        """Reads the published run from the lake (forecasts, metrics, summary), so it takes
        no XCom from publish, only runs after it."""
        from salescast.forecast.tasks import write_run_report

        return write_run_report(ds)

    planned = plan()
    wait_for_curated() >> planned
    if settings.drivers_mapping:  # drivers on: the drivers as of D, or the settle time, first

        @task.sensor(**defaults.sensor_kwargs(settings) | {"timeout": settings.drivers_settle_seconds + 2 * 86_400})
        def wait_for_drivers(ds: str | None = None) -> PokeReturnValue:
            from salescast.forecast.tasks import drivers_ready

            done, detail = drivers_ready(ds)
            print(detail)
            return PokeReturnValue(is_done=done)

        wait_for_drivers() >> planned
    publish(train_shard.expand(spec=planned)) >> report()


sales_forecast()
