"""Gene-pair tables that travel with the package (ligand-receptor pairs, the STRING network).

Each is a TSV written by ``targetrank snapshot build`` with its provenance as ``#`` comment
lines, optionally gzipped, and read back with the same errors: what failed, on which file, and
the rebuild that fixes it.
"""

from __future__ import annotations

import gzip
from importlib import resources
from io import StringIO
from pathlib import Path

import polars as pl

from targetrank.errors import DataError

_REBUILD = "`targetrank snapshot build --shared ../shared`"


def write_table(
    table: pl.DataFrame, path: Path, header: str, schema: dict, *, gzipped: bool = False
) -> None:
    """Write ``header`` + the TSV atomically; gzipped with mtime 0 (same rows, same bytes)."""
    from targetrank._atomic import atomic_open

    text = header + table.select(list(schema)).write_csv(separator="\t")
    if gzipped:
        with atomic_open(path, "wb") as fh:
            fh.write(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        with atomic_open(path) as fh:
            fh.write(text)


def read_table(
    filename: str, path: str | Path | None, *, what: str, kind: str, schema: dict
) -> pl.DataFrame:
    """The packaged ``filename`` (or ``path``), gzipped when it ends in ``.gz``.

    ``what`` names the table in errors ("the STRING network"), ``kind`` its format ("network").
    """
    source = f"targetrank/data/{filename}" if path is None else str(path)
    try:
        if path is None:
            raw = resources.files("targetrank.data").joinpath(filename).read_bytes()
        else:
            raw = Path(path).read_bytes()
        if source.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(
            f"Cannot read {what}",
            input=source,
            cause=f"{type(exc).__name__}: {exc} (an incomplete install or checkout)",
            fix=f"reinstall targetrank, or rebuild the file with {_REBUILD}",
        ) from exc
    try:
        return pl.read_csv(StringIO(text), separator="\t", comment_prefix="#", schema=schema)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise DataError(
            f"Cannot read {what}",
            input=source,
            cause=f"not a {kind} TSV with columns {', '.join(schema)} ({exc})",
            fix=f"rebuild it with {_REBUILD}",
        ) from exc


def both_directions(table: pl.DataFrame, a: str, b: str, other: str) -> pl.DataFrame:
    """Each undirected pair ``a``–``b`` as two rows ``entrez_id`` → ``other``."""
    return pl.concat(
        [
            table.select(pl.col(a).alias("entrez_id"), pl.col(b).alias(other)),
            table.select(pl.col(b).alias("entrez_id"), pl.col(a).alias(other)),
        ]
    )
