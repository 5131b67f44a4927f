"""Validated tables: every table has a declared schema that is checked when it is built.

Schemas are dataframely schemas (polars-native, declarative). :func:`validate` wraps their
failures into a :class:`~targetrank.errors.DataError` that names the table, the failing rules with
row counts, and the likely fix.
"""

from __future__ import annotations

import dataframely as dy
import polars as pl

from targetrank.errors import DataError


def validate(
    df: pl.DataFrame,
    schema: type[dy.Schema],
    *,
    table: str,
    source: str | None = None,
    fix: str | None = None,
) -> pl.DataFrame:
    """Validate ``df`` against ``schema`` (casting compatible dtypes) or raise a DataError.

    Args:
        df: The table to check.
        schema: A dataframely schema class.
        table: Human name of the table, used in the message ("Open Targets tractability").
        source: Where the rows came from (a file, an endpoint and release).
        fix: What the user can do about it.
    """
    missing = [c for c in schema.column_names() if c not in df.columns]
    if missing:
        raise DataError(
            f"{table} table lacks required column(s) {', '.join(missing)}",
            input=source or f"columns found: {', '.join(df.columns)}",
            done="the table was not used",
            cause="the upstream layout changed or the file is from another release",
            fix=fix or "rebuild the table with the current targetrank version",
        )
    try:
        return schema.validate(df.select(schema.column_names()), cast=True)
    except dy.exc.ValidationError as exc:
        detail = " ".join(str(exc).split())
        raise DataError(
            f"{table} table failed validation: {detail}",
            input=source,
            done="the table was not used",
            cause="the upstream data changed shape or contains invalid values",
            fix=fix or "check the source release; rerun with --debug for the traceback",
        ) from exc
