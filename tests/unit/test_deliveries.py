"""The expected-deliveries rule (salescast.deliveries), on hand-made delivery calendars."""

from __future__ import annotations

from datetime import date, timedelta

from salescast.deliveries import DeliveryRule

D = date(2025, 3, 26)  # a Wednesday


def calendar(days: int, stores: dict[str, set[int]] | None = None, every: tuple[str, ...] = ()) -> dict:
    """``days`` published days before D; ``every`` stores deliver daily, ``stores`` only on the
    listed offsets (1 = the day before D)."""
    out = {}
    for n in range(1, days + 1):
        day = (D - timedelta(days=n)).isoformat()
        out[day] = frozenset(every) | frozenset(s for s, offsets in (stores or {}).items() if n in offsets)
    return out


def test_a_store_that_delivered_daily_and_is_absent_today_is_missing():
    rule = DeliveryRule()
    assert rule.missing(D, frozenset({"S01", "S02"}), calendar(14, every=("S01", "S02", "S03"))) == ["S03"]


def test_a_store_closed_every_wednesday_is_not_expected_on_wednesdays():
    weekdays_only = {n for n in range(1, 15) if n % 7}  # offsets 7 and 14 are Wednesdays
    rule = DeliveryRule()
    assert rule.missing(D, frozenset({"S01"}), calendar(14, {"S02": weekdays_only}, every=("S01",))) == []
    thursday = D + timedelta(days=1)
    history = calendar(14, {"S02": weekdays_only}, every=("S01",)) | {D.isoformat(): frozenset({"S01"})}
    assert rule.missing(thursday, frozenset({"S01"}), history) == ["S02"]


def test_rare_stores_retired_stores_and_short_histories_are_not_expected():
    rule = DeliveryRule(retired=frozenset({"S03"}))
    rare = calendar(14, {"S02": {7, 14, 3}}, every=("S01", "S03"))
    assert rule.missing(D, frozenset({"S01"}), rare) == []  # S02: 3 of 14 days; S03 retired
    assert DeliveryRule().missing(D, frozenset(), calendar(3, every=("S01",))) == []  # 3 days: too few


def test_a_store_that_stopped_delivering_stops_being_expected():
    """Missing for a week: still expected (half the days); missing eight days: not any more."""
    rule = DeliveryRule()
    week = calendar(14, {"S02": set(range(8, 15))}, every=("S01",))
    assert rule.missing(D, frozenset({"S01"}), week) == ["S02"]
    longer = calendar(14, {"S02": set(range(9, 15))}, every=("S01",))
    assert rule.missing(D, frozenset({"S01"}), longer) == []


def test_missing_by_day_finds_every_day_of_a_history():
    history = calendar(20, every=("S01", "S02")) | {D.isoformat(): frozenset({"S01"})}
    gap = (D - timedelta(days=10)).isoformat()
    history[gap] = frozenset({"S02"})
    assert DeliveryRule().missing_by_day(history) == {gap: ["S01"], D.isoformat(): ["S02"]}
