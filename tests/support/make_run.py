"""`make run DAG=... DATE=...` as the tests run it: the command the Makefile executes, in an
environment with a home of its own."""

from __future__ import annotations

import os
import shlex
import subprocess
from datetime import date
from pathlib import Path

from salescast.config import REPO_ROOT


def make_run_command(dag_id: str, day: date) -> list[str]:
    """The command `make run` executes (from `make -n`, so the test follows the Makefile)."""
    plan = subprocess.run(
        ["make", "-n", "run", f"DAG={dag_id}", f"DATE={day}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    line = next(line for line in plan.stdout.splitlines() if "-m salescast" in line)
    return shlex.split(line)


def salescast_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SALESCAST_"))}
    return env | {"SALESCAST_HOME": str(home), "SALESCAST_LANDING_SETTLE_SECONDS": "0"} | extra
