"""Holiday regressors from the ``holidays`` package (the featurization Amazon Forecast offered).

Three 0/1 columns per holiday name: the day itself and the days before and after it
(observed days count as the holiday: shops and commuters treat them alike). Christmas and
a minor holiday get their own effects, and so do their shoulders: Christmas Eve, Boxing
Day, the Friday after Thanksgiving, the Friday before a Monday holiday; Prophet's
``lower_window``/``upper_window`` of -1/+1 is the same idea. Countries are ISO codes such
as ``US`` or ``GB``; several are merged, names prefixed by the country.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

OBSERVED = " (observed)"
SHOULDERS = (0, -1, 1)  # the holiday, the day before, the day after


class UnknownCountry(ValueError):
    """A holiday country code the ``holidays`` package does not know."""


def check_countries(countries: Sequence[str]) -> tuple[str, ...]:
    """Upper-cased codes, each one the ``holidays`` package supports."""
    import holidays

    codes = tuple(c.strip().upper() for c in countries if c.strip())
    supported = holidays.list_supported_countries()
    unknown = [c for c in codes if c not in supported]
    if unknown:
        raise UnknownCountry(f"unknown holiday countries {unknown}: use ISO codes such as US, GB, DE")
    return codes


def holiday_days(countries: Sequence[str], years: range) -> dict[str, pd.DatetimeIndex]:
    """Every holiday name (``US:Christmas Day``) -> its days, observed days included."""
    import holidays

    names: dict[str, set] = {}
    for country in countries:
        calendar = holidays.country_holidays(country, years=years, observed=True)
        for day, label in calendar.items():
            for name in str(label).split("; "):
                key = f"{country}:{name.removesuffix(OBSERVED)}"
                names.setdefault(key, set()).add(pd.Timestamp(day))
    return {key: pd.DatetimeIndex(sorted(days)) for key, days in sorted(names.items())}


def holiday_matrix(dates: pd.DatetimeIndex, countries: Sequence[str]) -> np.ndarray:
    """Daily ``[len(dates), 3 * n_holidays]`` 0/1 matrix; zero columns when no country is set."""
    if not countries or len(dates) == 0:
        return np.zeros((len(dates), 0))
    days = pd.DatetimeIndex(dates).normalize()
    columns = []
    for on in holiday_days(countries, range(days.min().year, days.max().year + 1)).values():
        for shift in SHOULDERS:
            # a shoulder is never the holiday itself (e.g. when it is observed the day after)
            shoulder = (on + pd.Timedelta(days=shift)).difference(on) if shift else on
            columns.append(days.isin(shoulder))
    return np.column_stack(columns).astype(float) if columns else np.zeros((len(days), 0))


def period_holiday_matrix(periods: pd.PeriodIndex, countries: Sequence[str]) -> np.ndarray:
    """``[len(periods), n_holidays]`` 0/1: whether a day of each holiday falls in each period
    (a week or a month); zero columns when no country is set."""
    if not countries or len(periods) == 0:
        return np.zeros((len(periods), 0))
    first, last = periods.min().start_time, periods.max().end_time
    calendar = holiday_days(countries, range(first.year, last.year + 1))
    columns = [np.asarray(periods.isin(on.to_period(periods.freq)), dtype=float) for on in calendar.values()]
    return np.column_stack(columns) if columns else np.zeros((len(periods), 0))
