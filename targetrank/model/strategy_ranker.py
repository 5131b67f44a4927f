"""Level 2 estimator: LightGBM lambdarank over (target, strategy) rows (scikit-learn style).

``__init__`` stores hyper-parameters unchanged; ``fit`` validates, trains and returns self;
fitted attributes end in ``_``; results are deterministic for a given ``random_state``. The
scorer that fits it out-of-fold with bootstrap refits is :mod:`.lightgbm_scorer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from targetrank.errors import ModelError
from targetrank.model.lightgbm_runtime import DETERMINISTIC, predict_rows

#: Length of the default gain table: linear gains for relevance grades 0..7
#: (:data:`targetrank.evidence.MAX_GRADE` + 1; tested equal).
GAIN_LEVELS = 8


#: Marks, in :meth:`StrategyRanker.to_string`, where a strategy's own trees begin.
_OWN_MARK = "\n# targetrank own trees for "


class StrategyRanker(BaseEstimator):
    """Level 2: LightGBM lambdarank over (target, strategy) rows; query groups = strategies.

    Parameters are sized for small groups (tens of curated targets plus a background sample).
    ``label_gain`` defaults to linear gains 0..max grade, gentler than LightGBM's 2^g - 1.

    ``own_trees`` maps a strategy's indicator column (``strategy_is_<id>``) to a number of trees
    fitted on that strategy's rows alone, boosting on from the shared model's scores (its init
    score). The shared trees pool what all strategies' labels say; a strategy's own trees add
    what only its labels say, and touch no other strategy's rows: changing or dropping them
    leaves every other strategy's scores unchanged. They are shallow (``own_num_leaves``)
    because one strategy has tens of labelled targets.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 5,
        colsample_bytree: float = 0.8,
        max_bin: int = 63,
        label_gain: Sequence[float] | None = None,
        n_jobs: int = 1,
        random_state: int = 0,
        own_trees: Mapping[str, int] | None = None,
        own_num_leaves: int = 3,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_bin = max_bin
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.label_gain = label_gain
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.own_trees = own_trees
        self.own_num_leaves = own_num_leaves

    def _gains(self, max_label: int) -> list[float]:
        gains = list(self.label_gain) if self.label_gain is not None else []
        if not gains:
            # always at least GAIN_LEVELS entries, whatever labels this fit sees: LightGBM keeps
            # lambdarank's gains in one process-wide table, so concurrent fits (two at a time,
            # see lightgbm_runtime.fit_in_threads) must all write the same one. A bootstrap
            # sample without a grade-7 target once made a 7-entry table while another thread
            # trained with label 7 ("Label 7 is not less than the number of label mappings").
            # Gains of labels a fit does not see never enter its NDCG, so models are unchanged
            gains = [float(i) for i in range(max(max_label + 1, GAIN_LEVELS))]
        return gains

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        group: Sequence[int],
        feature_names: Sequence[str] | None = None,
    ) -> StrategyRanker:
        """Fit on rows sorted by group; ``group`` lists consecutive group sizes."""
        y = np.asarray(y)
        sizes = [int(g) for g in group]
        if sum(sizes) != X.shape[0] or X.shape[0] != y.shape[0]:
            raise ModelError(
                "Ranker groups do not match the rows",
                input=f"{X.shape[0]} feature rows, {y.shape[0]} labels, group sizes sum to "
                f"{sum(sizes)} ({sizes})",
                cause="rows must be sorted by strategy and every row belong to one group",
                fix="build the training table with targetrank.model.training",
            )
        if any(s < 2 for s in sizes):
            raise ModelError(
                "A ranker group has fewer than 2 rows",
                input=f"group sizes {sizes}",
                cause="a strategy has no targets besides one row, so nothing can be ranked",
                fix="add evidence targets or background genes to that strategy",
            )
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ModelError(
                "Ranker labels must be non-negative integers",
                input=f"labels {sorted(set(y.tolist()))[:10]}",
                fix="use the graded relevance from targetrank.evidence.relevance_grade",
            )
        gains = self._gains(int(y.max()))
        if y.max() >= len(gains):
            raise ModelError(
                f"Label {int(y.max())} has no gain",
                input=f"label_gain has {len(gains)} entries",
                fix="give one gain per grade 0..max",
            )
        names = list(feature_names or [f"f{i}" for i in range(X.shape[1])])
        own = {k: int(v) for k, v in (self.own_trees or {}).items() if int(v) > 0}
        missing = [k for k in own if k not in names]
        if missing:
            raise ModelError(
                "Own trees are asked for strategies whose indicator column is not a feature",
                input=f"own_trees for {', '.join(missing)}",
                done="the ranker was not trained",
                cause="a strategy's own trees apply to the rows its indicator column flags",
                fix="give own_trees only for strategies of this run (strategy_is_<id> columns)",
            )
        self.model_ = self._ranker(self.n_estimators, self.num_leaves, gains)
        self.model_.fit(X, y, group=sizes)
        self.booster_ = self.model_.booster_
        self.feature_names_ = names
        self.n_features_in_ = X.shape[1]
        self.own_boosters_: dict[str, Any] = {}
        if own:
            shared = np.asarray(self.booster_.predict(X, num_threads=self.n_jobs))
            start = 0
            for size in sizes:
                rows = slice(start, start + size)
                start += size
                flagged = [k for k in own if np.all(X[rows, names.index(k)] == 1)]
                if not flagged or y[rows].max() == 0:  # nothing this group's labels can add
                    continue
                model = self._ranker(own[flagged[0]], self.own_num_leaves, gains)
                model.fit(X[rows], y[rows], group=[size], init_score=shared[rows])
                self.own_boosters_[flagged[0]] = model.booster_
        return self

    def _ranker(self, n_estimators: int, num_leaves: int, gains: list[float]) -> Any:
        import lightgbm as lgb

        return lgb.LGBMRanker(
            objective="lambdarank",
            n_estimators=n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=num_leaves,
            min_child_samples=self.min_child_samples,
            colsample_bytree=self.colsample_bytree,
            max_bin=self.max_bin,
            label_gain=gains,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            **DETERMINISTIC,
        )

    def to_string(self) -> str:
        """The fitted model in LightGBM's text format (exact: predictions round-trip bit for bit)."""
        check_is_fitted(self, "booster_")
        parts = [str(self.booster_.model_to_string())]
        for column, booster in getattr(self, "own_boosters_", {}).items():
            parts.append(f"{_OWN_MARK}{column}\n{booster.model_to_string()}")
        return "".join(parts)

    @classmethod
    def from_string(
        cls, text: str, *, feature_names: Sequence[str], params: dict[str, Any] | None = None
    ) -> StrategyRanker:
        """A fitted ranker from :meth:`to_string` output (no training; for the model cache)."""
        import lightgbm as lgb

        self = cls(**(params or {}))
        shared, *own = text.split(_OWN_MARK)
        self.booster_ = lgb.Booster(model_str=shared)
        self.own_boosters_ = {}
        for part in own:
            column, model = part.split("\n", 1)
            self.own_boosters_[column] = lgb.Booster(model_str=model)
        self.feature_names_ = list(feature_names)
        self.n_features_in_ = int(self.booster_.num_feature())
        return self

    def _add_own(self, X: np.ndarray, out: np.ndarray, **kwargs: Any) -> np.ndarray:
        """``out`` plus each strategy's own trees on the rows its indicator flags."""
        for column, booster in getattr(self, "own_boosters_", {}).items():
            flagged = X[:, self.feature_names_.index(column)] == 1
            if flagged.any():
                out[flagged] += booster.predict(X[flagged], num_threads=self.n_jobs, **kwargs)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw lambdarank scores (comparable within a strategy only)."""
        check_is_fitted(self, "booster_")
        booster, threads = self.booster_, self.n_jobs
        out = predict_rows(lambda rows: np.asarray(booster.predict(rows, num_threads=threads)), X)
        return self._add_own(X, out)

    def explain(self, X: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP contributions, shape (n, n_features + 1); the last column is the bias.

        Each row sums to the raw score returned by :meth:`predict` (own trees included).
        """
        check_is_fitted(self, "booster_")
        booster, threads = self.booster_, self.n_jobs
        out = predict_rows(
            lambda rows: np.asarray(booster.predict(rows, pred_contrib=True, num_threads=threads)),
            X,
        )
        return self._add_own(X, out, pred_contrib=True)
