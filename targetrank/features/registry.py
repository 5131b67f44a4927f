"""The feature registry: every feature column, keyed by a stable name, defined in one place.

A feature group is a small function ``(genes, tables) -> frame`` that returns ``entrez_id`` plus the
columns it declares. It says which source tables it needs (so the builder loads only those), which
upstream sources its values come from (for the manifest), whether it is available offline, and
whether it encodes clinical precedence (so the ranker can refuse it when labels are clinical).

A user adds a custom feature in one place::

    from targetrank.features import FeatureSpec, register

    @register(
        [FeatureSpec("my_score", pl.Float64, "my lab's screen z-score", family="custom")],
        requires=("my_screen",),
        sources=("my_screen",),
    )
    def my_score(genes, tables):
        return tables["my_screen"].select("entrez_id", pl.col("z").alias("my_score"))

and passes ``tables={"my_screen": df}`` to :func:`build_feature_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from targetrank._types import ProgressCallback, no_progress
from targetrank.errors import DataError, UsageError

Family = Literal[
    "localisation",
    "target_class",
    "immune",
    "bone",
    "process",
    "safety",
    "literature",
    "opentargets",
    "depmap",
    "custom",
]

FeatureFn = Callable[[pl.DataFrame, Mapping[str, pl.DataFrame]], pl.DataFrame]


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column.

    Attributes:
        name: Stable column name, used in exports, weights files and explanations.
        dtype: Polars dtype of the column.
        description: What the value means, in a sentence a translational scientist can read.
        family: Evidence family (localisation, immune, safety, ...).
        label: Short plain name for explanations ("Treg expression (HPA)").
        leakage: True when the column encodes clinical precedence (clinical stage, known drugs,
            approval); such columns are refused whenever labels come from clinical evidence.
        model: False for columns no model should learn from: support columns that describe data
            coverage, not the gene (e.g. counts of cell lines), or terms meant for the strategy
            file's weights only; ``model_refusal`` then says why (the model card shows it).
        bounds: Valid (min, max) of a numeric column, checked when the table is built.
        null_reason: Why the offline snapshot holds no value for this column (overrides the
            group's reason; e.g. a quantity the offline source cannot give).
    """

    name: str
    dtype: pl.DataType | type[pl.DataType]
    description: str
    family: Family
    label: str = ""
    leakage: bool = False
    model: bool = True
    model_refusal: str = ""
    bounds: tuple[float | None, float | None] = (None, None)
    null_reason: str = ""

    @property
    def plain_name(self) -> str:
        """Name shown in explanations."""
        return self.label or self.name.replace("_", " ")


def column_dtypes(specs: Iterable[FeatureSpec]) -> dict[str, pl.DataType]:
    """``name -> dtype`` (an instance, e.g. ``pl.Float64()``) of ``specs``, in their order."""
    return {s.name: s.dtype() if isinstance(s.dtype, type) else s.dtype for s in specs}


@dataclass(frozen=True)
class FeatureGroup:
    """A registered function and the columns it produces."""

    key: str
    specs: tuple[FeatureSpec, ...]
    fn: FeatureFn
    requires: tuple[str, ...]
    sources: tuple[str, ...]
    offline: bool = True
    null_reason: str = ""

    @property
    def columns(self) -> list[str]:
        """Column names in declaration order."""
        return [s.name for s in self.specs]


@dataclass
class FeatureRegistry:
    """Ordered registry of feature groups, keyed by group key and by column name."""

    groups: dict[str, FeatureGroup] = field(default_factory=dict)
    #: strategy-conditioned columns (``sc_*``): computed per (gene, strategy) row from the gene
    #: table and a strategy's compartments, never stored in the feature table
    conditioned: dict[str, FeatureSpec] = field(default_factory=dict)

    def add_conditioned(self, specs: Iterable[FeatureSpec]) -> None:
        """Register strategy-conditioned columns; a name may not shadow a gene-level column."""
        known = self.specs()
        for spec in specs:
            if spec.name in known:
                raise UsageError(
                    f"Feature '{spec.name}' is already registered as a gene-level column",
                    input="strategy-conditioned features",
                    fix="give the strategy-conditioned feature a unique name (sc_...)",
                )
            self.conditioned[spec.name] = spec

    def all_specs(self) -> dict[str, FeatureSpec]:
        """Gene-level and strategy-conditioned specs: every column a model row can hold."""
        return self.specs() | self.conditioned

    def add(self, group: FeatureGroup) -> None:
        """Register a group; a column name may be defined only once."""
        known = self.specs() | self.conditioned
        for spec in group.specs:
            if spec.name in known and group.key not in self.groups:
                raise UsageError(
                    f"Feature '{spec.name}' is already registered",
                    input=f"feature group '{group.key}'",
                    cause="two feature functions declare the same column name",
                    fix="give the custom feature a unique name",
                )
        self.groups[group.key] = group

    def specs(self) -> dict[str, FeatureSpec]:
        """All column specs by name, in registration order."""
        return {s.name: s for g in self.groups.values() for s in g.specs}

    def group_of(self, column: str) -> FeatureGroup:
        """The group that produces ``column``."""
        for group in self.groups.values():
            if column in group.columns:
                return group
        raise KeyError(column)

    def leakage_features(self) -> list[str]:
        """Columns that encode clinical precedence."""
        return [n for n, s in self.specs().items() if s.leakage]


REGISTRY = FeatureRegistry()


def register(
    specs: Sequence[FeatureSpec],
    *,
    requires: Iterable[str] = (),
    sources: Iterable[str] = (),
    offline: bool = True,
    null_reason: str = "",
    key: str | None = None,
    registry: FeatureRegistry | None = None,
) -> Callable[[FeatureFn], FeatureFn]:
    """Decorator registering a feature function and the columns it returns.

    Args:
        specs: The columns the function returns (besides ``entrez_id``).
        requires: Names of the source tables the function reads.
        sources: Provenance keys (see ``targetrank.sources.local.SOURCES``) of its values.
        offline: False when the values need a live connector (Open Targets, DepMap matrices);
            the offline snapshot then stores nulls and says why.
        null_reason: Why the offline snapshot holds nulls for these columns.
        key: Group key (default: the function name).
        registry: Registry to add to (default: the global one).
    """

    def decorate(fn: FeatureFn) -> FeatureFn:
        (registry or REGISTRY).add(
            FeatureGroup(
                key=key or fn.__name__,
                specs=tuple(specs),
                fn=fn,
                requires=tuple(requires),
                sources=tuple(sources),
                offline=offline,
                null_reason=null_reason,
            )
        )
        return fn

    return decorate


def build_feature_table(
    genes: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame] | Callable[[str], pl.DataFrame],
    *,
    registry: FeatureRegistry | None = None,
    groups: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[pl.DataFrame, dict[str, dict[str, object]]]:
    """Compute every registered feature for every gene.

    Args:
        genes: The gene index: one row per gene with ``entrez_id``, ``symbol``, ``ensembl_id``.
        tables: Source tables by name, or a loader called once per needed name.
        registry: Feature registry (default: the global one).
        groups: Restrict to these group keys (default: all).
        progress: ``(step, done, total)`` callback.

    Returns:
        ``(table, column_info)``: the feature table (keys first, then features in registry order)
        and, per column, its group, sources and why it may be null.
    """
    reg = registry or REGISTRY
    report = progress or no_progress
    selected = [g for k, g in reg.groups.items() if groups is None or k in set(groups)]
    cache: dict[str, pl.DataFrame] = {}

    def table(name: str) -> pl.DataFrame:
        if name not in cache:
            if callable(tables):
                cache[name] = tables(name)
            elif name in tables:
                cache[name] = tables[name]
            else:
                raise DataError(
                    f"Source table '{name}' is needed by a feature but was not given",
                    input=", ".join(sorted(tables)),
                    done="the feature table was not built",
                    fix=f"pass tables={{'{name}': ...}} or remove the feature that needs it",
                )
        return cache[name]

    keys = genes.select("entrez_id", "symbol", "ensembl_id")
    out = keys
    info: dict[str, dict[str, object]] = {}
    for i, group in enumerate(selected):
        report(group.key, i, len(selected))
        needed = {name: table(name) for name in group.requires}
        frame = group.fn(genes, needed)
        expected = ["entrez_id", *group.columns]
        if frame.columns != expected:
            raise DataError(
                f"Feature group '{group.key}' returned the wrong columns",
                input=f"expected {expected}, got {frame.columns}",
                fix="make the feature function return entrez_id plus its declared columns",
            )
        if frame["entrez_id"].is_duplicated().any():
            raise DataError(
                f"Feature group '{group.key}' returned duplicate genes",
                fix="aggregate to one row per entrez_id in the feature function",
            )
        frame = frame.with_columns(pl.col(s.name).cast(s.dtype, strict=True) for s in group.specs)
        out = out.join(frame, on="entrez_id", how="left", maintain_order="left", coalesce=True)
        for spec in group.specs:
            info[spec.name] = {
                "group": group.key,
                "family": spec.family,
                "sources": list(group.sources),
                "offline": group.offline,
                "leakage": spec.leakage,
                "model": spec.model,
                "description": spec.description,
            }
    report("done", len(selected), len(selected))
    return out, info
