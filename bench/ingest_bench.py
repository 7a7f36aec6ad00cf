"""Ingest time and peak memory by the size of one landing day: archive -> parse -> GX rules ->
quarantine -> publish, no Airflow (the functions the sales_ingest tasks call).

Usage:
  .venv/bin/python bench/ingest_bench.py [--sizes 1M,2M,10M] [--formats daily,pos]
  .venv/bin/python bench/ingest_bench.py --sizes 2M --formats daily --keep /tmp/out   # keep the outputs

Each (format, size) is generated once into ``bench/out/ingest/`` (a subprocess, cached) and
ingested in a fresh subprocess, whose wall time and peak RSS (``os.wait4``: that child's own
``ru_maxrss``, imports included) are reported. ``--pythonpath`` runs another checkout's code
on the same files (``--pythonpath ../base/include``), for before/after numbers. Sizes are
landing records (the generator lands close to, not exactly on, the target).

daily: 25 store files (CSV, CSV.gz, Parquet in turn) with ~2% defects; pos: one CSV of
Online Retail II-shaped invoice lines of 25 countries, summed to daily rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / "out" / "ingest"
DAY = date(2025, 3, 3)
STORES = 25
# landing records per store x item series, measured on small days of the generator
RECORDS_PER_SERIES = {"daily": 0.6964, "pos": 1.333}
SLICE_SERIES = 1_000_000  # series generated at once: keeps the generator itself under ~2 GB


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * scale)


def day_folder(fmt: str, rows: int) -> Path:
    return CACHE / f"{fmt}-{rows}" / "landing" / "sales" / DAY.isoformat()


# ---- generation (a subprocess per day, cached) ------------------------------------------------


def generate(fmt: str, rows: int) -> Path:
    """The landing folder of one day of about ``rows`` records, generated in item slices (each
    its own seed and item numbers) appended to the same files, so the generator's memory stays
    flat at any size."""
    from salescast_dev.generate import PanelSpec, write_landing

    folder = day_folder(fmt, rows)
    if (folder / "_READY").exists():
        return folder
    items = max(1, round(rows / RECORDS_PER_SERIES[fmt] / STORES))
    per_slice = max(1, SLICE_SERIES // STORES)
    parts: dict[str, list[Path]] = {}
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        for n, first in enumerate(range(0, items, per_slice)):
            spec = _slice_spec(PanelSpec, fmt, min(per_slice, items - first), first, seed=1 + n)
            out = Path(tmp) / f"slice{n}"
            write_landing(spec, DAY, DAY, out, defects=True, bad_file_rate=0.0, ready_marker=False)
            for path in sorted((out / DAY.isoformat()).iterdir()):
                parts.setdefault(path.name, []).append(path)
        folder.mkdir(parents=True, exist_ok=True)
        for name, paths in parts.items():
            _join(paths, folder / name)
    (folder / "_READY").write_bytes(b"")
    return folder


def _slice_spec(base: type, fmt: str, items: int, first: int, seed: int):
    """A PanelSpec whose item ids start at ``first``: slices name different items."""

    class Slice(base):
        @property
        def item_ids(self) -> list[str]:
            return [f"I{first + i + 1:07d}" for i in range(self.items)] if fmt == "daily" else [
                f"{20000 + 137 * (first + i):07d}" for i in range(self.items)
            ]  # fmt: skip

    return Slice(stores=STORES, items=items, seed=seed, fmt=fmt)


def _join(paths: list[Path], target: Path) -> None:
    """One file of the slices' files: CSV without the repeated headers, gzip members back to
    back (a valid gzip), Parquet row groups in one file."""
    if target.suffix == ".parquet":
        import pyarrow.parquet as pq

        tables = [pq.read_table(p) for p in paths]
        with pq.ParquetWriter(target, tables[0].schema) as writer:
            for table in tables:
                writer.write_table(table.cast(tables[0].schema))
        return
    gz = target.name.endswith(".gz")
    with target.open("wb") as out:
        for n, path in enumerate(paths):
            data = path.read_bytes()
            if n and not gz:
                data = data.split(b"\n", 1)[1]
            elif n:
                import gzip

                text = gzip.decompress(data).split(b"\n", 1)[1]
                data = gzip.compress(text, mtime=0)
            out.write(data)


# ---- one ingest (a fresh subprocess per run) -----------------------------------------------------


def ingest_once(folder: Path, keep: Path | None) -> dict:
    """Archive, standardise and publish ``folder``'s day in a scratch lake; counts and seconds."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
    from salescast.ingest.pipeline import archive_raw, publish_day, standardize_day
    from salescast.lake import Lake

    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        landing = Path(tmp) / "landing" / "sales" / DAY.isoformat()
        landing.mkdir(parents=True)
        for path in folder.iterdir():
            os.link(path, landing / path.name)
        lake = Lake(Path(tmp).as_uri())
        started = time.perf_counter()
        archived = archive_raw(lake, DAY)
        result = standardize_day(lake, DAY, "bench", archived, max_bad_fraction=0.05)
        publish_day(lake, DAY, "bench", result.to_dict())
        seconds = time.perf_counter() - started
        if keep:
            _keep(lake, result.quarantine, keep)
    return {
        "records_in": result.records_in,
        "accepted": result.accepted,
        "invalid": result.invalid,
        "excluded": result.excluded,
        "published": result.published_rows,
        "files": len(archived),
        "ingest_s": round(seconds, 2),
    }


def _keep(lake, quarantine: str | None, keep: Path) -> None:
    import shutil

    from salescast.publish import DATA_FILE

    keep.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path((lake.curated_dir(DAY) / DATA_FILE).path), keep / "published.parquet")
    if quarantine:
        shutil.copyfile(Path(lake.path(quarantine).path), keep / "quarantine.parquet")


# ---- the parent: one line per (format, size) ----------------------------------------------------


@dataclass
class Run:
    fmt: str
    rows: int
    wall_s: float
    peak_rss_mb: float
    report: dict


def measure(fmt: str, rows: int, pythonpath: str | None, keep: Path | None) -> Run:
    """Generate (cached) then ingest in a child process; its own peak RSS from ``os.wait4``."""
    env = dict(os.environ)
    subprocess.run([sys.executable, __file__, "--generate", fmt, str(rows)], check=True, env=env)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--ingest", str(day_folder(fmt, rows))]
    if keep:
        command += ["--keep", str(keep / f"{fmt}-{rows}")]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest of {fmt} {rows} failed (exit {os.waitstatus_to_exitcode(status)})")
    report = json.loads(output.strip().splitlines()[-1])
    return Run(fmt, rows, round(wall, 1), round(usage.ru_maxrss / 1024), report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1M,2M,10M")
    parser.add_argument("--formats", default="daily,pos")
    parser.add_argument("--pythonpath", help="run another checkout's salescast (its include/ folder)")
    parser.add_argument("--keep", type=Path, help="copy each day's published and quarantine files here")
    parser.add_argument("--generate", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--ingest", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.generate:
        generate(args.generate[0], int(args.generate[1]))
        return
    if args.ingest:
        print(json.dumps(ingest_once(args.ingest, args.keep)))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}")
    for fmt in args.formats.split(","):
        for size in args.sizes.split(","):
            run = measure(fmt, parse_size(size), args.pythonpath, args.keep)
            r = run.report
            print(
                f"{fmt:5} {size:>4}: records_in={r['records_in']:,} files={r['files']} invalid={r['invalid']:,} "
                f"excluded={r['excluded']:,} published={r['published']:,} ingest_s={r['ingest_s']} "
                f"process_s={run.wall_s} peak_rss_mb={run.peak_rss_mb:,.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
