"""Argument types shared by the command lines (``python -m salescast`` and the harness's
``python -m salescast_dev``): each refuses a bad value with a message saying what it wants,
never clamps one silently."""

from __future__ import annotations

import argparse
from datetime import date, timedelta


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def whole(text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})")
    return value


def at_least_one(text: str) -> int:
    """argparse type for counts (--jobs, --horizon, ...): a whole number >= 1, never silently clamped."""
    return whole(text, 1, 10**9, "a whole number of at least 1")


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a number strictly between 0 and 1 (got {text!r})")
    return value


def quantile_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(fraction(part) for part in text.split(",") if part.strip())
    except argparse.ArgumentTypeError:
        values = ()
    if not values:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated numbers strictly between 0 and 1, like 0.1,0.5,0.9 (got {text!r})"
        )
    return values


def freq(text: str) -> str:
    from salescast.contracts import freq_supported

    if not freq_supported(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not supported: use D, W or W-SUN (any W-XXX), or M")
    return text


def port(text: str) -> int:
    return whole(text, 1, 65535, "a port number 1-65535; default from SALESCAST_UI_PORT")


def date_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def holiday_list(text: str) -> tuple[str, ...]:
    """``--holidays US,GB`` (``none``: no holidays, whatever SALESCAST_HOLIDAYS says)."""
    from salescast.forecast.calendar import UnknownCountry, check_countries

    if text.strip().lower() == "none":
        return ()
    try:
        return check_countries([part.strip() for part in text.split(",") if part.strip()])
    except UnknownCountry as error:
        raise argparse.ArgumentTypeError(str(error)) from None
