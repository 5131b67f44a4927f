"""Feature folders: where a run reads its feature table, labels and their manifest.

A *feature folder* holds ``features.parquet`` (one row per human protein-coding gene),
``precedence_labels.parquet`` and ``manifest.json``: the embedded snapshot (``"snapshot"``, the
repository's ``features/snapshot`` data folder) or one written by ``targetrank features merge``.
The ``--features`` option names one. The code that computes the columns is the
:mod:`targetrank.features` package. Everything returns polars DataFrames or dicts; nothing prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.config import ENV_SNAPSHOT, env_origin
from targetrank.errors import DataError
from targetrank.paths import snapshot_dir, snapshot_fix

__all__ = [
    "feature_file",
    "feature_manifest",
    "load_features",
    "precedence_labels",
]

#: Validated feature tables of this process by file identity (path, size, mtime, inode): a
#: notebook or test session that ranks many times validates the same file once.
_VALIDATED: dict[tuple[Any, ...], pl.DataFrame] = {}
_VALIDATED_MAX = 2

FEATURES_FILE = "features.parquet"
LABELS_FILE = "precedence_labels.parquet"
MANIFEST_FILE = "manifest.json"


def _feature_dir(source: str | Path) -> Path:
    if str(source) == "snapshot":
        return snapshot_dir()
    path = Path(source)
    return path.parent if path.is_file() else path


def feature_file(source: str | Path = "snapshot") -> Path:
    """The parquet file a feature source reads (``snapshot``, a folder or a file)."""
    if Path(str(source)).is_file():
        return Path(source)
    return _feature_dir(source) / FEATURES_FILE


def load_features(source: str | Path = "snapshot", *, validate: bool = True) -> pl.DataFrame:
    """The genome-wide feature table: one row per human protein-coding gene.

    Args:
        source: ``"snapshot"`` (the embedded offline snapshot), a feature folder holding
            ``features.parquet`` (e.g. from ``targetrank features merge``), or a parquet file.
        validate: Check the table against the feature registry's schema.

    Example:
        >>> import targetrank as t
        >>> t.load_features().height > 19000
        True
    """
    path = feature_file(source)
    if not path.is_file():
        origin = env_origin(ENV_SNAPSHOT) if str(source) == "snapshot" else ""
        raise DataError(
            "Feature table not found",
            input=str(path) + origin,
            done="nothing was computed",
            cause="the folder is not a targetrank feature folder (features.parquet + manifest.json)",
            fix=snapshot_fix(
                "use --features snapshot, or a folder written by `targetrank features merge`"
            )
            if origin
            else "use --features snapshot, or a folder written by `targetrank features merge`",
        )
    identity = _file_identity(path) if validate else None
    if identity is not None and identity in _VALIDATED:
        return _VALIDATED[identity].clone()  # a clone: callers may change theirs in place
    try:
        df = pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for corrupt files
        raise DataError(
            "Feature table cannot be read",
            input=str(path),
            done="nothing was computed",
            cause=f"not a valid parquet file ({type(exc).__name__})",
            fix="rebuild it with `targetrank snapshot build` or `targetrank features merge`",
        ) from exc
    if validate:
        from targetrank.features.schema import validate_features

        df = validate_features(df, source=str(path))
        if identity is not None:
            while len(_VALIDATED) >= _VALIDATED_MAX:
                _VALIDATED.pop(next(iter(_VALIDATED)))
            _VALIDATED[identity] = df.clone()
    return df


def _file_identity(path: Path) -> tuple[Any, ...] | None:
    """What changes when a file is rewritten or replaced (None: cannot tell, do not reuse)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_dev)


def feature_manifest(source: str | Path = "snapshot") -> dict[str, Any]:
    """The manifest of a feature folder: sources, releases, licences and per-column provenance."""
    path = _feature_dir(source) / MANIFEST_FILE
    if not path.is_file():
        raise DataError(
            "Feature manifest not found",
            input=str(path),
            fix="a feature folder needs the manifest.json written with it; rebuild the folder",
        )
    return json.loads(path.read_text("utf-8"))


def precedence_labels(source: str | Path = "snapshot") -> pl.DataFrame:
    """Genome-wide clinical-precedence labels (approved-drug target or druggable Tier 1)."""
    path = _feature_dir(source) / LABELS_FILE
    if not path.is_file():
        path = snapshot_dir() / LABELS_FILE
    return pl.read_parquet(path)
