"""Source mappings: how each kind of landing file maps onto canonical columns.

Mappings are JSON files in ``include/sources/`` so a new POS export shape is a new file,
not new code. A header is matched to the one mapping whose required columns it has; a
header that fits no mapping, several mappings, or gives one canonical column two sources
(``units`` and ``qty``) is refused with a reason that says which column to rename, never
mapped by guessing. Each accepted name belongs to one canonical column only: money names
(``sales``, ``revenue``, ``amount``) are never read as units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from salescast.config import SOURCES_DIR


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


class HeaderProblem(ValueError):
    """The header cannot be mapped without guessing; the message says what to change."""

    def __init__(self, message: str, unrecognised: bool = False) -> None:
        super().__init__(message)
        self.unrecognised = unrecognised  # no mapping fits (rather than too many columns fit)


@dataclass(frozen=True)
class Resolution:
    """How one mapping reads one header."""

    found: dict[str, str]  # canonical column -> header name
    missing: tuple[str, ...]  # required canonical columns with no header name
    clashes: dict[str, tuple[str, ...]]  # canonical column -> several header names


@dataclass(frozen=True)
class SourceMapping:
    """One landing format: canonical column -> accepted header names, plus its rules."""

    name: str
    description: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    date_formats: tuple[str, ...]
    aggregate: bool
    cancel_prefix: str | None = None
    non_product_codes: frozenset[str] = field(default_factory=frozenset)
    ambiguous: dict[str, str] = field(default_factory=dict)  # normalized header name -> why it is unclear

    @classmethod
    def from_file(cls, path: Path) -> SourceMapping:
        spec = json.loads(path.read_text())
        columns = {key: tuple(names) for key, names in spec["columns"].items()}
        owner: dict[str, str] = {}
        for canonical, names in columns.items():
            for name in names:
                if owner.setdefault(_norm(name), canonical) != canonical:
                    raise ValueError(f"{path}: {name!r} is listed for both {owner[_norm(name)]} and {canonical}")
        return cls(
            name=spec["name"],
            description=spec.get("description", ""),
            columns=columns,
            required=tuple(spec["required"]),
            date_formats=tuple(spec["date_formats"]),
            aggregate=bool(spec.get("aggregate", False)),
            cancel_prefix=spec.get("cancel_prefix"),
            non_product_codes=frozenset(code.upper() for code in spec.get("non_product_codes", [])),
            ambiguous={_norm(k): v for k, v in spec.get("ambiguous", {}).items()},
        )

    def read(self, header: list[str]) -> Resolution:
        """Which header column feeds each canonical column, what is missing, what clashes."""
        found: dict[str, str] = {}
        clashes: dict[str, tuple[str, ...]] = {}
        for canonical, names in self.columns.items():
            accepted = {_norm(n) for n in names}
            matches = tuple(h for h in header if _norm(h) in accepted)
            if matches:
                found[canonical] = matches[0]
            if len(matches) > 1:
                clashes[canonical] = matches
        missing = tuple(col for col in self.required if col not in found)
        return Resolution(found, missing, clashes)

    def expected_header(self) -> str:
        return ", ".join(self.columns[col][0] for col in self.required)

    def explain_missing(self, header: list[str], resolution: Resolution) -> str:
        """Why this mapping does not fit: the missing columns with their accepted names, plus
        what an ambiguous column in the header would have to be renamed to."""
        parts = [f"no {col} column (accepted names: {', '.join(self.columns[col])})" for col in resolution.missing]
        parts += [f"column {h!r} {self.ambiguous[_norm(h)]}" for h in header if _norm(h) in self.ambiguous]
        return f"for the {self.name} format: " + "; ".join(parts)


@lru_cache(maxsize=4)
def load_sources(directory: Path = SOURCES_DIR) -> tuple[SourceMapping, ...]:
    mappings = tuple(SourceMapping.from_file(p) for p in sorted(directory.glob("*.json")))
    if not mappings:
        raise FileNotFoundError(f"no source mappings (*.json) in {directory}")
    return mappings


def match_source(header: list[str]) -> tuple[SourceMapping, dict[str, str]]:
    """The one mapping that reads ``header``; :class:`HeaderProblem` says why there is none."""
    mappings = load_sources()
    readings = [(m, m.read(header)) for m in mappings]
    fitting = [(m, r) for m, r in readings if not r.missing]
    if len(fitting) > 1:
        names = ", ".join(m.name for m, _ in fitting)
        raise HeaderProblem(
            f"columns {header} fit several formats ({names}): cannot tell which one the file is; "
            "remove or rename the columns of the format it is not"
        )
    if fitting:
        mapping, reading = fitting[0]
        if reading.clashes:
            clash = "; ".join(
                f"{' and '.join(repr(h) for h in names)} are {'both' if len(names) == 2 else 'all'} read as {canonical}"
                for canonical, names in reading.clashes.items()
            )
            raise HeaderProblem(f"ambiguous columns in {header} ({mapping.name} format): {clash}: keep one of them")
        return mapping, reading.found
    expected = "; or ".join(f"{m.expected_header()} ({m.name})" for m in mappings)
    closest, reading = max(readings, key=lambda mr: len(mr[0].required) - len(mr[1].missing))
    detail = closest.explain_missing(header, reading) if len(reading.missing) < len(closest.required) else ""
    reason = f"unrecognised columns {header}: expected a header with {expected}"
    raise HeaderProblem(reason + (f"; {detail}" if detail else ""), unrecognised=True)
