"""Open Targets and DepMap columns: registered here, filled from the real files by the connectors.

The Open Targets and DepMap matrix columns are declared once, in
:mod:`~targetrank.features.opentargets_columns` and :mod:`~targetrank.features.depmap_columns`;
this module registers them (and declares the RNAi, Project Score and housekeeping columns only
the offline files give). The embedded snapshot fills them from what ``../shared`` holds: the Open
Targets Platform 25.12 ``target_prioritisation`` bulk dataset (read by the bulk connector, as a
partial download) and the DepMap 26Q1 per-gene summary plus Sanger Project Score. What those
files cannot give stays null, with the reason per column in the manifest; ``targetrank fetch
opentargets`` (online, or a complete ``--bulk`` folder) and ``targetrank fetch depmap`` (the
matrices) produce tables with exactly these columns, and ``targetrank features merge`` overlays
them on the snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from targetrank.features.depmap_columns import DEPMAP_SPECS
from targetrank.features.opentargets_columns import OT_SPECS
from targetrank.features.registry import FeatureSpec, register

OT_NULL_REASON = (
    "the Open Targets download in shared/ holds only the target_prioritisation dataset; this "
    "column needs another dataset: run `targetrank fetch opentargets` (API or a complete --bulk "
    "folder), then `targetrank features merge`"
)
DEPMAP_NULL_REASON = (
    "the offline DepMap source is a per-gene summary (mean, sd, n) without per-model values; "
    "dependent fractions, lineage/site effects, expression and selectivity need the matrices: "
    "run `targetrank fetch depmap`, then `targetrank features merge`"
)


#: DEMETER2 RNAi columns: only the per-gene summary gives them (the portal's DEMETER2 v6 data
#: set is not part of a DepMap Public release download).
RNAI_SPECS = [
    FeatureSpec(
        "depmap_rnai_mean_effect",
        pl.Float64,
        "mean DEMETER2 (RNAi) gene effect over all screened models (DEMETER2 Data v6)",
        family="depmap",
        label="RNAi dependency (DEMETER2)",
    ),
    FeatureSpec(
        "depmap_rnai_sd_effect",
        pl.Float64,
        "standard deviation of the DEMETER2 (RNAi) gene effect over models (back-calculated "
        "by the summary's author; approximate)",
        family="depmap",
        label="spread of RNAi dependency across lines (DepMap)",
    ),
    FeatureSpec(
        "depmap_rnai_n_models",
        pl.Int64,
        "support: models with a DEMETER2 value",
        family="depmap",
        label="models measured by RNAi (DepMap)",
        model=False,
        bounds=(0, None),
    ),
]
#: Columns of DEPMAP_SPECS that the per-gene summary gives (the rest need the matrices).
SUMMARY_COLUMNS = ("depmap_mean_effect", "depmap_sd_effect", "depmap_n_models")

PROJECTSCORE_SPECS = [
    FeatureSpec(
        f"ps_fitness_pct{suffix}",
        pl.Float64,
        f"% of {where} in which the gene is a fitness gene (Sanger Project Score, Behan 2019); "
        "0 for a screened gene the file does not list",
        family="depmap",
        label=f"fitness gene in % of {where} (Project Score)",
        bounds=(0, 100),
    )
    for suffix, where in [
        ("", "the 325 cancer lines"),
        ("_bone", "bone cancer lines"),
        ("_breast", "breast cancer lines"),
        ("_lung", "lung cancer lines"),
    ]
]

HOUSEKEEPING_SPECS = [
    FeatureSpec(
        "core_essential_control",
        pl.Boolean,
        "in DepMap's Achilles common-essential positive controls (Hart 2015 ∩ Blomen 2015 core "
        "essentials, DepMap Public 24Q4)",
        family="safety",
        label="core-essential control gene (Hart/Blomen)",
    ),
    FeatureSpec(
        "ps_adam_core",
        pl.Boolean,
        "in the ADaM pan-cancer core-fitness genes of Project Score (Behan 2019)",
        family="safety",
        label="pan-cancer core fitness (ADaM)",
    ),
    FeatureSpec(
        "ribosomal_protein",
        pl.Boolean,
        "in HGNC's 'Ribosomal proteins' gene group (cytoplasmic and mitochondrial ribosome)",
        family="safety",
        label="ribosomal protein (HGNC)",
    ),
    FeatureSpec(
        "mito_encoded",
        pl.Boolean,
        "encoded by the mitochondrial genome (NCBI Gene chromosome MT)",
        family="safety",
        label="mitochondrially encoded",
    ),
    FeatureSpec(
        "respiratory_chain",
        pl.Boolean,
        "in HGNC's 'Mitochondrial respiratory chain complexes' group (complexes I-V subunits, "
        "nuclear or mitochondrially encoded): oxidative-phosphorylation machinery",
        family="safety",
        label="respiratory-chain subunit (HGNC)",
    ),
    FeatureSpec(
        "core_machinery",
        pl.Boolean,
        "in an HGNC gene group of the cell's core machinery (proteasome, aminoacyl-tRNA "
        "synthetases, major and minor spliceosome, RNA polymerase subunits, mitochondrial "
        "import (TOM, TIM22, TIM23, SAM) and respiratory-chain assembly factors, chaperonins, "
        "eIF3, RNA exosome, MCM2-7, ribosome biogenesis factors, histones): every cell needs "
        "it, so no strategy here targets it",
        family="safety",
        label="core cellular machinery (HGNC)",
        model=False,
        model_refusal=(
            "a gate, not a signal: the not_housekeeping gate reads it; the trees keep learning "
            "from the essentiality data themselves"
        ),
    ),
]

#: HGNC gene groups (rolled-up names, HGNC 2024-10) of machinery every cell needs, beyond the
#: ribosome and respiratory chain: their members are never targets of a strategy here. Mediator
#: (CDK8, an NK-cell target) and the histone deacetylases are deliberately not included.
CORE_MACHINERY_GROUPS: tuple[str, ...] = (
    "Proteasome",
    "Aminoacyl tRNA synthetases",
    "Major spliceosome",
    "Minor spliceosome",
    "RNA polymerase subunits",
    "Translocase of outer mitochondrial membrane complex",
    "TIM22 complex",
    "TIM23 complex",
    "Mitochondrial sorting and assembly machinery complex",
    "Mitochondrial respiratory chain complex assembly factors",
    "Chaperonins",
    "Eukaryotic translation initiation factor 3",
    "Exosome complex",
    "minichromosome maintenance 2-7 complex",
    "Ribosomal biogenesis factors",
    "Histones",
)


def _nulls(genes: pl.DataFrame, specs: list[FeatureSpec]) -> pl.DataFrame:
    return genes.select("entrez_id", *[pl.lit(None, s.dtype).alias(s.name) for s in specs])


@register(
    OT_SPECS,
    requires=("opentargets_features",),
    sources=("opentargets_prioritisation",),
    null_reason=OT_NULL_REASON,
)
def opentargets(genes: pl.DataFrame, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Open Targets columns from the connector's feature table (keyed by Ensembl id)."""
    ot = tables["opentargets_features"]
    joined = genes.select("entrez_id", "ensembl_id").join(
        ot, on="ensembl_id", how="left", maintain_order="left"
    )
    return joined.select(
        "entrez_id",
        *[
            pl.col(s.name).cast(s.dtype)
            if s.name in ot.columns
            else pl.lit(None, s.dtype).alias(s.name)
            for s in OT_SPECS
        ],
    )


@register(
    [*DEPMAP_SPECS, *RNAI_SPECS],
    requires=("depmap_features",),
    sources=("depmap_gene_summary",),
    null_reason=DEPMAP_NULL_REASON,
)
def depmap(genes: pl.DataFrame, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """DepMap columns from a per-gene table keyed by Entrez id (summary or matrices)."""
    dm = tables["depmap_features"]
    specs = [*DEPMAP_SPECS, *RNAI_SPECS]
    joined = genes.select("entrez_id").join(dm, on="entrez_id", how="left", maintain_order="left")
    return joined.select(
        "entrez_id",
        *[
            pl.col(s.name).cast(s.dtype)
            if s.name in dm.columns
            else pl.lit(None, s.dtype).alias(s.name)
            for s in specs
        ],
    )


@register(PROJECTSCORE_SPECS, requires=("projectscore_features",), sources=("projectscore",))
def projectscore(genes: pl.DataFrame, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Project Score fitness-gene frequencies (see ``features.essentiality``)."""
    ps = tables["projectscore_features"]
    return genes.select("entrez_id").join(ps, on="entrez_id", how="left", maintain_order="left")


@register(
    HOUSEKEEPING_SPECS,
    requires=("depmap_controls", "projectscore_core", "hgnc_groups", "genes_annotation"),
    sources=("depmap_controls", "projectscore_core", "hgnc_groups", "ncbi_genes"),
)
def housekeeping(genes: pl.DataFrame, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Core-essential, ribosomal, respiratory-chain, MT-encoded and core-machinery genes.

    None of them is a target of any strategy here (the ``not_housekeeping`` gate).
    """
    controls = tables["depmap_controls"]["entrez_id"].drop_nulls()
    core = tables["projectscore_core"]["symbol"]
    groups = tables["hgnc_groups"]
    ribosomal = groups.filter(pl.col("group_name") == "Ribosomal proteins")["symbol"]
    respiratory = groups.filter(
        pl.col("group_name") == "Mitochondrial respiratory chain complexes"
    )["symbol"]
    machinery = groups.filter(pl.col("group_name").is_in(CORE_MACHINERY_GROUPS))["symbol"]
    annotation = tables["genes_annotation"]
    mito = annotation.filter(pl.col("chromosome") == "MT")["entrez_id"]
    return genes.select(
        "entrez_id",
        pl.col("entrez_id").is_in(controls.implode()).alias("core_essential_control"),
        pl.col("symbol").is_in(core.implode()).alias("ps_adam_core"),
        pl.col("symbol").is_in(ribosomal.implode()).alias("ribosomal_protein"),
        pl.col("entrez_id").is_in(mito.implode()).alias("mito_encoded"),
        pl.col("symbol").is_in(respiratory.implode()).alias("respiratory_chain"),
        pl.col("symbol").is_in(machinery.implode()).alias("core_machinery"),
    )
