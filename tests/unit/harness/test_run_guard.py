"""`make run` as an operator meets it: two at once, and a day whose data has not come yet.

* Two `make run DAG=X DATE=D` at once: the second used to clear the first one's DagRun (the
  first then printed success, `IntegrityError` tracebacks, and exited 2). The second is refused
  with a message naming the first, and the first finishes undisturbed.
* A day not ingested: `DAG.test()` logged "No tasks to run. unrunnable tasks: {...}" every
  second for up to 12 h. The run says once what it waits for and until when.

Both run the real command `make run` executes (salescast_dev.run_guard says how).
"""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from salescast.config import REPO_ROOT
from salescast_dev.generate import PanelSpec, write_landing
from tests.support.make_run import make_run_command, salescast_env

pytestmark = pytest.mark.slow

DAY = date(2025, 3, 31)


class Run:
    """One `make run` in the background, its output collected line by line."""

    def __init__(self, dag_id: str, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            make_run_command(dag_id, DAY), cwd=REPO_ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            ended = self.proc.poll() is not None and not self.reader.is_alive()
            assert not ended, f"ended without {text!r}:\n" + "".join(self.lines)[-3000:]
            assert time.monotonic() < deadline, f"no {text!r} in {timeout} s:\n" + "".join(self.lines)[-3000:]
            time.sleep(0.5)

    def finish(self, timeout: float) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code, "".join(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_a_second_make_run_of_the_same_dag_and_day_is_refused_and_the_first_finishes(tmp_path):
    env = salescast_env(tmp_path, SALESCAST_SENSOR_TIMEOUT_SECONDS="600", SALESCAST_SENSOR_POKE_SECONDS="2")
    first = Run("sales_ingest", env)
    second = None
    try:
        first.wait_for("Created dag run", timeout=300)  # its DagRun exists; its sensor waits for files
        second = Run("sales_ingest", env)
        code, output = second.finish(timeout=300)
        assert code == 2, output[-3000:]
        assert "sales_ingest for 2025-03-31 is already being run by make run" in output
        assert f"(PID {first.proc.pid}," in output
        assert "Traceback" not in output

        write_landing(PanelSpec(stores=2, items=3, seed=5), DAY, DAY, tmp_path / "source")
        landing = tmp_path / "lake" / "landing" / "sales"
        landing.mkdir(parents=True, exist_ok=True)
        (tmp_path / "source" / DAY.isoformat()).rename(landing / DAY.isoformat())  # the day lands at once
        code, output = first.finish(timeout=600)
        assert code == 0, output[-3000:]
        assert "IntegrityError" not in output
        assert (tmp_path / "lake" / "curated" / "sales_daily" / f"dt={DAY}" / "_SUCCESS").exists()
    finally:
        first.stop()
        if second:
            second.stop()
    again = subprocess.run(make_run_command("sales_ingest", DAY), cwd=REPO_ROOT, env=env, capture_output=True,
                           text=True, check=False, timeout=600)  # fmt: skip
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]  # the first's lock went with it


def test_a_run_for_a_day_not_ingested_says_once_what_it_waits_for_and_until_when(tmp_path):
    env = salescast_env(tmp_path, SALESCAST_SENSOR_TIMEOUT_SECONDS="20", SALESCAST_SENSOR_POKE_SECONDS="5")
    run = Run("sales_forecast", env)
    try:
        code, output = run.finish(timeout=600)
    finally:
        run.stop()
    assert code != 0  # nothing to forecast: the sensor timed out
    assert "No tasks to run" not in output
    waits = [line for line in output.splitlines() if "wait_for_curated waits for" in line]
    assert len(waits) == 1, output[-3000:]
    success = Path(tmp_path / "lake" / "curated" / "sales_daily" / f"dt={DAY}" / "_SUCCESS")
    assert str(success) in waits[0]
    assert "make run DAG=sales_ingest DATE=2025-03-31" in waits[0]
    assert "until 20" in waits[0]
    assert "(SALESCAST_SENSOR_TIMEOUT_SECONDS=20)" in waits[0]
