"""The reviewed declaration of a drivers feed (``include/sources/drivers/<name>.json``): each
driver's name, type, plausible range and whether its future values are known ahead.

What a delivery may carry is decided here, once, by review: a column not declared, or a value
outside its range, is quarantined with the reason by ingest (:mod:`salescast.ingest.drivers`),
and the forecast takes future values only of known-ahead drivers. Light (no pandas): the
DAGs read it when they are parsed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from salescast.paths import SOURCES_DIR

DRIVERS_DIR = SOURCES_DIR / "drivers"
IN_STOCK = "in_stock"
STORE_OPEN = "store_open"
# The two names with a fixed meaning (censored demand), and what a declaration of them must say.
_FIXED = {IN_STOCK: ("number", 0.0, 1.0), STORE_OPEN: ("flag", 0.0, 1.0)}
KINDS = ("number", "flag")


class MappingError(ValueError):
    """The mapping file itself is wrong; the message names the file and the driver."""


@dataclass(frozen=True)
class DriverSpec:
    name: str
    kind: str  # "number" or "flag" (0 or 1)
    low: float
    high: float
    known_ahead: bool
    description: str = ""
    # a day a delivery does not mention, for a key it gives this driver for: a value (a promotion
    # calendar lists promotion days: 0 elsewhere), "hold" (a price holds until it changes), or
    # None (unknown: not used that day)
    absent: float | str | None = None


@dataclass(frozen=True)
class DriverMapping:
    name: str
    drivers: dict[str, DriverSpec]
    path: Path

    @property
    def past_only(self) -> tuple[str, ...]:
        return tuple(n for n, spec in self.drivers.items() if not spec.known_ahead)

    @classmethod
    def load(cls, name_or_path: str | Path) -> DriverMapping:
        """A mapping by name (``retail`` is ``include/sources/drivers/retail.json``) or by path."""
        path = Path(name_or_path)
        if path.suffix != ".json":
            path = DRIVERS_DIR / f"{name_or_path}.json"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in DRIVERS_DIR.glob("*.json"))) or "none"
            raise MappingError(f"no drivers mapping {path} (mappings in {DRIVERS_DIR}: {known})")
        try:
            spec = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise MappingError(f"drivers mapping {path} is not valid JSON: {error}") from None
        drivers = spec.get("drivers") if isinstance(spec, dict) else None
        if not isinstance(drivers, dict) or not drivers:
            raise MappingError(f"drivers mapping {path} declares no drivers (a 'drivers' object of name: spec)")
        return cls(str(spec.get("name") or path.stem), {n: _driver(path, n, d) for n, d in drivers.items()}, path)


def _driver(path: Path, name: str, raw: object) -> DriverSpec:
    where = f"drivers mapping {path}, driver {name!r}"
    if name in ("date", "store_id", "item_id") or not name.isidentifier() or name != name.lower():
        raise MappingError(f"{where}: a driver name is a lower-case identifier other than date, store_id, item_id")
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected an object with type, min, max, known_ahead")
    kind = raw.get("type")
    if kind not in KINDS:
        raise MappingError(f"{where}: type must be one of {KINDS}, not {kind!r}")
    bounds = (0.0, 1.0) if kind == "flag" else (raw.get("min"), raw.get("max"))
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in bounds):
        raise MappingError(f"{where}: a number needs finite min <= max, got min={bounds[0]!r}, max={bounds[1]!r}")
    low, high = float(bounds[0]), float(bounds[1])  # type: ignore[arg-type]  # checked just above
    if low > high:
        raise MappingError(f"{where}: a number needs finite min <= max, got min={low:g}, max={high:g}")
    if not isinstance(raw.get("known_ahead"), bool):
        raise MappingError(f"{where}: known_ahead must be true (plans, forecasts) or false (past only)")
    absent = raw.get("absent")
    if absent is not None and absent != "hold":
        if not isinstance(absent, int | float) or not low <= absent <= high:
            raise MappingError(
                f"{where}: absent must be a value in {low:g}..{high:g}, 'hold' or left out, not {absent!r}"
            )
        absent = float(absent)
    spec = DriverSpec(name, kind, low, high, raw["known_ahead"], str(raw.get("description", "")), absent)
    fixed = _FIXED.get(name)
    if fixed and (spec.kind, spec.low, spec.high) != fixed:
        raise MappingError(f"{where}: {name} has a fixed meaning: type {fixed[0]}, range {fixed[1]:g}..{fixed[2]:g}")
    return spec


def settle_time(day: date, settle_seconds: int) -> datetime:
    """When the drivers as of ``day`` stop being awaited (``SALESCAST_DRIVERS_SETTLE_SECONDS``
    after the end of the day), by the drivers DAG's sensor and by the forecast's alike."""
    return datetime.combine(day + timedelta(days=1), time(), UTC) + timedelta(seconds=settle_seconds)
