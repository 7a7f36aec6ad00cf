"""Accuracy metrics with Amazon Forecast's definitions, kept as sums so they aggregate exactly.

wQL[tau] = 2 * sum(tau * max(y - q, 0) + (1 - tau) * max(q - y, 0)) / sum(|y|)
WAPE     = sum(|y - p50|) / sum(|y|)
MASE     = mean(|y - p50|) / mean(|y_t - y_{t-m}|) over the training data
coverage = share of actuals inside [lowest quantile, highest quantile]

Per-series scores are ratios of sums; overall scores are ratios of the summed sums, never
averages of ratios, so large series weigh what they sell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def quantile_loss_sum(y: np.ndarray, q: np.ndarray, tau: float) -> float:
    """Numerator of wQL[tau]: 2 * sum of pinball losses."""
    diff = np.asarray(y, dtype=float) - np.asarray(q, dtype=float)
    return float(2.0 * np.sum(np.maximum(tau * diff, (tau - 1.0) * diff)))


def wql(y: np.ndarray, q: np.ndarray, tau: float) -> float:
    denom = float(np.sum(np.abs(y)))
    return quantile_loss_sum(y, q, tau) / denom if denom > 0 else float("nan")


def wape(y: np.ndarray, p50: np.ndarray) -> float:
    denom = float(np.sum(np.abs(y)))
    return float(np.sum(np.abs(np.asarray(y) - np.asarray(p50)))) / denom if denom > 0 else float("nan")


def mase_scale(train: np.ndarray, season: int) -> float:
    """Mean absolute seasonal difference of the training data (falls back to lag 1)."""
    train = np.asarray(train, dtype=float)
    lag = season if len(train) > season else 1
    if len(train) <= lag:
        return float("nan")
    return float(np.mean(np.abs(train[lag:] - train[:-lag])))


def coverage(y: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    y = np.asarray(y, dtype=float)
    return float(np.mean((y >= low) & (y <= high))) if y.size else float("nan")


class ScoreSums:
    """Running sums for one model over any set of series and windows."""

    def __init__(self, taus: Sequence[float]) -> None:
        self.taus = tuple(taus)
        self.ql = np.zeros(len(self.taus))
        self.abs_y = 0.0
        self.abs_err = 0.0
        self.mase_num = 0.0
        self.mase_n = 0
        self.covered = 0
        self.points = 0

    def add(self, y: np.ndarray, quantiles: np.ndarray, scale: float) -> None:
        """``quantiles`` has one row per tau; the median row is the p50."""
        y = np.asarray(y, dtype=float).ravel()
        quantiles = np.asarray(quantiles, dtype=float).reshape(len(self.taus), -1)
        known = ~np.isnan(y)
        if not known.all():  # censored periods (unknown demand) are not scored
            y, quantiles = y[known], quantiles[:, known]
        for i, tau in enumerate(self.taus):
            self.ql[i] += quantile_loss_sum(y, quantiles[i], tau)
        p50 = quantiles[self.median_index]
        self.abs_y += float(np.abs(y).sum())
        err = float(np.abs(y - p50).sum())
        self.abs_err += err
        if scale and np.isfinite(scale) and scale > 0:
            self.mase_num += err / scale
            self.mase_n += y.size
        self.covered += int(((y >= quantiles[0]) & (y <= quantiles[-1])).sum())
        self.points += y.size

    def merge(self, other: ScoreSums) -> None:
        self.ql += other.ql
        for name in ("abs_y", "abs_err", "mase_num", "mase_n", "covered", "points"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, object]:
        """Raw sums, so scores from shards can be merged exactly later."""
        fields = ("abs_y", "abs_err", "mase_num", "mase_n", "covered", "points")
        return {"taus": list(self.taus), "ql": self.ql.tolist()} | {f: getattr(self, f) for f in fields}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ScoreSums:
        sums = cls(data["taus"])  # type: ignore[arg-type]
        sums.ql = np.asarray(data["ql"], dtype=float)
        for name in ("abs_y", "abs_err", "mase_num", "mase_n", "covered", "points"):
            setattr(sums, name, data[name])
        return sums

    @property
    def median_index(self) -> int:
        return int(np.argmin([abs(t - 0.5) for t in self.taus]))

    def scores(self) -> dict[str, float]:
        nan = float("nan")
        out = {
            f"wql_p{round(t * 100):d}": (q / self.abs_y if self.abs_y > 0 else nan)
            for t, q in zip(self.taus, self.ql, strict=True)
        }
        wqls = [v for v in out.values()]
        out["mean_wql"] = float(np.mean(wqls)) if self.abs_y > 0 else nan
        out["wape"] = self.abs_err / self.abs_y if self.abs_y > 0 else nan
        out["mase"] = self.mase_num / self.mase_n if self.mase_n else nan
        out["coverage"] = self.covered / self.points if self.points else nan
        out["points"] = float(self.points)
        return out
