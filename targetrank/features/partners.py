"""Ligand–receptor partners: which genes signal to which (LIANA's OmniPath consensus resource).

Strategy 1 of the review acts on the signals that recruit and expand the co-opted cells as much as
on the cells' own markers: IL-6 and VEGF expand MDSCs, CSF1 feeds macrophages, CXCL12 and CCL2
draw myeloid cells and Tregs into the marrow. Whether a gene signals to a strategy's cells depends
on the strategy file's compartments (a user may edit them), so the pairs themselves travel with
the package, keyed by Entrez id like the feature table: ``targetrank snapshot build`` writes
``targetrank/data/ligand_receptor_pairs.tsv`` from ``../shared/data/liana`` and the
strategy-conditioned feature ``sc_ligand_receptor`` reads it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl

from targetrank.features._mapping import map_symbols
from targetrank.features._packaged import both_directions, read_table, write_table

PAIRS_FILE = "ligand_receptor_pairs.tsv"
PAIRS_HEADER = (
    "# Ligand-receptor pairs of the LIANA consensus resource (OmniPath; liana 1.10.0,\n"
    "# liana/resource/omni_resource.csv, resource == 'consensus'), complexes split into their\n"
    "# subunits, symbols mapped to NCBI Entrez ids by targetrank's gene index (approved symbol,\n"
    "# then a synonym naming one gene; unmapped pairs dropped). Written by `targetrank snapshot\n"
    "# build`; the consensus compiles CellPhoneDB, CellChatDB, CellTalkDB, ... with their own\n"
    "# terms: credit OmniPath (Turei et al. 2021) and LIANA (Dimitrov et al. 2022).\n"
)
_SCHEMA = {
    "ligand_entrez": pl.Int64,
    "ligand": pl.String,
    "receptor_entrez": pl.Int64,
    "receptor": pl.String,
}


def build_pairs(liana: pl.DataFrame, genes: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """Entrez-keyed pairs from the ``ligand``/``receptor`` symbol table of the LIANA reader.

    A pair whose ligand or receptor maps to no gene is dropped (never guessed); self-pairs of a
    homodimer are dropped too, since they say nothing about another cell.
    """
    lig = map_symbols(liana, "ligand", genes, aliases).rename({"entrez_id": "ligand_entrez"})
    both = map_symbols(lig, "receptor", genes, aliases).rename({"entrez_id": "receptor_entrez"})
    names = genes.select("entrez_id", "symbol")
    return (
        both.select("ligand_entrez", "receptor_entrez")
        .filter(pl.col("ligand_entrez") != pl.col("receptor_entrez"))
        .unique()
        .join(names.rename({"entrez_id": "ligand_entrez", "symbol": "ligand"}), on="ligand_entrez")
        .join(
            names.rename({"entrez_id": "receptor_entrez", "symbol": "receptor"}),
            on="receptor_entrez",
        )
        .select(list(_SCHEMA))
        .cast(_SCHEMA)
        .sort("ligand", "receptor")
    )


def write_pairs(table: pl.DataFrame, path: Path) -> None:
    """Write the pairs TSV atomically, with its provenance as ``#`` comment lines."""
    write_table(table, path, PAIRS_HEADER, _SCHEMA)


def read_pairs(path: str | Path | None = None) -> pl.DataFrame:
    """The pairs table (default: the packaged one): ligand_entrez, ligand, receptor_entrez, receptor."""
    return read_table(
        PAIRS_FILE, path, what="the ligand-receptor pairs", kind="pairs", schema=_SCHEMA
    )


@lru_cache(maxsize=1)
def partner_edges() -> pl.DataFrame:
    """Undirected edges ``entrez_id`` → ``partner_id`` of the packaged pairs (both directions)."""
    return both_directions(read_pairs(), "ligand_entrez", "receptor_entrez", "partner_id").unique()


def pairs_with(genome: pl.DataFrame, member: pl.Expr) -> pl.DataFrame:
    """``entrez_id`` plus ``in_pair``: the gene has a partner and it or a partner is a member.

    ``member`` is a Boolean expression over ``genome``'s columns (null read as False); a gene with
    no ligand-receptor partner is False. Computed over the whole ``genome`` so a gene's value
    never depends on which other genes a panel holds.
    """
    flags = genome.select("entrez_id", member.fill_null(False).alias("_member"))
    edges = partner_edges()
    partner_member = (
        edges.join(flags, left_on="partner_id", right_on="entrez_id", how="inner")
        .group_by("entrez_id")
        .agg(pl.col("_member").any().alias("_partner"))
    )
    return flags.join(partner_member, on="entrez_id", how="left", maintain_order="left").select(
        "entrez_id",
        (pl.col("_partner").is_not_null() & (pl.col("_partner") | pl.col("_member"))).alias(
            "in_pair"
        ),
    )
