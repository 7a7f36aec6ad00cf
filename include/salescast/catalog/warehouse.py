"""The DuckDB warehouse (``$SALESCAST_HOME/warehouse.duckdb``) over a ``file://`` or ``s3://`` lake.

On an S3 lake the views in the warehouse name ``s3://`` paths. DuckDB's own route to them is its
``httpfs`` extension, which it downloads on first use: workers often have no internet, and that
would be native code fetched at run time with credentials of its own. Instead every connection
gets the lake's fsspec filesystem (s3fs from Airflow's ``ObjectStoragePath``, so the same
``aws_default`` connection, endpoint and credentials as the rest of salescast). DuckDB keeps no
filesystem in the file: a connection that did not register it cannot read the views, so open
the warehouse with :func:`connect` (or :class:`LakeDuckDBHook` in a task).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.duckdb.hooks.duckdb import DuckDBHook

if TYPE_CHECKING:
    import duckdb

    from salescast.config import Settings
    from salescast.lake import Lake


def register_lake(connection: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Let ``connection`` read the lake's ``s3://`` paths through the lake's own filesystem."""
    if not lake.is_local:
        connection.register_filesystem(lake.root.fs)


class LakeDuckDBHook(DuckDBHook):
    """The DuckDB provider's hook, whose every connection can read the lake's paths."""

    def __init__(self, lake: Lake, **kwargs: Any) -> None:
        # no extension loads by itself: s3:// must reach the registered filesystem, not an httpfs
        # that happens to be installed on one machine (and then needs credentials of its own)
        kwargs.setdefault("autoload_extensions", False)
        super().__init__(**kwargs)
        self.lake = lake

    def configure_secrets(self, conn: duckdb.DuckDBPyConnection) -> None:
        """The provider's hook point for remote-storage credentials on a new connection."""
        super().configure_secrets(conn)
        register_lake(conn, self.lake)


def connect(settings: Settings, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse that can read its views, whatever the lake (the demo,
    tests and users' notebooks open it this way; ``duckdb`` on the command line reads a
    ``file://`` lake's warehouse only)."""
    import duckdb

    from salescast.lake import Lake

    # never download or autoload an extension: the lake's filesystem is registered instead
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    connection = duckdb.connect(str(settings.warehouse_path), read_only=read_only, config=config)
    try:
        register_lake(connection, Lake.from_settings(settings))
    except Exception:
        connection.close()
        raise
    return connection
