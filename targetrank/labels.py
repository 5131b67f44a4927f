"""Genome-wide clinical-precedence labels: the training signal of the precedence prior.

A gene is a positive when it is the efficacy target of an approved drug in DrugCentral (2016) or in
Tier 1 of the Finan 2017 druggable genome (targets of approved drugs and clinical candidates).
These are labels, never features: both encode clinical precedence.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from targetrank.features._mapping import map_ensembl, map_symbols, uniprot_map


def build_precedence_labels(
    genes: pl.DataFrame, drugcentral: pl.DataFrame, finan: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """One row per gene: approved_drug_target, druggable_tier1 and their union ``precedence``.

    DrugCentral rows are mapped by human UniProt accession (rows whose Swiss-Prot entry is not
    ``*_HUMAN`` are skipped, so bacterial or viral targets never land on a human symbol); Finan
    rows by Ensembl id, else by symbol.
    """
    dc = (
        drugcentral.filter(pl.col("swissprot").fill_null("").str.contains("_HUMAN"))
        .with_row_index("row")
        .select("row", "drug_name", "uniprot_id", "gene")
    )
    by_uniprot = (
        dc.with_columns(pl.col("uniprot_id").str.split("|"))
        .explode("uniprot_id")
        .join(uniprot_map(genes), on="uniprot_id", how="inner")
    )
    by_gene = map_symbols(
        dc.join(by_uniprot.select("row").unique(), on="row", how="anti")
        .with_columns(pl.col("gene").str.split("|"))
        .explode("gene")
        .drop_nulls("gene"),
        "gene",
        genes,
        aliases,
    )
    approved_ids = pl.concat(
        [by_uniprot.select("entrez_id", "drug_name"), by_gene.select("entrez_id", "drug_name")]
    )
    approved_drugs = approved_ids.group_by("entrez_id").agg(
        pl.col("drug_name").unique().sort().str.join("; ").alias("approved_drugs_2016")
    )

    tier1 = finan.filter(pl.col("tier") == "Tier 1")
    by_ens = map_ensembl(tier1, "ensembl_id", genes).select("entrez_id")
    rest = tier1.join(
        map_ensembl(tier1, "ensembl_id", genes).select("ensembl_id").unique(),
        on="ensembl_id",
        how="anti",
    )
    by_sym = map_symbols(rest.drop_nulls("symbol"), "symbol", genes, aliases).select("entrez_id")
    tier1_ids = pl.concat([by_ens, by_sym]).unique()

    labels = (
        genes.select("entrez_id", "symbol", "ensembl_id")
        .join(approved_drugs, on="entrez_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("approved_drugs_2016").is_not_null().alias("approved_drug_target"),
            pl.col("entrez_id").is_in(tier1_ids["entrez_id"].implode()).alias("druggable_tier1"),
        )
        .with_columns(
            (pl.col("approved_drug_target") | pl.col("druggable_tier1")).alias("precedence")
        )
        .select(
            "entrez_id",
            "symbol",
            "ensembl_id",
            "precedence",
            "approved_drug_target",
            "druggable_tier1",
            "approved_drugs_2016",
        )
    )
    info = {
        "sources": ["drugcentral_targets", "finan2017"],
        "positives": int(labels["precedence"].sum()),
        "approved_drug_target": int(labels["approved_drug_target"].sum()),
        "druggable_tier1": int(labels["druggable_tier1"].sum()),
        "definition": "efficacy target of an approved drug (DrugCentral 2016-05) OR druggable "
        "genome Tier 1 (Finan et al. 2017: targets of approved drugs and clinical candidates)",
        "unmapped_tier1_rows": int(tier1.height - tier1_ids.height),
    }
    return labels, info
