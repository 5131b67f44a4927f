"""The inputs of a run: the target set, strategies, weights, feature table, evidence and labels.

Everything is loaded and checked here, before any model is fitted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from targetrank._types import (
    ProgressCallback,
    no_progress,
)
from targetrank.errors import DataError, UsageError
from targetrank.model.scoring import ScoringContext
from targetrank.results import Universe
from targetrank.strategies import StrategySet, Weight, check_weight
from targetrank.strategy_file import load_strategies, load_weights

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


def file_sha256(path: str | Path | None) -> str | None:
    """The SHA-256 of a file (``None`` for no file), recorded in the manifest."""
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
    from targetrank.evidence import evidence as load_evidence
    from targetrank.feature_folder import load_features, precedence_labels

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
                    check_weight(w.weight, feature=w.feature, strategy_id=sid)
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
