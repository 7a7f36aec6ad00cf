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
# Built from the candidates' backtests of a series, in this order (a later one may read the earlier).
ENSEMBLES: tuple[Ensemble, ...] = (Combination(), TopPool(3))
FALLBACKS = (Zero(), RecentMean(), SeasonalNaiveBand())

BY_NAME: dict[str, Model] = {model.name: model for model in CANDIDATES}
# What ForecastConfig.candidates may name.
SELECTABLE = tuple([model.name for model in CANDIDATES] + [ensemble.name for ensemble in ENSEMBLES])
# Every value the forecasts table's ``model`` column can hold.
MODEL_NAMES = tuple(dict.fromkeys([*SELECTABLE, *(fallback.name for fallback in FALLBACKS)]))
