"""From canonical daily rows to the dense series x period matrix every model reads.

Missing periods are zero sales; a series starts at its first sale. Days that were never
published, and days an expected store sent nothing (salescast.deliveries), are unknown, not
zero: they are imputed. Weekly and monthly panels hold complete periods only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salescast.contracts import ForecastInputError, normalize_freq, period_alias

REQUIRED = ("date", "store_id", "item_id", "units")
# The panel's series keys and days -> (censored, exposure) of every series and day, or None:
# days of unknown demand and each kept day's available fraction (salescast.forecast.drivers).
Censor = Callable[[pd.DataFrame, pd.DatetimeIndex], "tuple[np.ndarray, np.ndarray] | None"]


def _impute_unknown(values: np.ndarray, unknown: np.ndarray, season: int, chain: bool = False) -> None:
    """Cells with no data (a day not published, or a store whose file was missing that day:
    ``unknown``, series x day) are unknown, not zero sales: each is filled from the same
    weekday a week earlier (or later at the start, or a neighbouring day) where that cell is
    known, in place.

    ``chain`` (drivers' censored days: a stock-out can last weeks) counts a filled cell as
    known for the days after it (``unknown`` is changed in place), so a long run carries the
    last week seen forward instead of staying at the zeros recorded in its middle."""
    for col in np.flatnonzero(unknown.any(axis=0)):
        rows = np.flatnonzero(unknown[:, col])
        for source in (col - season, col + season, col - 1, col + 1):
            if not rows.size:
                break
            if 0 <= source < values.shape[1]:
                known = ~unknown[rows, source]
                values[rows[known], col] = values[rows[known], source]
                if chain:
                    unknown[rows[known], col] = False
                rows = rows[~known]


@dataclass
class Panel:
    """Series x periods: dense values, each series' first sale, how many days were imputed."""

    keys: pd.DataFrame  # store_id, item_id
    dates: pd.DatetimeIndex
    values: np.ndarray  # [series, periods]
    first: np.ndarray  # index of each series' first non-zero period
    imputed_days: int = 0
    censored: np.ndarray | None = None  # [series, periods]: unknown demand (drivers), else None
    censored_days: np.ndarray | None = None  # [series]: days of unknown demand (drivers), else None


def _partial_span(
    days: pd.Series, freq: str, last: pd.Timestamp, daily: bool
) -> dict[str, dict[str, Any] | None] | None:
    """The first and last period of a weekly or monthly panel when the days cover them only in part.

    ``days`` are the history's (normalised) dates up to ``last``, the day it is known through.
    Returns None when the rows are already one per period (every date on the same day of its
    week or month: weekly totals dated Monday, monthly totals dated the 1st or month end), as
    each then stands for its whole period; ``daily`` (the published days are known) skips that
    test. Otherwise ``{"leading": ..., "trailing": ...}``, each None or the partial period."""
    period = period_alias(freq)
    distinct = pd.DatetimeIndex(days.unique())
    spans = distinct.to_period(period)
    starts, ends = spans.start_time.normalize(), spans.end_time.normalize()
    if not daily and ((distinct - starts).nunique() == 1 or (ends - distinct).nunique() == 1):
        return None
    first = distinct.min()
    head, tail = first.to_period(period), last.to_period(period)

    def entry(span: pd.Period, seen_from: pd.Timestamp, seen_to: pd.Timestamp) -> dict[str, Any] | None:
        start, end = span.start_time.normalize(), span.end_time.normalize()
        seen_from, seen_to = max(seen_from, start), min(seen_to, end)
        if seen_from == start and seen_to == end:
            return None
        return {
            "period_end": f"{end:%Y-%m-%d}",
            "first_day": f"{seen_from:%Y-%m-%d}",
            "last_day": f"{seen_to:%Y-%m-%d}",
            "days_seen": (seen_to - seen_from).days + 1,
            "days_in_period": (end - start).days + 1,
        }

    return {"leading": entry(head, first, last), "trailing": entry(tail, first, last)}


def partial_periods(
    history: pd.DataFrame,
    freq: str,
    end: pd.Timestamp | None = None,
    known_days: pd.DatetimeIndex | None = None,
) -> dict[str, dict[str, Any] | None]:
    """Which partial first and last period :func:`build_panel` leaves out (for run summaries).

    Daily rows that start after a weekly or monthly period's first day, or end (at ``end``,
    else at the last row) before its last day, saw that period only in part: summed, it would
    read as a period of low sales. Each entry is None or the period's end, the first and last
    day of it in the history, the days seen and the days it has."""
    freq = normalize_freq(freq)
    dates = pd.Series(pd.to_datetime(pd.Series(history["date"].unique()), errors="coerce").dropna())
    dates = dates.dt.normalize()
    last = pd.Timestamp(end).normalize() if end is not None else (dates.max() if len(dates) else None)
    dates = dates[dates <= last] if last is not None else dates
    span = None if freq == "D" or dates.empty else _partial_span(dates, freq, last, known_days is not None)
    return span or {"leading": None, "trailing": None}


def _clean_history(history: pd.DataFrame, end: pd.Timestamp | None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The canonical columns, typed and checked, up to ``end``; and the last day."""
    missing = [c for c in REQUIRED if c not in history.columns]
    if missing:
        raise ForecastInputError(f"history is missing columns {missing}; it needs {list(REQUIRED)}")
    frame = history[list(REQUIRED)]  # copy-on-write: the caller's frame is never changed
    frame["date"] = _parse_dates(frame["date"])
    frame["units"] = pd.to_numeric(frame["units"], errors="coerce")
    bad = frame["date"].isna() | frame["units"].isna() | frame["store_id"].isna() | frame["item_id"].isna()
    if bad.any():
        raise ForecastInputError(f"{int(bad.sum())} history rows have a missing or unparseable date/id/units")
    if frame.empty:
        raise ForecastInputError("history is empty")
    frame["store_id"] = _as_text(frame["store_id"])
    frame["item_id"] = _as_text(frame["item_id"])
    last = pd.Timestamp(end) if end is not None else frame["date"].max()
    later = frame["date"] > last
    return (frame[~later] if later.any() else frame), last


def _as_text(ids: pd.Series) -> pd.Series:
    """Ids as text. Categorical ids (a Parquet dictionary) stay categorical, their categories
    as text in text order (the order of the panel's rows): no string per row is made."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        names = ids.cat.categories.astype(str)
        if names.is_unique:
            return ids.cat.rename_categories(names).cat.reorder_categories(names.sort_values())
    return ids.astype(str)


def _parse_dates(column: pd.Series) -> pd.Series:
    """``pd.to_datetime(column, errors="coerce")``, parsing each distinct value once: a
    history repeats every day once per series (7.3 M date objects, 730 distinct)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return pd.to_datetime(column, errors="coerce")
    codes, uniques = pd.factorize(column)
    parsed = pd.DatetimeIndex(pd.to_datetime(pd.Series(uniques, dtype=object), errors="coerce"))
    return pd.Series(parsed.take(codes, allow_fill=True, fill_value=pd.NaT), index=column.index)


_SERIES = ["store_id", "item_id"]


def series_by_day(frame: pd.DataFrame, days: pd.DatetimeIndex) -> tuple[pd.MultiIndex, np.ndarray]:
    """Sum of units per series (sorted by store, then item) and day of ``days``; 0 elsewhere.

    What ``pivot_table(index=series, columns=date, aggfunc="sum").reindex(columns=days)``
    gives (rows dated off the grid, e.g. at another time of day, count for no day), built
    from integer codes: the pivot of string keys peaked at 1.6 GB and took 17 s for
    10,000 series x 730 days, the codes and one bincount take a few hundred MB and ~1 s."""
    # one int64 array per step, freed as the next one is built: the peak stays a few arrays
    store_codes, stores = pd.factorize(frame["store_id"], sort=True)
    cells = store_codes.astype(np.int64)
    del store_codes
    item_codes, items = pd.factorize(frame["item_id"], sort=True)
    cells *= len(items)
    cells += item_codes
    del item_codes
    row_series, series = pd.factorize(cells, sort=True)
    del cells
    column = days.get_indexer(frame["date"])  # exact timestamps, as reindex matches them; -1 off the grid
    on_grid = column >= 0
    np.multiply(row_series, len(days), out=row_series)
    row_series += column
    del column
    units = frame["units"].to_numpy(dtype=float)
    if not on_grid.all():
        row_series, units = row_series[on_grid], units[on_grid]
    values = np.bincount(row_series, weights=units, minlength=len(series) * len(days))
    values = values.reshape(len(series), len(days))
    index = pd.MultiIndex.from_arrays(
        [np.asarray(stores)[series // len(items)], np.asarray(items)[series % len(items)]], names=_SERIES
    )
    return index, values


def _censor_days(
    values: np.ndarray, index: pd.MultiIndex, days: pd.DatetimeIndex, censor: Censor | None
) -> np.ndarray | None:
    """Days of unknown demand from the drivers (from each series' first sale on: before it the
    item was not sold yet, not out of stock); kept, partly available days are scaled up to the
    whole day in place (salescast.forecast.drivers). None when the drivers say nothing."""
    found = censor(index.to_frame(index=False).astype(str), days) if censor is not None else None
    if found is None:
        return None
    censored, exposure = found
    started = np.cumsum(values != 0, axis=1) > 0
    censored &= started
    np.divide(values, exposure, out=values, where=started & (exposure < 1))
    return censored


def _daily_grid(
    frame: pd.DataFrame,
    last: pd.Timestamp,
    known_days: pd.DatetimeIndex | None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
    censor: Censor | None = None,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, np.ndarray, int, np.ndarray | None]:
    """Series x day sums from the first day to ``last`` (and those days); unknown days, the
    days a store's file was missing (``unknown_store_days``: ISO day -> store ids) and the
    censored days of the drivers (``censor``, returned) imputed.

    ``wide`` has the series as its (sorted) index and no columns: the sums are ``values``."""
    days = pd.date_range(frame["date"].min(), last, freq="D")
    index, values = series_by_day(frame, days)
    wide = pd.DataFrame(index=index)
    imputed = 0
    censored = _censor_days(values, index, days, censor)
    unknown = None
    if known_days is not None:
        unknown_days = ~days.isin(pd.DatetimeIndex(known_days).normalize())
        imputed = int(unknown_days.sum())
        unknown = np.zeros(values.shape, dtype=bool)
        unknown[:, unknown_days] = True
        stores = index.get_level_values("store_id").astype(str)
        for day, missing in (unknown_store_days or {}).items():
            at = days.get_indexer([pd.Timestamp(day)])[0]
            if at >= 0:
                unknown[stores.isin(list(missing)), at] = True
    if censored is not None:
        unknown = censored.copy() if unknown is None else unknown | censored
    if unknown is not None:
        _impute_unknown(values, unknown, 7, chain=censored is not None)
    return wide, days, values, imputed, censored


# A week or month with at least this share of censored days is itself censored (left out of
# scores): its sum is then more imputation than observation. With fewer, the imputed days stand
# in for the missing ones and the period is scored.
CENSORED_PERIOD_SHARE = 0.5


def _period_grid(
    frame: pd.DataFrame,
    freq: str,
    last: pd.Timestamp,
    known_days: pd.DatetimeIndex | None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
    censor: Censor | None = None,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, int, dict[str, Any] | None, pd.DataFrame | None, np.ndarray | None]:
    """Series x complete week or month sums (days imputed first when some are unknown or
    censored); with ``censor``, also the censored periods and each series' censored days."""
    period = period_alias(freq)
    span = _partial_span(frame["date"], freq, last, known_days is not None)
    ends = frame["date"].dt.to_period(period).dt.end_time.dt.normalize()
    imputed = 0
    censored, censored_days = None, None
    if known_days is None and censor is None:
        wide = frame.assign(date=ends).pivot_table(index=_SERIES, columns="date", values="units", aggfunc="sum")
    else:  # unknown days are imputed on the daily grid first, then summed into periods
        wide, days, daily, imputed, by_day = _daily_grid(frame, last, known_days, unknown_store_days, censor)
        day_ends = days.to_period(period).end_time.normalize()
        cuts = np.flatnonzero(np.r_[True, day_ends[1:] != day_ends[:-1]])
        wide = pd.DataFrame(np.add.reduceat(daily, cuts, axis=1), index=wide.index, columns=day_ends[cuts])
        if by_day is not None:
            share = np.add.reduceat(by_day.astype(float), cuts, axis=1) / np.diff(np.r_[cuts, len(days)])
            censored = pd.DataFrame(share >= CENSORED_PERIOD_SHARE, index=wide.index, columns=wide.columns)
            censored_days = by_day.sum(axis=1)
    dates = pd.date_range(ends.min(), last.to_period(period).end_time.normalize(), freq=freq)
    if span is not None:
        dates = dates[int(span["leading"] is not None) : len(dates) - int(span["trailing"] is not None)]
        if dates.empty:
            raise ForecastInputError(
                f"history covers no complete period of {freq}: its days from {frame['date'].min():%Y-%m-%d} "
                f"to {last:%Y-%m-%d} fill no whole week or month, and a partial one would read as low sales. "
                "Give daily rows for at least one whole period, or forecast daily (freq D)"
            )
    if censored is not None:
        censored = censored.reindex(columns=dates, fill_value=False)
    return wide.reindex(columns=dates, fill_value=0.0).fillna(0.0), dates, imputed, span, censored, censored_days


def _launch_starts(
    first: np.ndarray, frame: pd.DataFrame, wide: pd.DataFrame, dates: pd.DatetimeIndex, freq: str
) -> None:
    """A series launched mid-period starts at its first complete period (``first`` in place)."""
    period = period_alias(freq)
    nonzero = wide.to_numpy(dtype=float) != 0
    kept = frame[(frame["date"] >= dates[0].to_period(period).start_time) & (frame["units"] != 0)]
    launch = kept.groupby(_SERIES)["date"].min()
    launch = launch[launch > dates[0]]  # first sale after the first period: launched in the history
    launch = launch[launch != launch.dt.to_period(period).dt.start_time]
    for row, day in zip(wide.index.get_indexer(launch.index), launch, strict=True):
        at = first[row]
        launched_in = day.to_period(period).end_time.normalize()
        if at < len(dates) and dates[at] == launched_in and nonzero[row, at + 1 :].any():
            first[row] = at + 1


def build_panel(
    history: pd.DataFrame,
    freq: str = "D",
    end: pd.Timestamp | None = None,
    known_days: pd.DatetimeIndex | None = None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
    censor: Censor | None = None,
) -> Panel:
    """Dense series x period matrix; zeros where a known day has no row for a series.

    ``known_days`` lists the days whose data exist (published partitions); other days in the
    range are imputed instead of being read as zero sales. Without it every day counts.
    ``unknown_store_days`` (ISO day -> store ids, salescast.deliveries) marks the days a store
    sent nothing though it was expected: its series are imputed on those days too.

    Weekly and monthly panels sum the days (imputed ones included) and hold complete periods
    only: a first or last period the days cover in part (:func:`partial_periods`) is left out,
    so the panel ends at the last complete period and the forecast's horizon step 1 is the
    current, partial one (``_target_dates``). A series launched mid-period starts at its first
    complete period.

    ``censor`` gives the days of unknown demand from the drivers: they are imputed as unknown
    days are; ``Panel.censored`` marks the censored periods (a week or month with at least
    CENSORED_PERIOD_SHARE of its days censored), ``Panel.censored_days`` counts the days."""
    frame, last = _clean_history(history, end)
    freq = normalize_freq(freq)
    span = None
    censored, censored_days = None, None
    if freq == "D":
        wide, dates, values, imputed, censored = _daily_grid(frame, last, known_days, unknown_store_days, censor)
        censored_days = None if censored is None else censored.sum(axis=1)
    else:
        frame["date"] = frame["date"].dt.normalize()
        wide, dates, imputed, span, by_period, censored_days = _period_grid(
            frame, freq, last.normalize(), known_days, unknown_store_days, censor
        )
        values = wide.to_numpy(dtype=float)
        censored = None if by_period is None else by_period.to_numpy()
    nonzero = values != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), values.shape[1])
    if span is not None:
        _launch_starts(first, frame, wide, dates, freq)
    keys = wide.index.to_frame(index=False).astype(str)  # text, whatever the ids' dtype
    return Panel(keys, dates, values, first, imputed, censored, censored_days)


def target_dates(last: pd.Timestamp, horizon: int, freq: str) -> pd.DatetimeIndex:
    """The ``horizon`` periods after ``last``: what the forecast's steps are dated."""
    return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
