"""The bake-off: for every store x item series, backtest each candidate, keep the best.

Input is canonical daily rows (``date, store_id, item_id, units``). Missing periods are zero
sales; a series starts at its first sale, so new items have short histories. Each series
gets a rolling-origin backtest with ``windows`` windows of ``horizon`` periods; candidates
are scored by mean wQL with cross-fitted calibrated quantiles and the lowest wins. Short,
all-zero or constant series get a simple model and a recorded reason instead.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

from salescast.forecasting import calibration, models
from salescast.forecasting import safety_stock as ss
from salescast.forecasting.metrics import ScoreSums, mase_scale

REQUIRED = ("date", "store_id", "item_id", "units")
# Calibration wants at least this many residuals per series: short horizons get extra windows.
MIN_RESIDUALS = 28


class ForecastInputError(ValueError):
    """The history cannot be forecast as given; the message says what to fix."""


@dataclass(frozen=True)
class ForecastConfig:
    horizon: int = 7
    freq: str = "D"
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    windows: int = 2
    lead_time: int = 7
    service_level: float = 0.95
    intermittent_zero_share: float = 0.4
    candidates: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.horizon < 1 or self.windows < 1:
            raise ForecastInputError("horizon and windows must be at least 1")
        if not self.quantiles or any(not 0 < q < 1 for q in self.quantiles):
            raise ForecastInputError(f"quantiles must be strictly between 0 and 1, got {self.quantiles}")
        object.__setattr__(self, "quantiles", tuple(sorted(self.quantiles)))
        object.__setattr__(self, "freq", normalize_freq(self.freq))
        if self.candidates is not None:
            unknown = set(self.candidates) - {c.name for c in models.CANDIDATES}
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
    """Weekly cycle for daily data; yearly for weekly and monthly data when 3 years exist."""
    if freq == "D":
        return 7
    if freq == "ME":
        return 12 if n >= 36 else 1
    return 52 if n >= 3 * 52 else 1


@dataclass
class Panel:
    keys: pd.DataFrame  # store_id, item_id
    dates: pd.DatetimeIndex
    values: np.ndarray  # [series, periods]
    first: np.ndarray  # index of each series' first non-zero period
    imputed_days: int = 0


def _impute_missing_days(values: np.ndarray, missing: np.ndarray, season: int) -> None:
    """Days with no data at all (e.g. a rejected ingest) are unknown, not zero sales:
    fill them from the same weekday a week earlier (or later at the start), in place."""
    for col in np.flatnonzero(missing):
        for source in (col - season, col + season, col - 1, col + 1):
            if 0 <= source < values.shape[1] and not missing[source]:
                values[:, col] = values[:, source]
                break


def build_panel(
    history: pd.DataFrame,
    freq: str = "D",
    end: pd.Timestamp | None = None,
    known_days: pd.DatetimeIndex | None = None,
) -> Panel:
    """Dense series x period matrix; zeros where a known day has no row for a series.

    ``known_days`` lists the days whose data exist (published partitions); other days in the
    range are imputed instead of being read as zero sales. Without it every day counts."""
    missing = [c for c in REQUIRED if c not in history.columns]
    if missing:
        raise ForecastInputError(f"history is missing columns {missing}; it needs {list(REQUIRED)}")
    frame = history[list(REQUIRED)].copy()
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    frame["units"] = pd.to_numeric(frame["units"], errors="coerce")
    bad = frame["date"].isna() | frame["units"].isna() | frame["store_id"].isna() | frame["item_id"].isna()
    if bad.any():
        raise ForecastInputError(f"{int(bad.sum())} history rows have a missing or unparseable date/id/units")
    if frame.empty:
        raise ForecastInputError("history is empty")
    freq = normalize_freq(freq)
    frame["store_id"] = frame["store_id"].astype(str)
    frame["item_id"] = frame["item_id"].astype(str)
    last = pd.Timestamp(end) if end is not None else frame["date"].max()
    frame = frame[frame["date"] <= last]
    if freq != "D":
        period = "M" if freq == "ME" else freq
        frame["date"] = frame["date"].dt.to_period(period).dt.end_time.dt.normalize()
        last = last.to_period(period).end_time.normalize()
    wide = frame.pivot_table(index=["store_id", "item_id"], columns="date", values="units", aggfunc="sum")
    dates = pd.date_range(frame["date"].min(), last, freq=freq)
    wide = wide.reindex(columns=dates, fill_value=0.0).fillna(0.0)
    values = wide.to_numpy(dtype=float)
    imputed = 0
    if known_days is not None and freq == "D":
        missing = ~dates.isin(pd.DatetimeIndex(known_days).normalize())
        imputed = int(missing.sum())
        _impute_missing_days(values, missing, 7)
    nonzero = values != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), values.shape[1])
    keys = wide.index.to_frame(index=False)
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


@dataclass
class SeriesOutcome:
    store_id: str
    item_id: str
    model: str
    reason: str
    quantiles: np.ndarray  # [taus, h]
    mean: np.ndarray  # [h]
    history: np.ndarray
    candidates: dict[str, ScoreSums] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    lead_errors: np.ndarray | None = None
    intermittent: bool = False


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
    return SeriesOutcome(key[0], key[1], model, reason, q, mean, y)


def forecast_series(y_full: np.ndarray, first: int, key: tuple[str, str], cfg: ForecastConfig) -> SeriesOutcome:
    """Bake-off for one series; never raises for data reasons."""
    y = np.asarray(y_full[first:], dtype=float)
    h, k = cfg.horizon, cfg.backtest_windows
    m = season_length(cfg.freq, len(y))
    need = k * h + max(2 * m, 8) + 2
    if y.size == 0 or not np.any(y):
        return _fallback(y, cfg, "zero", "all zeros: no sales in the history", key)
    if y.size < need:
        return _fallback(y, cfg, "recent_mean", f"short history: {y.size} periods, backtest needs {need}", key)
    if np.ptp(y) == 0:
        return _fallback(y, cfg, "recent_mean", "constant series", key)

    n = y.size
    origins = [n - (k - i) * h for i in range(k)] + [n]
    actuals = np.stack([y[o : o + h] for o in origins[:k]])
    scale = mase_scale(y[: origins[0]], m)
    intermittent = float(np.mean(y[-models.TRAIN_WINDOW :] == 0)) >= cfg.intermittent_zero_share
    allowed = set(cfg.candidates) if cfg.candidates else None
    results: list[CandidateResult] = []
    skipped: dict[str, str] = {}
    for cand in models.CANDIDATES:
        if (allowed is not None and cand.name not in allowed) or (cand.intermittent_only and not intermittent):
            continue
        try:
            paths = cand.forecast(y, origins, h, m)
        except models.ModelSkipped as why:
            skipped[cand.name] = str(why)
            continue
        points = paths[:k]
        quantiles = calibration.crossfit(points, actuals, cfg.quantiles)
        sums = ScoreSums(cfg.quantiles)
        for i in range(k):
            sums.add(actuals[i], quantiles[i], scale)
        results.append(CandidateResult(cand.name, sums, points, paths[k]))
    if not results:
        outcome = _fallback(y, cfg, "recent_mean", "every candidate failed: " + "; ".join(skipped.values()), key)
        outcome.skipped = skipped
        return outcome
    best = min(results, key=lambda r: float(r.sums.ql.sum()))
    final_q = calibration.assemble(best.final, calibration.offsets(actuals - best.points, cfg.quantiles))
    return SeriesOutcome(
        store_id=key[0],
        item_id=key[1],
        model=best.name,
        reason="lowest backtest mean wQL" + (" (intermittent)" if intermittent else ""),
        quantiles=final_q,
        mean=np.clip(best.final, 0, None),
        history=y,
        candidates={r.name: r.sums for r in results},
        skipped=skipped,
        lead_errors=ss.lead_time_errors(best.points, actuals, cfg.lead_time),
        intermittent=intermittent,
    )


def _run_chunk(args: tuple[np.ndarray, np.ndarray, list[tuple[str, str]], ForecastConfig]) -> list[SeriesOutcome]:
    values, first, keys, cfg = args
    return [forecast_series(values[i], int(first[i]), keys[i], cfg) for i in range(len(keys))]


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
) -> ForecastResult:
    """Forecast every series (or one shard of them) of a canonical history."""
    panel = build_panel(history, cfg.freq, end, known_days)
    keys = list(zip(panel.keys["store_id"], panel.keys["item_id"], strict=True))
    index = [i for i, (s, it) in enumerate(keys) if shard is None or shard_of(s, it, n_shards) == shard]
    jobs = max(1, min(jobs, len(index) or 1))
    chunks = [index[j :: jobs * 4] for j in range(jobs * 4)] if jobs > 1 else [index]
    tasks = [(panel.values[c], panel.first[c], [keys[i] for i in c], cfg) for c in chunks if c]
    # Workers are forked: they share the parent's imports and its single-threaded BLAS
    # (see salescast.threads), so `jobs` processes use `jobs` cores, not jobs x cores.
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            outcomes = [o for part in pool.map(_run_chunk, tasks) for o in part]
    else:
        outcomes = [o for task in tasks for o in _run_chunk(task)]
    outcomes.sort(key=lambda o: (o.store_id, o.item_id))
    result = assemble_result(outcomes, panel.dates[-1], cfg)
    result.summary["imputed_days"] = panel.imputed_days
    return result


def _target_dates(last: pd.Timestamp, cfg: ForecastConfig) -> pd.DatetimeIndex:
    return pd.date_range(last, periods=cfg.horizon + 1, freq=cfg.freq)[1:]


def assemble_result(outcomes: Sequence[SeriesOutcome], last: pd.Timestamp, cfg: ForecastConfig) -> ForecastResult:
    dates = _target_dates(pd.Timestamp(last), cfg)
    qcols = cfg.quantile_columns
    forecast_rows: list[pd.DataFrame] = []
    metric_rows: list[dict[str, Any]] = []
    per_model: dict[str, ScoreSums] = {}
    chosen = ScoreSums(cfg.quantiles)
    skips: dict[str, int] = {}
    pooled = [
        o.lead_errors.ravel() / ss.level_scale(o.history, cfg.lead_time) for o in outcomes if o.lead_errors is not None
    ]
    pooled_errors = np.concatenate(pooled) if pooled else np.array([])
    stock_rows: list[dict[str, Any]] = []
    covered = total = 0
    for o in outcomes:
        frame = pd.DataFrame(o.quantiles.T, columns=qcols)
        frame.insert(0, "date", dates.date)
        frame.insert(0, "item_id", o.item_id)
        frame.insert(0, "store_id", o.store_id)
        frame["horizon_step"] = np.arange(1, cfg.horizon + 1)
        frame["mean"] = o.mean
        frame["model"] = o.model
        forecast_rows.append(frame)
        for name in o.skipped:
            skips[name] = skips.get(name, 0) + 1
        base = {"store_id": o.store_id, "item_id": o.item_id, "n_windows": cfg.backtest_windows}
        if not o.candidates:
            metric_rows.append(
                base | {"model": o.model, "chosen": True, "reason": o.reason, "skipped_models": len(o.skipped)}
            )
        for name, sums in o.candidates.items():
            per_model.setdefault(name, ScoreSums(cfg.quantiles)).merge(sums)
            if name == o.model:
                chosen.merge(sums)
            metric_rows.append(
                base
                | {"model": name, "chosen": name == o.model, "reason": o.reason if name == o.model else None}
                | {"skipped_models": len(o.skipped)}
                | sums.scores()
            )
        scale = ss.level_scale(o.history, cfg.lead_time)
        errors = o.lead_errors if o.lead_errors is not None else np.zeros((0, 0))
        stock = ss.safety_stock(errors, o.mean, cfg.lead_time, cfg.service_level, scale, pooled_errors)
        if errors.size:
            if stock.method == "series_errors":
                c, t = ss.achieved_service_level(errors, cfg.service_level)
            else:
                c, t = int((errors <= stock.safety_stock).sum()), errors.size
            covered, total = covered + c, total + t
        stock_rows.append(
            {
                "store_id": o.store_id,
                "item_id": o.item_id,
                "lead_time": cfg.lead_time,
                "service_level": cfg.service_level,
            }
            | {"safety_stock": stock.safety_stock, "lead_time_demand": stock.lead_time_demand}
            | {"reorder_point": stock.reorder_point, "method": stock.method, "model": o.model}
        )
    forecasts = (
        pd.concat(forecast_rows, ignore_index=True)
        if forecast_rows
        else pd.DataFrame(columns=["store_id", "item_id", "date", *qcols, "horizon_step", "mean", "model"])
    )
    metrics = pd.DataFrame(metric_rows)
    mix = pd.Series([o.model for o in outcomes]).value_counts().to_dict() if outcomes else {}
    summary = {
        "series": len(outcomes),
        "sums": {"bake_off": chosen.to_dict()} | {k: v.to_dict() for k, v in per_model.items()},
        "horizon": cfg.horizon,
        "freq": cfg.freq,
        "windows": cfg.backtest_windows,
        "quantiles": list(cfg.quantiles),
        "backtest": {"bake_off": chosen.scores()} | {"per_model": {k: v.scores() for k, v in per_model.items()}},
        "model_mix": {str(k): int(v) for k, v in mix.items()},
        "skipped_models": skips,
        "fallbacks": {o.reason: sum(1 for x in outcomes if x.reason == o.reason) for o in outcomes if not o.candidates},
        "safety_stock": {
            "target_service_level": cfg.service_level,
            "achieved_service_level": covered / total if total else None,
            "covered": covered,
            "evaluated": total,
            "lead_time": cfg.lead_time,
        },
    }
    return ForecastResult(forecasts, metrics, pd.DataFrame(stock_rows), summary)


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
