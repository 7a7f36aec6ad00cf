"""``python -m salescast``: the command line for people and scripts."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def cmd_generate(args: argparse.Namespace) -> int:
    from salescast.generate import PanelSpec, write_landing

    spec = PanelSpec(stores=args.stores, items=args.items, seed=args.seed, fmt=args.format)
    totals = write_landing(
        spec,
        args.start,
        args.end,
        Path(args.out),
        defects=args.defects,
        bad_file_rate=args.bad_file_rate,
        ready_marker=not args.no_ready_marker,
    )
    print(
        f"wrote {totals['files']} files for {totals['days']} days "
        f"({spec.n_series} series, format {args.format}, {totals['bad_files']} bad files) to {args.out}"
    )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest days without Airflow (same functions the DAG calls); for bulk history loads."""
    from salescast.config import Settings
    from salescast.ingest import DayRejected, ingest_day
    from salescast.lake import Lake

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    failed = 0
    for day in _days(args.start, args.end or args.start):
        try:
            result = ingest_day(lake, day, args.run_id, settings.max_bad_row_fraction)
            print(f"{day}: published {result.published_rows} rows, quarantined {result.quarantined}")
        except DayRejected as error:
            failed += 1
            print(f"{day}: REJECTED {error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_airflow(args: argparse.Namespace) -> int:
    """Run the Airflow CLI with salescast's environment (AIRFLOW_HOME under SALESCAST_HOME)."""
    from salescast import airflow_env
    from salescast.config import Settings

    settings = Settings.from_env()
    env = airflow_env.airflow_environ(settings)
    airflow_env.ensure_db(settings)
    os.execvpe(airflow_env.airflow_bin(), [airflow_env.airflow_bin(), *args.airflow_args], env)
    return 0  # not reached


def cmd_backfill(args: argparse.Namespace) -> int:
    """`airflow backfill create` for a running scheduler, retried when SQLite is busy.

    On SQLite a write that races the scheduler's can fail at once with "database is locked";
    Airflow then removes the partial backfill so that a retry is clean (``backfill.py``)."""
    import subprocess
    import time

    from salescast import airflow_env
    from salescast.config import Settings

    env = airflow_env.airflow_environ(Settings.from_env())
    command = [airflow_env.airflow_bin(), "backfill", "create", "--dag-id", args.dag_id,
               "--from-date", args.from_date.isoformat(), "--to-date", args.to_date.isoformat(),
               "--reprocess-behavior", args.reprocess_behavior]  # fmt: skip
    for attempt in range(1, args.attempts + 1):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            print(f"backfill of {args.dag_id} {args.from_date}..{args.to_date} "
                  f"(reprocess {args.reprocess_behavior}) created; the scheduler runs it")  # fmt: skip
            return 0
        output = done.stdout + done.stderr
        if "database is locked" not in output or attempt == args.attempts:
            print(output[-4000:], file=sys.stderr)
            return done.returncode
        print(f"metadata DB busy, retrying ({attempt}/{args.attempts}) ...", file=sys.stderr)
        time.sleep(2 * attempt)
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    """Run Airflow's api-server, scheduler, dag-processor and triggerer until Ctrl-C."""
    import signal
    import time

    from salescast.airflow_stack import USER, AirflowStack
    from salescast.config import Settings

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM/SIGHUP stop the components as Ctrl-C does

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    settings = Settings.from_env()
    stack = AirflowStack(settings, args.port, settings.airflow_home / "logs" / "components", host=args.host)
    print(f"starting Airflow under {settings.airflow_home} (component logs: {stack.log_dir}) ...", flush=True)
    with stack:
        print(f"\nAirflow UI: {stack.url}\n  user: {USER}\n  password: {stack.password()}"
              f"\n  (kept in {settings.airflow_home}/simple_auth_manager_passwords.json.generated)"
              "\nDAGs start paused: unpause them in the UI. Ctrl-C stops everything.\n", flush=True)  # fmt: skip
        try:
            while all(proc.poll() is None for proc in stack.procs.values()):
                time.sleep(2)
            print("an Airflow component exited; stopping the others", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("stopping Airflow ...", flush=True)
    return 0


def _read_history(path: str):
    import pandas as pd

    source = Path(path)
    if not source.exists():
        raise SystemExit(f"history file {path} does not exist")
    if source.is_dir() or source.suffix == ".parquet":
        return pd.read_parquet(source)
    return pd.read_csv(source, dtype={"store_id": str, "item_id": str})


def _forecast_config(args: argparse.Namespace):
    from salescast.forecasting.engine import ForecastConfig

    quantiles = tuple(float(q) for q in args.quantiles.split(","))
    return ForecastConfig(
        horizon=args.horizon,
        freq=args.freq,
        quantiles=quantiles,
        windows=args.windows,
        lead_time=args.lead_time,
        service_level=args.service_level,
    )


def _write_outputs(result, out: Path, which: tuple[str, ...]) -> None:  # noqa: ANN001
    import json

    out.mkdir(parents=True, exist_ok=True)
    if "forecasts" in which:
        result.forecasts.to_parquet(out / "forecasts.parquet", index=False)
        result.safety_stock.to_parquet(out / "safety_stock.parquet", index=False)
    result.metrics.to_parquet(out / "metrics.parquet", index=False)
    (out / ("metrics.json" if "metrics_json" in which else "summary.json")).write_text(
        json.dumps(result.summary, indent=2, default=float) + "\n"
    )


def _run_engine(args: argparse.Namespace):
    from salescast.forecasting.engine import ForecastInputError, run_forecast

    try:
        return run_forecast(_read_history(args.history), _forecast_config(args), jobs=args.jobs)
    except ForecastInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def cmd_forecast(args: argparse.Namespace) -> int:
    result = _run_engine(args)
    if result is None:
        return 2
    out = Path(args.out)
    _write_outputs(result, out, ("forecasts",))
    bake = result.summary["backtest"]["bake_off"]
    print(
        f"forecast {result.summary['series']} series x {args.horizon} periods -> {out / 'forecasts.parquet'}; "
        f"backtest mean wQL {bake['mean_wql']:.3f}, coverage {bake['coverage']:.2f}; "
        f"models {result.summary['model_mix']}"
    )
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    result = _run_engine(args)
    if result is None:
        return 2
    out = Path(args.out)
    _write_outputs(result, out, ("metrics_json",))
    backtest = result.summary["backtest"]
    for name, scores in ({"bake_off": backtest["bake_off"]} | backtest["per_model"]).items():
        print(
            f"{name:15s} mean wQL {scores['mean_wql']:.3f}  WAPE {scores['wape']:.3f}  "
            f"coverage {scores['coverage']:.2f}"
        )
    print(f"-> {out / 'metrics.json'}, {out / 'metrics.parquet'}")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    """Refresh the DuckDB warehouse's tables and views over a local lake."""
    from salescast.catalog import refresh_duckdb
    from salescast.config import Settings
    from salescast.lake import Lake

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    if not lake.is_local:
        print(
            "error: the DuckDB catalog needs a local lake (file://); S3 lakes are catalogued in Glue/Athena",
            file=sys.stderr,
        )
        return 2
    counts = refresh_duckdb(Path(lake.root.path), settings.warehouse_path)
    for name, rows in counts.items():
        print(f"{name:22s} {rows:8d} rows")
    print(f"-> {settings.warehouse_path} (try: SELECT * FROM history_and_forecast LIMIT 10)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from salescast.demo import run_demo

    return run_demo(days=args.days, stores=args.stores, items=args.items, end=args.end, history_days=args.history_days)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m salescast", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write synthetic daily landing files")
    gen.add_argument("--stores", type=int, default=10)
    gen.add_argument("--items", type=int, default=50)
    gen.add_argument("--start", type=_day, required=True)
    gen.add_argument("--end", type=_day, required=True)
    gen.add_argument("--out", required=True, help="landing folder; one sub-folder per day is written")
    gen.add_argument("--format", choices=["daily", "pos"], default="daily")
    gen.add_argument("--defects", action="store_true", help="mix in realistic bad rows and bad files")
    gen.add_argument("--bad-file-rate", type=float, default=0.1, help="chance per day of one bad file (with --defects)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--no-ready-marker", action="store_true", help="do not write _READY (tests the settle rule)")
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="ingest landing days into the lake without Airflow")
    ing.add_argument("--start", type=_day, required=True)
    ing.add_argument("--end", type=_day)
    ing.add_argument("--run-id", default="cli")
    ing.set_defaults(func=cmd_ingest)

    for name, helptext, func in (
        ("forecast", "forecast every store x item series of a history file", cmd_forecast),
        ("backtest", "score every candidate model by rolling-origin backtest", cmd_backtest),
    ):
        fc = sub.add_parser(name, help=helptext)
        fc.add_argument("--history", required=True, help="canonical daily rows: CSV or Parquet (file or folder)")
        fc.add_argument("--horizon", type=int, default=7)
        fc.add_argument("--freq", default="D", help="D, W-SUN (any W-XXX) or M")
        fc.add_argument("--quantiles", default="0.1,0.5,0.9")
        fc.add_argument("--windows", type=int, default=2, help="backtest windows of one horizon each")
        fc.add_argument("--lead-time", type=int, default=7, help="periods, for safety stock")
        fc.add_argument("--service-level", type=float, default=0.95)
        fc.add_argument("--jobs", type=int, default=1, help="processes; use the number of cores")
        fc.add_argument("--out", required=True)
        fc.set_defaults(func=func)

    cat = sub.add_parser("catalog", help="refresh the DuckDB warehouse (tables and views over the lake)")
    cat.set_defaults(func=cmd_catalog)

    air = sub.add_parser("airflow", help="the Airflow CLI in salescast's environment")
    air.add_argument("airflow_args", nargs=argparse.REMAINDER)
    air.set_defaults(func=cmd_airflow)

    back = sub.add_parser("backfill", help="airflow backfill create, for the scheduler of `make airflow`")
    back.add_argument("--dag-id", required=True)
    back.add_argument("--from-date", type=_day, required=True, help="first logical date (included)")
    back.add_argument("--to-date", type=_day, required=True, help="last logical date (included)")
    back.add_argument("--reprocess-behavior", choices=["none", "failed", "completed"], default="none")
    back.add_argument("--attempts", type=int, default=5)
    back.set_defaults(func=cmd_backfill)

    serve = sub.add_parser("serve", help="run a local Airflow (UI, scheduler, dag-processor, triggerer)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("SALESCAST_UI_PORT", "8080")))
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to reach the UI from other machines")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="generate data and run the DAGs end to end on the embedded default")
    demo.add_argument("--days", type=int, default=5, help="days run through the DAGs")
    demo.add_argument("--history-days", type=int, default=120, help="older days loaded as history first")
    demo.add_argument("--stores", type=int, default=5)
    demo.add_argument("--items", type=int, default=50)
    demo.add_argument("--end", type=_day, default=date(2025, 3, 31))
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
