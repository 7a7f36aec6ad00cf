"""The Forecasts page's search, one rule for the series list and for its CSV download, so the
download holds the series the list shows for the same filters."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from salescast.dashboard import params

FIELDS = ("q", "store", "item")  # q: store or item


def filters(q: str | None, store: str | None, item: str | None) -> dict[str, str | None]:
    """The request's search fields, checked (printable, not too long); empty ones are None."""
    return {name: params.search_text(name, value) for name, value in zip(FIELDS, (q, store, item), strict=True)}


def _contains(values: pd.Series, text: str) -> pd.Series:
    return values.astype(str).str.contains(text, case=False, regex=False)


def series_mask(stores: pd.Series, items: pd.Series, chosen: Mapping[str, str | None]) -> pd.Series:
    """True where a series matches every filter given: ``store`` is found in its store id,
    ``item`` in its item id, ``q`` in either; case-insensitive text, never a pattern."""
    mask = pd.Series(True, index=stores.index)
    if chosen.get("store"):
        mask &= _contains(stores, str(chosen["store"]))
    if chosen.get("item"):
        mask &= _contains(items, str(chosen["item"]))
    if chosen.get("q"):
        mask &= _contains(stores, str(chosen["q"])) | _contains(items, str(chosen["q"]))
    return mask
