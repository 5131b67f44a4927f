"""targetrank: therapeutic target prioritisation for the immune microenvironment of bone metastasis.

The public API is re-exported here; everything else is implementation detail.
"""

from targetrank.__about__ import __version__
from targetrank.api import (
    evidence,
    feature_manifest,
    load_features,
    precedence_labels,
    strategies,
)
from targetrank.errors import (
    DataError,
    ExitCode,
    ModelError,
    OutputError,
    ResolutionError,
    TargetRankError,
    UpstreamError,
    UsageError,
)
from targetrank.resolver import Resolution, Resolver, resolve

__all__ = [
    "DataError",
    "ExitCode",
    "ModelError",
    "OutputError",
    "Resolution",
    "ResolutionError",
    "Resolver",
    "TargetRankError",
    "UpstreamError",
    "UsageError",
    "__version__",
    "evidence",
    "feature_manifest",
    "load_features",
    "precedence_labels",
    "resolve",
    "strategies",
]
