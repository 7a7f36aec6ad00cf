"""docker-compose.yaml: the official Airflow 3 Celery shape on the project's image (Dockerfile),
S3 mode against an object store, secrets only from .env, and a lake/engine pair that works.
`docker compose config -q` runs too where the compose plugin exists (not on these machines:
no Docker daemon or client here, so everything else is checked statically)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from salescast.config import REPO_ROOT
from salescast.threads import THREAD_VARIABLES

COMPOSE = REPO_ROOT / "docker-compose.yaml"
DEV_OVERRIDE = REPO_ROOT / "docker-compose.dev.yaml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")  # fmt: skip
# what a service may add to the shared environment, and why
SERVICE_EXTRAS = {"airflow-worker": {"DUMB_INIT_SETSID"}}  # Celery's warm shutdown (Airflow's compose)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_example() -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line and not line.startswith("#")
    )


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``; ``$$`` is a ``$``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        found = variables.get(name, "")
        if op == ":?" and not found:
            raise KeyError(f"{name}: {arg}")
        return found or (arg if op == ":-" else "")

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, value.replace("$$", "\0")).replace("\0", "$")


def test_services_have_the_celery_shape(compose):
    services = compose["services"]
    assert {"postgres", "redis", "objectstore", "airflow-init", *AIRFLOW_SERVICES} <= set(services)
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler", "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer", "airflow-worker": "celery worker",
    }  # fmt: skip
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_every_airflow_service_runs_the_built_image_and_installs_nothing_at_start(compose):
    """The image carries the pins and the code: no pip at start, no source mount, one image."""
    text = COMPOSE.read_text()
    assert "pip install" not in text
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text
    images = set()
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        service = compose["services"][name]
        assert service["build"] == "."  # the Dockerfile at the root
        images.add(service["image"])
        assert not [v for v in service["volumes"] if v.startswith(("./", "/"))], "code comes from the image"
        assert "PYTHONPATH" not in service["environment"]
    assert images == {"${SALESCAST_IMAGE:-salescast:0.1.0}"}


def test_every_airflow_service_has_the_same_environment(compose):
    """Scheduler, workers and api-server must agree on secrets, executor, lake and engine."""
    services = compose["services"]
    shared = services["airflow-scheduler"]["environment"]
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        env = services[name]["environment"]
        assert {k: v for k, v in env.items() if k not in SERVICE_EXTRAS.get(name, set())} == shared, name
        assert services[name]["env_file"] == services["airflow-scheduler"]["env_file"]


def test_blas_variables_reach_every_worker_from_the_image(compose):
    """The image sets one BLAS thread (test_image.py); compose must not override it."""
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        env = compose["services"][name]["environment"]
        assert all(env.get(var, "1") == "1" for var in THREAD_VARIABLES), name
    assert not set(THREAD_VARIABLES) & set(env_example())


def test_salescast_runs_in_s3_mode_against_the_object_store(compose):
    env = compose["services"]["airflow-worker"]["environment"]
    assert env["SALESCAST_LAKE_URI"].startswith("s3://")
    assert '"endpoint_url": "http://objectstore:9000"' in env["AIRFLOW_CONN_AWS_DEFAULT"]
    assert "salescast_forecast" in compose["services"]["airflow-init"]["command"][1]  # the shard pool exists
    assert "salescast-home:/opt/airflow/salescast" in compose["services"]["airflow-worker"]["volumes"]
    assert env["SALESCAST_HOME"] == "/opt/airflow/salescast"


def test_env_example_and_compose_give_settings_that_work(compose, monkeypatch):
    """The worker's environment, interpolated from .env.example, parses into Settings, and its
    lake/engine pair is one salescast runs: an s3:// lake with DuckDB is what
    tests/system/test_duckdb_on_s3.py runs on a real moto_server (sales_catalog included)."""
    from salescast.config import Settings

    variables = env_example()
    env = {k: interpolate(str(v), variables) for k, v in compose["services"]["airflow-worker"]["environment"].items()}
    for name in [n for n in os.environ if n.startswith("SALESCAST_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SALESCAST_"):  # all Settings reads; Airflow's own variables stay out of this process
            monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.lake_uri == f"s3://{variables['SALESCAST_BUCKET']}/lake"
    assert (settings.sql_engine, settings.is_s3) == ("duckdb", True)
    assert settings.forecast_pool_slots == int(variables["SALESCAST_FORECAST_POOL_SLOTS"])


def test_the_dev_override_only_mounts_code_over_the_image():
    override = yaml.safe_load(DEV_OVERRIDE.read_text())
    assert set(override["services"]) == set(AIRFLOW_SERVICES)
    for service in override["services"].values():
        assert set(service) == {"volumes"}  # no command, no pip, same image and environment
        assert sorted(service["volumes"]) == [
            "./dags:/opt/salescast/dags:ro", "./include:/opt/salescast/include:ro",
            "./plugins:/opt/salescast/plugins:ro",
        ]  # fmt: skip


def test_no_secret_has_a_default_and_every_variable_is_in_env_example():
    text = COMPOSE.read_text()
    variables = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    documented = set(env_example())
    assert variables <= documented, variables - documented
    for secret in ("PASSWORD", "SECRET", "KEY"):
        defaults = re.findall(rf"\$\{{[A-Z0-9_]*{secret}[A-Z0-9_]*:-([^}}]*)\}}", text)
        assert defaults == [], f"secrets must come from .env, not defaults: {defaults}"
    assert not re.search(r"(?i)password[ \t]*[:=][ \t]*['\"]?[a-z0-9]", re.sub(r"\$\{[^}]+\}", "", text))


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0,
    reason="no docker client with the compose plugin on this machine",
)
def test_docker_compose_config_accepts_the_file():
    for files in (["-f", str(COMPOSE)], ["-f", str(COMPOSE), "-f", str(DEV_OVERRIDE)]):
        subprocess.run(
            ["docker", "compose", "--env-file", str(ENV_EXAMPLE), *files, "config", "-q"], check=True, cwd=REPO_ROOT
        )
