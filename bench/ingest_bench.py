"""Ingest throughput: one large day through archive -> parse -> GX -> quarantine -> publish.

Usage: .venv/bin/python bench/ingest_bench.py [--stores 25] [--items 2000] [--format daily|pos]
Prints wall seconds per step, records per second and peak RSS. No Airflow involved:
these are the functions the sales_ingest tasks call.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

from salescast.ingest.pipeline import archive_raw, publish_day, standardize_day
from salescast.lake import Lake
from salescast_dev.generate import PanelSpec, write_landing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, default=25)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--format", choices=["daily", "pos"], default="daily")
    args = parser.parse_args()
    day = date(2025, 3, 3)
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp).as_uri())
        spec = PanelSpec(stores=args.stores, items=args.items, seed=1, fmt=args.format)
        t = time.perf_counter()
        write_landing(spec, day, day, Path(tmp) / "landing" / "sales", defects=True, bad_file_rate=0.0)
        generate_s = time.perf_counter() - t
        t = time.perf_counter()
        archived = archive_raw(lake, day)
        archive_s = time.perf_counter() - t
        t = time.perf_counter()
        result = standardize_day(lake, day, "bench", archived, max_bad_fraction=0.05)
        validate_s = time.perf_counter() - t
        t = time.perf_counter()
        publish_day(lake, day, "bench", result.to_dict())
        publish_s = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = archive_s + validate_s + publish_s
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"format={args.format} series={spec.n_series} files={len(archived)} records_in={result.records_in}")
    print(f"accepted={result.accepted} invalid={result.invalid} excluded={result.excluded}", end=" ")
    print(f"published={result.published_rows}")
    print(f"generate_s={generate_s:.2f} archive_s={archive_s:.2f}", end=" ")
    print(f"parse_validate_quarantine_s={validate_s:.2f} publish_s={publish_s:.2f}")
    print(f"ingest_total_s={total:.2f} records_per_s={result.records_in / total:,.0f} peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
