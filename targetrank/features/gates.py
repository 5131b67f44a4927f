"""Modality gates: what a target must be for a strategy's modality to reach it.

A gate is a yes/no rule over a gene's features, declared by name in the strategy file
(``gates = ["antibody_reachable", "not_housekeeping"]``). A gene that fails a gate keeps its row
and its score, but ranks after every gene that passes, with the gate named as the reason: an
intracellular protein is no antibody target however well it scores, and a core-essential gene
is no target of any strategy here. Missing data never passes a gate silently: a gene whose
localisation is unknown fails a localisation gate, and the reason says so.

Add a gate in one place: a :class:`Gate` in :data:`GATES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from targetrank.features.gene_features import HPA_BLOOD_CELLS, HPA_TISSUES_KEPT, hpa_blood_column

#: Vital-organ expression above which a surface protein is no CAR antigen here (HPA consensus
#: nTPM, highest of heart, liver, kidney, lung, brain): about the top 5 % of surface proteins;
#: CLDN18 (127) and MSLN (89), targets of CAR-T trials, stay below it.
CAR_VITAL_ORGAN_MAX = 150.0


def _flag(column: str) -> pl.Expr:
    return pl.col(column).fill_null(False)


def _is_one(column: str) -> pl.Expr:
    return (pl.col(column) == 1).fill_null(False)


SURFACE = _flag("is_surface") | _is_one("ot_prio_isInMembrane")
SECRETED = _flag("is_secreted") | _is_one("ot_prio_isSecreted")
SMALL_MOLECULE = (
    _flag("druggable_family_sm")
    | _is_one("ot_prio_hasSmallMoleculeBinder")
    | _is_one("ot_prio_hasPocket")
    | _is_one("ot_prio_hasLigand")
)
#: Expression (HPA nTPM) at or above which a gene counts as made by a tissue or blood cell type.
EXPRESSED_MIN = 1.0
_EXPRESSION_COLUMNS = (
    *(f"hpa_tissue_{t}" for t in HPA_TISSUES_KEPT),
    *(hpa_blood_column(c) for c in HPA_BLOOD_CELLS if c != "total_PBMC"),  # cell types only
)
#: A gene's highest expression over the measured tissues and blood cell types (HPA nTPM).
_MAX_EXPRESSION = pl.max_horizontal(*_EXPRESSION_COLUMNS)
EXPRESSED = (_MAX_EXPRESSION >= EXPRESSED_MIN).fill_null(False)
#: Expression (HPA nTPM) a CAR antigen needs in at least one measured tissue or blood cell type.
#: CAR T cells kill only cells that present enough antigen (Majzner et al., Cancer Discov
#: 2020;10:702); a surface protein no measured cell makes above a trace presents too little.
#: Every surface CAR antigen of the evidence base clears it (the lowest, FAP, at 7.5 nTPM); 134 of
#: the 156 olfactory and taste receptors that pass ``car_antigen`` (which asks for 1 nTPM) do not.
DENSE_ANTIGEN_MIN = 5.0
DENSE = (_MAX_EXPRESSION >= DENSE_ANTIGEN_MIN).fill_null(False)

#: Housekeeping genes: core-essential, ribosomal, respiratory-chain and MT-encoded.
#: Also the pool of known non-targets the ranker trains on, and what validation counts in a top 100.
HOUSEKEEPING = (
    _flag("core_essential_control")
    | _flag("ps_adam_core")
    | _flag("ribosomal_protein")
    | _flag("mito_encoded")
    | _flag("respiratory_chain")
)
#: Housekeeping plus the rest of the core machinery (proteasome, tRNA synthetases, spliceosome,
#: mitochondrial import ...): what the not_housekeeping gate keeps out of every top list.
NON_TARGET = HOUSEKEEPING | _flag("core_machinery")


@dataclass(frozen=True)
class Gate:
    """A named rule: ``passes`` is True for genes the modality can reach."""

    name: str
    description: str
    passes: pl.Expr
    reason: str  # shown for a gene that fails
    #: Whether a strategy's unlabelled training genes are drawn among the genes that pass it.
    #: Reach gates (can the modality act on the gene at all?) define that pool, so the ranker
    #: learns what sets targets apart among reachable genes; list gates (``not_housekeeping``,
    #: ``dense_antigen``) only hold genes back in the ranking and leave the trained model as it is.
    background: bool = True

    def columns(self) -> list[str]:
        """Feature columns the rule reads."""
        return self.passes.meta.root_names()


GATES: dict[str, Gate] = {
    g.name: g
    for g in [
        Gate(
            "not_housekeeping",
            "not a core-essential gene (DepMap Hart/Blomen controls or Project Score ADaM "
            "core), ribosomal protein, respiratory-chain subunit, mitochondrially encoded gene "
            "or part of the core machinery (HGNC: proteasome, tRNA synthetases, spliceosome, "
            "mitochondrial import ...)",
            ~NON_TARGET,
            "core-essential, ribosomal, respiratory-chain, mitochondrially encoded or core "
            "machinery",
            background=False,
        ),
        Gate(
            "antibody_reachable",
            "at the cell surface or secreted (SURFY/CSPA/GO/HPA, or Open Targets membrane / "
            "secreted factor)",
            SURFACE | SECRETED,
            "neither surface nor secreted: no antibody reaches it",
        ),
        Gate(
            "antibody_or_small_molecule",
            "reachable by an antibody (surface or secreted) or a small molecule (a tractable "
            "family, or Open Targets small-molecule binder, pocket or ligand)",
            SURFACE | SECRETED | SMALL_MOLECULE,
            "neither antibody-reachable nor small-molecule tractable",
        ),
        Gate(
            "car_antigen",
            f"a cell-surface protein with vital-organ expression at most {CAR_VITAL_ORGAN_MAX:g} "
            "nTPM (HPA; heart, liver, kidney, lung, brain), made by at least one measured tissue "
            f"or blood cell type (≥ {EXPRESSED_MIN:g} nTPM: an antigen some cell presents)",
            SURFACE
            & (pl.col("hpa_vital_organ_max") <= CAR_VITAL_ORGAN_MAX).fill_null(False)
            & EXPRESSED,
            "not a surface protein with low vital-organ expression that some cell makes (CAR "
            "antigen gate; "
            "HLA-presented antigens such as MAGEA4 need a TCR strategy)",
        ),
        Gate(
            "dense_antigen",
            f"made at {DENSE_ANTIGEN_MIN:g} nTPM or more by at least one measured tissue or blood "
            "cell type (HPA): CAR T cells need a dense antigen to kill",
            DENSE,
            f"no measured tissue or blood cell type makes it at {DENSE_ANTIGEN_MIN:g} nTPM or "
            "more: too sparse an antigen for a CAR (dense-antigen gate)",
            background=False,
        ),
    ]
}


def gate_frame(features: pl.DataFrame, gates: tuple[str, ...]) -> pl.DataFrame:
    """``entrez_id`` plus ``gate``: empty where every gate passes, else the failed gates' reasons."""
    if not gates:
        return features.select("entrez_id", pl.lit("").alias("gate"))
    fails = [
        pl.when(GATES[g].passes).then(None).otherwise(pl.lit(f"{g}: {GATES[g].reason}"))
        for g in gates
    ]
    return features.select(
        "entrez_id",
        pl.concat_str(fails, separator="; ", ignore_nulls=True).fill_null("").alias("gate"),
    )
