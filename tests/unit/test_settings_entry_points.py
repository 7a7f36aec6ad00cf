"""Settings are read once per process entry point and passed down: a layer below an entry
point is handed its settings, it never re-reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "salescast"
# The entry points: what Airflow, the command line or a web server calls.
ENTRY_POINTS = {
    "ingest/tasks.py": "every function",  # each is what one sales_ingest task calls
    "forecast/tasks.py": "every function",  # each is what one sales_forecast task calls
    "catalog/tasks.py": "every function",  # each is what one sales_catalog task calls
    "cli.py": ("cmd_", "main"),  # one command each
    "dashboard/app.py": ("current_store",),  # the web app, once per request's store lookup
    "ops/alerts.py": ("send_mail",),  # failure callbacks (no task to hand them settings)
    "ops/deadline.py": ("handle_missed_deadline",),  # the triggerer's deadline callback
}


def readers(path: Path) -> list[str]:
    """Top-level functions of ``path`` that call ``Settings.from_env()`` (nested calls count for the outer one)."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for inner in ast.walk(node):
            call = inner.func if isinstance(inner, ast.Call) else None
            reads = isinstance(call, ast.Attribute) and call.attr == "from_env"
            if reads and getattr(call.value, "id", "") == "Settings":
                found.append(node.name)
                break
    return found


def test_settings_are_read_only_at_entry_points():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(PACKAGE))
        if name == "config.py":  # where Settings.from_env is defined
            continue
        allowed = ENTRY_POINTS.get(name, ())
        for function in readers(path):
            if allowed != "every function" and not function.startswith(tuple(allowed)):
                offenders.append(f"{name}: {function}")
    assert offenders == []
