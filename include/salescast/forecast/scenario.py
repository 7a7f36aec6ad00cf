"""What-if runs (``python -m salescast forecast --scenario S``): the drivers of a scenario,
and its forecast beside the base one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salescast.forecast.drivers import KEYS, prepare


def with_scenario(base: pd.DataFrame, scenario: pd.DataFrame, after: pd.Timestamp) -> pd.DataFrame:
    """The drivers of a what-if (``--scenario``): for every (store_id, item_id, driver) the
    scenario gives a value for, its future values (days after ``after``, the history's last
    day) replace the base's; everything else, and the whole history, stays as in ``base``
    (the past is what happened; a scenario's rows for it are ignored)."""
    base, _ = prepare(base)
    scenario, names = prepare(scenario)
    scenario = scenario[scenario["date"] > after]
    out = base.copy()
    for name in names:
        given = scenario.loc[scenario[name].notna(), ["store_id", "item_id"]].drop_duplicates()
        if given.empty:
            continue
        if name not in out:
            out[name] = np.nan
        keyed = out[["store_id", "item_id"]].merge(given.assign(hit=True), how="left")["hit"].fillna(False)
        out.loc[keyed.to_numpy(dtype=bool) & (out["date"] > after).to_numpy(), name] = np.nan
    extra = scenario[[*KEYS, *names]]
    return pd.concat([out, extra], ignore_index=True)


def side_by_side(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """The two runs' forecasts per series and day: each quantile ``_base`` and ``_scenario``,
    and ``p50_change`` (scenario minus base)."""
    keys = ["store_id", "item_id", "date"]
    quantiles = [c for c in base.columns if c.startswith("p") and c[1:].isdigit()]
    both = base[keys + quantiles].merge(scenario[keys + quantiles], on=keys, suffixes=("_base", "_scenario"))
    both["p50_change"] = both["p50_scenario"] - both["p50_base"]
    return both
