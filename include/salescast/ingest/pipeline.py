"""One day's ingest: landing -> raw archive -> canonical rows -> GX -> quarantine -> curated.

Each step is a plain function keyed on the partition day and the run id, so the Airflow
tasks stay thin and the same steps run in unit tests and from the CLI. Nothing is
dropped: every record of every landing file is either published (summed into a daily
row) or written to quarantine with a reason; a file that cannot be read is quarantined
whole and fails the day.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salescast.config import DEFAULT_INGEST_MEMORY_MB
from salescast.deliveries import DeliveryRule, missing_stores_warning
from salescast.ingest.daytable import QUARANTINE_COLUMNS, Checked, DayTable
from salescast.ingest.parsing import UnreadableFile, open_file
from salescast.ingest.standardize import date_map, landing_batch
from salescast.lake import (
    QUARANTINE_FILE,
    READY_MARKER,
    RUN_FOLDER,
    SALES_DAILY,
    Lake,
    fit_name,
    is_data_file_name,
    modified_epoch,
    safe_run_id,
)
from salescast.publish import DATA_FILE, publish_partition
from salescast.validation import describe, parameters_for, render_html

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

__all__ = ["QUARANTINE_COLUMNS", "QUARANTINE_FILE", "DayRejected", "IngestResult", "ingest_day", "standardize_day"]


class DayRejected(Exception):
    """The day's input is not fit to publish; retrying will not help, fixing the input will."""


@dataclass
class Readiness:
    ready: bool
    files: list[str]
    detail: str


@dataclass
class ArchivedFile:
    landing: str
    raw: str
    sha256: str
    bytes: int


@dataclass
class IngestResult:
    """Counts and verdict of one standardize+validate run; small enough for XCom."""

    day: str
    run_id: str
    files: list[str]
    unreadable: dict[str, str]
    warnings: list[str]
    records_in: int
    accepted: int
    invalid: int
    excluded: int
    published_rows: int
    bad_fraction: float
    max_bad_fraction: float
    problems: list[str] = field(default_factory=list)
    staged: str | None = None
    quarantine: str | None = None
    report: str | None = None
    missing_stores: list[str] = field(default_factory=list)  # expected (salescast.deliveries) but absent

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def quarantined(self) -> int:
        return self.invalid + self.excluded

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"healthy": self.healthy, "quarantined": self.quarantined}


def next_step(lake: Lake, day: date, quarantine: str | None = None) -> str:
    """What an operator does about a rejected day (paths as the lake names them)."""
    where = f", bad records in {quarantine}" if quarantine else ""
    return (
        f"next: fix or replace the bad file(s) in {lake.landing_dir(day)}/ (the originals stay in "
        f"{lake.raw_dir(day)}/{where}), then re-run the day: "
        f"make run DAG=sales_ingest DATE={day}, clear the run in the Airflow UI, or "
        f"python -m salescast ingest --start {day}"
    )


def landing_data_files(lake: Lake, day: date, feed: str = "sales") -> list:
    return [p for p in lake.list_files(lake.landing_dir(day, feed)) if is_data_file_name(p.name)]


def landing_subfolders(lake: Lake, day: date, feed: str = "sales") -> list[str]:
    """Folders inside the day's landing folder: salescast does not read them."""
    return [p.name for p in lake.iter_dirs(lake.landing_dir(day, feed)) if is_data_file_name(p.name)]


def subfolder_warning(day: date, names: list[str], feed: str = "sales") -> str:
    folders = ", ".join(f"{n}/" for n in names)
    return (
        f"landing/{feed}/{day}/ has sub-folder(s) {folders} whose files are not read (only files directly "
        "in the day's folder are): move them up if they belong to the day"
    )


def check_landing_ready(
    lake: Lake, day: date, settle_seconds: int, now: float | None = None, feed: str = "sales"
) -> Readiness:
    """Is the day's landing folder complete? Yes if ``_READY`` exists, or if it has data
    files and none changed in the last ``settle_seconds`` (so half-copied files wait)."""
    folder = lake.landing_dir(day, feed)
    files = landing_data_files(lake, day, feed)
    names = [p.name for p in files]
    subfolders = landing_subfolders(lake, day, feed)
    if subfolders:
        log.warning(subfolder_warning(day, subfolders, feed))
    if not files:
        also = f" ({subfolder_warning(day, subfolders, feed)})" if subfolders else ""
        return Readiness(False, [], f"no data files yet in {folder}{also}")
    if (folder / READY_MARKER).exists():
        return Readiness(True, names, f"{READY_MARKER} marker present")
    now = time.time() if now is None else now
    young = [p.name for p in files if now - modified_epoch(p) < settle_seconds]
    if young:
        return Readiness(False, names, f"still changing (< {settle_seconds}s old): {', '.join(young)}")
    return Readiness(True, names, f"all files unchanged for at least {settle_seconds}s")


def _content_name(name: str, digest: str) -> str:
    stem, dot, suffixes = name.partition(".")
    return fit_name(f"{stem}~{digest[:12]}{dot}{suffixes}")


def archive_raw(lake: Lake, day: date, names: list[str] | None = None, feed: str = "sales") -> list[ArchivedFile]:
    """Copy landing files byte for byte into ``raw/``; never overwrite an archived file.

    ``names`` limits the copy to the files the sensor judged complete (a file that arrived
    after it looked may still be half written). A re-dropped file with new content under
    an old name is archived beside the old one with a content hash in its name.
    """
    raw_dir = lake.raw_dir(day, feed)
    archived: list[ArchivedFile] = []
    sources = landing_data_files(lake, day, feed)
    if names is not None:
        missing = sorted(set(names) - {p.name for p in sources})
        if missing:
            raise FileNotFoundError(f"landing files vanished before archiving: {', '.join(missing)}")
        sources = [p for p in sources if p.name in set(names)]
    for source in sources:
        digest, size = _stream(source)
        target = raw_dir / source.name
        if target.exists() and _stream(target)[0] != digest:
            target = raw_dir / _content_name(source.name, digest)
        if not target.exists():
            lake.replace_with(target, digest[:12], partial(_copy, lake, source, digest=digest))
        archived.append(ArchivedFile(source.name, target.name, digest, size))
        log.info("archived %s -> %s (%d bytes)", source.name, target, size)
    return archived


def _stream(
    source: ObjectStoragePath, lake: Lake | None = None, copy_to: ObjectStoragePath | None = None
) -> tuple[str, int]:
    """SHA-256 and size of a file read in blocks (a landing day can be GBs), copied to ``copy_to`` on the way."""
    digest, size = hashlib.sha256(), 0
    if copy_to is not None and lake is not None and lake.is_local:
        copy_to.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reader, copy_to.open("wb") if copy_to is not None else nullcontext() as writer:
        while block := reader.read(1 << 22):
            digest.update(block)
            size += len(block)
            if writer is not None:
                writer.write(block)
    return digest.hexdigest(), size


def _copy(lake: Lake, source: ObjectStoragePath, pending: ObjectStoragePath, *, digest: str) -> None:
    """Copy ``source`` to ``pending`` in blocks; the copy must have the content that was hashed."""
    if _stream(source, lake, pending)[0] != digest:
        raise RuntimeError(f"landing file {source.name} changed while it was archived: run the day again")


def _put(lake: Lake, local: Path, target: ObjectStoragePath) -> None:
    """Move a file written in the scratch folder to the lake (a rename, or a copy across
    file systems, on a local lake; a streamed upload to S3)."""
    if lake.is_local:
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(local, target.path)
    else:
        lake.upload(local, target)


def replace_quarantine(lake: Lake, day: date, run_id: str, local: Path | None, feed: str = "sales") -> str | None:
    """Make ``quarantine/sales/dt=D/rows.parquet`` hold this run's bad records, and only them.

    One file per day, replaced by a rename (one object write on S3), so a reader never counts
    a record twice across re-runs and never sees half a file; a run with nothing to
    quarantine removes the day's file. ``run=<id>/`` folders of the earlier layout go too."""
    target = lake.quarantine_file(day, feed)
    folder = target.parent
    if local:
        lake.replace_with(target, safe_run_id(run_id), lambda pending: _put(lake, local, pending))
    for old in lake.iter_dirs(folder):
        if old.name.startswith("run="):
            lake.remove_tree(old)
    if not local:
        lake.remove_tree(folder)
        return None
    return str(target)


@dataclass
class _ReadDay:
    """What the archived files of a day held, before validation (their rows are in the day's table)."""

    unreadable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    records_in: int = 0
    malformed: int = 0
    aggregating: set[str] = field(default_factory=set)
    header_only: list[str] = field(default_factory=list)


def _read_archived(lake: Lake, day: date, archived: list[ArchivedFile], table: DayTable, work: Path) -> _ReadDay:
    """Stream every archived file of the day into ``table``, batch by batch; malformed lines
    and unreadable files go to quarantine with their reason. The files are read from local
    copies (hard links on a local lake, downloads from S3), each as often as its checks need."""
    read = _ReadDay()
    subfolders = landing_subfolders(lake, day)
    if subfolders:
        read.warnings.append(subfolder_warning(day, subfolders))
    copies = lake.local_copies([lake.raw_dir(day) / a.raw for a in archived], work / "raw")
    for index, (item, local) in enumerate(zip(archived, copies, strict=True)):
        try:
            _read_file(item.raw, local, index, day, table, read)
        except UnreadableFile as error:
            table.forget_file(index)
            table.add_unreadable(index, item.raw, error.reason)
            read.unreadable[item.raw] = error.reason
    return read


def _read_file(name: str, local: Path, index: int, day: date, table: DayTable, read: _ReadDay) -> None:
    """One file into the day's table; its counts and warnings into ``read`` once it is read whole."""
    file = open_file(name, lambda: local.open("rb"))
    records = malformed = 0
    for batch in file.batches():
        table.add_rows(index, landing_batch(file, batch.rows, index))
        table.add_malformed(index, name, batch.malformed)
        records += batch.rows.num_rows + len(batch.malformed)
        malformed += len(batch.malformed)
    table.add_dates(date_map(table.end_file(index), file.mapping.date_formats, day, index))
    read.records_in += records
    read.malformed += malformed
    if file.encoding == "cp1252":
        read.warnings.append(f"{name}: not UTF-8, read as Windows-1252")
    if records == 0:
        read.header_only.append(name)
        read.warnings.append(f"{name}: header only, no data records")
    if file.mapping.aggregate:
        read.aggregating.add(file.mapping.name)


def _problems(result: IngestResult, read: _ReadDay, checked: Checked, archived: list[ArchivedFile]) -> None:
    """Every reason the day cannot be published, in ``result.problems``."""
    if not archived:
        result.problems.append("no landing files for the day")
    for name, why in read.unreadable.items():
        result.problems.append(f"unreadable file {name}: {why}")
    if result.bad_fraction > result.max_bad_fraction:
        result.problems.append(
            f"{result.invalid} of {result.records_in} records invalid ({result.bad_fraction:.1%}), above the "
            f"{result.max_bad_fraction:.1%} allowed by SALESCAST_MAX_BAD_ROW_FRACTION"
        )
    if not checked.published_rows and read.header_only:
        result.problems.append(
            f"no data records to publish: {', '.join(read.header_only)} "
            f"{'has' if len(read.header_only) == 1 else 'have'} a header and no rows"
        )
    for outcome in checked.outcomes:
        result.problems.extend(f"validation: {failure}" for failure in outcome.table_failures)
    daily = checked.outcomes[-1]  # a bad daily row is not quarantined: it stops the day
    for rule in daily.row_rules:
        if failed := daily.unexpected.get(rule.position):
            result.problems.append(f"validation: {describe(rule.config)} ({failed} daily rows)")


def _write_validation_report(lake: Lake, day: date, run_id: str, result: IngestResult, outcomes: list) -> str:
    report_dir = lake.ingest_report_dir(day, run_id)
    summary = result.to_dict()
    lake.write_json(report_dir / "validation.json", {"summary": summary, "suites": [o.result for o in outcomes]})
    lake.write_text(
        report_dir / "validation.html", render_html(f"salescast ingest {day} ({run_id})", outcomes, summary)
    )
    return str(report_dir / "validation.html")


def recent_stores(lake: Lake, day: date, lookback_days: int) -> dict[str, frozenset[str]]:
    """The stores with rows on each published day of the ``lookback_days`` before ``day``
    (only the ``store_id`` column of each partition is read)."""
    first = (day - timedelta(days=lookback_days)).isoformat()
    days = [d for d in lake.published_partitions(SALES_DAILY) if first <= d < day.isoformat()]
    return {
        d: frozenset(lake.read_parquet(lake.curated_dir(date.fromisoformat(d)) / DATA_FILE, ["store_id"])["store_id"])
        for d in days
    }


def standardize_day(
    lake: Lake,
    day: date,
    run_id: str,
    archived: list[ArchivedFile],
    max_bad_fraction: float,
    deliveries: DeliveryRule | None = None,
    memory_mb: int = DEFAULT_INGEST_MEMORY_MB,
) -> IngestResult:
    """Parse, map, validate and quarantine the archived files of a day; stage good rows.

    The day goes through a scratch folder (``TMPDIR``; it needs about the day's landing
    size) in bounded memory (``memory_mb`` for DuckDB: :class:`salescast.ingest.daytable.DayTable`). Returns the
    verdict; the caller fails the run when ``result.healthy`` is False.
    """
    staging = lake.staging_dir(SALES_DAILY, day)
    lake.remove_tree(staging)  # leftovers of a killed run of this day
    with tempfile.TemporaryDirectory(prefix="salescast-ingest-") as scratch:
        work = Path(scratch)
        table = DayTable(work, day, run_id, memory_mb)
        try:
            read = _read_archived(lake, day, archived, table, work)
            checked = table.check(read.aggregating, parameters_for(day.isoformat()))
        finally:
            table.close()
        result = _verdict(lake, day, run_id, archived, read, checked, max_bad_fraction, deliveries)
        result.quarantine = replace_quarantine(lake, day, run_id, checked.quarantine_file)
        if result.problems:  # the last entry says what to do, in the CLI's and the Airflow task's message alike
            result.problems.append(next_step(lake, day, result.quarantine))
        result.report = _write_validation_report(lake, day, run_id, result, checked.outcomes)
        if result.healthy:
            staged = staging / f"{RUN_FOLDER}{safe_run_id(run_id)}" / "part-0.parquet"
            _put(lake, checked.daily_file, staged)
            result.staged = str(staged)
    log.info("ingest %s: %s", day, {k: v for k, v in result.to_dict().items() if k not in ("files",)})
    return result


def _verdict(
    lake: Lake,
    day: date,
    run_id: str,
    archived: list[ArchivedFile],
    read: _ReadDay,
    checked: Checked,
    max_bad_fraction: float,
    deliveries: DeliveryRule | None,
) -> IngestResult:
    """Counts, problems and warnings of the day (stores that did not deliver included)."""
    invalid = read.malformed + checked.invalid
    result = IngestResult(
        day=day.isoformat(),
        run_id=run_id,
        files=[a.raw for a in archived],
        unreadable=read.unreadable,
        warnings=read.warnings,
        records_in=read.records_in,
        accepted=checked.candidates - checked.invalid,
        invalid=invalid,
        excluded=checked.excluded,
        published_rows=checked.published_rows,
        bad_fraction=round(invalid / read.records_in, 6) if read.records_in else 0.0,
        max_bad_fraction=max_bad_fraction,
    )
    _problems(result, read, checked, archived)
    rule = deliveries or DeliveryRule()
    result.missing_stores = rule.missing(day, checked.stores, recent_stores(lake, day, rule.lookback_days))
    if result.missing_stores:
        result.warnings.append(missing_stores_warning(day, result.missing_stores))
    for warning in read.warnings:
        log.warning("ingest %s: %s", day, warning)
    return result


def publish_day(lake: Lake, day: date, run_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """Promote the staged partition of ``day``; the manifest records where it came from."""
    if not result.get("staged"):
        raise DayRejected(f"{day}: nothing was staged, the day did not pass validation")
    staged = lake.path(result["staged"])
    manifest = {
        "dataset": "sales_daily",
        "dt": day.isoformat(),
        "run_id": run_id,
        "rows": result["published_rows"],
        "records_in": result["records_in"],
        "quarantined": result["quarantined"],
        "files": result["files"],
        "quarantine": result.get("quarantine"),
        "missing_stores": result.get("missing_stores", []),
    }
    partition = lake.curated_dir(day)
    publish_partition(lake, staged, partition, manifest)
    lake.remove_tree(lake.staging_dir(SALES_DAILY, day))
    return manifest | {"partition": str(partition)}


def ingest_day(
    lake: Lake,
    day: date,
    run_id: str,
    max_bad_fraction: float,
    deliveries: DeliveryRule | None = None,
    memory_mb: int = DEFAULT_INGEST_MEMORY_MB,
) -> IngestResult:
    """All steps in one call, for the CLI and tests; raises DayRejected if the day is unfit."""
    archived = archive_raw(lake, day)
    result = standardize_day(lake, day, run_id, archived, max_bad_fraction, deliveries, memory_mb)
    if not result.healthy:
        raise DayRejected(f"{day}: " + "; ".join(result.problems))
    publish_day(lake, day, run_id, result.to_dict())
    return result
