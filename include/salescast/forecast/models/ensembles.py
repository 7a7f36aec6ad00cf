"""Ensembles: forecasts averaged from other models, chosen from their backtests.

An ensemble picks its members from the single models' backtest results of a series; the
engine averages the members' paths and scores the mean like any model, so an ensemble wins
the bake-off only where it backtests best.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol


class Scored(Protocol):
    """What an ensemble reads of a single model's backtest."""

    name: str

    def loss(self) -> float: ...


class Ensemble(Protocol):
    name: ClassVar[str]

    def members(self, singles: Sequence[Scored]) -> tuple[str, ...] | None:
        """The models to average, in averaging order; None: no ensemble for this series."""

    def describe(self, members: tuple[str, ...]) -> str:
        """What the chosen-model reason adds when this ensemble wins."""


class Combination:
    """The equal-weight mean of ETS, Theta and ARIMA-type models, where two or more ran.

    Such combinations were among the most accurate methods of the M3 and M4 competitions,
    and far less exposed to an unlucky model choice on a few backtest windows than any
    single one."""

    name: ClassVar[str] = "combo"
    MEMBERS: ClassVar[tuple[str, ...]] = ("ets_damped", "ets_log", "theta", "autoreg", "sdiff_ar")

    def members(self, singles: Sequence[Scored]) -> tuple[str, ...] | None:
        ran = tuple(s.name for s in singles if s.name in self.MEMBERS)
        return ran if len(ran) >= 2 else None

    def describe(self, members: tuple[str, ...]) -> str:
        return ""


class TopPool:
    """Forecast pooling: the mean of the ``size`` single models with the lowest backtest loss
    (ties: registry order). Picking one model on a few windows is noisy, averaging all keeps
    the poor ones; pooling the few best is the middle way (Kourentzes, Barrow & Petropoulos
    2019, "Another look at forecast selection and combination: evidence from forecast
    pooling")."""

    name: ClassVar[str] = "top3"

    def __init__(self, size: int = 3) -> None:
        self.size = size

    def members(self, singles: Sequence[Scored]) -> tuple[str, ...] | None:
        ranked = sorted(singles, key=lambda s: s.loss())
        return tuple(s.name for s in ranked[: self.size]) if len(ranked) >= self.size else None

    def describe(self, members: tuple[str, ...]) -> str:
        return f": mean of {', '.join(members)}"
