"""Evaluation metrics and the evaluation table."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import ndcg_score

from targetrank.model.evaluation import evaluate_scores, evaluation_rows, ndcg_at


def test_ndcg_matches_sklearn_including_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(3, 30))
        labels = rng.integers(0, 5, n).astype(float)
        scores = rng.integers(0, 4, n).astype(float)  # many ties
        if labels.max() == 0:
            continue
        for k in (5, 10):
            assert ndcg_at(labels, scores, k) == pytest.approx(ndcg_score([labels], [scores], k=k))


def test_perfect_and_reversed_orderings():
    labels = np.array([3.0, 2, 1, 0, 0])
    assert ndcg_at(labels, labels, 5) == pytest.approx(1.0)
    assert ndcg_at(labels, -labels, 5) < 0.7
    assert np.isnan(ndcg_at(np.zeros(4), np.arange(4.0), 5))


def test_evaluation_table_has_every_strategy_method_and_setting(fitted, context):
    keys = evaluation_rows(fitted.training_.rows, context.evidence, context.seed_entrez)
    rows = fitted.rows_for(context, keys.select("strategy", "entrez_id"))
    perfect = keys["label"].cast(pl.Float64).to_numpy()
    table, summary = evaluate_scores(
        keys,
        {"model": fitted.score(rows).scores, "oracle": perfect},
        n_bootstrap=20,
        n_random=20,
    )
    assert set(table["method"]) == {"model", "oracle", "random"}
    assert set(table["setting"]) == {"curated", "background"}
    assert set(table["strategy"]) == {*context.strategies.ids, "mean"}
    oracle = table.filter((pl.col("method") == "oracle") & (pl.col("strategy") != "mean"))
    assert np.allclose(oracle["ndcg"].to_numpy(), 1.0)
    assert (table["ci_low"] <= table["ci_high"]).all()
    assert summary["recall_approved_top10"]["oracle"]["mean"] > 0
