"""A run's (or shard's) outputs from its series outcomes: the forecasts, metrics and
safety-stock tables, and the run summary, which merges exactly across shards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salescast.forecast import safety_stock as ss
from salescast.forecast.bands import MIN_POOL_SERIES
from salescast.forecast.config import ForecastConfig
from salescast.forecast.driver_plan import merge_summary
from salescast.forecast.metrics import ScoreSums
from salescast.forecast.outcome import SeriesOutcome
from salescast.forecast.panel import target_dates

BAKE_OFF = "bake_off"  # the summary's sums of each series' chosen model


CENSORED_COLUMNS = ["store_id", "item_id", "date"]


@dataclass
class ForecastResult:
    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    safety_stock: pd.DataFrame
    summary: dict[str, Any]  # RunSummary.to_dict()
    # The history's periods of unknown demand (drivers: stock-outs, closures) per series, so the
    # accuracy views leave them out as the backtest does; no rows without drivers.
    censored: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CENSORED_COLUMNS))


@dataclass
class RunSummary:
    """What a run (or shard) did, kept as raw sums so shards merge exactly: scores are
    recomputed from summed numerators and denominators, never averaged."""

    series: int
    sums: dict[str, ScoreSums]  # BAKE_OFF and every model that ran
    horizon: int
    freq: str
    windows: int
    quantiles: list[float]
    model_mix: dict[str, int]
    skipped_models: dict[str, int]
    fallbacks: dict[str, int]
    safety_target: float
    safety_covered: int
    safety_evaluated: int
    lead_time: int
    imputed_days: int = 0
    dropped_partial_period: dict[str, Any] | None = field(default=None)
    drivers: dict[str, Any] | None = None  # with drivers only (driver_plan.DriverPlan.summary)

    def to_dict(self) -> dict[str, Any]:
        per_model = {k: v.scores() for k, v in self.sums.items() if k != BAKE_OFF}
        bake = self.sums[BAKE_OFF].scores() if BAKE_OFF in self.sums else {}
        out = {
            "series": self.series,
            "imputed_days": self.imputed_days,
            "sums": {k: v.to_dict() for k, v in self.sums.items()},
            "horizon": self.horizon,
            "freq": self.freq,
            "windows": self.windows,
            "quantiles": self.quantiles,
            "backtest": {BAKE_OFF: bake, "per_model": per_model},
            "model_mix": self.model_mix,
            "skipped_models": self.skipped_models,
            "fallbacks": self.fallbacks,
            "safety_stock": {
                "target_service_level": self.safety_target,
                "achieved_service_level": self.safety_covered / self.safety_evaluated
                if self.safety_evaluated
                else None,
                "covered": self.safety_covered,
                "evaluated": self.safety_evaluated,
                "lead_time": self.lead_time,
            },
            "dropped_partial_period": self.dropped_partial_period,
        }
        return out | ({"drivers": self.drivers} if self.drivers is not None else {})

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunSummary:
        stock = raw["safety_stock"]
        return cls(
            series=raw["series"],
            sums={k: ScoreSums.from_dict(v) for k, v in raw["sums"].items()},
            horizon=raw["horizon"],
            freq=raw["freq"],
            windows=raw["windows"],
            quantiles=raw["quantiles"],
            model_mix=dict(raw["model_mix"]),
            skipped_models=dict(raw["skipped_models"]),
            fallbacks=dict(raw["fallbacks"]),
            safety_target=stock["target_service_level"],
            safety_covered=stock["covered"],
            safety_evaluated=stock["evaluated"],
            lead_time=stock["lead_time"],
            imputed_days=raw.get("imputed_days", 0),
            dropped_partial_period=raw.get("dropped_partial_period"),
            drivers=raw.get("drivers"),
        )

    def merge(self, other: RunSummary) -> None:
        """Add ``other`` (another shard of the same run) into this summary."""
        self.series += other.series
        self.imputed_days = max(self.imputed_days, other.imputed_days)  # the same days in every shard
        for name, sums in other.sums.items():
            if name in self.sums:
                self.sums[name].merge(sums)
            else:
                self.sums[name] = ScoreSums.from_dict(sums.to_dict())
        for mine, theirs in ((self.model_mix, other.model_mix), (self.skipped_models, other.skipped_models),
                             (self.fallbacks, other.fallbacks)):  # fmt: skip
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.safety_covered += other.safety_covered
        self.safety_evaluated += other.safety_evaluated
        self.drivers = merge_summary(self.drivers, other.drivers)


def merge_summaries(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Combine shard summaries (``RunSummary.to_dict()``) exactly."""
    if not parts:
        raise ValueError("no shard summaries to merge")
    merged = RunSummary.from_dict(parts[0])
    for part in parts[1:]:
        merged.merge(RunSummary.from_dict(part))
    return merged.to_dict()


def forecast_frame(outcomes: Sequence[SeriesOutcome], dates: pd.DatetimeIndex, cfg: ForecastConfig) -> pd.DataFrame:
    """One row per series and horizon step, built column-wise (a frame per series cost ~4 ms
    each: 40 s of a 10,000-series run, in the parent process after the workers are done)."""
    qcols = cfg.quantile_columns
    if not outcomes:
        return pd.DataFrame(columns=["store_id", "item_id", "date", *qcols, "horizon_step", "mean", "model"])
    h, n = cfg.horizon, len(outcomes)
    quantiles = np.concatenate([_band(o).T for o in outcomes])
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


def _band(outcome: SeriesOutcome) -> np.ndarray:
    if outcome.quantiles is None:
        raise ValueError(f"series {outcome.store_id}/{outcome.item_id} has no band: build_bands was not run")
    return outcome.quantiles


@dataclass
class _Backtest:
    """Metric rows per series and model, and the pooled sums behind the summary."""

    chosen: ScoreSums  # sums of each series' chosen model
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_model: dict[str, ScoreSums] = field(default_factory=dict)
    skips: dict[str, int] = field(default_factory=dict)


def _backtest_metrics(outcomes: Sequence[SeriesOutcome], cfg: ForecastConfig) -> _Backtest:
    out = _Backtest(chosen=ScoreSums(cfg.quantiles))
    for o in outcomes:
        for name in o.skipped:
            out.skips[name] = out.skips.get(name, 0) + 1
        base = {"store_id": o.store_id, "item_id": o.item_id, "n_windows": o.windows, "censored_days": o.censored_days}
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
            history = o.history if o.history is not None else np.zeros(0)
            errors = ss.history_errors(history, cfg.lead_time) / o.level
            spread = ss.own_spread(history[-28:], cfg.lead_time, cfg.service_level)
        stock = ss.safety_stock(
            errors, o.mean, cfg.lead_time, cfg.service_level, o.level, pooled[o.intermittent], spread
        )
        samples = ss.known_errors(errors)  # lead times over censored days (NaN) left out
        if o.lead_errors is not None and samples.size:  # out of sample: backtest errors only
            if stock.method == "series_errors":
                c, t = ss.achieved_service_level(errors, cfg.service_level)
            else:
                c, t = int((samples <= stock.safety_stock / o.level).sum()), samples.size
            covered, total = covered + c, total + t
        rows.append(
            {"store_id": o.store_id, "item_id": o.item_id, "lead_time": cfg.lead_time}
            | {"service_level": cfg.service_level, "safety_stock": stock.safety_stock}
            | {"lead_time_demand": stock.lead_time_demand, "reorder_point": stock.reorder_point}
            | {"method": stock.method, "model": o.model, "error_samples": int(samples.size)}
        )
    return pd.DataFrame(rows), covered, total


def assemble_result(outcomes: Sequence[SeriesOutcome], last: pd.Timestamp, cfg: ForecastConfig) -> tuple[
    pd.DataFrame, pd.DataFrame, pd.DataFrame, RunSummary
]:  # fmt: skip
    """Forecast, metric and safety-stock tables of a run (or shard), and its summary."""
    forecasts = forecast_frame(outcomes, target_dates(pd.Timestamp(last), cfg.horizon, cfg.freq), cfg)
    backtest = _backtest_metrics(outcomes, cfg)
    stocks, covered, total = _safety_stocks(outcomes, cfg)
    mix = pd.Series([o.model for o in outcomes]).value_counts().to_dict() if outcomes else {}
    summary = RunSummary(
        series=len(outcomes),
        sums={BAKE_OFF: backtest.chosen} | backtest.per_model,
        horizon=cfg.horizon,
        freq=cfg.freq,
        windows=cfg.backtest_windows,
        quantiles=list(cfg.quantiles),
        model_mix={str(k): int(v) for k, v in mix.items()},
        skipped_models=backtest.skips,
        fallbacks=dict(Counter(o.reason for o in outcomes if not o.candidates)),
        safety_target=cfg.service_level,
        safety_covered=covered,
        safety_evaluated=total,
        lead_time=cfg.lead_time,
    )
    return forecasts, pd.DataFrame(backtest.rows), stocks, summary


def censored_frame(
    keys: pd.DataFrame, dates: pd.DatetimeIndex, censored: np.ndarray | None, rows: Sequence[int]
) -> pd.DataFrame:
    """``store_id, item_id, date`` of each censored period of the series ``rows`` (panel order)."""
    if censored is None:
        return pd.DataFrame(columns=CENSORED_COLUMNS)
    series, at = np.nonzero(censored[list(rows)])
    picked = keys.iloc[np.asarray(rows, dtype=int)[series]]
    return pd.DataFrame(
        {
            "store_id": picked["store_id"].to_numpy(),
            "item_id": picked["item_id"].to_numpy(),
            "date": dates[at].date,
        }
    )
