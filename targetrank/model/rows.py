"""(target, strategy) rows: the gene features plus each strategy's conditioned features."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from targetrank.features.strategy import strategy_features
from targetrank.strategies import StrategySet


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
    if entrez_ids is not None:
        wanted = pl.Series("entrez_id", list(entrez_ids), dtype=pl.Int64)
        base = features.filter(pl.col("entrez_id").is_in(wanted.implode()))
    frames = []
    for strategy in strategies:
        sc = strategy_features(base, strategy).drop("entrez_id")
        indicators = [pl.lit(s.id == strategy.id).alias(indicator_name(s.id)) for s in strategies]
        frames.append(
            pl.concat([base, sc], how="horizontal").with_columns(
                pl.lit(strategy.id).alias("strategy"), *indicators
            )
        )
    out = pl.concat(frames, how="vertical")
    return out.select("strategy", pl.exclude("strategy"))
