"""Where the repository's files are: the rules kept as data (sources, suites, SQL), the DAGs
and the plugins. Imports nothing of salescast, so any module can use it without a cycle."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = REPO_ROOT / "include"
EXPECTATIONS_DIR = INCLUDE_DIR / "expectations"
SOURCES_DIR = INCLUDE_DIR / "sources"
SQL_DIR = INCLUDE_DIR / "sql"
DAGS_DIR = REPO_ROOT / "dags"
PLUGINS_DIR = REPO_ROOT / "plugins"
