"""What the dashboard pages show, read from the lake and cached on the ``_SUCCESS`` markers.

Each request lists the markers of the datasets it needs (one listing per dataset); whatever
is cached under the same stamps is reused, anything else is read again. Publishing always
rewrites the marker, so a page never shows data older than the last publish.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salescast.dashboard import accuracy, history, search, series
from salescast.dashboard.history import SalesIndex
from salescast.dashboard.jsonable import clean
from salescast.dashboard.tables import KEY, RunTable, TableCache
from salescast.lake import CENSORED, EXPORTS, FORECASTS, METRICS, RUN_DRIVERS, SAFETY_STOCK, SALES_DAILY, Dataset, Lake

SORTS = {
    "volume": ("volume", False),
    "wql": ("mean_wql", True),
    "wape": ("wape", True),
    "safety_stock": ("safety_stock", False),
    "series": ("store_id", True),
}


@dataclass
class Snapshot:
    """The markers of every dataset the pages read, listed once per request."""

    sales: dict[str, str]
    runs: dict[str, dict[str, str]]  # dataset folder -> run_date -> stamp

    def run_dates(self) -> list[str]:
        return list(self.runs[FORECASTS.folder])

    def stamp(self, dataset: Dataset, run_date: str | None) -> str | None:
        return self.runs[dataset.folder].get(run_date) if run_date else None


class DashboardStore:
    """One per lake and api-server process; thread-safe (FastAPI runs sync routes in threads)."""

    def __init__(self, lake: Lake, drivers_mapping: str | None = None) -> None:
        self.lake = lake
        self.drivers_mapping = drivers_mapping  # the api-server's SALESCAST_DRIVERS_MAPPING
        self.tables = TableCache(lake)
        self._sales: SalesIndex | None = None
        self._sales_lock = threading.Lock()
        self._series: tuple[tuple, pd.DataFrame] | None = None
        self._accuracy: OrderedDict[str, tuple[tuple, pd.DataFrame]] = OrderedDict()
        self._days: OrderedDict[str, tuple[str, pd.DataFrame]] = OrderedDict()
        self._targets: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    # ---- markers and cached reads ---------------------------------------------------
    def snapshot(self) -> Snapshot:
        datasets = (FORECASTS, METRICS, SAFETY_STOCK, RUN_DRIVERS, CENSORED)
        runs = {d.folder: self.lake.published_stamps(d) for d in datasets}
        return Snapshot(self.lake.published_stamps(SALES_DAILY), runs)

    def sales(self, snap: Snapshot) -> SalesIndex:
        with self._sales_lock:  # one refresh at a time; the others then find it done
            self._sales = history.refresh(self._sales, self.lake, snap.sales)
            return self._sales

    def warm(self) -> None:
        """Read what a first series page needs (the sales index, the latest run's tables) so
        the first user does not wait for it; called when the api-server starts."""
        snap = self.snapshot()
        self.series_table(snap)
        latest = snap.run_dates()[-1] if snap.run_dates() else None
        if latest:
            self.table(snap, FORECASTS, latest)

    def table(self, snap: Snapshot, dataset: Dataset, run_date: str) -> RunTable | None:
        stamp = snap.stamp(dataset, run_date)
        if stamp is None:
            return None
        try:
            return self.tables.get(dataset, run_date, stamp)
        except FileNotFoundError:  # unpublished between the listing and the read
            return None

    def sales_day(self, value: str, stamp: str) -> pd.DataFrame | None:
        with self._lock:
            cached = self._days.get(value)
        if cached and cached[0] == stamp:
            return cached[1]
        frame = history.read_sales_day(self.lake, value)
        if frame is not None:
            frame["date"] = pd.to_datetime(frame["date"])
            with self._lock:
                self._days[value] = (stamp, frame)
                while len(self._days) > 64:
                    self._days.popitem(last=False)
        return frame

    # ---- pages -----------------------------------------------------------------------
    def runs(self) -> dict[str, Any]:
        """Published run dates, and those with a planner export (a run published before runs
        wrote exports has none: the page offers no download for it)."""
        snap = self.snapshot()
        dates = snap.run_dates()
        exported = [d for d in self.lake.published_stamps(EXPORTS) if d in snap.runs[FORECASTS.folder]]
        return {
            "run_dates": dates,
            "latest": dates[-1] if dates else None,
            "sales_days": len(snap.sales),
            "exports": exported,
        }

    def series_table(self, snap: Snapshot) -> tuple[pd.DataFrame, str | None]:
        """Every series with its volume and the latest run's model, scores and safety stock."""
        latest = snap.run_dates()[-1] if snap.run_dates() else None
        key = (tuple(snap.sales.items()), latest, *(snap.stamp(d, latest) for d in (METRICS, SAFETY_STOCK)))
        with self._lock:
            if self._series and self._series[0] == key:
                return self._series[1], latest
        frame = self._build_series_table(snap, latest)
        with self._lock:
            self._series = (key, frame)
        return frame, latest

    def _build_series_table(self, snap: Snapshot, latest: str | None) -> pd.DataFrame:
        sales = self.sales(snap)
        counts = np.diff(sales.offsets)
        frame = pd.DataFrame(
            {
                "store_id": sales.registry.stores[: sales.n_series],
                "item_id": sales.registry.items[: sales.n_series],
                "volume": sales.volumes(),
                "days_sold": counts,
            }
        )[counts > 0]
        metrics = self.table(snap, METRICS, latest) if latest else None
        if metrics is not None and not metrics.frame.empty:
            chosen = metrics.frame[metrics.frame["chosen"].astype(bool)]
            frame = frame.merge(chosen[[*KEY, "model", "mean_wql", "wape", "coverage"]], how="left", on=KEY)
        safety = self.table(snap, SAFETY_STOCK, latest) if latest else None
        if safety is not None and not safety.frame.empty:
            frame = frame.merge(safety.frame[[*KEY, "safety_stock", "reorder_point"]], how="left", on=KEY)
        for column in ("model", "mean_wql", "wape", "coverage", "safety_stock", "reorder_point"):
            if column not in frame.columns:
                frame[column] = None
        return frame.reset_index(drop=True)

    def series_list(
        self, filters: dict[str, str | None], sort: str, descending: bool | None, limit: int, offset: int
    ) -> dict[str, Any]:
        frame, latest = self.series_table(self.snapshot())
        frame = frame[search.series_mask(frame["store_id"], frame["item_id"], filters)]
        column, ascending = SORTS[sort]
        ascending = ascending if descending is None else not descending
        frame = frame.sort_values(
            [column, "store_id", "item_id"], ascending=[ascending, True, True], na_position="last"
        )
        page = frame.iloc[offset : offset + limit]
        return clean(
            {
                "run_date": latest,
                "total": len(frame),
                "offset": offset,
                "limit": limit,
                "sort": sort,
                "series": page.astype(object).where(page.notna(), None).to_dict("records"),
            }
        )

    def series_detail(
        self, store_id: str, item_id: str, run_date: str | None, drivers_mapping: str | None = None
    ) -> dict[str, Any]:
        """One series' page; the drivers mapping (``drivers_mapping``, else the store's) says which
        drivers are flags, else their values do."""
        snap = self.snapshot()
        run_dates = snap.run_dates()
        chosen = series.choose_run(run_dates, run_date)
        datasets = (FORECASTS, SAFETY_STOCK, METRICS, RUN_DRIVERS)  # forecast_drivers: only with drivers on
        tables = {dataset: self.table(snap, dataset, chosen) if chosen else None for dataset in datasets}
        scored = self.latest_scored_run(snap)
        kinds = declared_kinds(drivers_mapping if drivers_mapping is not None else self.drivers_mapping)
        return series.detail(store_id, item_id, run_dates, chosen, scored, self.sales(snap), tables, kinds)

    def accuracy(self) -> dict[str, Any]:
        snap = self.snapshot()
        per_run = {}
        newest = max(snap.runs[CENSORED.folder], default=None)  # the newest run with drivers: its censored days
        censored = self.table(snap, CENSORED, newest) if newest else None
        for run_date in snap.run_dates():
            sums = self._run_accuracy(snap, run_date, censored)
            if sums is not None:
                per_run[run_date] = sums
        with self._lock:  # forget runs that are no longer published
            for gone in set(self._accuracy) - set(per_run):
                del self._accuracy[gone]
        return clean(accuracy.table(per_run) | {"run_dates": snap.run_dates()})

    def _run_accuracy(self, snap: Snapshot, run_date: str, censored: RunTable | None) -> pd.DataFrame | None:
        """One run's sums, cached on its forecast marker, its target days' sales markers and
        the censored days' marker."""
        horizon = self._target_days(snap, run_date)
        if horizon is None:
            return None
        targets = [d for d in horizon if d in snap.sales]
        unknown = censored.frame if censored is not None else None
        key = (
            snap.stamp(FORECASTS, run_date),
            tuple((d, snap.sales[d]) for d in targets),
            censored.stamp if censored else None,
        )

        def compute() -> pd.DataFrame | None:
            table = self.table(snap, FORECASTS, run_date)
            if table is None:
                return None
            days = [frame for d in targets if (frame := self.sales_day(d, snap.sales[d])) is not None]
            actuals = pd.concat(days, ignore_index=True) if days else pd.DataFrame(columns=history.COLUMNS)
            return accuracy.run_sums(table.frame[table.frame["date"].isin(pd.to_datetime(targets))], actuals, unknown)

        return self._memo(self._accuracy, run_date, key, compute)

    def latest_scored_run(self, snap: Snapshot) -> str | None:
        """The newest run with at least one target day published: the newest run one can
        compare with what happened (the newest run's days usually all lie ahead)."""
        for run_date in reversed(snap.run_dates()):
            targets = self._target_days(snap, run_date)
            if targets and any(day in snap.sales for day in targets):
                return run_date
        return None

    def _target_days(self, snap: Snapshot, run_date: str) -> tuple[str, ...] | None:
        """A run's target days, remembered per forecast marker: a warm call reads no file."""

        def compute() -> tuple[str, ...] | None:
            table = self.table(snap, FORECASTS, run_date)
            return None if table is None else tuple(sorted(table.frame["date"].dt.strftime("%Y-%m-%d").unique()))

        return self._memo(self._targets, run_date, snap.stamp(FORECASTS, run_date), compute)

    def _memo(self, cache: dict[str, tuple[Any, Any]], name: str, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` remembered under ``name`` while ``key`` (publish markers) is unchanged;
        None (nothing published) is not remembered."""
        with self._lock:
            cached = cache.get(name)
        if cached and cached[0] == key:
            return cached[1]
        value = compute()
        if value is not None:
            with self._lock:
                cache[name] = (key, value)
        return value


def declared_kinds(mapping: str | None) -> dict[str, str] | None:
    """Driver name -> ``flag`` or ``number`` as the drivers mapping declares them; None without
    a mapping (or one that no longer loads: the chart then goes by the values)."""
    if not mapping:
        return None
    from salescast.driver_mapping import DriverMapping, MappingError

    try:
        return {name: spec.kind for name, spec in DriverMapping.load(mapping).drivers.items()}
    except MappingError:
        return None


_STORES: dict[tuple[str, str | None, str | None], DashboardStore] = {}
_STORES_LOCK = threading.Lock()


def store_for(lake_uri: str, conn_id: str | None, drivers_mapping: str | None = None) -> DashboardStore:
    """The process's store for a lake (settings may point the api-server at another lake)."""
    key = (lake_uri, conn_id, drivers_mapping)
    with _STORES_LOCK:
        found = _STORES.get(key)
        if found is None:
            found = _STORES[key] = DashboardStore(Lake(lake_uri, conn_id), drivers_mapping)
        return found
