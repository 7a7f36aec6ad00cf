"""The lake: one object-storage abstraction over ``file://`` and ``s3://``.

Everything salescast reads or writes goes through :class:`Lake`, which wraps Airflow's
``ObjectStoragePath``. Moving from a local folder to S3 is a change of
``SALESCAST_LAKE_URI`` (and an Airflow connection), never a change of code.
The layout is documented in ``docs/data-contracts.md``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from airflow.sdk import ObjectStoragePath

    from salescast.config import Settings

# Names a source may use for work in progress; they are never treated as data.
_IGNORED_PREFIXES = (".", "_", "~")
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", ".swp")
READY_MARKER = "_READY"
SUCCESS_MARKER = "_SUCCESS"
QUARANTINE_FILE = "rows.parquet"  # one file per day: the bad records of the day's latest ingest run
# Bytes in one path component on ext4, xfs, tmpfs, ... S3 keys allow more, but names salescast
# derives stay within it on every lake, so a lake can move between storages.
NAME_MAX = 255
RUN_FOLDER = "run="

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """A partitioned dataset of the lake: its folder under the root and its partition key."""

    folder: str
    key: str  # "dt" (a day of sales) or "run_date" (a forecast run)


SALES_DAILY = Dataset("curated/sales_daily", "dt")
DRIVERS = Dataset("curated/drivers", "asof")  # one partition per as-of day: what was known that day
# the item master and the planned store listings, each delivery published under its as-of day
# (both partitions of a day in one commit: salescast.ingest.items)
ITEMS = Dataset("curated/items", "asof")
ITEM_LISTINGS = Dataset("curated/item_listings", "asof")
# planner overrides, each delivery published under its as-of day (salescast.ingest.overrides)
OVERRIDES = Dataset("curated/overrides", "asof")
FORECASTS = Dataset("forecasts", "run_date")
METRICS = Dataset("metrics", "run_date")
SAFETY_STOCK = Dataset("safety_stock", "run_date")
# What one forecast run publishes, by name (the folder under the root).
RUN_DATASETS = {d.folder: d for d in (FORECASTS, METRICS, SAFETY_STOCK)}
# With drivers on, a run also publishes the drivers it used (as of its run date, wide), so the
# dashboard and an audit see exactly what the forecast saw.
RUN_DRIVERS = Dataset("forecast_drivers", "run_date")
# Every run also publishes its final forecast: the statistical one with the planners' overrides
# as of its run date applied (salescast.forecast.overrides); the statistical table stays untouched.
FINAL_FORECASTS = Dataset("forecasts_final", "run_date")
# With drivers on, a run also publishes its history's days of unknown demand per series
# (stock-outs, closures): the accuracy views leave them out, as the backtest does.
CENSORED = Dataset("censored_days", "run_date")
# A run's planner export (forecast.csv.gz and a QuickSight manifest, salescast.forecast.export),
# committed with its tables; no part-0.parquet, so no SQL table reads it.
EXPORTS = Dataset("exports", "run_date")
DATA_FILE = "part-0.parquet"
_PARTITION_VALUE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


def partition_day(value: str | date) -> date:
    """The day of a logical date (``ds``), a partition value or a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def safe_run_id(run_id: str) -> str:
    """Turn an Airflow run id into a folder name that is safe on every file system (``run=``
    and it fit in :data:`NAME_MAX`: Airflow allows 250 characters, ``salescast ingest --run-id`` more)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id).strip("-.")
    return fit_name(cleaned or "run", NAME_MAX - len(RUN_FOLDER))


def fit_name(name: str, limit: int = NAME_MAX) -> str:
    """``name`` if it fits in ``limit`` bytes, else its head, ``~``, a hash of the whole name and
    its last suffixes (``.csv.gz``, ``.tmp``): a derived or temporary name (a landing name plus
    a content hash, a run id plus ``.tmp``) never fails with "File name too long", two long
    names stay distinct, and the kind of file still shows."""
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    suffix = "".join(PurePosixPath(name).suffixes[-2:])
    if len(suffix.encode("utf-8")) > 32:  # not a file type: dots inside a long name
        suffix = ""
    head = encoded[: limit - len(digest) - 1 - len(suffix.encode("utf-8"))].decode("utf-8", errors="ignore")
    return f"{head}~{digest}{suffix}"


def json_bytes(payload: Any) -> bytes:
    return (json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def parquet_bytes(frame: pd.DataFrame, schema: Any = None) -> bytes:
    """``frame`` as zstd Parquet; ``schema`` (a pyarrow schema) types columns an empty frame
    cannot (pyarrow reads an empty object column as null)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()


def is_data_file_name(name: str) -> bool:
    """True for names that carry data; temp files and markers are skipped."""
    return not name.startswith(_IGNORED_PREFIXES) and not name.lower().endswith(_IGNORED_SUFFIXES)


class Lake:
    """Paths of the lake layout plus small, storage-agnostic read/write helpers."""

    def __init__(self, uri: str, conn_id: str | None = None) -> None:
        from airflow.sdk import ObjectStoragePath

        self.uri = uri.rstrip("/")
        self.conn_id = conn_id if self.uri.startswith("s3://") else None
        self.root: ObjectStoragePath = ObjectStoragePath(self.uri, conn_id=self.conn_id)

    @classmethod
    def from_settings(cls, settings: Settings) -> Lake:
        return cls(settings.lake_uri, settings.aws_conn_id)

    @property
    def is_local(self) -> bool:
        return self.root.protocol in ("file", "local", "")

    # ---- layout -------------------------------------------------------------------
    # ``feed``: what sources deliver, each in its own folders: "sales" (by sales day) or
    # "drivers", "items" or "overrides" (by the day the values were known, their as-of day)
    def landing_dir(self, day: date, feed: str = "sales") -> ObjectStoragePath:
        return self.root / "landing" / feed / day.isoformat()

    def raw_dir(self, day: date, feed: str = "sales") -> ObjectStoragePath:
        return self.root / "raw" / feed / f"dt={day.isoformat()}"

    def quarantine_dir(self, day: date, run_id: str) -> ObjectStoragePath:
        return self.root / "quarantine" / "sales" / f"dt={day.isoformat()}" / f"{RUN_FOLDER}{safe_run_id(run_id)}"

    def quarantine_file(self, day: date, feed: str = "sales") -> ObjectStoragePath:
        """The day's quarantined records (``run_id`` column: the run that wrote them)."""
        return self.root / "quarantine" / feed / f"dt={day.isoformat()}" / QUARANTINE_FILE

    def dataset_dir(self, dataset: Dataset) -> ObjectStoragePath:
        return self.root / dataset.folder

    def partition_dir(self, dataset: Dataset, day: date) -> ObjectStoragePath:
        return self.dataset_dir(dataset) / f"{dataset.key}={day.isoformat()}"

    def curated_dir(self, day: date) -> ObjectStoragePath:
        return self.partition_dir(SALES_DAILY, day)

    def run_dir(self, dataset: str, day: date) -> ObjectStoragePath:
        """A forecast-run dataset partition: ``forecasts``, ``metrics`` or ``safety_stock``."""
        return self.partition_dir(RUN_DATASETS[dataset], day)

    def published_partitions(self, dataset: Dataset) -> list[str]:
        """Partition values (``YYYY-MM-DD``) of ``dataset`` that carry ``_SUCCESS``, sorted."""
        return list(self.published_stamps(dataset))

    def published_stamps(self, dataset: Dataset) -> dict[str, str]:
        """Partition value -> a stamp of its ``_SUCCESS`` marker and data file, for every
        published partition, sorted, from one listing (on S3 a LIST call per thousand objects,
        not a HEAD per partition). Publishing rewrites both, so a changed stamp means changed
        data: readers cache on it and are never stale."""
        base = self.dataset_dir(dataset)
        if self.is_local:  # fsspec's local find() stats every file: ~20x slower
            return _local_stamps(Path(base.path), dataset.key)
        found = base.fs.find(base.path, maxdepth=2, withdirs=False, detail=True) if base.exists() else {}
        markers: dict[str, str] = {}
        data: dict[str, str] = {}
        for path, info in found.items():
            folder, _, name = str(path).rstrip("/").rpartition("/")
            key, _, value = folder.rpartition("/")[2].partition("=")
            if key == dataset.key and _PARTITION_VALUE.match(value) and name in (SUCCESS_MARKER, DATA_FILE):
                (markers if name == SUCCESS_MARKER else data)[value] = _stamp(info)
        return {value: f"{stamp}/{data.get(value, '')}" for value, stamp in sorted(markers.items())}

    def dataset_location(self, dataset: Dataset) -> str:
        """The dataset's folder as SQL engines name it: a local path on ``file://``, the
        ``s3://`` URI on S3."""
        base = self.root.path if self.is_local else self.uri
        return f"{str(base).rstrip('/')}/{dataset.folder}"

    def staging_dir(self, dataset: Dataset, day: date) -> ObjectStoragePath:
        """Where a run writes before promoting; one folder per dataset partition."""
        return self.root / "_staging" / dataset.folder / f"{dataset.key}={day.isoformat()}"

    def path(self, uri: str) -> ObjectStoragePath:
        """A path this lake handed out earlier as text (XCom), with the lake's connection."""
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(uri, conn_id=self.conn_id)

    def reports_dir(self, day: date) -> ObjectStoragePath:
        return self.root / "reports" / f"run_date={day.isoformat()}"

    def ingest_report_dir(self, day: date, run_id: str) -> ObjectStoragePath:
        """``validation.json`` / ``validation.html`` of one ingest run of ``day``."""
        return self.reports_dir(day) / "ingest" / f"{RUN_FOLDER}{safe_run_id(run_id)}"

    # ---- io -----------------------------------------------------------------------
    def write_bytes(self, path: ObjectStoragePath, data: bytes) -> None:
        """Write ``data`` to ``path`` whole or not at all: a failed write (a full disk) leaves no
        partial file behind. On S3 one PUT (a multipart upload is aborted when it fails)."""
        if not self.is_local:
            path.fs.pipe_file(path.path, data)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("wb") as handle:
                handle.write(data)
        except BaseException:
            Path(path.path).unlink(missing_ok=True)
            raise

    def replace_file(self, target: ObjectStoragePath, data: bytes, tag: str) -> None:
        """Put ``data`` at ``target`` so that readers see the old file or the new one, never
        half: written aside under a temporary name (``.<name>.<tag>.tmp``, within
        :data:`NAME_MAX`) and moved over ``target``. A failure at either step removes the
        temporary file: a full disk leaves nothing behind."""
        self.replace_with(target, tag, lambda pending: self.write_bytes(pending, data))

    def replace_with(self, target: ObjectStoragePath, tag: str, write: Callable[[ObjectStoragePath], object]) -> None:
        """:meth:`replace_file` for content too large to hold: ``write(pending)`` writes the
        temporary file (streamed from a file, in blocks), which then moves over ``target``."""
        pending = target.parent / fit_name(f".{target.name}.{tag}.tmp")
        try:
            write(pending)
            self.move(pending, target)
        except BaseException:
            self.discard(pending)
            raise

    def discard(self, path: ObjectStoragePath) -> None:
        """Remove a file if it is there; failing to (storage still failing) is logged, not raised,
        so the error that made the caller discard it is the one reported."""
        try:
            if path.exists():
                path.unlink()
        except OSError as error:
            log.warning("could not remove %s: %s", path, error)

    def write_text(self, path: ObjectStoragePath, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def write_json(self, path: ObjectStoragePath, payload: Any) -> None:
        self.write_bytes(path, json_bytes(payload))

    def read_json(self, path: ObjectStoragePath) -> Any:
        return json.loads(path.read_bytes())

    def write_parquet(self, path: ObjectStoragePath, frame: pd.DataFrame, schema: Any = None) -> None:
        self.write_bytes(path, parquet_bytes(frame, schema))

    def read_parquet(self, path: ObjectStoragePath, columns: list[str] | None = None) -> pd.DataFrame:
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(path.read_bytes()), columns=columns).to_pandas()

    def list_files(self, directory: ObjectStoragePath) -> list[ObjectStoragePath]:
        """Files directly inside ``directory`` (markers included), sorted by name; [] if absent."""
        if not directory.exists():
            return []
        return sorted((p for p in directory.iterdir() if p.is_file()), key=lambda p: p.name)

    def iter_dirs(self, directory: ObjectStoragePath) -> Iterator[ObjectStoragePath]:
        if directory.exists():
            yield from sorted((p for p in directory.iterdir() if p.is_dir()), key=lambda p: p.name)

    def remove_tree(self, directory: ObjectStoragePath) -> None:
        if directory.exists():
            directory.fs.rm(directory.path, recursive=True)

    def local_copies(self, paths: list[ObjectStoragePath], folder: Path) -> list[Path]:
        """Local files in ``folder`` holding what ``paths`` hold now, and keeping it if the lake's
        files are replaced afterwards (a re-publish renames a new file over the old one): hard
        links on a local lake (a copy across file systems), else downloads (one batched,
        concurrent ``get`` on S3). A reader that reads its inputs twice reads one version."""
        targets = [folder / fit_name(f"{n:06d}-{p.name}") for n, p in enumerate(paths)]
        folder.mkdir(parents=True, exist_ok=True)
        if self.is_local:
            for source, target in zip(paths, targets, strict=True):
                _link_or_copy(Path(source.path), target)
        elif paths:
            paths[0].fs.get([p.path for p in paths], [str(t) for t in targets])
        return targets

    def upload(self, local: Path, target: ObjectStoragePath) -> None:
        """Copy a local file to ``target`` on an object store (streamed, not read into memory);
        a local lake writes its files in place and has nothing to upload."""
        target.fs.put_file(str(local), target.path)

    def move(self, source: ObjectStoragePath, target: ObjectStoragePath) -> None:
        """Move one file; on a local disk this is a rename, so readers see old or new, never half."""
        if self.is_local:
            target.parent.mkdir(parents=True, exist_ok=True)
            Path(source.path).replace(target.path)  # atomic rename on POSIX
        else:
            source.fs.mv(source.path, target.path)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(source, target)


def _local_stamps(base: Path, key: str) -> dict[str, str]:
    """``published_stamps`` on a local disk. Every dashboard request lists the markers, so
    ``os.scandir``/``os.stat`` on strings: about 2 ms for two years of daily partitions
    (pathlib objects or fsspec take several times that)."""
    stamps: dict[str, str] = {}
    try:
        entries = os.scandir(base)
    except (FileNotFoundError, NotADirectoryError):
        return stamps
    with entries:
        for entry in entries:
            name, _, value = entry.name.partition("=")
            if name != key or not _PARTITION_VALUE.match(value):
                continue
            try:
                marker = os.stat(f"{entry.path}/{SUCCESS_MARKER}")  # noqa: PTH116 - see the docstring
            except (FileNotFoundError, NotADirectoryError):
                continue
            stamps[value] = f"{marker.st_mtime_ns}|{marker.st_size}|{marker.st_ino}/{_file_stamp(entry.path)}"
    return dict(sorted(stamps.items()))


def _file_stamp(folder: str) -> str:
    try:
        data = os.stat(f"{folder}/{DATA_FILE}")  # noqa: PTH116 - see _local_stamps
    except FileNotFoundError:
        return ""
    return f"{data.st_mtime_ns}|{data.st_size}|{data.st_ino}"


def _stamp(info: dict[str, Any]) -> str:
    """What identifies one version of an object in an ``fs.find`` entry (S3: ETag, time, size)."""
    parts = (info.get(k) for k in ("ETag", "etag", "LastModified", "mtime", "size"))
    return "|".join(str(p) for p in parts if p is not None)


def modified_epoch(path: ObjectStoragePath) -> float:
    """Last-modified time of a file as epoch seconds, for local files and S3 objects alike."""
    info = path.stat()
    value = info.get("mtime") or info.get("LastModified") or info.get("last_modified")
    if value is None:
        return 0.0
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
