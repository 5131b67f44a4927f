"""Feature computations and the feature registry.

Importing this package registers every built-in feature group (see :mod:`.registry`).
"""

from targetrank.features import biology, gene_features, slots  # noqa: F401  (registers groups)
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
