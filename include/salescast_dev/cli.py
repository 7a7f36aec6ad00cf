"""``python -m salescast_dev``: the harness's command line: synthetic data, the demo, and a
local Airflow on SQLite (``make run``, ``make airflow``, ``make backfill``). Nothing a worker
runs imports it; the product's own commands are ``python -m salescast``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from salescast.cli_args import at_least_one, iso_date, port


def cmd_generate(args: argparse.Namespace) -> int:
    from salescast_dev.generate import PanelSpec, write_landing

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


def _before_start(dag_id: str, day: date, settings) -> str | None:  # noqa: ANN001 - Settings
    """Why a run of ``dag_id`` for ``day`` would do nothing, and how to run that day (else None).

    Airflow creates no task instance for a logical date before a DAG's start_date (backfills
    aside), so ``airflow dags test DAG D`` would create an empty run and report success."""
    if day >= settings.start_date:
        return None
    how = f"SALESCAST_START_DATE={day} make run DAG={dag_id} DATE={day} (the start date of every salescast DAG)"
    if dag_id == "sales_ingest":
        how += f", or ingest the day without Airflow: .venv/bin/python -m salescast ingest --start {day}"
    return (
        f"{day} is before the start date {settings.start_date} of the DAGs (SALESCAST_START_DATE): Airflow would "
        f"create the run without any task and report success having run nothing. Run it with {how}"
    )


def _dags_test_args(airflow_args: list[str]) -> list[str] | None:
    """The positional arguments of an ``airflow dags test ...`` command line (else None)."""
    positional = [a for a in airflow_args if not a.startswith("-")]
    return positional if positional[:2] == ["dags", "test"] else None


def _dags_test_date(airflow_args: list[str]) -> tuple[str, date] | None:
    """(dag id, logical date) of an ``airflow dags test DAG YYYY-MM-DD[...]`` command line."""
    positional = _dags_test_args(airflow_args)
    if positional is None or len(positional) < 4:
        return None
    try:
        return positional[2], date.fromisoformat(positional[3][:10])
    except ValueError:
        return None  # Airflow explains a date it cannot read


def cmd_run(args: argparse.Namespace) -> int:
    """One DAG for one logical date through ``airflow dags test`` (what ``make run`` calls)."""
    return cmd_airflow(argparse.Namespace(airflow_args=["dags", "test", args.dag_id, args.date.isoformat()]))


def cmd_airflow(args: argparse.Namespace) -> int:
    """Run the Airflow CLI with salescast's environment (AIRFLOW_HOME under SALESCAST_HOME).

    ``dags test DAG D`` (``make run``) holds the lock of (DAG, day) while it runs and says once
    what a waiting sensor waits for (salescast_dev.run_guard)."""
    from salescast.config import Settings
    from salescast_dev import airflow_env, run_guard

    settings = Settings.from_env()
    run = _dags_test_date(args.airflow_args)
    refusal = run and _before_start(*run, settings)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    env = airflow_env.airflow_environ(settings)
    command = [airflow_env.airflow_bin(), *args.airflow_args]
    if _dags_test_args(args.airflow_args) is not None:
        env = airflow_env.without_deadline(env)
        # the same CLI, with the run's real start and one line while a sensor waits
        command = [sys.executable, "-m", "salescast_dev.dag_test", *args.airflow_args]
    if run:
        try:
            run_guard.hold_run_lock(settings, *run, f"make run DAG={run[0]} DATE={run[1]}")
        except run_guard.RunInProgress as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    airflow_env.ensure_db(settings)
    os.execvpe(command[0], command, env)
    return 0  # not reached


def cmd_backfill(args: argparse.Namespace) -> int:
    """`airflow backfill create` for a running scheduler, retried when SQLite is busy; idempotent
    (a retry checks which days an earlier attempt created: salescast_dev.backfill)."""
    from salescast.config import Settings
    from salescast_dev import airflow_env
    from salescast_dev.backfill import Request, create_backfill

    env = airflow_env.airflow_environ(Settings.from_env())
    request = Request(args.dag_id, args.from_date, args.to_date, args.reprocess_behavior)
    return create_backfill(env, request, args.attempts)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run Airflow's api-server, scheduler, dag-processor and triggerer until Ctrl-C, SIGTERM or
    SIGHUP, then stop all of them (salescast_dev.serve)."""
    from salescast_dev.serve import serve

    return serve(args.port, args.host)


def cmd_demo(args: argparse.Namespace) -> int:
    from salescast_dev.demo import run_demo

    return run_demo(days=args.days, stores=args.stores, items=args.items, end=args.end, history_days=args.history_days)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m salescast_dev", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write synthetic daily landing files")
    gen.add_argument("--stores", type=int, default=10)
    gen.add_argument("--items", type=int, default=50)
    gen.add_argument("--start", type=iso_date, required=True)
    gen.add_argument("--end", type=iso_date, required=True)
    gen.add_argument("--out", required=True, help="landing folder; one sub-folder per day is written")
    gen.add_argument("--format", choices=["daily", "pos"], default="daily")
    gen.add_argument("--defects", action="store_true", help="mix in realistic bad rows and bad files")
    gen.add_argument("--bad-file-rate", type=float, default=0.1, help="chance per day of one bad file (with --defects)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--no-ready-marker", action="store_true", help="do not write _READY (tests the settle rule)")
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="run one DAG for one logical date (airflow dags test), as `make run` does")
    run.add_argument(
        "dag_id", help="sales_ingest, sales_forecast, sales_catalog, sales_items, sales_overrides (or sales_drivers)"
    )
    run.add_argument("date", type=iso_date, help="the logical date, YYYY-MM-DD (the day the data belong to)")
    run.set_defaults(func=cmd_run)

    air = sub.add_parser("airflow", help="the Airflow CLI in salescast's environment")
    air.add_argument("airflow_args", nargs=argparse.REMAINDER)
    air.set_defaults(func=cmd_airflow)

    back = sub.add_parser("backfill", help="airflow backfill create, for the scheduler of `make airflow`")
    back.add_argument("--dag-id", required=True)
    back.add_argument("--from-date", type=iso_date, required=True, help="first logical date (included)")
    back.add_argument("--to-date", type=iso_date, required=True, help="last logical date (included)")
    back.add_argument("--reprocess-behavior", choices=["none", "failed", "completed"], default="none")
    back.add_argument("--attempts", type=at_least_one, default=5, help="tries while the metadata DB is busy")
    back.set_defaults(func=cmd_backfill)

    serve = sub.add_parser("serve", help="run a local Airflow (UI, scheduler, dag-processor, triggerer)")
    serve.add_argument("--port", type=port, default=os.environ.get("SALESCAST_UI_PORT", "8080"))
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to reach the UI from other machines")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="generate data and run the DAGs end to end on the embedded default")
    demo.add_argument("--days", type=int, default=7, help="last days run as Airflow runs (the others: history)")
    demo.add_argument("--history-days", type=int, default=120, help="older days loaded as history first")
    demo.add_argument("--stores", type=int, default=5)
    demo.add_argument("--items", type=int, default=50)
    demo.add_argument("--end", type=iso_date, default=None, help="last day of the data (default: yesterday, UTC)")
    demo.set_defaults(func=cmd_demo)

    return parser


def main(argv: list[str] | None = None) -> int:
    from salescast.config import ConfigError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:  # a bad SALESCAST_* setting: say which, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
