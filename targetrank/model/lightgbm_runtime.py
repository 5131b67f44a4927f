"""How targetrank runs LightGBM: deterministic training and threaded prediction.

Shared by the two estimators (:mod:`.precedence_classifier`, :mod:`.strategy_ranker`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

#: Training parameters that make LightGBM's results depend on the seed only.
DETERMINISTIC: dict[str, Any] = {
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


#: Rows per thread below which predicting in threads costs more than it saves.
_ROWS_PER_THREAD = 20_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def predict_rows(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray) -> np.ndarray:
    """``predict(X)`` on blocks of rows in a few Python threads, for genome-sized inputs.

    Rows are independent and LightGBM releases the GIL, so the result is identical to one call;
    each call stays single-threaded (no OpenMP), which avoids the oversubscription that makes
    ``n_jobs > 1`` slow on a loaded machine. Genome-wide TreeSHAP (100k rows) takes seconds.
    """
    n = min(_cores(), 4, X.shape[0] // _ROWS_PER_THREAD)
    if n < 2:
        return predict(X)
    with ThreadPoolExecutor(n) as pool:
        return np.concatenate(list(pool.map(predict, np.array_split(X, n))))
