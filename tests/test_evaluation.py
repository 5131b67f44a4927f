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
        n_resamples=20,
        n_random=20,
    )
    assert set(table["method"]) == {"model", "oracle", "random"}
    assert set(table["setting"]) == {"curated", "background"}
    assert set(table["strategy"]) == {*context.strategies.ids, "mean"}
    oracle = table.filter((pl.col("method") == "oracle") & (pl.col("strategy") != "mean"))
    assert np.allclose(oracle["ndcg"].to_numpy(), 1.0)
    assert (table["ci_low"] <= table["ci_high"]).all()
    assert summary["recall_approved_top10"]["oracle"]["mean"] > 0


# ----------------------------------------------------------- vectorised NDCG vs the definition
def _dcg_loop(labels, scores, k):
    """The straightforward definition: a Python loop over tie groups (the former code)."""
    order = np.argsort(-scores, kind="stable")
    s, g = scores[order], labels[order]
    discounts = 1.0 / np.log2(np.arange(2, len(s) + 2))
    discounts[k:] = 0.0
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    return float(
        sum(g[a:b].mean() * discounts[a:b].sum() for a, b in zip(starts, ends, strict=True))
    )


def _ndcg_loop(labels, scores, k):
    if labels.size < 2 or labels.max() <= 0:
        return float("nan")
    return _dcg_loop(labels, scores.astype(float), k) / _dcg_loop(labels, labels.astype(float), k)


@pytest.mark.parametrize("ties", [True, False])
def test_vectorised_bootstrap_equals_the_loop_definition(ties):
    from targetrank.model.evaluation import _bootstrap

    rng = np.random.default_rng(7)
    for case in range(120):
        n = int(rng.integers(1, 120))  # well past k = 10; the loop oracle is slow on large n
        labels = rng.integers(0, 8, n).astype(float) * (rng.random(n) < 0.3)
        scores = rng.integers(0, 4, n).astype(float) if ties else rng.normal(size=n)
        for k in (5, 10):
            draws = np.random.default_rng([case, k])
            expected = np.array(
                [
                    _ndcg_loop(labels[idx], scores[idx], k)
                    for idx in (draws.integers(0, n, n) for _ in range(30))
                ]
            )
            got = _bootstrap(labels, scores, k, np.random.default_rng([case, k]), 30)
            assert np.array_equal(np.isnan(expected), np.isnan(got)), (case, k)
            ok = ~np.isnan(expected)
            assert np.abs(expected[ok] - got[ok]).max(initial=0.0) <= 1e-12, (case, k)
            if labels.max() > 0 and n > 1:
                assert ndcg_at(labels, scores, k) == pytest.approx(
                    _ndcg_loop(labels, scores, k), abs=1e-12
                )
