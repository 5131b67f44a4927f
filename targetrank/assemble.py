"""From a fitted scorer to the ranking: ranks, intervals, drivers, genome ranks, card, manifest."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from targetrank.__about__ import __version__
from targetrank._types import (
    NoticeCallback,
    manifest_stamp,
    no_notice,
)
from targetrank.display import plain_name as _plain
from targetrank.inputs import RankInputs, file_sha256
from targetrank.model.scoring import Scorer, ScoreResult, ScoringContext
from targetrank.results import RANKING_COLUMNS, TIE_BREAK
from targetrank.strategies import StrategySet


def _extremes(c: np.ndarray, n: int, *, largest: bool) -> np.ndarray:
    """Per row, the columns of the ``n`` largest (smallest) values, lowest index first on ties.

    The first ``n`` of a stable argsort, from ``n`` argmax passes instead of a full sort of
    every row (``n`` is 3, rows have ~130 features; 100k rows genome-wide).
    """
    work = c.copy()
    pick = np.argmax if largest else np.argmin
    rows = np.arange(c.shape[0])
    out = np.empty((c.shape[0], min(n, c.shape[1])), dtype=np.int64)
    for i in range(out.shape[1]):
        out[:, i] = pick(work, axis=1)
        work[rows, out[:, i]] = -np.inf if largest else np.inf
    return out


def drivers_text(
    contributions: np.ndarray, names: list[str], labels: list[str], n: int = 3
) -> list[str]:
    """Per row, the ``n`` strongest positive and negative drivers as text."""
    c = contributions[:, :-1]
    if c.shape[1] == 0 or np.isnan(c).any():  # argmax would pick NaN: keep the sort
        return drivers_text_sorted(contributions, labels, n)
    top, bottom = _extremes(c, n, largest=True), _extremes(c, n, largest=False)
    # flat lists: nested ones are 100k+ GC-tracked containers that trigger full collections
    k = top.shape[1]
    top_j, bottom_j = top.ravel().tolist(), bottom.ravel().tolist()
    top_v = np.take_along_axis(c, top, axis=1).ravel().tolist()
    bottom_v = np.take_along_axis(c, bottom, axis=1).ravel().tolist()
    out = []
    for start in range(0, len(top_j), k):
        span = range(start, start + k)
        parts = [f"+ {labels[top_j[i]]} ({top_v[i]:+.2f})" for i in span if top_v[i] > 0]
        parts += [f"- {labels[bottom_j[i]]} ({bottom_v[i]:+.2f})" for i in span if bottom_v[i] < 0]
        out.append("; ".join(parts))
    return out


def drivers_text_sorted(contributions: np.ndarray, labels: list[str], n: int = 3) -> list[str]:
    """The definition of the driver texts (a stable sort per row), used when NaN is present."""
    out = []
    for row in contributions:
        c = row[:-1]
        order = np.argsort(-c, kind="stable")
        pos = [j for j in order[:n] if c[j] > 0]
        neg = [j for j in np.argsort(c, kind="stable")[:n] if c[j] < 0]
        parts = [f"+ {labels[j]} ({c[j]:+.2f})" for j in pos] + [
            f"- {labels[j]} ({c[j]:+.2f})" for j in neg
        ]
        out.append("; ".join(parts))
    return out


def _codes(values: np.ndarray) -> np.ndarray:
    """Integer codes that sort as ``values`` do (computed once, reused for every replicate).

    The dense rank of the text: polars compares UTF-8 bytes, which orders as code points do,
    so the codes equal ``np.unique(values.astype(str), return_inverse=True)[1]`` (2x faster).
    """
    text = pl.Series(np.asarray(values, dtype=object), dtype=pl.String)
    if text.null_count():  # np.asarray(dtype=str) spells a missing value "None"
        text = text.fill_null("None")
    return (text.rank("dense").cast(pl.Int64) - 1).to_numpy()


def rank_within(
    strategy: np.ndarray,
    scores: np.ndarray,
    symbols: np.ndarray,
    *,
    codes: tuple[np.ndarray, np.ndarray] | None = None,
    gated: np.ndarray | None = None,
) -> np.ndarray:
    """1-based ranks within each strategy: gate-passing rows first, then score, then symbol.

    One stable lexsort over all rows (strategy, gated, -score, symbol), instead of a Python sort
    per strategy: the rank intervals re-rank every bootstrap replicate, 100k rows each
    genome-wide. A row that fails its strategy's gates ranks after every row that passes.
    """
    strategy_code, symbol_code = codes or (_codes(strategy), _codes(symbols))
    gate_key = np.zeros(len(symbol_code), dtype=np.int8) if gated is None else gated.astype(np.int8)
    order = np.lexsort((symbol_code, -np.asarray(scores, dtype=float), gate_key, strategy_code))
    ranks = np.empty(len(order), dtype=np.int64)
    if len(order):
        sorted_strategy = strategy_code[order]
        first = np.r_[0, np.flatnonzero(np.diff(sorted_strategy)) + 1]
        start = np.repeat(first, np.diff(np.r_[first, len(order)]))
        ranks[order] = np.arange(len(order)) - start + 1
    return ranks


def intervals(
    strategy: np.ndarray,
    replicates: np.ndarray,
    symbols: np.ndarray,
    gated: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the 5-95% rank range and P(top 10) over the bootstrap replicates."""
    codes = (_codes(strategy), _codes(symbols))
    ranks = np.vstack(
        [rank_within(strategy, rep, symbols, codes=codes, gated=gated) for rep in replicates]
    )
    low = np.floor(np.percentile(ranks, 5, axis=0)).astype(np.int64)
    high = np.ceil(np.percentile(ranks, 95, axis=0)).astype(np.int64)
    return low, high, (ranks <= 10).mean(axis=0)


def fit_scorer(
    scorer: Scorer,
    context: ScoringContext,
    *,
    cache: bool,
    cache_dir: str | Path | None,
    notice: NoticeCallback | None,
    with_prior: bool = False,
) -> Any:
    """Fit ``scorer``, through the model cache when it is on (see :mod:`targetrank.model.cache`).

    ``with_prior``: the run writes a model card, so the ranker fits the card's level-1 prior
    beside its own models instead of after them.
    """
    from targetrank.model.cache import ModelCache, default_root, fit_cached

    store = ModelCache(default_root(cache_dir), notice or no_notice) if cache else None
    return fit_cached(scorer, context, store, with_prior=with_prior)


def scored_rows(scorer: Scorer, cached: Any) -> Any:
    """``scorer`` computing each (strategy, gene) row once, kept beside cached models.

    See :class:`targetrank.model.cache.ScoredRows`.

    Call ``save()`` on it once the run has scored what it needs.
    """
    from targetrank.model.cache import ScoredRows

    key = getattr(cached, "key", None)
    store = getattr(cached, "store", None)
    return ScoredRows(scorer, store, key, reuse=bool(getattr(cached, "used", False)))


def evaluation_cached(
    compute: Callable[[], dict[str, Any]],
    cached: Any,
    shown: Sequence[str],
    *,
    cache_dir: str | Path | None,
    notice: NoticeCallback | None,
) -> dict[str, Any]:
    """The model card's evaluation, from the model cache when the models came from it.

    It depends only on the trained models (their key covers data, settings and seed) and the
    strategies shown, so a warm run need not recompute it; a cold run stores it beside them.
    """
    key = getattr(cached, "key", None)
    if key is None:
        return compute()
    from targetrank.model.cache import ModelCache, cache_key, default_root

    store = getattr(cached, "store", None) or ModelCache(
        default_root(cache_dir), notice or no_notice
    )
    eval_key = cache_key({"model": key, "model_card_evaluation": list(shown)})
    if cached.used:
        state = store.load(eval_key)
        if state is not None and set(state) == {"evaluation", "genome_validation"}:
            return state
    result = compute()
    try:
        # JSON round trip first, so a warm run returns exactly what a cold one stored
        result = json.loads(json.dumps(result))
    except (TypeError, ValueError):
        return result  # not storable as JSON: computed each run
    store.store(eval_key, result)
    return result


def gates_for(features: pl.DataFrame, strategies: StrategySet) -> pl.DataFrame:
    """``strategy, entrez_id, gate`` for every gene: the failed gates' reasons, empty if none."""
    from targetrank.features.gates import gate_frame

    return pl.concat(
        [
            gate_frame(features, s.gates).with_columns(pl.lit(s.id).alias("strategy"))
            for s in strategies
        ]
    ).select("strategy", "entrez_id", "gate")


def point_scores(scorer: Scorer, rows: pl.DataFrame) -> np.ndarray:
    """Scores only (no contributions or replicates) where the scorer offers that shortcut."""
    fast = getattr(scorer, "point_scores", None)
    if callable(fast):
        return np.asarray(fast(rows), dtype=float)
    return np.asarray(scorer.score(rows).scores, dtype=float)


def genome_ranks(
    scorer: Scorer, context: ScoringContext, strategy_ids: Sequence[str]
) -> pl.DataFrame:
    """Every gene's rank in each strategy (gates first, then score, then symbol).

    The same number whatever panel or strategy subset a run shows: ``rank`` orders a run's own
    targets, ``genome_rank`` places each among all genes of the feature table.
    """
    rows = context.rows().filter(pl.col("strategy").is_in(list(strategy_ids)))
    scores = point_scores(scorer, rows)
    gates = gates_for(context.features, context.strategies)
    keys = rows.select("strategy", "entrez_id", "symbol").join(
        gates, on=["strategy", "entrez_id"], how="left", maintain_order="left"
    )
    ranks = rank_within(
        keys["strategy"].to_numpy(),
        scores,
        keys["symbol"].to_numpy(),
        gated=(keys["gate"].fill_null("") != "").to_numpy(),
    )
    return keys.select(
        "strategy", "entrez_id", "gate", pl.Series("genome_rank", ranks), pl.Series("_s", scores)
    )


def genome_validation_of(
    scorer: Scorer,
    context: ScoringContext,
    strategy_ids: Sequence[str],
    seed: int,
    *,
    genome: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Genome-wide validation of a fitted scorer against weighted, PubMed and random baselines."""
    from targetrank.features.gates import HOUSEKEEPING
    from targetrank.model.scoring import PopularityScorer, WeightedScorer
    from targetrank.model.validation import genome_validation

    if genome is None:
        genome = genome_ranks(scorer, context, strategy_ids)
    rows = context.rows().filter(pl.col("strategy").is_in(list(strategy_ids)))
    keys = rows.select(
        "strategy",
        "entrez_id",
        "symbol",
        pl.col("pubmed_count_focused").fill_null(0),
        HOUSEKEEPING.alias("housekeeping"),
    ).join(
        genome.select("strategy", "entrez_id", "gate", "_s"),
        on=["strategy", "entrez_id"],
        how="left",
        maintain_order="left",
    )
    keys = keys.with_columns((pl.col("gate").fill_null("") != "").alias("gated"))
    scores = {
        getattr(scorer, "name", "model"): keys["_s"].to_numpy(),
        "weighted": WeightedScorer().fit(context).score(rows).scores,
        "pubmed_popularity": PopularityScorer().score(rows).scores,
    }
    recent = context.labels.filter(~pl.col("approved_drug_target").fill_null(False))["entrez_id"]
    return genome_validation(
        keys.drop("_s", "gate"), scores, context.evidence, recent=recent.to_list(), seed=seed
    )


def top_drivers(result: ScoreResult) -> list[str]:
    """The ``top_drivers`` text of each scored row (empty without contributions)."""
    if result.contributions is None:
        return [""] * len(result.scores)
    from targetrank.features import REGISTRY

    specs = REGISTRY.all_specs()
    labels = [_plain(f, specs) for f in result.feature_names]
    return drivers_text(result.contributions, result.feature_names, labels)


def assemble(
    rows: pl.DataFrame,
    result: ScoreResult,
    inputs: RankInputs,
    genome: pl.DataFrame,
    drivers: list[str] | None = None,
) -> pl.DataFrame:
    """The ranking table (``RANKING_COLUMNS``) of the scored rows.

    ``drivers``: the rows' ``top_drivers`` texts when already made (else :func:`top_drivers`).
    """
    strategy = rows["strategy"].to_numpy()
    symbols = rows["symbol"].to_numpy()
    scores = np.asarray(result.scores, dtype=float)
    keyed = rows.select("strategy", "entrez_id").join(
        genome.select("strategy", "entrez_id", "gate", "genome_rank"),
        on=["strategy", "entrez_id"],
        how="left",
        maintain_order="left",
    )
    gated = (keyed["gate"].fill_null("") != "").to_numpy()
    ranks = rank_within(strategy, scores, symbols, gated=gated)
    if result.replicates is not None and len(result.replicates):
        low, high, p10 = intervals(strategy, result.replicates, symbols, gated)
        p_top10 = pl.Series("p_top10", p10)
    else:
        low, high = ranks, ranks
        p_top10 = pl.Series("p_top10", [None] * len(ranks), dtype=pl.Float64)
    if drivers is None:
        drivers = top_drivers(result)
    ev = inputs.evidence.select(
        "strategy",
        "entrez_id",
        # one spelling for "no clinical evidence": empty, whether or not an evidence-base entry
        # exists (an entry may record a searched-for absence as stage NONE)
        pl.when(pl.col("stage") != "NONE").then(pl.col("stage")).alias("evidence_stage"),
        pl.when(pl.col("failed_phase3"))
        .then(pl.lit("yes"))
        .otherwise(pl.lit("no"))
        .alias("failed_phase3"),
        "citations",
    )
    table = (
        rows.select("strategy", "entrez_id", "symbol", "ensembl_id")
        .with_columns(
            pl.Series("score", scores).round(6),
            pl.Series("rank", ranks),
            pl.Series("rank_low", low),
            pl.Series("rank_high", high),
            p_top10.round(3),
            pl.Series("top_drivers", drivers, dtype=pl.String),
            keyed["genome_rank"],
            keyed["gate"].fill_null(""),
        )
        .join(ev, on=["strategy", "entrez_id"], how="left", maintain_order="left")
        .join(
            inputs.targets.select("entrez_id", "query"),
            on="entrez_id",
            how="left",
            maintain_order="left",
        )
    )
    order = {s: i for i, s in enumerate(inputs.strategies.ids)}
    return (
        table.with_columns(
            pl.col("strategy").replace_strict(order, return_dtype=pl.Int64).alias("_o")
        )
        .sort("_o", "rank")
        .select(RANKING_COLUMNS)
    )


def evaluate_fitted(
    model: Any, context: ScoringContext, inputs: RankInputs, seed: int, n_resamples: int
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Out-of-fold NDCG of a fitted LightGBM ranker and the baselines on the same rows."""
    from targetrank.model.evaluation import evaluate_scores, evaluation_rows
    from targetrank.model.scoring import PopularityScorer, WeightedScorer

    keys = evaluation_rows(model.training_.rows, inputs.evidence, inputs.seed_entrez)
    rows = model.rows_for(context, keys.select("strategy", "entrez_id"))
    scores = {
        "lightgbm": point_scores(model, rows),  # the same scores, without TreeSHAP
        "weighted": WeightedScorer().fit(context).score(rows).scores,
        "pubmed_popularity": PopularityScorer().score(rows).scores,
    }
    return evaluate_scores(keys, scores, seed=seed, n_resamples=n_resamples)


def quick_evaluation(
    scorer: Any, context: ScoringContext, inputs: RankInputs, seed: int
) -> dict[str, Any]:
    """Out-of-fold NDCG@10 of the fitted ranker and the baselines, for the model card."""
    table, summary = evaluate_fitted(scorer, context, inputs, seed, n_resamples=200)
    mean10 = table.filter((pl.col("strategy") == "mean") & (pl.col("k") == 10))
    return {
        "mean_ndcg10": mean10.select("setting", "method", "ndcg", "ci_low", "ci_high").to_dicts(),
        "per_strategy": table.to_dicts(),
        "recall_approved_top10": summary["recall_approved_top10"],
        "note": "all model scores out-of-fold; run `targetrank evaluate` for the full table",
    }


def model_card_of(scorer: Scorer, inputs: RankInputs, seed: int) -> dict[str, Any]:
    """The model card: features used and refused, labels, folds, metrics."""
    card: dict[str, Any] = {
        "targetrank_version": __version__,
        "seed": seed,
        "scorer": scorer.name,
        "tie_break": TIE_BREAK,
        "feature_source": inputs.feature_source,
        "evidence_rows": inputs.evidence.height,
        "strategies": inputs.strategies.ids,
    }
    if hasattr(scorer, "card"):
        card.update(scorer.card())
    else:
        card["note"] = (
            "deterministic scorer: no model is trained, so there are no folds, no labels used and "
            "no rank intervals (rank_low = rank_high = rank, p_top10 empty)"
        )
    if scorer.name == "weighted":
        card["weights"] = {
            s.id: {w.feature: {"weight": w.weight, "prefer": w.prefer} for w in s.weights}
            for s in inputs.strategies
        }
    return card


def _seed_symbols(inputs: RankInputs) -> list[str]:
    """Symbols of the strategy file's seed panel, in panel order (always shown by the CLI)."""
    found = dict(
        inputs.features.filter(pl.col("entrez_id").is_in(inputs.seed_entrez))
        .select("entrez_id", "symbol")
        .iter_rows()
    )
    return [found[e] for e in inputs.seed_entrez if e in found]


def manifest_of(
    inputs: RankInputs,
    *,
    scorer: Scorer,
    scorer_spec: str,
    seed: int,
    universe: str,
    weights: Any,
    strategies_file: Any,
    targets: Sequence[str] | None,
    skip_unresolved: bool,
    command: Sequence[str] | None,
    deterministic: bool,
) -> dict[str, Any]:
    """What the run was computed from: versions, releases, inputs and their hashes, seed."""
    from importlib.metadata import version

    from targetrank.feature_folder import feature_manifest

    try:
        fman = feature_manifest(inputs.feature_source)
        releases = {k: v.get("release") for k, v in fman.get("sources", {}).items()}
    except Exception:  # a bare parquet file has no manifest; say so instead of failing the run
        releases = {"unknown": "feature source has no manifest.json"}
    effective_weights = {
        s.id: {w.feature: {"weight": w.weight, "prefer": w.prefer} for w in s.weights}
        for s in inputs.strategies
    }
    target_list = list(targets) if targets else None
    options_of = getattr(scorer, "options", None)
    scorer_options = options_of() if callable(options_of) else {}
    from targetrank.feature_folder import feature_file

    evidence_file = Path(__file__).parent / "data" / "evidence.tsv"
    digest = hashlib.sha256(
        json.dumps(
            {
                "targets": inputs.targets["entrez_id"].to_list(),
                "strategies": inputs.strategies.ids,
                "weights": effective_weights,
                "features_sha256": file_sha256(feature_file(inputs.feature_source)),
                "evidence_sha256": file_sha256(evidence_file),
                "seed": seed,
                # only when set, so a default run's hash is what it was before 0.6.0
                **({"scorer_options": scorer_options} if scorer_options else {}),
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return {
        **manifest_stamp(),
        "command": list(command) if command else None,
        "seed": seed,
        "scorer": scorer_spec,
        "scorer_options": scorer_options,  # ranker settings that differ from the defaults
        "universe": universe,
        "strategies": inputs.strategies.ids,
        # shown by report.html, which reads only the run folder
        "strategy_info": {s.id: s.info() for s in inputs.strategies},
        "strategies_file": str(strategies_file) if strategies_file else None,
        "weights_file": str(weights) if isinstance(weights, str | Path) else None,
        "weights": effective_weights,
        "targets": target_list,
        "skip_unresolved": skip_unresolved,
        "feature_source": inputs.feature_source,
        "data_releases": releases,
        "input_hash": digest,
        "seed_panel": _seed_symbols(inputs),
        "rows": int(inputs.targets.height * len(inputs.strategies)),
        "genes": int(inputs.features.height),
        "ranked_universe": "rank: among this run's targets; genome_rank: among all "
        f"{inputs.features.height} genes of the feature table (gate-passing genes first); "
        "scores come from models fitted on every strategy of the strategy file, so a target's "
        "score is the same whatever panel or strategies a run shows",
        "tie_break": TIE_BREAK,
        "uncertainty": "none (deterministic scorer)"
        if deterministic
        else "bootstrap rank intervals (5-95 %) and P(top 10)",
        "environment": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "polars": pl.__version__,
            "lightgbm": version("lightgbm"),  # metadata: no 2.5 s import in a warm run
            "scikit-learn": version("scikit-learn"),
            "numpy": np.__version__,
        },
    }
