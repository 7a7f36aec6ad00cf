"""Airflow imports plugin modules in every component (scheduler, DAG processor, each task),
so loading the salescast plugin must stay cheap: no pandas, pyarrow, plotly, FastAPI app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "numpy", "plotly", "fastapi", "jinja2", "matplotlib", "duckdb", "great_expectations")

LOAD = """
import json, sys, time
import airflow.plugins_manager as plugins_manager
before = set(sys.modules)
started = time.perf_counter()
plugins_manager.ensure_plugins_loaded()
seconds = time.perf_counter() - started
names = [p["name"] for p in plugins_manager.get_plugin_info()]
new = {m.split(".")[0] for m in set(sys.modules) - before}
errors = plugins_manager.get_import_errors()
print(json.dumps({"names": names, "new": sorted(new), "seconds": seconds, "errors": errors}))
"""


def test_loading_the_plugin_imports_nothing_heavy():
    done = subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "salescast" in loaded["names"]
    assert loaded["errors"] == {}
    assert [m for m in HEAVY if m in loaded["new"]] == []
    assert loaded["seconds"] < 1.0, loaded
