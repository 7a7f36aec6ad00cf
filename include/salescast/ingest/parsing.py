"""Reading one landing file into batches of text columns, without losing or guessing anything.

Every column is read as text so that a bad value reaches validation as it was written,
and every record keeps its line number so a quarantined row can be found in the raw file.
A file that cannot be read at all raises :class:`UnreadableFile` with a specific reason.
Text is UTF-8, UTF-16 with a BOM, or Windows-1252, decided per file from all its bytes
(:mod:`salescast.ingest.encoding`); the delimiter (, ; tab |) is detected from the header line.

Files are streamed: :func:`open_file` checks the whole file's encoding and its header, then
:meth:`LandingFile.batches` yields at most ``BATCH_ROWS`` records at a time, so memory does
not grow with the file. A problem found only while reading (a CSV quote error, a damaged
Parquet page) still makes the whole file unreadable: the caller discards its batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from salescast.ingest.encoding import CODECS, Opener, UnreadableFile, blocks, check_nul, detect, text_stream
from salescast.ingest.sources import HeaderProblem, SourceMapping, match_source

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "LINE",
    "Batch",
    "LandingFile",
    "MalformedRecord",
    "ParsedFile",
    "TextTable",
    "UnreadableFile",
    "open_file",
    "open_table",
    "parse_file",
    "read_rows",
]

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet")
LINE = "line_number"
BATCH_ROWS = 100_000  # records per batch: ~100 MB of Python objects at most, whatever the file's size
_DELIMITERS = ",;\t|"


@dataclass
class MalformedRecord:
    line_number: int
    reason: str
    raw: str


@dataclass
class Batch:
    """Up to ``BATCH_ROWS`` records: the file's columns as text (its header's names) plus
    ``line_number``, and the records of those lines that could not be split into fields."""

    rows: pa.Table
    malformed: list[MalformedRecord] = field(default_factory=list)


@dataclass
class LandingFile:
    """A landing file whose header matched a source mapping; its records come in batches."""

    name: str
    mapping: SourceMapping
    columns: dict[str, str]  # canonical column -> header name
    header: list[str]
    read: Callable[[int], Iterator[Batch]]
    encoding: str | None = None  # text files: utf-8, utf-16 or cp1252
    delimiter: str | None = None  # text files

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[Batch]:
        return self.read(rows)


@dataclass
class ParsedFile:
    """All rows of one file as strings (for small files and tests): :func:`parse_file`."""

    name: str
    mapping: SourceMapping
    columns: dict[str, str]
    rows: pd.DataFrame
    malformed: list[MalformedRecord] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    file: LandingFile | None = None

    @property
    def records(self) -> int:
        """Data records in the file (good, bad or malformed): what must be accounted for."""
        return len(self.rows) + len(self.malformed)


# ---- CSV ------------------------------------------------------------------------------------


def _text(name: str, opener: Opener, encoding: str, newline: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(text_stream(name, opener), encoding=CODECS[encoding], newline=newline)


def _delimiter(name: str, opener: Opener, encoding: str) -> str:
    """The header line's delimiter among , ; tab | (csv.Sniffer); comma when it cannot tell."""
    with _text(name, opener, encoding, "\n") as text:
        header = next((line for line in text if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _csv_header(name: str, reader: Iterator[list[str]]) -> list[str]:
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(reader, None)
    if header is None:
        raise UnreadableFile(name, "no header row: the file has no content")
    return [h.strip() for h in header]


def _blank(record: list[str]) -> bool:
    """A record of empty or whitespace-only fields is a blank line, not a record."""
    return not (record and record[0].strip()) and not "".join(record).strip()


def _csv_batches(
    name: str, opener: Opener, header: list[str], encoding: str, delimiter: str, size: int
) -> Iterator[Batch]:
    """Records after the header, ``size`` at a time, with the line each ends on. One plain
    loop over the ``csv`` module's reader: it is what bounds a file's parsing time."""
    width, wrong = len(header), f"fields where the header has {len(header)}"
    records: list[list[str]] = []
    lines: list[int] = []
    malformed: list[MalformedRecord] = []
    with _text(name, opener, encoding, "") as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            _csv_header(name, reader)
            for record in reader:
                if len(record) == width and (record[0].strip() or not _blank(record)):
                    records.append(record)
                    lines.append(reader.line_num)
                elif not _blank(record):
                    malformed.append(MalformedRecord(reader.line_num, f"malformed record: {len(record)} {wrong}",
                                                     delimiter.join(record)))  # fmt: skip
                if len(records) + len(malformed) >= size:
                    yield _csv_batch(header, records, lines, malformed)
                    records, lines, malformed = [], [], []
        except csv.Error as error:
            raise UnreadableFile(name, f"not a readable CSV file near line {reader.line_num}: {error}") from None
    if records or malformed:
        yield _csv_batch(header, records, lines, malformed)


def _csv_batch(header: list[str], records: list[list[str]], lines: list[int], malformed: list) -> Batch:
    import pyarrow as pa

    arrays = [pa.array([r[i] for r in records], pa.string()) for i in range(len(header))]  # lists: Arrow's fast path
    return Batch(_table(header, arrays, lines), malformed)


def _table(header: list[str], arrays: list, lines: list[int]) -> pa.Table:
    """The batch's table; a column the file itself calls ``line_number`` gives way to ours."""
    import pyarrow as pa

    kept = [(h, a) for h, a in zip(header, arrays, strict=True) if h != LINE]
    names = [h for h, _ in kept] + [LINE]
    return pa.Table.from_arrays([a for _, a in kept] + [pa.array(lines, pa.int64())], names=names)


def _open_csv(name: str, opener: Opener, head: bytes) -> tuple[list[str], str, str]:
    if not head:
        raise UnreadableFile(name, "empty file (0 bytes after decompression)")
    encoding, scan = detect(name, opener, head)
    check_nul(name, scan)
    delimiter = _delimiter(name, opener, encoding)
    with _text(name, opener, encoding, "") as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = _csv_header(name, reader)
        except csv.Error as error:
            raise UnreadableFile(name, f"not a readable CSV file near line {reader.line_num}: {error}") from None
    return header, encoding, delimiter


# ---- Parquet ----------------------------------------------------------------------------------


def _as_text(column: pa.Array) -> pa.Array:
    """Text as ``str()`` writes each value (dates ISO, timestamps to the second): strings and
    integers by Arrow, other types value by value as before."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_date(kind):
        values = [None if v is None else v.isoformat() for v in column.to_pylist()]
    elif pa.types.is_timestamp(kind):
        values = [None if v is None else v.strftime("%Y-%m-%d %H:%M:%S") for v in column.to_pylist()]
    else:
        values = [None if v is None else str(v) for v in column.to_pylist()]
    return pa.array(values, pa.string())


def _parquet_batches(name: str, opener: Opener, header: list[str], size: int) -> Iterator[Batch]:
    import pyarrow.parquet as pq

    seen = 0
    try:
        with opener() as handle:
            for record_batch in pq.ParquetFile(handle).iter_batches(batch_size=size):
                arrays = [_as_text(column) for column in record_batch.columns]
                yield Batch(_table(header, arrays, list(range(seen + 1, seen + record_batch.num_rows + 1))))
                seen += record_batch.num_rows
    except UnreadableFile:
        raise
    except Exception as error:  # pyarrow raises several types for corrupt input
        raise UnreadableFile(name, f"not a valid Parquet file: {error}") from None


def _parquet_header(name: str, opener: Opener) -> list[str]:
    import pyarrow.parquet as pq

    try:
        with opener() as handle:
            return [str(c).strip() for c in pq.ParquetFile(handle).schema_arrow.names]
    except Exception as error:  # pyarrow raises several types for corrupt input
        raise UnreadableFile(name, f"not a valid Parquet file: {error}") from None


# ---- one file ---------------------------------------------------------------------------------


def _head(name: str, opener: Opener, size: int) -> bytes:
    with opener() as handle:
        return handle.read(size)


@dataclass
class TextTable:
    """A readable file's header and how to read its records, before any source mapping:
    what :func:`open_file` checks first, and what feeds without a sales mapping (drivers) read."""

    name: str
    header: list[str]
    read: Callable[[int], Iterator[Batch]]
    encoding: str | None = None
    delimiter: str | None = None


def open_table(name: str, opener: Opener) -> TextTable:
    """Check a file by its name's suffix (type, encoding, header, unique column names); raise
    UnreadableFile with the reason if it cannot be read. ``opener`` gives its bytes from the
    start, as often as needed (the encoding is checked on all of them before any record is read)."""
    lower = name.lower()
    if not lower.endswith(SUPPORTED_SUFFIXES):
        raise UnreadableFile(name, f"unsupported file type: expected one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not _head(name, opener, 1):
        raise UnreadableFile(name, "empty file (0 bytes)")
    if lower.endswith(".parquet"):
        header = _parquet_header(name, opener)
        read = lambda size: _parquet_batches(name, opener, header, size)  # noqa: E731
        table = TextTable(name, header, read)
    else:
        header, encoding, delimiter = _open_csv(name, opener, _first_block(name, opener))
        read = lambda size: _csv_batches(name, opener, header, encoding, delimiter, size)  # noqa: E731
        table = TextTable(name, header, read, encoding, delimiter)
    if len(set(header)) != len(header):
        raise UnreadableFile(name, f"duplicate column names in header {header}")
    return table


def open_file(name: str, opener: Opener) -> LandingFile:
    """:func:`open_table`, then the one sales source mapping that reads its header."""
    table = open_table(name, opener)
    try:
        mapping, columns = match_source(table.header)
    except HeaderProblem as problem:
        shown = table.delimiter and problem.unrecognised
        read_as = f" (header read with delimiter {table.delimiter!r})" if shown else ""
        raise UnreadableFile(name, f"{problem}{read_as}") from None
    return LandingFile(name, mapping, columns, table.header, table.read, table.encoding, table.delimiter)


def read_rows(name: str, data: bytes) -> tuple[TextTable, pd.DataFrame, list[MalformedRecord]]:
    """A whole small file in memory: its table, its records as text (plus ``line_number``) and
    the records that could not be split into fields."""
    table = open_table(name, lambda: io.BytesIO(data))
    rows, malformed = _text_rows(table.header, list(table.read(BATCH_ROWS)))
    return table, rows, malformed


def _text_rows(header: list[str], batches: list[Batch]) -> tuple[pd.DataFrame, list[MalformedRecord]]:
    import pandas as pd
    import pyarrow as pa

    malformed = [m for b in batches for m in b.malformed]
    names = [h for h in header if h != LINE] + [LINE]
    empty = pa.table({n: pa.array([], pa.int64() if n == LINE else pa.string()) for n in names})
    table = pa.concat_tables([b.rows for b in batches]) if batches else empty
    rows = pd.DataFrame({n: table.column(n).to_pylist() for n in names}, dtype=object)
    rows[LINE] = rows[LINE].astype("int64")
    return rows, malformed


def _first_block(name: str, opener: Opener) -> bytes:
    stream = blocks(name, opener)
    try:
        return next(stream, b"")
    finally:
        stream.close()


def parse_file(name: str, data: bytes) -> ParsedFile:
    """A whole landing file in memory, as text rows (small files and tests); the same reading
    as the pipeline's, which streams."""
    file = open_file(name, lambda: io.BytesIO(data))
    rows, malformed = _text_rows(file.header, list(file.batches()))
    return ParsedFile(name, file.mapping, file.columns, rows, malformed, file.encoding, file.delimiter, file)
