"""A distributed Airflow on this machine, started once for the module: PostgreSQL metadata DB,
Redis broker, api-server, scheduler, dag-processor, triggerer and two Celery workers
(``worker-a``, ``worker-b``), on an S3 lake held by the session's moto_server.

Every process runs in its own process group and is stopped in the fixtures' teardown, also
when a test fails; the servers' folders are temporary and their ports free ones. The
``cluster`` fixture is registered for tests/system by tests/system/conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

import psutil
import pytest

from salescast.config import REPO_ROOT
from tests.support.celery_services import postgres, redis_server
from tests.support.net import free_port

BUCKET, PREFIX = "salescast-celery", "lake"
WORKERS = ("worker-a", "worker-b")
DAY = datetime.now(UTC).date() - timedelta(days=1)  # the run the scheduler creates on unpause (catchup off)
FIRST = DAY - timedelta(days=41)  # six weeks of history
# 600 series -> 4 shards of 7-25 s each on this machine: the kill must land mid-shard
STORES, ITEMS, SERIES_PER_SHARD = 6, 100, 150
ARTIFACTS = REPO_ROOT / "test-artifacts" / "celery"

# The same product settings for the Celery run and the reference run.
SETTINGS_ENV = {
    "SALESCAST_SERIES_PER_SHARD": str(SERIES_PER_SHARD),
    "SALESCAST_MAX_SHARDS": "64",
    "SALESCAST_MAX_BAD_ROW_FRACTION": "0.5",
    "SALESCAST_LANDING_SETTLE_SECONDS": "0",
    # Not shorter: a reschedule-mode poke faster than the executor reports the previous one is
    # failed by the scheduler (tests/system/test_airflow_ui.py says more); the first poke finds the data anyway.
    "SALESCAST_SENSOR_POKE_SECONDS": "20",
    "SALESCAST_SENSOR_TIMEOUT_SECONDS": "600",
    "SALESCAST_TASK_RETRIES": "2",
    "SALESCAST_RETRY_DELAY_SECONDS": "1",
    "SALESCAST_FORECAST_DEADLINE": "off",
    "SALESCAST_ALERT_EMAILS": "",
}


def aws_env(endpoint: str) -> dict[str, str]:
    """Test credentials and an ``aws_default`` connection whose endpoint is the moto_server."""
    extra = {"region_name": "us-east-1", "endpoint_url": endpoint}
    connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
    }


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # fmt: skip


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (the task processes Airflow's supervisor starts
    leave the worker's process group, so killing the group alone would miss them)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_tree(pid: int) -> None:
    """SIGKILL a process, its process group and every descendant: a machine that died."""
    tree = process_tree(pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


@dataclass
class Workers:
    """Celery workers (``airflow celery worker``), one process group each."""

    env: dict[str, str]
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, name: str) -> None:
        from salescast_dev import airflow_env

        env = self.env | {"SALESCAST_WORKER_HOSTNAME": name}
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop())
        self._logs.append(log)
        self.procs[name] = subprocess.Popen(
            [airflow_env.airflow_bin(), "celery", "worker", "--celery-hostname", name, "--concurrency", "1",
             "--skip-serve-logs", "--without-mingle", "--without-gossip"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 120) -> None:
        """Each worker logged Celery's ``ready.`` line (it consumes from the broker)."""
        deadline = time.monotonic() + timeout
        for name, proc in self.procs.items():
            log = self.log_dir / f"{name}.log"
            while " ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"celery {name} did not start (exit {proc.poll()}); log in {log}")
                time.sleep(0.5)

    def kill(self, name: str) -> None:
        kill_tree(self.procs[name].pid)
        self.procs[name].wait(timeout=30)

    def stop(self, grace: float = 20) -> None:
        trees = {name: process_tree(p.pid) for name, p in self.procs.items()}
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, proc in self.procs.items():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            for leftover in trees[name]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    leftover.kill()
            kill_tree(proc.pid)
            proc.wait(timeout=10)
        for log in self._logs:
            log.close()


@dataclass
class Inputs:
    """The day's landing files and a file lake holding the history ingested before it."""

    source: Path
    reference: Path  # a file:// lake root: the LocalExecutor run's lake


def build_inputs(root: Path) -> Inputs:
    """Generate the landing files and ingest the history days with the product's own function,
    once: the S3 lake of the Celery run starts as a copy of this lake."""
    from salescast.ingest.pipeline import ingest_day
    from salescast.lake import Lake
    from salescast_dev.generate import PanelSpec, write_landing

    began = time.monotonic()
    source, lake_root = root / "source", root / "reference-lake"
    write_landing(PanelSpec(stores=STORES, items=ITEMS, seed=14), FIRST, DAY, source, defects=True,
                  bad_file_rate=0.0)  # fmt: skip
    lake = Lake(lake_root.as_uri())
    shutil.copytree(source, lake_root / "landing" / "sales")
    day = FIRST
    while day < DAY:
        ingest_day(lake, day, "bootstrap", 0.5)
        day += timedelta(days=1)
    print(f"celery test inputs: {(DAY - FIRST).days} days of history ingested in {time.monotonic() - began:.1f} s")
    return Inputs(source, lake_root)


def upload_tree(endpoint: str, folder: Path, prefix: str) -> None:
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.name == "_READY")  # _READY last
    for path in files:
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{path.relative_to(folder).as_posix()}", Body=path.read_bytes())


@dataclass
class Cluster:
    url: str
    token: str
    endpoint: str  # moto_server
    workers: Workers
    log_dir: Path
    reference: Path  # the file lake the single-process run published into
    timings: dict[str, float]


def run_reference(inputs: Inputs) -> None:
    """The same day through ``dag.test()`` (what ``make run`` / ``airflow dags test`` do:
    every task in this one process, no Celery) on the file lake, with the same settings."""
    from tests.support.dags import run

    env = SETTINGS_ENV | {"SALESCAST_LAKE_URI": inputs.reference.as_uri()}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        for dag_id in ("sales_ingest", "sales_forecast"):
            dagrun = run(dag_id, DAY)
            assert dagrun.state == "success", (dag_id, {ti.task_id: ti.state for ti in dagrun.get_task_instances()})


def stack_env(home: Path, endpoint: str, database: str, broker: str) -> dict[str, str]:
    """The environment of every Airflow component and worker: Celery on PostgreSQL and Redis."""
    # A home of its own: no AIRFLOW_* setting of the test session's leaks into the stack.
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return (
        base
        | SETTINGS_ENV
        | aws_env(endpoint)
        | {
            "SALESCAST_HOME": str(home),
            "SALESCAST_LAKE_URI": f"s3://{BUCKET}/{PREFIX}",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,  # +psycopg2: SQLAlchemy 2.1 defaults to psycopg 3
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "salescast_dev.worker_hostname.worker_hostname",
            # a task whose worker died is failed (then retried) after seconds, not 5 minutes
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        }
    )


@pytest.fixture(scope="module")
def cluster(moto_endpoint: str, airflow_db: Path, tmp_path_factory) -> Iterator[Cluster]:
    """Everything a distributed Airflow needs, on loopback; torn down whatever happens. While
    it boots (a minute), this process makes the inputs and runs the reference."""
    from salescast.config import Settings
    from salescast_dev.airflow_stack import AirflowStack

    timings: dict[str, float] = {}
    began = time.monotonic()
    home = tmp_path_factory.mktemp("celery-home")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    log_dir = ARTIFACTS / "logs"
    log_dir.mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        base = stack_env(home, moto_endpoint, stack.enter_context(postgres()), stack.enter_context(redis_server()))
        with pytest.MonkeyPatch.context() as patch:  # Settings read this process's environment
            for key, value in base.items():
                patch.setenv(key, value)
            settings = Settings.from_env()
        airflow = AirflowStack(settings, free_port(), log_dir, base_env=base)
        workers = Workers(base, log_dir)
        stack.callback(airflow.stop)
        stack.callback(workers.stop)  # runs first

        def boot() -> None:
            airflow.start(timeout=300)
            workers.env = airflow.env
            for name in WORKERS:
                workers.start(name)
            workers.wait_ready()
            timings["cluster up"] = round(time.monotonic() - began, 1)

        with ThreadPoolExecutor(max_workers=1) as pool:  # leaving the block waits for boot()
            booting = pool.submit(boot)
            try:
                inputs = build_inputs(tmp_path_factory.mktemp("celery-inputs"))
                upload_tree(moto_endpoint, inputs.reference, PREFIX)  # before the reference run adds to it
                run_reference(inputs)
                timings["reference run"] = round(time.monotonic() - began, 1)
            finally:
                booting.result()
        yield Cluster(airflow.url, airflow.token(), moto_endpoint, workers, log_dir, inputs.reference, timings)


def day_of(run: dict) -> date | None:
    return date.fromisoformat(run["logical_date"][:10]) if run.get("logical_date") else None
