"""One run's drivers, from the table to what each series gets: the engine's glue around
:mod:`salescast.forecast.drivers`.

The plan aligns the drivers once, when the panel asks which days are censored (it knows the
series and days then), and keeps them for the series' regressors, the future closures and
the run summary's ``drivers`` entry. A weekly or monthly run turns the daily drivers into
periods once the panel's periods are known (:meth:`DriverPlan.to_periods`): a driver's value
for a period is its mean over the period's days (a promotion on 3 days of 7 is 3/7), missing
if a day has none; a period is closed when every day of it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salescast.contracts import period_alias
from salescast.forecast import drivers as dv
from salescast.forecast.outcome import SeriesOutcome
from salescast.forecast.panel import Panel, target_dates


@dataclass
class DriverPlan:
    """The drivers of a run with ``horizon`` steps of ``freq`` (``frame`` and ``names``:
    :func:`drivers.prepare`)."""

    frame: pd.DataFrame
    names: list[str]
    horizon: int
    freq: str = "D"
    aligned: dict[str, np.ndarray] = field(default_factory=dict)
    n_days: int = 0  # history periods of the panel; the horizon follows them in ``aligned``
    span: pd.DatetimeIndex = field(default_factory=lambda: pd.DatetimeIndex([]))  # days of ``aligned`` (daily)
    ahead: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)
    filled: dict[str, np.ndarray] = field(default_factory=dict)  # known-ahead drivers, history filled

    @classmethod
    def from_table(cls, table: pd.DataFrame, horizon: int, freq: str = "D") -> DriverPlan:
        frame, names = dv.prepare(table)
        return cls(frame, names, horizon, freq)

    def censor(self, keys: pd.DataFrame, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray] | None:
        """The panel's hook (salescast.forecast.panel.Censor): align, then the censored days."""
        end = days[-1] if self.freq == "D" else days[-1].to_period(period_alias(self.freq)).end_time.normalize()
        last = target_dates(end, self.horizon, self.freq)[-1]  # the last day the horizon can reach
        self.span = days.append(pd.date_range(days[-1], last, freq="D")[1:])
        self.aligned = dv.align(self.frame, self.names, keys, self.span)
        self._classify(len(days))
        return dv.censoring(self.aligned, self.n_days)

    def _classify(self, n_days: int) -> None:
        self.n_days = n_days
        self.ahead, self.past = dv.known_ahead(self.aligned, self.names, self.n_days)
        self.filled = dv.fill_history(self.aligned, self.ahead, self.n_days)

    def to_periods(self, panel: Panel) -> None:
        """Weekly or monthly runs: the daily drivers as the panel's periods plus the horizon's."""
        if self.freq == "D" or not self.aligned:
            return
        periods = panel.dates.append(target_dates(panel.dates[-1], self.horizon, self.freq))
        at = periods.get_indexer(self.span.to_period(period_alias(self.freq)).end_time.normalize())
        out = {name: np.full((len(panel.keys), len(periods)), np.nan) for name in self.aligned}
        for j in range(len(periods)):
            days = at == j
            for name, daily in self.aligned.items():
                part = daily[:, days]
                if name == dv.STORE_OPEN:  # closed when every day is; open when any day is
                    known = ~np.isnan(part).all(axis=1)
                    out[name][known, j] = (np.nan_to_num(part[known], nan=1.0) != 0).any(axis=1)
                else:
                    out[name][:, j] = part.mean(axis=1) if days.any() else np.nan
        self.aligned = out
        self._classify(len(panel.dates))

    def series(self, panel: Panel, rows: Sequence[int]) -> tuple[list[dv.SeriesDrivers], Counter[str]]:
        """What each of the panel's ``rows`` gets, and why series go without their drivers.

        A series gets its known-ahead drivers only where every one of them has a value on
        every horizon day: a regressor missing in the future cannot be forecast with, and
        guessing it (the last price, no promotion) would present a guess as a plan."""
        out, without = [], Counter[str]()
        for row in rows:
            first = int(panel.first[row])
            censored = None if panel.censored is None else panel.censored[row, first:]
            regressors: np.ndarray | None = None
            names: tuple[str, ...] = ()
            if self.ahead:
                short = [n for n in self.ahead if np.isnan(self.aligned[n][row, self.n_days :]).any()]
                if short:
                    without[f"known-ahead drivers stop before the horizon: {', '.join(short)}"] += 1
                else:
                    regressors = np.column_stack([self.filled[n][row, first:] for n in self.ahead])
                    names = tuple(self.ahead)
            out.append(dv.SeriesDrivers(censored, regressors, names))
        return out, without

    def close_future(self, outcomes: Sequence[SeriesOutcome], panel: Panel) -> None:
        """Zero forecasts (p10 = p50 = p90 = mean = 0) on future days the store is closed, in place."""
        if dv.STORE_OPEN not in self.aligned:
            return
        closed = self.aligned[dv.STORE_OPEN][:, self.n_days :] == 0
        at = {key: i for i, key in enumerate(zip(panel.keys["store_id"], panel.keys["item_id"], strict=True))}
        for o in outcomes:
            shut = closed[at[(o.store_id, o.item_id)]]
            if shut.any() and o.quantiles is not None:
                o.quantiles[:, shut] = 0.0
                o.mean = np.where(shut, 0.0, o.mean)

    def summary(self, panel: Panel, rows: Sequence[int], without: Counter[str]) -> dict[str, Any]:
        """The run summary's ``drivers`` entry (merged across shards by :func:`merge_summary`)."""
        censored = 0 if panel.censored_days is None else int(panel.censored_days[list(rows)].sum())
        return {
            "known_ahead": list(self.ahead),
            "past_only_unused": list(self.past),
            "censor_below": dv.CENSOR_BELOW,
            "censored_days": censored,
            "series_with_drivers": len(rows) - sum(without.values()) if self.ahead else 0,
            "without_drivers": dict(without),
        }


def censored_days(panel: Panel, outcomes: Sequence[SeriesOutcome]) -> None:
    """Each outcome's count of censored days (the metrics' ``censored_days``), in place."""
    if panel.censored_days is None:
        return
    counts = panel.censored_days
    at = {key: i for i, key in enumerate(zip(panel.keys["store_id"], panel.keys["item_id"], strict=True))}
    for o in outcomes:
        o.censored_days = int(counts[at[(o.store_id, o.item_id)]])


def merge_summary(mine: dict[str, Any] | None, theirs: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two shards' ``drivers`` entries as one (counts added)."""
    if mine is None or theirs is None:
        return mine or theirs
    without = Counter(mine["without_drivers"]) + Counter(theirs["without_drivers"])
    return mine | {
        "censored_days": mine["censored_days"] + theirs["censored_days"],
        "series_with_drivers": mine["series_with_drivers"] + theirs["series_with_drivers"],
        "without_drivers": dict(without),
    }
