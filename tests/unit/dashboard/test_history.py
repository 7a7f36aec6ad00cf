"""The sales index merges changed days in place of a rebuild: after a re-publish with other
numbers, an unpublished day and a day published again, every series' history is what the
lake's Parquet holds (read here with pandas), and only the changed days were read."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.support.dashboard_lake import publish_history

START, END = date(2025, 1, 1), date(2025, 1, 20)


@pytest.fixture
def lake(tmp_path: Path):
    from salescast.lake import Lake

    lake = Lake((tmp_path / "lake").as_uri())
    publish_history(lake, START, END)
    return lake


def expected(root: Path) -> dict[tuple[str, str], dict[str, float | None]]:
    """Series -> day -> units, from the published partitions only (no row on a published
    day = 0, a day in between that is not published = None)."""
    parts = {}
    for folder in sorted((root / "curated" / "sales_daily").glob("dt=*")):
        if (folder / "_SUCCESS").exists():
            parts[folder.name[3:]] = pd.read_parquet(folder / "part-0.parquet")
    first, last = date.fromisoformat(min(parts)), date.fromisoformat(max(parts))
    calendar = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    keys = {(s, i) for frame in parts.values() for s, i in zip(frame["store_id"], frame["item_id"], strict=True)}
    out = {key: {d: (0.0 if d in parts else None) for d in calendar} for key in keys}
    for value, frame in parts.items():
        for store, item, units in zip(frame["store_id"], frame["item_id"], frame["units"], strict=True):
            out[(store, item)][value] = float(units)
    return out


def assert_matches_lake(store, root: Path) -> None:
    want = expected(root)
    for (store_id, item_id), days in want.items():
        history = store.series_detail(store_id, item_id, None)["history"]
        assert history["dates"] == list(days), (store_id, item_id)
        for value, got, units in zip(history["dates"], history["units"], days.values(), strict=True):
            assert (got is None) == (units is None), (store_id, item_id, value)
            assert got is None or math.isclose(got, units), (store_id, item_id, value, got, units)


def republish(lake, day: date, frame: pd.DataFrame) -> None:
    from salescast.lake import SALES_DAILY
    from salescast.publish import DATA_FILE, publish_partition

    staged = lake.staging_dir(SALES_DAILY, day) / "run=test" / DATA_FILE
    lake.write_parquet(staged, frame)
    publish_partition(lake, staged, lake.curated_dir(day), {"dataset": "sales_daily", "run_id": "test"})


def reads_since(before: Counter) -> Counter:
    from salescast.dashboard import history

    return Counter(history.READS) - before


def test_republished_and_unpublished_days_are_merged_not_rebuilt(lake):
    from salescast.dashboard import history
    from salescast.dashboard.store import DashboardStore
    from salescast.lake import DATA_FILE

    root, store = Path(lake.root.path), DashboardStore(lake)
    before = Counter(history.READS)
    assert_matches_lake(store, root)
    assert reads_since(before) == Counter({d.isoformat(): 1 for d in pd.date_range(START, END).date})

    day = START + timedelta(days=9)
    original = lake.read_parquet(lake.curated_dir(day) / DATA_FILE)
    changed = original.iloc[1:].assign(units=original["units"].iloc[1:] * 3 + 7)  # first series: no sale now
    new_series = changed.iloc[:1].assign(store_id="S99", item_id="I-NEW", units=5.0)  # and one never seen
    republish(lake, day, pd.concat([changed, new_series], ignore_index=True))
    before = Counter(history.READS)
    assert_matches_lake(store, root)
    assert reads_since(before) == Counter({day.isoformat(): 1})  # the other days were not read again

    gone = START + timedelta(days=4)
    (lake.curated_dir(gone) / "_SUCCESS").unlink()  # unpublished (what a publish does first)
    before = Counter(history.READS)
    assert_matches_lake(store, root)
    assert store.series_detail("S99", "I-NEW", None)["history"]["units"][4] is None
    assert reads_since(before) == Counter()

    republish(lake, gone, lake.read_parquet(lake.curated_dir(gone) / DATA_FILE).assign(units=1.0))
    before = Counter(history.READS)
    assert_matches_lake(store, root)
    assert reads_since(before) == Counter({gone.isoformat(): 1})


def test_the_api_server_start_warms_the_index_in_the_background(lake, monkeypatch):
    """The root middleware sees the server's lifespan scope, lets it through at once and
    builds the sales index in a thread: the first series page then reads nothing."""
    from salescast.dashboard import history
    from salescast.dashboard.app import current_store
    from salescast.dashboard.asgi import LazyApp, WarmUp

    monkeypatch.setenv("SALESCAST_LAKE_URI", lake.uri)
    seen = []

    async def server_app(scope, receive, send) -> None:
        seen.append(scope["type"])

    built = LazyApp(lambda: server_app, "test")
    middleware = WarmUp(server_app, built)
    asyncio.run(middleware({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]
    middleware.thread.join(timeout=60)
    assert not middleware.thread.is_alive()
    store = current_store()  # the store the routes use for this lake
    assert store.lake.uri == lake.uri
    assert store._sales is not None
    assert len(store._sales.published) == (END - START).days + 1
    before = Counter(history.READS)
    assert_matches_lake(store, Path(lake.root.path))
    assert reads_since(before) == Counter()
