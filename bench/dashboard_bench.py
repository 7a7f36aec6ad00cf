"""Dashboard speed: one series' page on a lake of 10,000 series x 2 years with 30 forecast runs.

Usage: .venv/bin/python bench/dashboard_bench.py [--series 10000] [--days 730] [--runs 30]
       [--repeat 9] [--rebuild]

The lake is built once under bench/out/dashboard-<series>x<days>x<runs>/ and reused. Its Parquet
is generated directly with numpy/pandas in the published layout (paths from salescast.lake,
markers from salescast.publish), with the columns and types the DAGs publish: running the
forecaster 30 times over 10,000 series would take hours and measure the forecaster, not the
dashboard. Times are server-side: what the route does for a series page (the data from the
lake and its caches, and the JSON body), without Airflow's auth check (a JWT decode and one
small metadata-DB query). The budget (issue 13) is 500 ms for a series page.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
os.environ.setdefault("AIRFLOW_HOME", str(OUT / "airflow-home"))  # the lake wraps Airflow's ObjectStoragePath

import numpy as np
import pandas as pd

from salescast.lake import FORECASTS, METRICS, SAFETY_STOCK, SALES_DAILY, Dataset, Lake
from salescast.publish import DATA_FILE, publish_partition

END = date(2025, 3, 31)
HORIZON = 7
MODELS = ["seasonal_naive", "ets_damped", "ets_log", "theta", "autoreg", "sdiff_ar", "combo", "croston_sba", "tsb"]
BUDGET_S = 0.5


class Panel:
    """Which series exist and their mean daily demand (seeded, so a rebuild is identical)."""

    def __init__(self, series: int) -> None:
        per_store = min(series, 100)
        codes = np.arange(series)
        self.stores = np.array([f"S{c // per_store + 1:03d}" for c in codes], dtype=object)
        self.items = np.array([f"I{c % per_store + 1:04d}" for c in codes], dtype=object)
        rng = np.random.default_rng(7)
        self.level = rng.lognormal(0.8, 1.2, series)  # slow movers (many zero days) to fast ones
        self.weekly = 1 + 0.3 * np.sin(2 * np.pi * (np.arange(7)[None, :] + rng.uniform(0, 7, (series, 1))) / 7)
        self.price = np.round(rng.uniform(0.5, 20, series), 2)

    def mu(self, day: date) -> np.ndarray:
        yearly = 1 + 0.2 * math.sin(2 * math.pi * day.timetuple().tm_yday / 365.25)
        return self.level * self.weekly[:, day.weekday()] * yearly


def sales_day(panel: Panel, day: date) -> pd.DataFrame:
    """A curated partition: one row per series that sold (missing rows mean zero sales)."""
    units = np.random.default_rng([7, day.toordinal()]).poisson(panel.mu(day)).astype(float)
    sold = units != 0
    return pd.DataFrame(
        {
            "date": day,
            "store_id": panel.stores[sold],
            "item_id": panel.items[sold],
            "units": units[sold],
            "revenue": np.round(units[sold] * panel.price[sold], 2),
            "source_rows": np.ones(int(sold.sum()), dtype=np.int64),
        }
    )


def forecast_tables(panel: Panel, run: date) -> dict[Dataset, pd.DataFrame]:
    """forecasts, metrics (every candidate, one chosen) and safety_stock of one run."""
    rng = np.random.default_rng([8, run.toordinal()])
    n = len(panel.level)
    chosen = rng.integers(0, len(MODELS), n)
    days = [run + timedelta(days=h) for h in range(1, HORIZON + 1)]
    mu = np.stack([panel.mu(d) for d in days], axis=1).ravel()  # series-major, like the DAG's output
    spread = 1.28 * np.sqrt(mu)
    forecasts = pd.DataFrame(
        {
            "run_date": run,
            "store_id": np.repeat(panel.stores, HORIZON),
            "item_id": np.repeat(panel.items, HORIZON),
            "date": np.tile(np.array(days, dtype=object), n),
            "p10": np.maximum(mu - spread, 0),
            "p50": mu,
            "p90": mu + spread,
            "horizon_step": np.tile(np.arange(1, HORIZON + 1), n),
            "mean": mu,
            "model": np.repeat(np.array(MODELS, dtype=object)[chosen], HORIZON),
        }
    )
    return {FORECASTS: forecasts, METRICS: metrics_table(panel, run, chosen, rng), SAFETY_STOCK: safety(panel, run)}


def metrics_table(panel: Panel, run: date, chosen: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n, k = len(panel.level), len(MODELS)
    wql = rng.uniform(0.2, 1.2, (n * k, 3))
    is_chosen = np.tile(np.arange(k), n) == np.repeat(chosen, k)
    return pd.DataFrame(
        {
            "run_date": run,
            "store_id": np.repeat(panel.stores, k),
            "item_id": np.repeat(panel.items, k),
            "n_windows": 4,
            "model": np.tile(np.array(MODELS, dtype=object), n),
            "chosen": is_chosen,
            "reason": np.where(is_chosen, "lowest mean wQL over 4 backtest windows", None),
            "skipped_models": 0,
            "wql_p10": wql[:, 0],
            "wql_p50": wql[:, 1],
            "wql_p90": wql[:, 2],
            "mean_wql": wql.mean(axis=1),
            "wape": wql[:, 1],
            "mase": rng.uniform(0.5, 1.5, n * k),
            "coverage": rng.uniform(0.6, 0.95, n * k),
            "points": 28.0,
        }
    )


def safety(panel: Panel, run: date) -> pd.DataFrame:
    demand = panel.level * HORIZON
    stock = 1.65 * np.sqrt(demand)
    return pd.DataFrame(
        {
            "run_date": run,
            "store_id": panel.stores,
            "item_id": panel.items,
            "lead_time": HORIZON,
            "service_level": 0.95,
            "safety_stock": stock,
            "lead_time_demand": demand,
            "reorder_point": demand + stock,
            "method": "series_errors",
            "model": "ets_damped",
            "error_samples": 40,
        }
    )


def publish(lake: Lake, dataset: Dataset, day: date, frame: pd.DataFrame) -> None:
    """Through the package's publish step: staged file promoted, _SUCCESS written last."""
    staged = lake.staging_dir(dataset, day) / "run=bench" / DATA_FILE
    lake.write_parquet(staged, frame)
    manifest = {"dataset": dataset.folder, dataset.key: day.isoformat(), "run_id": "bench", "rows": len(frame)}
    publish_partition(lake, staged, lake.partition_dir(dataset, day), manifest)
    lake.remove_tree(lake.staging_dir(dataset, day))


def build(folder: Path, series: int, days: int, runs: int) -> float:
    """Write the lake unless a complete one with the same shape is there; seconds spent."""
    spec = {"series": series, "days": days, "runs": runs, "end": END.isoformat()}
    done = folder / "bench-lake.json"
    if done.exists() and json.loads(done.read_text()) == spec:
        return 0.0
    started = time.perf_counter()
    lake, panel = Lake(folder.joinpath("lake").as_uri()), Panel(series)
    lake.remove_tree(lake.root)
    for i in range(days):
        day = END - timedelta(days=days - 1 - i)
        publish(lake, SALES_DAILY, day, sales_day(panel, day))
        if (i + 1) % 100 == 0:
            print(f"  sales_daily: {i + 1}/{days} days", flush=True)
    for i in range(runs):
        run = END - timedelta(days=runs - 1 - i)
        for dataset, frame in forecast_tables(panel, run).items():
            publish(lake, dataset, run, frame)
    done.write_text(json.dumps(spec))
    return time.perf_counter() - started


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=9, help="timed repetitions for each median")
    parser.add_argument("--rebuild", action="store_true", help="write the lake again even if one is there")
    args = parser.parse_args()
    folder = OUT / f"dashboard-{args.series}x{args.days}x{args.runs}"
    if args.rebuild and (folder / "bench-lake.json").exists():
        (folder / "bench-lake.json").unlink()
    built = build(folder, args.series, args.days, args.runs)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"lake: {folder / 'lake'} ({'built in ' + format(built, '.0f') + ' s' if built else 'reused'})")
    measure(Lake(folder.joinpath("lake").as_uri()), args.repeat)


def measure(lake: Lake, repeat: int) -> None:
    from fastapi.responses import JSONResponse

    from salescast.dashboard.store import DashboardStore

    started = DashboardStore(lake)  # an api-server that started: the warm-up ran in the background
    warmup = timed(started.warm)
    first = timed(lambda s=started: JSONResponse(s.series_detail("S002", "I0002", None)))
    print(f"warm-up at api-server start (background thread): {ms(warmup)}; first series page after it: {ms(first)}")
    del started
    store = DashboardStore(lake)  # a fresh api-server process, no warm-up: nothing cached yet
    rng = np.random.default_rng(1)

    def page(key: tuple[str, str], run_date: str | None = None) -> None:
        JSONResponse(store.series_detail(key[0], key[1], run_date))  # the route's work, body encoded

    first_key = ("S001", "I0001")
    cold = timed(lambda: page(first_key))
    sales = store.sales(store.snapshot())
    keys = list(zip(sales.registry.stores, sales.registry.items, strict=True))
    runs = store.runs()["run_dates"]
    print(
        f"lake holds: {len(keys):,} series, {len(sales.days):,} sales rows over {len(sales.published)} days,", end=" "
    )
    print(f"{len(runs)} forecast runs")
    same = [timed(lambda: page(first_key)) for _ in range(repeat)]
    other = [timed(lambda k=keys[i]: page(k)) for i in rng.choice(len(keys), repeat)]
    earlier = runs[0]
    first_run = timed(lambda: page(first_key, earlier))
    run_warm = [timed(lambda k=keys[i]: page(k, earlier)) for i in rng.choice(len(keys), repeat)]
    report_pages(cold, same, other, first_run, run_warm, earlier)
    report_others(store, lake, keys, repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "within" if statistics.median(other) < BUDGET_S else "OVER"
    print(f"peak RSS: {peak:,.0f} MB; warm series page {ms(statistics.median(other))} is {verdict} the 500 ms budget")


def report_pages(cold: float, same: list, other: list, first_run: float, run_warm: list, earlier: str) -> None:
    n = len(same)
    print(f"series page, cold (first request after start: reads every sales partition): {ms(cold)}")
    print(f"series page, warm, same series, median of {n}: {ms(statistics.median(same))} (max {ms(max(same))})")
    print(f"series page, warm, a different series each time, median of {n}: {ms(statistics.median(other))}", end=" ")
    print(f"(max {ms(max(other))})")
    print(f"series page for the earliest run {earlier}: first {ms(first_run)},", end=" ")
    print(f"then median {ms(statistics.median(run_warm))}")


def report_others(store: object, lake: Lake, keys: list, repeat: int) -> None:
    """The series list, the accuracy view, and the first page after a day is re-published."""
    filters = {"q": None, "store": None, "item": None}
    listing = [timed(lambda: store.series_list(filters, "wql", None, 50, 0)) for _ in range(repeat)]
    print(
        f"series list (sort by wQL, 50 rows): first {ms(listing[0])}, then median {ms(statistics.median(listing[1:]))}"
    )
    accuracy = [timed(store.accuracy) for _ in range(3)]
    print(f"accuracy view (every run x step): cold {ms(accuracy[0])}, warm {ms(statistics.median(accuracy[1:]))}")
    last = lake.published_partitions(SALES_DAILY)[-1]
    day = date.fromisoformat(last)
    publish(lake, SALES_DAILY, day, lake.read_parquet(lake.curated_dir(day) / DATA_FILE))  # a re-run of that day
    after = timed(lambda: store.series_detail(*keys[0], None))
    again = timed(lambda: store.series_detail(*keys[1], None))
    print(f"series page right after {last} is re-published: {ms(after)} (re-reads that day only), next {ms(again)}")


if __name__ == "__main__":
    main()
