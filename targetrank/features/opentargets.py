"""Open Targets features: one row per target, keyed by ``ensembl_id``.

A pure function of :class:`~targetrank.tables.opentargets.OpenTargetsTables`: no I/O. Values
are null where the Platform gives none (a target it did not return, a modality it did not
assess, a disease without an association row): a missing value is never turned into 0. Counts
(safety events, probes, pathways, phenotypes, drugs) are 0 only for a returned target whose list
is empty, which is what the Platform reports.

Leakage: some columns encode that a drug for the target already exists or is in trials. They
must not be used to predict which targets become drug targets; their specs say so
(``leakage=True``). The columns, their dtypes and meanings are declared once, in
:mod:`targetrank.features.opentargets_columns`.
"""

from __future__ import annotations

import polars as pl

from targetrank.features.opentargets_columns import (
    DISEASE_KEYS,
    OPENTARGETS_FEATURE_COLUMNS,
    OT_PRIORITISATION_KEYS,
)
from targetrank.tables.opentargets import (
    CLINICAL_DATATYPES,
    MODALITIES,
    OpenTargetsTables,
)

#: Prioritisation factors (values in [-1, 1]); ``maxClinicalTrialPhase`` is leakage.
PRIORITISATION_KEYS: tuple[str, ...] = tuple(OT_PRIORITISATION_KEYS)


def _columns(*prefixes: str) -> tuple[str, ...]:
    """The declared columns (:mod:`.opentargets_columns`) whose names start with a prefix."""
    return tuple(c for c in OPENTARGETS_FEATURE_COLUMNS if c.startswith(prefixes))


# Tractability: any non-clinical bucket of a modality (SM small molecule, AB antibody, PR PROTAC,
# OC other modality) is true; ot_tract_clinical (LEAKAGE): any clinical-precedence bucket.
_TRACT = _columns("ot_tract_")
# Prioritisation factors as the Platform scores them (-1 unfavourable ... 1 favourable).
_PRIO = _columns("ot_prio_")
# LEAKAGE: highest clinical stage ordinal over the target's drugs (UNKNOWN 0 ... APPROVAL 10,
# PHASE_4 11, WITHDRAWAL 12; null when it has none) and the number of distinct drugs.
_CLINICAL = ("ot_max_clinical_stage", "ot_n_clinical_drugs")
# Per disease slot: the overall direct association score (LEAKAGE: includes clinical/known-drug
# evidence) and the highest datatype score leaving aside the clinical and known_drug datatypes.
_ASSOC = _columns("ot_assoc_")


#: Which bulk dataset each feature column is derived from; a column stays null when its
#: dataset is absent from a partial download (``OpenTargetsTables.absent_datasets``).
DATASET_COLUMNS: dict[str, tuple[str, ...]] = {
    "target": (
        *_TRACT,
        "ot_safety_event_count",
        "ot_lof_oe_upper",
        "ot_chemical_probes_hq",
        "ot_n_pathways",
        "ot_is_essential",
        "ot_mouse_phenotype_count",
    ),
    "target_essentiality": ("ot_is_essential",),
    "mouse_phenotype": ("ot_mouse_phenotype_count",),
    "target_prioritisation": tuple(_PRIO),
    "clinical_target": tuple(_CLINICAL),
    "drug_molecule": tuple(_CLINICAL),
    "disease": tuple(_ASSOC),
    "association_overall_direct": tuple(c for c in _ASSOC if not c.endswith("_nonclinical")),
    "association_by_datatype_direct": tuple(c for c in _ASSOC if c.endswith("_nonclinical")),
}


def null_columns(absent_datasets: list[str]) -> dict[str, str]:
    """Feature column -> the absent dataset that leaves it null (first one named)."""
    out: dict[str, str] = {}
    for dataset in absent_datasets:
        for column in DATASET_COLUMNS.get(dataset, ()):
            out.setdefault(column, dataset)
    return out


def opentargets_features(tables: OpenTargetsTables) -> pl.DataFrame:
    """One row per returned target with the columns of :data:`OPENTARGETS_FEATURE_COLUMNS`.

    Targets the Platform dropped have no row (the caller's join gives them nulls); they are in
    ``tables.warnings``. A target returned only by some datasets (a partial bulk download) has
    a row with nulls for the others; columns of absent datasets are null for every target.
    """
    out = _features_of_targets(tables)
    extra = (
        tables.prioritisation.select("ensembl_id")
        .unique()
        .join(out.select("ensembl_id"), on="ensembl_id", how="anti")
    )
    if extra.height:
        out = pl.concat([out, extra], how="diagonal")
    nulled = null_columns(tables.absent_datasets)
    out = out.join(_prioritisation(tables.prioritisation), on="ensembl_id", how="left")
    return out.select(
        "ensembl_id",
        *[
            pl.lit(None, t).alias(c) if c in nulled or c not in out.columns else pl.col(c).cast(t)
            for c, t in OPENTARGETS_FEATURE_COLUMNS.items()
        ],
    ).sort("ensembl_id")


def _features_of_targets(tables: OpenTargetsTables) -> pl.DataFrame:
    """Features of the targets the ``target`` dataset (or the API) returned."""
    base = tables.targets.select(
        "ensembl_id",
        pl.col("is_essential").alias("ot_is_essential"),
        pl.col("lof_oe_upper").alias("ot_lof_oe_upper"),
        pl.col("n_chemical_probes_hq").alias("ot_chemical_probes_hq"),
        pl.col("n_pathways").alias("ot_n_pathways"),
        pl.col("n_mouse_phenotypes").alias("ot_mouse_phenotype_count"),
    )
    ids = base.select("ensembl_id")
    parts = [
        base,
        _tractability(tables.tractability),
        _count(ids, tables.safety, "ot_safety_event_count"),
        _clinical(ids, tables.clinical_candidates),
        _associations(tables),
    ]
    out = base.select("ensembl_id")
    for part in parts:
        out = out.join(part, on="ensembl_id", how="left", maintain_order="left")
    return out


def _tractability(tract: pl.DataFrame) -> pl.DataFrame:
    """Per modality: any non-clinical bucket true (null when the modality was not assessed)."""
    t = tract.with_columns(pl.col("modality").cast(pl.String))
    nonclinical = (
        t.filter(~pl.col("clinical_precedence"))
        .group_by("ensembl_id", "modality")
        .agg(pl.col("value").any())
        .pivot(on="modality", index="ensembl_id", values="value")
    )
    renames = {m: f"ot_tract_{m.lower()}_nonclinical" for m in MODALITIES}
    nonclinical = nonclinical.rename({k: v for k, v in renames.items() if k in nonclinical.columns})
    clinical = (
        t.filter(pl.col("clinical_precedence"))
        .group_by("ensembl_id")
        .agg(pl.col("value").any().alias("ot_tract_clinical"))
    )
    return nonclinical.join(clinical, on="ensembl_id", how="full", coalesce=True)


def _count(ids: pl.DataFrame, rows: pl.DataFrame, name: str) -> pl.DataFrame:
    counts = rows.group_by("ensembl_id").agg(pl.len().cast(pl.Int64).alias(name))
    return ids.join(counts, on="ensembl_id", how="left", maintain_order="left").with_columns(
        pl.col(name).fill_null(0)
    )


def _prioritisation(prio: pl.DataFrame) -> pl.DataFrame:
    known = prio.filter(pl.col("key").is_in(PRIORITISATION_KEYS))
    if known.height == 0:
        return prio.select("ensembl_id").unique()
    wide = known.pivot(on="key", index="ensembl_id", values="value")
    return wide.rename({k: f"ot_prio_{k}" for k in PRIORITISATION_KEYS if k in wide.columns})


def _clinical(ids: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    agg = candidates.group_by("ensembl_id").agg(
        pl.col("stage_rank").max().cast(pl.Int64).alias("ot_max_clinical_stage"),
        pl.col("drug_id").n_unique().cast(pl.Int64).alias("ot_n_clinical_drugs"),
    )
    return ids.join(agg, on="ensembl_id", how="left", maintain_order="left").with_columns(
        pl.col("ot_n_clinical_drugs").fill_null(0)
    )


def _associations(tables: OpenTargetsTables) -> pl.DataFrame:
    """Overall and non-clinical scores per disease slot; null without an association row."""
    slots = tables.diseases.filter(
        pl.col("disease_id").is_not_null()
        & pl.col("status").cast(pl.String).is_in(["mapped", "explicit", "fallback"])
        & pl.col("key").is_in(DISEASE_KEYS)
    ).select("key", "disease_id")
    overall = tables.associations.join(slots, on="disease_id").select(
        "ensembl_id", pl.format("ot_assoc_{}", "key").alias("column"), "score"
    )
    nonclinical = (
        tables.association_datatypes.filter(~pl.col("datatype_id").is_in(CLINICAL_DATATYPES))
        .join(slots, on="disease_id")
        .group_by("ensembl_id", "key")
        .agg(pl.col("score").max())
        .select("ensembl_id", pl.format("ot_assoc_{}_nonclinical", "key").alias("column"), "score")
    )
    long = pl.concat([overall, nonclinical])
    if long.height == 0:
        return tables.targets.select("ensembl_id")
    # several slots may share one disease id: keep the highest score per column
    long = long.group_by("ensembl_id", "column").agg(pl.col("score").max())
    return long.pivot(on="column", index="ensembl_id", values="score")
