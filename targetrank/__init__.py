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
from targetrank.model.scoring import Scorer, WeightedScorer
from targetrank.pipeline import Evaluation, Explanation, Ranking, evaluate, rank
from targetrank.resolver import Resolution, Resolver, resolve

__all__ = [
    "DataError",
    "Evaluation",
    "ExitCode",
    "Explanation",
    "ModelError",
    "OutputError",
    "Ranking",
    "Resolution",
    "ResolutionError",
    "Resolver",
    "Scorer",
    "TargetRankError",
    "UpstreamError",
    "UsageError",
    "WeightedScorer",
    "__version__",
    "evaluate",
    "evidence",
    "feature_manifest",
    "load_features",
    "precedence_labels",
    "rank",
    "resolve",
    "strategies",
]
