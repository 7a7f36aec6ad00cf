"""Golden outputs of the forecast engine: prove a refactor changes nothing users see.

Usage:
    .venv/bin/python bench/golden.py save  [--out bench/out/golden] [--cases a,b]
    .venv/bin/python bench/golden.py check [--out bench/out/golden] [--cases a,b]

``save`` runs the engine on every case and writes its forecasts, metrics, safety stock and
summary (plus the CPU seconds); ``check`` runs it again and compares: tables with
``pandas.testing.assert_frame_equal`` (exact, dtypes included), summaries as equal JSON, and
prints the time ratio per case (the refactor's speed budget is 5%). Cases:

* every case of the public accuracy benchmark (bench/accuracy.py: daily, weekly, monthly,
  with holidays), at its last origin, from the data ``make bench-accuracy`` caches in
  bench/out/data;
* synthetic retail panels (salescast_dev.generate) run the way the DAG runs them: with
  unpublished days, a store missing on some days, in 3 shards whose summaries are merged; a
  weekly and a monthly one; a panel of new and intermittent series.

The exit code is 1 if anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from salescast.threads import single_threaded_blas

single_threaded_blas()

import numpy as np
import pandas as pd

TABLES = ("forecasts", "metrics", "safety_stock")


def accuracy_cases(names: set[str] | None) -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
    import accuracy

    from salescast.forecast.engine import ForecastConfig, run_forecast

    for case in accuracy.CASES:
        if names and case.name not in names:
            continue
        path = accuracy.source_path(case.source)
        if not path.exists() and case.source not in ("synthetic", "chicago_weekly"):  # those two are derived
            print(f"skip {case.name}: {path} missing (make bench-accuracy caches it)", file=sys.stderr)
            continue

        def run(case: accuracy.Case = case) -> dict[str, Any]:
            accuracy.ensure_data([case])
            frame = accuracy.load_case_frame(case)
            origin = accuracy.origins_of(frame, case.horizon, 1)[-1]
            train = accuracy.train_split(frame, origin, case.freq)
            cfg = ForecastConfig(
                horizon=case.horizon,
                freq=case.freq,
                quantiles=accuracy.TAUS,
                lead_time=case.lead_time,
                service_level=0.95,
                **accuracy.salescast_extra(case),
            )
            return _tables(run_forecast(train, cfg, jobs=1))

        yield case.name, run


def _tables(result: Any) -> dict[str, Any]:
    return {"forecasts": result.forecasts, "metrics": result.metrics, "safety_stock": result.safety_stock,
            "summary": result.summary}  # fmt: skip


def _panel(stores: int, items: int, seed: int, start: str, end: str) -> pd.DataFrame:
    from salescast_dev.generate import PanelSpec, simulate_panel

    panel = simulate_panel(PanelSpec(stores=stores, items=items, seed=seed), date.fromisoformat(start),
                           date.fromisoformat(end))  # fmt: skip
    panel = panel[["date", "store_id", "item_id", "units"]].copy()
    panel["date"] = pd.to_datetime(panel["date"])
    return panel


def _sharded(history: pd.DataFrame, freq: str, known: pd.DatetimeIndex, missing: dict, end: pd.Timestamp) -> dict:
    """The DAG's way: shards of one panel, summaries merged exactly."""
    from salescast.forecast.engine import ForecastConfig, merge_summaries, run_forecast

    cfg = ForecastConfig(horizon=7 if freq == "D" else 6, freq=freq, holidays=("US",))
    parts = [
        run_forecast(history, cfg, shard=i, n_shards=3, end=end, known_days=known, unknown_store_days=missing)
        for i in range(3)
    ]
    out = {name: pd.concat([getattr(p, name) for p in parts], ignore_index=True) for name in TABLES}
    # what publish writes: the merged summary and the partial periods the panel left out
    out["summary"] = merge_summaries([p.summary for p in parts])
    out["summary"]["dropped_partial_period"] = parts[0].summary["dropped_partial_period"]
    return out


def synthetic_cases() -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
    def daily() -> dict[str, Any]:
        history = _panel(3, 30, 7, "2023-01-01", "2024-06-30")
        days = pd.date_range("2023-01-01", "2024-06-30", freq="D")
        unpublished = days[[100, 101, 300, 530]]
        history = history[~history["date"].isin(unpublished)]
        gaps = {str(days[200].date()): ["S01"], str(days[540].date()): ["S02"]}
        for day, stores in gaps.items():
            history = history[~((history["date"] == day) & history["store_id"].isin(stores))]
        return _sharded(history, "D", days.difference(unpublished), gaps, days[-1])

    def weekly() -> dict[str, Any]:
        history = _panel(2, 20, 11, "2022-01-03", "2024-05-15")
        return _sharded(history, "W-SUN", pd.date_range("2022-01-03", "2024-05-15"), {}, pd.Timestamp("2024-05-15"))

    def monthly() -> dict[str, Any]:
        history = _panel(2, 15, 13, "2019-01-01", "2024-04-20")
        return _sharded(history, "M", pd.date_range("2019-01-01", "2024-04-20"), {}, pd.Timestamp("2024-04-20"))

    def new_and_intermittent() -> dict[str, Any]:
        from salescast.forecast.engine import ForecastConfig, run_forecast

        rng = np.random.default_rng(5)
        days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
        rows = []
        for item in range(40):
            start = 0 if item < 20 else len(days) - 1 - int(rng.integers(1, 40))  # half launched recently
            rate = 0.2 if item % 3 == 0 else 6.0  # every third item sells rarely
            for day in days[start:]:
                units = float(rng.poisson(rate) * (1 + 10 * (item % 7 == 0)))
                if units:
                    rows.append((day, "S01", f"N{item:02d}", units))
        history = pd.DataFrame(rows, columns=["date", "store_id", "item_id", "units"])
        cfg = ForecastConfig(horizon=14, freq="D")
        return _tables(run_forecast(history, cfg, jobs=1, end=days[-1], known_days=days))

    yield "synth_daily_sharded", daily
    yield "synth_weekly_sharded", weekly
    yield "synth_monthly_sharded", monthly
    yield "synth_new_intermittent", new_and_intermittent


def _save(folder: Path, outputs: dict[str, Any], seconds: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        outputs[name].to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "summary.json").write_text(json.dumps(outputs["summary"], sort_keys=True, default=str, indent=1))
    (folder / "seconds.json").write_text(json.dumps({"seconds": seconds}))


def _compare(folder: Path, outputs: dict[str, Any]) -> list[str]:
    problems = []
    for name in TABLES:
        expected = pd.read_parquet(folder / f"{name}.parquet")
        buffer = outputs[name].reset_index(drop=True)
        actual = pd.read_parquet(_roundtrip(buffer))
        if name == "metrics" and "censored_days" in actual and "censored_days" not in expected:
            # metrics gained censored_days (demand drivers): 0 for every row without drivers
            if (actual["censored_days"] != 0).any():
                problems.append("metrics: censored_days is not 0 everywhere without drivers")
            actual = actual.drop(columns="censored_days")
        try:
            pd.testing.assert_frame_equal(actual, expected, check_exact=True)
        except AssertionError as error:
            problems.append(f"{name}: {str(error).splitlines()[0:6]}")
    summary = json.loads(json.dumps(outputs["summary"], sort_keys=True, default=str))
    if summary != json.loads((folder / "summary.json").read_text()):
        problems.append("summary differs")
    return problems


def _roundtrip(frame: pd.DataFrame) -> Any:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    return buffer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("save", "check"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "golden")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the least CPU time counts")
    args = parser.parse_args(argv)
    names = set(args.cases.split(",")) if args.cases else None
    cases = [*accuracy_cases(names), *((n, f) for n, f in synthetic_cases() if not names or n in names)]
    failed, total_before, total_after = 0, 0.0, 0.0
    for name, run in cases:
        seconds = float("inf")
        for _ in range(args.repeat):
            started = time.process_time()  # CPU seconds (jobs=1): fair on a busy machine, unlike wall time
            outputs = run()
            seconds = min(seconds, time.process_time() - started)
        folder = args.out / name
        if args.mode == "save":
            _save(folder, outputs, seconds)
            print(f"{name:24s} saved   {seconds:7.2f} s  {len(outputs['forecasts']):6d} forecast rows")
            continue
        problems = _compare(folder, outputs)
        before = json.loads((folder / "seconds.json").read_text())["seconds"]
        total_before, total_after = total_before + before, total_after + seconds
        verdict = "identical" if not problems else "DIFFERS"
        print(f"{name:24s} {verdict:9s} {before:7.2f} s -> {seconds:7.2f} s ({seconds / before - 1:+.1%})")
        for problem in problems:
            print(f"    {problem}")
        failed += bool(problems)
    if args.mode == "check" and total_before:
        print(f"{'all cases':24s} {failed} differ; {total_before:.1f} s -> {total_after:.1f} s "
              f"({total_after / total_before - 1:+.1%})")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
