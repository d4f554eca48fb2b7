"""Train-test concentration study: tables, statistics, SA beside SGD."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.studies.traintest import pearson_interval, train_test_concentration


def test_pearson_interval_closed_form():
    lo, hi = pearson_interval(0.0, 103)
    half = math.tanh(stats.norm.ppf(0.975) / 10)
    assert lo == pytest.approx(-half) and hi == pytest.approx(half)
    lo, hi = pearson_interval(0.5, 50)
    assert lo < 0.5 < hi
    assert all(math.isnan(v) for v in pearson_interval(0.5, 3))


def test_small_study_tables():
    study = train_test_concentration(
        [2, 4],
        seeds=4,
        epochs=2,
        anneal_widths=[2],
        anneal_seeds=3,
        anneal_steps=10,
        seed=1,
    )
    assert len(study.runs) == 4 + 4 + 3
    rows = {(r["method"], r["width"]): r for r in study.summary}
    assert set(rows) == {("sgd", 2), ("sgd", 4), ("sa", 2)}
    te = study.values("sgd", "test")[4]
    tr = study.values("sgd", "train")[4]
    r = rows[("sgd", 4)]
    assert r["test_sd"] == pytest.approx(te.std(ddof=1))
    assert r["test_sd_se"] == pytest.approx(te.std(ddof=1) / math.sqrt(6))
    assert r["r"] == pytest.approx(np.corrcoef(tr, te)[0, 1])
    assert r["r_lo"] <= r["r"] <= r["r_hi"]
    assert all(0 <= x["test_accuracy"] <= 1 for x in study.runs)
    # SGD lowered the loss from the initialization (log 10 = 2.30 for uniform outputs)
    assert rows[("sgd", 4)]["train_mean"] < 2.3
    # the same seed gives the same numbers
    again = train_test_concentration(
        [2], seeds=4, epochs=2, anneal_widths=[], anneal_seeds=3, anneal_steps=10, seed=1
    )
    assert again.values("sgd", "test")[2] == pytest.approx(study.values("sgd", "test")[2])
    with pytest.raises(ValueError, match="widths"):
        train_test_concentration([0], seeds=4)
