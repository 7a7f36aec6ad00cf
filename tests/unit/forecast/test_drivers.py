"""The drivers table: its checks, which row wins, the censoring rule, known-ahead columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salescast.forecast import drivers as dv
from salescast.forecast.engine import ForecastInputError

KEYS = pd.DataFrame({"store_id": ["S1", "S1", "S2"], "item_id": ["I1", "I2", "I1"]})
DAYS = pd.date_range("2024-03-01", periods=3, freq="D")


def table(rows: list[tuple], columns: tuple[str, ...] = ("promo",)) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "store_id", "item_id", *columns])


def aligned(rows: list[tuple], columns: tuple[str, ...] = ("promo",)) -> dict[str, np.ndarray]:
    frame, names = dv.prepare(table(rows, columns))
    return dv.align(frame, names, KEYS, DAYS)


def test_an_explicit_row_wins_over_every_star_row_whatever_the_order():
    promo = aligned([
        ("2024-03-01", "S1", "I1", 5.0),  # explicit first: order in the file must not matter
        ("2024-03-01", "*", "*", 1.0),
        ("2024-03-01", "S1", "*", 2.0),
        ("2024-03-01", "*", "I1", 3.0),
    ])["promo"]  # fmt: skip
    assert promo[:, 0].tolist() == [5.0, 2.0, 3.0]  # S1/I1 explicit, S1/I2 store row, S2/I1 item row
    assert np.isnan(promo[:, 1:]).all()  # no row, no value


def test_an_empty_cell_overrides_nothing():
    promo = aligned([("2024-03-02", "*", "*", 1.0), ("2024-03-02", "S1", "I1", None)])["promo"]
    assert promo[:, 1].tolist() == [1.0, 1.0, 1.0]


def test_rows_of_two_files_for_the_same_key_combine_and_a_repeated_value_is_no_conflict():
    values = aligned(
        [("2024-03-01", "S1", "I1", 1.0, None), ("2024-03-01", "S1", "I1", None, 0.5),
         ("2024-03-01", "S1", "I1", 1.0, None)],
        ("promo", "in_stock"),
    )  # fmt: skip
    assert (values["promo"][0, 0], values["in_stock"][0, 0]) == (1.0, 0.5)


def test_rows_for_unknown_series_and_days_are_ignored():
    promo = aligned([("2024-03-02", "S9", "I1", 1.0), ("2023-01-01", "S1", "I1", 1.0)])["promo"]
    assert np.isnan(promo).all()


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        ([("2024-03-01", "S1", "I1", 1.0), ("2024-03-01", "S1", "I1", 2.0)], ("promo",), "different values"),
        ([("2024-03-01", "S1", "I1", "yes")], ("promo",), "not numeric"),
        ([("2024-03-01", "S1", "I1", 1.5)], ("in_stock",), "between 0 and 1"),
        ([("2024-03-01", "S1", "*", 0.5)], ("store_open",), "must be 0"),
        ([("not a day", "S1", "I1", 1.0)], ("promo",), "unparseable date"),
    ],
)
def test_bad_tables_are_refused_with_the_reason(rows, columns, message):
    with pytest.raises(ForecastInputError, match=message):
        aligned(rows, columns)


def test_a_table_without_keys_or_drivers_is_refused():
    with pytest.raises(ForecastInputError, match="missing columns"):
        dv.prepare(pd.DataFrame({"date": ["2024-03-01"], "promo": [1]}))
    with pytest.raises(ForecastInputError, match="no driver column"):
        dv.prepare(table([("2024-03-01", "S1", "I1")], ()))


def test_censoring_rule_zero_and_mostly_unavailable_days_are_unknown_partly_available_scaled():
    values = aligned(
        [
            ("2024-03-01", "S1", "I1", 0.0, 1.0),
            ("2024-03-02", "S1", "I1", 0.4, 1.0),
            ("2024-03-03", "S1", "I1", 0.8, 1.0),
            ("2024-03-01", "S2", "*", None, 0.0),
        ],
        ("in_stock", "store_open"),
    )
    censored, exposure = dv.censoring(values, 3)
    assert censored.tolist() == [[True, True, False], [False, False, False], [True, False, False]]
    assert exposure[0].tolist() == [1.0, 1.0, 0.8]
    assert dv.censoring(aligned([("2024-03-01", "S1", "I1", 1.0)]), 3) is None  # no availability column


def test_known_ahead_needs_values_on_every_horizon_day_for_some_series():
    days = ("2024-03-01", "2024-03-02", "2024-03-03")
    rows = [(day, "S1", "I1", 1.0, None if day == days[-1] else 2.0, 0.5) for day in days]
    values = aligned(rows, ("promo", "price", "in_stock"))
    ahead, past = dv.known_ahead(values, ["promo", "price", "in_stock"], n_days=1)
    assert ahead == ["promo"]  # values on both horizon days
    assert past == ["price"]  # stops before the horizon; in_stock is neither (it has a fixed meaning)


def test_history_gaps_hold_the_last_value_and_a_driver_never_seen_is_zero():
    values = aligned(
        [("2024-03-02", "S1", "I1", 3.0), ("2024-03-03", "S1", "I1", 4.0), ("2024-03-01", "S2", "I1", 2.0)]
    )
    filled = dv.fill_history(values, ["promo"], n_days=3)["promo"]
    assert filled[0].tolist() == [3.0, 3.0, 4.0]  # the first day takes the first known value
    assert filled[1].tolist() == [0.0, 0.0, 0.0]  # no value at all
    assert filled[2].tolist() == [2.0, 2.0, 2.0]  # the last value holds
    horizon = dv.fill_history(values, ["promo"], n_days=2)["promo"]
    assert np.isnan(horizon[2, 2])  # the horizon is never filled: a guess is not a plan
