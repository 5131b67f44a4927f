"""Essentiality features from per-gene summaries (DepMap 26Q1 summary, Project Score): pure.

The offline snapshot has no DepMap matrices, only a per-gene summary (mean, sd and number of
models for CRISPR Chronos and DEMETER2 RNAi). Its CRISPR columns are the same quantities
:func:`targetrank.features.depmap.depmap_gene_features` computes from the full matrix (mean and
sample sd of the gene effect over all models, number of models), so a feature does not depend
on how the data arrived; what only per-model values give (fraction of lines dependent, lineage
effects, selectivity) stays null.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class SymbolMapping:
    """How the symbols of a source file mapped onto the gene index."""

    mapped: int
    via_alias: int
    unmapped: int
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """For the manifest."""
        return {
            "mapped": self.mapped,
            "mapped_via_alias": self.via_alias,
            "unmapped": self.unmapped,
            "unmapped_examples": self.examples,
        }


def map_symbols(
    symbols: pl.Series, genes: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[pl.DataFrame, SymbolMapping]:
    """Map source symbols to Entrez ids: approved symbol first, else an unambiguous NCBI synonym.

    A synonym is used only when it names exactly one gene and that gene is not already claimed
    by another row's approved symbol (so a retired symbol never overwrites a current one).

    Returns:
        ``(symbol, entrez_id)`` for every input symbol (``entrez_id`` null when unmapped), and
        the counts for the manifest.
    """
    src = pl.DataFrame({"symbol": symbols}).unique(maintain_order=True)
    direct = src.join(
        genes.select("symbol", "entrez_id"), on="symbol", how="left", maintain_order="left"
    )
    claimed = set(direct["entrez_id"].drop_nulls().to_list())
    unique_alias = (
        aliases.filter(~pl.col("is_symbol"))
        .select("alias", "entrez_id")
        .unique()
        .filter(pl.col("alias").is_unique())
        .filter(~pl.col("entrez_id").is_in(list(claimed)))
        .rename({"alias": "symbol", "entrez_id": "alias_entrez"})
    )
    out = (
        direct.join(unique_alias, on="symbol", how="left", maintain_order="left")
        .with_columns(
            pl.col("entrez_id").is_null().and_(pl.col("alias_entrez").is_not_null()).alias("_a"),
            pl.coalesce("entrez_id", "alias_entrez").alias("entrez_id"),
        )
        # two synonyms may point at one gene: keep the first, drop the rest as unmapped
        .with_columns(
            pl.when(pl.col("_a") & pl.col("entrez_id").is_duplicated())
            .then(None)
            .otherwise(pl.col("entrez_id"))
            .alias("entrez_id")
        )
    )
    unmapped = out.filter(pl.col("entrez_id").is_null())["symbol"]
    report = SymbolMapping(
        mapped=out.height - unmapped.len(),
        via_alias=int(out.filter(pl.col("_a") & pl.col("entrez_id").is_not_null()).height),
        unmapped=unmapped.len(),
        examples=sorted(unmapped.to_list())[:10],
    )
    return out.select("symbol", "entrez_id"), report


def summary_features(
    summary: pl.DataFrame, genes: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[pl.DataFrame, SymbolMapping]:
    """Per-gene DepMap features from the summary, keyed by ``entrez_id`` (one row per gene)."""
    mapping, report = map_symbols(summary["gene"], genes, aliases)
    frame = (
        summary.join(mapping.rename({"symbol": "gene"}), on="gene", how="inner")
        .drop_nulls("entrez_id")
        .unique("entrez_id", keep="first", maintain_order=True)
        .select(
            "entrez_id",
            pl.col("crispr_mean").alias("depmap_mean_effect"),
            pl.col("crispr_sd").alias("depmap_sd_effect"),
            pl.col("crispr_n").alias("depmap_n_models"),
            pl.col("rnai_mean").alias("depmap_rnai_mean_effect"),
            pl.col("rnai_sd").alias("depmap_rnai_sd_effect"),
            pl.col("rnai_n").alias("depmap_rnai_n_models"),
        )
    )
    return frame, report


def projectscore_features(
    frequencies: pl.DataFrame, genes: pl.DataFrame, screened: pl.Series
) -> pl.DataFrame:
    """Project Score fitness-gene % per gene (overall, Bone, Breast, Lung).

    The file lists only genes that were a fitness gene in at least one of its 325 lines. A gene
    absent from it gets 0 % when it was screened genome-wide (``screened``: Entrez ids with a
    DepMap CRISPR value, a proxy for being in a genome-wide library), else null: 0 is what the
    data say for a screened gene, but nothing is known for one no library targets.
    """
    by_id = frequencies.filter(pl.col("entrez_id").is_not_null()).unique("entrez_id", keep="first")
    by_symbol = (
        frequencies.filter(pl.col("entrez_id").is_null())
        .drop("entrez_id")
        .join(genes.select("symbol", "entrez_id"), on="symbol", how="inner")
    )
    found = pl.concat([by_id, by_symbol.select(by_id.columns)]).unique("entrez_id", keep="first")
    cols = ["pct_all", "pct_bone", "pct_breast", "pct_lung"]
    names = [
        "ps_fitness_pct",
        "ps_fitness_pct_bone",
        "ps_fitness_pct_breast",
        "ps_fitness_pct_lung",
    ]
    out = genes.select("entrez_id").join(found, on="entrez_id", how="left", maintain_order="left")
    is_screened = pl.col("entrez_id").is_in(screened.implode())
    listed = pl.col("pct_all").is_not_null()
    return out.select(
        "entrez_id",
        *[
            pl.when(listed)
            .then(pl.col(c))
            .when(is_screened)
            .then(pl.lit(0.0))
            .otherwise(None)
            .alias(n)
            for c, n in zip(cols, names, strict=True)
        ],
    )
