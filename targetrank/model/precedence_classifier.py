"""Level 1 estimator: LightGBM classifier of clinically precedented targets (scikit-learn style).

``__init__`` stores hyper-parameters unchanged; ``fit`` validates, trains and returns self;
fitted attributes end in ``_``; results are deterministic for a given ``random_state``. The
out-of-fold prior built with it is :mod:`.prior`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from targetrank.errors import ModelError
from targetrank.model.lightgbm_runtime import DETERMINISTIC


class PrecedenceClassifier(BaseEstimator):
    """Level 1: genome-wide probability that a gene is a clinically precedented target.

    Args:
        n_estimators: Boosting rounds.
        learning_rate: Shrinkage.
        num_leaves: Leaves per tree.
        min_child_samples: Minimum genes per leaf.
        colsample_bytree: Feature fraction per tree.
        n_jobs: Threads (results are reproducible for a fixed value). One by default: on small
            shared machines OpenMP oversubscription slows LightGBM by orders of magnitude.
        random_state: Seed.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        colsample_bytree: float = 0.8,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(
        self, X: np.ndarray, y: np.ndarray, feature_names: Sequence[str] | None = None
    ) -> PrecedenceClassifier:
        """Fit on a gene × feature matrix and 0/1 labels."""
        import lightgbm as lgb

        y = np.asarray(y)
        if X.shape[0] != y.shape[0]:
            raise ModelError(
                "Feature matrix and labels differ in length",
                input=f"{X.shape[0]} rows vs {y.shape[0]} labels",
                fix="pass one label per gene",
            )
        if len(np.unique(y)) != 2:
            raise ModelError(
                "Precedence labels need both classes",
                input=f"classes found: {np.unique(y).tolist()}",
                fix="check the precedence label table",
            )
        self.model_ = lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            colsample_bytree=self.colsample_bytree,
            subsample=1.0,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            **DETERMINISTIC,
        )
        self.model_.fit(X, y.astype(int))
        self.feature_names_ = list(feature_names or [f"f{i}" for i in range(X.shape[1])])
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class per gene."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict_proba(X))[:, 1]
