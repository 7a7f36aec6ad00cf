"""docker-compose.yaml: the official Airflow 3 Celery shape, S3 mode against an object store,
secrets only from .env. `docker compose config -q` runs too where the compose plugin exists."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from salescast.config import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yaml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_have_the_celery_shape(compose):
    services = compose["services"]
    assert {
        "postgres", "redis", "objectstore", "airflow-init", "airflow-apiserver", "airflow-scheduler",
        "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
    } <= set(services)  # fmt: skip
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-worker"):  # fmt: skip
        service = services[name]
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert "requirements.txt" in service["command"]  # the project's pins, on every component
        # salescast itself the one way it is installed everywhere (editable: works on the :ro mount)
        assert (
            "pip install --quiet --no-cache-dir --no-deps --no-build-isolation -e /opt/salescast" in service["command"]
        )
        assert "PYTHONPATH" not in service["environment"]
        assert "./:/opt/salescast:ro" in service["volumes"]


def test_salescast_runs_in_s3_mode_against_the_object_store(compose):
    env = compose["services"]["airflow-worker"]["environment"]
    assert env["SALESCAST_LAKE_URI"].startswith("s3://")
    assert '"endpoint_url": "http://objectstore:9000"' in env["AIRFLOW_CONN_AWS_DEFAULT"]
    assert "salescast_forecast" in compose["services"]["airflow-init"]["command"][1]  # the shard pool exists


def test_no_secret_has_a_default_and_every_variable_is_in_env_example():
    text = COMPOSE.read_text()
    variables = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    documented = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line
                  and not line.startswith("#")}  # fmt: skip
    assert variables - {"AIRFLOW_IMAGE"} <= documented, variables - documented
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
    subprocess.run(
        ["docker", "compose", "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "-q"],
        check=True, cwd=REPO_ROOT,
    )  # fmt: skip
