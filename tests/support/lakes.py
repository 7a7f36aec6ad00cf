"""A test on both kinds of lake, and a real full disk (the fixtures are in tests/conftest.py).

``@on_both_lakes`` runs a test that takes the ``lake`` fixture twice: on a ``file://`` lake and
on an ``s3://`` lake on the session's real moto_server (slow: it starts a server; aws: it
needs moto_server). Each test gets its own S3 prefix (and its own local folder), so cases never
see each other's files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BUCKET = "salescast-lakes"

on_both_lakes = pytest.mark.parametrize(
    "lake", ["file", pytest.param("s3", marks=[pytest.mark.slow, pytest.mark.aws])], indirect=True
)


def fill(mount: Path, leave: int) -> Path:
    """Take all free space of ``mount`` but ``leave`` bytes."""
    free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
    filler = mount / "filler"
    with filler.open("ab") as handle:
        handle.write(b"\0" * max(free - leave, 0))
    return filler
