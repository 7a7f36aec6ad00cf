"""The synthetic data must look like retail, and be reproducible."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from salescast.ingest.parsing import parse_file
from salescast.ingest.standardize import landing_rows
from salescast_dev.generate import PanelSpec, black_friday, simulate_day, simulate_panel, write_landing

SPEC = PanelSpec(stores=4, items=30, seed=3)


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    return simulate_panel(SPEC, date(2023, 1, 1), date(2023, 12, 31))


def test_a_day_does_not_depend_on_the_range_it_was_generated_in():
    alone = simulate_day(SPEC, date(2023, 6, 7))
    within = simulate_panel(SPEC, date(2023, 6, 1), date(2023, 6, 10))
    pd.testing.assert_frame_equal(
        alone[["store_id", "item_id", "units"]].reset_index(drop=True),
        within[within["date"] == date(2023, 6, 7)][["store_id", "item_id", "units"]].reset_index(drop=True),
    )
    other_seed = simulate_day(PanelSpec(stores=4, items=30, seed=4), date(2023, 6, 7))
    assert not other_seed["units"].equals(alone["units"])


def test_weekly_pattern_weekends_sell_more(year):
    by_weekday = year.groupby(pd.to_datetime(year["date"]).dt.day_of_week)["units"].mean()
    assert by_weekday[5] > 1.3 * by_weekday[[0, 1, 2]].mean()


def test_holiday_spike_and_christmas_closure(year):
    total = year.groupby("date")["units"].sum()
    bf = black_friday(2023)
    same_weekday = [bf - timedelta(weeks=k) for k in (2, 3, 4, 5)]
    assert total[bf] > 1.8 * total[same_weekday].mean()
    assert total[date(2023, 12, 25)] < 0.2 * total[date(2023, 12, 18)]


def test_slow_movers_have_many_zero_days_and_returns_exist(year):
    zero_share = year.assign(zero=year["units"] == 0).groupby(["store_id", "item_id"])["zero"].mean()
    assert (zero_share > 0.5).sum() >= 5
    assert (year["units"] < 0).any()
    assert year["units"].std() > 0


def test_levels_differ_between_series(year):
    means = year.groupby(["store_id", "item_id"])["units"].mean()
    assert means.max() > 20 * means[means > 0].min()


def test_pos_lines_sum_to_the_simulated_daily_units(tmp_path):
    spec = PanelSpec(stores=3, items=15, seed=5, fmt="pos")
    day = date(2024, 11, 29)
    write_landing(spec, day, day, tmp_path)
    (file,) = [p for p in (tmp_path / day.isoformat()).iterdir() if p.suffix == ".csv"]
    rows = landing_rows(parse_file(file.name, file.read_bytes()))
    products = rows[rows["excluded"].isna()]
    got = products.groupby(["store_id", "item_id"])["units"].sum()
    expected = simulate_day(spec, day).set_index(["store_id", "item_id"])["units"]
    expected = expected[expected != 0]
    pd.testing.assert_series_equal(got[got != 0].sort_index(), expected.sort_index(), check_names=False)
    text = file.read_text()
    assert any(line.startswith("C") for line in text.splitlines()[1:])  # cancelled invoices
    assert (products["units"] < 0).any()


def test_generation_is_byte_for_byte_deterministic(tmp_path):
    day = date(2024, 3, 1)
    write_landing(SPEC, day, day, tmp_path / "a", defects=True, bad_file_rate=1.0)
    write_landing(SPEC, day, day, tmp_path / "b", defects=True, bad_file_rate=1.0)
    files_a = sorted(p.name for p in (tmp_path / "a" / day.isoformat()).iterdir())
    assert files_a == sorted(p.name for p in (tmp_path / "b" / day.isoformat()).iterdir())
    for name in files_a:
        assert (tmp_path / "a" / day.isoformat() / name).read_bytes() == (
            tmp_path / "b" / day.isoformat() / name
        ).read_bytes()
    assert "_READY" in files_a
    assert any(name.startswith("late_export_") for name in files_a)
    assert {".csv", ".gz", ".parquet"} <= {p.suffix for p in (tmp_path / "a" / day.isoformat()).iterdir()}
