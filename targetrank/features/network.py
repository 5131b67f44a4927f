"""A gene's network neighbourhood: how much of it belongs to a strategy's cells (STRING v12).

Bone-cell and B-cell biology is network-coherent: sclerostin and DKK1 bind LRP5/6 on
osteoblasts, RANKL binds RANK on osteoclasts, CD19 sits in one complex with CD21 and CD81 on
B cells. A gene whose functional partners mark, or take part in a process of, the strategy's
compartments acts on those cells even when no marker list names the gene itself (DKK1 is on no
osteoblast or osteocyte list of the shared data). The network is STRING v12 recomputed without
text-mining (so co-mention in papers does not make an edge) at combined score >= 700; the edges
travel with the package, keyed by Entrez id like the feature table: ``targetrank snapshot
build`` writes ``targetrank/data/string_network.tsv.gz`` from ``../shared/data/string`` and the
strategy-conditioned feature ``sc_network`` reads it, so an edited strategy file gets the right
answer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl

from targetrank.features._packaged import both_directions, read_table, write_table

NETWORK_FILE = "string_network.tsv.gz"
#: STRING's "high confidence" threshold: an edge below it is not read as a functional partner.
MIN_SCORE = 700
NETWORK_HEADER = (
    "# STRING v12.0 human network recomputed without text-mining (Entrez ids; via the R package\n"
    "# dmfind, data/string.v12.Entrez.ntm.700.400.k3.rda), edges with combined score >= 700\n"
    "# between protein-coding genes of targetrank's gene index, one row per undirected edge\n"
    "# (entrez_a < entrez_b). Written by `targetrank snapshot build`. STRING is CC BY 4.0:\n"
    "# credit Szklarczyk et al. 2023 Nucleic Acids Res 51:D638.\n"
)
_SCHEMA = {"entrez_a": pl.Int64, "entrez_b": pl.Int64, "combined_score": pl.Int64}


def build_network(edges: pl.DataFrame, genes: pl.DataFrame) -> pl.DataFrame:
    """High-confidence undirected edges between genes of ``genes`` (entrez_a < entrez_b).

    ``edges``: entrez_a, entrez_b, combined_score (the STRING reader's table). Self-loops and
    genes outside the gene table are dropped; a pair listed twice keeps its highest score.
    """
    known = genes.select("entrez_id")
    lo = pl.min_horizontal("entrez_a", "entrez_b")
    hi = pl.max_horizontal("entrez_a", "entrez_b")
    return (
        edges.filter(pl.col("combined_score") >= MIN_SCORE)
        .select(lo.alias("entrez_a"), hi.alias("entrez_b"), "combined_score")
        .filter(pl.col("entrez_a") != pl.col("entrez_b"))
        .join(known, left_on="entrez_a", right_on="entrez_id", how="semi")
        .join(known, left_on="entrez_b", right_on="entrez_id", how="semi")
        .group_by("entrez_a", "entrez_b")
        .agg(pl.col("combined_score").max())
        .cast(_SCHEMA)
        .sort("entrez_a", "entrez_b")
    )


def write_network(table: pl.DataFrame, path: Path) -> None:
    """Write the edges as gzipped TSV atomically, with the provenance as ``#`` comment lines.

    Written with mtime 0 so the same edges give the same bytes (a rebuild shows no change).
    """
    write_table(table, path, NETWORK_HEADER, _SCHEMA, gzipped=True)


def read_network(path: str | Path | None = None) -> pl.DataFrame:
    """The packaged edges (or those of ``path``): entrez_a, entrez_b, combined_score."""
    return read_table(NETWORK_FILE, path, what="the STRING network", kind="network", schema=_SCHEMA)


@lru_cache(maxsize=1)
def neighbour_edges() -> pl.DataFrame:
    """Directed copies of the packaged edges: ``entrez_id`` → ``neighbour_id``."""
    return both_directions(read_network(), "entrez_a", "entrez_b", "neighbour_id")


def neighbour_share(genome: pl.DataFrame, member: pl.Expr) -> pl.DataFrame:
    """``entrez_id`` plus ``share``: the fraction of the gene's neighbours that are members.

    ``member`` is a Boolean expression over ``genome``'s columns (null read as False). The plain
    fraction, not shrunk towards the genome's: a specific interactor with two partners
    (sclerostin with LRP5 and LRP6) is not pulled down for having few recorded partners. Null
    for a gene without a high-confidence neighbour among ``genome``'s genes. Computed over the
    whole ``genome`` so a gene's value never depends on which other genes a panel holds.
    """
    flags = genome.select("entrez_id", member.fill_null(False).alias("_member"))
    edges = neighbour_edges().join(flags.select("entrez_id"), on="entrez_id", how="semi")
    share = (
        edges.join(flags, left_on="neighbour_id", right_on="entrez_id", how="inner")
        .group_by("entrez_id")
        .agg(pl.col("_member").mean().alias("share"))
    )
    return flags.select("entrez_id").join(share, on="entrez_id", how="left", maintain_order="left")
