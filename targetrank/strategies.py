"""The strategy data model: strategies, their compartments and weights (types only, no I/O).

The review's five strategy categories live in ``targetrank/data/strategies.toml``;
:mod:`targetrank.strategy_file` reads and validates such a file (and weights files) into these
types. Kept apart so that anything, including the feature code, can name them without importing
the reader (which needs the feature registry).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import polars as pl

from targetrank.errors import UsageError

STRATEGY_IDS = (
    "immune_subset",
    "checkpoint_combination",
    "bone_resident",
    "bone_targeted_delivery",
    "engineered_cell_therapy",
)
MODALITIES = ("antibody", "small_molecule", "cell_therapy", "conjugate")
COMPARTMENT_KINDS = ("markers", "blood", "tissue", "processes")

Prefer = Literal["high", "low"]


def weight_in_range(value: float) -> bool:
    """Whether ``value`` is a usable weight: a number in [0, 1] (NaN and infinities are not)."""
    return 0.0 <= value <= 1.0


def check_weight(value: float, *, feature: str, strategy_id: str) -> None:
    """The one check of a weight given in code or a weights file (strategy files: see the parser)."""
    if not weight_in_range(value):
        raise UsageError(
            f"Weight {value} for '{feature}' in '{strategy_id}' is outside [0, 1]",
            fix="give weights between 0 and 1 (prefer='low' rewards low values)",
        )


@dataclass(frozen=True)
class Weight:
    """One term of the transparent weighted score."""

    feature: str
    weight: float
    prefer: Prefer = "high"


@dataclass(frozen=True)
class Compartment:
    """A cell compartment and the feature columns that describe it."""

    id: str
    markers: tuple[str, ...] = ()
    blood: tuple[str, ...] = ()
    tissue: tuple[str, ...] = ()
    processes: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """All feature columns the compartment refers to."""
        return [*self.markers, *self.blood, *self.tissue, *self.processes]


@dataclass(frozen=True)
class Strategy:
    """One strategy category."""

    id: str
    number: int
    title: str
    description: str
    compartments: tuple[Compartment, ...]
    modalities: tuple[str, ...]
    weights: tuple[Weight, ...]
    gates: tuple[str, ...] = ()  # see targetrank.features.gates.GATES
    #: Whether a gene's STRING neighbourhood describes this strategy's cells (``sc_network``;
    #: null in a strategy without it). See targetrank.features.network.
    network: bool = False
    #: Trees the LightGBM ranker fits on this strategy's labels alone, on top of the trees all
    #: strategies share (0: the shared trees only). See targetrank.model.strategy_ranker.
    own_trees: int = 0
    #: Whether the LightGBM ranker learns this strategy from its labels (false: its rows stay
    #: out of the trees every strategy shares, and it is ranked by its strategy-file score).
    learn: bool = True

    def info(self) -> dict[str, Any]:
        """What a run folder records of the strategy for its report (``strategy_info``)."""
        return {
            "number": self.number,
            "title": self.title,
            "description": self.description,
            "network": self.network,
        }

    def weight_map(self) -> dict[str, Weight]:
        """Weights keyed by feature."""
        return {w.feature: w for w in self.weights}


@dataclass(frozen=True)
class StrategySet:
    """The loaded strategies plus the seed panel, in file order."""

    strategies: tuple[Strategy, ...]
    seed_panel: tuple[str, ...]
    source: str
    compartments: Mapping[str, Compartment] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.strategies)

    def __len__(self) -> int:
        return len(self.strategies)

    @property
    def ids(self) -> list[str]:
        """Strategy ids in file order."""
        return [s.id for s in self.strategies]

    def get(self, strategy_id: str) -> Strategy:
        """The strategy with this id, or a UsageError listing the valid ids."""
        for s in self.strategies:
            if s.id == strategy_id:
                return s
        raise UsageError(
            f"Unknown strategy '{strategy_id}'",
            input=self.source,
            done="nothing was computed",
            fix=f"use one of: {', '.join(self.ids)} (see `targetrank strategies`)",
        )

    def select(self, ids: Iterable[str] | None) -> StrategySet:
        """A subset in the order given (all when ``ids`` is empty or None)."""
        wanted = list(ids or [])
        if not wanted:
            return self
        picked = tuple(self.get(i) for i in dict.fromkeys(wanted))
        return replace(self, strategies=picked)

    def with_weights(self, overrides: Mapping[str, Mapping[str, Weight]]) -> StrategySet:
        """Replace each strategy's weights by the overrides given for it."""
        out = []
        for s in self.strategies:
            if s.id in overrides:
                merged = s.weight_map() | dict(overrides[s.id])
                kept = tuple(w for w in merged.values() if w.weight > 0)
                if not kept:  # every score would be 0: a ranking by name, not by evidence
                    raise UsageError(
                        f"The weights leave strategy '{s.id}' with no weight above 0",
                        input=f"[{s.id}] " + ", ".join(f"{w.feature} = 0" for w in merged.values()),
                        done="nothing was computed",
                        fix="keep at least one weight above 0 for the strategy, or leave it out "
                        "of the weights file",
                    )
                s = replace(s, weights=kept)
            out.append(s)
        return replace(self, strategies=tuple(out))

    def table(self) -> pl.DataFrame:
        """One row per strategy, for display and export."""
        return pl.DataFrame(
            {
                "id": [s.id for s in self.strategies],
                "number": [s.number for s in self.strategies],
                "title": [s.title for s in self.strategies],
                "description": [s.description for s in self.strategies],
                "compartments": [", ".join(c.id for c in s.compartments) for s in self.strategies],
                "modalities": [", ".join(s.modalities) for s in self.strategies],
                "gates": [", ".join(s.gates) for s in self.strategies],
                "network": [s.network for s in self.strategies],
                "own_trees": [s.own_trees for s in self.strategies],
                "learn": [s.learn for s in self.strategies],
                "weights": [
                    "; ".join(
                        f"{w.feature}={w.weight:g}" + (" (low)" if w.prefer == "low" else "")
                        for w in s.weights
                    )
                    for s in self.strategies
                ],
            }
        )
