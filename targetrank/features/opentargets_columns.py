"""The Open Targets feature columns: declared once, here, as registry specs.

:mod:`targetrank.features.opentargets` fills exactly these columns (``fetch opentargets``), and
:mod:`targetrank.features.slots` registers them, so names, dtypes, meanings and the leakage flag
have one source; the column lists below are derived from the specs.
"""

from __future__ import annotations

import polars as pl

from targetrank.features.registry import FeatureSpec
from targetrank.sources.opentargets_diseases import DEFAULT_DISEASES

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
#: How explanations name each prioritisation factor (Open Targets scales them to [-1, 1], the
#: favourable end positive: a close paralog, strong LoF constraint or a cancer-driver role is
#: negative).
PRIORITISATION_LABELS = {
    "isInMembrane": "membrane protein",
    "isSecreted": "secreted protein",
    "hasPocket": "binding pocket",
    "hasLigand": "known ligand",
    "hasSmallMoleculeBinder": "small-molecule binder",
    "hasSafetyEvent": "safety events",
    "geneticConstraint": "LoF tolerance, -1 constrained",
    "paralogMaxIdentityPercentage": "paralog distance, -1 a close paralog",
    "mouseOrthologMaxIdentityPercentage": "mouse-ortholog identity",
    "isCancerDriverGene": "cancer driver, -1 a driver",
    "hasTEP": "target enabling package",
    "mouseKOScore": "mouse knockout score",
    "hasHighQualityChemicalProbes": "high-quality chemical probes",
    "tissueSpecificity": "tissue specificity",
    "tissueDistribution": "tissue distribution",
    "maxClinicalTrialPhase": "highest trial phase",
}
#: Prioritisation factors that encode clinical precedence: evidence to show, never a feature
#: of a model whose labels are clinical stages (the leakage guard refuses them by name).
CLINICAL_PRIORITISATION = {
    "maxClinicalTrialPhase": "the highest trial phase of any drug on the target: encodes "
    "clinical precedence",
    "hasSafetyEvent": "safety events, many from the adverse events and labels of existing "
    "drugs: encodes clinical precedence",
}
#: Disease slot -> the disease it names (the slots the Open Targets source resolves).
DISEASE_NAMES: dict[str, str] = {key: slot.name for key, slot in DEFAULT_DISEASES.items()}
DISEASE_KEYS: tuple[str, ...] = tuple(DISEASE_NAMES)


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
            label="clinical tractability (Open Targets)",
            leakage=True,
        ),
        FeatureSpec(
            "ot_safety_event_count",
            pl.Int64,
            "number of Open Targets safety liabilities; many come from the adverse events and "
            "labels of existing drugs, so it encodes clinical precedence",
            family="opentargets",
            label="known safety events (Open Targets)",
            leakage=True,
        ),
        FeatureSpec(
            "ot_is_essential",
            pl.Boolean,
            "Open Targets core-essential flag (DepMap-derived)",
            family="opentargets",
            label="core-essential (Open Targets)",
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
            label="high-quality chemical probes (Open Targets)",
        ),
        FeatureSpec(
            "ot_n_pathways",
            pl.Int64,
            "number of Reactome pathways",
            family="opentargets",
            label="Reactome pathways (Open Targets)",
        ),
        FeatureSpec(
            "ot_mouse_phenotype_count",
            pl.Int64,
            "number of mouse knockout phenotypes (IMPC/MGI)",
            family="opentargets",
            label="mouse knockout phenotypes (Open Targets)",
        ),
    ]
    specs += [
        FeatureSpec(
            f"ot_prio_{key}",
            pl.Float64,
            f"Open Targets target-prioritisation factor '{key}' in [-1, 1]"
            + (f"; {CLINICAL_PRIORITISATION[key]}" if key in CLINICAL_PRIORITISATION else ""),
            family="opentargets",
            leakage=key in CLINICAL_PRIORITISATION,
            label=f"{PRIORITISATION_LABELS[key]} (Open Targets)",
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
            label="highest clinical stage (Open Targets)",
            leakage=True,
        ),
        FeatureSpec(
            "ot_n_clinical_drugs",
            pl.Int64,
            "number of drugs and clinical candidates on the target: encodes clinical precedence",
            family="opentargets",
            label="drugs and clinical candidates (Open Targets)",
            leakage=True,
        ),
    ]
    for key, name in DISEASE_NAMES.items():
        specs += [
            FeatureSpec(
                f"ot_assoc_{key}",
                pl.Float64,
                f"Open Targets overall association score with {name}; includes clinical/known-drug "
                "evidence, so it encodes clinical precedence",
                family="opentargets",
                label=f"association with {name} (Open Targets)",
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

#: Every feature column with its dtype, in output order (``ensembl_id`` is the key).
OPENTARGETS_FEATURE_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    s.name: s.dtype for s in OT_SPECS
}

#: Columns that encode existing drugs or trials: exclude them when predicting drug targets.
OPENTARGETS_LEAKAGE_FEATURES: tuple[str, ...] = tuple(s.name for s in OT_SPECS if s.leakage)
