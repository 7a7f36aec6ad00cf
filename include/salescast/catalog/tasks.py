"""What each ``sales_catalog`` task does.

The days to register come from the Asset events that triggered the run (their ``extra``
carries ``dt`` from ingest and ``run_date`` from forecast) or, for a run started by date
(``make run DAG=sales_catalog DATE=D``), from the logical date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from salescast.catalog import sql as catalog
from salescast.config import Settings
from salescast.lake import Lake, partition_day
from salescast.publish import is_published


def days_from_context(context: dict[str, Any]) -> list[str]:
    days: set[str] = set()
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            extra = getattr(event, "extra", None) or {}
            for key in ("dt", "run_date", "asof"):
                if extra.get(key):
                    days.add(catalog.partition_value(extra[key]))
    if context.get("ds"):
        days.add(catalog.partition_value(context["ds"]))
    if not days:
        raise ValueError("no day to register: neither asset events with dt/run_date nor a logical date")
    return sorted(days)


def refresh_duckdb_catalog(report: Callable[[str], None] | None = None) -> dict[str, int]:
    """The DuckDB views over the lake, ``file://`` or ``s3://`` (read through the lake's filesystem);
    ``report`` gets a note when readers made the refresh go aside (default: the log)."""
    settings = Settings.from_env()
    return catalog.refresh_duckdb(Lake.from_settings(settings), settings.warehouse_path, report)


def glue_register(days: list[str]) -> dict[str, Any]:
    """Create missing Glue database/tables, then add the days' published partitions."""
    from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    glue = GlueCatalogHook(aws_conn_id=settings.aws_conn_id).get_conn()
    created = catalog.ensure_glue_tables(glue, settings.athena_database, settings.lake_uri)
    added: dict[str, list[str]] = {}
    for table in catalog.TABLES:
        for day in days:
            if is_published(lake.partition_dir(table.dataset, partition_day(day))) and catalog.register_glue_partition(
                glue, settings.athena_database, settings.lake_uri, table, day
            ):
                added.setdefault(table.name, []).append(day)
    smoke = catalog.render("checks/smoke_count_rows.sql", database=settings.athena_database, value=max(days))
    return {"created": created, "partitions_added": added, "smoke_query": smoke}
