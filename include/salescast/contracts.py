"""Rules several layers must agree on, in one place: frequencies, quantile columns, SQL
identifiers, the shard of a series.

Pandas-free and cheap to import: DAG files, settings, the SQL catalog, the engine and the
dashboard all import it, so a rule is never restated (and kept in step by a test) elsewhere.
"""

from __future__ import annotations

import re
import zlib

WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# The quantiles the lake's tables, SQL views and GX suites have columns for (p10, p50, p90).
CATALOG_QUANTILES = (0.1, 0.5, 0.9)
# Glue/Athena database (and table) names: lower-case letters, digits and _.
SQL_IDENTIFIER = re.compile(r"\A[a-z_][a-z0-9_]{0,254}\Z")


class ForecastInputError(ValueError):
    """The history (or the forecast's settings) cannot be forecast as given; the message says what to fix."""


def normalize_freq(freq: str) -> str:
    """The engine's spelling of a supported frequency: 'D'; weekly 'W-XXX' ('W' is 'W-SUN');
    monthly 'ME' (month end; 'M' accepted)."""
    text = freq.strip().upper()
    if text == "D":
        return "D"
    if text in ("M", "ME"):
        return "ME"
    if text == "W":
        return "W-SUN"
    if text.startswith("W-") and text[2:] in WEEKDAYS:
        return text
    raise ForecastInputError(f"frequency {freq!r} is not supported: use 'D', a weekly alias like 'W-SUN', or 'M'")


def freq_supported(freq: str) -> bool:
    try:
        normalize_freq(freq)
    except ForecastInputError:
        return False
    return True


def period_alias(freq: str) -> str:
    """pandas' Period alias of an engine frequency (periods say 'M' where dates say 'ME')."""
    return "M" if freq == "ME" else freq


def quantile_column(tau: float) -> str:
    """The column of quantile ``tau`` in every table: 0.1 -> 'p10'."""
    return f"p{round(tau * 100):d}"


CATALOG_QUANTILE_COLUMNS = tuple(quantile_column(q) for q in CATALOG_QUANTILES)


def sql_identifier_ok(name: str) -> bool:
    return isinstance(name, str) and bool(SQL_IDENTIFIER.match(name))


def shard_of(store_id: str, item_id: str, n_shards: int) -> int:
    """The shard of a series: the same on every machine and run (crc32, documented in
    docs/data-contracts.md), so plan and shards agree without talking."""
    return zlib.crc32(f"{store_id}\x1f{item_id}".encode()) % n_shards
