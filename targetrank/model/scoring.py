"""Scorers: one protocol for the LightGBM ranker, the transparent weighted score and custom code.

A scorer is fitted on a :class:`ScoringContext` (the genome-wide feature table, strategies,
evidence base, precedence labels, seed) and then scores (target, strategy) rows. Anything with
``fit(context)`` and ``score(rows)`` is a scorer; a plain callable ``rows -> scores`` is wrapped by
:func:`as_scorer`, so ``targetrank rank --scorer mymodule:myfunction`` and
``targetrank.rank(scorer=my_function)`` work wherever the LightGBM ranker does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import polars as pl

from targetrank.errors import ModelError, UsageError
from targetrank.model.protocol import Scorer, ScoreResult, ScoringContext
from targetrank.strategies import Weight, check_weight

__all__ = [
    "CallableScorer",
    "PopularityScorer",
    "ScoreResult",
    "Scorer",
    "ScoringContext",
    "WeightedScorer",
    "as_scorer",
]


class CallableScorer:
    """Wraps ``fn(rows) -> scores`` (a sequence, numpy array or polars Series) as a scorer."""

    def __init__(self, fn: Callable[[pl.DataFrame], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", "custom"))

    def fit(self, context: ScoringContext) -> CallableScorer:
        """Nothing to learn."""
        return self

    def score(self, rows: pl.DataFrame) -> ScoreResult:
        """Call the function and check it returned one finite number per row."""
        try:
            raw = self.fn(rows)
        except Exception as exc:
            raise ModelError(
                f"Custom scorer '{self.name}' failed: {type(exc).__name__}: {exc}",
                done="nothing was written",
                fix="fix the scoring function (it receives a polars DataFrame of rows)",
            ) from exc
        values = np.asarray(raw.to_numpy() if isinstance(raw, pl.Series) else raw, dtype=float)
        if values.shape != (rows.height,) or not np.isfinite(values).all():
            raise ModelError(
                f"Custom scorer '{self.name}' returned an unusable result",
                input=f"shape {values.shape} for {rows.height} rows; "
                f"{int((~np.isfinite(values)).sum()) if values.ndim == 1 else '?'} non-finite",
                fix="return one finite float per row, in row order",
            )
        return ScoreResult(values)


class WeightedScorer:
    """The transparent weighted score of the strategy file (or given weights).

    Each weighted feature is rank-normalised to [0, 1] across all genes (Booleans are 0/1);
    ``prefer = "low"`` flips it. A target's score is the weighted mean over the features it has
    values for: missing values are left out rather than counted as zero. Contributions are the
    weighted terms, so they sum to the score.

    Args:
        weights: ``{strategy_id: {feature: weight or Weight}}``; default: the strategy file.
    """

    name = "weighted"

    def __init__(self, weights: Mapping[str, Mapping[str, float | Weight]] | None = None) -> None:
        self.weights = weights

    def _weights_for(self, strategy_id: str) -> list[Weight]:
        if self.weights is not None and strategy_id in self.weights:
            out = []
            for feature, w in self.weights[strategy_id].items():
                weight = w if isinstance(w, Weight) else Weight(feature, float(w))
                check_weight(weight.weight, feature=feature, strategy_id=strategy_id)
                out.append(weight)
            return out
        return list(self.strategies_.get(strategy_id).weights)

    def fit(self, context: ScoringContext) -> WeightedScorer:
        """Record the genome-wide distribution of every weighted feature, per strategy."""
        self.strategies_ = context.strategies
        genome = context.rows()
        self.reference_: dict[tuple[str, str], np.ndarray] = {}
        self.features_: list[str] = []
        for strategy in context.strategies:
            part = genome.filter(pl.col("strategy") == strategy.id)
            for w in self._weights_for(strategy.id):
                if w.feature not in part.columns:
                    raise UsageError(
                        f"Weighted feature '{w.feature}' is not in the feature table",
                        input=f"strategy '{strategy.id}'",
                        fix="use a column listed by `targetrank features list`",
                    )
                values = part[w.feature].cast(pl.Float64).drop_nulls().to_numpy()
                self.reference_[(strategy.id, w.feature)] = np.sort(values)
                if w.feature not in self.features_:
                    self.features_.append(w.feature)
        return self

    def _normalise(self, strategy_id: str, feature: str, values: np.ndarray) -> np.ndarray:
        from targetrank.features.strategy import percentiles

        return percentiles(self.reference_[(strategy_id, feature)], values)

    def score(self, rows: pl.DataFrame) -> ScoreResult:
        """Weighted mean of normalised features per row, with per-feature contributions."""
        names = self.features_
        contrib = np.zeros((rows.height, len(names) + 1))
        scores = np.zeros(rows.height)
        strategy_col = rows["strategy"].to_numpy()
        for strategy in self.strategies_:
            mask = strategy_col == strategy.id
            if not mask.any():
                continue
            part = rows.filter(pl.col("strategy") == strategy.id)
            terms = []
            weights = []
            for w in self._weights_for(strategy.id):
                values = part[w.feature].cast(pl.Float64).to_numpy()
                norm = self._normalise(strategy.id, w.feature, values)
                if w.prefer == "low":
                    norm = 1 - norm
                terms.append((names.index(w.feature), norm))
                weights.append(w.weight)
            wsum = np.zeros(mask.sum())
            for (_, norm), weight in zip(terms, weights, strict=True):
                wsum += np.where(np.isnan(norm), 0.0, weight)
            idx = np.flatnonzero(mask)
            for (col, norm), weight in zip(terms, weights, strict=True):
                with np.errstate(invalid="ignore", divide="ignore"):
                    term = np.where(np.isnan(norm) | (wsum == 0), 0.0, weight * norm / wsum)
                contrib[idx, col] += term
            scores[idx] = contrib[idx, :-1].sum(axis=1)
        return ScoreResult(scores, contrib, list(names))


class PopularityScorer:
    """Baseline: rank by focused PubMed article count (literature popularity)."""

    name = "pubmed_popularity"

    def fit(self, context: ScoringContext) -> PopularityScorer:
        """Nothing to learn."""
        return self

    def score(self, rows: pl.DataFrame) -> ScoreResult:
        """Score = focused PubMed count (missing counts as 0 articles)."""
        return ScoreResult(rows["pubmed_count_focused"].fill_null(0).cast(pl.Float64).to_numpy())


def as_scorer(spec: str | Scorer | Callable[[pl.DataFrame], Any] | None) -> Scorer:
    """A scorer from a name (``lightgbm``, ``weighted``), ``module:function``, an object or a callable."""
    if spec is None or spec == "lightgbm":
        from targetrank.model.lightgbm_scorer import LightGBMScorer

        return LightGBMScorer()
    if isinstance(spec, str):
        if spec == "weighted":
            return WeightedScorer()
        if spec in ("pubmed", "popularity"):
            return PopularityScorer()
        if ":" not in spec:
            raise UsageError(
                f"Unknown scorer '{spec}'",
                fix="use lightgbm, weighted, or module:function for your own scorer",
            )
        module_name, _, attr = spec.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise UsageError(
                f"Cannot load scorer '{spec}'",
                cause=f"{type(exc).__name__}: {exc}",
                fix="give an importable module:function (the module must be on PYTHONPATH)",
            ) from exc
        return as_scorer(obj() if isinstance(obj, type) else obj)
    if isinstance(spec, Scorer):
        return spec
    if callable(spec):
        return CallableScorer(spec)
    raise UsageError(f"Not a scorer: {spec!r}", fix="pass a name, a Scorer or a callable")
