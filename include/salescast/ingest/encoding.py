"""Which text encoding a landing file is in, decided from all of its bytes, read in blocks.

Text is UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252 (older tills),
decided per file and never by a lossy guess: a wrong guess would turn "Café" into another
store than the one the UTF-8 files name. The file is streamed (a few MB in memory at any
size); a file that is not text, or mixes encodings, raises :class:`UnreadableFile`.
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import re
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import BinaryIO, cast

BLOCK = 1 << 20
Opener = Callable[[], BinaryIO]  # a fresh binary stream of the file's bytes, from the start
SAVE_AS_UTF8 = "save the file as UTF-8 (CSV UTF-8 in Excel) and drop it again"
# the label reported for a file -> the codec that reads it (the BOM of UTF-8 is dropped)
CODECS = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "cp1252": "cp1252"}

# A valid multi-byte UTF-8 sequence. Windows-1252 text almost never contains one (it would
# take e.g. "Ã" followed by "©"), so a file that has one *and* bytes that are not UTF-8
# mixes encodings, and no single decoding of it is right.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


class UnreadableFile(Exception):
    """The whole file is unusable; ``reason`` says why in words an operator can act on."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def text_stream(name: str, opener: Opener) -> BinaryIO:
    """The file's bytes, decompressed when the name says gzip."""
    if name.lower().endswith(".gz"):
        return cast("BinaryIO", gzip.GzipFile(fileobj=opener(), mode="rb"))
    return opener()


def blocks(name: str, opener: Opener) -> Generator[bytes]:
    """The (decompressed) bytes in blocks; a broken gzip is an :class:`UnreadableFile`."""
    try:
        with text_stream(name, opener) as stream:
            while block := stream.read(BLOCK):
                yield block
    except (OSError, EOFError, zlib.error) as error:
        if not name.lower().endswith(".gz"):
            raise
        raise UnreadableFile(name, f"not a valid gzip file: {error}") from None


@dataclass
class _Scan:
    """One decoding pass: where it failed, and the NULs of the decoded text."""

    bad_offset: int | None = None
    bad_reason: str = ""
    nuls: int = 0
    first_nul_line: int | None = None
    characters: int = 0
    lines: int = 0

    def count(self, text: str) -> None:
        if self.first_nul_line is None and "\x00" in text:
            self.first_nul_line = self.lines + text.count("\n", 0, text.index("\x00")) + 1
        self.nuls += text.count("\x00")
        self.characters += len(text)
        self.lines += text.count("\n")


def _scan(name: str, opener: Opener, codec: str) -> _Scan:
    """Decode the whole file with ``codec`` in blocks, keeping only counts."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    scan, offset = _Scan(), 0
    for block in itertools.chain(blocks(name, opener), [b""]):
        state = decoder.getstate()
        pending = len(state[0]) if isinstance(state, tuple) else 0  # bytes of a character cut by the block
        try:
            scan.count(decoder.decode(block, final=not block))
        except UnicodeDecodeError as error:
            scan.bad_offset, scan.bad_reason = offset - pending + error.start, error.reason
            return scan
        offset += len(block)
    return scan


def _where(name: str, opener: Opener, offset: int) -> str:
    """``line L, byte 0xHH`` of the byte at ``offset`` (read again: errors are rare)."""
    seen, lines = 0, 0
    for block in blocks(name, opener):
        if seen + len(block) > offset:
            at = offset - seen
            line = lines + block.count(b"\n", 0, at) + 1
            return f"line {line}, byte 0x{block[at]:02x}"
        seen, lines = seen + len(block), lines + block.count(b"\n")
    return f"byte {offset}"


def _has_utf8_multibyte(name: str, opener: Opener) -> bool:
    tail = b""
    for block in blocks(name, opener):
        if _UTF8_MULTIBYTE.search(tail + block):
            return True
        tail = block[-3:]
    return False


def detect(name: str, opener: Opener, head: bytes) -> tuple[str, _Scan]:
    """The file's encoding label (``utf-8``, ``utf-16``, ``cp1252``) and its decoding counts."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        scan = _scan(name, opener, "utf-16")
        if scan.bad_offset is not None:
            reason = f"not valid UTF-16 though it starts with a UTF-16 mark ({scan.bad_reason})"
            raise UnreadableFile(name, reason)
        return "utf-16", scan
    scan = _scan(name, opener, "utf-8")
    if scan.bad_offset is None:
        return "utf-8", scan
    if _has_utf8_multibyte(name, opener):
        raise UnreadableFile(
            name,
            f"text encoding unknown: the file mixes UTF-8 and another encoding (first non-UTF-8 byte at "
            f"{_where(name, opener, scan.bad_offset)}), so no single reading of it is right; {SAVE_AS_UTF8}",
        )
    scan = _scan(name, opener, "cp1252")
    if scan.bad_offset is not None:
        where = _where(name, opener, scan.bad_offset)
        reason = f"text encoding unknown: neither UTF-8 nor Windows-1252 (at {where}); {SAVE_AS_UTF8}"
        raise UnreadableFile(name, reason)
    return "cp1252", scan


def check_nul(name: str, scan: _Scan) -> None:
    """Refuse text that is not text: a NUL on the first (header) line, or NULs in more than 1%
    of the characters, is a binary file or UTF-16 without its mark (every other byte of
    ASCII text is NUL). A stray NUL in a record is that record's problem: the id rule or
    the number check quarantines it, as for a Parquet file."""
    line = scan.first_nul_line
    if line is not None and (line == 1 or scan.nuls * 100 > scan.characters):
        raise UnreadableFile(
            name,
            f"contains NUL bytes (first on line {line}): binary, or UTF-16 without a byte-order mark; {SAVE_AS_UTF8}",
        )
