"""How targetrank runs LightGBM: deterministic training, fits and predictions in threads.

Shared by the two estimators (:mod:`.precedence_classifier`, :mod:`.strategy_ranker`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

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


def fit_in_threads(
    jobs: Sequence[Callable[[], T]], on_done: Callable[[int], None] | None = None
) -> list[T]:
    """Run independent model fits in a few Python threads; results in job order.

    Each fit is single-threaded and seeded by its own arguments, so the models are identical to
    fitting one after another: LightGBM releases the GIL while it trains, so on a 2-core machine
    two fits run at once (a cold default run's 138 level-2 fits and the prior's K folds nearly
    halve). One piece of LightGBM state is process-wide: lambdarank's label-gain table, so
    concurrent ranker fits must use one gain table (``StrategyRanker`` pads its default to
    ``GAIN_LEVELS`` entries; a custom ``label_gain`` is one list for every fit of a scorer).
    ``on_done(n)`` is called from the calling thread after the n-th result in order, so a
    progress callback never runs in a worker thread.
    """

    def collect(results: Iterable[T]) -> list[T]:
        out: list[T] = []
        for result in results:
            out.append(result)
            if on_done is not None:
                on_done(len(out))
        return out

    n = min(_cores(), 4, len(jobs))
    if n < 2:
        return collect(job() for job in jobs)
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            return collect(future.result() for future in futures)
        except BaseException:  # a failed fit (or Ctrl-C) stops the fits not yet started
            for future in futures:
                future.cancel()
            raise
