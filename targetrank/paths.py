"""Where targetrank finds its inputs and puts its outputs.

Every location can be overridden by an environment variable so that a user (or CI) never has to
edit code: ``TARGETRANK_SHARED`` (the gathered source data), ``TARGETRANK_CACHE_DIR`` (downloads
and API responses) and ``TARGETRANK_SNAPSHOT`` (an alternative embedded snapshot folder); they
are read through :mod:`targetrank.config`.
"""

from __future__ import annotations

import os
from pathlib import Path

from targetrank.config import ENV_CACHE, ENV_SHARED, ENV_SNAPSHOT, env, env_origin
from targetrank.errors import DataError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def snapshot_dir() -> Path:
    """Folder of the embedded feature snapshot.

    A wheel carries it as ``targetrank/_snapshot``; a source checkout (editable install) reads
    ``features/snapshot`` beside the package.
    """
    override = env(ENV_SNAPSHOT)
    if override:
        return Path(override)
    packaged = PACKAGE_DIR / "_snapshot"
    if packaged.is_dir():
        return packaged
    return REPO_DIR / "features" / "snapshot"


def snapshot_fix(default: str) -> str:
    """The fix for a missing snapshot file: ``default``, or mending TARGETRANK_SNAPSHOT."""
    if env(ENV_SNAPSHOT):
        return (
            f"point {ENV_SNAPSHOT} at a snapshot folder (features.parquet, genes.parquet, "
            "aliases.parquet; `targetrank snapshot build` writes one), or unset it to use the "
            "embedded snapshot"
        )
    return default


def shared_dir(path: str | os.PathLike[str] | None = None, *, required: bool = True) -> Path | None:
    """The ``shared`` folder of gathered source data (``../shared`` beside the checkout).

    Args:
        path: An explicit location, e.g. from ``--shared``; wins over everything else.
        required: Raise a :class:`DataError` when the folder cannot be found.
    """
    candidates: list[Path] = []
    if path is not None:
        candidates.append(Path(path))
    elif shared := env(ENV_SHARED):
        candidates.append(Path(shared))
    else:
        candidates += [
            REPO_DIR.parent / "shared",
            Path.cwd().parent / "shared",
            Path.cwd() / "shared",
        ]
    for candidate in candidates:
        if (candidate / "data").is_dir():
            return candidate.resolve()
    if not required:
        return None
    from_env = env_origin(ENV_SHARED) if path is None else ""
    raise DataError(
        "The shared source-data folder was not found",
        input=", ".join(str(c) for c in candidates) + from_env,
        done="nothing was read or written",
        cause="the folder with data/annotations, data/hpa, ... is not beside the checkout",
        fix=f"correct or unset {ENV_SHARED}, or pass --shared DIR"
        if from_env
        else f"pass --shared DIR or set {ENV_SHARED}=DIR",
    )


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Per-user cache folder for downloads and API responses (not created here)."""
    if path is not None:
        return Path(path)
    if cache := env(ENV_CACHE):
        return Path(cache)
    import platformdirs

    return Path(platformdirs.user_cache_dir("targetrank"))
