"""The bake-off: for every store x item series, backtest each candidate, keep the best.

Input is canonical daily rows (``date, store_id, item_id, units``). Missing periods are zero
sales; a series starts at its first sale, so new items have short histories. Each series
gets a rolling-origin backtest with ``windows`` windows of ``horizon`` periods; candidates
(and their equal-weight combination) are scored by mean wQL with cross-fitted calibrated
quantiles and the lowest wins. Short, all-zero or constant series get a simple model and a
recorded reason instead.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from salescast.forecast import calibration, defaults, models
from salescast.forecast import safety_stock as ss
from salescast.forecast.calendar import UnknownCountry, check_countries, holiday_matrix, period_holiday_matrix
from salescast.forecast.metrics import ScoreSums, mase_scale
from salescast.forecast.progress import Progress

REQUIRED = ("date", "store_id", "item_id", "units")
# Calibration wants at least this many residuals per series: short horizons get extra windows.
MIN_RESIDUALS = 28


class ForecastInputError(ValueError):
    """The history cannot be forecast as given; the message says what to fix."""


@dataclass(frozen=True)
class ForecastConfig:
    horizon: int = defaults.HORIZON
    freq: str = defaults.FREQ
    quantiles: tuple[float, ...] = defaults.QUANTILES
    windows: int = defaults.WINDOWS
    lead_time: int = defaults.LEAD_TIME
    service_level: float = defaults.SERVICE_LEVEL
    intermittent_zero_share: float = 0.4
    candidates: tuple[str, ...] | None = None
    holidays: tuple[str, ...] = ()  # ISO country codes whose holidays are regressors

    def __post_init__(self) -> None:
        if self.horizon < 1 or self.windows < 1:
            raise ForecastInputError("horizon and windows must be at least 1")
        if not self.quantiles or any(not 0 < q < 1 for q in self.quantiles):
            raise ForecastInputError(f"quantiles must be strictly between 0 and 1, got {self.quantiles}")
        object.__setattr__(self, "quantiles", tuple(sorted(self.quantiles)))
        object.__setattr__(self, "freq", normalize_freq(self.freq))
        try:
            object.__setattr__(self, "holidays", check_countries(self.holidays))
        except UnknownCountry as error:
            raise ForecastInputError(str(error)) from None
        if self.candidates is not None:
            unknown = set(self.candidates) - {c.name for c in models.CANDIDATES} - {models.COMBO, models.TOP}
            if unknown:
                raise ForecastInputError(f"unknown candidate models: {sorted(unknown)}")

    @property
    def backtest_windows(self) -> int:
        """``windows``, raised so that windows x horizon >= MIN_RESIDUALS (e.g. 4 for h=7)."""
        return max(self.windows, -(-MIN_RESIDUALS // self.horizon))

    @property
    def quantile_columns(self) -> list[str]:
        return [quantile_column(q) for q in self.quantiles]


def quantile_column(tau: float) -> str:
    return f"p{round(tau * 100):d}"


def normalize_freq(freq: str) -> str:
    """'D', a weekly alias such as 'W', 'W-SUN', 'W-MON', or monthly 'M' (month end)."""
    text = freq.strip().upper()
    if text == "D":
        return "D"
    if text in ("M", "ME"):
        return "ME"
    if text == "W":
        return "W-SUN"
    if text.startswith("W-") and text[2:] in {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}:
        return text
    raise ForecastInputError(f"frequency {freq!r} is not supported: use 'D', a weekly alias like 'W-SUN', or 'M'")


def season_length(freq: str, n: int) -> int:
    """Weekly cycle for daily data; yearly for weekly and monthly data once 2 years exist
    (one year to copy, one to learn from: seasonal naive keeps last year's peak from then on)."""
    if freq == "D":
        return 7
    if freq == "ME":
        return 12 if n >= 24 else 1
    return 52 if n >= 2 * 52 else 1


def periods_per_year(freq: str) -> float | None:
    """Length of the yearly cycle for Fourier terms; monthly data use seasonal dummies instead."""
    return {"D": 365.25, "ME": None}.get(freq, 365.25 / 7)


# Periods whose mean absolute sales size the residuals (calibration.level): four weeks of
# days, a quarter of weeks, a year of months (shorter would confound the season with level).
LEVEL_WINDOW = {"D": 28, "ME": 12}


def level_window(freq: str) -> int:
    return LEVEL_WINDOW.get(freq, 13)


@dataclass
class Panel:
    keys: pd.DataFrame  # store_id, item_id
    dates: pd.DatetimeIndex
    values: np.ndarray  # [series, periods]
    first: np.ndarray  # index of each series' first non-zero period
    imputed_days: int = 0


def _impute_unknown(values: np.ndarray, unknown: np.ndarray, season: int) -> None:
    """Cells with no data (a day not published, or a store whose file was missing that day:
    ``unknown``, series x day) are unknown, not zero sales: each is filled from the same
    weekday a week earlier (or later at the start, or a neighbouring day) where that cell is
    known, in place."""
    for col in np.flatnonzero(unknown.any(axis=0)):
        rows = np.flatnonzero(unknown[:, col])
        for source in (col - season, col + season, col - 1, col + 1):
            if not rows.size:
                break
            if 0 <= source < values.shape[1]:
                known = ~unknown[rows, source]
                values[rows[known], col] = values[rows[known], source]
                rows = rows[~known]


def _partial_span(
    days: pd.Series, freq: str, last: pd.Timestamp, daily: bool
) -> dict[str, dict[str, Any] | None] | None:
    """The first and last period of a weekly or monthly panel when the days cover them only in part.

    ``days`` are the history's (normalised) dates up to ``last``, the day it is known through.
    Returns None when the rows are already one per period (every date on the same day of its
    week or month: weekly totals dated Monday, monthly totals dated the 1st or month end), as
    each then stands for its whole period; ``daily`` (the published days are known) skips that
    test. Otherwise ``{"leading": ..., "trailing": ...}``, each None or the partial period."""
    period = "M" if freq == "ME" else freq
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


def _series_by_day(frame: pd.DataFrame, days: pd.DatetimeIndex) -> tuple[pd.MultiIndex, np.ndarray]:
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


def _daily_grid(
    frame: pd.DataFrame,
    last: pd.Timestamp,
    known_days: pd.DatetimeIndex | None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, np.ndarray, int]:
    """Series x day sums from the first day to ``last`` (and those days); unknown days, and
    the days a store's file was missing (``unknown_store_days``: ISO day -> store ids), imputed.

    ``wide`` has the series as its (sorted) index and no columns: the sums are ``values``."""
    days = pd.date_range(frame["date"].min(), last, freq="D")
    index, values = _series_by_day(frame, days)
    wide = pd.DataFrame(index=index)
    imputed = 0
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
        _impute_unknown(values, unknown, 7)
    return wide, days, values, imputed


def _period_grid(
    frame: pd.DataFrame,
    freq: str,
    last: pd.Timestamp,
    known_days: pd.DatetimeIndex | None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, int, dict[str, Any] | None]:
    """Series x complete week or month sums (days imputed first when some are unknown)."""
    period = "M" if freq == "ME" else freq
    span = _partial_span(frame["date"], freq, last, known_days is not None)
    ends = frame["date"].dt.to_period(period).dt.end_time.dt.normalize()
    imputed = 0
    if known_days is None:
        wide = frame.assign(date=ends).pivot_table(index=_SERIES, columns="date", values="units", aggfunc="sum")
    else:  # unknown days are imputed on the daily grid first, then summed into periods
        wide, days, daily, imputed = _daily_grid(frame, last, known_days, unknown_store_days)
        day_ends = days.to_period(period).end_time.normalize()
        cuts = np.flatnonzero(np.r_[True, day_ends[1:] != day_ends[:-1]])
        wide = pd.DataFrame(np.add.reduceat(daily, cuts, axis=1), index=wide.index, columns=day_ends[cuts])
    dates = pd.date_range(ends.min(), last.to_period(period).end_time.normalize(), freq=freq)
    if span is not None:
        dates = dates[int(span["leading"] is not None) : len(dates) - int(span["trailing"] is not None)]
        if dates.empty:
            raise ForecastInputError(
                f"history covers no complete period of {freq}: its days from {frame['date'].min():%Y-%m-%d} "
                f"to {last:%Y-%m-%d} fill no whole week or month, and a partial one would read as low sales. "
                "Give daily rows for at least one whole period, or forecast daily (freq D)"
            )
    return wide.reindex(columns=dates, fill_value=0.0).fillna(0.0), dates, imputed, span


def _launch_starts(
    first: np.ndarray, frame: pd.DataFrame, wide: pd.DataFrame, dates: pd.DatetimeIndex, freq: str
) -> None:
    """A series launched mid-period starts at its first complete period (``first`` in place)."""
    period = "M" if freq == "ME" else freq
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
    complete period."""
    frame, last = _clean_history(history, end)
    freq = normalize_freq(freq)
    span = None
    if freq == "D":
        wide, dates, values, imputed = _daily_grid(frame, last, known_days, unknown_store_days)
    else:
        frame["date"] = frame["date"].dt.normalize()
        wide, dates, imputed, span = _period_grid(frame, freq, last.normalize(), known_days, unknown_store_days)
        values = wide.to_numpy(dtype=float)
    nonzero = values != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), values.shape[1])
    if span is not None:
        _launch_starts(first, frame, wide, dates, freq)
    keys = wide.index.to_frame(index=False).astype(str)  # text, whatever the ids' dtype
    return Panel(keys=keys, dates=dates, values=values, first=first, imputed_days=imputed)


def shard_of(store_id: str, item_id: str, n_shards: int) -> int:
    """Stable shard for a series (same answer on every machine and run)."""
    return zlib.crc32(f"{store_id}\x1f{item_id}".encode()) % n_shards


@dataclass
class CandidateResult:
    name: str
    sums: ScoreSums
    points: np.ndarray  # [windows, h]
    final: np.ndarray  # [h]
    members: tuple[str, ...] = ()  # candidates averaged into a pooled forecast (top3)


@dataclass
class SeriesOutcome:
    store_id: str
    item_id: str
    model: str
    reason: str
    quantiles: np.ndarray  # [taus, h]
    mean: np.ndarray  # [h]
    history: np.ndarray | None  # kept only where safety stock needs it (no backtest errors)
    candidates: dict[str, ScoreSums] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    lead_errors: np.ndarray | None = None
    intermittent: bool = False
    windows: int = 0
    level: float = 1.0  # typical size of the series today: what level-scaled errors multiply (set for every series)
    residuals: np.ndarray | None = None  # level-scaled errors of the chosen model [windows, h]
    point: np.ndarray | None = None  # its point forecast, before clipping


def _fallback(y: np.ndarray, cfg: ForecastConfig, model: str, reason: str, key: tuple[str, str]) -> SeriesOutcome:
    h = cfg.horizon
    recent = y[-28:] if y.size else np.zeros(1)
    if model == "zero":
        q = np.zeros((len(cfg.quantiles), h))
        mean = np.zeros(h)
    else:
        mean = np.full(h, float(np.mean(recent)))
        q = np.repeat(np.quantile(recent, cfg.quantiles)[:, None], h, axis=1)
        q = np.maximum.accumulate(np.clip(q, 0, None), axis=0)
    return SeriesOutcome(key[0], key[1], model, reason, q, mean, y, level=_today_level(y, cfg))


def _today_level(y: np.ndarray, cfg: ForecastConfig) -> float:
    """The series' typical size now: what its safety stock and bands scale with."""
    return calibration.level(y, y.size, level_window(cfg.freq))


def _combination(results: list[CandidateResult]) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean of the combination members' backtest and final paths, if two or more ran."""
    members = [r for r in results if r.name in models.COMBO_MEMBERS]
    if len(members) < 2:
        return None
    return np.mean([r.points for r in members], axis=0), np.mean([r.final for r in members], axis=0)


def _score(
    name: str,
    points: np.ndarray,
    final: np.ndarray,
    actuals: np.ndarray,
    levels: np.ndarray,
    scale: float,
    cfg: ForecastConfig,
) -> CandidateResult:
    quantiles = calibration.crossfit(points, actuals, cfg.quantiles, levels)
    sums = ScoreSums(cfg.quantiles)
    for i in range(points.shape[0]):
        sums.add(actuals[i], quantiles[i], scale)
    return CandidateResult(name, sums, points, final)


def _short_history(y: np.ndarray, m: int, cfg: ForecastConfig, key: tuple[str, str], reason: str) -> SeriesOutcome:
    """Too short for a bake-off: seasonal naive once a whole season exists, the recent mean
    before that.

    The band is seasonal naive's textbook one (Hyndman & Athanasopoulos, *Forecasting:
    Principles and Practice*, 3rd ed., 5.5): normal, with the root mean square of the
    seasonal changes seen so far as the one-season sigma, times sqrt(seasons ahead). Those
    changes lie between the same one or two years, a single draw of how far a year moves
    the level: their median as a drift carried 2016's growth into 2017's fall on avocado
    sales, and their empirical quantiles (two clusters, one per year) gave a band narrower
    than the normal one (avocado coverage 0.69; bench/RESULTS.md)."""
    if m <= 1 or y.size < m + 4:
        return _fallback(y, cfg, "recent_mean", reason, key)
    h = cfg.horizon
    point = np.resize(y[-m:], h)
    changes = y[m:] - y[:-m]
    sigma = float(np.sqrt(np.mean(changes**2)))
    seasons_ahead = np.floor(np.arange(h) / m) + 1
    z = np.array([NormalDist().inv_cdf(tau) for tau in cfg.quantiles])
    quantiles = calibration.assemble(point, z[:, None] * sigma * np.sqrt(seasons_ahead)[None, :])
    return SeriesOutcome(
        key[0], key[1], "seasonal_naive", reason, quantiles, np.clip(point, 0, None), y, level=_today_level(y, cfg)
    )


def _warmup(m: int) -> int:
    """Periods before the first backtest origin: two seasons for the seasonal models to start."""
    return max(2 * m, 8) + 2


def backtest_plan(n: int, m: int, cfg: ForecastConfig) -> tuple[int, int]:
    """Backtest windows for a series of ``n`` periods with season ``m``, and the periods a
    bake-off needs (the series gets one when windows >= 2).

    The windows must span a whole season together (weekly data with a yearly season and
    horizon 13: four windows): models chosen on part of the year were chosen for that part.
    On the public accuracy benchmark, choosing on two or three windows of 13 weeks picked
    a model that lost a year's February peak to seasonal naive (avocado), and on the short
    real weekly panels seasonal naive was the method to beat (bench/RESULTS.md). The
    configured windows are raised to span a season where it is longer than them."""
    h, warmup = cfg.horizon, _warmup(m)
    season = -(-m // h)  # windows that cover one season
    least = max(2, season)
    k = min(max(cfg.backtest_windows, season), (n - warmup) // h)
    return (k if k >= least else 0), warmup + least * h


def forecast_series(
    y_full: np.ndarray,
    first: int,
    key: tuple[str, str],
    cfg: ForecastConfig,
    events: np.ndarray | None = None,
) -> SeriesOutcome:
    """Bake-off for one series; never raises for data reasons.

    ``events`` are holiday regressors aligned with ``y_full`` and extended ``horizon``
    periods past its end (see :mod:`salescast.forecast.calendar`)."""
    y = np.asarray(y_full[first:], dtype=float)
    h = cfg.horizon
    m = season_length(cfg.freq, len(y))
    if y.size == 0 or not np.any(y):
        return _fallback(y, cfg, "zero", "all zeros: no sales in the history", key)
    if np.ptp(y) == 0:
        return _fallback(y, cfg, "recent_mean", "constant series", key)
    k, needed = backtest_plan(y.size, m, cfg)  # a short series gets the windows it has room for
    if not k:
        reason = f"short history: {y.size} periods, a bake-off needs {needed} (two windows or more, spanning a season)"
        return _short_history(y, m, cfg, key, reason)

    n = y.size
    origins = [n - (k - i) * h for i in range(k)] + [n]
    intermittent = float(np.mean(y[-models.TRAIN_WINDOW :] == 0)) >= cfg.intermittent_zero_share
    ctx = models.Context(
        m=m,
        year=periods_per_year(cfg.freq),
        events=None if events is None or not events.shape[1] else np.asarray(events[first:], dtype=float),
    )
    results, skipped = _bake_off(y, origins, ctx, cfg, intermittent)
    if not results:
        outcome = _fallback(y, cfg, "recent_mean", "every candidate failed: " + "; ".join(skipped.values()), key)
        outcome.skipped = skipped
        return outcome
    best = min(results, key=_total_loss)
    ran = [r.name for r in results]
    points, actuals, levels = _calibration_windows(y, origins, best, ran, ctx, cfg.freq)
    scaled = (actuals - points) / levels[:, None]
    final_level = calibration.level(y, n, level_window(cfg.freq))
    final_q = calibration.assemble(best.final, calibration.offsets(scaled, cfg.quantiles) * final_level)
    return SeriesOutcome(
        store_id=key[0],
        item_id=key[1],
        model=best.name,
        reason=_chosen_because(best, intermittent),
        quantiles=final_q,
        mean=np.clip(best.final, 0, None),
        history=None,  # lead_errors size the safety stock: 10k histories need not cross processes
        candidates={r.name: r.sums for r in results},
        skipped=skipped,
        lead_errors=ss.lead_time_errors(points, actuals, cfg.lead_time) / levels[:, None],
        intermittent=intermittent,
        windows=k,
        level=final_level,
        residuals=scaled,
        point=best.final,
    )


def _chosen_because(best: CandidateResult, intermittent: bool) -> str:
    pool = f": mean of {', '.join(best.members)}" if best.members else ""
    return "lowest backtest mean wQL" + pool + (" (intermittent)" if intermittent else "")


def _windows(y: np.ndarray, origins: Sequence[int], h: int, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Actuals ``[k, h]`` after each origin and the series' level at each origin."""
    actuals = np.stack([y[o : o + h] for o in origins])
    levels = np.array([calibration.level(y, o, level_window(freq)) for o in origins])
    return actuals, levels


def _bake_off(
    y: np.ndarray, origins: list[int], ctx: models.Context, cfg: ForecastConfig, intermittent: bool
) -> tuple[list[CandidateResult], dict[str, str]]:
    """Every eligible candidate (and the combination) scored on the backtest windows."""
    h, k = cfg.horizon, len(origins) - 1
    actuals, levels = _windows(y, origins[:k], h, cfg.freq)
    scale = mase_scale(y[: origins[0]], ctx.m)
    allowed = set(cfg.candidates) if cfg.candidates else None
    results: list[CandidateResult] = []
    skipped: dict[str, str] = {}
    for cand in models.CANDIDATES:
        if (allowed is not None and cand.name not in allowed) or (cand.intermittent_only and not intermittent):
            continue
        try:
            paths = cand.forecast(y, origins, h, ctx)
        except models.ModelSkipped as why:
            skipped[cand.name] = str(why)
            continue
        results.append(_score(cand.name, paths[:k], paths[k], actuals, levels, scale, cfg))
    combined = _combination(results)
    if combined is not None and (allowed is None or models.COMBO in allowed):
        results.append(_score(models.COMBO, *combined, actuals, levels, scale, cfg))
    if allowed is None or models.TOP in allowed:
        pooled = _top_pool(results, actuals, levels, scale, cfg)
        if pooled is not None:
            results.append(pooled)
    return results, skipped


def _top_pool(
    results: list[CandidateResult], actuals: np.ndarray, levels: np.ndarray, scale: float, cfg: ForecastConfig
) -> CandidateResult | None:
    """Mean of the TOP_SIZE single candidates with the lowest backtest wQL (ties: the order
    of models.CANDIDATES), scored like any candidate; None when fewer ran."""
    singles = sorted((r for r in results if r.name != models.COMBO), key=_total_loss)
    if len(singles) < models.TOP_SIZE:
        return None
    best = singles[: models.TOP_SIZE]
    points = np.mean([r.points for r in best], axis=0)
    final = np.mean([r.final for r in best], axis=0)
    pooled = _score(models.TOP, points, final, actuals, levels, scale, cfg)
    pooled.members = tuple(r.name for r in best)
    return pooled


def _total_loss(result: CandidateResult) -> float:
    return float(result.sums.ql.sum())


def _paths(
    best: CandidateResult, ran: Sequence[str], y: np.ndarray, origins: list[int], h: int, ctx: models.Context
) -> np.ndarray:
    """The chosen candidate's (or pool's, or the combination's) forecasts from other origins."""
    by_name = {c.name: c for c in models.CANDIDATES}
    if best.members:
        members = list(best.members)
    elif best.name == models.COMBO:
        members = [m for m in models.COMBO_MEMBERS if m in ran]
    else:
        return by_name[best.name].forecast(y, origins, h, ctx)
    return np.mean([by_name[member].forecast(y, origins, h, ctx) for member in members], axis=0)


def _calibration_windows(
    y: np.ndarray, origins: list[int], best: CandidateResult, ran: Sequence[str], ctx: models.Context, freq: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows whose errors size the final band and the safety stock: the backtest windows
    plus as many older ones, forecast by the chosen model only.

    The winner of a bake-off is partly the luckiest candidate on the backtest windows, so
    its errors there understate what comes next (the winner's curse: bands too narrow on
    smooth series with many near-equal candidates). Windows it was not chosen on correct
    that, and double the residuals behind each quantile."""
    k, h = best.points.shape
    actuals, levels = _windows(y, origins[:k], h, freq)
    extra = [origins[0] - j * h for j in range(k, 0, -1) if origins[0] - j * h >= _warmup(ctx.m)]
    if not extra:
        return best.points, actuals, levels
    try:
        older = _paths(best, ran, y, extra, h, ctx)
    except models.ModelSkipped:
        return best.points, actuals, levels
    old_actuals, old_levels = _windows(y, extra, h, freq)
    return np.vstack([older, best.points]), np.vstack([old_actuals, actuals]), np.concatenate([old_levels, levels])


Chunk = tuple[np.ndarray, np.ndarray, list[tuple[str, str]], ForecastConfig, np.ndarray | None]


def _run_chunk(args: Chunk) -> list[SeriesOutcome]:
    values, first, keys, cfg, events = args
    return [forecast_series(values[i], int(first[i]), keys[i], cfg, events) for i in range(len(keys))]


def _run_chunks(tasks: list[Chunk], jobs: int, progress: Progress) -> list[SeriesOutcome]:
    """Run chunks in this process or in ``jobs`` forked workers, reporting each chunk done."""
    outcomes: list[SeriesOutcome] = []
    if jobs <= 1:
        for task in tasks:
            for i in range(len(task[2])):
                values, first, keys, cfg, events = task
                outcomes.append(forecast_series(values[i], int(first[i]), keys[i], cfg, events))
                progress.update()
        return outcomes
    # Workers are forked: they share the parent's imports and its single-threaded BLAS
    # (see salescast.threads), so `jobs` processes use `jobs` cores, not jobs x cores.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        for part in as_completed([pool.submit(_run_chunk, task) for task in tasks]):
            done = part.result()
            outcomes.extend(done)
            progress.update(len(done))
    return outcomes


def _events(dates: pd.DatetimeIndex, cfg: ForecastConfig) -> np.ndarray | None:
    """Holiday regressors over the panel's periods and the horizon after them."""
    if not cfg.holidays:
        return None
    span = dates.append(_target_dates(dates[-1], cfg))
    if cfg.freq == "D":
        return holiday_matrix(span, cfg.holidays)
    return period_holiday_matrix(span.to_period("M" if cfg.freq == "ME" else cfg.freq), cfg.holidays)


@dataclass
class ForecastResult:
    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    safety_stock: pd.DataFrame
    summary: dict[str, Any]


def run_forecast(
    history: pd.DataFrame,
    cfg: ForecastConfig,
    jobs: int = 1,
    shard: int | None = None,
    n_shards: int = 1,
    end: pd.Timestamp | None = None,
    known_days: pd.DatetimeIndex | None = None,
    unknown_store_days: Mapping[str, Sequence[str]] | None = None,
) -> ForecastResult:
    """Forecast every series (or one shard of them) of a canonical history."""
    panel = build_panel(history, cfg.freq, end, known_days, unknown_store_days)
    keys = list(zip(panel.keys["store_id"], panel.keys["item_id"], strict=True))
    index = [i for i, (s, it) in enumerate(keys) if shard is None or shard_of(s, it, n_shards) == shard]
    jobs = max(1, min(jobs, len(index) or 1))
    # small chunks keep both workers busy to the end and the progress fine-grained
    n_chunks = min(len(index), jobs * 40) if jobs > 1 else 1
    chunks = [index[j::n_chunks] for j in range(n_chunks)] if jobs > 1 else [index]
    events = _events(panel.dates, cfg)
    tasks = [(panel.values[c], panel.first[c], [keys[i] for i in c], cfg, events) for c in chunks if c]
    progress = Progress(len(index), desc=f"forecast{'' if shard is None else f' shard {shard}'}")
    try:
        outcomes = _run_chunks(tasks, jobs, progress)
    finally:
        progress.close()
    outcomes.sort(key=lambda o: (o.store_id, o.item_id))
    pool_bands(outcomes, cfg)
    result = assemble_result(outcomes, panel.dates[-1], cfg)
    result.summary["imputed_days"] = panel.imputed_days
    result.summary["dropped_partial_period"] = partial_periods(history, cfg.freq, end, known_days)
    return result


# Fewer comparable series than this: each keeps the band of its own errors alone.
MIN_POOL_SERIES = 10


def pool_bands(outcomes: Sequence[SeriesOutcome], cfg: ForecastConfig) -> None:
    """Average each series' standardized error quantiles with a prior from comparable series
    (same intermittent class) of this run or shard, and rebuild its band in place.

    What is pooled is the *shape* of the errors (each series' errors divided by their own
    mean absolute size), never their size: a smooth series keeps its narrow band, a noisy
    one its wide band, and both get tails estimated from thousands of errors instead of a
    few dozen."""
    for flag in (False, True):
        group = [o for o in outcomes if o.residuals is not None and o.intermittent == flag]
        if len(group) < MIN_POOL_SERIES:
            continue
        standardized = [calibration.standardized(o.residuals)[0] for o in group]
        sizes = [max(float(np.mean(np.abs(z))), 1e-12) for z in standardized]
        shape = calibration.conformal_quantiles(
            np.concatenate([z / size for z, size in zip(standardized, sizes, strict=True)]), cfg.quantiles
        )
        for o, size in zip(group, sizes, strict=True):
            offsets = calibration.offsets(o.residuals, cfg.quantiles, shape * size) * o.level
            o.quantiles = calibration.assemble(o.point, offsets)


def _target_dates(last: pd.Timestamp, cfg: ForecastConfig) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=cfg.horizon + 1, freq=cfg.freq)[1:]


def _forecast_frame(outcomes: Sequence[SeriesOutcome], dates: pd.DatetimeIndex, cfg: ForecastConfig) -> pd.DataFrame:
    """One row per series and horizon step, built column-wise (a frame per series cost ~4 ms
    each: 40 s of a 10,000-series run, in the parent process after the workers are done)."""
    qcols = cfg.quantile_columns
    if not outcomes:
        return pd.DataFrame(columns=["store_id", "item_id", "date", *qcols, "horizon_step", "mean", "model"])
    h, n = cfg.horizon, len(outcomes)
    quantiles = np.concatenate([o.quantiles.T for o in outcomes])
    columns: dict[str, Any] = {
        "store_id": np.repeat(np.array([o.store_id for o in outcomes], dtype=object), h),
        "item_id": np.repeat(np.array([o.item_id for o in outcomes], dtype=object), h),
        "date": np.tile(np.asarray(dates.date, dtype=object), n),
    }
    columns |= {col: quantiles[:, j] for j, col in enumerate(qcols)}
    columns |= {
        "horizon_step": np.tile(np.arange(1, h + 1), n),
        "mean": np.concatenate([o.mean for o in outcomes]),
        "model": np.repeat(np.array([o.model for o in outcomes], dtype=object), h),
    }
    return pd.DataFrame(columns)


@dataclass
class _Backtest:
    """Metric rows per series and candidate, and the pooled sums behind the summary."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    per_model: dict[str, ScoreSums] = field(default_factory=dict)
    chosen: ScoreSums | None = None
    skips: dict[str, int] = field(default_factory=dict)


def _backtest_metrics(outcomes: Sequence[SeriesOutcome], cfg: ForecastConfig) -> _Backtest:
    out = _Backtest(chosen=ScoreSums(cfg.quantiles))
    for o in outcomes:
        for name in o.skipped:
            out.skips[name] = out.skips.get(name, 0) + 1
        base = {"store_id": o.store_id, "item_id": o.item_id, "n_windows": o.windows}
        if not o.candidates:
            out.rows.append(
                base | {"model": o.model, "chosen": True, "reason": o.reason, "skipped_models": len(o.skipped)}
            )
        for name, sums in o.candidates.items():
            out.per_model.setdefault(name, ScoreSums(cfg.quantiles)).merge(sums)
            if name == o.model:
                out.chosen.merge(sums)
            out.rows.append(
                base
                | {"model": name, "chosen": name == o.model, "reason": o.reason if name == o.model else None}
                | {"skipped_models": len(o.skipped)}
                | sums.scores()
            )
    return out


def _safety_stocks(outcomes: Sequence[SeriesOutcome], cfg: ForecastConfig) -> tuple[pd.DataFrame, int, int]:
    """Safety stock per series, and how many out-of-sample lead times it covered of how many."""
    # comparable series only: smooth and intermittent demand have differently shaped errors
    groups = {
        flag: [o.lead_errors for o in outcomes if o.lead_errors is not None and o.intermittent == flag]
        for flag in (False, True)
    }
    pooled = {  # a few series are no population: one odd neighbour would set everyone's buffer
        flag: ss.pooled_quantiles(errors, cfg.service_level) if len(errors) >= MIN_POOL_SERIES else None
        for flag, errors in groups.items()
    }
    rows: list[dict[str, Any]] = []
    covered = total = 0
    for o in outcomes:
        spread = 0.0
        if o.lead_errors is not None:
            errors = o.lead_errors
        else:  # no backtest: the series' own history, in units of its own level
            errors = ss.history_errors(o.history, cfg.lead_time) / o.level
            spread = ss.own_spread(o.history[-28:], cfg.lead_time, cfg.service_level)
        stock = ss.safety_stock(
            errors, o.mean, cfg.lead_time, cfg.service_level, o.level, pooled[o.intermittent], spread
        )
        if o.lead_errors is not None and errors.size:  # out of sample: backtest errors only
            if stock.method == "series_errors":
                c, t = ss.achieved_service_level(errors, cfg.service_level)
            else:
                c, t = int((errors <= stock.safety_stock / o.level).sum()), errors.size
            covered, total = covered + c, total + t
        rows.append(
            {"store_id": o.store_id, "item_id": o.item_id, "lead_time": cfg.lead_time}
            | {"service_level": cfg.service_level, "safety_stock": stock.safety_stock}
            | {"lead_time_demand": stock.lead_time_demand, "reorder_point": stock.reorder_point}
            | {"method": stock.method, "model": o.model, "error_samples": int(errors.size)}
        )
    return pd.DataFrame(rows), covered, total


def assemble_result(outcomes: Sequence[SeriesOutcome], last: pd.Timestamp, cfg: ForecastConfig) -> ForecastResult:
    """Forecast, metric and safety-stock tables of a run (or shard), and its summary."""
    forecasts = _forecast_frame(outcomes, _target_dates(pd.Timestamp(last), cfg), cfg)
    backtest = _backtest_metrics(outcomes, cfg)
    stocks, covered, total = _safety_stocks(outcomes, cfg)
    mix = pd.Series([o.model for o in outcomes]).value_counts().to_dict() if outcomes else {}
    per_model = backtest.per_model
    summary = {
        "series": len(outcomes),
        "sums": {"bake_off": backtest.chosen.to_dict()} | {k: v.to_dict() for k, v in per_model.items()},
        "horizon": cfg.horizon,
        "freq": cfg.freq,
        "windows": cfg.backtest_windows,
        "quantiles": list(cfg.quantiles),
        "backtest": {"bake_off": backtest.chosen.scores()}
        | {"per_model": {k: v.scores() for k, v in per_model.items()}},
        "model_mix": {str(k): int(v) for k, v in mix.items()},
        "skipped_models": backtest.skips,
        "fallbacks": {o.reason: sum(1 for x in outcomes if x.reason == o.reason) for o in outcomes if not o.candidates},
        "safety_stock": {
            "target_service_level": cfg.service_level,
            "achieved_service_level": covered / total if total else None,
            "covered": covered,
            "evaluated": total,
            "lead_time": cfg.lead_time,
        },
    }
    return ForecastResult(forecasts, pd.DataFrame(backtest.rows), stocks, summary)


def merge_summaries(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Combine shard summaries exactly: scores are recomputed from the summed raw sums."""
    if not parts:
        raise ValueError("no shard summaries to merge")
    sums: dict[str, ScoreSums] = {}
    mix: dict[str, int] = {}
    skipped: dict[str, int] = {}
    fallbacks: dict[str, int] = {}
    covered = evaluated = 0
    for part in parts:
        for name, raw in part["sums"].items():
            merged = ScoreSums.from_dict(raw)
            if name in sums:
                sums[name].merge(merged)
            else:
                sums[name] = merged
        for target, source in ((mix, "model_mix"), (skipped, "skipped_models"), (fallbacks, "fallbacks")):
            for key, value in part[source].items():
                target[key] = target.get(key, 0) + value
        covered += part["safety_stock"]["covered"]
        evaluated += part["safety_stock"]["evaluated"]
    first = parts[0]
    per_model = {k: v.scores() for k, v in sums.items() if k != "bake_off"}
    bake = sums["bake_off"].scores() if "bake_off" in sums else {}
    return {
        "series": sum(p["series"] for p in parts),
        "imputed_days": max(p.get("imputed_days", 0) for p in parts),
        "sums": {k: v.to_dict() for k, v in sums.items()},
        "horizon": first["horizon"],
        "freq": first["freq"],
        "windows": first["windows"],
        "quantiles": first["quantiles"],
        "backtest": {"bake_off": bake, "per_model": per_model},
        "model_mix": mix,
        "skipped_models": skipped,
        "fallbacks": fallbacks,
        "safety_stock": first["safety_stock"]
        | {"achieved_service_level": covered / evaluated if evaluated else None}
        | {"covered": covered, "evaluated": evaluated},
    }
