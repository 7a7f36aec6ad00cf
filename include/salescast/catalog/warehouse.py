"""The DuckDB warehouse (``$SALESCAST_HOME/warehouse.duckdb``) over a ``file://`` or ``s3://`` lake.

On an S3 lake the views in the warehouse name ``s3://`` paths. DuckDB's own route to them is its
``httpfs`` extension, which it downloads on first use: workers often have no internet, and that
would be native code fetched at run time with credentials of its own. Instead every connection
gets the lake's fsspec filesystem (s3fs from Airflow's ``ObjectStoragePath``, so the same
``aws_default`` connection, endpoint and credentials as the rest of salescast). DuckDB keeps no
filesystem in the file: a connection that did not register it cannot read the views, so open
the warehouse with :func:`connect` (or :class:`LakeDuckDBHook` in a task).

DuckDB lets one process write a file, and only while no other process has it open, even
read-only: :func:`write_or_swap` keeps an analyst's open notebook from failing every refresh.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.duckdb.hooks.duckdb import DuckDBHook

if TYPE_CHECKING:
    import duckdb

    from salescast.config import Settings
    from salescast.lake import Lake


log = logging.getLogger(__name__)
T = TypeVar("T")
# DuckDB's text when another process holds the file: "... Conflicting lock is held in
# /usr/bin/python3.11 (PID 1234) ..."
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseLocked(RuntimeError):
    """Another process has the warehouse open for writing: nothing can refresh it until it closes."""


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


def lock_holder(error: Exception) -> str | None:
    """``program (PID n)`` of the process DuckDB says holds the file, if that is the error."""
    found = _LOCK_HOLDER.search(str(error))
    return f"{found['program']} (PID {found['pid']})" if found else None


def write_or_swap(warehouse: Path, write: Callable[[Path], T], report: Callable[[str], None] = log.warning) -> T:
    """``write(warehouse)``; if other processes have the file open only to read, ``write`` a copy
    beside it and rename it over the file instead: they keep the views they opened, new
    connections see the refreshed ones. A process that has it open for writing stops the
    refresh with :class:`WarehouseLocked`, naming it."""
    import duckdb

    try:
        return write(warehouse)
    except duckdb.IOException as error:
        holder = lock_holder(error)
        if holder is None:
            raise
    try:
        duckdb.connect(str(warehouse), read_only=True).close()  # works while only readers hold it
    except duckdb.IOException:
        raise WarehouseLocked(
            f"the DuckDB warehouse {warehouse} is open for writing by {holder}: close that connection "
            "(a duckdb shell, a notebook) and run the refresh again (`salescast catalog`, or clear the "
            "sales_catalog run); connections opened with read_only=True do not block it"
        ) from None
    result = _write_aside(warehouse, write)
    report(
        f"the DuckDB warehouse {warehouse} is open read-only by {holder}: the refreshed warehouse was "
        "written aside and swapped in; that connection sees the previous views until it reconnects"
    )
    return result


def _write_aside(warehouse: Path, write: Callable[[Path], T]) -> T:
    """``write`` a copy of ``warehouse`` (objects users added are kept) and rename it into place;
    a failure leaves the warehouse as it was and no copy behind."""
    aside = warehouse.with_name(f".{warehouse.name}.{os.getpid()}.tmp")
    wal = Path(f"{warehouse}.wal")
    try:
        shutil.copyfile(warehouse, aside)
        if wal.exists():  # changes a crashed writer left: the copy replays them
            shutil.copyfile(wal, f"{aside}.wal")
        result = write(aside)
        aside.replace(warehouse)  # atomic rename: a new connection opens the old file or the new one
    finally:
        for leftover in (aside, Path(f"{aside}.wal")):
            leftover.unlink(missing_ok=True)
    return result
