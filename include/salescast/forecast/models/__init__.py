"""Forecasting models, one small class each, and the registry the engine reads.

A model (:class:`base.Model`) has a name, says whether it can take a series (``check``),
estimates its parameters once (``fit``) and forecasts ``h`` periods after a training window
(``predict``). The engine owns the origins, the training windows (``window`` periods before
each origin) and the backtests, the same for every model. Adding a model is one class and
one line in :mod:`registry`.

Ensembles (:mod:`ensembles`) are built from other models' backtests; fallbacks
(:mod:`fallbacks`) forecast the series no bake-off can be run on.
"""
