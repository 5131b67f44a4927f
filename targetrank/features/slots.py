"""Column slots filled by the live connectors (Open Targets, DepMap matrices).

The offline snapshot cannot reach the Open Targets API or download DepMap's ~400 MB matrices, so
these columns are declared here with their meaning and stay null in the snapshot; the manifest says
why. ``targetrank fetch opentargets`` / ``fetch depmap`` produce tables with exactly these columns,
and ``targetrank features merge`` overlays them on the snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from targetrank.features.registry import FeatureSpec, register

OT_NULL_REASON = (
    "filled by `targetrank fetch opentargets` (needs network access to the Open Targets "
    "Platform); the embedded snapshot is built offline"
)
DEPMAP_NULL_REASON = (
    "filled by `targetrank fetch depmap` from the CRISPRGeneEffect/Dependency/expression "
    "matrices (hundreds of MB, downloaded online); the embedded snapshot is built offline"
)

OT_PRIORITISATION_KEYS = [
    "isInMembrane",
    "isSecreted",
    "hasPocket",
    "hasLigand",
    "hasSmallMoleculeBinder",
    "hasSafetyEvent",
    "geneticConstraint",
    "paralogMaxIdentityPercentage",
    "mouseOrthologMaxIdentityPercentage",
    "isCancerDriverGene",
    "hasTEP",
    "mouseKOScore",
    "hasHighQualityChemicalProbes",
    "tissueSpecificity",
    "tissueDistribution",
    "maxClinicalTrialPhase",
]
OT_DISEASES = {
    "cancer": "cancer",
    "breast": "breast carcinoma",
    "prostate": "prostate carcinoma",
    "lung": "non-small cell lung carcinoma",
    "myeloma": "multiple myeloma",
}


def _ot_specs() -> list[FeatureSpec]:
    specs = [
        FeatureSpec(
            f"ot_tract_{m}_nonclinical",
            pl.Boolean,
            f"Open Targets tractability: any non-clinical {label} bucket is true (structure, "
            "pockets, localisation, ligands); clinical-precedence buckets excluded",
            family="opentargets",
            label=f"{label} tractable (Open Targets)",
        )
        for m, label in [
            ("sm", "small-molecule"),
            ("ab", "antibody"),
            ("pr", "PROTAC"),
            ("oc", "other-modality"),
        ]
    ]
    specs += [
        FeatureSpec(
            "ot_tract_clinical",
            pl.Boolean,
            "Open Targets tractability clinical-precedence bucket (Approved Drug, Advanced "
            "Clinical, Phase 1 Clinical): encodes clinical precedence",
            family="opentargets",
            leakage=True,
        ),
        FeatureSpec(
            "ot_safety_event_count",
            pl.Int64,
            "number of Open Targets safety liabilities",
            family="opentargets",
            label="known safety events (Open Targets)",
        ),
        FeatureSpec(
            "ot_is_essential",
            pl.Boolean,
            "Open Targets core-essential flag (DepMap-derived)",
            family="opentargets",
        ),
        FeatureSpec(
            "ot_lof_oe_upper",
            pl.Float64,
            "gnomAD LoF observed/expected upper bound (LOEUF) via Open Targets geneticConstraint",
            family="opentargets",
            label="LOEUF (gnomAD via Open Targets)",
        ),
        FeatureSpec(
            "ot_chemical_probes_hq",
            pl.Int64,
            "number of high-quality chemical probes",
            family="opentargets",
        ),
        FeatureSpec("ot_n_pathways", pl.Int64, "number of Reactome pathways", family="opentargets"),
        FeatureSpec(
            "ot_mouse_phenotype_count",
            pl.Int64,
            "number of mouse knockout phenotypes (IMPC/MGI)",
            family="opentargets",
        ),
    ]
    specs += [
        FeatureSpec(
            f"ot_prio_{key}",
            pl.Float64,
            f"Open Targets target-prioritisation factor '{key}' in [-1, 1]"
            + ("; encodes clinical precedence" if key == "maxClinicalTrialPhase" else ""),
            family="opentargets",
            leakage=key == "maxClinicalTrialPhase",
        )
        for key in OT_PRIORITISATION_KEYS
    ]
    specs += [
        FeatureSpec(
            "ot_max_clinical_stage",
            pl.Int64,
            "highest clinical stage of any drug on the target (0 unknown ... 12 withdrawal): "
            "encodes clinical precedence",
            family="opentargets",
            leakage=True,
        ),
        FeatureSpec(
            "ot_n_clinical_drugs",
            pl.Int64,
            "number of drugs and clinical candidates on the target: encodes clinical precedence",
            family="opentargets",
            leakage=True,
        ),
    ]
    for key, name in OT_DISEASES.items():
        specs += [
            FeatureSpec(
                f"ot_assoc_{key}",
                pl.Float64,
                f"Open Targets overall association score with {name}; includes clinical/known-drug "
                "evidence, so it encodes clinical precedence",
                family="opentargets",
                leakage=True,
            ),
            FeatureSpec(
                f"ot_assoc_{key}_nonclinical",
                pl.Float64,
                f"Open Targets association with {name}: highest datatype score excluding clinical "
                "and known-drug evidence",
                family="opentargets",
                label=f"association with {name} (Open Targets, non-clinical)",
            ),
        ]
    return specs


OT_SPECS = _ot_specs()

DEPMAP_CONTEXTS = ["breast", "prostate", "lung", "bone_site", "myeloma"]
_CONTEXT_WORDS = {
    "breast": "breast cancer models",
    "prostate": "prostate cancer models",
    "lung": "lung cancer models",
    "bone_site": "bone-metastasis-derived models (sampled from bone, primary bone tumours excluded)",
    "myeloma": "plasma cell myeloma models",
}


def _depmap_specs() -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for suffix, where in [
        ("", "all models"),
        *[(f"_{c}", _CONTEXT_WORDS[c]) for c in DEPMAP_CONTEXTS],
    ]:
        specs += [
            FeatureSpec(
                f"depmap_mean_effect{suffix}",
                pl.Float64,
                f"mean CRISPR (Chronos) gene effect over {where}; -1 is the median of common "
                "essentials",
                family="depmap",
            ),
            FeatureSpec(
                f"depmap_frac_dependent{suffix}",
                pl.Float64,
                f"fraction of {where} with dependency probability > 0.5",
                family="depmap",
                bounds=(0, 1),
            ),
        ]
    specs += [
        FeatureSpec(
            f"depmap_mean_expression_{c}",
            pl.Float64,
            f"mean log2(TPM+1) expression in {_CONTEXT_WORDS[c]} (DepMap OmicsExpression)",
            family="depmap",
        )
        for c in DEPMAP_CONTEXTS
    ]
    specs.append(
        FeatureSpec(
            "depmap_strongly_selective",
            pl.Boolean,
            "DepMap strongly selective: skewness x kurtosis of gene effect < -0.86 with >= 1 "
            "dependent model",
            family="depmap",
        )
    )
    specs += [
        FeatureSpec(
            f"depmap_n_models{suffix}",
            pl.Int64,
            f"support: models with a gene-effect value ({where})",
            family="depmap",
            model=False,
            bounds=(0, None),
        )
        for suffix, where in [("", "all"), *[(f"_{c}", c) for c in DEPMAP_CONTEXTS]]
    ]
    return specs


DEPMAP_SPECS = _depmap_specs()


def _nulls(genes: pl.DataFrame, specs: list[FeatureSpec]) -> pl.DataFrame:
    return genes.select("entrez_id", *[pl.lit(None, s.dtype).alias(s.name) for s in specs])


@register(OT_SPECS, sources=("opentargets",), offline=False, null_reason=OT_NULL_REASON)
def opentargets(genes: pl.DataFrame, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Open Targets columns: null offline; `targetrank features merge` fills them."""
    return _nulls(genes, OT_SPECS)


@register(DEPMAP_SPECS, sources=("depmap_matrices",), offline=False, null_reason=DEPMAP_NULL_REASON)
def depmap_matrices(genes: pl.DataFrame, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """DepMap matrix-derived columns: null offline; `targetrank features merge` fills them."""
    return _nulls(genes, DEPMAP_SPECS)
