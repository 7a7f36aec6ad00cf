"""Demand drivers (Amazon Forecast's *related time series*): the table, its rules, and its
alignment to the engine's panel.

A drivers table has ``date, store_id, item_id`` and one numeric column per driver. ``*`` as
``store_id`` or ``item_id`` means every store or every item: weather per store is
``S01, *``, a public event ``*, *``, a price ``S01, I7``. Where rows of different reach give
the same driver for the same day and series, the more specific row wins: ``S, I`` over
``*, I`` over ``S, *`` over ``*, *`` (an item's own price or promotion says more about its
demand than a store-wide or chain-wide value). An empty cell says nothing and overrides
nothing; two rows of the same reach that give one driver different values for the same day
and series are an error (rows giving different drivers, e.g. two files, combine).

Two names have a fixed meaning: ``in_stock`` (fraction of the day the item could be bought,
0..1) and ``store_open`` (0/1). Every other column is a regressor: *known ahead* where it has
values through the whole horizon (prices, promotions, events, a weather forecast), *past
only* otherwise (the engine has no lagged-driver model yet, so past-only columns are reported
and not used).

Censored demand: recorded sales on a day the item could not be bought say how much stock
there was, not how much was wanted. A day with ``store_open = 0`` or ``in_stock`` below
:data:`CENSOR_BELOW` is *unknown demand* (imputed like an unpublished day, left out of every
score and error). A partly available day at or above it is kept, its sales divided by
``in_stock``: demand spread over the day's opening hours was seen for that fraction of them,
and dividing by the exposure is the estimate of the whole day's demand (the rate estimate of
a Poisson count seen for part of the time). Below one half the division more than doubles
the day's noise and leans most on demand being spread evenly over the day, so such a day is
better imputed from the same weekday a week earlier than guessed from a sliver of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescast.contracts import ForecastInputError

KEYS = ("date", "store_id", "item_id")
EVERY = "*"
IN_STOCK = "in_stock"
STORE_OPEN = "store_open"
AVAILABILITY = (IN_STOCK, STORE_OPEN)
CENSOR_BELOW = 0.5  # in_stock below this: the day's demand is unknown (see the module docstring)

# Rows of each reach, least specific first: a later one overwrites an earlier one's values.
_REACH = ((True, True), (False, True), (True, False), (False, False))  # (store is *, item is *)


@dataclass(frozen=True)
class SeriesDrivers:
    """What one series of the panel gets from the drivers (arrays from its first period on).

    ``censored``: periods of unknown demand (left out of scores, calibration and safety-stock
    errors); ``regressors``: known-ahead drivers over the series plus the horizon, one column
    each (None: forecast without drivers); ``names``: those columns."""

    censored: np.ndarray | None = None
    regressors: np.ndarray | None = None
    names: tuple[str, ...] = ()


def prepare(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table with typed keys and numeric drivers, and the driver names; a clear error for
    a table the engine cannot read."""
    missing = [c for c in KEYS if c not in frame.columns]
    if missing:
        raise ForecastInputError(f"drivers are missing columns {missing}; they need {list(KEYS)} plus driver columns")
    names = [str(c) for c in frame.columns if c not in KEYS]
    if not names:
        raise ForecastInputError("drivers have no driver column besides date, store_id, item_id")
    out = pd.DataFrame({"date": pd.to_datetime(frame["date"], errors="coerce")})
    if out["date"].isna().any():
        raise ForecastInputError(f"{int(out['date'].isna().sum())} drivers rows have a missing or unparseable date")
    out["date"] = out["date"].dt.normalize()
    for key in ("store_id", "item_id"):
        if frame[key].isna().any():
            raise ForecastInputError(f"{int(frame[key].isna().sum())} drivers rows have no {key} (use * for every)")
        out[key] = frame[key].astype(str).to_numpy()
    for name in names:
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            example = frame.loc[bad, name].iloc[0]
            raise ForecastInputError(f"driver {name!r} is not numeric: {int(bad.sum())} rows like {example!r}")
        out[name] = values.astype(float).to_numpy()
    _check_ranges(out)
    return out, names


def _check_ranges(frame: pd.DataFrame) -> None:
    if IN_STOCK in frame and not frame[IN_STOCK].dropna().between(0, 1).all():
        raise ForecastInputError("driver in_stock must be a fraction of the day between 0 and 1")
    if STORE_OPEN in frame and not frame[STORE_OPEN].dropna().isin([0.0, 1.0]).all():
        raise ForecastInputError("driver store_open must be 0 (closed) or 1 (open)")


def align(
    frame: pd.DataFrame, names: Sequence[str], keys: pd.DataFrame, days: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    """Each driver as a ``[series, days]`` matrix for the panel's ``keys`` (store_id, item_id)
    and ``days``; NaN where no row gives a value. Rows for stores, items or days outside the
    panel are ignored; two rows of the same reach giving a driver different values for the same
    day and series are an error."""
    out = {name: np.full((len(keys), len(days)), np.nan) for name in names}
    series = pd.DataFrame({"store_id": keys["store_id"].astype(str).to_numpy(),
                           "item_id": keys["item_id"].astype(str).to_numpy(), "row": np.arange(len(keys))})  # fmt: skip
    for store_every, item_every in _REACH:
        part = frame[(frame["store_id"] == EVERY) == store_every]
        part = part[(part["item_id"] == EVERY) == item_every]
        part = part.assign(col=days.get_indexer(part["date"]))
        part = part[part["col"] >= 0]
        if part.empty:
            continue
        on = [k for k, every in (("store_id", store_every), ("item_id", item_every)) if not every]
        _refuse_conflicts(part, on, names)
        if not on:  # every store and item: the day's value for every series
            for name in names:
                values, cols = part[name].to_numpy(), part["col"].to_numpy()
                given = ~np.isnan(values)
                out[name][:, cols[given]] = values[given]
            continue
        hits = part.merge(series, on=on)
        rows, cols = hits["row"].to_numpy(), hits["col"].to_numpy()
        for name in names:
            values = hits[name].to_numpy()
            given = ~np.isnan(values)
            out[name][rows[given], cols[given]] = values[given]
    return out


def _refuse_conflicts(part: pd.DataFrame, on: list[str], names: Sequence[str]) -> None:
    """Two rows of the same reach giving one driver different values for the same key are an
    error; rows that give different drivers (two files) or repeat a value are not."""
    key = ["col", *on]
    for name in names:
        given = part.loc[part[name].notna(), [*key, name, "date", "store_id", "item_id"]]
        clash = given.drop_duplicates([*key, name]).duplicated(key, keep=False)
        if clash.any():
            first = given.drop_duplicates([*key, name])[clash].iloc[0]
            raise ForecastInputError(
                f"drivers give {name} {int(clash.sum())} different values for the same (date, store_id, item_id), "
                f"e.g. {first['date']:%Y-%m-%d} store_id={first['store_id']}, item_id={first['item_id']}: "
                "give each key one value"
            )


def censoring(aligned: dict[str, np.ndarray], n_days: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(censored, exposure)`` over the first ``n_days`` (the history): days of unknown demand,
    and each kept day's available fraction (1 where nothing is known); None without
    ``in_stock`` and ``store_open``."""
    if not any(name in aligned for name in AVAILABILITY):
        return None
    shape = next(iter(aligned.values()))[:, :n_days].shape
    exposure = np.ones(shape)
    censored = np.zeros(shape, dtype=bool)
    if STORE_OPEN in aligned:
        censored |= aligned[STORE_OPEN][:, :n_days] == 0
    if IN_STOCK in aligned:
        stock = aligned[IN_STOCK][:, :n_days]
        censored |= stock < CENSOR_BELOW  # NaN compares False: no value, no censoring
        exposure = np.where(np.isnan(stock) | censored, 1.0, stock)
    return censored, exposure


def known_ahead(aligned: dict[str, np.ndarray], names: Sequence[str], n_days: int) -> tuple[list[str], list[str]]:
    """(known-ahead, past-only) regressor names: a driver with a value on every horizon day
    (the days after ``n_days``) for some series is known ahead."""
    ahead: list[str] = []
    past: list[str] = []
    for name in names:
        if name in AVAILABILITY:
            continue
        future = aligned[name][:, n_days:]
        (ahead if future.shape[1] and (~np.isnan(future)).all(axis=1).any() else past).append(name)
    return ahead, past


def fill_history(aligned: dict[str, np.ndarray], names: Sequence[str], n_days: int) -> dict[str, np.ndarray]:
    """The ``names`` drivers with their history (the first ``n_days``) filled, the horizon as
    given: a missing value is the last one before it (else the first after it: a price holds
    until it changes), and a driver with no history at all for a series is 0 (constant: no
    regressor is fit on it)."""
    out = {}
    for name in names:
        values = aligned[name].copy()
        history = values[:, :n_days]  # a view: filled in place
        for flip in (False, True):  # forward, then backward for the start
            part = history[:, ::-1] if flip else history
            seen = np.where(np.isnan(part), 0, np.arange(part.shape[1])[None, :])
            np.maximum.accumulate(seen, axis=1, out=seen)
            part[:] = np.take_along_axis(part, seen, axis=1)
        history[np.isnan(history)] = 0.0
        out[name] = values
    return out
