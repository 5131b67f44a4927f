"""Step ``targetrank evaluate``: the ranker out-of-fold against PubMed, weighted, random."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from targetrank._atomic import atomic_open
from targetrank._types import (
    MIN_RESAMPLES,
    NoticeCallback,
    ProgressCallback,
    no_progress,
)
from targetrank.assemble import evaluate_fitted, fit_scorer, genome_validation_of, model_card_of
from targetrank.errors import UsageError
from targetrank.inputs import load_inputs
from targetrank.results import Evaluation


def evaluate(
    strategies: Sequence[str] | None = None,
    features: str | Path = "snapshot",
    seed: int = 0,
    *,
    weights: str | Path | dict[str, dict[str, float]] | None = None,
    strategies_file: str | Path | None = None,
    n_resamples: int = 500,
    progress: ProgressCallback | None = None,
    ranker_options: dict[str, Any] | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    notice: NoticeCallback | None = None,
    n_bootstrap: int | None = None,
) -> Evaluation:
    """Evaluate the LightGBM ranker out-of-fold against PubMed, weighted and random baselines.

    ``n_resamples``: bootstrap resamples of the evaluated targets for the 95 % confidence
    intervals (the ranker's own bootstrap refits are the ranker option ``n_refits``; the model
    is evaluated without them). ``n_bootstrap`` is its deprecated name. ``cache``, ``cache_dir``
    and ``notice`` work as in :func:`rank`.
    """
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    if n_bootstrap is not None:
        warnings.warn(
            "evaluate(n_bootstrap=...) is now evaluate(n_resamples=...) (bootstrap resamples "
            "of the evaluated targets); 'n_bootstrap' will be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        n_resamples = n_bootstrap
    if n_resamples < MIN_RESAMPLES:  # before fitting: fewer resamples give no interval
        raise UsageError(
            f"{n_resamples} bootstrap resamples cannot give a 95% interval",
            input=f"n_resamples={n_resamples}",
            done="nothing was computed",
            fix=f"use at least {MIN_RESAMPLES} (default 500), e.g. --resamples 200",
        )
    report = progress or no_progress
    inputs = load_inputs(
        strategies=strategies,
        strategies_file=strategies_file,
        weights=weights,
        features=features,
    )
    context = inputs.context(seed, report)
    model = LightGBMScorer(**{"n_refits": 0, **(ranker_options or {})})
    fit_scorer(model, context, cache=cache, cache_dir=cache_dir, notice=notice, with_prior=True)
    report("evaluating", 0, 1)
    table, summary = evaluate_fitted(model, context, inputs, seed, n_resamples)
    card = model_card_of(model, inputs, seed)
    report("genome validation", 0, 1)
    card["genome_validation"] = genome_validation_of(model, context, inputs.strategies.ids, seed)
    return Evaluation(table, model.prior_.metrics, summary["recall_approved_top10"], card)


def default_evaluation_path() -> Path:
    """``outputs/evaluation-<UTC>.csv``, where ``targetrank evaluate`` writes by default."""
    return Path("outputs") / f"evaluation-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv"


def write_evaluation(result: Evaluation, path: Path) -> None:
    """Write the long evaluation table as CSV (atomically: temp file then rename)."""
    with atomic_open(path) as fh:
        fh.write(result.table.write_csv())
