"""Shared test set-up: an isolated Airflow home for the whole session, a fresh lake per test.

AIRFLOW_HOME must be set before anything imports airflow, so it is set here at import time.
"""

from __future__ import annotations

import os
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
    (airflow_env.without_deadline says why). The end-to-end tests keep the product default:
    their real scheduler must finish runs of a DAG that has one."""
    if "e2e" not in request.node.path.parts:
        monkeypatch.setenv("SALESCAST_FORECAST_DEADLINE", "off")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private SALESCAST_HOME and lake for one test (Airflow's DB stays session-wide)."""
    monkeypatch.setenv("SALESCAST_LAKE_URI", (tmp_path / "lake").as_uri())
    monkeypatch.setenv("SALESCAST_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def lake(home: Path):
    from salescast.lake import Lake

    return Lake.from_settings(Settings.from_env())


@pytest.fixture(scope="session")
def moto_endpoint():
    """One real moto_server (S3, Glue, Athena) for the whole session. Airflow caches the S3
    filesystem per connection id for the process (``airflow.sdk.io.store``), so every test
    that uses the ``aws_default`` connection must talk to this one endpoint."""
    from .net import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB (and the forecast pool) for tests that run DAGs with dag.test()."""
    airflow_env.ensure_db(Settings.from_env())
    return Path(os.environ["AIRFLOW_HOME"])
