"""The one rule for store and item ids, shared by ingest, its GX suite and the dashboard.

An id is what a planner reads on a chart, types into a search box and finds in a file
name, so it must look like what it is. Ingest *normalises* an id (surrounding whitespace
stripped, Unicode composed to NFC, so "Café" typed two ways is one id) and *refuses* one
that still holds a character that is invisible or changes how text around it is drawn:
control characters (a newline splits a CSV cell, ESC drives terminals), bidirectional
controls (U+202E draws the rest of a chart title backwards) and zero-width or formatting
characters (``I0001`` + U+200B would be a second ``I0001`` that looks the same). Refused ids
go to quarantine with the reason :func:`problem` gives; the dashboard applies the same
predicate, so whatever ingest publishes the dashboard shows.

The refused characters are listed as explicit code point ranges, not Unicode categories,
so Python's ``re``, RE2 (Arrow, DuckDB) and GX all read one identical set, whatever
Unicode version each ships. Pandas-free and cheap to import.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 64  # the landing suite's expect_column_value_lengths_to_be_between says the same (tested)

# kind of character -> inclusive code point ranges; the kind is the reason's wording
REFUSED: dict[str, tuple[tuple[int, int], ...]] = {
    "a control character": ((0x00, 0x1F), (0x7F, 0x9F)),
    "a bidirectional control character": ((0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069)),
    "an invisible (zero-width or formatting) character": (
        (0x00AD, 0x00AD),  # soft hyphen
        (0x180E, 0x180E),  # Mongolian vowel separator
        (0x200B, 0x200D),  # zero-width space, non-joiner, joiner
        (0x2060, 0x2064),  # word joiner, invisible operators
        (0x206A, 0x206F),  # deprecated formatting characters
        (0xFEFF, 0xFEFF),  # zero-width no-break space (byte-order mark)
        (0xFFF9, 0xFFFB),  # interlinear annotation
        (0xE0001, 0xE0001),  # language tag
        (0xE0020, 0xE007F),  # tag characters
    ),
    "a line or paragraph separator": ((0x2028, 0x2029),),
}


def _escape(code: int) -> str:
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _pattern() -> str:
    parts = []
    for ranges in REFUSED.values():
        for first, last in ranges:
            parts.append(_escape(first) if first == last else f"{_escape(first)}-{_escape(last)}")
    return "[" + "".join(parts) + "]"


# One character class of every refused character, in Python ``re`` syntax (what GX's pandas
# engine runs); :func:`re2_pattern` spells it for Arrow and DuckDB.
REFUSED_PATTERN = _pattern()
_REFUSED = re.compile(REFUSED_PATTERN)


def re2_pattern(pattern: str = REFUSED_PATTERN) -> str:
    r"""``pattern`` with Python's ``\xHH``, ``\uHHHH`` and ``\UHHHHHHHH`` escapes written as RE2's
    ``\x{...}``, so one rule runs in Arrow and DuckDB too."""
    return re.sub(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))", _re2_escape, pattern)


def _re2_escape(match: re.Match[str]) -> str:
    return "\\x{" + next(g for g in match.groups() if g) + "}"


def kind_of(character: str) -> str | None:
    """Why ``character`` may not be in an id (the reason's wording), or None if it may."""
    code = ord(character)
    for kind, ranges in REFUSED.items():
        if any(first <= code <= last for first, last in ranges):
            return kind
    return None


def normalise(value: str) -> str:
    """What ingest stores for an id: NFC, without surrounding whitespace."""
    return unicodedata.normalize("NFC", value.strip())


def refused_character(name: str, value: str) -> str | None:
    """``"store_id contains a control character U+0007"`` for the first refused character of
    ``value``, or None when it has none."""
    found = _REFUSED.search(value)
    if not found:
        return None
    character = found.group()
    return f"{name} contains {kind_of(character)} U+{ord(character):04X}"


def problem(name: str, value: str | None) -> str | None:
    """Why ``value`` is not a valid id (missing, too long, a refused character), or None."""
    if value is None or not value.strip():
        return f"{name} is missing"
    if len(value) > MAX_LENGTH:
        return f"{name} is longer than {MAX_LENGTH} characters"
    return refused_character(name, value)
