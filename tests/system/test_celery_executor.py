"""salescast on a distributed Airflow: CeleryExecutor, PostgreSQL, Redis, two workers, S3 lake.

Story: six weeks of history are in the lake; yesterday's files have landed. The scheduler runs
yesterday's ingest, then the forecast, whose ``train_shard`` tasks (4 shards) the two Celery
workers share. Once a worker has finished a shard and is running another, its machine dies
(SIGKILL of the worker and every process under it). The scheduler sees the task's heartbeat
stop, retries it, and the other worker runs it. The published forecasts, metrics and safety stock
must equal those of a single-process run of the same day on a copy of the same lake.
"""

from __future__ import annotations

import io
import time
from urllib.parse import quote

import pandas as pd
import pytest

from salescast.publish import DATA_FILE
from tests.support.celery_cluster import BUCKET, DAY, PREFIX, WORKERS, Cluster, day_of, s3_client

pytestmark = [pytest.mark.slow, pytest.mark.celery]

TABLES = ("forecasts", "metrics", "safety_stock")  # what one forecast run publishes


def read_s3_parquet(endpoint: str, key: str) -> pd.DataFrame:
    body = s3_client(endpoint).get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return pd.read_parquet(io.BytesIO(body))


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order whatever shard wrote them: by every column that is not a float."""
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


# long on purpose: one distributed Airflow (a minute to start) walks the story in order, each step
# depending on the one before; splitting it would restart the cluster or share state between tests.
@pytest.mark.timeout(900)
def test_shards_share_two_workers_and_survive_a_killed_worker(cluster: Cluster):  # noqa: PLR0915
    from tests.support.airflow_api import Api, wait_for

    api = Api(cluster.url, cluster.token)
    reference = cluster.reference
    print(f"celery test set-up (s, from the start of the cluster fixture): {cluster.timings}")
    stages: dict[str, float] = {}
    mark = time.monotonic()

    def stage(name: str) -> None:
        nonlocal mark
        stages[name] = round(time.monotonic() - mark, 1)
        print(f"celery test stage {name!r}: {stages[name]} s")
        mark = time.monotonic()

    def run_of(dag_id: str) -> dict | None:
        runs = api.call("GET", f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
        return next((r for r in runs if day_of(r) == DAY), None)

    def state_of(dag_id: str) -> str | None:
        run = run_of(dag_id)
        assert run is None or run["state"] != "failed", f"{dag_id} failed; logs in {cluster.log_dir}"
        return run and run["state"]

    wait_for("the DAGs to be parsed", lambda: api.call("GET", "/dags")["total_entries"] >= 3, 180,
             lambda: api.call("GET", "/importErrors"))  # fmt: skip
    stage("dags parsed")
    api.call("PATCH", "/dags/sales_ingest", {"is_paused": False})
    wait_for("yesterday's ingest", lambda: state_of("sales_ingest") == "success", 300,
             lambda: run_of("sales_ingest"))  # fmt: skip
    stage("ingest")

    api.call("PATCH", "/dags/sales_forecast", {"is_paused": False})
    run_id = wait_for("the forecast run", lambda: (run_of("sales_forecast") or {}).get("dag_run_id"), 120,
                      lambda: run_of("sales_forecast"))  # fmt: skip
    run_path = f"/dags/sales_forecast/dagRuns/{quote(run_id, safe='')}"

    def shards() -> list[dict]:
        tis = api.call("GET", f"{run_path}/taskInstances?limit=100")["task_instances"]
        return [ti for ti in tis if ti["task_id"] == "train_shard" and ti["map_index"] >= 0]

    def victim() -> dict | None:
        """A shard running on a worker that has already finished one (so both workers show
        a success in the end): the first worker to finish a shard takes the next queued one."""
        tis = shards()
        if tis and all(ti["state"] in ("success", "failed", "upstream_failed") for ti in tis):
            raise AssertionError(f"every shard ended before one could be killed (make them longer): {tis}")
        done = {ti["hostname"] for ti in tis if ti["state"] == "success"}
        running = [ti for ti in tis if ti["state"] == "running" and ti["hostname"] in done]
        return running[0] if running else None

    killed = wait_for("a second shard running on one worker", victim, 300, shards, every=0.5)
    dead = killed["hostname"]
    (survivor,) = set(WORKERS) - {dead}
    cluster.workers.kill(dead)
    stage(f"until {dead} killed")
    wait_for("the forecast run", lambda: state_of("sales_forecast") == "success", 400,
             lambda: [(t["map_index"], t["state"], t["hostname"], t["try_number"]) for t in shards()])  # fmt: skip
    stage("forecast after the kill")

    final = shards()
    assert len(final) >= 4
    assert all(ti["state"] == "success" for ti in final)
    assert {ti["hostname"] for ti in final} == set(WORKERS), final
    tries = api.call("GET", f"{run_path}/taskInstances/train_shard/{killed['map_index']}/tries")["task_instances"]
    by_try = {t["try_number"]: t for t in tries}
    first, last = by_try[killed["try_number"]], by_try[max(by_try)]
    assert (first["hostname"], first["state"]) == (dead, "failed"), tries  # killed mid-shard
    assert (last["hostname"], last["state"]) == (survivor, "success"), tries  # retried on the other worker
    assert last["try_number"] == killed["try_number"] + 1

    # the same day, published by the single-process run on a copy of the lake
    for dataset in TABLES:
        got = read_s3_parquet(cluster.endpoint, f"{PREFIX}/{dataset}/run_date={DAY}/{DATA_FILE}")
        want = pd.read_parquet(reference / dataset / f"run_date={DAY}" / DATA_FILE)
        assert len(got) > 0
        pd.testing.assert_frame_equal(sorted_frame(got), sorted_frame(want), rtol=1e-9, atol=1e-9)
    curated = f"curated/sales_daily/dt={DAY}/{DATA_FILE}"
    pd.testing.assert_frame_equal(read_s3_parquet(cluster.endpoint, f"{PREFIX}/{curated}"),
                                  pd.read_parquet(reference / curated))  # fmt: skip
    forecasts = read_s3_parquet(cluster.endpoint, f"{PREFIX}/forecasts/run_date={DAY}/{DATA_FILE}")
    history = pd.concat(pd.read_parquet(p) for p in (reference / "curated" / "sales_daily").glob(f"dt=*/{DATA_FILE}"))
    series = set(history[["store_id", "item_id"]].itertuples(index=False, name=None))
    assert set(forecasts[["store_id", "item_id"]].itertuples(index=False, name=None)) == series  # none lost
    stage("compare")
    print(f"stages (s): {stages}")
