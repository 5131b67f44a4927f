"""The DepMap feature columns and model contexts: declared once, here.

:mod:`targetrank.features.depmap` computes exactly these columns from the release matrices
(``fetch depmap``), :mod:`targetrank.features.slots` registers them, and the offline snapshot
fills what the per-gene summary gives. Contexts are declared once, as predicates on Model.csv
columns; the context columns and their descriptions follow from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from targetrank.features.registry import FeatureSpec, column_dtypes

# --------------------------------------------------------------------------------------------
# Contexts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelContext:
    """A set of DepMap models defined by Model.csv column values.

    A model belongs to the context when *any* clause of ``any_of`` matches and no clause of
    ``none_of`` does; a clause matches when *every* column it names holds one of the listed
    values (case-insensitive, trimmed).
    """

    description: str
    models: str  # how feature descriptions name these models ("breast cancer models")
    any_of: tuple[Mapping[str, tuple[str, ...]], ...]
    none_of: tuple[Mapping[str, tuple[str, ...]], ...] = ()


#: Context name → rule. ``OncotreeLineage == "Bone"`` is deliberately absent: it means primary
#: bone tumours (Ewing, osteosarcoma, chordoma), not bone metastases. Legacy values (19Q4
#: ``sample_info.csv``: ``breast``, ``multiple_myeloma``) are listed where they differ.
DEPMAP_CONTEXTS: dict[str, ModelContext] = {
    "breast": ModelContext(
        "breast cancer lines", "breast cancer models", ({"OncotreeLineage": ("Breast",)},)
    ),
    "prostate": ModelContext(
        "prostate cancer lines", "prostate cancer models", ({"OncotreeLineage": ("Prostate",)},)
    ),
    "lung": ModelContext(
        "lung cancer lines", "lung cancer models", ({"OncotreeLineage": ("Lung",)},)
    ),
    "bone_site": ModelContext(
        "bone-metastasis-derived lines: sampled from bone (SampleCollectionSite == bone) but not "
        "primary bone tumours (OncotreeLineage Bone: Ewing, osteosarcoma, chordoma), which are "
        "also sampled from bone",
        "bone-metastasis-derived models (sampled from bone, primary bone tumours excluded)",
        ({"SampleCollectionSite": ("bone",)},),
        none_of=({"OncotreeLineage": ("Bone",)},),
    ),
    "myeloma": ModelContext(
        "plasma cell myeloma (OncotreeCode PCM, under Lymphoid)",
        "plasma cell myeloma models",
        (
            {"OncotreeCode": ("PCM",)},
            {"OncotreeSubtype": ("Plasma Cell Myeloma", "multiple_myeloma")},
        ),
    ),
}
CONTEXT_NAMES: tuple[str, ...] = tuple(DEPMAP_CONTEXTS)

# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------


def _depmap_specs() -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for suffix, where, short in [
        ("", "all models", ""),
        *[
            (f"_{c}", ctx.models, f" in {ctx.models.split(' (')[0]}")
            for c, ctx in DEPMAP_CONTEXTS.items()
        ],
    ]:
        specs += [
            FeatureSpec(
                f"depmap_mean_effect{suffix}",
                pl.Float64,
                f"mean CRISPR (Chronos) gene effect over {where}; -1 is the median of common "
                "essentials",
                family="depmap",
                label=f"CRISPR gene effect{short} (DepMap)",
            ),
            FeatureSpec(
                f"depmap_frac_dependent{suffix}",
                pl.Float64,
                f"fraction of {where} with dependency probability > 0.5",
                family="depmap",
                label=f"share of dependent models{short} (DepMap)",
                bounds=(0, 1),
            ),
        ]
    specs += [
        FeatureSpec(
            f"depmap_mean_expression_{c}",
            pl.Float64,
            f"mean log2(TPM+1) expression in {ctx.models} (DepMap OmicsExpression)",
            family="depmap",
            label=f"expression in {ctx.models.split(' (')[0]} (DepMap)",
        )
        for c, ctx in DEPMAP_CONTEXTS.items()
    ]
    specs.append(
        FeatureSpec(
            "depmap_sd_effect",
            pl.Float64,
            "standard deviation of the CRISPR (Chronos) gene effect over all models: spread of "
            "dependency across lines",
            family="depmap",
            label="spread of CRISPR dependency across lines (DepMap)",
        )
    )
    specs.append(
        FeatureSpec(
            "depmap_strongly_selective",
            pl.Boolean,
            "DepMap strongly selective: skewness x kurtosis of gene effect < -0.86 with >= 1 "
            "dependent model",
            family="depmap",
            label="strongly selective dependency (DepMap)",
        )
    )
    specs += [
        FeatureSpec(
            f"depmap_n_models{suffix}",
            pl.Int64,
            f"support: models with a gene-effect value ({where})",
            family="depmap",
            label=f"models measured ({where}; DepMap)",
            model=False,
            bounds=(0, None),
        )
        for suffix, where in [("", "all"), *[(f"_{c}", c) for c in CONTEXT_NAMES]]
    ]
    return specs


DEPMAP_SPECS = _depmap_specs()

#: The released common-essential list as a flag: registered with the gene features (the offline
#: snapshot reads the list itself) and computed by ``fetch depmap`` from the release's list.
COMMON_ESSENTIAL_SPEC = FeatureSpec(
    "depmap_common_essential",
    pl.Boolean,
    "in DepMap's CRISPRInferredCommonEssentials list (DepMap Public 24Q2 offline; the "
    "fetched release online): an on-target toxicity warning",
    family="safety",
    label="common-essential gene (DepMap)",
)

#: Statistics in ``fetch depmap``'s output order; within one, all models first, then contexts.
_OUTPUT_ORDER = (
    "depmap_mean_effect",
    "depmap_sd_effect",
    "depmap_frac_dependent",
    "depmap_mean_expression",
    "depmap_common_essential",
    "depmap_strongly_selective",
    "depmap_n_models",
)


def _output_position(name: str) -> tuple[int, int]:
    for i, stat in enumerate(_OUTPUT_ORDER):
        if name == stat:
            return i, -1
        context = name.removeprefix(stat + "_")
        if context in CONTEXT_NAMES:
            return i, CONTEXT_NAMES.index(context)
    raise ValueError(f"{name} has no place in the DepMap output order")


DEPMAP_KEY_COLUMNS: dict[str, pl.DataType] = {
    "entrez_id": pl.Int64(),
    "symbol": pl.String(),
    "ensembl_id": pl.String(),
}
#: Feature and support columns ``fetch depmap`` computes (name -> dtype), in output order.
DEPMAP_FEATURE_COLUMNS: dict[str, pl.DataType] = column_dtypes(
    sorted([*DEPMAP_SPECS, COMMON_ESSENTIAL_SPEC], key=lambda s: _output_position(s.name))
)
DEPMAP_OUTPUT_SCHEMA: dict[str, pl.DataType] = DEPMAP_KEY_COLUMNS | DEPMAP_FEATURE_COLUMNS
