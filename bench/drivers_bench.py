"""Demand drivers: what censoring does to the forecast's bias, and what drivers cost in time.

Usage:
    PYTHONPATH=include .venv/bin/python bench/drivers_bench.py [--stores 10 --items 100 --days 730 --horizon 7]

The panel is salescast_dev.stockouts.drivers_panel: the simulator's demand (promotions lift
it 1.7x) with stock-out runs, partly available days and store closures on top, and the true
demand of every day kept. Four runs of the engine (jobs=1, CPU seconds):

* ``clean``: the true demand as history, no drivers (what the engine does when nothing hides demand);
* ``zero-filled``: the recorded sales, no drivers (stock-out days read as zero sales);
* ``censored``: the recorded sales with ``in_stock`` and ``store_open`` (stock-out days unknown);
* ``5 drivers``: the recorded sales with all five drivers (promo, price and temperature known ahead).

For each: the bias of the summed p50 (and mean) against the true demand of the horizon, the
held-out mean wQL (p10, p50, p90) against that true demand, and the
engine's CPU time (the least of ``--repeat`` runs); ``zero-filled`` against ``5 drivers`` is
drivers off against on for the same recorded sales.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import date, timedelta

from salescast.threads import single_threaded_blas

single_threaded_blas()  # before numpy is imported

import pandas as pd

from salescast.forecast.engine import ForecastConfig, run_forecast
from salescast.forecast.metrics import wql
from salescast_dev.generate import PanelSpec
from salescast_dev.stockouts import drivers_panel

AVAILABILITY = ["date", "store_id", "item_id", "in_stock", "store_open"]
RUNS = ("clean", "zero-filled", "censored", "5 drivers")


def held_out_wql(fc: pd.DataFrame) -> float:
    """Mean wQL of p10, p50 and p90 against the true demand of the horizon (Amazon Forecast's)."""
    taus = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
    y = fc["units"].to_numpy()
    return sum(wql(y, fc[col].to_numpy(), tau) for col, tau in taus.items()) / len(taus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the least CPU time counts")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, of {', '.join(RUNS)}")
    args = parser.parse_args(argv)
    start = date(2023, 1, 1)
    end = start + timedelta(days=args.days - 1)
    began = time.perf_counter()
    panel = drivers_panel(PanelSpec(stores=args.stores, items=args.items, seed=args.seed), start, end, args.horizon)
    stock = panel.drivers["in_stock"].dropna()  # the history's days (the future's are unknown)
    print(f"{platform.machine()} {platform.python_version()}; {args.stores * args.items} series x {args.days} days, "
          f"h={args.horizon}; generated in {time.perf_counter() - began:.0f} s; {(stock == 0).mean():.1%} of "
          f"series-days out of stock, {((stock > 0) & (stock < 1)).mean():.1%} partly available")  # fmt: skip
    truth = float(panel.future["units"].sum())
    keys = ["store_id", "item_id", "date"]
    future = panel.future.assign(date=panel.future["date"].astype(str))
    cfg = ForecastConfig(horizon=args.horizon)
    runs = {
        "clean": (panel.true_history, None),
        "zero-filled": (panel.history, None),
        "censored": (panel.history, panel.drivers[AVAILABILITY]),
        "5 drivers": (panel.history, panel.drivers),
    }
    print(f"{'run':12s} {'p50 bias':>9s} {'mean bias':>10s} {'wQL':>6s} {'CPU s':>7s}  "
          "models with drivers / censored days")  # fmt: skip
    seconds = {}
    for name, (history, drivers) in ((n, r) for n, r in runs.items() if n in args.runs.split(",")):
        seconds[name] = float("inf")
        for _ in range(args.repeat):  # CPU seconds: fair on a busy machine, unlike wall time
            cpu = time.process_time()
            result = run_forecast(history, cfg, jobs=1, drivers=drivers)
            seconds[name] = min(seconds[name], time.process_time() - cpu)
        fc = result.forecasts.assign(date=result.forecasts["date"].astype(str)).merge(future, on=keys)
        chosen = result.metrics[result.metrics["chosen"]]
        with_drivers = int(chosen["model"].str.endswith("_drivers").sum())
        print(f"{name:12s} {fc['p50'].sum() / truth - 1:+9.1%} {fc['mean'].sum() / truth - 1:+10.1%} "
              f"{held_out_wql(fc):6.3f} {seconds[name]:7.1f}  {with_drivers} / "
              f"{int(chosen['censored_days'].sum())}")  # fmt: skip
    if {"5 drivers", "zero-filled"} <= set(seconds):
        print(f"5 drivers on / off (zero-filled): {seconds['5 drivers'] / seconds['zero-filled']:.2f}x CPU time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
