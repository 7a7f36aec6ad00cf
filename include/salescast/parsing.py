"""Reading one landing file into rows of strings, without losing or guessing anything.

Every column is read as text so that a bad value reaches validation as it was written,
and every record keeps its line number so a quarantined row can be found in the raw file.
A file that cannot be read at all raises :class:`UnreadableFile` with a specific reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from dataclasses import dataclass, field

import pandas as pd

from salescast.sources import SourceMapping, load_sources, match_source

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet")
LINE = "line_number"


class UnreadableFile(Exception):
    """The whole file is unusable; ``reason`` says why in words an operator can act on."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass
class MalformedRecord:
    line_number: int
    reason: str
    raw: str


@dataclass
class ParsedFile:
    """Rows of one file as strings, the mapping that matched its header, and broken records."""

    name: str
    mapping: SourceMapping
    columns: dict[str, str]
    rows: pd.DataFrame
    malformed: list[MalformedRecord] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Data records in the file (good, bad or malformed): what must be accounted for."""
        return len(self.rows) + len(self.malformed)


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Exports from older tills are often Windows-1252; latin-1 keeps every byte.
        return data.decode("latin-1")


def _header_problem(name: str, header: list[str]) -> UnreadableFile:
    expected = "; or ".join(f"{m.expected_header()} ({m.name})" for m in load_sources())
    return UnreadableFile(name, f"unrecognised columns {header}: expected a header with {expected}")


def _read_csv(name: str, text: str) -> tuple[list[str], list[list[str]], list[int], list[MalformedRecord]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise UnreadableFile(name, "no header row: the file has no content")
        header = [h.strip() for h in header]
        records: list[list[str]] = []
        lines: list[int] = []
        malformed: list[MalformedRecord] = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # blank line: not a record
            if len(record) != len(header):
                malformed.append(
                    MalformedRecord(
                        reader.line_num,
                        f"malformed record: {len(record)} fields where the header has {len(header)}",
                        ",".join(record),
                    )
                )
                continue
            records.append(record)
            lines.append(reader.line_num)
    except csv.Error as error:
        raise UnreadableFile(name, f"not a readable CSV file near line {reader.line_num}: {error}") from None
    return header, records, lines, malformed


def _arrow_column_as_text(column) -> list[str | None]:  # noqa: ANN001 - a pyarrow ChunkedArray
    import pyarrow as pa

    if pa.types.is_date(column.type):
        return [None if v is None else v.isoformat() for v in column.to_pylist()]
    if pa.types.is_timestamp(column.type):
        return [None if v is None else v.strftime("%Y-%m-%d %H:%M:%S") for v in column.to_pylist()]
    return [None if v is None else str(v) for v in column.to_pylist()]


def _read_parquet(name: str, data: bytes) -> tuple[list[str], list[list[str | None]], list[int]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:  # pyarrow raises several types for corrupt input
        raise UnreadableFile(name, f"not a valid Parquet file: {error}") from None
    header = [str(c).strip() for c in table.column_names]
    columns = [_arrow_column_as_text(table.column(i)) for i in range(table.num_columns)]
    records = [list(values) for values in zip(*columns, strict=True)] if columns else []
    return header, records, list(range(1, len(records) + 1))


def parse_file(name: str, data: bytes) -> ParsedFile:
    """Parse a landing file by its name's suffix; raise UnreadableFile with the reason if impossible."""
    lower = name.lower()
    if not lower.endswith(SUPPORTED_SUFFIXES):
        raise UnreadableFile(name, f"unsupported file type: expected one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not data:
        raise UnreadableFile(name, "empty file (0 bytes)")
    malformed: list[MalformedRecord] = []
    if lower.endswith(".parquet"):
        header, records, lines = _read_parquet(name, data)
    else:
        if lower.endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as error:
                raise UnreadableFile(name, f"not a valid gzip file: {error}") from None
            if not data:
                raise UnreadableFile(name, "empty file (0 bytes after decompression)")
        header, records, lines, malformed = _read_csv(name, _decode(name, data))
    if len(set(header)) != len(header):
        raise UnreadableFile(name, f"duplicate column names in header {header}")
    matched = match_source(header)
    if matched is None:
        raise _header_problem(name, header)
    mapping, columns = matched
    rows = pd.DataFrame(records, columns=header, dtype=object)
    rows[LINE] = pd.Series(lines, dtype="int64")
    return ParsedFile(name=name, mapping=mapping, columns=columns, rows=rows, malformed=malformed)
