"""The code keeps the shape issue 12 gave it: short functions, and one home per behaviour."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 60
REASON = "long on purpose"


def comment_above(lines: list[str], first: int) -> str:
    """The block of comment lines right above line ``first`` (1-based)."""
    block = []
    at = first - 2
    while at >= 0 and lines[at].lstrip().startswith("#"):
        block.append(lines[at])
        at -= 1
    return "\n".join(reversed(block))


def long_functions() -> list[str]:
    """Functions over MAX_LINES lines without a ``# long on purpose: ...`` comment above them."""
    found = []
    for folder in ("include", "dags", "plugins", "bench", "tests"):
        for path in sorted((REPO / folder).rglob("*.py")):
            lines = path.read_text().splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - node.lineno + 1 > MAX_LINES and REASON not in comment_above(lines, first):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    return found


def test_no_function_is_longer_than_60_lines_without_saying_why():
    assert long_functions() == []


def test_the_product_never_imports_the_dev_harness():
    """salescast_dev (local Airflow on SQLite, backfill helper, demo, generator) is the harness:
    no module of the product or DAG file imports it, at module level or inside a function, so a
    worker image needs none of it and the harness can change without touching what runs."""
    offenders = []
    for path in sorted((REPO / "include" / "salescast").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("salescast_dev"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.Import) and any(a.name.startswith("salescast_dev") for a in node.names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    for path in sorted((REPO / "dags").glob("*.py")):
        if "salescast_dev" in path.read_text():
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_every_csv_salescast_writes_goes_through_csv_safe():
    """One home for the CSV-injection rule (salescast.csv_safe): no other module of the product
    writes CSV. salescast_dev's generator is exempt: it writes *source* files, whose negative
    units must stay numbers the way a till exports them."""
    writers = ("to_csv(", "csv.writer(", "csv.DictWriter(")
    offenders = []
    for path in sorted((REPO / "include" / "salescast").rglob("*.py")):
        if path.name == "csv_safe.py":
            continue
        text = path.read_text()
        offenders += [f"{path.relative_to(REPO)}: {w}" for w in writers if w in text]
    assert offenders == []
