"""The drivers a forecast run for day D sees: for every (date, store_id, item_id, driver), the
value of the latest as-of delivery on or before D.

A delivery is published under the day its values were known (``curated/drivers/asof=D``), so
a run for D, or a backfill of D a year later, reads only what was known on D: a correction
delivered on D+1 never changes the forecast of D. Declared past-only drivers lose their
values after D (a value for a future day of a past-only driver is not a known plan). Rows
of different reach (``*``) are resolved afterwards by the engine, the more specific winning
(:mod:`salescast.forecast.drivers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from salescast.lake import DATA_FILE, DRIVERS, Lake

if TYPE_CHECKING:
    from salescast.driver_mapping import DriverMapping

KEY = ["date", "store_id", "item_id", "driver"]


@dataclass
class AsOfDrivers:
    """The wide table for the engine (None: no driver value applies) and what the run summary
    records about it."""

    table: pd.DataFrame | None
    as_of_days: list[str] = field(default_factory=list)  # the deliveries whose values the run uses
    latest_as_of: str | None = None
    on_run_date: bool = False  # drivers as of D itself were published (else the run went on with older ones)

    def to_summary(self) -> dict[str, Any]:
        drivers = [] if self.table is None else [c for c in self.table.columns if c not in KEY]
        return {"as_of_days": self.as_of_days, "latest_as_of": self.latest_as_of, "on_run_date": self.on_run_date,
                "declared_in_use": drivers}  # fmt: skip


def drivers_as_of(lake: Lake, day: date, first_day: date, last_day: date, mapping: DriverMapping) -> AsOfDrivers:
    """Resolve the published deliveries as of ``day`` for dates ``first_day`` (the run's
    history) to ``last_day`` (its horizon); one listing of the dataset, one read per delivery.
    A driver the mapping gives an ``absent`` rule is then completed over those dates for every
    store/item the deliveries give it for."""
    asof = [d for d in lake.published_partitions(DRIVERS) if d <= day.isoformat()]
    frames = [lake.read_parquet(lake.partition_dir(DRIVERS, date.fromisoformat(d)) / DATA_FILE) for d in asof]
    frames = [f for f in frames if not f.empty]
    on_run_date = day.isoformat() in asof
    if not frames:
        return AsOfDrivers(None, [], None, on_run_date)
    rows = within(pd.concat(frames, ignore_index=True), first_day, last_day)
    latest = rows.sort_values("asof", kind="stable").drop_duplicates(KEY, keep="last")
    wide = wide_drivers(latest, mapping, first_day, last_day, day)
    if wide is None:
        return AsOfDrivers(None, [], None, on_run_date)
    used = sorted({str(d) for d in latest.loc[latest["driver"].isin(wide.columns), "asof"]})
    return AsOfDrivers(wide, used, used[-1], on_run_date)


def within(rows: pd.DataFrame, first_day: date, last_day: date) -> pd.DataFrame:
    """Driver rows dated ``first_day..last_day`` (the run's history and horizon), dates as timestamps."""
    rows = rows.assign(date=pd.to_datetime(rows["date"]))
    return rows[(rows["date"] >= pd.Timestamp(first_day)) & (rows["date"] <= pd.Timestamp(last_day))]


def wide_drivers(
    rows: pd.DataFrame, mapping: DriverMapping, first_day: date, last_day: date, day: date
) -> pd.DataFrame | None:
    """One value per (date, store_id, item_id, driver) in ``rows`` (dates within
    ``first_day..last_day``: :func:`within`) -> the engine's wide table over those days with the
    mapping's rules: undeclared drivers out, past-only drivers only up to ``day`` (the last day
    of history), ``absent`` rules applied. None when nothing is left."""
    past_only = rows["driver"].isin(mapping.past_only) & (rows["date"] > pd.Timestamp(day))
    rows = rows[~past_only & rows["driver"].isin(list(mapping.drivers))]
    if rows.empty:
        return None
    rows = complete(rows, mapping, pd.date_range(first_day, last_day), day)
    wide = rows.pivot(index=["date", "store_id", "item_id"], columns="driver", values="value").reset_index()
    wide.columns.name = None
    return wide


def complete(rows: pd.DataFrame, mapping: DriverMapping, days: pd.DatetimeIndex, day: date) -> pd.DataFrame:
    """Each driver with an ``absent`` rule given on every one of ``days`` for every store/item
    the rows give it for: the rule's value, or the last value before ("hold"; the first one
    after for days before any). Past-only drivers are completed up to ``day`` only."""
    parts = [rows[~rows["driver"].isin([n for n, s in mapping.drivers.items() if s.absent is not None])]]
    for name, spec in mapping.drivers.items():
        given = rows[rows["driver"] == name]
        if spec.absent is None or given.empty:
            continue
        span = days if spec.known_ahead else days[days <= pd.Timestamp(day)]
        keys = given[["store_id", "item_id"]].drop_duplicates()
        index = pd.MultiIndex.from_arrays(
            [np.repeat(keys["store_id"].to_numpy(), len(span)), np.repeat(keys["item_id"].to_numpy(), len(span)),
             np.tile(span.to_numpy(), len(keys))], names=["store_id", "item_id", "date"],
        )  # fmt: skip
        values = given.set_index(["store_id", "item_id", "date"])["value"].reindex(index)
        if spec.absent == "hold":
            values = values.groupby(level=[0, 1]).ffill().groupby(level=[0, 1]).bfill()
        else:
            values = values.fillna(float(spec.absent))
        parts.append(values.rename("value").reset_index().assign(driver=name))
    return pd.concat(parts, ignore_index=True)[[*KEY, "value"]]
