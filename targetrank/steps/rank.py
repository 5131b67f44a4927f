"""Step ``targetrank rank`` (and ``explain`` without a run folder): load, fit, rank, explain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from targetrank._types import (
    NoticeCallback,
    ProgressCallback,
    no_progress,
)
from targetrank.assemble import (
    assemble,
    evaluation_cached,
    fit_scorer,
    genome_ranks,
    genome_validation_of,
    manifest_of,
    model_card_of,
    quick_evaluation,
    scored_rows,
    top_drivers,
)
from targetrank.inputs import load_inputs
from targetrank.model.scoring import Scorer, as_scorer
from targetrank.results import Ranking, Universe

# ------------------------------------------------------------------------------------------
# rank()
# ------------------------------------------------------------------------------------------


def rank(
    targets: Sequence[str] | None = None,
    strategies: Sequence[str] | None = None,
    scorer: str | Scorer | Callable[[pl.DataFrame], Any] = "lightgbm",
    features: str | Path = "snapshot",
    seed: int = 0,
    *,
    universe: Universe = "evidence",
    weights: str | Path | dict[str, dict[str, float]] | None = None,
    strategies_file: str | Path | None = None,
    skip_unresolved: bool = False,
    progress: ProgressCallback | None = None,
    command: Sequence[str] | None = None,
    evaluate_model: bool = True,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    notice: NoticeCallback | None = None,
) -> Ranking:
    """Rank targets per strategy.

    Args:
        targets: Names, aliases or ids (default: the seed panel plus the evidence-base targets).
        strategies: Strategy ids (default: all five).
        scorer: ``"lightgbm"`` (default), ``"weighted"``, ``"module:function"``, a
            :class:`~targetrank.model.scoring.Scorer` or any callable ``rows -> scores``.
        features: ``"snapshot"`` or a feature folder/file.
        seed: Seed of every random choice (folds, background sample, models, bootstrap).
        universe: ``"evidence"`` or ``"genome"`` (all ~20k genes).
        weights: Weights file or ``{strategy: {feature: weight}}`` overriding the strategy file.
        strategies_file: An alternative strategy file.
        skip_unresolved: Rank the targets that resolved instead of stopping on failures.
        progress: ``(step, done, total)`` callback.
        command: The command line, recorded in the manifest.
        evaluate_model: Add the out-of-fold NDCG evaluation to the model card (LightGBM only).
        cache: Reuse trained LightGBM models from the model cache (and store them there); the
            results are identical either way, ``False`` forces retraining.
        cache_dir: Cache root (default ``TARGETRANK_CACHE_DIR``, else the platform cache folder);
            models live in its ``models/`` folder.
        notice: ``(message)`` callback for one-line notices (e.g. a refused cache file).

    Example:
        >>> import targetrank
        >>> r = targetrank.rank(["TIGIT", "DKK1"], scorer="weighted")
        >>> sorted(r.table["symbol"].unique().to_list())
        ['DKK1', 'TIGIT']
    """
    report = progress or no_progress
    inputs = load_inputs(
        targets=targets,
        strategies=strategies,
        strategies_file=strategies_file,
        weights=weights,
        features=features,
        universe=universe,
        skip_unresolved=skip_unresolved,
    )
    the_scorer = as_scorer(scorer)
    context = inputs.context(seed, report)
    report("fitting", 0, 1)
    # the model card below always reads the level-1 prior: fitted beside the level-2 models
    cached = fit_scorer(
        the_scorer, context, cache=cache, cache_dir=cache_dir, notice=notice, with_prior=True
    )
    # each (strategy, gene) row is scored and explained once, and kept beside cached models
    scored = scored_rows(the_scorer, cached)
    report("scoring", 0, 1)
    shown = inputs.strategies.ids
    rows = context.rows(inputs.targets["entrez_id"].to_list()).filter(
        pl.col("strategy").is_in(shown)
    )
    result = scored.score(rows)
    report("genome ranks", 0, 1)
    genome = genome_ranks(scored, context, shown)
    drivers = scored.texts("top_drivers", rows, result, top_drivers)
    table = assemble(rows, result, inputs, genome, drivers)
    card = model_card_of(the_scorer, inputs, seed)
    if evaluate_model and hasattr(the_scorer, "training_"):
        report("evaluating", 0, 1)
        card.update(
            evaluation_cached(
                lambda: {
                    "evaluation": quick_evaluation(scored, context, inputs, seed),
                    "genome_validation": genome_validation_of(
                        scored, context, inputs.strategies.ids, seed, genome=genome
                    ),
                },
                cached,
                shown,
                cache_dir=cache_dir if cache else None,
                notice=notice,
            )
        )
    scored.save()
    manifest = manifest_of(
        inputs,
        scorer=the_scorer,
        scorer_spec=scorer if isinstance(scorer, str) else the_scorer.name,
        seed=seed,
        universe=universe,
        weights=weights,
        strategies_file=strategies_file,
        targets=targets,
        skip_unresolved=skip_unresolved,
        command=command,
        deterministic=result.replicates is None,
    )
    manifest["model_cache"] = cached.as_dict()
    keep = [
        "strategy",
        "entrez_id",
        "symbol",
        *[f for f in result.feature_names if f in rows.columns],
    ]
    if "prior_precedence" in result.feature_names and "prior_precedence" not in rows.columns:
        prior = getattr(the_scorer, "prior_map_", None)
        if prior is not None:
            rows = rows.join(prior, on="entrez_id", how="left", maintain_order="left")
            keep.append("prior_precedence")
    return Ranking(
        table=table,
        manifest=manifest,
        model_card=card,
        rows=rows.select([c for c in keep if c in rows.columns]),
        contributions=result.contributions,
        feature_names=result.feature_names,
        evidence=inputs.evidence,
        strategies=inputs.strategies,
        universe=universe,
    )
