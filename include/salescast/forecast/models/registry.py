"""Every model the engine knows, in bake-off order. Adding a model: one class, one line here."""

from __future__ import annotations

from salescast.forecast.models.autoreg import AutoReg, AutoRegDrivers, SdiffAr, SdiffArDrivers
from salescast.forecast.models.base import Model
from salescast.forecast.models.ensembles import Combination, Ensemble, TopPool
from salescast.forecast.models.ets import EtsDamped, EtsLog
from salescast.forecast.models.fallbacks import RecentMean, SeasonalNaiveBand, Zero
from salescast.forecast.models.intermittent import CrostonSba, Tsb
from salescast.forecast.models.naive import SeasonalNaive
from salescast.forecast.models.regressed import EtsDampedDrivers, ThetaDrivers
from salescast.forecast.models.theta import Theta

# Single models, backtested on every series they take (ties in the bake-off go to the earlier:
# a model with drivers wins only where the drivers make it strictly better). Models with
# ``drivers`` run only for series that have known-ahead drivers.
CANDIDATES: tuple[Model, ...] = (
    SeasonalNaive(),
    EtsDamped(),
    EtsLog(),
    Theta(),
    AutoReg(),
    SdiffAr(),
    CrostonSba(),
    Tsb(),
    AutoRegDrivers(),
    SdiffArDrivers(),
    EtsDampedDrivers(),
    ThetaDrivers(),
)
# The AR models with drivers screen the series for the costlier smoothing twins (``screened``):
# the AR regression and the twins' regression read the same drivers, so where the AR twins ran
# and none beat its plain model in the backtest, the drivers carry no effect the twins could use.
SCREENS: tuple[tuple[str, str], ...] = (("autoreg_drivers", "autoreg"), ("sdiff_ar_drivers", "sdiff_ar"))
NOT_SCREENED = "drivers: no AR model with drivers beat its plain twin in the backtest"


def screened_out(losses: dict[str, float]) -> bool:
    """Whether the screening twins that ran on this series (``losses``: backtest loss by model)
    all scored no better than their plain models; False when none of them ran."""
    pairs = [(losses[twin], losses[plain]) for twin, plain in SCREENS if twin in losses and plain in losses]
    return bool(pairs) and all(twin >= plain for twin, plain in pairs)


# Built from the candidates' backtests of a series, in this order (a later one may read the earlier).
ENSEMBLES: tuple[Ensemble, ...] = (Combination(), TopPool(3))
FALLBACKS = (Zero(), RecentMean(), SeasonalNaiveBand())
# Made outside the bake-off, for items with too little history of their own (salescast.forecast.cold_start).
COLD_START = "cold_start"

BY_NAME: dict[str, Model] = {model.name: model for model in CANDIDATES}
# What ForecastConfig.candidates may name.
SELECTABLE = tuple([model.name for model in CANDIDATES] + [ensemble.name for ensemble in ENSEMBLES])
# Every value the forecasts table's ``model`` column can hold.
MODEL_NAMES = tuple(dict.fromkeys([*SELECTABLE, *(fallback.name for fallback in FALLBACKS), COLD_START]))
