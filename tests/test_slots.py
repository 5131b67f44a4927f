"""One declaration per live column: the registry's slots are the connectors' declared columns.

The Open Targets and DepMap columns are declared once (``features/opentargets_columns.py``,
``features/depmap_columns.py``); the registry registers those specs and the connectors fill the
columns derived from them. These tests check what a reader relies on, not that two lists agree.
"""

from __future__ import annotations

import polars as pl

from targetrank.features import REGISTRY
from targetrank.features.depmap_columns import (
    COMMON_ESSENTIAL_SPEC,
    DEPMAP_CONTEXTS,
    DEPMAP_FEATURE_COLUMNS,
    DEPMAP_SPECS,
)
from targetrank.features.opentargets_columns import (
    OPENTARGETS_FEATURE_COLUMNS,
    OPENTARGETS_LEAKAGE_FEATURES,
    OT_SPECS,
)


def test_the_registry_holds_the_declared_specs_themselves():
    registered = REGISTRY.specs()
    for spec in [*OT_SPECS, *DEPMAP_SPECS, COMMON_ESSENTIAL_SPEC]:
        assert registered[spec.name] is spec  # the same object: no second declaration


def test_opentargets_columns_follow_the_specs():
    assert list(OPENTARGETS_FEATURE_COLUMNS) == [s.name for s in OT_SPECS]
    for spec in OT_SPECS:
        assert OPENTARGETS_FEATURE_COLUMNS[spec.name] == spec.dtype
    assert set(OPENTARGETS_LEAKAGE_FEATURES) == set(REGISTRY.leakage_features()) & {
        s.name for s in OT_SPECS
    }


def test_depmap_columns_are_the_specs_in_output_order():
    declared = {s.name: s.dtype for s in [*DEPMAP_SPECS, COMMON_ESSENTIAL_SPEC]}
    assert dict(DEPMAP_FEATURE_COLUMNS) == declared
    names = list(DEPMAP_FEATURE_COLUMNS)
    # grouped by statistic, all models before the contexts, contexts in declaration order
    assert names[: len(DEPMAP_CONTEXTS) + 2] == [
        "depmap_mean_effect",
        *(f"depmap_mean_effect_{c}" for c in DEPMAP_CONTEXTS),
        "depmap_sd_effect",
    ]
    assert names[-1] == f"depmap_n_models_{list(DEPMAP_CONTEXTS)[-1]}"
    assert all(isinstance(t, pl.DataType) for t in DEPMAP_FEATURE_COLUMNS.values())


def test_every_context_has_its_columns_and_words():
    for name, ctx in DEPMAP_CONTEXTS.items():
        assert ctx.models and ctx.description
        for stem in ("mean_effect", "frac_dependent", "mean_expression", "n_models"):
            assert f"depmap_{stem}_{name}" in DEPMAP_FEATURE_COLUMNS
        described = REGISTRY.specs()[f"depmap_mean_effect_{name}"].description
        assert ctx.models in described
