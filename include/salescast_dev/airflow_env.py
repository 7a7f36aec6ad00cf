"""The environment a salescast Airflow runs in, derived from ``SALESCAST_HOME``.

The demo, ``make run``, ``make airflow`` and the tests all call :func:`airflow_environ`, so
they share one metadata DB location, one DAG folder and one plugins folder. Values the
caller already set win, so a user can point Airflow elsewhere with the usual variables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from salescast.config import DAGS_DIR, PLUGINS_DIR, Settings
from salescast.threads import single_threaded_blas

# SQLite allows one writer at a time; with a scheduler, a dag-processor, an api-server and
# task processes all writing, the default 5 s lock wait ends in "database is locked".
SQLITE_CONNECT_ARGS = {"timeout": 60}


def airflow_environ(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment variables for an Airflow process that runs salescast's DAGs."""
    env = dict(os.environ if base is None else base)
    home = settings.airflow_home
    defaults = {
        "SALESCAST_HOME": str(settings.home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "GX_ANALYTICS_ENABLED": "False",
        "MPLBACKEND": "Agg",
    }
    for key, value in defaults.items():
        if not env.get(key):
            env[key] = value
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite"):
        env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "salescast_dev.airflow_env.SQLITE_CONNECT_ARGS")
    single_threaded_blas(env)
    # Airflow starts its components as `airflow ...` subprocesses: find ours first.
    bins = [str(Path(sys.executable).parent)] + [p for p in env.get("PATH", "").split(os.pathsep) if p]
    env["PATH"] = os.pathsep.join(dict.fromkeys(bins))
    return env


def without_deadline(env: dict[str, str]) -> dict[str, str]:
    """``env`` for ``airflow dags test`` (``DAG.test()``): no deadline alert.

    Such a run happens in one process, with no scheduler or triggerer that could fire a
    deadline alert, and Airflow 3.3.2's ``DAG.test()`` fails once a run of a DAG with deadline
    alerts succeeds: it looks the alerts up by id in a DAG copy that was never written to the
    metadata DB (``'dict' object has no attribute 'hex'`` in ``DeadlineAlert.get_by_id``)."""
    env["SALESCAST_FORECAST_DEADLINE"] = "off"
    return env


def apply(settings: Settings) -> dict[str, str]:
    """Set the Airflow environment in this process; call before importing ``airflow``."""
    env = airflow_environ(settings)
    os.environ.update(env)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    return env


def airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


_ENSURE_POOL = """
import sys
from airflow.models.pool import Pool
name, slots = sys.argv[1], int(sys.argv[2])
if Pool.get_pool(name) is None:  # never overwrite slots an operator has changed
    Pool.create_or_update_pool(name, slots, "salescast forecast shards", include_deferred=False)
"""


def ensure_db(settings: Settings, env: dict[str, str] | None = None, start_new_session: bool = False) -> None:
    """Create or upgrade the SQLite metadata DB (``airflow db migrate`` is idempotent) and
    create the forecast-shard pool; a task in a pool that does not exist is never scheduled.

    ``start_new_session``: run both in a session of their own, so a Ctrl-C or a SIGTERM meant
    for the caller's process group cannot cut a migration short (the caller decides when to stop)."""
    env = env or airflow_environ(settings)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    pool = [sys.executable, "-c", _ENSURE_POOL, settings.forecast_pool, str(settings.forecast_pool_slots)]
    for command in ([airflow_bin(), "db", "migrate"], pool):
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, start_new_session=start_new_session)
