"""A write that fails leaves no temporary file behind (``Lake.write_bytes``, ``Lake.replace_file``).

A full disk while ``archive_raw`` copied a 4.6 MB landing file left a 4.6 MB ``.tmp`` in
``raw/``. On a local lake a real full tmpfs; on S3 (moto_server) the object store refuses the
copy that moves the temporary object into place. Either way: the error is reported, ``raw/``
holds nothing new, and a retry after the fault archives the file byte for byte.
"""

from __future__ import annotations

import errno
import os
from datetime import date

import pytest

from salescast.config import Settings
from salescast.ingest.pipeline import archive_raw
from salescast.lake import Lake

from .conftest import fill

DAY = date(2025, 3, 6)
LANDING = "big.csv"


def land(lake: Lake, size: int) -> bytes:
    line = f"{DAY},S01,I0001,3\n".encode()
    data = b"date,store_id,item_id,units\n" + line * (size // len(line))
    lake.write_bytes(lake.landing_dir(DAY) / LANDING, data)
    return data


def raw_names(lake: Lake) -> list[str]:
    folder = lake.raw_dir(DAY)
    return sorted(str(p).rsplit("/", 1)[-1] for p in folder.fs.find(folder.path)) if folder.exists() else []


def test_a_full_disk_while_archiving_leaves_no_temporary_file(tiny_disk):
    lake = Lake.from_settings(Settings.from_env())
    data = land(lake, 1_500_000)
    filler = fill(tiny_disk, leave=512 * 1024)  # room for part of the copy, not all of it
    with pytest.raises(OSError, match="No space left") as failure:
        archive_raw(lake, DAY)
    assert failure.value.errno == errno.ENOSPC
    assert raw_names(lake) == []
    filler.unlink()
    archive_raw(lake, DAY)  # space freed: the retry archives the file whole
    assert raw_names(lake) == [LANDING]
    assert (lake.raw_dir(DAY) / LANDING).read_bytes() == data


class RefusedCopy:
    """The object store refuses the copy that moves a temporary object into ``raw/`` (S3 has no
    full disk; a refused or interrupted request is its way to fail half-way)."""

    def __init__(self, monkeypatch, lake: Lake) -> None:
        self.hits = 0
        fs = lake.root.fs
        original = fs._call_s3

        async def call(method, *args, **kwargs):
            if method == "copy_object" and "/raw/" in f"/{kwargs.get('Key', '')}":
                self.hits += 1
                raise OSError(errno.EIO, os.strerror(errno.EIO), kwargs["Key"])
            return await original(method, *args, **kwargs)

        monkeypatch.setattr(fs, "_call_s3", call)
        self.undo = lambda: monkeypatch.setattr(fs, "_call_s3", original)


def test_a_refused_move_on_s3_leaves_no_temporary_object(lake, monkeypatch):
    if lake.is_local:
        pytest.skip("a local move is a rename; the local case is the real full disk above")
    data = land(lake, 200_000)
    fault = RefusedCopy(monkeypatch, lake)
    with pytest.raises(OSError, match="Input/output error"):
        archive_raw(lake, DAY)
    assert fault.hits == 1
    assert raw_names(lake) == []
    fault.undo()
    archive_raw(lake, DAY)
    assert raw_names(lake) == [LANDING]
    assert (lake.raw_dir(DAY) / LANDING).read_bytes() == data
