"""Every fault case runs on a ``file://`` lake and on an ``s3://`` lake on a real moto_server.

The session's moto_server (tests/conftest.py) holds the bucket; each test gets its own S3
prefix (and its own local folder), so cases never see each other's files.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ..net import point_aws_at

BUCKET = "salescast-faults"


@pytest.fixture(scope="session")
def faults_bucket(moto_endpoint) -> str:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET)
    return moto_endpoint


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.slow)])  # slow: starts a server
def lake(request, home, monkeypatch):
    """A fresh lake of either kind, configured the way operators configure it (environment)."""
    from salescast.config import Settings
    from salescast.lake import Lake

    if request.param == "s3":
        endpoint = request.getfixturevalue("faults_bucket")
        point_aws_at(monkeypatch, endpoint)
        prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/{prefix}")
    lake = Lake.from_settings(Settings.from_env())
    assert lake.is_local == (request.param == "file")
    return lake


@pytest.fixture
def tiny_disk(tmp_path, monkeypatch):
    """A 4 MB tmpfs as the lake: a real ENOSPC (root only: mounting needs it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    monkeypatch.setenv("SALESCAST_LAKE_URI", (mount / "lake").as_uri())
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave: int) -> Path:
    """Take all free space of ``mount`` but ``leave`` bytes."""
    free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
    filler = mount / "filler"
    with filler.open("ab") as handle:
        handle.write(b"\0" * max(free - leave, 0))
    return filler
