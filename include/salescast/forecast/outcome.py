"""What forecasting one series yields, handed from the per-series work to the run's tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from salescast.forecast import calibration
from salescast.forecast.config import ForecastConfig, level_window
from salescast.forecast.metrics import ScoreSums


@dataclass
class SeriesOutcome:
    """One series' forecast and what the run's later steps need of it.

    A bake-off series leaves ``quantiles`` None: its band is built once for the whole run
    (salescast.forecast.bands) from ``point``, ``residuals`` and ``level``, because it borrows
    the error shape of comparable series. A fallback's band is final here."""

    store_id: str
    item_id: str
    model: str
    reason: str
    quantiles: np.ndarray | None  # [taus, h]
    mean: np.ndarray  # [h]
    history: np.ndarray | None  # kept only where safety stock needs it (no backtest errors)
    candidates: dict[str, ScoreSums] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    lead_errors: np.ndarray | None = None
    intermittent: bool = False
    windows: int = 0
    level: float = 1.0  # typical size of the series today: what level-scaled errors multiply
    residuals: np.ndarray | None = None  # level-scaled errors of the chosen model [windows, h]
    point: np.ndarray | None = None  # its point forecast, before clipping
    censored_days: int = 0  # days of unknown demand (drivers: out of stock, store closed)


def today_level(y: np.ndarray, cfg: ForecastConfig) -> float:
    """The series' typical size now: what its safety stock and bands scale with."""
    return calibration.level(y, y.size, level_window(cfg.freq))
