"""Reading downloaded DepMap files, with a parquet copy of each big matrix for fast reruns.

Wide matrices are parsed with polars once; the parsed copy (``parsed/*.parquet`` beside the CSV,
keyed by the CSV's MD5) is written in a background thread, and later reads, full or for a panel
of genes, take only the columns they need from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from targetrank._atomic import atomic_path
from targetrank.errors import DataError
from targetrank.sources.local import read_depmap_gene_list
from targetrank.tables.depmap import (
    MatrixLayout,
    check_gene_list,
    read_gene_matrix,
    read_matrix_layout,
    select_gene_columns,
)

_PARSER_VERSION = "1"  # bump when read_gene_matrix changes what it stores in parquet

#: Matrix kind -> how messages and progress name it.
MATRIX_KINDS = {
    "gene_effect": "gene effect matrix",
    "gene_dependency": "gene dependency matrix",
    "expression": "expression matrix",
}


def parquet_cache_path(csv_path: Path, key: str) -> Path:
    """Where the parsed copy of a matrix CSV is kept (keyed by the CSV's MD5)."""
    return csv_path.parent / "parsed" / f"{csv_path.stem}.{key[:16]}.v{_PARSER_VERSION}.parquet"


def load_matrix(
    path: str | os.PathLike[str],
    *,
    release: str | None = None,
    kind: str = "gene_effect",
    entrez_ids: Iterable[int] | None = None,
    symbols: Iterable[str] = (),
    cache_key: str | None = None,
    cache: bool = True,
    background: bool = True,
) -> pl.DataFrame:
    """Read a wide DepMap matrix as ``ModelID`` + Float64 gene columns.

    Args:
        path: The CSV (CRISPRGeneEffect, CRISPRGeneDependency or OmicsExpression*).
        release: For messages.
        kind: ``gene_effect``, ``gene_dependency`` or ``expression`` (for messages).
        entrez_ids: A panel: only these genes' columns are parsed (all genes when None).
        symbols: Extra panel genes matched by symbol in headers without Entrez ids.
        cache_key: Identity of the CSV (its MD5); default: size and modification time.
        cache: Keep and reuse a parquet copy of the whole parsed matrix.
        background: Write that copy in a background thread (the caller does not wait; the
            process does, at exit; :func:`wait_for_cache_writes` waits explicitly).

    The first full parse writes ``parsed/<name>.<key>.parquet``; later calls (full or panel)
    read only the needed columns from it. A panel without a parquet copy projects the CSV.
    """
    csv_path = Path(path)
    what = MATRIX_KINDS.get(kind, kind)
    key = cache_key or _stat_key(csv_path)
    pq = parquet_cache_path(csv_path, key)
    panel = entrez_ids is not None
    if cache and pq.is_file():
        try:
            if not panel:
                return pl.read_parquet(pq)
            names = pl.read_parquet_schema(pq)
            layout = MatrixLayout(
                csv_path, release, tuple(names), "ModelID", tuple(names)[1:], (), None
            )
            cols = select_gene_columns(layout, entrez_ids=entrez_ids or (), symbols=symbols)
            return pl.read_parquet(pq, columns=["ModelID", *cols])
        except (OSError, pl.exceptions.PolarsError):
            with contextlib.suppress(OSError):
                pq.unlink()  # unreadable cache copy: fall back to the CSV
    layout = read_matrix_layout(csv_path, release=release, what=what)
    if panel:
        cols = select_gene_columns(layout, entrez_ids=entrez_ids or (), symbols=symbols)
        return read_gene_matrix(layout, columns=cols, what=what)
    df = read_gene_matrix(layout, what=what)
    if cache:
        if background:
            thread = threading.Thread(
                target=_write_parquet, args=(df, pq), name=f"targetrank-cache {pq.name}"
            )
            thread.start()  # not a daemon: the interpreter finishes the write before exiting
            _PENDING.append(thread)
        else:
            _write_parquet(df, pq)
    return df


_PENDING: list[threading.Thread] = []


def _write_parquet(df: pl.DataFrame, path: Path) -> None:
    # uncompressed: gene effects are full-precision floats that barely compress, and writing
    # 18,000 columns is the slow part; a failed write (read-only cache) only costs speed
    with contextlib.suppress(OSError, pl.exceptions.PolarsError), atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="uncompressed", statistics=False)


def wait_for_cache_writes(timeout: float | None = None) -> None:
    """Wait until background parquet writes of :func:`load_matrix` have finished."""
    while _PENDING:
        _PENDING.pop().join(timeout)


def _stat_key(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError as exc:
        raise DataError(
            "A DepMap matrix file is missing",
            input=str(path),
            cause=exc.strerror or str(exc),
            fix="rerun `targetrank fetch depmap` to download it again",
        ) from exc
    return hashlib.md5(
        f"{stat.st_size}:{stat.st_mtime_ns}".encode(), usedforsecurity=False
    ).hexdigest()


def load_gene_list(path: str | os.PathLike[str], *, release: str | None = None) -> pl.DataFrame:
    """Read a one-column DepMap gene list (common essentials, controls) as symbol + entrez_id."""
    where = f"{path} ({release})" if release else str(path)
    return check_gene_list(read_depmap_gene_list(Path(path)), source=where)
