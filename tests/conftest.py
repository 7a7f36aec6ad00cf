"""Shared test set-up: an isolated Airflow home for the whole session, a fresh lake per test
(``file://``, or also ``s3://`` on the session's moto_server with ``tests.support.lakes.on_both_lakes``).

AIRFLOW_HOME must be set before anything imports airflow, so it is set here at import time.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

from salescast.threads import single_threaded_blas  # noqa: E402

single_threaded_blas()

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="salescast-test-"))
os.environ["SALESCAST_HOME"] = str(_SESSION_HOME)
os.environ.pop("SALESCAST_LAKE_URI", None)

from salescast.config import Settings  # noqa: E402
from salescast_dev import airflow_env  # noqa: E402

airflow_env.apply(Settings.from_env())


def pytest_configure(config: pytest.Config) -> None:
    """Airflow's own deprecations fail the test that triggers them. Added here, not in
    pyproject.toml: resolving these classes imports airflow, which must not happen before
    AIRFLOW_HOME and the metadata DB above are set (it would bind ~/airflow/airflow.db)."""
    for category in ("RemovedInAirflow4Warning", "AirflowProviderDeprecationWarning"):
        config.addinivalue_line("filterwarnings", f"error::airflow.exceptions.{category}")


@pytest.fixture(autouse=True)
def _dag_test_without_deadline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """DAG.test() runs get no deadline alert, as `airflow dags test` runs in salescast's CLI
    (airflow_env.without_deadline says why). The end-to-end tests (marked ``e2e``) keep the
    product default: their real scheduler must finish runs of a DAG that has one."""
    if request.node.get_closest_marker("e2e") is None:
        monkeypatch.setenv("SALESCAST_FORECAST_DEADLINE", "off")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private SALESCAST_HOME and lake for one test (Airflow's DB stays session-wide)."""
    monkeypatch.setenv("SALESCAST_LAKE_URI", (tmp_path / "lake").as_uri())
    monkeypatch.setenv("SALESCAST_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def lake(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh ``file://`` lake in ``home``; under ``@on_both_lakes`` (tests.support.lakes) also
    an ``s3://`` lake on the session's moto_server, configured the way operators configure it
    (environment), under an S3 prefix of the test's own."""
    from salescast.lake import Lake
    from tests.support.lakes import BUCKET
    from tests.support.net import point_aws_at

    kind = getattr(request, "param", "file")
    if kind == "s3":
        endpoint = request.getfixturevalue("lake_bucket")
        point_aws_at(monkeypatch, endpoint)
        prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
        monkeypatch.setenv("SALESCAST_LAKE_URI", f"s3://{BUCKET}/{prefix}")
    lake = Lake.from_settings(Settings.from_env())
    assert lake.is_local == (kind == "file")
    return lake


@pytest.fixture(scope="session")
def lake_bucket(moto_endpoint) -> str:
    """The bucket of the ``s3://`` lakes of ``@on_both_lakes``; the moto_server's URL."""
    import boto3

    from tests.support.lakes import BUCKET

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET)
    return moto_endpoint


@pytest.fixture
def tiny_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A 4 MB tmpfs as the lake: a real ENOSPC (root only: mounting needs it);
    ``tests.support.lakes.fill`` takes its space."""
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


@pytest.fixture(scope="session")
def moto_endpoint():
    """One real moto_server (S3, Glue, Athena) for the whole session. Airflow caches the S3
    filesystem per connection id for the process (``airflow.sdk.io.store``), so every test
    that uses the ``aws_default`` connection must talk to this one endpoint."""
    from tests.support.net import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB (and the forecast pool) for tests that run DAGs with dag.test()."""
    airflow_env.ensure_db(Settings.from_env())
    return Path(os.environ["AIRFLOW_HOME"])
