"""Where targetrank finds its inputs and puts its outputs.

Every location can be overridden by an environment variable so that a user (or CI) never has to
edit code: ``TARGETRANK_SHARED`` (the gathered source data), ``TARGETRANK_CACHE_DIR`` (downloads
and API responses) and ``TARGETRANK_SNAPSHOT`` (an alternative embedded snapshot folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from targetrank.errors import DataError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

ENV_SHARED = "TARGETRANK_SHARED"
ENV_CACHE = "TARGETRANK_CACHE_DIR"
ENV_SNAPSHOT = "TARGETRANK_SNAPSHOT"


def snapshot_dir() -> Path:
    """Folder of the embedded feature snapshot.

    A wheel carries it as ``targetrank/_snapshot``; a source checkout (editable install) reads
    ``features/snapshot`` beside the package.
    """
    override = os.environ.get(ENV_SNAPSHOT)
    if override:
        return Path(override)
    packaged = PACKAGE_DIR / "_snapshot"
    if packaged.is_dir():
        return packaged
    return REPO_DIR / "features" / "snapshot"


def env_origin(var: str) -> str:
    """`` (set by VAR=value)`` when ``var`` is set, else ``""``: errors name the variable.

    A path that came from an environment variable is invisible on the command line, so an error
    about it must say where it came from, or the user looks for a typo in the wrong place.
    """
    value = os.environ.get(var)
    return f" (set by {var}={value})" if value else ""


def snapshot_fix(default: str) -> str:
    """The fix for a missing snapshot file: ``default``, or mending TARGETRANK_SNAPSHOT."""
    if os.environ.get(ENV_SNAPSHOT):
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
    elif os.environ.get(ENV_SHARED):
        candidates.append(Path(os.environ[ENV_SHARED]))
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
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    import platformdirs

    return Path(platformdirs.user_cache_dir("targetrank"))
