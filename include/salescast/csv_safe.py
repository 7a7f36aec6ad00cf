"""CSV that is safe to open in a spreadsheet: the one home of salescast's CSV-injection rule.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula by Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0``,
``=HYPERLINK(...)``). Quarantined records and file names come from sources, so every CSV
salescast serves or writes goes through :func:`csv_chunks`, which follows OWASP's rule
(https://owasp.org/www-community/attacks/CSV_Injection): such a text cell gets a leading
single quote (``'=cmd...``), and every text cell is quoted.

Numbers: OWASP suggests escaping a leading ``-`` even in ``-3``. salescast escapes every
*text* cell, ``"-3"`` included (in a text column it is text from a source, and a spreadsheet
would otherwise evaluate ``-3+cmd|...`` as well), but writes cells of numeric columns
(int, float, bool) as numbers: Python formats them, so they can only hold digits, a sign,
``.``, ``e``, ``inf`` or ``nan``, never a formula, and a planner's sums keep working.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
CHUNK_ROWS = 1000


def safe_cell(value: Any) -> Any:
    """``value`` with a leading single quote if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return ESCAPE + value
    return value


def original_cell(value: Any) -> Any:
    """The value :func:`safe_cell` was given: a text cell's leading single quote dropped when a
    formula character follows it (what the docs tell a planner to do). A source value that
    itself began with ``'=`` cannot be told apart from an escaped ``=``; such a value is rare
    enough that reading it back one quote short is the accepted cost of OWASP's rule."""
    if isinstance(value, str) and value.startswith(ESCAPE) and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised; numeric columns are left as they are."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])):
            out[column] = out[column].map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def csv_header(columns: Iterable[Any]) -> str:
    """One CSV line of column names, every one quoted and neutralised."""
    header = io.StringIO()
    csv.writer(header, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow([safe_cell(str(c)) for c in columns])
    return header.getvalue()


def csv_rows(frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """``frame``'s rows as CSV text (no header), ``chunk_rows`` rows at a time, safe for spreadsheets."""
    safe = safe_frame(frame)
    for start in range(0, len(safe), chunk_rows):
        yield safe.iloc[start : start + chunk_rows].to_csv(
            index=False, header=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n"
        )


def csv_chunks(frame: pd.DataFrame, chunk_rows: int = CHUNK_ROWS) -> Iterator[str]:
    """``frame`` as CSV text (header first), ``chunk_rows`` rows at a time, safe for spreadsheets."""
    yield csv_header(frame.columns)
    yield from csv_rows(frame, chunk_rows)
