"""Atomic publishing: write aside, promote, then mark with ``_SUCCESS``.

Readers only trust a partition that has ``_SUCCESS``. Publishing one partition first removes
the marker, swaps the data file in one rename (local) or one object write (S3), drops stale
files, and writes the marker last, so a run killed at any point leaves either the old
partition, the new one, or an unmarked one that no reader uses: never a half-written one.

A run that publishes several partitions (a forecast run: forecasts, metrics, safety stock
and its summary) commits them together (:func:`commit`): every file is staged first, then
a journal naming them is written, then all markers go, all files move, all markers come
back. A reader therefore sees the old run marked, nothing marked, or the new run marked:
never tables of two runs each marked published. A commit interrupted after its journal
(a full disk, a killed worker) is finished or rolled back by :func:`recover`, which the
next attempt at the same partitions calls first.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from salescast.lake import DATA_FILE, SUCCESS_MARKER, Lake, json_bytes

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

__all__ = [
    "DATA_FILE",
    "Recovery",
    "Staged",
    "commit",
    "is_published",
    "publish_partition",
    "read_manifest",
    "recover",
]

log = logging.getLogger(__name__)


def is_published(partition: ObjectStoragePath) -> bool:
    return (partition / SUCCESS_MARKER).exists()


def publish_partition(
    lake: Lake,
    staged_file: ObjectStoragePath,
    partition: ObjectStoragePath,
    manifest: dict[str, Any],
) -> None:
    """Promote ``staged_file`` to ``partition/part-0.parquet`` and mark it published."""
    if not staged_file.exists():
        raise FileNotFoundError(f"nothing staged at {staged_file}: run the step that writes it first")
    _unmark(partition)
    _promote(lake, staged_file, partition / DATA_FILE)
    _mark(lake, partition, manifest)


def read_manifest(lake: Lake, partition: ObjectStoragePath) -> dict[str, Any] | None:
    marker = partition / SUCCESS_MARKER
    return lake.read_json(marker) if marker.exists() else None


@dataclass(frozen=True)
class Staged:
    """One file of a commit: where it was written aside and where it goes. ``manifest`` is
    None for a plain file (a run summary), else the partition's ``_SUCCESS`` content."""

    staged: str
    target: str
    manifest: dict[str, Any] | None = None


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` did with a commit an earlier attempt left unfinished."""

    run_id: str
    action: str  # "finished" or "rolled back"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def commit(lake: Lake, journal: ObjectStoragePath, run_id: str, files: list[Staged]) -> None:
    """Publish every staged file at once (see the module docstring); ``journal`` is the one
    place where an unfinished commit of these partitions is recorded."""
    missing = [f.staged for f in files if not lake.path(f.staged).exists()]
    if missing:
        raise FileNotFoundError(f"nothing staged at {', '.join(missing)}: run the step that writes it first")
    digests = {f.staged: _digest(lake.path(f.staged)) for f in files}
    lake.write_json(journal, {"run_id": run_id, "files": [asdict(f) for f in files], "sha256": digests})
    _apply(lake, files)
    journal.unlink()


def recover(lake: Lake, journal: ObjectStoragePath) -> Recovery | None:
    """Finish (or, if it cannot be finished, roll back) the commit ``journal`` records.

    The journal is written only once every file is staged (with each file's SHA-256), so
    the commit can always go forward while each file is still staged or already at its
    target; a file that is neither (its staging deleted by hand) cannot, and then every
    partition of the commit is left unmarked (no reader uses it) until a new run publishes
    it. None when nothing was left."""
    if not journal.exists():
        return None
    payload = lake.read_json(journal)
    files = [Staged(**f) for f in payload["files"]]
    lost = _lost(lake, files, payload["sha256"])
    if lost:
        for f in files:
            if f.manifest is not None:
                _unmark(lake.path(f.target).parent)
        detail = f"staged file(s) gone: {', '.join(f.staged for f in lost)}; the partitions were left unpublished"
        recovery = Recovery(payload["run_id"], "rolled back", detail)
    else:
        _apply(lake, files)
        recovery = Recovery(payload["run_id"], "finished", f"{len(files)} file(s) published as staged")
    journal.unlink()
    log.warning("an interrupted publish of run %s was %s: %s", recovery.run_id, recovery.action, recovery.detail)
    return recovery


def _lost(lake: Lake, files: list[Staged], digests: dict[str, str]) -> list[Staged]:
    """Files the commit can no longer publish: neither still staged nor already at their
    target with the staged content (the journal holds each file's SHA-256)."""
    lost = []
    for f in files:
        staged, target = lake.path(f.staged), lake.path(f.target)
        if not staged.exists() and not (target.exists() and _digest(target) == digests[f.staged]):
            lost.append(f)
    return lost


def _digest(path: ObjectStoragePath) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _apply(lake: Lake, files: list[Staged]) -> None:
    """Unmark every partition, move every staged file still staged, mark every partition.
    Idempotent: a second call after an interruption completes what the first began."""
    partitions = [lake.path(f.target).parent for f in files if f.manifest is not None]
    for partition in partitions:
        _unmark(partition)
    for f in files:
        staged = lake.path(f.staged)
        if staged.exists():
            _promote(lake, staged, lake.path(f.target))
    for f in files:
        if f.manifest is not None:
            _mark(lake, lake.path(f.target).parent, f.manifest)


def _unmark(partition: ObjectStoragePath) -> None:
    marker = partition / SUCCESS_MARKER
    if marker.exists():
        marker.unlink()


def _promote(lake: Lake, staged: ObjectStoragePath, target: ObjectStoragePath) -> None:
    """Move the staged file over ``target``; in a partition, drop every other file but the marker."""
    lake.move(staged, target)
    if target.name == DATA_FILE:
        for stale in lake.list_files(target.parent):
            if stale.name not in (DATA_FILE, SUCCESS_MARKER):
                stale.unlink()


def _mark(lake: Lake, partition: ObjectStoragePath, manifest: dict[str, Any]) -> None:
    """Write ``_SUCCESS`` whole or not at all: aside, then renamed into place."""
    lake.replace_file(partition / SUCCESS_MARKER, json_bytes(manifest), "pending")
