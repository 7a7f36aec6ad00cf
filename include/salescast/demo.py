"""``make demo``: synthetic sales through the real DAGs on the embedded default.

It initialises the local Airflow (SQLite under ``$SALESCAST_HOME/airflow``), drops a run of
days of synthetic POS exports (with realistic bad rows) into the lake's landing area, runs
``airflow dags test sales_ingest <day>`` for each day, and prints what the lake now holds.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from salescast import airflow_env
from salescast.config import Settings
from salescast.generate import PanelSpec, write_landing
from salescast.lake import READY_MARKER, Lake
from salescast.publish import read_manifest


def upload_landing(lake: Lake, local_root: Path) -> None:
    """Copy generated day folders into the lake's landing area, ``_READY`` markers last."""
    for folder in sorted(p for p in local_root.iterdir() if p.is_dir()):
        day = date.fromisoformat(folder.name)
        files = sorted(folder.iterdir(), key=lambda p: p.name == READY_MARKER)
        for file in files:
            lake.write_bytes(lake.landing_dir(day) / file.name, file.read_bytes())


def run_dag(settings: Settings, dag_id: str, day: date, log_dir: Path) -> tuple[bool, float, Path]:
    """``airflow dags test`` for one logical date; output goes to a log file."""
    env = airflow_env.airflow_environ(settings)
    env.setdefault("SALESCAST_SENSOR_TIMEOUT_SECONDS", "120")
    env.setdefault("SALESCAST_SENSOR_POKE_SECONDS", "5")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}_{day.isoformat()}.log"
    started = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.run(
            [airflow_env.airflow_bin(), "dags", "test", dag_id, day.isoformat()],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return proc.returncode == 0, time.perf_counter() - started, log_path


def run_demo(days: int = 7, stores: int = 5, items: int = 50, end: date = date(2025, 3, 31)) -> int:
    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    start = end - timedelta(days=days - 1)
    print(f"salescast demo: home {settings.home}, lake {settings.lake_uri}")
    print("1/3 initialising the local Airflow metadata DB (SQLite) ...", flush=True)
    airflow_env.ensure_db(settings)

    print(
        f"2/3 generating {days} days of POS exports for {stores} stores x {items} items, with defects ...", flush=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        spec = PanelSpec(stores=stores, items=items, seed=7)
        write_landing(spec, start, end, Path(tmp), defects=True, bad_file_rate=0.0)
        upload_landing(lake, Path(tmp))

    print("3/3 running the sales_ingest DAG for each day (airflow dags test) ...", flush=True)
    log_dir = settings.home / "logs" / "demo"
    totals = {"ok": 0, "rows": 0, "quarantined": 0}
    for i in range(days):
        day = start + timedelta(days=i)
        ok, seconds, log_path = run_dag(settings, "sales_ingest", day, log_dir)
        manifest = read_manifest(lake, lake.curated_dir(day)) if ok else None
        if manifest:
            totals["ok"] += 1
            totals["rows"] += manifest["rows"]
            totals["quarantined"] += manifest["quarantined"]
            print(
                f"  {day}  ok      {manifest['rows']:5d} rows published  "
                f"{manifest['quarantined']:4d} quarantined  ({seconds:.1f}s)"
            )
        else:
            print(f"  {day}  FAILED  see {log_path}")

    print()
    print(f"days ingested:     {totals['ok']} of {days}")
    print(f"rows published:    {totals['rows']}")
    print(f"rows quarantined:  {totals['quarantined']} (with reasons, in quarantine/sales/)")
    print(f"lake:              {settings.lake_uri}")
    print(f"validation report: {lake.reports_dir(end) / 'ingest'}")
    print(f"run logs:          {log_dir}")
    print("next: 'make airflow' opens the Airflow UI on these DAGs")
    return 0 if totals["ok"] == days else 1
