"""targetrank: therapeutic target prioritisation for the immune microenvironment of bone metastasis.

The public API is re-exported here; everything else is implementation detail.
"""

import sys
import types
from typing import TYPE_CHECKING, Any

from targetrank.__about__ import __version__
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

#: Public names imported on first use (PEP 562), so ``targetrank --help`` does not pay for
#: polars, numpy, scikit-learn and LightGBM.
_LAZY = {
    "evidence": "targetrank.evidence",
    "feature_manifest": "targetrank.feature_folder",
    "load_features": "targetrank.feature_folder",
    "precedence_labels": "targetrank.feature_folder",
    "strategies": "targetrank.strategy_file",
    "Scorer": "targetrank.model.scoring",
    "WeightedScorer": "targetrank.model.scoring",
    "Evaluation": "targetrank.results",
    "Explanation": "targetrank.results",
    "Ranking": "targetrank.results",
    "evaluate": "targetrank.steps.evaluate",
    "rank": "targetrank.steps.rank",
    "sweep": "targetrank.steps.sweep",
    "compare_sweeps": "targetrank.model.validation",
    "Resolution": "targetrank.resolver",
    "Resolver": "targetrank.resolver",
    "resolve": "targetrank.resolver",
}

if TYPE_CHECKING:
    from targetrank.evidence import evidence
    from targetrank.feature_folder import feature_manifest, load_features, precedence_labels
    from targetrank.model.scoring import Scorer, WeightedScorer
    from targetrank.model.validation import compare_sweeps
    from targetrank.resolver import Resolution, Resolver, resolve
    from targetrank.results import Evaluation, Explanation, Ranking
    from targetrank.steps.evaluate import evaluate
    from targetrank.steps.rank import rank
    from targetrank.steps.sweep import sweep
    from targetrank.strategy_file import strategies


class _Package(types.ModuleType):
    """The package module, guarding the public functions named like submodules.

    The import system sets a submodule as an attribute of its package when it is first loaded,
    so a late ``import targetrank.evidence`` would hide the function ``targetrank.evidence``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'targetrank' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
    "compare_sweeps",
    "evaluate",
    "evidence",
    "feature_manifest",
    "load_features",
    "precedence_labels",
    "rank",
    "resolve",
    "strategies",
    "sweep",
]
