"""``make demo``: synthetic sales through the real DAGs on the embedded default.

It initialises the local Airflow (SQLite under ``$SALESCAST_HOME/airflow``), drops synthetic
daily store exports (with realistic bad rows) ending yesterday (UTC) into the lake's landing area,
loads the older days as history with the ingest functions, then runs ``airflow dags test
sales_ingest <day>`` and ``airflow dags test sales_forecast <day>`` for each of the last
days, then ``sales_catalog`` for yesterday (the DuckDB warehouse), and prints what the lake
now holds, the headline accuracy and where to look in the UI. Dated to today, so the UI's
calendar shows the demo's days and every forecast run but the last has actuals to be scored
against; the runs go through ``salescast_dev.dag_test``, so their durations are real.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from salescast.config import Settings
from salescast.ingest.pipeline import DayRejected, ingest_day
from salescast.lake import READY_MARKER, Lake
from salescast.publish import read_manifest
from salescast_dev import airflow_env
from salescast_dev.dag_test import DagTester
from salescast_dev.generate import PanelSpec, write_landing


def upload_landing(lake: Lake, local_root: Path) -> None:
    """Copy generated day folders into the lake's landing area, ``_READY`` markers last."""
    for folder in sorted(p for p in local_root.iterdir() if p.is_dir()):
        day = date.fromisoformat(folder.name)
        files = sorted(folder.iterdir(), key=lambda p: p.name == READY_MARKER)
        for file in files:
            lake.write_bytes(lake.landing_dir(day) / file.name, file.read_bytes())


def dag_test_environ(settings: Settings) -> dict[str, str]:
    """The environment of the demo's ``dags test`` runs: no deadline alert (``without_deadline``
    says why), sensors that look often, and every core for the forecast (one machine)."""
    env = airflow_env.without_deadline(airflow_env.airflow_environ(settings))
    env.setdefault("SALESCAST_SENSOR_TIMEOUT_SECONDS", "120")
    env.setdefault("SALESCAST_SENSOR_POKE_SECONDS", "5")
    env.setdefault("SALESCAST_FORECAST_JOBS", str(os.cpu_count() or 1))
    return env


def run_dag(tester: DagTester, dag_id: str, day: date, log_dir: Path) -> tuple[bool, float, Path]:
    """``airflow dags test`` for one logical date; its output goes to a log file."""
    log_path = log_dir / f"{dag_id}_{day.isoformat()}.log"
    ok, seconds = tester.run(dag_id, day, log_path)
    return ok, seconds, log_path


@contextmanager
def logs_to(path: Path) -> Iterator[None]:
    """Send this process's log records to ``path`` instead of the terminal: the demo prints one
    line per step, and the ingest and GX records of the history load (dozens per day) are
    for the log folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    try:
        yield
    finally:
        root.handlers = saved
        handler.close()


def _load_history(settings: Settings, lake: Lake, first: date, history_days: int, log_dir: Path) -> None:
    from tqdm import tqdm

    rejected = 0
    days = [first + timedelta(days=i) for i in range(history_days)]
    with logs_to(log_dir / "history.log"):
        # a bar on a terminal; piped or captured output gets the summary line only
        for day in tqdm(days, unit="day", file=sys.stdout, leave=False, disable=not sys.stdout.isatty()):
            try:
                ingest_day(
                    lake,
                    day,
                    "demo-history",
                    settings.max_bad_row_fraction,
                    settings.delivery_rule,
                    settings.ingest_memory_mb,
                )
            except DayRejected:
                rejected += 1
    print(
        f"    {history_days - rejected} days published, {rejected} rejected (missing days: the forecast imputes them,"
        f" charts show gaps); log {log_dir / 'history.log'}"
    )


def _run_days(tester: DagTester, lake: Lake, start: date, days: int, log_dir: Path) -> dict[str, int]:
    """sales_ingest then sales_forecast for each day, one line per day."""
    totals = {"ok": 0, "rows": 0, "quarantined": 0, "forecasts": 0}
    for i in range(days):
        day = start + timedelta(days=i)
        ok, seconds, log_path = run_dag(tester, "sales_ingest", day, log_dir)
        manifest = read_manifest(lake, lake.curated_dir(day)) if ok else None
        if not manifest:
            print(f"  {day}  ingest FAILED, see {log_path}")
            continue
        totals["rows"] += manifest["rows"]
        totals["quarantined"] += manifest["quarantined"]
        fc_ok, fc_seconds, fc_log = run_dag(tester, "sales_forecast", day, log_dir)
        forecast = read_manifest(lake, lake.run_dir("forecasts", day)) if fc_ok else None
        if not forecast:
            print(f"  {day}  ingest ok, forecast FAILED, see {fc_log}")
            continue
        totals["ok"] += 1
        totals["forecasts"] += forecast["rows"]
        print(
            f"  {day}  {manifest['rows']:5d} rows published  {manifest['quarantined']:3d} quarantined ({seconds:.0f}s)"
            f"  {forecast['rows']:5d} forecast rows ({fc_seconds:.0f}s)",
            flush=True,
        )
    return totals


def _print_accuracy(lake: Lake, end: date) -> None:
    summary_path = lake.reports_dir(end) / "forecast_summary.json"
    if not summary_path.exists():
        return
    summary = lake.read_json(summary_path)
    bake = summary["backtest"]["bake_off"]
    naive = summary["backtest"]["per_model"].get("seasonal_naive", {})
    gain = 1 - bake["mean_wql"] / naive["mean_wql"] if naive.get("mean_wql") else float("nan")
    print(
        f"headline accuracy ({end}):  backtest mean wQL {bake['mean_wql']:.3f} vs seasonal naive "
        f"{naive.get('mean_wql', float('nan')):.3f} ({gain:+.1%}), p10-p90 coverage {bake['coverage']:.0%}"
    )
    print(f"models chosen:              {summary['model_mix']}")
    print(f"report:                     {lake.reports_dir(end) / 'index.html'}")


def _run_catalog(tester: DagTester, settings: Settings, end: date, log_dir: Path) -> bool:
    cat_ok, cat_seconds, cat_log = run_dag(tester, "sales_catalog", end, log_dir)
    if not cat_ok:
        print(f"catalog:                    FAILED, see {cat_log}")
    elif settings.sql_engine == "duckdb":
        from salescast.catalog.warehouse import connect

        with connect(settings) as con:
            rows = con.execute("SELECT COUNT(*) FROM history_and_forecast").fetchone()[0]
        print(f"DuckDB warehouse:           {settings.warehouse_path} (sales_catalog, {cat_seconds:.0f}s;")
        print(f"                            {rows} rows in history_and_forecast; also forecast_latest,")
        print("                            forecast_accuracy, safety_stock)")
    else:
        print(f"Athena catalog refreshed:   database {settings.athena_database} ({cat_seconds:.0f}s)")
    return cat_ok


def _print_ui(start: date, end: date) -> None:
    """Where the demo's runs show in the UI, and which forecast runs have actuals to compare."""
    print("next:                       make airflow, open the URL it prints, log in as admin with the password")
    print(f"                            it prints: a run per DAG and day {start}..{end} (durations real, each")
    print(f"                            with a salescast tab); Forecasts (sidebar): the {end} run's band, and")
    print(f"                            runs {start}..{end - timedelta(days=1)} against the days that arrived since")


def yesterday() -> date:
    """The last day that has ended in UTC: the newest day a daily run can be for."""
    return datetime.now(UTC).date() - timedelta(days=1)


# long on purpose: the demo's four steps and its summary read top to bottom as the user sees them
def run_demo(days: int = 7, stores: int = 5, items: int = 50, end: date | None = None, history_days: int = 120) -> int:
    """Generate sales ending ``end`` (yesterday), load the older days as history, run the
    DAGs for the last ``days`` days through ``airflow dags test`` and print what they made."""
    end = end or yesterday()
    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    start = end - timedelta(days=days - 1)
    first = start - timedelta(days=history_days)
    print(f"salescast demo: home {settings.home}, lake {settings.lake_uri}")
    print("1/4 initialising the local Airflow metadata DB (SQLite) ...", flush=True)
    airflow_env.ensure_db(settings)

    print(f"2/4 generating {history_days + days} days of sales for {stores} stores x {items} items, with defects ...")
    with tempfile.TemporaryDirectory() as tmp:
        spec = PanelSpec(stores=stores, items=items, seed=7)
        write_landing(spec, first, end, Path(tmp), defects=True, bad_file_rate=0.0)
        upload_landing(lake, Path(tmp))

    log_dir = settings.home / "logs" / "demo"
    print(f"3/4 loading {history_days} days of history ({first}..{start - timedelta(days=1)}) ...", flush=True)
    _load_history(settings, lake, first, history_days, log_dir)

    print(f"4/4 Airflow runs: sales_ingest then sales_forecast for {start}..{end}, then sales_catalog", flush=True)
    with DagTester(dag_test_environ(settings), log_dir / "dag_test.log") as tester:
        totals = _run_days(tester, lake, start, days, log_dir)
        print()
        print(f"days ingested and forecast: {totals['ok']} of {days}")
        print(f"rows published:             {totals['rows']}")
        print(f"rows quarantined:           {totals['quarantined']} (with reasons, in quarantine/sales/)")
        _print_accuracy(lake, end)
        cat_ok = _run_catalog(tester, settings, end, log_dir) if totals["ok"] else False
    print(f"lake:                       {settings.lake_uri}")
    print(f"run logs:                   {log_dir}")
    _print_ui(start, end)
    return 0 if totals["ok"] == days and cat_ok else 1
