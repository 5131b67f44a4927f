"""Vectorised helpers give exactly the results of their straightforward definitions."""

from __future__ import annotations

import numpy as np

from targetrank.model.evaluation import _random_expected, ndcg_at
from targetrank.model.lightgbm_scorer import _fold_lookup
from targetrank.pipeline import _drivers_text, _drivers_text_sorted, _intervals, _rank_within


def _reference(strategy, scores, symbols):
    ranks = np.zeros(len(scores), dtype=np.int64)
    for s in np.unique(strategy):
        idx = np.flatnonzero(strategy == s)
        order = sorted(idx, key=lambda i: (-scores[i], symbols[i]))
        ranks[order] = np.arange(1, len(idx) + 1)
    return ranks


def test_rank_within_matches_the_sort_definition_with_ties():
    rng = np.random.default_rng(0)
    n = 3000
    strategy = rng.choice(["b", "a", "c"], size=n).astype(object)
    symbols = rng.choice([f"G{i}" for i in range(400)], size=n).astype(object)  # repeats
    scores = np.round(rng.normal(size=n), 1)  # many exact ties
    scores[:5] = [0.0, -0.0, 0.0, -0.0, 0.0]
    assert np.array_equal(
        _rank_within(strategy, scores, symbols), _reference(strategy, scores, symbols)
    )
    reps = np.round(rng.normal(size=(4, n)), 1)
    low, high, p10 = _intervals(strategy, reps, symbols)
    ref = np.vstack([_reference(strategy, r, symbols) for r in reps])
    assert np.array_equal(low, np.floor(np.percentile(ref, 5, axis=0)))
    assert np.array_equal(high, np.ceil(np.percentile(ref, 95, axis=0)))
    assert np.array_equal(p10, (ref <= 10).mean(axis=0))
    assert _rank_within(strategy[:0], scores[:0], symbols[:0]).size == 0


def test_fold_lookup_is_minus_one_outside_training():
    folds = {5: 0, 2: 1, 9: 2}
    assert _fold_lookup(folds, np.array([9, 3, 2, 5, 100, 1])).tolist() == [2, -1, 1, 0, -1, -1]
    assert _fold_lookup({}, np.array([1, 2])).tolist() == [-1, -1]


def test_random_expected_is_the_per_permutation_ndcg_bit_for_bit():
    rng = np.random.default_rng(1)
    for size, k in [(40, 5), (40, 10), (7, 10), (300, 10), (2, 5)]:
        labels = rng.integers(0, 8, size).astype(float)
        labels[0] = 3.0
        ref_rng, new_rng = np.random.default_rng([size, k]), np.random.default_rng([size, k])
        reference = np.array(
            [ndcg_at(labels, ref_rng.permutation(size).astype(float), k) for _ in range(50)]
        )
        assert np.array_equal(_random_expected(labels, k, new_rng, 50), reference)
        assert ref_rng.random() == new_rng.random()  # the same draws were consumed
    a, b = np.random.default_rng(2), np.random.default_rng(2)
    assert np.isnan(_random_expected(np.zeros(5), 5, a, 3)).all()
    [b.permutation(5) for _ in range(3)]
    assert a.random() == b.random()


def test_driver_texts_match_the_stable_sort_definition():
    rng = np.random.default_rng(3)
    c = rng.normal(size=(2000, 41))
    c[rng.random(c.shape) < 0.5] = 0.0
    c[:300] = np.round(c[:300], 1)  # ties among the largest and smallest
    c[300:320, :-1] = 0.0
    c[320:340, :-1] = -0.0
    c[340:360, 7] = 2.0
    labels = [f"f{i}" for i in range(40)]
    assert _drivers_text(c, [], labels) == _drivers_text_sorted(c, labels)
    for width in (1, 2, 3):
        small = rng.normal(size=(6, width))
        assert _drivers_text(small, [], labels) == _drivers_text_sorted(small, labels)
    c[5, 3] = np.nan
    assert _drivers_text(c, [], labels) == _drivers_text_sorted(c, labels)


def test_prior_metrics_equal_scikit_learn_bit_for_bit():
    """The level-1 prior's bootstrap CIs use validation-free twins of scikit-learn's ROC-AUC and
    average precision: the same floats, ties included, so model cards do not move."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from targetrank.model.prior import _average_precision, _bootstrap_ci, _roc_auc

    rng = np.random.default_rng(0)
    for i in range(150):
        n = int(rng.integers(2, 1500))
        y = (rng.random(n) < rng.uniform(0.02, 0.6)).astype(np.int64)
        if y.min() == y.max():
            continue
        s = rng.normal(size=n)
        if i % 2:
            s = np.round(s, int(rng.integers(0, 2)))  # many exact ties
        if i % 5 == 0:
            s = rng.integers(0, 3, n).astype(float)
        assert _roc_auc(y, s) == roc_auc_score(y, s)
        assert _average_precision(y, s) == average_precision_score(y, s)

    y = (rng.random(3000) < 0.1).astype(np.int64)
    s = np.round(rng.random(3000), 2)
    for metric in (roc_auc_score, average_precision_score):
        draws, values = np.random.default_rng(7), []
        for _ in range(50):  # the definition: scikit-learn on each resample
            idx = draws.integers(0, len(y), len(y))
            if y[idx].min() != y[idx].max():
                values.append(metric(y[idx], s[idx]))
        expected = [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]
        assert _bootstrap_ci(y, s, metric, np.random.default_rng(7), n=50) == expected


def test_genome_validation_ci_equals_one_statistic_per_resample():
    from targetrank.model.validation import _ci

    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 40, 333):
        values = rng.integers(1, 20000, size).astype(float)
        flags = (rng.random(size) < 0.3).astype(float)
        for data, stat in ((values, np.median), (flags, np.mean)):
            draws, reference = np.random.default_rng(size), []
            for _ in range(300):
                reference.append(stat(data[draws.integers(0, data.size, data.size)]))
            expected = [float(np.percentile(reference, 2.5)), float(np.percentile(reference, 97.5))]
            assert _ci(data, stat, np.random.default_rng(size), n=300) == expected
