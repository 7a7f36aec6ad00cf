"""The tables a user hands the engine directly (``python -m salescast forecast --history H
--drivers D``): one reader for a CSV, CSV.gz or Parquet file or a folder of them, and the check
that a history is long enough for the horizon asked, so a user gets a sentence, not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# What each table needs in its header, said when a file is empty.
_HEADERS = {
    "history": "date,store_id,item_id,units and one row per day",
    "drivers": "date,store_id,item_id,... (one column per driver)",
}
_PERIOD_NAMES = {"D": "days", "ME": "months"}


class InputFileError(ValueError):
    """The file cannot be used as given; the message names it and says what to fix."""


def read_table(path: str | Path, kind: str) -> pd.DataFrame:
    """A ``kind`` table ("history" or "drivers") from a file, or from every file in a folder
    (hidden and ``_``-prefixed files such as ``_SUCCESS`` are skipped). A folder of Parquet
    files reads as one dataset, so ``key=value`` partition folders give back their column."""
    import pandas as pd

    source = Path(path)
    if not source.exists():
        raise InputFileError(f"{kind} file {path} does not exist")
    if not source.is_dir():
        return _read_file(source, kind)
    files = _files(source)
    if not files:
        raise InputFileError(f"{kind} folder {path} holds no file")
    if all(p.suffix == ".parquet" for p in files):
        return _read_parquet(source, kind, path)
    return pd.concat([_read_file(p, kind) for p in files], ignore_index=True)


def _files(folder: Path) -> list[Path]:
    """Data files under ``folder``: none hidden or ``_``-prefixed (``_SUCCESS``, a write in
    progress, a tool's metadata), nor inside such a folder."""
    hidden = lambda p: any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)  # noqa: E731
    return sorted(p for p in folder.rglob("*") if p.is_file() and not hidden(p))


def _read_file(source: Path, kind: str) -> pd.DataFrame:
    import pandas as pd

    if source.suffix == ".parquet":
        return _read_parquet(source, kind, source)
    try:
        return pd.read_csv(source, dtype={"store_id": str, "item_id": str})
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{kind} file {source} is empty: it needs a header {_HEADERS[kind]}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputFileError(f"{kind} file {source} is not a readable UTF-8 CSV file: {error}") from None


def _read_parquet(source: Path, kind: str, named: str | Path) -> pd.DataFrame:
    """Days as datetime64 and text ids as categories (codes into the few distinct ids), not
    one Python object per row: 10k series x 730 days read in 260 MB instead of 640 MB."""
    import pandas as pd
    import pyarrow as pa

    compact = {"to_pandas_kwargs": {"date_as_object": False}}
    try:
        try:
            frame = pd.read_parquet(source, read_dictionary=["store_id", "item_id"], **compact)
        except (pa.ArrowException, ValueError, TypeError):  # ids stored as numbers: no dictionary for them
            frame = pd.read_parquet(source, **compact)
    except Exception as error:  # pyarrow raises several types for unreadable input
        raise InputFileError(f"{kind} file {named} is not a readable Parquet file or folder: {error}") from None
    finally:
        pa.default_memory_pool().release_unused()  # the decoded pages, kept by the allocator otherwise
    return frame


def check_history_length(history: pd.DataFrame, freq: str, horizon: int, named: str | Path) -> None:
    """Refuse a horizon the history cannot support, counting complete periods only (the engine
    leaves partial first and last weeks or months out), with the dates and what to change."""
    import pandas as pd

    from salescast.contracts import normalize_freq, period_alias
    from salescast.forecast.panel import partial_periods

    if "date" not in history.columns:
        return  # the engine names the missing columns
    try:
        dates = pd.to_datetime(history["date"], errors="coerce").dropna()
    except ValueError:  # pandas refuses, even when coercing, timestamps with different UTC offsets
        raise InputFileError(
            f"history file {named}: column 'date' has timestamps with different UTC offsets (or with and "
            "without one), which do not name one calendar day each: write each row's local day as YYYY-MM-DD"
        ) from None
    if dates.empty:
        return  # the engine counts unparseable dates
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    freq = normalize_freq(freq)
    periods = len(pd.period_range(dates.min(), dates.max(), freq=period_alias(freq)))
    dropped = partial_periods(history, freq)
    periods -= len({str(period) for period in dropped.values() if period})
    if 0 < periods <= horizon:  # no complete period at all: the engine says so
        unit = ("complete " if any(dropped.values()) else "") + _PERIOD_NAMES.get(freq, "weeks")
        raise InputFileError(
            f"--horizon {horizon} is longer than the history: {periods} {unit} from "
            f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}. A forecast needs more history than its "
            "horizon (the backtest needs several horizons of it): use a shorter --horizon or more history"
        )


def read_mapped_drivers(
    path: str | Path, mapping_name: str | Path, history: pd.DataFrame, last_day: pd.Timestamp
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """``--drivers D --drivers-mapping M``: the drivers files read and checked with the DAG's
    rules (:mod:`salescast.ingest.drivers`: the ``drivers`` suite against the mapping) and
    completed with its rules (:func:`salescast.forecast.drivers_asof.wide_drivers`). Returns
    the wide table for the engine (None: no value left) and the refused values with reasons,
    which the CLI writes beside the forecasts instead of failing the run."""
    import pandas as pd

    from salescast.driver_mapping import DriverMapping, MappingError
    from salescast.forecast.drivers_asof import wide_drivers, within
    from salescast.ingest.drivers import read_cells, validate_cells
    from salescast.ingest.parsing import UnreadableFile

    try:
        mapping = DriverMapping.load(mapping_name)
    except MappingError as error:
        raise InputFileError(str(error)) from None
    source = Path(path)
    if not source.exists():
        raise InputFileError(f"drivers file {path} does not exist")
    files = _files(source) if source.is_dir() else [source]
    cells, bad = [], []
    for file in files:
        try:
            long, malformed = read_cells(file.name, file.read_bytes())
        except UnreadableFile as error:
            raise InputFileError(f"drivers file {file} cannot be read: {error.reason}") from None
        cells.append(long)
        bad.append(malformed)
    if not cells:
        raise InputFileError(f"drivers folder {path} holds no file")
    good, invalid = validate_cells(pd.concat(cells, ignore_index=True), mapping)
    dates = pd.to_datetime(history["date"], errors="coerce").dropna()
    first, last_history = dates.min().date(), dates.max().date()
    wide = wide_drivers(within(good, first, last_day.date()), mapping, first, last_day.date(), last_history)
    return wide, pd.concat([*bad, invalid], ignore_index=True)
