"""New items (cold start): a forecast for an item listed in a store where it has too little
history for a bake-off, from what the item master (salescast.forecast.items_asof) says of
it.

An item is new until its own sales cover a week (:data:`HANDOVER_DAYS`, one period of a
weekly or monthly run: measured on held-out launches, the engine's short-series fallback
beats any borrowed basis from then on). A listed item with no sales yet, or fewer than a
week of them, is forecast from a *basis*:

1. its analog (``analog_item_id``) in the same store: the analog's first weeks after its own
   launch if that launch lies in the history, else its recent level (times the ramp below);
2. else its category in that store: the mean of the category's launches there (their first
   weeks after launch), else the mean recent level of the category's items there (times the
   ramp); the same over all stores when the store has neither.

A basis is a level per week of age (the weeks after the item's start: its listing day in the
store, not before its launch day) and, for daily data, a day-of-week shape from the basis'
own series. The *ramp* is the median ratio of launches' weekly level to their level in weeks
5-8 (launches of the category, else all launches: at least MIN_LAUNCHES with eight weeks
seen); without enough launches the data show no ramp and none is applied. An item that
already sold for a few days scales its basis by (own sales + a) / (basis at the same ages +
a) (a Poisson-gamma posterior): ``a`` is 1 / the variance of comparable launches' actual-to-
basis ratio beyond Poisson noise, so where bases predict launches well the basis holds
longer, where they do not the item's own sales take over at once; days with no sales since
its start count as evidence too.

The band (p10..p90) comes from comparable launches found in the history: how far each one's
first four weeks were from what the category basis (without that launch) would have
predicted, in units of the prediction's mean; the category's launches when it has
MIN_BAND_LAUNCHES, else all of them; it narrows as the item's own sales come in
(:func:`narrowing`). With fewer launches than that it is an assumption: a negative binomial
around the forecast with a level uncertainty (coefficient of variation) of ASSUMED_CV.
Discontinued items are not forecast at all. Everything here is plain data in, tables out:
the DAG (salescast.forecast.tasks) and the benchmark call :func:`plan_cold_start`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from salescast.contracts import period_alias
from salescast.forecast import calibration
from salescast.forecast.config import ForecastConfig
from salescast.forecast.fallbacks import too_short
from salescast.forecast.models.registry import COLD_START
from salescast.forecast.panel import Panel, build_panel, target_dates
from salescast.item_master import ACTIVE, DISCONTINUED

PROFILE_BUCKETS = 8  # weeks of age a basis describes (periods for weekly and monthly data)
MARGIN_BUCKETS = 4  # a first sale at least this long after the history starts is a launch
MIN_LAUNCHES = 3  # launches a category profile or a ramp averages, at least
MIN_BAND_LAUNCHES = 10  # launches whose errors make a band, at least
RECENT_BUCKETS = 4  # what a recent level averages (the engine's level window for days)
SHAPE_BUCKETS = 8  # what a day-of-week shape reads
MIN_SPREAD = 0.01  # least variance of launches' level around their basis (a prior of 100 units at most)
BAND_BUCKETS = 4  # the first weeks of a launch whose errors size the band
ASSUMED_CV = 0.5  # without comparable launches: the level's coefficient of variation

SKIP_COLUMNS = ["store_id", "item_id"]


def bucket_size(freq: str) -> int:
    """Periods in a week of age: 7 days, else one period (a week or a month)."""
    return 7 if freq == "D" else 1


@dataclass(frozen=True)
class Launch:
    """A series whose start lies in the history: its listing day there, else its first sale
    at least MARGIN_BUCKETS after the history starts. ``weeks``: its mean per period in each
    complete week of age seen (at most PROFILE_BUCKETS)."""

    store: str
    item: str
    row: int
    start: int
    weeks: np.ndarray


@dataclass(frozen=True)
class Basis:
    """What a new item is forecast from: level per period by week of age, shape by period of the week."""

    curve: np.ndarray  # [PROFILE_BUCKETS]
    shape: np.ndarray  # [bucket]: mean 1
    reason: str
    kind: str


@dataclass
class ColdStartSummary:
    """What cold start did in a run: series forecast by basis, items left out and why."""

    series: int = 0
    items: int = 0
    basis: dict[str, int] = field(default_factory=dict)
    discontinued_items: int = 0
    discontinued_series: int = 0
    not_forecast: dict[str, int] = field(default_factory=dict)
    launches_found: int = 0
    band: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "items": self.items,
            "basis": dict(sorted(self.basis.items())),
            "discontinued": {
                "items": self.discontinued_items,
                "series": self.discontinued_series,
                "reason": "status discontinued in the item master: not forecast",
            },
            "not_forecast": dict(sorted(self.not_forecast.items())),
            "launches_found": self.launches_found,
            "band": self.band,
        }


@dataclass
class ColdStartPlan:
    """Cold start's rows (the forecasts, metrics and safety-stock tables' columns, no run_date),
    the series the bake-off leaves out (cold-started or discontinued) and the summary."""

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    safety_stock: pd.DataFrame
    skip: pd.DataFrame  # store_id, item_id
    summary: ColdStartSummary


class _Data:
    """The panel and the lookups every basis reads."""

    def __init__(self, panel: Panel, items: pd.DataFrame, listings: pd.DataFrame, cfg: ForecastConfig) -> None:
        self.panel, self.cfg, self.b = panel, cfg, bucket_size(cfg.freq)
        self.values, self.n = panel.values, panel.values.shape[1]
        keys = panel.keys.itertuples(index=False, name=None)
        self.row = {(str(s), str(i)): r for r, (s, i) in enumerate(keys)}
        self.category = dict(zip(items["item_id"], items["category"], strict=True))
        self.master = set(items["item_id"])
        self.sold = {i for _, i in self.row}
        self.dates = panel.dates.append(target_dates(panel.dates[-1], cfg.horizon, cfg.freq))
        self.weekday = self.dates.day_of_week.to_numpy() if self.b == 7 else np.zeros(len(self.dates), dtype=int)
        self.unit = "days" if cfg.freq == "D" else "periods"
        listed = {(str(s), str(i)): self.index(d) for s, i, d in listings[["store_id", "item_id", "list_date"]].values}
        self.launches = find_launches(panel, self.b, listed)
        self.launch_of = {(la.store, la.item): la for la in self.launches}
        self.rows_of: dict[str, list[tuple[str, str, int]]] = {}
        for (store, item), r in self.row.items():
            if item in self.category:
                self.rows_of.setdefault(self.category[item], []).append((store, item, r))
        self.launches_of: dict[str, list[Launch]] = {}
        for la in self.launches:
            if la.item in self.category:
                self.launches_of.setdefault(self.category[la.item], []).append(la)

    def index(self, day: Any) -> int:
        """The period holding ``day``, counted from the panel's first (negative before it)."""
        alias = period_alias(self.cfg.freq)
        return (pd.Timestamp(day).to_period(alias) - self.dates[0].to_period(alias)).n

    def recent(self, row: int) -> float:
        first = int(self.panel.first[row])
        window = self.values[row, max(first, self.n - RECENT_BUCKETS * self.b) : self.n]
        return float(window.mean()) if window.size else 0.0

    def own_days(self, row: int) -> int:
        return self.n - int(self.panel.first[row])

    def shape(self, rows: list[int]) -> np.ndarray:
        """Mean 1 factors per period of the week over the rows' last SHAPE_BUCKETS weeks."""
        if self.b == 1 or not rows:
            return np.ones(self.b)
        lo = max(0, self.n - SHAPE_BUCKETS * self.b)
        totals = self.values[rows, lo : self.n].sum(axis=0)
        by_day = np.bincount(self.weekday[lo : self.n], weights=totals, minlength=7)
        counts = np.bincount(self.weekday[lo : self.n], minlength=7)
        means = by_day / np.maximum(counts, 1)
        return means / means.mean() if means.mean() > 0 else np.ones(7)


def find_launches(panel: Panel, b: int, listed: dict[tuple[str, str], int]) -> list[Launch]:
    """Every series whose start lies in the history (``listed``: its listing period, where
    one is known), with its mean per period in each complete week of age seen."""
    n, out = panel.values.shape[1], []
    for row, (store, item) in enumerate(panel.keys.itertuples(index=False, name=None)):
        first = int(panel.first[row])
        if first >= n:
            continue
        at = listed.get((str(store), str(item)))
        if at is not None and 0 <= at <= first:
            start = at
        elif first >= MARGIN_BUCKETS * b:
            start = first
        else:
            continue
        weeks = min((n - start) // b, PROFILE_BUCKETS)
        if weeks >= 1:
            seen = panel.values[row, start : start + weeks * b].reshape(weeks, b).mean(axis=1)
            out.append(Launch(str(store), str(item), row, start, seen))
    return out


def launch_curve(launches: list[Launch], least: int) -> np.ndarray | None:
    """Mean of the launches' weekly levels by week of age (weeks seen by fewer than ``least``
    launches carry the week before); None when the first week has too few."""
    curve = np.full(PROFILE_BUCKETS, np.nan)
    for k in range(PROFILE_BUCKETS):
        seen = [la.weeks[k] for la in launches if la.weeks.size > k]
        curve[k] = np.mean(seen) if len(seen) >= least else (curve[k - 1] if k else np.nan)
    return None if np.isnan(curve[0]) else curve


def ramp(data: _Data, category: str | None) -> tuple[np.ndarray, str]:
    """The median launch's level by week of age over its level in weeks 5-8, from the
    category's launches with eight weeks seen, else all launches; ones where too few exist."""
    whole = [la for la in data.launches if la.weeks.size >= PROFILE_BUCKETS]
    pools = [[la for la in whole if data.category.get(la.item) == category], whole]
    for pool in pools:
        mature = [la for la in pool if la.weeks[PROFILE_BUCKETS // 2 :].mean() > 0]
        if len(mature) >= MIN_LAUNCHES:
            ratios = np.array([la.weeks / la.weeks[PROFILE_BUCKETS // 2 :].mean() for la in mature])
            return np.median(ratios, axis=0), f", ramp of {len(mature)} launches"
    return np.ones(PROFILE_BUCKETS), ""


def category_basis(data: _Data, store: str, category: str, exclude: str | None = None) -> Basis | None:
    """The category's launches in ``store``, else its items' recent level there (ramped),
    else the same over all stores; None where the category has no series at all."""
    for where in (store, None):
        rows = [r for s, i, r in data.rows_of.get(category, []) if i != exclude and where in (None, s)]
        launches = [la for la in data.launches_of.get(category, []) if la.item != exclude and where in (None, la.store)]
        place = f"in {store}" if where is not None else "in all stores"
        curve = launch_curve(launches, MIN_LAUNCHES) if len(launches) >= MIN_LAUNCHES else None
        if curve is not None:
            reason = f"category {category}, {len(launches)} launches {place}"
            return Basis(curve, data.shape([la.row for la in launches]), reason, "category_launches")
        mature = [r for r in rows if not too_short(data.own_days(r), data.cfg)]
        if mature:
            level = float(np.mean([data.recent(r) for r in mature]))
            steps, said = ramp(data, category)
            reason = f"category {category}, recent level of {len(mature)} items {place}{said}"
            return Basis(level * steps, data.shape(mature), reason, "category_level")
    return None


def analog_basis(data: _Data, store: str, analog: str) -> Basis | str:
    """The analog's first weeks in ``store`` (then its recent level), or its recent level
    ramped; else why it cannot be one (the category stands in, and the reason says so)."""
    row = data.row.get((store, analog))
    if row is None:
        if analog not in data.master and analog not in data.sold:
            return f"analog {analog} does not exist (not in the item master, never sold)"
        return f"analog {analog} has no sales in {store}"
    days = data.own_days(row)
    if too_short(days, data.cfg):
        return f"analog {analog} is new itself ({days} {data.unit} of sales in {store})"
    launch, level = data.launch_of.get((store, analog)), data.recent(row)
    if launch is not None:
        curve = np.full(PROFILE_BUCKETS, level)
        curve[: launch.weeks.size] = launch.weeks
        reason = f"analog {analog} in {store} (its first {launch.weeks.size} weeks after launch)"
        return Basis(curve, data.shape([row]), reason, "analog_launch")
    steps, said = ramp(data, data.category.get(analog))
    return Basis(
        level * steps, data.shape([row]), f"analog {analog} in {store} (its recent level{said})", "analog_level"
    )


def predict(data: _Data, basis: Basis, start: int, at: np.ndarray) -> np.ndarray:
    """The basis at periods ``at`` (panel positions, the horizon after it) of an item starting at ``start``."""
    age = at - start
    week = np.clip(age // data.b, 0, PROFILE_BUCKETS - 1)
    shape = basis.shape[data.weekday[at] % basis.shape.size]
    return np.where(age >= 0, basis.curve[week] * shape, 0.0)


@dataclass(frozen=True)
class Target:
    """A listed item to forecast in a store: its series row (None: never sold there), the
    period it starts (listing, not before launch; its first sale if earlier) and that day."""

    store: str
    item: str
    row: int | None
    start: int
    start_day: date


def targets(data: _Data, items: pd.DataFrame, listings: pd.DataFrame) -> tuple[list[Target], Counter[str]]:
    """The active items' listed series and short series, and why other active items get none."""
    master = items.set_index("item_id")
    active = set(master.index[master["status"] == ACTIVE])
    starts: dict[tuple[str, str], date] = {}
    left: Counter[str] = Counter()
    for store, item, day in listings[["store_id", "item_id", "list_date"]].values:
        if item not in master.index:
            left["listed, not in the item master"] += 1
        if item in active:
            starts[(str(store), str(item))] = max(
                pd.Timestamp(day), pd.Timestamp(master.at[item, "launch_date"])
            ).date()
    for store, item in data.row:
        if item in active and (store, item) not in starts:
            starts[(store, item)] = pd.Timestamp(master.at[item, "launch_date"]).date()
    out: list[Target] = []
    last = data.n + data.cfg.horizon - 1
    for (store, item), day in sorted(starts.items()):
        row, start = data.row.get((store, item)), data.index(day)
        if row is not None and int(data.panel.first[row]) < data.n:
            if handed_over(data.own_days(row), data.cfg):
                continue  # a week of its own sales: the engine's (its bake-off, or its short-series fallback)
            start = min(start, int(data.panel.first[row]))
            day = min(day, data.dates[int(data.panel.first[row])].date())
        if start > last:
            left["listed after the horizon"] += 1
            continue
        out.append(Target(store, item, row, start, day))
    placed = {item for _, item in starts}
    left["no store: not listed and never sold"] += len(active - placed)
    return out, +left


# Cold start forecasts an item until its own sales cover one week (a whole weekly cycle; one
# period of a weekly or monthly run); from then on the engine does, with its bake-off or its
# short-series fallback. Measured on held-out launches (bench/cold_start.py, bench/RESULTS.md):
# before the first sale cold start wins in both cases, after 7 days of own sales the engine's
# fallback is better in both (flights mean wQL 0.220 vs 0.451, synthetic analogs 0.393 vs
# 0.475): the item's own level says more than any borrowed one once a week of it is seen.
HANDOVER_DAYS = 7


def handed_over(periods: int, cfg: ForecastConfig) -> bool:
    """Whether a series with ``periods`` of its own sales is the engine's, not cold start's."""
    return periods >= (HANDOVER_DAYS if cfg.freq == "D" else 1)


def basis_of(data: _Data, target: Target, analog: str | None, category: str) -> Basis | None:
    """The analog's basis, else the category's (the reason says why the analog was not used)."""
    note = ""
    if analog:
        found = analog_basis(data, target.store, analog)
        if isinstance(found, Basis):
            return found
        note = f"{found}: "
    basis = category_basis(data, target.store, category, exclude=target.item)
    return None if basis is None else Basis(basis.curve, basis.shape, note + basis.reason, basis.kind)


def point_forecast(data: _Data, target: Target, basis: Basis, strength: float) -> tuple[np.ndarray, str, float]:
    """The basis over the horizon, scaled by the item's own sales since its start (Poisson-gamma:
    (own + strength) / (basis at the same ages + strength), ``strength`` in units), the reason
    and the units the item sold since its start."""
    seen = np.arange(max(target.start, 0), data.n)
    own = data.values[target.row, seen] if target.row is not None else np.zeros(seen.size)
    expected = predict(data, basis, target.start, seen)
    scale = (own.sum() + strength) / (expected.sum() + strength)
    point = predict(data, basis, target.start, np.arange(data.n, data.n + data.cfg.horizon)) * scale
    reason = basis.reason
    if seen.size and not own.any():
        reason += f"; launched {target.start_day}, no sales yet (x{scale:.2f})"
    elif seen.size:
        reason += f"; x{scale:.2f} by {seen.size} {data.unit} of its own sales"
    elif target.start > data.n:
        reason += f"; starts {target.start_day}"
    return point, reason, float(own.sum())


def narrowing(strength: float, own: float, point: np.ndarray) -> float:
    """How much an item's own sales narrow the launches' band: the relative error of a day's
    forecast (level uncertainty 1 / (strength + own) of a Poisson-gamma posterior, plus Poisson
    noise 1 / the daily mean) over what it is with no sales of its own."""
    daily = float(point[point > 0].mean()) if (point > 0).any() else 1.0
    return float(np.sqrt((1 / (strength + own) + 1 / daily) / (1 / strength + 1 / daily)))


@dataclass
class BandPool:
    """Comparable launches' errors: per period of their first weeks, over the prediction's mean
    (``errors``), and summed over the lead time (``lead``), by category."""

    errors: dict[str, list[np.ndarray]] = field(default_factory=dict)
    lead: dict[str, list[float]] = field(default_factory=dict)
    totals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (actual, predicted) sums

    def strength(self, category: str) -> float:
        """How many units of an item's own sales weigh as much as its basis: 1 / the variance of
        comparable launches' actual-to-basis ratio beyond Poisson noise (the category's launches
        when it has MIN_BAND_LAUNCHES, else all); 1 / ASSUMED_CV**2 without enough launches."""
        everyone = [t for totals in self.totals.values() for t in totals]
        for totals in (self.totals.get(category, []), everyone):
            if len(totals) >= MIN_BAND_LAUNCHES:
                actual, predicted = np.array(totals).T
                ratio = actual / predicted
                return 1.0 / max(float(np.var(ratio, ddof=1) - np.mean(ratio / predicted)), MIN_SPREAD)
        return 1.0 / ASSUMED_CV**2

    def pick(self, category: str) -> tuple[np.ndarray, np.ndarray, int] | None:
        everyone = [e for errors in self.errors.values() for e in errors]
        for errors, lead in ((self.errors.get(category, []), self.lead.get(category, [])),
                             (everyone, [v for vs in self.lead.values() for v in vs])):  # fmt: skip
            if len(errors) >= MIN_BAND_LAUNCHES:
                return np.concatenate(errors), np.asarray(lead), len(errors)
        return None


def band_pool(data: _Data) -> BandPool:
    """How far each launch's first BAND_BUCKETS weeks were from its category's basis without it."""
    pool = BandPool()
    for la in data.launches:
        category = data.category.get(la.item)
        if category is None:
            continue
        basis = category_basis(data, la.store, category, exclude=la.item)
        if basis is None:
            continue
        at = np.arange(la.start, min(la.start + BAND_BUCKETS * data.b, data.n))
        pred = predict(data, basis, la.start, at)
        if pred.mean() <= 0:
            continue
        errors = (data.values[la.row, at] - pred) / pred.mean()
        pool.errors.setdefault(category, []).append(errors)
        pool.totals.setdefault(category, []).append((float(data.values[la.row, at].sum()), float(pred.sum())))
        if errors.size >= data.cfg.lead_time:
            pool.lead.setdefault(category, []).append(float(errors[: data.cfg.lead_time].sum()))
    return pool


Picked = tuple[np.ndarray, np.ndarray, int] | None  # BandPool.pick: errors, lead-time sums, launches


def band(point: np.ndarray, picked: Picked, cfg: ForecastConfig, shrink: float = 1.0, own: float = 0.0) -> np.ndarray:
    """Quantiles ``[taus, h]``: the point plus pooled launch errors times its mean (times
    ``shrink``: :func:`narrowing`), or the assumed negative binomial (the Poisson-gamma
    posterior predictive after ``own`` units sold); zero before the item starts."""
    on = point > 0
    if picked is not None:
        level = float(point[on].mean()) if on.any() else 0.0
        offsets = np.quantile(picked[0], cfg.quantiles)[:, None] * level * shrink * on[None, :]
        return calibration.assemble(point, offsets)
    from scipy.stats import nbinom

    size = 1.0 / ASSUMED_CV**2 + own
    mu = np.maximum(point, 1e-12)
    q = nbinom.ppf(np.asarray(cfg.quantiles)[:, None], size, size / (size + mu[None, :]))
    return np.maximum.accumulate(np.where(on[None, :], q, 0.0), axis=0)


def safety_row(point: np.ndarray, picked: Picked, cfg: ForecastConfig, shrink: float = 1.0) -> dict[str, Any]:
    """Safety stock from the launches' lead-time errors, else the assumed distribution's spread."""
    mean = point[: cfg.lead_time]
    demand = float(mean.sum())
    if picked is not None and picked[1].size:
        level = float(point[point > 0].mean()) if (point > 0).any() else 0.0
        stock, method, samples = (
            max(0.0, float(np.quantile(picked[1], cfg.service_level)) * level * shrink),
            "cold_start_launches",
            picked[1].size,
        )
    else:
        sigma = float(np.sqrt(np.sum(mean + ASSUMED_CV**2 * mean**2)))
        stock, method, samples = NormalDist().inv_cdf(cfg.service_level) * sigma, "cold_start_assumed", 0
    return {"lead_time": cfg.lead_time, "service_level": cfg.service_level, "safety_stock": stock,
            "lead_time_demand": demand, "reorder_point": demand + stock, "method": method,
            "model": COLD_START, "error_samples": int(samples)}  # fmt: skip


def _master(items: pd.DataFrame) -> pd.DataFrame:
    """The item master with text ids and an analog that is "" where none is given."""
    master = items.copy()
    master["item_id"] = master["item_id"].astype(str)
    analog = master["analog_item_id"] if "analog_item_id" in master else pd.Series(None, index=master.index)
    master["analog_item_id"] = pd.Series(
        [a if isinstance(a, str) and a.strip() else "" for a in analog], index=master.index, dtype=object
    )
    return master


def plan_cold_start(
    history: pd.DataFrame,
    items: pd.DataFrame,
    listings: pd.DataFrame,
    cfg: ForecastConfig,
    end: pd.Timestamp,
    known_days: pd.DatetimeIndex | None = None,
    unknown_store_days: dict[str, list[str]] | None = None,
) -> ColdStartPlan:
    """Cold start for a run known through ``end``: ``history`` (canonical daily rows, at least
    those of the master's items and their analogs), ``items`` and ``listings`` as
    salescast.forecast.items_asof resolves them. Returns the rows to add to the run's tables
    and the series the bake-off must leave out."""
    master = _master(items)
    if history.empty:  # nothing sold yet: an all-zero placeholder gives the panel its days
        history = pd.DataFrame({"date": [pd.Timestamp(end)], "store_id": [""], "item_id": [""], "units": [0.0]})
    panel = build_panel(history, cfg.freq, end, known_days, unknown_store_days)
    data = _Data(panel, master, listings, cfg)
    summary = ColdStartSummary(launches_found=len(data.launches))
    gone = set(master.loc[master["status"] == DISCONTINUED, "item_id"])
    dropped = [key for key in data.row if key[1] in gone]
    summary.discontinued_series = len(dropped)
    summary.discontinued_items = len({item for _, item in dropped} | (gone & set(listings["item_id"].astype(str))))
    found, left = targets(data, master, listings)
    forecasts, metrics, stocks, skipped = _forecast_targets(data, master.set_index("item_id"), found, summary, left)
    summary.not_forecast = dict(left)
    skip = pd.DataFrame(sorted(set(dropped) | set(skipped)), columns=SKIP_COLUMNS)
    return ColdStartPlan(forecasts, metrics, stocks, skip, summary)


def _forecast_targets(
    data: _Data, master: pd.DataFrame, found: list[Target], summary: ColdStartSummary, left: Counter[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """Each target's forecast, metrics and safety-stock rows; the series whose bake-off they replace."""
    pool = band_pool(data)
    points, bands, metrics, stocks, skipped = [], [], [], [], []
    for target in found:
        category, analog = master.at[target.item, "category"], master.at[target.item, "analog_item_id"]
        basis = basis_of(data, target, analog, category)
        if target.row is not None:
            skipped.append((target.store, target.item))  # a short series: cold start replaces its fallback
        if basis is None:
            left[f"no basis: no usable analog and no series of category {category}"] += 1
            continue
        strength = pool.strength(category)
        point, reason, own = point_forecast(data, target, basis, strength)
        picked, shrink = pool.pick(category), narrowing(strength, own, point)
        points.append((target, point))
        bands.append(band(point, picked, data.cfg, shrink, own))
        base = {"store_id": target.store, "item_id": target.item}
        metrics.append(base | {"n_windows": 0, "censored_days": 0, "model": COLD_START, "chosen": True,
                               "reason": reason, "skipped_models": 0})  # fmt: skip
        stocks.append(base | safety_row(point, picked, data.cfg, shrink))
        summary.basis[basis.kind] = summary.basis.get(basis.kind, 0) + 1
    summary.series, summary.items = len(points), len({t.item for t, _ in points})
    errors = sum(len(v) for v in pool.errors.values())
    pooled = f"errors of comparable launches ({errors}; the category's where it has {MIN_BAND_LAUNCHES})"
    assumed = f"assumed negative binomial, level CV {ASSUMED_CV} (fewer than {MIN_BAND_LAUNCHES} launches)"
    summary.band = pooled if errors >= MIN_BAND_LAUNCHES else assumed
    return _forecast_frame(data, points, bands), pd.DataFrame(metrics), pd.DataFrame(stocks), skipped


def _forecast_frame(data: _Data, points: list[tuple[Target, np.ndarray]], bands: list[np.ndarray]) -> pd.DataFrame:
    """Rows in the forecasts table's columns (salescast.forecast.results.forecast_frame)."""
    cfg, h = data.cfg, data.cfg.horizon
    qcols = cfg.quantile_columns
    if not points:
        return pd.DataFrame(columns=["store_id", "item_id", "date", *qcols, "horizon_step", "mean", "model"])
    quantiles = np.concatenate([b.T for b in bands])
    columns: dict[str, Any] = {
        "store_id": np.repeat(np.array([t.store for t, _ in points], dtype=object), h),
        "item_id": np.repeat(np.array([t.item for t, _ in points], dtype=object), h),
        "date": np.tile(np.asarray(data.dates[data.n : data.n + h].date, dtype=object), len(points)),
    }
    columns |= {col: quantiles[:, j] for j, col in enumerate(qcols)}
    columns |= {
        "horizon_step": np.tile(np.arange(1, h + 1), len(points)),
        "mean": np.concatenate([np.clip(p, 0, None) for _, p in points]),
        "model": np.repeat(np.array([COLD_START] * len(points), dtype=object), h),
    }
    return pd.DataFrame(columns)
