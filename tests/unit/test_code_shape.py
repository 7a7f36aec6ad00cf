"""The code keeps the shape issue 12 gave it: short functions, and one home per behaviour; the
tests mirror the code they test, and their tiers are markers, never folders."""

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


# ---- the tests mirror the code -------------------------------------------------------------------

TESTS = REPO / "tests"
# The test folders: one per code folder (unit: include/salescast and, under harness/, include/salescast_dev;
# dags: dags/; plugins: plugins/), system/ for whole-deployment scenarios, support/ for shared helpers.
TEST_FOLDERS = ("unit", "dags", "plugins", "system", "support")
# Test files that check the repository across modules, not one module. Keep this list short.
CROSS_CUTTING = {
    "unit/test_code_shape.py": "the shape of all the code and of the tests (this file)",
    "unit/test_imports.py": "the import graph of the whole package",
    "unit/test_settings_entry_points.py": "where settings are read, across the package",
    "unit/test_compose.py": "docker-compose.yaml, not a Python module",
    "unit/test_image.py": "the Dockerfile and the requirements files, not a Python module",
    "dags/test_dag_folder.py": "dags/ parsed as a whole, as the scheduler parses it",
}
TIERS = ("aws", "e2e", "celery")  # each also slow; selected by `make test-aws`, `test-e2e`, `test-celery`


def code_for(test: Path) -> list[Path]:
    """Where the code a test file tests may live: ``test_<m>.py`` mirrors ``<m>.py`` or package ``<m>/``."""
    rel = test.relative_to(TESTS)
    folder, stem = rel.parts[0], test.stem.removeprefix("test_")
    if folder == "unit" and rel.parts[1:2] == ("harness",):
        base = REPO / "include" / "salescast_dev" / Path(*rel.parts[2:-1])
    elif folder == "unit":
        base = REPO / "include" / "salescast" / Path(*rel.parts[1:-1])
    else:  # dags/, plugins/: flat, like the folders they mirror
        base = REPO / folder / Path(*rel.parts[1:-1])
    return [base / f"{stem}.py", base / stem / "__init__.py"]


def unmirrored_tests() -> list[str]:
    """Test files with no module of their own (and not allowed to be cross-cutting), and Python
    files outside the test folders or helpers inside them (helpers belong in tests/support)."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(TESTS)
        if len(rel.parts) == 1:
            if rel.name not in ("__init__.py", "conftest.py"):
                found.append(
                    f"tests/{rel}: at the top of tests/ (a test mirrors a module; helpers go in tests/support)"
                )
        elif rel.parts[0] not in TEST_FOLDERS:
            found.append(f"tests/{rel}: tests/{rel.parts[0]}/ is no test folder (tiers are markers, not folders)")
        elif rel.parts[0] == "support" or rel.name in ("__init__.py", "conftest.py"):
            continue
        elif not path.name.startswith("test_"):
            found.append(f"tests/{rel}: a helper among the tests (helpers go in tests/support)")
        elif rel.parts[0] == "system":  # a scenario of a whole deployment: no one module
            continue
        elif rel.as_posix() not in CROSS_CUTTING and not any(p.is_file() for p in code_for(path)):
            found.append(f"tests/{rel}: no module {code_for(path)[0].relative_to(REPO)} to mirror")
    return found


def test_every_test_file_mirrors_a_module():
    """tests/unit/<sub>/test_<m>.py tests include/salescast/<sub>/<m>.py (or the package <m>/),
    tests/unit/harness/test_<m>.py include/salescast_dev/<m>.py, tests/dags/test_<m>.py the DAG
    file dags/<m>.py, tests/plugins/test_<m>.py plugins/<m>.py: a behaviour's tests are found
    next to its code's name, whatever their tier."""
    assert unmirrored_tests() == []
    assert not [name for name in CROSS_CUTTING if not (TESTS / name).is_file()], "a stale CROSS_CUTTING entry"


def mark_names(node: ast.AST) -> set[str]:
    """The ``pytest.mark.<name>`` names used anywhere in ``node``."""
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Attribute)
        and n.value.attr == "mark"
        and isinstance(n.value.value, ast.Name)
        and n.value.value.id == "pytest"
    }


def module_marks(tree: ast.Module) -> set[str]:
    """The marks of ``pytestmark = ...`` at a module's top level."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            found |= mark_names(node.value)
    return found


def untiered_tests() -> list[str]:
    """Scenario files of tests/system without slow and a tier among their module marks, and any
    group of marks (a module's ``pytestmark``, a test's decorators, a ``pytest.param``'s
    ``marks``) with a tier but without ``slow``."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        rel, tree = path.relative_to(REPO), ast.parse(path.read_text())
        marks = module_marks(tree)
        scenario = rel.parts[1] == "system" and path.name.startswith("test_")
        if scenario and not ("slow" in marks and marks & set(TIERS)):
            found.append(f"{rel}: its pytestmark lacks slow or one of {TIERS}")
        groups = [marks]
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                groups.append(marks.union(*(mark_names(d) for d in node.decorator_list)))
            elif isinstance(node, ast.keyword) and node.arg == "marks":
                groups.append(marks | mark_names(node.value))
        found += [f"{rel}: {sorted(g & set(TIERS))} without slow" for g in groups if g & set(TIERS) and "slow" not in g]
    return sorted(set(found))


def test_tiers_are_markers_and_every_tier_is_slow():
    """`make test-aws`, `test-e2e` and `test-celery` select by marker (pyproject.toml), so a test's
    tier is in its marks, never in its folder; a tier needs servers, so `make test-fast` must skip it."""
    assert untiered_tests() == []


def private_imports() -> list[str]:
    """``from salescast... import _name`` in a test: a test reaches past the public functions."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("salescast"):
                found += [f"{path.relative_to(REPO)}:{node.lineno} {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]  # fmt: skip
    return found


def test_tests_call_public_functions_only():
    assert private_imports() == []
