"""What a forecast run is asked for (horizon, frequency, quantiles, backtest, safety stock,
holidays), and the per-frequency rules derived from it (season, year, level window)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from salescast.contracts import ForecastInputError, normalize_freq, quantile_column
from salescast.forecast import defaults
from salescast.forecast.calendar import UnknownCountry, check_countries
from salescast.forecast.models import registry

if TYPE_CHECKING:
    from salescast.config import Settings

# Calibration wants at least this many residuals per series: short horizons get extra windows.
MIN_RESIDUALS = 28


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
            unknown = set(self.candidates) - set(registry.SELECTABLE)
            if unknown:
                raise ForecastInputError(f"unknown candidate models: {sorted(unknown)}")

    @property
    def backtest_windows(self) -> int:
        """``windows``, raised so that windows x horizon >= MIN_RESIDUALS (e.g. 4 for h=7)."""
        return max(self.windows, -(-MIN_RESIDUALS // self.horizon))

    def horizon_end(self, last: Any) -> Any:
        """The last period the forecast covers (a pandas Timestamp), from the history's last
        period ``last``: where known-ahead drivers must reach."""
        import pandas as pd

        return pd.Timestamp(last) + pd.tseries.frequencies.to_offset(self.freq) * self.horizon

    @property
    def quantile_columns(self) -> list[str]:
        return [quantile_column(q) for q in self.quantiles]

    @property
    def median_column(self) -> str:
        """The quantile column nearest the median (``p50`` with the default quantiles)."""
        return quantile_column(min(self.quantiles, key=lambda q: abs(q - 0.5)))

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ForecastConfig:
        """The one builder: the DAG's tasks and the CLI (whose flags are ``overrides``) alike."""
        values: dict[str, Any] = {
            "horizon": settings.horizon,
            "freq": settings.freq,
            "quantiles": settings.quantiles,
            "windows": settings.backtest_windows,
            "lead_time": settings.lead_time,
            "service_level": settings.service_level,
            "holidays": settings.holidays,
        }
        return cls(**(values | overrides))


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
