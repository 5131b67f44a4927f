"""Map the identifiers each source uses (symbols, Ensembl, UniProt) onto Entrez gene ids.

Sources from different years use different symbols; mapping is deliberately conservative:
an approved symbol first, then an NCBI synonym only when it names exactly one gene. Anything else
stays unmapped (and so null in the feature table) rather than guessed.
"""

from __future__ import annotations

import polars as pl


def symbol_map(genes: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """Table ``key`` (upper-case symbol or unique synonym) → ``entrez_id``."""
    approved = genes.select(pl.col("symbol").str.to_uppercase().alias("key"), "entrez_id")
    synonyms = (
        aliases.select(pl.col("alias").str.to_uppercase().alias("key"), "entrez_id")
        .unique()
        .filter(pl.col("key").count().over("key") == 1)
        .join(approved, on="key", how="anti")
    )
    return pl.concat([approved, synonyms]).unique("key", keep="first")


def map_symbols(
    df: pl.DataFrame, column: str, genes: pl.DataFrame, aliases: pl.DataFrame
) -> pl.DataFrame:
    """Add ``entrez_id`` to ``df`` by its symbol ``column``; unmapped rows are dropped."""
    keyed = df.with_columns(pl.col(column).str.strip_chars().str.to_uppercase().alias("_key"))
    return keyed.join(symbol_map(genes, aliases), left_on="_key", right_on="key", how="inner").drop(
        "_key"
    )


def ensembl_map(genes: pl.DataFrame) -> pl.DataFrame:
    """Table ``ensembl_id`` (any of a gene's ids) → ``entrez_id`` (one row per pair)."""
    return (
        genes.select("entrez_id", "ensembl_ids")
        .explode("ensembl_ids")
        .drop_nulls("ensembl_ids")
        .rename({"ensembl_ids": "ensembl_id"})
    )


def map_ensembl(df: pl.DataFrame, column: str, genes: pl.DataFrame) -> pl.DataFrame:
    """Add ``entrez_id`` to ``df`` by its Ensembl ``column`` (version suffixes removed)."""
    keyed = df.with_columns(pl.col(column).str.replace(r"\.\d+$", "").alias("_ens"))
    return keyed.join(ensembl_map(genes), left_on="_ens", right_on="ensembl_id", how="inner").drop(
        "_ens"
    )


def uniprot_map(genes: pl.DataFrame) -> pl.DataFrame:
    """Table ``uniprot_id`` → ``entrez_id`` (accessions shared by several genes are dropped)."""
    pairs = (
        genes.select("entrez_id", "uniprot_ids")
        .explode("uniprot_ids")
        .drop_nulls("uniprot_ids")
        .rename({"uniprot_ids": "uniprot_id"})
    )
    return pairs.filter(pl.col("uniprot_id").count().over("uniprot_id") == 1)
