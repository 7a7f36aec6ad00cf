"""A synthetic retail panel with demand drivers and stock-outs whose true demand is kept:
what tests and benchmarks of censored demand and known-ahead drivers measure against.

Demand is :func:`salescast_dev.generate.simulate_day` (promotions lift it 1.7x and cut the
price 20%). On top: stock-out episodes (``in_stock = 0`` for 1-4 days: nothing recorded),
partly available days (``0.5 <= in_stock < 1``: each unit wanted is sold with that chance),
and store closures (``store_open = 0``: nothing recorded). The drivers table has
``promo`` and ``price`` per store and item and ``temperature`` per store (``item_id = *``)
through the horizon (known ahead), ``in_stock`` per series and ``store_open`` per store
(``*``) for the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from salescast_dev.generate import PanelSpec, simulate_day


@dataclass
class DriversPanel:
    history: pd.DataFrame  # date, store_id, item_id, units: what the shops recorded
    true_history: pd.DataFrame  # the same with the demand of every day (no stock-out)
    drivers: pd.DataFrame  # date, store_id, item_id, promo, price, temperature, in_stock, store_open
    future: pd.DataFrame  # date, store_id, item_id, units: true demand over the horizon


def drivers_panel(
    spec: PanelSpec,
    start: date,
    end: date,
    horizon: int,
    stockout_rate: float = 0.03,
    partial_rate: float = 0.05,
    closed_rate: float = 0.005,
) -> DriversPanel:
    """History ``start..end`` and ``horizon`` future days; a stock-out episode starts on a
    series' day with chance ``stockout_rate``, a partly available day with ``partial_rate``,
    a store closes for a day with ``closed_rate``."""
    rng = np.random.default_rng([spec.seed, 7])
    n_days = (end - start).days + 1
    days = [start + timedelta(days=i) for i in range(n_days + horizon)]
    frames = [simulate_day(spec, d)[["date", "store_id", "item_id", "units", "price", "promo"]] for d in days]
    n = spec.n_series
    in_stock = np.ones((len(days), n))
    remaining = np.zeros(n, dtype=int)
    for t in range(n_days):
        remaining = np.where((remaining == 0) & (rng.random(n) < stockout_rate), rng.integers(1, 5, n), remaining)
        out = remaining > 0
        in_stock[t, out] = 0.0
        remaining = np.maximum(remaining - 1, 0)
        partial = ~out & (rng.random(n) < partial_rate)
        in_stock[t, partial] = rng.uniform(0.5, 0.95, int(partial.sum()))
    open_store = (rng.random((len(days), spec.stores)) >= closed_rate).astype(float)
    open_store[n_days:] = 1.0
    temperature = 15 + 10 * rng.standard_normal((len(days), spec.stores)).cumsum(axis=0) / np.sqrt(len(days))
    recorded, true, driver_rows, store_rows = [], [], [], []
    for t, frame in enumerate(frames):
        shut = np.repeat(open_store[t] == 0, spec.items)
        units = frame["units"].to_numpy()
        sold = np.where(units > 0, rng.binomial(np.clip(units, 0, None).astype(int), in_stock[t]), units)
        sold = np.where(shut, 0.0, sold)
        keys = frame[["date", "store_id", "item_id"]]
        if t < n_days:
            recorded.append(keys.assign(units=sold.astype(float)))
            true.append(keys.assign(units=units))
        stock = in_stock[t] if t < n_days else np.full(n, np.nan)
        driver_rows.append(keys.assign(promo=frame["promo"].astype(float), price=frame["price"], in_stock=stock))
        store_rows.append(
            pd.DataFrame(
                {"date": days[t], "store_id": spec.store_ids, "item_id": "*", "temperature": temperature[t]}
            ).assign(store_open=open_store[t] if t < n_days else np.nan)
        )
    history = pd.concat(recorded, ignore_index=True)
    true_all = pd.concat(true, ignore_index=True)
    drivers = pd.concat([pd.concat(driver_rows), pd.concat(store_rows)], ignore_index=True)
    future = pd.concat([f[["date", "store_id", "item_id", "units"]] for f in frames[n_days:]], ignore_index=True)
    return DriversPanel(history, true_all, drivers, future)
