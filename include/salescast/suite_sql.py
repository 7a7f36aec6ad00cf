"""The GX suites of ``include/expectations/`` evaluated as DuckDB SQL, for days too big for pandas.

GX stays the rule source: the suites are the same JSON files, and each expectation type
they use has one SQL translation here with GX's pandas semantics (nulls are not judged
except by the null expectations, ``row_condition`` narrows the rows, ``meta.reason`` and
``meta.show`` word the quarantine reason through :func:`salescast.validation.row_reason`).
A suite with an expectation type, a ``row_condition`` or an option this module does not
translate is refused when compiled, never half-checked. ``tests/unit/test_suite_sql.py``
runs real GX and this module on the same frames and requires the same reasons per row and
the same table failures, so the two cannot drift apart.

Why not GX on pandas for the day: it holds the whole table as Python objects (2-3 KB per
landing record) and takes ~40 microseconds per record; DuckDB streams the table from disk
within a memory limit, at a small fraction of that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salescast import ids
from salescast.validation import describe, load_suite_spec

if TYPE_CHECKING:
    import duckdb

# DuckDB column types -> the Python type names (type_list) and pandas dtype names (type_) GX sees
_PYTHON_TYPES = {"VARCHAR": {"str"}, "BIGINT": {"int", "int64"}, "INTEGER": {"int", "int32"}, "DOUBLE": {"float"}}
_PANDAS_DTYPES = {"VARCHAR": "object", "BIGINT": "int64", "INTEGER": "int32", "DOUBLE": "float64", "BOOLEAN": "bool"}
_CONDITION = re.compile(r"\A\s*(\w+)\s*(?:==\s*(True|False)|\.(notnull|notna|isnull|isna)\(\))\s*\Z")
_SUPPORTED_OPTIONS = {"column", "row_condition", "condition_parser", "meta", "result_format"}


class UntranslatedExpectation(ValueError):
    """An expectation this module has no SQL for: add a translation (and a case to its test)."""


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, translated."""

    position: int
    config: dict[str, Any]  # type, kwargs (parameters resolved), meta: what GX's result carries
    unexpected: str | None = None  # row-level: SQL true where a row fails; None for table-level
    domain: str = "TRUE"  # the rows it judges (row_condition)
    column: str | None = None

    @property
    def name(self) -> str:
        return f"rule_{self.position}"


@dataclass
class SqlOutcome:
    """What one suite said about one table, in the shape of :class:`salescast.validation.SuiteOutcome`."""

    suite: str
    success: bool
    rules: list[Rule]
    unexpected: dict[int, int] = field(default_factory=dict)  # position -> failing rows
    table_failures: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def row_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.unexpected is not None]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal of a suite's value (text, number, boolean, null)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _is_null(column: str, kind: str) -> str:
    """Null as GX's pandas engine sees it: a NaN float is null too."""
    q = quote(column)
    return f"({q} IS NULL OR isnan({q}))" if kind == "DOUBLE" else f"{q} IS NULL"


def _domain(kwargs: dict[str, Any]) -> str:
    condition = kwargs.get("row_condition")
    if not condition:
        return "TRUE"
    match = _CONDITION.match(condition)
    if kwargs.get("condition_parser") != "pandas" or not match:
        understood = "pandas parser: 'col == True/False', 'col.notnull()', 'col.isnull()'"
        raise UntranslatedExpectation(f"row_condition {condition!r} ({understood})")
    column, flag, test = match.groups()
    if flag:
        return f"{quote(column)} = {flag.upper()}"
    return f"{quote(column)} IS {'NOT ' if test in ('notnull', 'notna') else ''}NULL"


def _between(value: str, kwargs: dict[str, Any]) -> str:
    checks = []
    if kwargs.get("min_value") is not None:
        checks.append(f"{value} {'<=' if kwargs.get('strict_min') else '<'} {literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        checks.append(f"{value} {'>=' if kwargs.get('strict_max') else '>'} {literal(kwargs['max_value'])}")
    return "(" + " OR ".join(checks) + ")" if checks else "FALSE"


def _row_sql(kind: str, kwargs: dict[str, Any], types: dict[str, str]) -> str | None:
    """SQL true where a row fails ``kind`` (None: not a row-level expectation)."""
    column = kwargs.get("column")
    if column is None:
        return _multicolumn_sql(kind, kwargs)
    column_type = types.get(column, "VARCHAR")
    q, null = quote(column), _is_null(column, column_type)
    present = f"NOT {null} AND "
    row = {
        "expect_column_values_to_not_be_null": lambda: null,
        "expect_column_values_to_be_null": lambda: f"NOT {null}",
        "expect_column_values_to_be_in_set": lambda: present + _not_in(q, kwargs["value_set"]),
        "expect_column_values_to_be_in_type_list": lambda: (
            "FALSE" if _PYTHON_TYPES.get(column_type, set()) & set(kwargs["type_list"]) else f"NOT {null}"
        ),
        "expect_column_value_lengths_to_be_between": lambda: present + _between(f"length({q})", kwargs),
        "expect_column_values_to_be_between": lambda: present + _between(q, kwargs),
        "expect_column_values_to_not_match_regex": lambda: (
            present + f"regexp_matches({q}, {literal(ids.re2_pattern(kwargs['regex']))})"
        ),
        "expect_column_values_to_match_regex": lambda: (
            present + f"NOT regexp_matches({q}, {literal(ids.re2_pattern(kwargs['regex']))})"
        ),
    }.get(kind)
    return row() if row else None


def _not_in(column: str, values: list[Any]) -> str:
    return f"{column} NOT IN ({', '.join(literal(v) for v in values)})" if values else "TRUE"


def _multicolumn_sql(kind: str, kwargs: dict[str, Any]) -> str | None:
    if kind != "expect_compound_columns_to_be_unique":
        return None
    columns = ", ".join(quote(c) for c in kwargs["column_list"])
    all_missing = " AND ".join(f"{quote(c)} IS NULL" for c in kwargs["column_list"])
    return f"(NOT ({all_missing}) AND count(*) OVER (PARTITION BY {columns}) > 1)"


_TABLE_LEVEL = {
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_row_count_to_be_between",
    "expect_column_values_to_be_of_type",
}


def compile_suite(name: str, parameters: dict[str, Any], types: dict[str, str]) -> list[Rule]:
    """The suite's expectations as :class:`Rule` s for a table whose columns have ``types``
    (DuckDB type names); refuses what it cannot translate."""
    rules = []
    for position, spec in enumerate(load_suite_spec(name)["expectations"]):
        kind, kwargs = spec["type"], {k: _resolve(v, parameters) for k, v in spec.get("kwargs", {}).items()}
        if kwargs.get("mostly") not in (None, 1, 1.0):
            raise UntranslatedExpectation(f"{name}: {kind} with mostly={kwargs['mostly']}")
        config = {"type": kind, "kwargs": kwargs, "meta": spec.get("meta") or {}}
        if kind in _TABLE_LEVEL:
            rules.append(Rule(position, config, column=kwargs.get("column")))
            continue
        sql = _row_sql(kind, kwargs, types)
        if sql is None:
            raise UntranslatedExpectation(f"{name}: expectation {kind} has no SQL translation in salescast.suite_sql")
        rules.append(Rule(position, config, f"({_domain(kwargs)}) AND ({sql})", _domain(kwargs), kwargs.get("column")))
    return rules


def table_check(rule: Rule, columns: list[str], types: dict[str, str], rows: int) -> tuple[bool, Any]:
    """(success, observed value) of a table-level rule."""
    kind, kwargs = rule.config["type"], rule.config["kwargs"]
    if kind == "expect_table_columns_to_match_set":
        wanted = set(kwargs["column_set"])
        ok = set(columns) == wanted if kwargs.get("exact_match", True) else wanted <= set(columns)
        return ok, columns
    if kind == "expect_table_columns_to_match_ordered_list":
        return columns == list(kwargs["column_list"]), columns
    if kind == "expect_table_row_count_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return (low is None or rows >= low) and (high is None or rows <= high), rows
    dtype = _PANDAS_DTYPES.get(types.get(kwargs["column"], ""), types.get(kwargs["column"], "missing"))
    return dtype == kwargs["type_"], dtype


def _table_info(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], dict[str, str], int]:
    described = con.execute(f"DESCRIBE {relation}").fetchall()
    columns = [row[0] for row in described]
    rows = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    return columns, {row[0]: row[1] for row in described}, rows


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def flags_sql(rules: list[Rule]) -> str:
    """``rule_<i>`` boolean columns, one per row-level rule (for a CREATE TABLE ... AS SELECT)."""
    return ", ".join(f"coalesce({r.unexpected}, FALSE) AS {r.name}" for r in rules if r.unexpected) or "NULL AS no_rule"


def summarise(con: duckdb.DuckDBPyConnection, suite: str, rules: list[Rule], relation: str, flags: str) -> SqlOutcome:
    """Counts of every rule on ``relation`` (the table) and ``flags`` (its ``rule_<i>`` columns,
    row for row), as one outcome with a GX-shaped result for the validation report."""
    columns, types, rows = _table_info(con, relation)
    outcome = SqlOutcome(suite, True, rules)
    row_rules = [r for r in rules if r.unexpected]
    counts = {}
    if row_rules:
        sql = ", ".join(f"count(*) FILTER ({r.name})" for r in row_rules)
        counts = dict(zip([r.position for r in row_rules], con.execute(f"SELECT {sql} FROM {flags}").fetchall()[0],
                          strict=True))  # fmt: skip
        sizes = _domain_sizes(con, relation, row_rules, types)
    results = []
    for rule in rules:
        if rule.unexpected:
            failed, elements, judged = counts[rule.position], *sizes[rule.position]
            success, result = failed == 0, _column_result(elements, judged, failed, rule)
            outcome.unexpected[rule.position] = failed
        else:
            success, observed = table_check(rule, columns, types, rows)
            result = {"observed_value": observed}
            if not success:
                outcome.table_failures.append(describe(rule.config) + f" (observed {observed})")
        outcome.success &= success
        results.append({"expectation_config": rule.config, "success": success, "result": result})
    outcome.result = _gx_result(suite, outcome.success, results)
    return outcome


def _domain_sizes(
    con: duckdb.DuckDBPyConnection, relation: str, rules: list[Rule], types: dict[str, str]
) -> dict[int, tuple[int, int]]:
    """Per rule: rows it looks at, and of those the ones with a value (GX's percent base)."""
    parts = []
    for r in rules:
        present = f"NOT {_is_null(r.column, types.get(r.column, 'VARCHAR'))}" if r.column else "TRUE"
        parts += [f"count(*) FILTER ({r.domain})", f"count(*) FILTER (({r.domain}) AND {present})"]
    values = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchall()[0]
    return {r.position: (values[2 * i], values[2 * i + 1]) for i, r in enumerate(rules)}


def _column_result(elements: int, judged: int, failed: int, rule: Rule) -> dict[str, Any]:
    base = elements if rule.config["type"] == "expect_column_values_to_not_be_null" else judged
    return {
        "element_count": elements,
        "missing_count": elements - judged,
        "unexpected_count": failed,
        "unexpected_percent": 100.0 * failed / base if base else 0.0,
    }


def _gx_result(suite: str, success: bool, results: list[dict[str, Any]]) -> dict[str, Any]:
    passed = sum(1 for r in results if r["success"])
    return {
        "suite_name": suite,
        "success": success,
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else 100.0,
        },
        "results": results,
        "meta": {"engine": "DuckDB SQL translated from the GX suite (salescast.suite_sql)"},
    }
