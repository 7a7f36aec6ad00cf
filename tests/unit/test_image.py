"""The Dockerfile and the two requirements files, checked statically: there is no Docker daemon
(and no registry) on these machines, so the image itself is never built here. What can be
checked is: the file parses as Docker reads it, its base image matches our Airflow pin, it
installs the runtime pins only, every COPY source exists and mirrors the repository layout the
salescast package expects, the BLAS settings are the engine's, and nothing secret is baked in.
"""

from __future__ import annotations

import re
import shlex

import pytest
from dockerfile_parse import DockerfileParser

from salescast.config import REPO_ROOT
from salescast.threads import THREAD_VARIABLES

APP = "/opt/salescast"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)\s*(#.*)?$")


def pins(name: str) -> dict[str, tuple[str, str]]:
    """Normalised package name -> (version, the ``# via`` annotation) of a compiled requirements file."""
    found = {}
    for line in (REPO_ROOT / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{name}: not an exact pin: {line!r}"
        found[re.sub(r"[-_.]+", "-", match[1]).lower()] = (match[3], match[4] or "")
    return found


def top_level(name: str) -> set[str]:
    names = set()
    for line in (REPO_ROOT / name).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text and not text.startswith("-"):
            names.add(re.sub(r"[-_.]+", "-", re.split(r"[\[=<>~! ]", text, maxsplit=1)[0]).lower())
    return names


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(REPO_ROOT / "Dockerfile"))


def instructions(dockerfile: DockerfileParser, kind: str) -> list[str]:
    return [i["value"] for i in dockerfile.structure if i["instruction"] == kind]


def copies(dockerfile: DockerfileParser) -> list[tuple[str, str]]:
    pairs = []
    for value in instructions(dockerfile, "COPY"):
        words = [w for w in shlex.split(value) if not w.startswith("--")]
        pairs += [(source, words[-1]) for source in words[:-1]]
    return pairs


def test_the_base_is_the_official_airflow_image_of_our_pin(dockerfile):
    airflow = pins("requirements.txt")["apache-airflow"][0]
    python = re.search(r"<3\.(\d+)", (REPO_ROOT / "pyproject.toml").read_text())[1]
    assert dockerfile.baseimage == f"apache/airflow:slim-{airflow}-python3.{int(python) - 1}"
    installs = [r for r in instructions(dockerfile, "RUN") if "-r " in r]
    assert len(installs) == 1
    # Airflow's recipe for extending the image: the build fails if base and pin disagree
    assert '"apache-airflow==${AIRFLOW_VERSION}" -r /opt/salescast/requirements.txt' in installs[0]
    assert installs[0].rstrip().endswith("pip check")


def test_the_image_installs_the_runtime_pins_only(dockerfile):
    sources = [source for source, _ in copies(dockerfile)]
    assert "requirements.txt" in sources
    assert not [s for s in sources if "dev" in s or s in (".", "./")]  # no dev file, no whole-context copy
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    dev_only = {name for name, (_, via) in dev.items() if "-c requirements.txt" not in via}
    assert dev_only >= top_level("requirements-dev.in")
    assert not dev_only & set(runtime), "a test/lint tool is pinned in the image's requirements"
    assert {"pytest", "ruff", "moto", "playwright", "aiosmtpd", "dockerfile-parse"} <= dev_only


def test_the_two_requirements_files_agree_and_pin_everything_they_name():
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert top_level("requirements.in") <= set(runtime)
    assert top_level("requirements-dev.in") <= set(dev)
    shared = set(runtime) & set(dev)
    assert {name: (runtime[name][0], dev[name][0]) for name in shared if runtime[name][0] != dev[name][0]} == {}
    assert "-c requirements.txt" in (REPO_ROOT / "requirements-dev.in").read_text()  # how they stay in step


def test_every_copy_source_exists_and_lands_where_the_package_expects_it(dockerfile):
    """salescast finds include/sql, include/expectations and dags/ relative to its repository root
    (config.REPO_ROOT), so the image keeps the repository's layout under /opt/salescast."""
    ignored = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()]
    for source, target in copies(dockerfile):
        assert (REPO_ROOT / source).exists(), source
        assert source.split("/")[0] not in ignored, f"{source} is excluded from the build context"
        assert target.rstrip("/") == f"{APP}/{source.rstrip('/')}", (source, target)
    copied = {source.rstrip("/") for source, _ in copies(dockerfile)}
    assert {"requirements.txt", "pyproject.toml", "include", "dags", "plugins"} <= copied
    for needed in ("include/sql", "include/expectations", "include/sources"):
        assert (REPO_ROOT / needed).is_dir()  # carried by the include/ copy
    editable = [r for r in instructions(dockerfile, "RUN") if " -e " in r]
    assert editable == [f"pip install --no-cache-dir --no-deps --no-build-isolation -e {APP}"]


def test_the_image_sets_the_engines_blas_threads_and_the_dag_folders(dockerfile):
    from salescast.threads import single_threaded_blas

    engine: dict[str, str] = {}
    single_threaded_blas(engine)
    assert {name: dockerfile.envs.get(name) for name in THREAD_VARIABLES} == engine
    assert dockerfile.envs["AIRFLOW__CORE__DAGS_FOLDER"] == f"{APP}/dags"
    assert dockerfile.envs["AIRFLOW__CORE__PLUGINS_FOLDER"] == f"{APP}/plugins"


def test_nothing_secret_is_baked_into_the_image(dockerfile):
    names = set(dockerfile.envs) | set(dockerfile.args)
    assert not [n for n in names if re.search(r"PASSWORD|SECRET|KEY|TOKEN|^AIRFLOW_CONN_", n)]
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert ".env" not in [source for source, _ in copies(dockerfile)]
    assert not re.search(r"AWS_|FERNET|JWT", text)


def test_the_build_context_leaves_out_local_state():
    ignored = set((REPO_ROOT / ".dockerignore").read_text().splitlines())
    assert {".git", ".env", ".venv", ".venv-*", ".salescast", "test-artifacts", "bench/out"} <= ignored


def test_no_package_is_both_runtime_and_dev():
    assert not top_level("requirements.in") & top_level("requirements-dev.in")


def test_the_kubernetes_values_in_the_docs_run_this_image(dockerfile):
    """docs/kubernetes.md's values file: same folders as the image, secrets only by reference,
    the BLAS settings left to the image, and the shard pool named."""
    import yaml

    text = (REPO_ROOT / "docs" / "kubernetes.md").read_text()
    values = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S)[1])
    assert values["airflowVersion"] == pins("requirements.txt")["apache-airflow"][0]
    assert values["images"]["airflow"]["tag"] == values["defaultAirflowTag"]
    assert values["config"]["core"]["dags_folder"] == dockerfile.envs["AIRFLOW__CORE__DAGS_FOLDER"]
    assert values["config"]["core"]["plugins_folder"] == dockerfile.envs["AIRFLOW__CORE__PLUGINS_FOLDER"]
    assert not values["dags"]["gitSync"]["enabled"]
    assert not values["dags"]["persistence"]["enabled"]
    env = {item["name"]: item["value"] for item in values["env"]}
    assert not set(THREAD_VARIABLES) & set(env)
    assert env["SALESCAST_LAKE_URI"].startswith("s3://")
    assert all(values[k] for k in ("fernetKeySecretName", "jwtSecretName", "apiSecretKeySecretName"))
    assert not [k for k in ("fernetKey", "jwtSecret", "apiSecretKey") if k in values]
    assert [s["envName"] for s in values["secret"]] == ["AIRFLOW_CONN_AWS_DEFAULT"]
    assert f"airflow pools set salescast_forecast {env['SALESCAST_FORECAST_POOL_SLOTS']} " in text
