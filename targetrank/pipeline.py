"""The pipeline: resolve targets, assemble features, fit a scorer, rank, explain, evaluate.

This is the one module the CLI calls. Everything here returns objects; nothing prints.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from targetrank.__about__ import __version__
from targetrank._types import (
    MIN_BOOTSTRAP,
    NoticeCallback,
    ProgressCallback,
    no_notice,
    no_progress,
)
from targetrank.display import fmt_value as _fmt
from targetrank.display import plain_name as _plain
from targetrank.errors import DataError, ModelError, UsageError
from targetrank.model.scoring import Scorer, ScoreResult, ScoringContext, as_scorer
from targetrank.strategies import StrategySet, Weight, load_strategies, load_weights

RANKING_COLUMNS = [
    "strategy",
    "rank",
    "symbol",
    "ensembl_id",
    "score",
    "rank_low",
    "rank_high",
    "p_top10",
    "evidence_stage",
    "failed_phase3",
    "top_drivers",
    "citations",
    "query",
    "genome_rank",
    "gate",
]
TIE_BREAK = "genes passing the strategy's gates first, then score (descending), then symbol (A-Z)"
Universe = Literal["evidence", "genome"]


# ------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------


@dataclass
class RankInputs:
    """Everything a run is computed from (recorded in the manifest, replayed by rerun)."""

    features: pl.DataFrame
    feature_source: str
    strategies: StrategySet
    evidence: pl.DataFrame
    labels: pl.DataFrame
    targets: pl.DataFrame  # query, symbol, ensembl_id, entrez_id (universe, in display order)
    seed_entrez: list[int]
    resolution: pl.DataFrame | None = None
    #: Every strategy of the file (with weight overrides): models learn from all of them, so a
    #: target's score does not depend on which strategies a run shows.
    all_strategies: StrategySet | None = None

    def context(self, seed: int, progress: ProgressCallback = no_progress) -> ScoringContext:
        """What a scorer learns from, for this run (always every strategy of the file)."""
        return ScoringContext(
            self.features,
            self.all_strategies or self.strategies,
            self.evidence,
            self.labels,
            self.seed_entrez,
            seed=seed,
            progress=progress,
        )


def _file_sha256(path: str | Path | None) -> str | None:
    if path is None:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def resolve_universe(
    targets: Sequence[str] | None,
    universe: Universe,
    strategies: StrategySet,
    evidence: pl.DataFrame,
    features: pl.DataFrame,
    *,
    skip_unresolved: bool = False,
) -> tuple[pl.DataFrame, list[int], pl.DataFrame | None]:
    """The targets to rank (with the user's names), the seed panel's ids and the resolution table.

    Default (no targets): the seed panel plus every evidence-base target. ``universe="genome"``
    adds every gene of the feature table.
    """
    from targetrank.resolver import resolve

    seeds = resolve(list(strategies.seed_panel))
    seeds.raise_for_failures(done="nothing was computed")
    seed_ids = seeds.targets["entrez_id"].to_list()
    resolution = None
    if targets:
        result = resolve(list(targets))
        if not result.ok and not skip_unresolved:
            result.raise_for_failures(done="nothing was computed")
        if result.targets.height == 0:
            raise UsageError(
                "None of the given targets resolved",
                input=", ".join(result.table["query"].to_list()[:10]),
                done="nothing was computed",
                fix="check the names with `targetrank resolve`",
            )
        chosen = result.targets
        resolution = result.table
    else:
        ev = (
            evidence.select("symbol", "ensembl_id", "entrez_id")
            .unique("entrez_id", keep="first", maintain_order=True)
            .with_columns(pl.col("symbol").alias("query"))
        )
        chosen = pl.concat(
            [seeds.targets, ev.select("query", "symbol", "ensembl_id", "entrez_id")]
        ).unique("entrez_id", keep="first", maintain_order=True)
    if universe == "genome":
        rest = features.select(
            pl.col("symbol").alias("query"), "symbol", "ensembl_id", "entrez_id"
        ).join(chosen.select("entrez_id"), on="entrez_id", how="anti")
        chosen = pl.concat([chosen, rest])
    known = chosen.join(features.select("entrez_id"), on="entrez_id", how="semi")
    absent = chosen["symbol"].filter(~chosen["entrez_id"].is_in(known["entrez_id"].implode()))
    if absent.len() and not skip_unresolved:  # never drop a target silently
        raise DataError(
            f"{absent.len()} target(s) are not in the feature table: {', '.join(absent.head(10))}",
            done="nothing was computed",
            cause="the feature folder covers fewer genes than the gene index",
            fix="use --features snapshot or a folder with every gene, or pass --skip-unresolved "
            "to rank the others",
        )
    return known, seed_ids, resolution


def load_inputs(
    *,
    targets: Sequence[str] | None = None,
    strategies: Sequence[str] | None = None,
    strategies_file: str | Path | None = None,
    weights: str | Path | dict[str, dict[str, float]] | None = None,
    features: str | Path = "snapshot",
    universe: Universe = "evidence",
    skip_unresolved: bool = False,
) -> RankInputs:
    """Load and validate every input of a run; all errors happen here, before any computing."""
    from targetrank.api import load_features, precedence_labels
    from targetrank.evidence import evidence as load_evidence

    if universe not in ("evidence", "genome"):
        raise UsageError(f"Unknown universe '{universe}'", fix="use evidence or genome")
    strategy_set = load_strategies(strategies_file)
    strategy_set.select(strategies)  # unknown ids fail here, before anything is computed
    if weights is not None:
        if isinstance(weights, dict):
            overrides = {
                sid: {
                    f: Weight(f, float(w["weight"]), w.get("prefer", "high"))
                    if isinstance(w, dict)
                    else Weight(f, float(w))
                    for f, w in ws.items()
                }
                for sid, ws in weights.items()
            }
            for sid, ws in overrides.items():
                strategy_set.get(sid)
                for w in ws.values():
                    if not 0 <= w.weight <= 1:
                        raise UsageError(
                            f"Weight {w.weight} for '{w.feature}' in '{sid}' is outside [0, 1]",
                            fix="give weights between 0 and 1",
                        )
        else:
            overrides = load_weights(weights, strategy_set)
        strategy_set = strategy_set.with_weights(overrides)
    table = load_features(features)
    ev = load_evidence()
    labels = precedence_labels(features)
    chosen, seed_ids, resolution = resolve_universe(
        targets, universe, strategy_set, ev, table, skip_unresolved=skip_unresolved
    )
    return RankInputs(
        table,
        str(features),
        strategy_set.select(strategies),
        ev,
        labels,
        chosen,
        seed_ids,
        resolution,
        all_strategies=strategy_set,
    )


# ------------------------------------------------------------------------------------------
# Ranking result
# ------------------------------------------------------------------------------------------


@dataclass
class Explanation:
    """Why a target ranks where it does in one strategy."""

    symbol: str
    strategy: str
    rank: int
    score: float
    drivers: pl.DataFrame  # feature, label, value, contribution (sorted by |contribution|)
    bias: float
    evidence: dict[str, Any] | None
    genome_rank: int | None = None
    genes: int | None = None
    gate: str = ""

    def text(self, n: int = 3) -> str:
        """A short plain-text card (CLI output)."""
        where = (
            f"rank {self.genome_rank} of {self.genes:,} genes"
            if self.genome_rank is not None and self.genes
            else f"rank {self.rank}"
        )
        lines = [f"{self.symbol} in {self.strategy}: {where}, score {self.score:.3f}"]
        if self.gate:
            lines.append(f"  gated out (ranks after every gene that passes): {self.gate}")
        pos = self.drivers.filter(pl.col("contribution") > 0).head(n)
        neg = self.drivers.filter(pl.col("contribution") < 0).head(n)
        lines.append("  pushes up:")
        lines += [
            f"    + {r['label']} = {_fmt(r['value'])} ({r['contribution']:+.3f})"
            for r in pos.iter_rows(named=True)
        ] or ["    (none)"]
        lines.append("  pushes down:")
        lines += [
            f"    - {r['label']} = {_fmt(r['value'])} ({r['contribution']:+.3f})"
            for r in neg.iter_rows(named=True)
        ] or ["    (none)"]
        lines.append(f"  baseline (bias): {self.bias:+.3f}")
        if self.evidence:
            e = self.evidence
            lines.append("  evidence card:")
            lines.append(
                f"    stage: {e['stage']} (oncology/bone: {e['onc_bone_stage']}; grade {e['grade']})"
            )
            lines.append(f"    agents: {e['agents'] or '-'}")
            if e["failed_phase3"]:
                lines.append(f"    failed phase 3: {e['failed_phase3_trials']}")
            lines.append(f"    fact: {e['fact']}")
            lines.append(f"    citations: {e['citations'] or '-'} ({e['verification']})")
        else:
            lines.append("  evidence card: no evidence-base entry for this target and strategy")
        return "\n".join(lines)


@dataclass
class Ranking:
    """A ranked, explained list of targets per strategy.

    Attributes:
        table: One row per (strategy, target), the columns of ``ranking.csv``.
        manifest: What the run was computed from (versions, releases, seed, scorer, inputs).
        model_card: Features used and refused, labels, folds, metrics.
    """

    table: pl.DataFrame
    manifest: dict[str, Any]
    model_card: dict[str, Any]
    rows: pl.DataFrame = field(repr=False)  # strategy, entrez_id, symbol + feature values
    contributions: np.ndarray | None = field(default=None, repr=False)
    feature_names: list[str] = field(default_factory=list, repr=False)
    evidence: pl.DataFrame | None = field(default=None, repr=False)
    strategies: StrategySet | None = field(default=None, repr=False)
    universe: str = "evidence"

    def top(self, n: int = 10) -> pl.DataFrame:
        """The first ``n`` targets of each strategy."""
        return self.table.filter(pl.col("rank") <= n)

    def matrix(self) -> pl.DataFrame:
        """Targets × strategies ranks (for a slide)."""
        wide = self.table.pivot(on="strategy", index=["symbol", "query"], values="rank")
        order = [s for s in self.table["strategy"].unique(maintain_order=True)]
        return wide.select("symbol", "query", *order).sort(pl.mean_horizontal(order))

    def novel_candidates(self, n: int = 20) -> pl.DataFrame:
        """Top ``n`` per strategy among genes that are not in the evidence base at all."""
        known = set(self.evidence["symbol"].to_list()) if self.evidence is not None else set()
        return (
            self.table.filter(~pl.col("symbol").is_in(list(known)))
            .with_columns(
                pl.col("rank").rank("ordinal").over("strategy").cast(pl.Int64).alias("novel_rank")
            )
            .filter(pl.col("novel_rank") <= n)
            .select(
                "strategy",
                "novel_rank",
                "rank",
                "symbol",
                "ensembl_id",
                "score",
                "p_top10",
                "top_drivers",
            )
        )

    def explain(self, symbol: str, strategy: str) -> Explanation:
        """Feature contributions (top drivers) and the evidence card of one target in one strategy."""
        from targetrank.resolver import resolve

        resolved = resolve([symbol])
        if not resolved.ok:
            resolved.raise_for_failures(done="nothing was explained")
        gene = resolved.symbols[0]
        if self.strategies is not None:
            self.strategies.get(strategy)
        mask = (self.rows["symbol"] == gene) & (self.rows["strategy"] == strategy)
        idx = np.flatnonzero(mask.to_numpy())
        if idx.size == 0:
            raise UsageError(
                f"{gene} is not in this ranking for strategy '{strategy}'",
                fix="rank it first (--targets) or use --universe genome",
            )
        if self.contributions is None:
            raise ModelError(
                f"The scorer '{self.manifest.get('scorer')}' gives no per-feature contributions",
                fix="use --scorer lightgbm or weighted for explanations",
            )
        i = int(idx[0])
        from targetrank.features import REGISTRY
        from targetrank.features.strategy import SC_FEATURES

        specs = REGISTRY.specs() | {s.name: s for s in SC_FEATURES}
        contrib = self.contributions[i]
        values = [self.rows[f][i] if f in self.rows.columns else None for f in self.feature_names]
        drivers = pl.DataFrame(
            {
                "feature": self.feature_names,
                "label": [_plain(f, specs) for f in self.feature_names],
                "value": [_fmt(v) for v in values],
                "contribution": contrib[:-1],
            }
        ).sort(pl.col("contribution").abs(), descending=True)
        row = self.table.filter((pl.col("symbol") == gene) & (pl.col("strategy") == strategy)).row(
            0, named=True
        )
        card = None
        if self.evidence is not None:
            ev = self.evidence.filter((pl.col("symbol") == gene) & (pl.col("strategy") == strategy))
            card = ev.row(0, named=True) if ev.height else None
        genes = int(self.manifest.get("genes") or 0) or None
        return Explanation(
            gene,
            strategy,
            row["rank"],
            row["score"],
            drivers,
            float(contrib[-1]),
            card,
            genome_rank=row.get("genome_rank"),
            genes=genes,
            gate=row.get("gate") or "",
        )

    def write(
        self,
        out: str | Path | None = None,
        formats: Sequence[str] = ("csv",),
        *,
        force: bool = False,
        top: int = 20,
    ) -> Path:
        """Write the run folder atomically (see :func:`targetrank.export.write_run`)."""
        from targetrank.export import write_run

        return write_run(self, out, formats=formats, force=force, top=top)


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


def _drivers_text(
    contributions: np.ndarray, names: list[str], labels: list[str], n: int = 3
) -> list[str]:
    c = contributions[:, :-1]
    if c.shape[1] == 0 or np.isnan(c).any():  # argmax would pick NaN: keep the sort
        return _drivers_text_sorted(contributions, labels, n)
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


def _drivers_text_sorted(contributions: np.ndarray, labels: list[str], n: int = 3) -> list[str]:
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
    """Integer codes that sort as ``values`` do (computed once, reused for every replicate)."""
    return np.unique(np.asarray(values, dtype=str), return_inverse=True)[1].reshape(-1)


def _rank_within(
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


def _intervals(
    strategy: np.ndarray,
    replicates: np.ndarray,
    symbols: np.ndarray,
    gated: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes = (_codes(strategy), _codes(symbols))
    ranks = np.vstack(
        [_rank_within(strategy, rep, symbols, codes=codes, gated=gated) for rep in replicates]
    )
    low = np.floor(np.percentile(ranks, 5, axis=0)).astype(np.int64)
    high = np.ceil(np.percentile(ranks, 95, axis=0)).astype(np.int64)
    return low, high, (ranks <= 10).mean(axis=0)


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
    cached = _fit(the_scorer, context, cache=cache, cache_dir=cache_dir, notice=notice)
    report("scoring", 0, 1)
    shown = inputs.strategies.ids
    rows = context.rows(inputs.targets["entrez_id"].to_list()).filter(
        pl.col("strategy").is_in(shown)
    )
    result = the_scorer.score(rows)
    report("genome ranks", 0, 1)
    genome = genome_ranks(the_scorer, context, shown)
    table = _assemble(rows, result, inputs, genome)
    card = _model_card(the_scorer, inputs, seed)
    if evaluate_model and hasattr(the_scorer, "training_"):
        report("evaluating", 0, 1)
        card["evaluation"] = _quick_evaluation(the_scorer, context, inputs, seed)
        card["genome_validation"] = genome_validation_of(
            the_scorer, context, inputs.strategies.ids, seed, genome=genome
        )
    manifest = _manifest(
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


def _fit(
    scorer: Scorer,
    context: ScoringContext,
    *,
    cache: bool,
    cache_dir: str | Path | None,
    notice: NoticeCallback | None,
) -> Any:
    """Fit ``scorer``, through the model cache when it is on (see :mod:`targetrank.model.cache`)."""
    from targetrank.model.cache import ModelCache, default_root, fit_cached

    store = ModelCache(default_root(cache_dir), notice or no_notice) if cache else None
    return fit_cached(scorer, context, store)


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
    ranks = _rank_within(
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
    return genome_validation(keys.drop("_s", "gate"), scores, context.evidence, seed=seed)


def _assemble(
    rows: pl.DataFrame, result: ScoreResult, inputs: RankInputs, genome: pl.DataFrame
) -> pl.DataFrame:
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
    ranks = _rank_within(strategy, scores, symbols, gated=gated)
    if result.replicates is not None and len(result.replicates):
        low, high, p10 = _intervals(strategy, result.replicates, symbols, gated)
        p_top10 = pl.Series("p_top10", p10)
    else:
        low, high = ranks, ranks
        p_top10 = pl.Series("p_top10", [None] * len(ranks), dtype=pl.Float64)
    if result.contributions is not None:
        from targetrank.features import REGISTRY
        from targetrank.features.strategy import SC_FEATURES

        specs = REGISTRY.specs() | {s.name: s for s in SC_FEATURES}
        labels = [_plain(f, specs) for f in result.feature_names]
        drivers = _drivers_text(result.contributions, result.feature_names, labels)
    else:
        drivers = [""] * len(ranks)
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


def _evaluate_fitted(
    model: Any, context: ScoringContext, inputs: RankInputs, seed: int, n_bootstrap: int
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
    return evaluate_scores(keys, scores, seed=seed, n_bootstrap=n_bootstrap)


def _quick_evaluation(
    scorer: Any, context: ScoringContext, inputs: RankInputs, seed: int
) -> dict[str, Any]:
    """Out-of-fold NDCG@10 of the fitted ranker and the baselines, for the model card."""
    table, summary = _evaluate_fitted(scorer, context, inputs, seed, n_bootstrap=200)
    mean10 = table.filter((pl.col("strategy") == "mean") & (pl.col("k") == 10))
    return {
        "mean_ndcg10": mean10.select("setting", "method", "ndcg", "ci_low", "ci_high").to_dicts(),
        "per_strategy": table.to_dicts(),
        "recall_approved_top10": summary["recall_approved_top10"],
        "note": "all model scores out-of-fold; run `targetrank evaluate` for the full table",
    }


def _model_card(scorer: Scorer, inputs: RankInputs, seed: int) -> dict[str, Any]:
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


def _manifest(
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
    import lightgbm
    import sklearn

    from targetrank.api import feature_manifest

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
    from targetrank.api import feature_file

    evidence_file = Path(__file__).parent / "data" / "evidence.tsv"
    digest = hashlib.sha256(
        json.dumps(
            {
                "targets": inputs.targets["entrez_id"].to_list(),
                "strategies": inputs.strategies.ids,
                "weights": effective_weights,
                "features_sha256": _file_sha256(feature_file(inputs.feature_source)),
                "evidence_sha256": _file_sha256(evidence_file),
                "seed": seed,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return {
        "targetrank_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": list(command) if command else None,
        "seed": seed,
        "scorer": scorer_spec,
        "universe": universe,
        "strategies": inputs.strategies.ids,
        "strategy_info": {  # shown by report.html, which reads only the run folder
            s.id: {"number": s.number, "title": s.title, "description": s.description}
            for s in inputs.strategies
        },
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
            "lightgbm": lightgbm.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
    }


# ------------------------------------------------------------------------------------------
# evaluate()
# ------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Model vs baselines: level-1 AUC/AP and level-2 NDCG@5/10 with CIs."""

    table: pl.DataFrame  # long: strategy, setting, method, k, ndcg, ci_low, ci_high, ...
    prior: dict[str, Any]
    recall: dict[str, dict[str, float]]
    model_card: dict[str, Any]

    def wide(self) -> pl.DataFrame:
        """One row per (strategy, setting, k), one column per method."""
        from targetrank.model.evaluation import wide_table

        return wide_table(self.table)


def evaluate(
    strategies: Sequence[str] | None = None,
    features: str | Path = "snapshot",
    seed: int = 0,
    *,
    weights: str | Path | dict[str, dict[str, float]] | None = None,
    strategies_file: str | Path | None = None,
    n_bootstrap: int = 500,
    progress: ProgressCallback | None = None,
    ranker_options: dict[str, Any] | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    notice: NoticeCallback | None = None,
) -> Evaluation:
    """Evaluate the LightGBM ranker out-of-fold against PubMed, weighted and random baselines.

    ``cache``, ``cache_dir`` and ``notice`` work as in :func:`rank`.
    """
    from targetrank.model.ranker import LightGBMScorer

    if n_bootstrap < MIN_BOOTSTRAP:  # before fitting: fewer resamples give no interval
        raise UsageError(
            f"{n_bootstrap} bootstrap resamples cannot give a 95% interval",
            input=f"n_bootstrap={n_bootstrap}",
            done="nothing was computed",
            fix=f"use at least {MIN_BOOTSTRAP} (default 500), e.g. --bootstrap 200",
        )
    report = progress or no_progress
    inputs = load_inputs(
        strategies=strategies,
        strategies_file=strategies_file,
        weights=weights,
        features=features,
    )
    context = inputs.context(seed, report)
    model = LightGBMScorer(**{"n_bootstrap": 0, **(ranker_options or {})})
    _fit(model, context, cache=cache, cache_dir=cache_dir, notice=notice)
    report("evaluating", 0, 1)
    table, summary = _evaluate_fitted(model, context, inputs, seed, n_bootstrap)
    card = _model_card(model, inputs, seed)
    report("genome validation", 0, 1)
    card["genome_validation"] = genome_validation_of(model, context, inputs.strategies.ids, seed)
    return Evaluation(table, model.prior_.metrics, summary["recall_approved_top10"], card)
