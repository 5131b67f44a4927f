"""The connectors fill exactly the column slots the feature registry declares."""

from __future__ import annotations

from targetrank.features import REGISTRY
from targetrank.features.opentargets import (
    OPENTARGETS_FEATURE_COLUMNS,
    OPENTARGETS_LEAKAGE_FEATURES,
)
from targetrank.features.slots import OT_SPECS


def test_opentargets_columns_match_the_registry_slots():
    declared = {s.name: s.dtype for s in OT_SPECS}
    assert dict(OPENTARGETS_FEATURE_COLUMNS) == declared
    assert set(OPENTARGETS_LEAKAGE_FEATURES) == {s.name for s in OT_SPECS if s.leakage}
    assert set(OPENTARGETS_LEAKAGE_FEATURES) <= set(REGISTRY.leakage_features())


def test_depmap_columns_match_the_registry_slots():
    from targetrank.features.depmap import DEPMAP_CONTEXTS, DEPMAP_FEATURE_COLUMNS
    from targetrank.features.slots import DEPMAP_CONTEXTS as SLOT_CONTEXTS
    from targetrank.features.slots import DEPMAP_SPECS

    declared = {s.name: s.dtype for s in DEPMAP_SPECS}
    produced = dict(DEPMAP_FEATURE_COLUMNS)
    # the offline snapshot fills depmap_common_essential from the released list itself
    assert (
        produced.pop("depmap_common_essential") == REGISTRY.specs()["depmap_common_essential"].dtype
    )
    assert produced == declared
    assert list(DEPMAP_CONTEXTS) == SLOT_CONTEXTS
