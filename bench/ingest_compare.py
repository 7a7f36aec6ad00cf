"""Are two ingests of the same day the same? Compares the published parquet and the quarantine
of two ``bench/ingest_bench.py --keep`` folders (e.g. main's code and this branch's) with
pandas' ``assert_frame_equal`` after sorting, exactly (``check_exact``: every float equal).

Usage: .venv/bin/python bench/ingest_compare.py OLD_DIR NEW_DIR   (each holding <format>-<rows>/)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

KEYS = {"published.parquet": ["date", "store_id", "item_id"], "quarantine.parquet": ["source_file", "line_number"]}


def load(path: Path, keys: list[str]) -> pd.DataFrame:
    frame = pd.read_parquet(path) if path.exists() else pd.DataFrame()
    if frame.empty:
        return frame
    frame = frame.drop(columns=[c for c in ("run_id",) if c in frame])
    return frame.sort_values([*keys, *(c for c in frame.columns if c not in keys)]).reset_index(drop=True)


def main() -> None:
    old, new = Path(sys.argv[1]), Path(sys.argv[2])
    failed = False
    for day in sorted(p.name for p in old.iterdir() if (new / p.name).is_dir()):
        for name, keys in KEYS.items():
            a, b = load(old / day / name, keys), load(new / day / name, keys)
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True)
                print(f"{day} {name}: equal ({len(a):,} rows)")
            except AssertionError as error:
                failed = True
                print(f"{day} {name}: DIFFERENT ({len(a):,} vs {len(b):,} rows)\n{error}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
