"""Scale benchmark: plan, one shard, the CLI forecast, on 1k / 10k / 100k series x 730 days.

Usage (make bench-scale runs the defaults; every measure is a flag, so runs can be short):
    .venv/bin/python bench/scale_bench.py [--sizes 1000,10000,100000] [--plan] [--shard]
        [--shard-series 500] [--one-shard 2000] [--cli 10000] [--cli-jobs 2] [--dag 10000] [--days 730]

Data: curated ``sales_daily`` partitions written straight into a ``file://`` lake under
``bench/out/scale/<series>/lake`` (vectorised simulator, zero-sale rows left out as ingest
does), generated once and reused. Each measure runs in a child process, so its wall time
and peak RSS (``os.wait4``) are its own:

- ``--plan``: the ``plan`` task (split the history into one file per shard) per size;
- ``--shard``: one shard of ``--shard-series`` series from each panel (per-series cost should
  not depend on the panel); ``--one-shard N``: one shard of N series from the largest panel;
- ``--cli N``: ``python -m salescast forecast --history ... --horizon 7 --jobs 2`` on the N
  panel, its history written as one Parquet file;
- ``--dag N``: the daily ``sales_forecast`` run on the N panel under a real Airflow (the stack
  of ``make airflow``: LocalExecutor, SQLite, the forecast pool sized to the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "scale"
END = date(2025, 3, 31)
SHAPES = {1_000: (10, 100), 10_000: (20, 500), 100_000: (50, 2_000)}  # stores x items


def shape(series: int) -> tuple[int, int]:
    if series in SHAPES:
        return SHAPES[series]
    stores = max(1, round((series / 50) ** 0.5 / 4))
    return stores, series // stores


def lake_dir(series: int, days: int) -> Path:
    return OUT / f"{series}x{days}" / "lake"


def generate(series: int, days: int) -> Path:
    """Curated partitions for ``series`` x ``days`` (skipped if a complete set exists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from salescast_dev.generate import PanelSpec, simulate_day

    lake = lake_dir(series, days)
    done = lake / "_GENERATED"
    if done.exists():
        return lake
    shutil.rmtree(lake, ignore_errors=True)
    spec = PanelSpec(*shape(series), seed=7)
    started = time.perf_counter()
    for offset in range(days - 1, -1, -1):
        day = END - timedelta(days=offset)
        rows = simulate_day(spec, day)
        rows = rows[(rows["sold"] > 0) | (rows["returned"] > 0)].assign(source_rows=1)
        rows = rows[["date", "store_id", "item_id", "units", "revenue", "source_rows"]]
        folder = lake / "curated" / "sales_daily" / f"dt={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), folder / "part-0.parquet", compression="zstd")
        (folder / "_SUCCESS").write_text(json.dumps({"rows": len(rows), "run_id": "bench"}))
    done.write_text(f"{spec.n_series} series\n")
    print(f"generated {spec.n_series} series x {days} days in {time.perf_counter() - started:.0f} s: {lake}")
    return lake


def child_env(lake: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    home = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    env |= {"SALESCAST_HOME": str(home), "SALESCAST_LAKE_URI": lake.as_uri(), "AIRFLOW_HOME": str(home / "airflow")}
    env |= {"PYTHONPATH": os.pathsep.join([str(ROOT / "include"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env | (extra or {})


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a child; its wall seconds, peak RSS in MB (itself or its largest child) and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args} failed:\n{text[-3000:]}")
    return wall, usage.ru_maxrss / 1024, text


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    wall, rss, text = measured([sys.executable, __file__, "--child", *args], env)
    result = json.loads(text.strip().splitlines()[-1])
    return wall, rss, result


# ---- what the children run ------------------------------------------------------------


def run_child(kind: str, params: list[str]) -> None:
    """``plan SPECS``: the plan task, its specs written to SPECS; ``shard SPECS``: the first
    shard of SPECS. Prints one JSON line."""
    from salescast.forecast import tasks

    ds, specs_file = END.isoformat(), Path(params[0])
    started = time.perf_counter()
    if kind == "plan":
        specs = tasks.plan_shards(ds, "bench")
        specs_file.write_text(json.dumps(specs))
        plan = json.loads(Path(specs[0]["plan"].removeprefix("file://")).read_text())
        counts = list(plan["shard_series"].values())
        print(json.dumps({"shards": len(specs), "series": plan["series"], "max_shard": max(counts)}))
    else:
        out = tasks.forecast_shard(ds, "bench", json.loads(specs_file.read_text())[0])
        print(json.dumps({"series": out["series"], "s": time.perf_counter() - started}))


# ---- measures ---------------------------------------------------------------------------


def bench_plan(sizes: list[int], days: int) -> None:
    for series in sizes:
        lake = generate(series, days)
        wall, rss, result = child(["plan", str(OUT / "specs.json")], child_env(lake))
        print(
            f"plan     series={result['series']:>7} days={days} shards={result['shards']:>4} "
            f"wall_s={wall:6.1f} peak_rss_mb={rss:6.0f}"
        )


def bench_shard(sizes: list[int], days: int, per_shard: int) -> None:
    """The first shard of a plan with ``per_shard`` series per shard, from each panel, in its
    own process (as a mapped task runs): wall time and peak RSS of that process."""
    for series in sizes:
        lake, specs = generate(series, days), str(OUT / "specs.json")
        env = child_env(lake, {"SALESCAST_SERIES_PER_SHARD": str(per_shard), "SALESCAST_FORECAST_JOBS": "1"})
        child(["plan", specs], env)
        wall, rss, result = child(["shard", specs], env)
        print(
            f"shard    panel={series:>7} shard_series={result['series']:>5} wall_s={wall:6.1f} "
            f"work_s={result['s']:6.1f} s_per_series={result['s'] / result['series']:.3f} peak_rss_mb={rss:6.0f}"
        )


def bench_cli(series: int, days: int, jobs: int) -> None:
    import pyarrow.dataset as ds

    lake = generate(series, days)
    history = lake.parent / "history.parquet"
    if not history.exists():
        import pyarrow.parquet as pq

        table = ds.dataset(lake / "curated" / "sales_daily", format="parquet", partitioning="hive").to_table()
        pq.write_table(table.select(["date", "store_id", "item_id", "units", "revenue"]), history)
    out = Path(tempfile.mkdtemp(prefix="scale-cli-"))
    args = [sys.executable, "-m", "salescast", "forecast", "--history", str(history), "--horizon", "7"]
    wall, rss, _ = measured([*args, "--jobs", str(jobs), "--out", str(out)], child_env(lake))
    print(f"cli      series={series:>7} days={days} h=7 jobs={jobs} wall_s={wall:6.1f} peak_rss_mb={rss:6.0f}")


def _api(url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    import urllib.request

    request = urllib.request.Request(
        f"{url}/api/v2{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def bench_dag(series: int, days: int, timeout: float) -> None:
    """The daily sales_forecast run (plan, shards, publish, report) for the lake's last day under
    a real Airflow (what `make airflow` starts: LocalExecutor, the pool sized to the cores)."""
    import socket
    from urllib.parse import quote

    lake = generate(series, days)
    home = Path(tempfile.mkdtemp(prefix="scale-dag-"))
    os.environ |= {"SALESCAST_HOME": str(home), "SALESCAST_LAKE_URI": lake.as_uri()}
    os.environ |= {"SALESCAST_FORECAST_POOL_SLOTS": str(os.cpu_count()), "SALESCAST_FORECAST_DEADLINE": "off"}
    from salescast.config import Settings
    from salescast_dev.airflow_stack import AirflowStack

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    with AirflowStack(Settings.from_env(), port, home / "stack-logs", base_env=base) as stack:
        token = stack.token()
        deadline = time.monotonic() + 300
        while _api(stack.url, token, "GET", "/dags?dag_id_pattern=sales_forecast")["total_entries"] < 1:
            if time.monotonic() > deadline:
                raise SystemExit(f"sales_forecast was not parsed; logs in {home / 'stack-logs'}")
            time.sleep(2)
        _api(stack.url, token, "PATCH", "/dags/sales_forecast", {"is_paused": False})
        started = time.perf_counter()
        run = _api(stack.url, token, "POST", "/dags/sales_forecast/dagRuns", {"logical_date": f"{END}T00:00:00Z"})
        path = f"/dags/sales_forecast/dagRuns/{quote(run['dag_run_id'], safe='')}"
        while (state := _api(stack.url, token, "GET", path)["state"]) not in ("success", "failed"):
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"the run did not finish in {timeout:.0f} s; logs in {home}")
            time.sleep(5)
        wall = time.perf_counter() - started
        tis = _api(stack.url, token, "GET", f"{path}/taskInstances?limit=1000")["task_instances"]
    took: dict[str, list[float]] = {}
    for ti in tis:
        took.setdefault(ti["task_id"], []).append(float(ti["duration"] or 0.0))
    tasks = " ".join(f"{k}={max(v):.0f}s" + (f"(x{len(v)})" if len(v) > 1 else "") for k, v in took.items())
    print(f"dag      series={series:>7} days={days} state={state} wall_s={wall:6.1f} slowest: {tasks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="panel sizes (series), comma-separated")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--plan", action="store_true", help="measure the plan task on every size")
    parser.add_argument("--shard", action="store_true", help="one shard of --shard-series from every size")
    parser.add_argument("--shard-series", type=int, default=500)
    parser.add_argument("--one-shard", type=int, default=0, help="one shard of N series from the largest size")
    parser.add_argument("--cli", type=int, default=0, help="the CLI forecast on N series (e.g. 10000)")
    parser.add_argument("--cli-jobs", type=int, default=2)
    parser.add_argument("--dag", type=int, default=0, help="the daily DAG run under a real Airflow on N series")
    parser.add_argument("--dag-timeout", type=float, default=3600)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], args.child[1:])
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not (args.plan or args.shard or args.one_shard or args.cli or args.dag):
        args.plan = args.shard = True
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load:.1f}")
    if args.plan:
        bench_plan(sizes, args.days)
    if args.shard:
        bench_shard(sizes, args.days, args.shard_series)
    if args.one_shard:
        bench_shard([max(sizes)], args.days, args.one_shard)
    if args.cli:
        bench_cli(args.cli, args.days, args.cli_jobs)
    if args.dag:
        bench_dag(args.dag, args.days, args.dag_timeout)


if __name__ == "__main__":
    main()
