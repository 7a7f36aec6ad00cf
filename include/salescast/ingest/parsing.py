"""Reading one landing file into rows of strings, without losing or guessing anything.

Every column is read as text so that a bad value reaches validation as it was written,
and every record keeps its line number so a quarantined row can be found in the raw file.
A file that cannot be read at all raises :class:`UnreadableFile` with a specific reason.
Text is UTF-8, UTF-16 with a BOM, or Windows-1252, decided per file and never by a lossy
guess; the delimiter (, ; tab |) is detected from the header line.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from dataclasses import dataclass, field

import pandas as pd

from salescast.ingest.sources import HeaderProblem, SourceMapping, match_source

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
    encoding: str | None = None  # text files: utf-8, utf-16 or cp1252
    delimiter: str | None = None  # text files

    @property
    def records(self) -> int:
        """Data records in the file (good, bad or malformed): what must be accounted for."""
        return len(self.rows) + len(self.malformed)


# A valid multi-byte UTF-8 sequence. Windows-1252 text almost never contains one (it would
# take e.g. "Ã" followed by "©"), so a file that has one *and* bytes that are not UTF-8
# mixes encodings, and no single decoding of it is right.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_DELIMITERS = ",;\t|"
_SAVE_AS_UTF8 = "save the file as UTF-8 (CSV UTF-8 in Excel) and drop it again"


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line}, byte 0x{data[offset]:02x}"


def _decode(name: str, data: bytes) -> tuple[str, str]:
    text, encoding = _decode_text(name, data)
    first = text.find("\x00")
    check_nul(name, None if first < 0 else text.count("\n", 0, first) + 1, text.count("\x00"), len(text))
    return text, encoding


def check_nul(name: str, first_line: int | None, nuls: int, characters: int) -> None:
    """Refuse text that is not text: a NUL on the first (header) line, or NULs in more than 1%
    of the characters, is a binary file or UTF-16 without its mark (every other byte of
    ASCII text is NUL). A stray NUL in a record is that record's problem: the id rule or
    the number check quarantines it, as for a Parquet file."""
    if first_line is not None and (first_line == 1 or nuls * 100 > characters):
        raise UnreadableFile(
            name,
            f"contains NUL bytes (first on line {first_line}): binary, or UTF-16 without a byte-order mark; "
            f"{_SAVE_AS_UTF8}",
        )


def _decode_text(name: str, data: bytes) -> tuple[str, str]:
    """The file's text and its encoding: UTF-8 (with or without BOM), UTF-16 with a BOM, or
    Windows-1252 (older tills). Anything else, or a mix, is refused: a wrong guess would
    turn "Café" into another store than the one the UTF-8 files name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            reason = f"not valid UTF-16 though it starts with a UTF-16 mark ({error.reason})"
            raise UnreadableFile(name, reason) from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        first_bad = error.start
    if _UTF8_MULTIBYTE.search(data):
        raise UnreadableFile(
            name,
            f"text encoding unknown: the file mixes UTF-8 and another encoding (first non-UTF-8 byte at "
            f"{_where(data, first_bad)}), so no single reading of it is right; {_SAVE_AS_UTF8}",
        )
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            name,
            f"text encoding unknown: neither UTF-8 nor Windows-1252 (at {_where(data, error.start)}); {_SAVE_AS_UTF8}",
        ) from None


def _delimiter(text: str) -> str:
    """The header line's delimiter among , ; tab | (csv.Sniffer); comma when it cannot tell."""
    header = next((line for line in io.StringIO(text) if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _header_problem(name: str, problem: HeaderProblem, delimiter: str | None) -> UnreadableFile:
    read_as = f" (header read with delimiter {delimiter!r})" if delimiter and problem.unrecognised else ""
    return UnreadableFile(name, f"{problem}{read_as}")


def _read_csv(
    name: str, text: str, delimiter: str
) -> tuple[list[str], list[list[str]], list[int], list[MalformedRecord]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
                        delimiter.join(record),
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
    encoding = delimiter = None
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
        text, encoding = _decode(name, data)
        delimiter = _delimiter(text)
        header, records, lines, malformed = _read_csv(name, text, delimiter)
    if len(set(header)) != len(header):
        raise UnreadableFile(name, f"duplicate column names in header {header}")
    try:
        mapping, columns = match_source(header)
    except HeaderProblem as problem:
        raise _header_problem(name, problem, delimiter) from None
    rows = pd.DataFrame(records, columns=header, dtype=object)
    rows[LINE] = pd.Series(lines, dtype="int64")
    return ParsedFile(
        name=name,
        mapping=mapping,
        columns=columns,
        rows=rows,
        malformed=malformed,
        encoding=encoding,
        delimiter=delimiter,
    )
