"""Level 1: a genome-wide precedence prior, scored out-of-fold.

A LightGBM classifier learns which genes are clinically precedented targets (approved-drug target
or druggable-genome Tier 1) from the non-clinical feature table. Every gene's probability comes
from a model that never saw that gene's label (stratified K-fold, fixed seed), so the prior can
feed the strategy ranker without leaking, and its ROC-AUC / average precision are honest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from targetrank._types import ProgressCallback, no_progress
from targetrank.errors import ModelError
from targetrank.model.leakage import check_no_leakage
from targetrank.model.lightgbm_runtime import fit_in_threads
from targetrank.model.matrix import FeatureSelection, select_model_features, to_matrix

PRIOR_COLUMN = "prior_precedence"


@dataclass
class PriorResult:
    """Out-of-fold prior per gene, with metrics against baselines."""

    table: pl.DataFrame  # entrez_id, prior_precedence
    selection: FeatureSelection
    metrics: dict[str, Any] = field(default_factory=dict)


def _thresholds(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives at each distinct score, highest first.

    scikit-learn's ``confusion_matrix_at_thresholds`` for 0/1 labels without weights.
    """
    order = np.argsort(s)[::-1]  # any order of ties: counts are taken where a tie group ends
    ranked = s[order]
    ends = np.r_[np.flatnonzero(np.diff(ranked)), y.size - 1]
    tps = np.cumsum(y[order].astype(np.float64), dtype=np.float64)[ends]
    return tps, 1 + ends.astype(np.float64) - tps


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """``sklearn.metrics.roc_auc_score`` for 0/1 labels of both classes.

    The same arithmetic without its input validation (the bootstrap calls it 200 times).
    """
    tps, fps = _thresholds(y, s)
    if fps.shape[0] > 2:  # roc_curve's drop_intermediate
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        tps, fps = tps[keep], fps[keep]
    from scipy.integrate import trapezoid  # what scikit-learn integrates with

    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    return float(trapezoid(tps / tps[-1], fps / fps[-1]))


def _average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """``sklearn.metrics.average_precision_score`` for 0/1 labels with a positive.

    The same arithmetic without its input validation.
    """
    tps, fps = _thresholds(y, s)
    ps = tps + fps
    precision = np.r_[np.where(ps != 0, tps / np.where(ps != 0, ps, 1), 0.0)[::-1], 1.0]
    recall = np.r_[(tps / tps[-1])[::-1], 0.0]
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _fast_twin(metric: Any) -> Any:
    """The fast twin of a scikit-learn metric, or None (checked against it before use)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {roc_auc_score: _roc_auc, average_precision_score: _average_precision}.get(metric)


def _bootstrap_ci(
    y: np.ndarray, s: np.ndarray, metric: Any, rng: np.random.Generator, n: int = 200
) -> list[float]:
    fast = _fast_twin(metric)
    y = np.asarray(y)
    s = np.asarray(s, dtype=np.float64)
    if fast is None or not np.isin(y, (0, 1)).all() or fast(y, s) != metric(y, s):
        fast = metric  # another scikit-learn arithmetic: use it as it is
    values = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        values.append(fast(y[idx], s[idx]))
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


@dataclass
class PriorPlan:
    """The prior's K fold fits as independent jobs, and how their predictions become the prior.

    :func:`fit_prior` runs the jobs itself; the level-2 ranker may run them in its own thread
    pool beside its fits (same models, same numbers: each job is seeded by its fold).
    """

    jobs: list[Callable[[], np.ndarray]]
    finish: Callable[[list[np.ndarray]], PriorResult]

    def run(self, progress: ProgressCallback | None = None) -> PriorResult:
        """Run the fits (in threads) and build the prior; ``(step, done, total)`` progress."""
        report = progress or no_progress
        n = len(self.jobs)
        report("precedence prior", 0, n)
        return self.finish(
            fit_in_threads(self.jobs, lambda done: report("precedence prior", done, n))
        )


def plan_prior(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    seed: int = 0,
    n_folds: int = 5,
    params: dict[str, Any] | None = None,
    requested: list[str] | None = None,
) -> PriorPlan:
    """The fits of :func:`fit_prior`, not yet run (same arguments)."""
    if requested is not None:
        check_no_leakage(requested, labels="clinical-precedence (level 1)")
    selection = select_model_features(features, requested=requested)
    if not selection.used:
        raise ModelError(
            "No usable features for the precedence prior",
            input=", ".join(selection.refused) or "empty table",
            fix="use a feature table with localisation, expression or safety columns",
        )
    data = features.select("entrez_id", *selection.used).join(
        labels.select("entrez_id", "precedence"), on="entrez_id", how="left", maintain_order="left"
    )
    y = data["precedence"].fill_null(False).cast(pl.Int64).to_numpy()
    X = to_matrix(data, selection.used)
    from sklearn.model_selection import StratifiedKFold

    splits = list(StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X, y))

    from targetrank.model.precedence_classifier import PrecedenceClassifier

    def fold(k: int) -> np.ndarray:
        train, test = splits[k]
        model = PrecedenceClassifier(random_state=seed + k, **(params or {}))
        model.fit(X[train], y[train], feature_names=selection.used)
        return model.predict_proba(X[test])

    def finish(predictions: list[np.ndarray]) -> PriorResult:
        oof = np.zeros(len(y))
        for (_, test), p in zip(splits, predictions, strict=True):
            oof[test] = p
        return _prior_result(data, selection, y, oof, seed, n_folds)

    return PriorPlan([partial(fold, k) for k in range(n_folds)], finish)


def fit_prior(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    seed: int = 0,
    n_folds: int = 5,
    params: dict[str, Any] | None = None,
    requested: list[str] | None = None,
    progress: ProgressCallback | None = None,
) -> PriorResult:
    """Out-of-fold precedence probability for every gene of ``features``.

    Args:
        features: The gene feature table.
        labels: ``entrez_id`` + Boolean ``precedence`` (see :func:`targetrank.precedence_labels`).
        seed: Fold assignment and model seed.
        n_folds: K of the stratified K-fold.
        params: Extra :class:`PrecedenceClassifier` hyper-parameters.
        requested: Restrict to these feature columns (leaky ones are refused with an error).
        progress: ``(step, done, total)`` callback.
    """
    plan = plan_prior(
        features, labels, seed=seed, n_folds=n_folds, params=params, requested=requested
    )
    return plan.run(progress)


def _prior_result(
    data: pl.DataFrame,
    selection: FeatureSelection,
    y: np.ndarray,
    oof: np.ndarray,
    seed: int,
    n_folds: int,
) -> PriorResult:
    """Metrics of the out-of-fold prior against PubMed popularity and random."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(seed)
    metrics: dict[str, Any] = {
        "genes": len(y),
        "positives": int(y.sum()),
        "folds": n_folds,
        "model": {
            "roc_auc": float(roc_auc_score(y, oof)),
            "roc_auc_ci95": _bootstrap_ci(y, oof, roc_auc_score, rng),
            "average_precision": float(average_precision_score(y, oof)),
            "average_precision_ci95": _bootstrap_ci(y, oof, average_precision_score, rng),
        },
        "random": {"roc_auc": 0.5, "average_precision": float(y.mean())},
    }
    if "pubmed_count_focused" in data.columns:
        pop = data["pubmed_count_focused"].fill_null(0).cast(pl.Float64).to_numpy()
        metrics["pubmed_popularity"] = {
            "roc_auc": float(roc_auc_score(y, pop)),
            "average_precision": float(average_precision_score(y, pop)),
        }
    table = data.select("entrez_id").with_columns(pl.Series(PRIOR_COLUMN, oof))
    return PriorResult(table, selection, metrics)
