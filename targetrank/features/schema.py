"""The feature table's schema, generated from the feature registry and checked on build/load."""

from __future__ import annotations

import dataframely as dy
import polars as pl

from targetrank.features.registry import REGISTRY, FeatureRegistry
from targetrank.tables import validate

KEY_COLUMNS = ("entrez_id", "symbol", "ensembl_id")

_DY = {
    pl.Boolean: dy.Bool,
    pl.Int64: dy.Int64,
    pl.Float64: dy.Float64,
    pl.String: dy.String,
}


def feature_schema(registry: FeatureRegistry | None = None) -> type[dy.Schema]:
    """A dataframely schema with the keys and every registered feature column."""
    reg = registry or REGISTRY
    columns: dict[str, dy.Column] = {
        "entrez_id": dy.Int64(primary_key=True),
        "symbol": dy.String(nullable=False),
        "ensembl_id": dy.String(nullable=True),
    }
    for name, spec in reg.specs().items():
        factory = _DY[spec.dtype if isinstance(spec.dtype, type) else type(spec.dtype)]
        lo, hi = spec.bounds
        if factory is dy.Int64 and (lo is not None or hi is not None):
            columns[name] = dy.Int64(
                nullable=True,
                min=None if lo is None else int(lo),
                max=None if hi is None else int(hi),
            )
        elif factory is dy.Float64 and (lo is not None or hi is not None):
            columns[name] = dy.Float64(nullable=True, min=lo, max=hi)
        else:
            columns[name] = factory(nullable=True)
    return type("TargetFeatures", (dy.Schema,), columns)


def validate_features(
    df: pl.DataFrame, *, source: str | None = None, registry: FeatureRegistry | None = None
) -> pl.DataFrame:
    """Check a feature table against the registry's schema (keys, dtypes, bounds)."""
    return validate(
        df,
        feature_schema(registry),
        table="Feature",
        source=source,
        fix="rebuild it with `targetrank snapshot build` or `targetrank features merge`",
    )
