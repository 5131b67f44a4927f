"""Feature computations and the feature registry.

Importing this package registers every built-in feature group (see :mod:`.registry`).
"""

# importing these registers their groups (strategy: the sc_* conditioned columns)
from targetrank.features import biology, gene_features, slots, strategy  # noqa: F401
from targetrank.features.registry import (
    REGISTRY,
    FeatureGroup,
    FeatureRegistry,
    FeatureSpec,
    build_feature_table,
    register,
)

__all__ = [
    "REGISTRY",
    "FeatureGroup",
    "FeatureRegistry",
    "FeatureSpec",
    "build_feature_table",
    "register",
]
