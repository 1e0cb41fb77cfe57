"""Regression evaluation: MAE, RMSE and R² equal scikit-learn's (overall and per target), a small
case by hand, constant targets make R² undefined (not 0), NaN refused, worst and residuals."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from kerastui.core.evaluation import common, evaluation_from_dict
from kerastui.core.evaluation.regression import RegressionEvaluation, evaluate


def test_a_small_case_worked_out_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.0, 4.0])  # errors 0.5, 0, -1, 0
    e = evaluate(y, p, ("price",), 0.3)
    assert e.mae == pytest.approx(1.5 / 4)
    assert e.rmse == pytest.approx(math.sqrt(1.25 / 4))
    assert e.r2 == pytest.approx(1 - 1.25 / 5)  # total sum of squares about the mean 2.5 is 5
    assert e.per_target == () and e.target_names == ("price",)
    assert e.worst(2).tolist() == [2, 0] and e.residuals()[:, 0].tolist() == [0.5, 0.0, -1.0, 0.0]
    assert e.headline == ("r2", pytest.approx(0.75)) and e.sample_count == 4
    assert [name for name, _ in e.summary_metrics()] == ["r2", "mae", "rmse"]


def test_several_targets_equal_scikit_learns_overall_and_per_target():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(300, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, 50.0]
    p = y + rng.normal(size=(300, 3)) * [0.3, 4.0, 20.0]
    e = evaluate(y, p, ("weight", "waist", "pulse"), 0.5)
    y, p = e.y_true, e.predictions  # as kept: 7 significant digits
    assert e.mae == pytest.approx(mean_absolute_error(y, p))
    assert e.rmse == pytest.approx(math.sqrt(mean_squared_error(y, p)))
    assert e.r2 == pytest.approx(r2_score(y, p))
    maes = mean_absolute_error(y, p, multioutput="raw_values")
    r2s = r2_score(y, p, multioutput="raw_values")
    for i, row in enumerate(e.per_target):
        assert row.name == ("weight", "waist", "pulse")[i]
        assert row.mae == pytest.approx(maes[i]) and row.r2 == pytest.approx(r2s[i])
        assert row.rmse == pytest.approx(math.sqrt(mean_squared_error(y[:, i], p[:, i])))
    assert e.metric("pulse.r2") == e.per_target[2].r2
    assert e.worst(3, target="pulse").tolist() == np.argsort(-np.abs(p[:, 2] - y[:, 2]))[:3].tolist()
    assert e.residuals("waist").shape == (300,)


def test_constant_targets_leave_r2_undefined_and_say_why():
    e = evaluate(np.full(5, 3.0), np.array([3.0, 2.0, 4.0, 3.0, 3.5]), ("t",), 0.1)
    assert e.r2 is None and e.undefined_reason == "R² is undefined: the test targets are constant: t (all 3)"
    assert e.mae == pytest.approx(0.5)
    assert json.loads(json.dumps(e.to_dict(), allow_nan=False))["r2"] is None


def test_nan_and_shape_problems_are_named():
    with pytest.raises(ValueError, match=r"1 of 4 predictions are NaN or infinite \(the first at sample 2, column 0\)"):
        evaluate(np.arange(4.0), np.array([1.0, 2.0, np.nan, 3.0]), ("t",), 0.1)
    with pytest.raises(ValueError, match="test targets are NaN"):
        evaluate(np.array([1.0, np.nan]), np.zeros(2), ("t",), 0.1)
    with pytest.raises(ValueError, match=r"predictions have shape \(3, 2\); expected \(3, 1\)"):
        evaluate(np.arange(3.0), np.zeros((3, 2)), ("t",), 0.1)


def test_json_round_trip_and_large_sets_without_values(monkeypatch):
    rng = np.random.default_rng(1)
    y = rng.normal(size=(20, 2))
    e = evaluate(y, y + 0.1, ("a", "b"), float("inf"))
    data = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert data["task"] == "regression" and {"mae", "rmse", "r2", "per_target"} <= set(data)
    back = evaluation_from_dict(data)
    assert isinstance(back, RegressionEvaluation) and back.to_dict() == e.to_dict()
    assert np.array_equal(back.residuals(), e.residuals())
    del data["rmse"]
    with pytest.raises(ValueError, match="rmse"):
        RegressionEvaluation.from_dict(data)
    monkeypatch.setattr(common, "MAX_STORED_VALUES", 10)
    small = RegressionEvaluation.from_dict(e.to_dict())
    assert small.predictions is None and small.mae == e.mae
    with pytest.raises(ValueError, match="saved without its 20 predictions"):
        small.worst(3)
