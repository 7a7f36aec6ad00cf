"""SQL over the lake from one set of Athena-dialect files in ``include/sql/``.

Templates are rendered with Jinja after every value is validated (identifiers must be
identifiers, partition values must be dates, locations must be plain URIs), so nothing from
a file name reaches SQL unchecked. Athena runs the files as written; the embedded default
runs the same views on DuckDB after sqlglot transpiles them, over ``read_parquet(...,
hive_partitioning = true)`` views of the lake's tables in ``$SALESCAST_HOME/warehouse.duckdb``
(on a ``file://`` or an ``s3://`` lake: ``salescast.catalog.warehouse`` says how).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from salescast.config import SQL_DIR
from salescast.contracts import sql_identifier_ok
from salescast.lake import (
    CENSORED,
    FINAL_FORECASTS,
    FORECASTS,
    ITEMS,
    METRICS,
    SAFETY_STOCK,
    SALES_DAILY,
    Dataset,
    Lake,
)

_LOCATION = re.compile(r"\A(s3://[a-z0-9.\-]{3,63}(/[A-Za-z0-9_.\-=/]*)?|/[A-Za-z0-9_.\-=/ ]*)\Z")


class UnsafeSqlValue(ValueError):
    """A value would have been rendered into SQL without being what it claims to be."""


@dataclass(frozen=True)
class Table:
    """A SQL table over one lake dataset (the lake owns where it lives)."""

    name: str
    dataset: Dataset

    @property
    def prefix(self) -> str:
        return self.dataset.folder

    @property
    def key(self) -> str:
        return self.dataset.key


TABLES = (
    Table("sales_daily", SALES_DAILY),
    Table("forecasts", FORECASTS),
    Table("forecasts_final", FINAL_FORECASTS),
    Table("forecast_metrics", METRICS),
    Table("safety_stock_runs", SAFETY_STOCK),
    Table("censored_days", CENSORED),
    Table("item_master", ITEMS),
)
# Creation order matters: a view can only name views created before it.
VIEWS = (
    "forecast_latest",
    "history_and_forecast",
    "forecast_vs_actual",
    "forecast_accuracy",
    "safety_stock",
    "forecast_by_store",
    "forecast_total",
    "item_master_latest",
    "forecast_by_category",
    "forecast_value_added",
)


def identifier(name: str) -> str:
    if not sql_identifier_ok(name):
        raise UnsafeSqlValue(f"{name!r} is not a lower-case SQL identifier")
    return name


def partition_value(value: str | date) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value)
    try:
        if date.fromisoformat(text).isoformat() != text:
            raise ValueError
    except ValueError:
        raise UnsafeSqlValue(f"partition value {value!r} is not a YYYY-MM-DD date") from None
    return text


def location(uri: str) -> str:
    value = uri.rstrip("/")
    if not _LOCATION.match(value) or ".." in value:
        raise UnsafeSqlValue(f"location {uri!r} is not a plain s3:// or absolute path")
    return value


def render(relative: str, **params: Any) -> str:
    """Render ``include/sql/<relative>`` with validated parameters only."""
    import jinja2

    checks = {"database": identifier, "table": identifier, "key": identifier, "value": partition_value}
    checks |= {"location": location, "prefix": lambda p: "/".join(identifier(part) for part in p.split("/"))}
    safe = {}
    for name, value in params.items():
        if name not in checks:
            raise UnsafeSqlValue(f"template parameter {name!r} has no validation rule")
        safe[name] = checks[name](value)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    return env.from_string((SQL_DIR / relative).read_text()).render(**safe).strip()


def athena_table_ddl(table: Table, database: str, lake_location: str) -> str:
    return render(f"tables/{table.name}.sql", database=database, location=lake_location)


def athena_add_partition(table: Table, database: str, lake_location: str, value: str | date) -> str:
    return render(
        "partitions/add_partition.sql",
        database=database,
        table=table.name,
        key=table.key,
        value=value,
        location=lake_location,
        prefix=table.prefix,
    )


def athena_view(view: str, database: str) -> str:
    return render(f"views/{view}.sql", database=database)


def to_duckdb(sql: str) -> str:
    """Transpile one Athena (Trino) statement to DuckDB with sqlglot."""
    import sqlglot

    return sqlglot.transpile(sql, read="athena", write="duckdb")[0]


def _columns(table: Table, dialect: str = "duckdb") -> list[tuple[str, str]]:
    """(name, type in ``dialect``) of a table's data columns, read from its Athena DDL so the
    column list lives in one place."""
    import sqlglot
    from sqlglot import exp

    create = sqlglot.parse_one(athena_table_ddl(table, "main", "/lake"), read="athena")
    schema = create.this
    return [
        (col.name, col.args["kind"].sql(dialect=dialect))
        for col in schema.expressions
        if isinstance(col, exp.ColumnDef)
    ]


def table_location(lake_uri: str, table: Table) -> str:
    return f"{location(lake_uri)}/{table.prefix}/"


def partition_location(lake_uri: str, table: Table, value: str | date) -> str:
    return f"{table_location(lake_uri, table)}{table.key}={partition_value(value)}/"


def glue_table_input(table: Table, lake_uri: str) -> dict[str, Any]:
    """The Glue ``TableInput`` equivalent to the table's Athena DDL (external Parquet, Hive
    partitioned), so the Glue API path and the SQL path define the same table."""
    columns = [{"Name": name, "Type": kind.lower()} for name, kind in _columns(table, "hive")]
    return {
        "Name": identifier(table.name),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
        "PartitionKeys": [{"Name": identifier(table.key), "Type": "string"}],
        "StorageDescriptor": {
            "Columns": columns,
            "Location": table_location(lake_uri, table),
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        },
    }


def ensure_glue_tables(glue: Any, database: str, lake_uri: str) -> list[str]:
    """Create the Glue database and any missing table; returns what was created (empty when
    everything already existed, so a second run is a no-op)."""
    created: list[str] = []
    try:
        glue.get_database(Name=identifier(database))
    except glue.exceptions.EntityNotFoundException:
        description = "salescast lake (managed by sales_catalog)"
        glue.create_database(DatabaseInput={"Name": database, "Description": description})
        created.append(database)
    for table in TABLES:
        try:
            glue.get_table(DatabaseName=database, Name=table.name)
        except glue.exceptions.EntityNotFoundException:
            glue.create_table(DatabaseName=database, TableInput=glue_table_input(table, lake_uri))
            created.append(f"{database}.{table.name}")
    return created


def register_glue_partition(glue: Any, database: str, lake_uri: str, table: Table, value: str | date) -> bool:
    """Add one partition through the Glue API (no crawler, no MSCK REPAIR); False if it was
    already registered."""
    day = partition_value(value)
    try:
        glue.get_partition(DatabaseName=identifier(database), TableName=table.name, PartitionValues=[day])
        return False
    except glue.exceptions.EntityNotFoundException:
        pass
    descriptor = glue_table_input(table, lake_uri)["StorageDescriptor"] | {
        "Location": partition_location(lake_uri, table, day)
    }
    try:
        glue.create_partition(
            DatabaseName=database,
            TableName=table.name,
            PartitionInput={"Values": [day], "StorageDescriptor": descriptor},
        )
    except glue.exceptions.AlreadyExistsException:  # a concurrent run registered it first
        return False
    return True


def duckdb_table_sql(table: Table, lake: Lake) -> str:
    """A view over the table's Parquet files; an empty typed view while none are published."""
    published = lake.published_partitions(table.dataset)
    if published:
        # only partitions with _SUCCESS: one being re-published (marker removed) or left half
        # written stays out of the views, as Glue partitions are only registered once published
        pattern = f"{location(lake.dataset_location(table.dataset))}/{table.key}=*/*.parquet"
        keys = ", ".join(f"'{partition_value(value)}'" for value in published)
        return (
            f"CREATE OR REPLACE VIEW {table.name} AS SELECT * FROM "
            f"read_parquet('{pattern}', hive_partitioning = true, union_by_name = true) "
            f'WHERE CAST("{table.key}" AS VARCHAR) IN ({keys})'
        )
    typed = ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in _columns(table))
    key_type = "DATE"
    return (
        f'CREATE OR REPLACE VIEW {table.name} AS SELECT {typed}, CAST(NULL AS {key_type}) AS "{table.key}" WHERE FALSE'
    )


def duckdb_statements(lake: Lake) -> list[str]:
    statements = [duckdb_table_sql(table, lake) for table in TABLES]
    statements += [to_duckdb(athena_view(view, "main")) for view in VIEWS]
    return statements


def refresh_duckdb(lake: Lake, warehouse: Path, report: Callable[[str], None] | None = None) -> dict[str, int]:
    """(Re)create every table view and view in ``warehouse`` through the DuckDB provider's
    hook (with the lake's filesystem registered: an ``s3://`` lake works too); returns row
    counts per name. A warehouse other processes read is refreshed aside and swapped in
    (``report`` says so; default: a warning in the log); one a process writes raises
    ``WarehouseLocked`` (``salescast.catalog.warehouse.write_or_swap``)."""
    from salescast.catalog.warehouse import LakeDuckDBHook, write_or_swap

    def write(path: Path) -> dict[str, int]:
        hook = LakeDuckDBHook(lake, database=str(path))
        hook.run(duckdb_statements(lake))
        names = [t.name for t in TABLES] + list(VIEWS)
        return {name: int(hook.get_first(f"SELECT COUNT(*) FROM {identifier(name)}")[0]) for name in names}

    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return write_or_swap(warehouse, write, *([report] if report else []))
