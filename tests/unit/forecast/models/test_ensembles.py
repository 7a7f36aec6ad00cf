from __future__ import annotations

import numpy as np

from salescast.forecast.backtest import CandidateResult
from salescast.forecast.metrics import ScoreSums
from salescast.forecast.models.ensembles import Combination, TopPool


def scored(name: str, loss: float) -> CandidateResult:
    result = CandidateResult(name, ScoreSums((0.5,)), np.zeros((1, 2)), np.zeros(2))
    result.sums.ql[:] = loss
    return result


def test_combination_averages_the_members_that_ran_in_their_order():
    singles = [scored("seasonal_naive", 0.1), scored("ets_damped", 3.0), scored("theta", 2.0)]
    assert Combination().members(singles) == ("ets_damped", "theta")  # seasonal naive is no member
    assert Combination().members(singles[:2]) is None  # one member is no combination
    assert Combination().describe(("ets_damped", "theta")) == ""


def test_top_pool_takes_the_three_lowest_losses_ties_in_registry_order():
    singles = [scored("seasonal_naive", 9.0), scored("ets_damped", 1.0), scored("theta", 2.0),
               scored("autoreg", 2.0), scored("sdiff_ar", 5.0)]  # fmt: skip
    assert TopPool(3).members(singles) == ("ets_damped", "theta", "autoreg")
    assert TopPool(3).members(singles[:2]) is None
    assert TopPool(3).describe(("a", "b", "c")) == ": mean of a, b, c"
