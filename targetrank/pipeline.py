"""The public run API in one place, kept for code that imports ``targetrank.pipeline``.

The work itself lives in the steps (:mod:`targetrank.steps.rank`, :mod:`targetrank.steps.evaluate`),
the inputs (:mod:`targetrank.inputs`), the ranking numerics (:mod:`targetrank.assemble`) and the
result objects (:mod:`targetrank.results`). The CLI's ``rank`` command calls :func:`rank` through
this module, so patching ``targetrank.pipeline.rank`` reaches it.
"""

from __future__ import annotations

from targetrank.assemble import (
    drivers_text,
    drivers_text_sorted,
    gates_for,
    genome_ranks,
    genome_validation_of,
    intervals,
    point_scores,
    rank_within,
)
from targetrank.inputs import RankInputs, load_inputs, resolve_universe
from targetrank.results import (
    RANKING_COLUMNS,
    TIE_BREAK,
    Evaluation,
    Explanation,
    Ranking,
    Universe,
)
from targetrank.steps.evaluate import evaluate
from targetrank.steps.rank import rank

# the names the benchmarks and older tests use
_drivers_text = drivers_text
_drivers_text_sorted = drivers_text_sorted
_intervals = intervals
_rank_within = rank_within

__all__ = [
    "RANKING_COLUMNS",
    "TIE_BREAK",
    "Evaluation",
    "Explanation",
    "RankInputs",
    "Ranking",
    "Universe",
    "evaluate",
    "gates_for",
    "genome_ranks",
    "genome_validation_of",
    "load_inputs",
    "point_scores",
    "rank",
    "resolve_universe",
]
