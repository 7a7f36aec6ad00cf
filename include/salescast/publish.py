"""Atomic partition publishing: write aside, promote, then mark with ``_SUCCESS``.

Readers only trust a partition that has ``_SUCCESS``. Publishing first removes the marker,
swaps the data file in one rename (local) or one object write (S3), drops stale files, and
writes the marker last, so a run killed at any point leaves either the old partition, the
new one, or an unmarked one that no reader uses: never a half-written one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salescast.lake import DATA_FILE, SUCCESS_MARKER, Lake

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

__all__ = ["DATA_FILE", "is_published", "publish_partition", "read_manifest"]


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
    marker = partition / SUCCESS_MARKER
    if marker.exists():
        marker.unlink()
    lake.move(staged_file, partition / DATA_FILE)
    for stale in lake.list_files(partition):
        if stale.name not in (DATA_FILE, SUCCESS_MARKER):
            stale.unlink()
    pending = staged_file.parent / f"{SUCCESS_MARKER}.pending"
    lake.write_json(pending, manifest)
    lake.move(pending, marker)


def read_manifest(lake: Lake, partition: ObjectStoragePath) -> dict[str, Any] | None:
    marker = partition / SUCCESS_MARKER
    return lake.read_json(marker) if marker.exists() else None
