"""Forecast defaults, in one place: the engine's ForecastConfig, the SALESCAST_* settings and
the CLI's flags all start from these (light: no pandas, so settings and CLI parsing stay fast)."""

from salescast.contracts import CATALOG_QUANTILES

HORIZON = 7
FREQ = "D"
QUANTILES = CATALOG_QUANTILES  # the quantile columns of the lake's tables and views
WINDOWS = 4
LEAD_TIME = 7
SERVICE_LEVEL = 0.95
