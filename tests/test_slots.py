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
