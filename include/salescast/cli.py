"""``python -m salescast``: the command line for people and scripts."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salescast.cli_args import at_least_one, date_range, fraction, freq, holiday_list, iso_date, quantile_list
from salescast.config import Settings
from salescast.forecast import defaults


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest days without Airflow (same functions the DAG calls); for bulk history loads."""
    from salescast.config import Settings
    from salescast.ingest.pipeline import DayRejected, ingest_day
    from salescast.lake import Lake

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    failed = 0
    for day in date_range(args.start, args.end or args.start):
        try:
            result = ingest_day(
                lake, day, args.run_id, settings.max_bad_row_fraction, settings.delivery_rule, settings.ingest_memory_mb
            )
            print(f"{day}: published {result.published_rows} rows, quarantined {result.quarantined}")
        except DayRejected as error:
            failed += 1
            print(f"{day}: REJECTED {error}", file=sys.stderr)
    return 1 if failed else 0


def _unscored(result, args: argparse.Namespace) -> str | None:  # noqa: ANN001 - a ForecastResult
    """Why no backtest score exists, when no series had the history for one (else None)."""
    import math

    mean_wql = result.summary["backtest"]["bake_off"].get("mean_wql")
    if mean_wql is not None and not math.isnan(mean_wql):
        return None
    reasons = list(result.summary.get("fallbacks", {}))
    shown = "; ".join(reasons[:3]) + (f"; ... ({len(reasons)} reasons)" if len(reasons) > 3 else "")
    return (
        f"no series has enough history to backtest --horizon {args.horizon} over "
        f"{result.summary.get('windows')} windows, so there is no backtest score ({shown}); "
        "use a shorter --horizon or more history"
    )


def _score(value: float | None, pattern: str = "{:.3f}") -> str:
    return "n/a" if value is None or value != value else pattern.format(value)


def _forecast_config(args: argparse.Namespace, settings: Settings):
    """The DAG's builder, with the flags in place of their settings (holidays from
    SALESCAST_HOLIDAYS, as in the DAG, unless ``--holidays`` says otherwise)."""
    from salescast.forecast.engine import ForecastConfig

    flags = {"holidays": args.holidays} if getattr(args, "holidays", None) is not None else {}
    return ForecastConfig.from_settings(
        settings,
        horizon=args.horizon,
        freq=args.freq,
        quantiles=args.quantiles,
        windows=args.windows,
        lead_time=args.lead_time,
        service_level=args.service_level,
        **flags,
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


def _partial_note(dropped: dict) -> str | None:
    """The weekly/monthly periods left out of training because the history covers them in part."""
    parts = []
    for side in ("leading", "trailing"):
        period = dropped.get(side)
        if period and not (side == "trailing" and period == dropped.get("leading")):
            which = "first" if side == "leading" else "last"
            text = (f"the {which} period {period['first_day']}..{period['last_day']} "
                    f"({period['days_seen']} of {period['days_in_period']} days)")  # fmt: skip
            if side == "trailing":
                text += f", forecast as horizon step 1 (period ending {period['period_end']})"
            parts.append(text)
    if not parts:
        return None
    return "left out of training, as a partial period is not one of low sales: " + "; ".join(parts)


@dataclass
class _Run:
    """One engine run of the command and what it was given."""

    result: Any
    history: Any
    drivers: Any = None  # the wide drivers table given to the engine (None: no drivers)
    refused: Any = None  # with --drivers-mapping: driver values the mapping's rules refused
    scenario: Any = None  # with --scenario: the run with the scenario's future drivers


def _drivers_table(path: str, args: argparse.Namespace, history, config):  # noqa: ANN001 - frames
    """A drivers file as given, or checked and completed by a mapping's rules (the DAG's)."""
    import pandas as pd

    from salescast.forecast.input_files import read_mapped_drivers, read_table

    if not args.drivers_mapping:
        return read_table(path, "drivers"), None
    last_day = config.horizon_end(pd.to_datetime(history["date"], errors="coerce").max())
    return read_mapped_drivers(path, args.drivers_mapping, history, last_day)


def _run_engine(args: argparse.Namespace, settings: Settings) -> _Run | None:
    import pandas as pd

    from salescast.forecast.engine import ForecastInputError, run_forecast
    from salescast.forecast.input_files import InputFileError, check_history_length, read_table
    from salescast.forecast.panel import partial_periods
    from salescast.forecast.scenario import with_scenario

    try:
        config = _forecast_config(args, settings)
        history = read_table(args.history, "history")
        check_history_length(history, args.freq, args.horizon, args.history)
        drivers, refused = _drivers_table(args.drivers, args, history, config) if args.drivers else (None, None)
        planned = None
        if getattr(args, "scenario", None):
            if drivers is None:
                raise InputFileError("--scenario replaces future drivers: give the drivers with --drivers too")
            scenario, _ = _drivers_table(args.scenario, args, history, config)
            if scenario is None:
                raise InputFileError(f"scenario {args.scenario} holds no driver value")
            planned = with_scenario(drivers, scenario, pd.to_datetime(history["date"], errors="coerce").max())
        run = _Run(run_forecast(history, config, jobs=args.jobs, drivers=drivers), history, drivers, refused)
        if planned is not None:
            run.scenario = run_forecast(history, config, jobs=args.jobs, drivers=planned)
    except (ForecastInputError, InputFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    result = run.result
    dropped = result.summary.setdefault("dropped_partial_period", partial_periods(history, config.freq))
    note = _partial_note(dropped)
    if note:
        print(f"note: {note}", file=sys.stderr)
    summary = result.summary.get("drivers", {})
    for reason, count in summary.get("without_drivers", {}).items():
        print(f"note: {count} series forecast without drivers ({reason})", file=sys.stderr)
    if summary.get("past_only_unused"):
        names = ", ".join(summary["past_only_unused"])
        print(f"note: drivers {names} have no values through the horizon for any series: past-only, which no "
              "model uses yet (give their future values to use them)", file=sys.stderr)  # fmt: skip
    return run


def _write_refused(refused, out: Path) -> None:  # noqa: ANN001 - a DataFrame
    """The driver values a mapping refused, with reasons, beside the forecasts."""
    if refused is None or refused.empty:
        return
    from salescast.csv_safe import csv_chunks

    path = out / "drivers_refused.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(csv_chunks(refused))
    reasons = refused["reason"].str.replace(r" \(got .*", "", regex=True).value_counts()
    shown = "; ".join(f"{count} x {reason}" for reason, count in reasons.head(3).items())
    print(f"note: {len(refused)} driver values refused by the mapping ({shown}) -> {path}", file=sys.stderr)


def _write_scenario(run: _Run, args: argparse.Namespace, out: Path) -> None:
    """The scenario's run beside the base run, and the two forecasts side by side."""
    if run.scenario is None:
        return
    from salescast.forecast.scenario import side_by_side

    _write_outputs(run.scenario, out / "scenario", ("forecasts",))
    both = side_by_side(run.result.forecasts, run.scenario.forecasts)
    from salescast.csv_safe import csv_chunks

    path = out / "scenario_comparison.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(csv_chunks(both))
    base, planned = both["p50_base"].sum(), both["p50_scenario"].sum()
    changed = both.loc[both["p50_change"].abs() > 1e-9, ["store_id", "item_id"]].drop_duplicates()
    change = f" ({planned / base - 1:+.1%})" if base else ""
    print(f"scenario {args.scenario}: p50 over the horizon {base:.1f} -> {planned:.1f}{change}, "
          f"{len(changed)} series changed -> {path}")  # fmt: skip


def cmd_forecast(args: argparse.Namespace) -> int:
    run = _run_engine(args, Settings.from_env())
    if run is None:
        return 2
    result, out = run.result, Path(args.out)
    _write_outputs(result, out, ("forecasts",))
    _write_refused(run.refused, out)
    bake = result.summary["backtest"]["bake_off"]
    unscored = _unscored(result, args)
    if unscored:
        print(f"note: {unscored}; the forecasts come from fallback models", file=sys.stderr)
    print(
        f"forecast {result.summary['series']} series x {args.horizon} periods -> {out / 'forecasts.parquet'}; "
        f"backtest mean wQL {_score(bake['mean_wql'])}, coverage {_score(bake['coverage'], '{:.2f}')}; "
        f"models {result.summary['model_mix']}"
    )
    _write_scenario(run, args, out)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    run = _run_engine(args, Settings.from_env())
    if run is None:
        return 2
    result = run.result
    unscored = _unscored(result, args)
    if unscored:
        print(f"error: {unscored}", file=sys.stderr)
        return 2
    out = Path(args.out)
    _write_outputs(result, out, ("metrics_json",))
    _write_refused(run.refused, out)
    backtest = result.summary["backtest"]
    for name, scores in ({"bake_off": backtest["bake_off"]} | backtest["per_model"]).items():
        print(
            f"{name:16s} mean wQL {_score(scores['mean_wql'])}  WAPE {_score(scores['wape'])}  "
            f"coverage {_score(scores['coverage'], '{:.2f}')}"
        )
    print(f"-> {out / 'metrics.json'}, {out / 'metrics.parquet'}")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    """Refresh the DuckDB warehouse's tables and views over the lake, local or S3 (what the
    sales_catalog DAG runs)."""
    from salescast.catalog.tasks import refresh_duckdb_catalog
    from salescast.catalog.warehouse import WarehouseLocked
    from salescast.config import Settings

    try:
        counts = refresh_duckdb_catalog(report=lambda note: print(f"note: {note}", file=sys.stderr))
    except (ValueError, WarehouseLocked) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for name, rows in counts.items():
        print(f"{name:22s} {rows:8d} rows")
    print(f"-> {Settings.from_env().warehouse_path} (try: SELECT * FROM history_and_forecast LIMIT 10)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m salescast",
        description=__doc__,
        epilog="The local Airflow, the demo and synthetic data: python -m salescast_dev --help",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_data_commands(sub)
    return parser


def _add_data_commands(sub: argparse._SubParsersAction) -> None:
    """Commands that work on files and the lake without a running Airflow."""
    ing = sub.add_parser("ingest", help="ingest landing days into the lake without Airflow")
    ing.add_argument("--start", type=iso_date, required=True)
    ing.add_argument("--end", type=iso_date)
    ing.add_argument("--run-id", default="cli")
    ing.set_defaults(func=cmd_ingest)

    for name, helptext, func in (
        ("forecast", "forecast every store x item series of a history file", cmd_forecast),
        ("backtest", "score every candidate model by rolling-origin backtest", cmd_backtest),
    ):
        fc = sub.add_parser(name, help=helptext)
        fc.add_argument("--history", required=True, help="canonical daily rows: CSV or Parquet (file or folder)")
        fc.add_argument("--horizon", type=at_least_one, default=defaults.HORIZON)
        fc.add_argument("--freq", type=freq, default=defaults.FREQ, help="D, W-SUN (any W-XXX) or M")
        fc.add_argument("--quantiles", type=quantile_list, default=",".join(map(str, defaults.QUANTILES)))
        fc.add_argument(
            "--windows", type=at_least_one, default=defaults.WINDOWS, help="backtest windows of one horizon each"
        )
        fc.add_argument("--lead-time", type=at_least_one, default=defaults.LEAD_TIME, help="periods, for safety stock")
        fc.add_argument("--service-level", type=fraction, default=defaults.SERVICE_LEVEL)
        fc.add_argument("--jobs", type=at_least_one, default=1, help="processes; use the number of cores")
        fc.add_argument(
            "--drivers",
            help="demand drivers: CSV or Parquet (file or folder) with date, store_id, item_id (* = every) and "
            "numeric driver columns; in_stock (0..1) and store_open (0/1) mark censored days",
        )
        fc.add_argument(
            "--holidays",
            type=holiday_list,
            help="holiday countries as regressors, e.g. US,GB (none: off); default SALESCAST_HOLIDAYS",
        )
        fc.add_argument(
            "--drivers-mapping",
            help="check and complete the drivers with a reviewed mapping, as the DAGs do (a name in "
            "include/sources/drivers/ or a path): undeclared or out-of-range values are refused, not used",
        )
        if name == "forecast":
            fc.add_argument(
                "--scenario",
                help="what-if: drivers (same format) whose future values replace those of --drivers for the "
                "stores, items and drivers they give; writes the scenario's forecast beside the base one",
            )
        fc.add_argument("--out", required=True)
        fc.set_defaults(func=func)

    cat = sub.add_parser("catalog", help="refresh the DuckDB warehouse (tables and views over the lake)")
    cat.set_defaults(func=cmd_catalog)


def main(argv: list[str] | None = None) -> int:
    from salescast.config import ConfigError

    args = build_parser().parse_args(argv)
    if args.func in (cmd_forecast, cmd_backtest) and not sys.stderr.isatty():
        # off a terminal, progress of long runs comes as a log line every 10% (salescast.forecast)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:  # a bad SALESCAST_* setting: say which, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
