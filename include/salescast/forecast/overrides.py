"""Planners' overrides applied to a run's statistical forecast: the final forecast.

An override (``curated/overrides``, :mod:`salescast.forecast.overrides_asof`) names a reach
(``store_id``, ``item_id``; ``*`` = every store or item), a target-date range and a change:
``set`` the p50 to a value, ``add`` units, or change by ``pct`` percent. The statistical table
is never touched; the final table is the statistical one with each row's winning override
applied and named (``override_id`` traces it to its delivery, file and line).

Which override wins for a series and target day, when several reach it: the most specific
reach (``S, I`` over ``*, I`` over ``S, *`` over ``*, *``, the drivers' rule: what a planner
said about this item in this store says more than a chain-wide change), then the latest
delivery (a planner's later word replaces the earlier one), then the override id (a fixed
order; one delivery cannot hold two overlapping overrides for one reach, the ingest refuses
them). One override applies per row: overrides do not stack, so a row's final value is always
explained by exactly one row of the feed.

How the band moves with the median: ``set`` scales every quantile (and the mean) by the ratio
of the new p50 to the statistical one, so the band keeps its relative width (a set on a series
forecast at zero makes every quantile the set value); ``add`` shifts them all by the units
added; ``pct`` scales them all. Quantiles stay at or above zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

EVERY = "*"
KINDS = ("set", "add", "pct")
TRACE = ["override_id", "override_kind", "override_value", "override_author", "override_reason"]
_EXAMPLES = 5


@dataclass
class OverrideReport:
    """What the overrides did to one run (the run summary's ``overrides``)."""

    considered: int = 0  # overrides as of the run date, not expired
    applied: int = 0  # overrides that won at least one row
    rows_changed: int = 0  # final rows that differ from the statistical ones
    series_changed: int = 0
    not_applied: dict[str, int] = field(default_factory=dict)  # reason -> overrides
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason -> a few override ids

    def skip(self, reason: str, override_id: str) -> None:
        self.not_applied[reason] = self.not_applied.get(reason, 0) + 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < _EXAMPLES:
            shown.append(override_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "considered": self.considered,
            "applied": self.applied,
            "rows_changed": self.rows_changed,
            "series_changed": self.series_changed,
            "not_applied": dict(sorted(self.not_applied.items())),
            "examples": dict(sorted(self.examples.items())),
        }


NO_SERIES = "no series of the run in its reach (unknown store or item)"
OUTSIDE = "its dates are outside the run's horizon"
OUTRANKED = "a more specific or later override wins every row it reaches"


def _specificity(overrides: pd.DataFrame) -> np.ndarray:
    """0 for ``*, *`` up to 3 for ``S, I``: an explicit item counts more than an explicit store."""
    return (overrides["item_id"] != EVERY).to_numpy() * 2 + (overrides["store_id"] != EVERY).to_numpy()


def winners(forecasts: pd.DataFrame, overrides: pd.DataFrame, report: OverrideReport) -> np.ndarray:
    """For each forecast row, the position in ``overrides`` of the override that applies (-1:
    none); an override that reaches no row, or wins none, is counted in ``report`` with the reason."""
    won = np.full(len(forecasts), -1)
    if overrides.empty:
        return won
    reached = []
    order = np.lexsort(
        (overrides["override_id"].to_numpy(), overrides["asof"].to_numpy(), _specificity(overrides))
    )  # ascending precedence: a later one overwrites an earlier one's rows
    stores, items = forecasts["store_id"].to_numpy(), forecasts["item_id"].to_numpy()
    dates = pd.to_datetime(forecasts["date"]).to_numpy()
    for at in order:
        row = overrides.iloc[at]
        reach = np.ones(len(forecasts), dtype=bool)
        if row["store_id"] != EVERY:
            reach &= stores == row["store_id"]
        if row["item_id"] != EVERY:
            reach &= items == row["item_id"]
        if not reach.any():
            report.skip(NO_SERIES, row["override_id"])
            continue
        within = reach & (dates >= np.datetime64(row["date_from"])) & (dates <= np.datetime64(row["date_to"]))
        if not within.any():
            report.skip(OUTSIDE, row["override_id"])
            continue
        won[within] = at
        reached.append(at)
    for at in sorted(set(reached) - set(won.tolist())):
        report.skip(OUTRANKED, overrides["override_id"].iloc[at])
    return won


def apply_overrides(
    forecasts: pd.DataFrame, overrides: pd.DataFrame, quantiles: Sequence[str], median: str
) -> tuple[pd.DataFrame, OverrideReport]:
    """The final table (``forecasts`` with the winning override of each row applied and named
    in the ``override_*`` columns, null where none applies) and what was done. ``quantiles``:
    the quantile columns; ``median``: the one ``set`` sets."""
    report = OverrideReport(considered=len(overrides))
    overrides = overrides.reset_index(drop=True)
    won = winners(forecasts, overrides, report)
    final = forecasts.copy()
    for column in TRACE:  # typed even when all empty, so every partition has one Parquet schema
        final[column] = pd.Series(pd.NA, index=final.index, dtype="string")
    final["override_value"] = np.nan
    hit = won >= 0
    if hit.any():
        chosen = overrides.iloc[won[hit]]
        columns = [*quantiles, "mean"]
        values = final.loc[hit, columns].to_numpy(dtype=float)
        kind, value = chosen["kind"].to_numpy(), chosen["value"].to_numpy(dtype=float)
        old = final.loc[hit, median].to_numpy(dtype=float)
        ratio = np.where(old > 0, value / np.where(old > 0, old, 1.0), np.nan)
        changed = np.where(
            (kind == "set")[:, None],
            np.where(np.isnan(ratio)[:, None], value[:, None], values * ratio[:, None]),
            np.where((kind == "add")[:, None], values + value[:, None], values * (1 + value[:, None] / 100)),
        )
        final.loc[hit, columns] = np.clip(changed, 0, None)
        for column, source in zip(TRACE, ["override_id", "kind", "value", "author", "reason"], strict=True):
            final.loc[hit, column] = chosen[source].to_numpy()
        final["override_value"] = final["override_value"].astype(float)
    report.applied = len(set(won[hit].tolist()))
    differs = ~np.isclose(final[list(quantiles)].to_numpy(float), forecasts[list(quantiles)].to_numpy(float)).all(1)
    report.rows_changed = int(differs.sum())
    report.series_changed = int(final.loc[differs, ["store_id", "item_id"]].drop_duplicates().shape[0])
    return final, report
