"""Forecast defaults, in one place: the engine's ForecastConfig, the SALESCAST_* settings and
the CLI's flags all start from these (light: no pandas, so settings and CLI parsing stay fast)."""

HORIZON = 7
FREQ = "D"
QUANTILES = (0.1, 0.5, 0.9)  # also the quantile columns of the lake's tables and views
WINDOWS = 4
LEAD_TIME = 7
SERVICE_LEVEL = 0.95
