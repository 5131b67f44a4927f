"""Gene-level feature families computed from the real offline sources in ``../shared``.

Each group is registered under a stable key; its columns are documented in the registry and the
snapshot manifest. Missing is null: a gene absent from a source that only covers part of the
genome (HPA subcellular, HPA expression, gnomAD) gets null, never 0. Membership in a genome-wide
list (SURFY's surfaceome, PanglaoDB's marker list, DepMap's common essentials) is a fact for every
gene, so absence there is False.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import polars as pl

from targetrank.features._mapping import map_ensembl, map_symbols, uniprot_map
from targetrank.features.depmap_columns import COMMON_ESSENTIAL_SPEC
from targetrank.features.go_terms import EXOSOME_SENSITIVE, GO_COLUMNS
from targetrank.features.registry import FeatureSpec, register

# the C library's log1p element by element: unlike numpy's, its bits do not depend on whether
# the CPU has AVX-512 (see hpa_tissue's tau)
_LOG1P = np.vectorize(math.log1p, otypes=[np.float64])

Tables = Mapping[str, pl.DataFrame]

# ---------------------------------------------------------------------------------------------
# GO membership (58 terms)
# ---------------------------------------------------------------------------------------------

_GO_FAMILY = {"CC": "localisation", "MF": "target_class", "BP": "process"}


@register(
    [
        FeatureSpec(
            col,
            pl.Boolean,
            f"annotated to GO '{name}' ({go_id}) or a descendant"
            + ("; regulation-only links excluded" if ont == "BP" else "")
            + ("; exosome-proteomics-only calls excluded" if go_id in EXOSOME_SENSITIVE else "")
            + ". Null when the gene has no annotation to any of the 58 selected terms.",
            family=_GO_FAMILY[ont],  # type: ignore[arg-type]
            label=f"GO: {name}",
        )
        for go_id, (col, name, ont) in GO_COLUMNS.items()
    ],
    requires=("go_terms",),
    sources=("go",),
)
def go_membership(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """One Boolean column per selected GO term (participation, not regulation)."""
    go = tables["go_terms"]
    annotated = go.select("entrez_id").unique()
    counts = go.filter(
        (pl.col("via") != "regulates")
        & ~(pl.col("go_id").is_in(list(EXOSOME_SENSITIVE)) & pl.col("exosome_only"))
    )
    wide = (
        counts.select("entrez_id", "go_id")
        .unique()
        .with_columns(pl.lit(True).alias("member"))
        .pivot(on="go_id", index="entrez_id", values="member")
    )
    for go_id in GO_COLUMNS:
        if go_id not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Boolean).alias(go_id))
    wide = wide.rename({go_id: col for go_id, (col, _, _) in GO_COLUMNS.items()})
    cols = [c for c, _, _ in GO_COLUMNS.values()]
    # genes annotated to some selected term: missing membership is False; others stay null
    return (
        annotated.join(wide, on="entrez_id", how="left", maintain_order="left")
        .with_columns(pl.col(c).fill_null(False) for c in cols)
        .select("entrez_id", *cols)
    )


# ---------------------------------------------------------------------------------------------
# Localisation: surfaceome, HPA subcellular, combined surface / secreted calls
# ---------------------------------------------------------------------------------------------


@register(
    [
        FeatureSpec(
            "surface_surfy",
            pl.Boolean,
            "in the SURFY 2018 in silico human surfaceome (2,886 proteins); genome-wide "
            "prediction, so absence is False",
            family="localisation",
            label="surface protein (SURFY)",
        ),
        FeatureSpec(
            "surface_cspa",
            pl.Boolean,
            "observed at the cell surface by mass spectrometry in the CSPA 2015 atlas "
            "(high-confidence or putative); absence means not observed in its 47 cell types",
            family="localisation",
            label="surface protein observed (CSPA)",
        ),
    ],
    requires=("surfy", "cspa"),
    sources=("surfy", "cspa"),
)
def surfaceome(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """Surface membership from SURFY (prediction) and CSPA (mass spectrometry)."""
    surfy = tables["surfy"]
    by_entrez = surfy.select("entrez_id").drop_nulls()
    by_uniprot = surfy.join(uniprot_map(genes), on="uniprot_id", how="inner", suffix="_u").select(
        pl.col("entrez_id_u").alias("entrez_id")
    )
    in_surfy = pl.concat([by_entrez, by_uniprot]).unique()
    cspa = (
        tables["cspa"]
        .filter(pl.col("category").str.starts_with("1") | pl.col("category").str.starts_with("2"))
        .select("entrez_id")
        .drop_nulls()
        .unique()
    )
    return genes.select(
        "entrez_id",
        pl.col("entrez_id").is_in(in_surfy["entrez_id"].implode()).alias("surface_surfy"),
        pl.col("entrez_id").is_in(cspa["entrez_id"].implode()).alias("surface_cspa"),
    )


@register(
    [
        FeatureSpec(
            "hpa_location_plasma_membrane",
            pl.Boolean,
            "HPA immunofluorescence places the protein at the plasma membrane (main or additional "
            "location); null for genes HPA v21 did not stain",
            family="localisation",
            label="plasma membrane (HPA)",
        ),
        FeatureSpec(
            "hpa_predicted_secreted",
            pl.Boolean,
            "HPA v21 'Extracellular location: Predicted to be secreted'; null for genes absent "
            "from the HPA subcellular table",
            family="localisation",
            label="predicted secreted (HPA)",
        ),
    ],
    requires=("hpa_subcellular",),
    sources=("hpa_subcellular",),
)
def hpa_location(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """HPA subcellular location calls (cell-line immunofluorescence)."""
    loc = tables["hpa_subcellular"]
    located = pl.concat_str(
        [pl.col("main_location").fill_null(""), pl.col("additional_location").fill_null("")],
        separator=";",
    )
    calls = loc.select(
        "ensembl_id",
        located.str.contains("Plasma membrane").alias("hpa_location_plasma_membrane"),
        pl.col("extracellular_location")
        .fill_null("")
        .str.contains("secreted")
        .alias("hpa_predicted_secreted"),
    )
    mapped = map_ensembl(calls, "ensembl_id", genes).drop("ensembl_id")
    return mapped.group_by("entrez_id").agg(
        pl.col("hpa_location_plasma_membrane").any(), pl.col("hpa_predicted_secreted").any()
    )


@register(
    [
        FeatureSpec(
            "is_surface",
            pl.Boolean,
            "surface protein by any source: SURFY surfaceome, CSPA high-confidence, or GO "
            "integral component of / external side of the plasma membrane",
            family="localisation",
            label="cell-surface protein",
        ),
        FeatureSpec(
            "is_secreted",
            pl.Boolean,
            "secreted by GO extracellular space (not exosome-only) or HPA 'predicted to be "
            "secreted'; null when neither GO nor HPA has data for the gene",
            family="localisation",
            label="secreted protein",
        ),
        FeatureSpec(
            "druggable_family_sm",
            pl.Boolean,
            "member of a small-molecule-tractable protein family by GO molecular function "
            "(protein kinase, GPCR, ion channel, nuclear receptor, peptidase, transporter); "
            "druggability by similarity, not clinical precedence",
            family="target_class",
            label="small-molecule-tractable family",
        ),
    ],
    requires=("go_terms", "surfy", "cspa", "hpa_subcellular"),
    sources=("go", "surfy", "cspa", "hpa_subcellular"),
)
def combined_localisation(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """Combined surface/secreted calls and a GO-family tractability flag."""
    go = go_membership(genes, tables)
    surf = surfaceome(genes, tables)
    hpa = hpa_location(genes, tables)
    cspa_hc = (
        tables["cspa"].filter(pl.col("category").str.starts_with("1")).select("entrez_id").unique()
    )
    df = (
        genes.select("entrez_id")
        .join(go, on="entrez_id", how="left", maintain_order="left")
        .join(surf, on="entrez_id", how="left", maintain_order="left")
        .join(hpa, on="entrez_id", how="left", maintain_order="left")
    )
    sm_families = [
        "go_protein_kinase",
        "go_gpcr",
        "go_ion_channel",
        "go_nuclear_receptor",
        "go_peptidase",
        "go_transporter",
    ]
    go_surface = pl.col("go_integral_plasma_membrane").fill_null(False) | pl.col(
        "go_external_side_plasma_membrane"
    ).fill_null(False)
    secreted_known = (
        pl.col("go_extracellular_space").is_not_null()
        | pl.col("hpa_predicted_secreted").is_not_null()
    )
    secreted = pl.col("go_extracellular_space").fill_null(False) | pl.col(
        "hpa_predicted_secreted"
    ).fill_null(False)
    return df.select(
        "entrez_id",
        (
            pl.col("surface_surfy")
            | pl.col("entrez_id").is_in(cspa_hc["entrez_id"].implode())
            | go_surface
        ).alias("is_surface"),
        pl.when(secreted_known).then(secreted).otherwise(None).alias("is_secreted"),
        pl.any_horizontal(sm_families).alias("druggable_family_sm"),
    )


# ---------------------------------------------------------------------------------------------
# Immune context: HPA blood cells, PanglaoDB markers
# ---------------------------------------------------------------------------------------------

HPA_BLOOD_CELLS = [
    "basophil",
    "classical_monocyte",
    "eosinophil",
    "gdT_cell",
    "intermediate_monocyte",
    "MAIT_T_cell",
    "memory_B_cell",
    "memory_CD4_T_cell",
    "memory_CD8_T_cell",
    "myeloid_DC",
    "naive_B_cell",
    "naive_CD4_T_cell",
    "naive_CD8_T_cell",
    "neutrophil",
    "NK_cell",
    "non_classical_monocyte",
    "plasmacytoid_DC",
    "T_reg",
    "total_PBMC",
]


def hpa_blood_column(cell: str) -> str:
    """Feature column name of an HPA blood cell type."""
    return "hpa_blood_" + cell.lower()


@register(
    [
        FeatureSpec(
            hpa_blood_column(cell),
            pl.Float64,
            f"RNA expression in sorted blood {cell.replace('_', ' ')} (HPA v20 blood atlas, "
            "normalised expression); null for genes HPA did not quantify",
            family="immune",
            label=f"expression in {cell.replace('_', ' ')} (HPA)",
            bounds=(0, None),
        )
        for cell in HPA_BLOOD_CELLS
    ],
    requires=("hpa_blood",),
    sources=("hpa_blood",),
)
def hpa_blood(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """HPA RNA in 18 immune cell types and total PBMC."""
    blood = tables["hpa_blood"].rename({c: hpa_blood_column(c) for c in HPA_BLOOD_CELLS})
    cols = [hpa_blood_column(c) for c in HPA_BLOOD_CELLS]
    mapped = map_ensembl(blood, "ensembl_id", genes)
    return (
        mapped.group_by("entrez_id").agg(pl.col(c).max() for c in cols).select("entrez_id", *cols)
    )


#: PanglaoDB cell types (human-supported markers) that the strategies' compartments use.
PANGLAO_CELL_TYPES: dict[str, str] = {
    "Osteoclasts": "marker_osteoclast",
    "Osteoclast precursor cells": "marker_osteoclast_precursor",
    "Osteoblasts": "marker_osteoblast",
    "Osteocytes": "marker_osteocyte",
    "Chondrocytes": "marker_chondrocyte",
    "Macrophages": "marker_macrophage",
    "Monocytes": "marker_monocyte",
    "Myeloid-derived suppressor cells": "marker_mdsc",
    "Neutrophils": "marker_neutrophil",
    "Dendritic cells": "marker_dendritic_cell",
    "T regulatory cells": "marker_treg",
    "T cells": "marker_t_cell",
    "T cytotoxic cells": "marker_cytotoxic_t_cell",
    "T memory cells": "marker_memory_t_cell",
    "NK cells": "marker_nk_cell",
    "B cells": "marker_b_cell",
    "Plasma cells": "marker_plasma_cell",
    "Hematopoietic stem cells": "marker_hsc",
    "Endothelial cells": "marker_endothelial",
    "Fibroblasts": "marker_fibroblast",
}


@register(
    [
        FeatureSpec(
            col,
            pl.Boolean,
            f"PanglaoDB (2020) lists the gene as a human-supported marker of {ct.lower()}; "
            "PanglaoDB is a complete marker list, so absence is False",
            family="bone" if col.startswith(("marker_osteo", "marker_chondro")) else "immune",
            label=f"{ct.lower()} marker (PanglaoDB)",
        )
        for ct, col in PANGLAO_CELL_TYPES.items()
    ],
    requires=("panglaodb", "aliases"),
    sources=("panglaodb",),
)
def panglao_markers(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """Marker membership per cell type (rows whose species include Hs)."""
    markers = tables["panglaodb"].filter(
        pl.col("species").fill_null("").str.contains("Hs")
        & pl.col("cell_type").is_in(list(PANGLAO_CELL_TYPES))
    )
    mapped = map_symbols(markers, "symbol", genes, tables["aliases"])
    out = genes.select("entrez_id")
    for ct, col in PANGLAO_CELL_TYPES.items():
        ids = mapped.filter(pl.col("cell_type") == ct)["entrez_id"].unique()
        out = out.with_columns(pl.col("entrez_id").is_in(ids.implode()).alias(col))
    return out


# ---------------------------------------------------------------------------------------------
# Tissue expression and safety
# ---------------------------------------------------------------------------------------------

HPA_TISSUES_KEPT = [
    "bone_marrow",
    "lymph_node",
    "spleen",
    "thymus",
    "breast",
    "prostate",
    "lung",
    "liver",
    "kidney",
    "heart_muscle",
]
#: Blood-cell groups mixed into HPA's tissue consensus table; not tissues.
HPA_BLOOD_GROUPS = [
    "B_cells",
    "dendritic_cells",
    "granulocytes",
    "monocytes",
    "NK_cells",
    "T_cells",
    "total_PBMC",
]
#: Organs whose on-target expression is a classic dose-limiting toxicity for engineered cells.
VITAL_TISSUES = [
    "heart_muscle",
    "liver",
    "kidney",
    "lung",
    "cerebral_cortex",
    "cerebellum",
    "pons_and_medulla",
    "spinal_cord",
    "pancreas",
    "small_intestine",
    "colon",
    "stomach",
]


@register(
    [
        *[
            FeatureSpec(
                f"hpa_tissue_{t}",
                pl.Float64,
                f"consensus RNA expression in {t.replace('_', ' ')} (HPA v20, normalised "
                "expression); null for genes HPA did not quantify",
                family="bone" if t == "bone_marrow" else "immune",
                label=f"expression in {t.replace('_', ' ')} (HPA)",
                bounds=(0, None),
            )
            for t in HPA_TISSUES_KEPT
        ],
        FeatureSpec(
            "hpa_tissue_breadth",
            pl.Float64,
            "fraction of HPA tissues (blood-cell groups excluded) with expression >= 1; broad "
            "expression signals systemic on-target liabilities",
            family="safety",
            label="breadth of normal-tissue expression",
            bounds=(0, 1),
        ),
        FeatureSpec(
            "hpa_tissue_tau",
            pl.Float64,
            "tissue specificity tau (0 = ubiquitous, 1 = one tissue) over log expression in HPA "
            "tissues",
            family="safety",
            label="tissue specificity",
            bounds=(0, 1),
        ),
        FeatureSpec(
            "hpa_vital_organ_max",
            pl.Float64,
            "highest expression across vital organs (heart, liver, kidney, lung, brain, "
            "pancreas, gut); on-target/off-tumour risk for engineered cells",
            family="safety",
            label="expression in vital organs",
            bounds=(0, None),
        ),
    ],
    requires=("hpa_tissue",),
    sources=("hpa_tissue",),
)
def hpa_tissue(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """Selected tissue expression plus breadth, specificity and vital-organ maximum."""
    tissue = tables["hpa_tissue"]
    tissues = [c for c in tissue.columns if c != "ensembl_id" and c not in HPA_BLOOD_GROUPS]
    vital = [t for t in VITAL_TISSUES if t in tissue.columns]
    # tau with the C library's log1p and a fixed summation order, so that rebuilds are value-for-
    # value identical across machines: numpy's own log1p takes a vectorised path on AVX-512 CPUs
    # whose last bit differs from other CPUs' for ~8 % of HPA's values (2,647 genes' tau moved)
    logs = _LOG1P(tissue.select(tissues).to_numpy())
    present = (~np.isnan(logs)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as wanted
        max_log = np.nanmax(logs, axis=1, keepdims=True)
        terms = np.nan_to_num(1 - logs / max_log, nan=0.0)
        # column by column: np.nansum's pairwise SIMD sum depends on memory alignment, which
        # gave rebuilds one ulp apart on some machines
        total = np.zeros(terms.shape[0])
        for j in range(terms.shape[1]):
            total += terms[:, j]
        tau_values = total / (present - 1)
    tau_values[(max_log[:, 0] <= 0) | np.isnan(max_log[:, 0]) | (present < 2)] = np.nan
    n = len(tissues)
    tau = pl.Series("tau", tau_values).fill_nan(None)
    derived = tissue.select(
        "ensembl_id",
        *[pl.col(t).alias(f"hpa_tissue_{t}") for t in HPA_TISSUES_KEPT],
        (pl.sum_horizontal([(pl.col(t) >= 1).cast(pl.Int32) for t in tissues]) / n).alias(
            "hpa_tissue_breadth"
        ),
        pl.lit(tau).alias("hpa_tissue_tau"),
        pl.max_horizontal([pl.col(t) for t in vital]).alias("hpa_vital_organ_max"),
    )
    cols = [c for c in derived.columns if c != "ensembl_id"]
    mapped = map_ensembl(derived, "ensembl_id", genes)
    return (
        mapped.group_by("entrez_id").agg(pl.col(c).max() for c in cols).select("entrez_id", *cols)
    )


@register(
    [
        FeatureSpec(
            "gnomad_pli",
            pl.Float64,
            "gnomAD v2.1.1 probability of loss-of-function intolerance (pLI); high values flag "
            "genes whose inhibition may be poorly tolerated; null when gnomAD gives none",
            family="safety",
            label="LoF intolerance (gnomAD pLI)",
            bounds=(0, 1),
        )
    ],
    requires=("gnomad", "aliases"),
    sources=("gnomad",),
)
def gnomad(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """pLI by symbol; a symbol listed twice keeps its highest (most cautious) value."""
    mapped = map_symbols(tables["gnomad"].drop_nulls("pli"), "symbol", genes, tables["aliases"])
    return mapped.group_by("entrez_id").agg(pl.col("pli").max().alias("gnomad_pli"))


@register(
    [COMMON_ESSENTIAL_SPEC],
    requires=("depmap_common_essentials",),
    sources=("depmap_common_essentials",),
)
def depmap_common_essential(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """Common-essential flag from the released list (genes not listed are not essential)."""
    listed = tables["depmap_common_essentials"]["entrez_id"].unique()
    return genes.select(
        "entrez_id", pl.col("entrez_id").is_in(listed.implode()).alias("depmap_common_essential")
    )


# ---------------------------------------------------------------------------------------------
# Literature
# ---------------------------------------------------------------------------------------------


@register(
    [
        FeatureSpec(
            "pubmed_count",
            pl.Int64,
            "PubMed articles linked to the gene in NCBI gene2pubmed (2022-09)",
            family="literature",
            label="PubMed articles",
            bounds=(0, None),
        ),
        FeatureSpec(
            "pubmed_count_focused",
            pl.Int64,
            "PubMed articles linked to at most 10 genes (discounts high-throughput papers); a "
            "popularity measure, also the popularity baseline",
            family="literature",
            label="focused PubMed articles",
            bounds=(0, None),
        ),
    ],
    requires=("genes_annotation",),
    sources=("ncbi_genes",),
)
def literature(genes: pl.DataFrame, tables: Tables) -> pl.DataFrame:
    """Literature volume from NCBI gene2pubmed."""
    return tables["genes_annotation"].select("entrez_id", "pubmed_count", "pubmed_count_focused")
