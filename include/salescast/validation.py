"""Great Expectations 1.x validation with suites kept as JSON files in ``include/expectations/``.

A suite's row-level expectations say *which* rows are bad; the ``meta.reason`` of each
expectation says *why*, in words that end up in the quarantine's ``reason`` column.
Suites take run-time parameters (``{"$PARAMETER": "partition_dates"}``) for the day.
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from salescast import ids
from salescast.config import EXPECTATIONS_DIR

# GX phones home and draws progress bars by default; neither belongs in a pipeline.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# GX logs hundreds of INFO lines per context; they would drown the task logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass
class SuiteOutcome:
    """What one suite said about one table."""

    suite: str
    success: bool
    row_reasons: dict[int, list[str]] = field(default_factory=dict)
    table_failures: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def reasons_for(self, index: pd.Index) -> pd.Series:
        return pd.Series(["; ".join(self.row_reasons.get(i, [])) or None for i in index], index=index, dtype=object)


def suite_path(name: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    return directory / f"{name}.json"


def load_suite_spec(name: str, directory: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    """The suite's JSON: what GX runs and what :mod:`salescast.suite_sql` translates."""
    return json.loads(suite_path(name, directory).read_text())


def load_suite(name: str, directory: Path = EXPECTATIONS_DIR):  # noqa: ANN201 - GX type, imported lazily
    from great_expectations.core.expectation_suite import ExpectationSuite

    spec = load_suite_spec(name, directory)
    return ExpectationSuite(name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta", {}))


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("salescast").add_dataframe_asset("frames")
    return asset.add_batch_definition_whole_dataframe("whole")


def _for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain object columns for text, so GX checks the Python type of every value."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out.reset_index(drop=True)


def describe(expectation: dict[str, Any]) -> str:
    """The reason an expectation gives when it fails: its ``meta.reason``, else its type and column."""
    meta = expectation.get("meta") or {}
    if meta.get("reason"):
        return str(meta["reason"])
    column = expectation.get("kwargs", {}).get("column")
    return f"{expectation.get('type')}{f' on {column}' if column else ''} failed"


def validate(frame: pd.DataFrame, suite_name: str, parameters: dict[str, Any] | None = None) -> SuiteOutcome:
    """Run a suite on a table; return per-row reasons and table-level failures."""
    suite = load_suite(suite_name)
    data = _for_gx(frame)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "include_unexpected_rows": False},
        expectation_parameters=parameters or {},
    )
    outcome = SuiteOutcome(suite=suite_name, success=bool(result.success), result=result.to_json_dict())
    for item in result.results:
        config = item.expectation_config.to_json_dict()
        if item.exception_info and item.exception_info.get("raised_exception"):
            message = item.exception_info.get("exception_message")
            outcome.table_failures.append(f"{describe(config)}: GX could not evaluate it ({message})")
            continue
        if item.success:
            continue
        indexes = item.result.get("unexpected_index_list")
        if not indexes:
            observed = item.result.get("observed_value")
            outcome.table_failures.append(
                describe(config) + (f" (observed {observed})" if observed is not None else "")
            )
            continue
        for index in indexes:
            position = int(index) if not isinstance(index, dict) else int(next(iter(index.values())))
            outcome.row_reasons.setdefault(position, []).append(row_reason(config, data, position))
    return outcome


def row_reason(config: dict[str, Any], data: pd.DataFrame, position: int) -> str:
    """The quarantine reason of one failing row of ``data`` (:func:`reason_with_value`)."""
    show = (config.get("meta") or {}).get("show")
    if not show or show not in data.columns:
        return describe(config)
    value = data.at[position, show]
    return reason_with_value(config, value.item() if hasattr(value, "item") else value)


def reason_with_value(config: dict[str, Any], value: Any) -> str:
    """The expectation's ``meta.reason`` and the value that failed (its repr, so an invisible
    character is spelled out); ``meta.explain: "salescast.ids"`` words the reason by the id
    rule instead, naming the refused character."""
    meta = config.get("meta") or {}
    reason = describe(config)
    if meta.get("explain") == "salescast.ids" and isinstance(value, str):
        reason = ids.refused_character(meta["show"], value) or reason
    return f"{reason} (got {value!r})"


def parameters_for(day: str) -> dict[str, Any]:
    """The run-time parameters of the landing and sales_daily suites for one day."""
    return {"partition_dates": [day], "refused_id_characters": ids.REFUSED_PATTERN}


def render_html(title: str, outcomes: list[SuiteOutcome], summary: dict[str, Any]) -> str:
    """A small, dependency-free page of what each expectation found; kept beside the JSON."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse;margin-bottom:2em}.ok{color:#070}.bad{color:#b00}</style>",
        f"</head><body><h1>{html.escape(title)}</h1><table>",
    ]
    for key, value in summary.items():
        parts.append(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>")
    parts.append("</table>")
    for outcome in outcomes:
        state = "ok'>passed" if outcome.success else "bad'>failed"
        parts.append(f"<h2>Suite {html.escape(outcome.suite)}: <span class='{state}</span></h2>")
        parts.append("<table><tr><th>expectation</th><th>column</th><th>result</th><th>unexpected</th></tr>")
        for item in outcome.result.get("results", []):
            config = item.get("expectation_config", {})
            kwargs = config.get("kwargs", {})
            column = kwargs.get("column") or ", ".join(kwargs.get("column_list", []) or [])
            res = item.get("result", {})
            count = res.get("unexpected_count", res.get("observed_value", ""))
            cls, word = ("ok", "passed") if item.get("success") else ("bad", "failed")
            parts.append(
                f"<tr><td>{html.escape(str(config.get('type')))}</td><td>{html.escape(str(column))}</td>"
                f"<td class='{cls}'>{word}</td><td>{html.escape(str(count))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
