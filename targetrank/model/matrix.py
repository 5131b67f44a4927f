"""Choosing model features and turning polars frames into LightGBM's numeric matrices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from targetrank.model.leakage import leakage_features

KEYS = ("entrez_id", "symbol", "ensembl_id")
_NUMERIC = (pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32,
            pl.UInt64, pl.Float32, pl.Float64)  # fmt: skip


#: Why literature volume never feeds a model: a ranker that learns how much has been written about
#: a gene learns fame, not biology. The counts stay in exports as context.
LITERATURE_REFUSAL = "literature volume (context only: a model must not learn fame)"

#: Why a support column (data coverage: counts of cell lines, models) never feeds a model.
SUPPORT_REFUSAL = "support column (data coverage, not biology)"

#: DepMap columns that measure how *selectively* cancer cell lines depend on a gene (spread of
#: the gene effect across lines): the mark of a tumour-intrinsic oncology target (EGFR, KRAS).
#: No strategy here targets a cancer-cell dependency (immune cells, checkpoints, bone cells,
#: delivery, CAR antigens), and the level-2 ranker that read them put EGFR in the top 10 of
#: both bone strategies. The essentiality columns (mean effect, common-essential) stay: they
#: are the safety side of DepMap. ``RankerConfig(exclude_features=[])`` gives them back.
TUMOUR_SELECTIVITY = ("depmap_sd_effect", "depmap_rnai_sd_effect", "depmap_strongly_selective")
SELECTIVITY_REFUSAL = (
    "tumour-cell selective dependency (no strategy here targets a cancer-cell dependency; "
    "RankerConfig(exclude_features=[]) gives it back)"
)


#: Gene features whose *missing* values level 2 reads as a typical gene (the genome median).
#: Open Targets has no mouse-knockout score for 8,068 genes, mostly unstudied ones (median two
#: focused papers, against 20 for the rest): 39 % of the genome, 11 % of the literature-matched
#: background. In training the gap is carried by a handful of curated targets (GPRC5D, MSLN, FAP
#: and MAGEA4 among the few CAR labels), so the trees read "never knocked out in mice" as a mark
#: of a target: olfactory receptors filled a dozen places of the CAR top 100.
#: DEMETER2 (RNAi) has no value for 8,595 genes, those outside the shRNA libraries (median three
#: focused papers, against 21): TIGIT and LAG3 among them, so a strategy's own trees, fitted on a
#: few tens of labels, read the gap as a mark of a checkpoint (+0.52 on average for the 18 such
#: genes of 0.12.0's first checkpoint top 100, +0.49 of TIGIT's score).
#: The feature table and exports keep the null; only the model's reading of it changes.
#: ``RankerConfig(missing_as_typical=[])`` restores LightGBM's own handling of missing values.
#: A strategy-conditioned column may be named too (each strategy's median over its own rows;
#: see :func:`typical_values`). ``sc_network`` is not read so by default: STRING has no
#: high-confidence partner for 8,246 genes (40 %), and although the engineered-cell trees read
#: that gap as a plus (olfactory receptors in the top 100), reading it as the median (0) cost
#: GPRC5D 41 -> 325 and raised the bone list's Spearman with PubMed 0.12 -> 0.22 (seeds 0-29,
#: docs/experiments.md, 0.12.0).
MISSING_AS_TYPICAL = ("ot_prio_mouseKOScore", "depmap_rnai_mean_effect")

#: What a missing value is read as: one number for a gene feature, or strategy id -> number for
#: a strategy-conditioned column (a strategy absent from the mapping keeps its gaps).
Fill = float | dict[str, float]


@dataclass
class FeatureSelection:
    """Which columns a model learns from, and why the others are left out."""

    used: list[str]
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """For model cards and manifests."""
        return {"used": list(self.used), "refused": dict(self.refused)}


LEAKAGE_REFUSAL = "encodes clinical precedence (leakage guard)"


def declared_refusal(name: str) -> str:
    """Why no model ever learns from the column ``name`` ('' when nothing declared forbids it).

    Declared, not data-dependent: the leakage guard, literature volume, and registry columns
    marked ``model=False`` (support columns, strategy-file-only terms). What a ranker option
    leaves out (``exclude_features``) is the caller's to add.
    """
    from targetrank.features import REGISTRY

    if leakage_features([name]):
        return LEAKAGE_REFUSAL
    spec = REGISTRY.all_specs().get(name)
    if spec is None:
        return ""
    if spec.family == "literature":
        return LITERATURE_REFUSAL
    if not spec.model:
        return spec.model_refusal or SUPPORT_REFUSAL
    return ""


def select_model_features(
    df: pl.DataFrame,
    *,
    requested: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    refuse: Mapping[str, str] | None = None,
) -> FeatureSelection:
    """Model features of ``df``: numeric/Boolean, non-leaky, not support-only, not all null.

    ``requested`` restricts to named columns; a requested leaky column is an error (the caller
    runs :func:`targetrank.model.leakage.check_no_leakage` on it first), an unrequested one is
    listed as refused. ``exclude`` drops columns silently (keys, internal columns);
    ``refuse`` maps columns the caller leaves out to the reason the model card shows.
    """
    skip = set(KEYS) | set(exclude)
    candidates = [c for c in (requested or df.columns) if c not in skip]
    used: list[str] = []
    refused: dict[str, str] = {}
    for col in candidates:
        if col not in df.columns:
            refused[col] = "not in the feature table"
        elif refuse and col in refuse:
            refused[col] = refuse[col]
        elif why := declared_refusal(col):
            refused[col] = why
        elif df.schema[col] not in _NUMERIC:
            refused[col] = f"not numeric ({df.schema[col]})"
        elif df[col].null_count() == df.height:
            refused[col] = "no values in this feature table (live connector not run)"
        else:
            used.append(col)
    return FeatureSelection(used, refused)


def to_matrix(
    df: pl.DataFrame, columns: Sequence[str], fill: Mapping[str, Fill] | None = None
) -> np.ndarray:
    """A float64 matrix with NaN for missing values (Booleans become 0/1).

    ``fill`` maps columns whose missing values are read as the given value instead (see
    :data:`MISSING_AS_TYPICAL`); a per-strategy mapping needs ``df``'s ``strategy`` column.
    """
    if not columns:
        return np.empty((df.height, 0))
    fill = fill or {}

    def column(c: str) -> pl.Expr:
        value = pl.col(c).cast(pl.Float64)
        if c not in fill:
            return value
        by = fill[c]
        if isinstance(by, dict):
            return value.fill_null(
                pl.col("strategy").replace_strict(by, default=None, return_dtype=pl.Float64)
            )
        return value.fill_null(by)

    return df.select(column(c) for c in columns).to_numpy(order="c").astype(np.float64, copy=False)


def typical_values(
    features: pl.DataFrame, columns: Iterable[str], rows: pl.DataFrame | None = None
) -> dict[str, Fill]:
    """What each column's missing entries are read as (:data:`MISSING_AS_TYPICAL`).

    A gene feature: its genome median over non-null genes. A column of ``rows`` (the
    strategy-conditioned rows of every gene) that ``features`` lacks: each strategy's median over
    its own non-null rows, for the strategies with any value.
    """
    out: dict[str, Fill] = {}
    for c in columns:
        if c in features.columns:
            values = features[c].cast(pl.Float64).drop_nulls()
            if values.len():
                out[c] = float(values.median())
        elif rows is not None and c in rows.columns:
            medians = (
                rows.select("strategy", pl.col(c).cast(pl.Float64))
                .drop_nulls()
                .group_by("strategy", maintain_order=True)
                .agg(pl.col(c).median())
            )
            if medians.height:
                out[c] = dict(zip(medians["strategy"], medians[c], strict=True))
    return out
