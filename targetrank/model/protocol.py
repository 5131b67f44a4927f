"""The scorer contract: what a scorer learns from, what it returns, and the protocol it follows.

Kept apart from the scorers themselves (:mod:`targetrank.model.scoring`) so the LightGBM ranker
and the weighted score both depend on it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import polars as pl

from targetrank._types import ProgressCallback, no_progress
from targetrank.model.rows import strategy_rows
from targetrank.strategies import StrategySet


@dataclass
class ScoringContext:
    """Everything a scorer may learn from."""

    features: pl.DataFrame
    strategies: StrategySet
    evidence: pl.DataFrame
    labels: pl.DataFrame
    seed_entrez: list[int]
    seed: int = 0
    progress: ProgressCallback = no_progress

    def rows(self, entrez_ids: Sequence[int] | None = None) -> pl.DataFrame:
        """(gene, strategy) rows with strategy-conditioned features.

        Every gene's rows (``entrez_ids=None``: fitting, genome ranks, validation each ask for
        them) are built once per context and features/strategies objects.
        """
        if entrez_ids is not None:
            return strategy_rows(self.features, self.strategies, entrez_ids)
        made = self.__dict__.get("_all_rows")
        if made is None or made[0] is not self.features or made[1] is not self.strategies:
            made = (self.features, self.strategies, strategy_rows(self.features, self.strategies))
            self.__dict__["_all_rows"] = made
        return made[2].clone()  # a clone: a caller may change its frame in place


@dataclass
class ScoreResult:
    """Scores for the rows given to :meth:`Scorer.score`, in the same order.

    Attributes:
        scores: One score per row (comparable within a strategy).
        contributions: Optional per-feature contributions, shape (n, len(feature_names) + 1),
            last column the bias; each row sums to its score.
        feature_names: Names of the contribution columns (without the bias).
        replicates: Optional (B, n) scores of a bootstrap ensemble, for rank intervals.
        out_of_fold: Optional Boolean per row: scored by models that never saw the target's labels.
    """

    scores: np.ndarray
    contributions: np.ndarray | None = None
    feature_names: list[str] = field(default_factory=list)
    replicates: np.ndarray | None = None
    out_of_fold: np.ndarray | None = None


@runtime_checkable
class Scorer(Protocol):
    """The scorer protocol."""

    name: str

    def fit(self, context: ScoringContext) -> Scorer:
        """Learn from the context (may do nothing)."""
        ...

    def score(self, rows: pl.DataFrame) -> ScoreResult:
        """Score (target, strategy) rows."""
        ...
