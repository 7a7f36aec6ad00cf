"""Settings read from environment variables, with defaults that run on a laptop.

Every knob lives here so the DAGs, the CLI and the tests agree on one meaning.
Nothing here imports Airflow: reading settings must stay cheap at DAG-parse time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import parseaddr
from pathlib import Path

from salescast.contracts import CATALOG_QUANTILES, SQL_IDENTIFIER, freq_supported, sql_identifier_ok
from salescast.deliveries import DeliveryRule
from salescast.forecast import defaults as forecast_defaults
from salescast.paths import (  # noqa: F401 - re-exported: the places config's users know them from
    DAGS_DIR,
    EXPECTATIONS_DIR,
    INCLUDE_DIR,
    PLUGINS_DIR,
    REPO_ROOT,
    SOURCES_DIR,
    SQL_DIR,
)

# DuckDB's memory limit while a day is ingested (SALESCAST_INGEST_MEMORY_MB); the rest of the
# process (Python, the libraries, one batch of records) takes about 450 MB more.
DEFAULT_INGEST_MEMORY_MB = 600


class ConfigError(ValueError):
    """A setting has a value salescast cannot use; the message names the variable."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _float(name: str, default: float, low: float, high: float) -> float:
    raw = _env(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def _int(name: str, default: int, low: int, high: int) -> int:
    value = _float(name, default, low, high)
    if value != int(value):
        raise ConfigError(f"{name}={value!r} must be a whole number")
    return int(value)


def _optional_int(name: str, low: int, high: int) -> int | None:
    """A whole number, or None when unset (the caller's default applies)."""
    return _int(name, low, low, high) if _env(name, "") else None


def _date(name: str, default: str) -> date:
    raw = _env(name, default)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


def _deadline(name: str, default: str) -> timedelta | None:
    """``HH:MM`` (UTC) on the day after the forecast day D, as an offset from D 00:00 (the
    logical date); ``off`` or empty disables the alert."""
    raw = _env(name, default).strip().lower()
    if raw in {"", "off", "none"}:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"{name}={raw!r} must be a UTC time HH:MM on the day after the forecast day, or 'off'")
    return timedelta(days=1, hours=int(match[1]), minutes=int(match[2]))


def _quantiles(name: str, default: str) -> tuple[float, ...]:
    raw = _env(name, default)
    try:
        values = tuple(sorted(float(part) for part in raw.split(",") if part.strip()))
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be a comma-separated list of numbers") from None
    if not values or any(not 0 < q < 1 for q in values):
        raise ConfigError(f"{name}={raw!r}: every quantile must be strictly between 0 and 1")
    if values != CATALOG_QUANTILES:
        raise ConfigError(
            f"{name}={raw!r}: the lake's tables, SQL views (include/sql) and expectation suites have the "
            "columns p10, p50, p90, so the pipeline forecasts 0.1,0.5,0.9 only; other quantiles are available "
            "from `python -m salescast forecast --quantiles ...`"
        )
    return values


def _drivers_mapping(name: str) -> str | None:
    """A drivers mapping's name or path, checked (it is reviewed JSON: a typo stops the DAGs
    at parse time, not a run at 3 a.m.)."""
    raw = _env(name, "").strip()
    if not raw:
        return None
    from salescast.driver_mapping import DriverMapping, MappingError

    try:
        DriverMapping.load(raw)
    except MappingError as error:
        raise ConfigError(f"{name}={raw!r}: {error}") from None
    return raw


def _countries(name: str) -> tuple[str, ...]:
    """ISO country codes (``GB,US``) whose public holidays become forecast regressors."""
    raw = _env(name, "")
    codes = tuple(part.strip().upper() for part in raw.split(",") if part.strip())
    bad = [c for c in codes if not (c.isalpha() and len(c) in (2, 3))]
    if not bad and codes:
        import holidays  # only when set: parsing DAGs stays light by default

        bad = [c for c in codes if c not in holidays.list_supported_countries()]
    if bad:
        raise ConfigError(f"{name}={raw!r}: {bad} are not country codes the holidays package knows (e.g. US, GB, DE)")
    return codes


_PERIOD_DAYS = {"D": 1, "W": 7, "M": 31}


def _freq(name: str, default: str) -> str:
    raw = _env(name, default)
    if not freq_supported(raw):
        raise ConfigError(
            f"{name}={raw!r} is not supported: use 'D' (daily), 'W' or 'W-SUN' (weekly, any W-XXX) or 'M' (monthly)"
        )
    return raw


_WORKGROUP = re.compile(r"\A[A-Za-z0-9._-]{1,128}\Z")  # Athena's rule for workgroup names
_CONN_ID = re.compile(r"\A[\w#!()\-.:/\\]{1,250}\Z")  # Airflow's rule for connection ids
_POOL = re.compile(r"\A[\w.-]{1,256}\Z")  # pool names Airflow can also report in metrics


def athena_database_ok(name: str) -> bool:
    return sql_identifier_ok(name)


def _matching(name: str, default: str, pattern: re.Pattern[str], rule: str) -> str:
    raw = _env(name, default)
    if not pattern.match(raw):
        raise ConfigError(f"{name}={raw!r} is not valid: {rule}")
    return raw


def _address(name: str, value: str) -> str:
    """One mail address, bare or as ``Name <address>``."""
    _, address = parseaddr(value)
    if not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+", address):
        raise ConfigError(f"{name}: {value!r} is not a mail address (like ops@example.com)")
    return value


def _check_horizon(settings: Settings) -> None:
    """A horizon at least as long as the training history cannot be backtested or trusted."""
    freq = settings.freq.strip().upper()[0]
    span = settings.horizon * _PERIOD_DAYS[freq]
    if span >= settings.history_days:
        raise ConfigError(
            f"SALESCAST_HORIZON={settings.horizon} periods of {settings.freq} is longer than "
            f"SALESCAST_HISTORY_DAYS={settings.history_days} days of training history: shorten the horizon "
            "or train on more history"
        )


def _local_uri(path: Path) -> str:
    return path.resolve().as_uri()


@dataclass(frozen=True)
class Settings:
    """What one salescast process needs to know; build it with :meth:`from_env`."""

    home: Path
    lake_uri: str
    aws_conn_id: str
    sql_engine: str
    horizon: int
    freq: str
    quantiles: tuple[float, ...]
    service_level: float
    alert_emails: tuple[str, ...]
    max_bad_row_fraction: float
    landing_settle_seconds: int
    sensor_poke_seconds: int
    sensor_timeout_seconds: int
    backtest_windows: int
    lead_time: int
    history_days: int
    series_per_shard: int
    max_shards: int | None  # None: Airflow's [core] max_map_length, read by the plan task
    forecast_jobs: int
    athena_database: str
    athena_workgroup: str
    athena_output: str
    task_retries: int
    retry_delay_seconds: int
    alert_from: str
    forecast_pool: str
    forecast_pool_slots: int
    holidays: tuple[str, ...] = ()
    smtp_conn_id: str = "smtp_default"
    # The DAGs' start_date: Airflow runs no task for a logical date before it (backfills aside),
    # so it is early by default; `make run` refuses earlier dates instead of a silent no-op.
    start_date: date = date(2000, 1, 1)
    # when the forecast for D must be published, from D 00:00 UTC (None: no deadline alert)
    forecast_deadline: timedelta | None = timedelta(days=1, hours=6)
    # stores that closed for good: never expected to deliver (salescast.deliveries)
    retired_stores: frozenset[str] = frozenset()
    # how long after the end of day D an expected store's sales may still arrive before an alert mail
    delivery_settle_seconds: int = 12 * 3600
    # DuckDB's share of one ingest's memory (MB): what a day needs beyond it spills to the scratch folder
    ingest_memory_mb: int = DEFAULT_INGEST_MEMORY_MB
    # the drivers mapping (include/sources/drivers/<name>.json) that turns demand drivers on; None: off
    drivers_mapping: str | None = None
    # how long after the end of day D the forecast for D waits for the drivers as of D
    drivers_settle_seconds: int = 2 * 3600
    # how long after the end of day D the items DAG waits for an item master delivery as of D
    items_settle_seconds: int = 2 * 3600
    # how long after the end of day D the overrides DAG waits for planner overrides as of D
    overrides_settle_seconds: int = 2 * 3600

    # long on purpose: one line per setting, each validated where it is read
    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_env("SALESCAST_HOME", str(Path.cwd() / ".salescast"))).expanduser().resolve()
        lake_uri = _env("SALESCAST_LAKE_URI", _local_uri(home / "lake")).rstrip("/")
        if not lake_uri.startswith(("file://", "s3://")):
            if "://" in lake_uri:
                raise ConfigError(f"SALESCAST_LAKE_URI={lake_uri!r}: only file:// and s3:// are supported")
            lake_uri = _local_uri(Path(lake_uri).expanduser())
        engine = _env("SALESCAST_SQL_ENGINE", "duckdb").lower()
        if engine not in {"duckdb", "athena"}:
            raise ConfigError(f"SALESCAST_SQL_ENGINE={engine!r} must be 'duckdb' or 'athena'")
        emails = tuple(
            _address("SALESCAST_ALERT_EMAILS", e.strip())
            for e in _env("SALESCAST_ALERT_EMAILS", "").split(",")
            if e.strip()
        )
        athena_output = _env("SALESCAST_ATHENA_OUTPUT", f"{lake_uri}/_athena_results/").rstrip("/") + "/"
        if engine == "athena" and not athena_output.startswith("s3://"):
            raise ConfigError(f"SALESCAST_ATHENA_OUTPUT={athena_output!r} must be an s3:// location for Athena")
        settings = cls(
            home=home,
            lake_uri=lake_uri,
            aws_conn_id=_matching("SALESCAST_AWS_CONN_ID", "aws_default", _CONN_ID, "an Airflow connection id"),
            sql_engine=engine,
            horizon=_int("SALESCAST_HORIZON", forecast_defaults.HORIZON, 1, 3660),
            freq=_freq("SALESCAST_FREQ", forecast_defaults.FREQ),
            quantiles=_quantiles("SALESCAST_QUANTILES", ",".join(map(str, CATALOG_QUANTILES))),
            service_level=_float("SALESCAST_SERVICE_LEVEL", forecast_defaults.SERVICE_LEVEL, 0.5, 0.999),
            alert_emails=emails,
            max_bad_row_fraction=_float("SALESCAST_MAX_BAD_ROW_FRACTION", 0.05, 0.0, 1.0),
            landing_settle_seconds=_int("SALESCAST_LANDING_SETTLE_SECONDS", 60, 0, 86_400),
            sensor_poke_seconds=_int("SALESCAST_SENSOR_POKE_SECONDS", 300, 1, 86_400),
            sensor_timeout_seconds=_int("SALESCAST_SENSOR_TIMEOUT_SECONDS", 12 * 3600, 1, 7 * 86_400),
            backtest_windows=_int("SALESCAST_BACKTEST_WINDOWS", forecast_defaults.WINDOWS, 1, 52),
            lead_time=_int("SALESCAST_LEAD_TIME", forecast_defaults.LEAD_TIME, 1, 365),
            history_days=_int("SALESCAST_HISTORY_DAYS", 730, 14, 20 * 366),
            series_per_shard=_int("SALESCAST_SERIES_PER_SHARD", 500, 1, 10_000_000),
            max_shards=_optional_int("SALESCAST_MAX_SHARDS", 1, 1_000_000),
            forecast_jobs=_int("SALESCAST_FORECAST_JOBS", 1, 1, 256),
            athena_database=_matching(
                "SALESCAST_ATHENA_DATABASE", "salescast", SQL_IDENTIFIER, "lower-case letters, digits and _"
            ),
            athena_workgroup=_matching(
                "SALESCAST_ATHENA_WORKGROUP", "primary", _WORKGROUP, "letters, digits, '.', '_' and '-'"
            ),
            athena_output=athena_output,
            task_retries=_int("SALESCAST_TASK_RETRIES", 2, 0, 10),
            retry_delay_seconds=_int("SALESCAST_RETRY_DELAY_SECONDS", 60, 1, 3600),
            alert_from=_address("SALESCAST_ALERT_FROM", _env("SALESCAST_ALERT_FROM", "salescast@localhost")),
            forecast_pool=_matching(
                "SALESCAST_FORECAST_POOL", "salescast_forecast", _POOL, "letters, digits, '.', '_' and '-'"
            ),
            forecast_pool_slots=_int("SALESCAST_FORECAST_POOL_SLOTS", 4, 1, 4096),
            holidays=_countries("SALESCAST_HOLIDAYS"),
            smtp_conn_id=_matching("SALESCAST_SMTP_CONN_ID", "smtp_default", _CONN_ID, "an Airflow connection id"),
            start_date=_date("SALESCAST_START_DATE", "2000-01-01"),
            forecast_deadline=_deadline("SALESCAST_FORECAST_DEADLINE", "06:00"),
            retired_stores=frozenset(s.strip() for s in _env("SALESCAST_RETIRED_STORES", "").split(",") if s.strip()),
            delivery_settle_seconds=_int("SALESCAST_DELIVERY_SETTLE_SECONDS", 12 * 3600, 0, 7 * 86_400),
            ingest_memory_mb=_int("SALESCAST_INGEST_MEMORY_MB", DEFAULT_INGEST_MEMORY_MB, 64, 1_048_576),
            drivers_mapping=_drivers_mapping("SALESCAST_DRIVERS_MAPPING"),
            drivers_settle_seconds=_int("SALESCAST_DRIVERS_SETTLE_SECONDS", 2 * 3600, 0, 7 * 86_400),
            items_settle_seconds=_int("SALESCAST_ITEMS_SETTLE_SECONDS", 2 * 3600, 0, 7 * 86_400),
            overrides_settle_seconds=_int("SALESCAST_OVERRIDES_SETTLE_SECONDS", 2 * 3600, 0, 7 * 86_400),
        )
        _check_horizon(settings)
        return settings

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def delivery_rule(self) -> DeliveryRule:
        return DeliveryRule(retired=self.retired_stores)

    @property
    def is_s3(self) -> bool:
        return self.lake_uri.startswith("s3://")
