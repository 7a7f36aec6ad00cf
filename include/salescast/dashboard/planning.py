"""The planner's totals and forecast value added, for the dashboard: the project's own SQL views
(``forecast_by_store``, ``forecast_by_category``, ``forecast_total``, ``forecast_value_added``,
``include/sql/views/``) run in an in-memory DuckDB over the lake, so the page and the SQL
engines show one rule, not two copies of it. The dashboard never opens ``warehouse.duckdb``
(its writer, the catalog DAG, would be locked out); the views are built per call in memory
over the lake's published partitions, the way ``sales_catalog`` builds them on disk."""

from __future__ import annotations

from typing import Any

from salescast.lake import Lake

# A run's horizon summed per store or per category (the views' own rows, summed over the dates):
# p50 over the horizon, and over the days whose actual is known next to those actuals.
_BY = """
SELECT {by} AS name, SUM(sum_p50) AS sum_p50, COUNT(actual) AS days_known, SUM(actual) AS actual,
       SUM(CASE WHEN actual IS NOT NULL THEN sum_p50 END) AS sum_p50_known
FROM {view} WHERE CAST(run_date AS VARCHAR) = ? GROUP BY 1 ORDER BY 1 NULLS LAST
"""
_LEVELS = {"stores": ("forecast_by_store", "store_id"), "categories": ("forecast_by_category", "category")}
_TOTAL = """
SELECT CAST("date" AS VARCHAR) AS date, sum_p50, actual, stores, stores_reported
FROM forecast_total WHERE CAST(run_date AS VARCHAR) = ? ORDER BY 1
"""
_RUNS = "SELECT DISTINCT CAST(run_date AS VARCHAR) AS run_date FROM forecasts ORDER BY 1"
# Sums per run date of forecast_value_added: any roll-up is a ratio of these (docs/sql.md).
_FVA = """
SELECT CAST(run_date AS VARCHAR) AS run_date, SUM(points) AS points, SUM(points_overridden) AS points_overridden,
       SUM(abs_actual) AS abs_actual, SUM(abs_error_naive) AS naive, SUM(abs_error_statistical) AS statistical,
       SUM(abs_error_final) AS final
FROM forecast_value_added GROUP BY 1 ORDER BY 1
"""


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _rows(connection: Any, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = connection.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def planning(lake: Lake, run_date: str | None) -> dict[str, Any]:
    """For one run (``run_date``; None or unknown: the newest): the horizon's p50 and actuals
    summed per store, per category and per day in total, and per run date the value each layer
    added (WAPE points of seasonal naive -> statistical -> final, ``forecast_value_added``)."""
    import duckdb

    from salescast.catalog.sql import duckdb_statements
    from salescast.catalog.warehouse import register_lake

    connection = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        register_lake(connection, lake)
        for statement in duckdb_statements(lake):
            connection.execute(statement)
        runs = [r["run_date"] for r in _rows(connection, _RUNS)]
        chosen = run_date if run_date in runs else (runs[-1] if runs else None)
        out: dict[str, Any] = {"run_dates": runs, "run_date": chosen, "stores": [], "categories": [], "total": []}
        if chosen is not None:
            for key, (view, by) in _LEVELS.items():
                out[key] = _rows(connection, _BY.format(view=view, by=by), chosen)
            out["total"] = _rows(connection, _TOTAL, chosen)
        out["fva"] = [
            row
            | {
                "fva_statistical": _ratio(row["naive"] - row["statistical"], row["abs_actual"]),
                "fva_overrides": _ratio(row["statistical"] - row["final"], row["abs_actual"]),
            }
            for row in _rows(connection, _FVA)
        ]
    finally:
        connection.close()
    return out
