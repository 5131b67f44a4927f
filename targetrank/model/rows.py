"""(target, strategy) rows: the gene features plus each strategy's conditioned features."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from targetrank.features.strategy import strategy_features
from targetrank.strategies import StrategySet


def _unlearnable(columns: Iterable[str]) -> set[str]:
    """Columns a strategy score fed to a model must not read: leaky or literature volume."""
    from targetrank.features import REGISTRY
    from targetrank.model.leakage import leakage_features

    specs = REGISTRY.specs()
    cols = list(columns)
    literature = {c for c in cols if c in specs and specs[c].family == "literature"}
    return set(leakage_features(cols)) | literature


def indicator_name(strategy_id: str) -> str:
    """Column flagging rows of one strategy (lets trees learn strategy-specific splits)."""
    return f"strategy_is_{strategy_id}"


def strategy_rows(
    features: pl.DataFrame,
    strategies: StrategySet,
    entrez_ids: Iterable[int] | None = None,
) -> pl.DataFrame:
    """One row per (gene, strategy), strategies in file order, genes in table order.

    Columns: ``strategy`` first, then the gene table's columns, the ``sc_*`` features and one
    ``strategy_is_<id>`` indicator per strategy.
    """
    base = features
    reference = None  # the genome table itself: normalised against base, computed once
    if entrez_ids is not None:
        wanted = pl.Series("entrez_id", list(entrez_ids), dtype=pl.Int64)
        base = features.filter(pl.col("entrez_id").is_in(wanted.implode()))
        reference = features
    frames = []
    for strategy in strategies:
        skip = _unlearnable(w.feature for w in strategy.weights)
        sc = strategy_features(base, strategy, reference=reference, skip=skip).drop("entrez_id")
        indicators = [pl.lit(s.id == strategy.id).alias(indicator_name(s.id)) for s in strategies]
        frames.append(
            pl.concat([base, sc], how="horizontal").with_columns(
                pl.lit(strategy.id).alias("strategy"), *indicators
            )
        )
    out = pl.concat(frames, how="vertical")
    return out.select("strategy", pl.exclude("strategy"))
