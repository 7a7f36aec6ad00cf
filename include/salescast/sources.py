"""Source mappings: how each kind of landing file maps onto canonical columns.

Mappings are JSON files in ``include/sources/`` so a new POS export shape is a new file,
not new code. A file is matched to the first mapping whose required columns its header has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from salescast.config import SOURCES_DIR


def _norm(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").split())


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

    @classmethod
    def from_file(cls, path: Path) -> SourceMapping:
        spec = json.loads(path.read_text())
        return cls(
            name=spec["name"],
            description=spec.get("description", ""),
            columns={key: tuple(names) for key, names in spec["columns"].items()},
            required=tuple(spec["required"]),
            date_formats=tuple(spec["date_formats"]),
            aggregate=bool(spec.get("aggregate", False)),
            cancel_prefix=spec.get("cancel_prefix"),
            non_product_codes=frozenset(code.upper() for code in spec.get("non_product_codes", [])),
        )

    def resolve(self, header: list[str]) -> dict[str, str] | None:
        """Canonical column -> header name in this file, or None when a required one is missing."""
        by_norm = {_norm(h): h for h in header}
        found: dict[str, str] = {}
        for canonical, names in self.columns.items():
            for candidate in names:
                if _norm(candidate) in by_norm:
                    found[canonical] = by_norm[_norm(candidate)]
                    break
        if all(col in found for col in self.required):
            return found
        return None

    def expected_header(self) -> str:
        return ", ".join(self.columns[col][0] for col in self.required)


@lru_cache(maxsize=4)
def load_sources(directory: Path = SOURCES_DIR) -> tuple[SourceMapping, ...]:
    mappings = tuple(SourceMapping.from_file(p) for p in sorted(directory.glob("*.json")))
    if not mappings:
        raise FileNotFoundError(f"no source mappings (*.json) in {directory}")
    return mappings


def match_source(header: list[str]) -> tuple[SourceMapping, dict[str, str]] | None:
    for mapping in load_sources():
        resolved = mapping.resolve(header)
        if resolved is not None:
            return mapping, resolved
    return None
