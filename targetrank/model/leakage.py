"""The leakage guard: features that encode clinical precedence never feed a clinical-label model.

Both model levels learn from clinical labels (level 1: approved-drug target / druggable Tier 1;
level 2: the evidence base's clinical stages), so every feature that encodes clinical precedence
is refused. The list is declared, not inferred: the registry's ``leakage=True`` columns plus
names and name patterns of precedence data a user might bring in a custom feature table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from targetrank.errors import ModelError

#: Feature names that encode clinical precedence, whatever table they arrive in.
DECLARED_LEAKAGE = (
    "ot_tract_clinical",
    "ot_prio_maxClinicalTrialPhase",
    "ot_prio_hasSafetyEvent",
    "ot_safety_event_count",
    "hasSafetyEvent",
    "ot_max_clinical_stage",
    "ot_n_clinical_drugs",
    "ot_assoc_cancer",
    "ot_assoc_breast",
    "ot_assoc_prostate",
    "ot_assoc_lung",
    "ot_assoc_myeloma",
    "maxClinicalTrialPhase",
    "precedence",
    "approved_drug_target",
    "druggable_tier1",
    "approved_drugs_2016",
    "grade",
    "stage",
    "onc_bone_stage",
    "failed_phase3",
)

#: Name patterns of precedence data: clinical stage or phase, known/approved/clinical drugs,
#: DrugCentral membership, druggable-genome Tier 1, tractability clinical buckets.
LEAKAGE_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"clinical_?(stage|phase|trial|precedence|candidate)",
        r"max_?clinical",
        r"known_?drug",
        r"approved",
        r"drugcentral",
        r"tier_?1",
        r"advanced_?clinical",
        r"phase_?[1-4]",
        r"n_clinical_drugs",
    )
)


def leakage_features(columns: Iterable[str]) -> list[str]:
    """The columns among ``columns`` that encode clinical precedence."""
    from targetrank.features import REGISTRY

    declared = set(DECLARED_LEAKAGE) | set(REGISTRY.leakage_features())
    return [c for c in columns if c in declared or any(p.search(c) for p in LEAKAGE_PATTERNS)]


class LeakageError(ModelError):
    """A feature that encodes clinical precedence was requested for a clinical-label model."""


def check_no_leakage(features: Iterable[str], *, labels: str) -> None:
    """Refuse features that encode clinical precedence when labels come from clinical evidence.

    Raises:
        LeakageError: naming the first offending feature (and how many there are).
    """
    bad = leakage_features(features)
    if bad:
        more = f" (and {len(bad) - 1} more: {', '.join(bad[1:4])})" if len(bad) > 1 else ""
        raise LeakageError(
            f"Feature '{bad[0]}' encodes clinical precedence and cannot be used with "
            f"{labels} labels{more}",
            done="the model was not trained",
            cause="training on it would leak the label into the features and inflate every metric",
            fix=f"remove '{bad[0]}' from the requested features (it stays in the export for "
            "reading, never for learning)",
        )
