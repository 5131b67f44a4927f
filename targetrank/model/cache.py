"""On-disk cache of trained ranker state, keyed by everything the trained models depend on.

Why: a ranking retrains ~140 LightGBM models although they depend only on the feature table,
the strategy file, the evidence base, the scorer settings, the seed and the library versions.
A user who changes the panel, the top N or the export formats should not pay for that again.

The key is a SHA-256 over those inputs (content digests, not file paths); the file is a JSON
header line (format, key, versions, SHA-256 of the payload) followed by the zlib-compressed
JSON state (LightGBM models as their own text format, frames as Arrow IPC). A file is used
only when its header names this key, these library versions and its payload matches the
checksum; anything else is refused with a one-line notice and the models are retrained.
Writes go to a temporary file renamed into place, so two processes writing the same key at
once each leave a complete file (the same one) and a reader never sees a partial one.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import polars as pl

from targetrank._types import NoticeCallback, no_notice

FORMAT = "targetrank-model-cache/1"
SUFFIX = ".trmodel"
PACKAGE_DIR = Path(__file__).resolve().parent.parent


@runtime_checkable
class CacheableScorer(Protocol):
    """A scorer whose fitted state can be keyed, saved and restored."""

    def fit(self, context: Any, *, cache: ModelCache | None = None) -> Any:
        """Fit, reusing (or storing) parts of the state in ``cache``."""
        ...

    def cache_components(self, context: Any) -> dict[str, Any]:
        """Everything the fitted state depends on besides the library versions."""
        ...

    def to_state(self) -> dict[str, Any]:
        """The fitted state as JSON-serialisable data."""
        ...

    def restore(self, state: Mapping[str, Any], context: Any) -> Any:
        """Become fitted from :meth:`to_state` output (for the same key)."""
        ...


@dataclass
class CacheOutcome:
    """What the cache did for one fit (recorded in the manifest)."""

    used: bool
    key: str | None = None
    stored: bool = False

    def as_dict(self) -> dict[str, Any]:
        """For the manifest: ``{used, key}``."""
        return {"used": self.used, "key": self.key}


# ------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    """Versions of the libraries a trained model's numbers depend on."""
    import lightgbm
    import numpy
    import sklearn

    from targetrank.__about__ import __version__

    return {
        "targetrank": __version__,
        "lightgbm": lightgbm.__version__,
        "polars": pl.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
    }


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the package's Python sources: an edited checkout never reuses stale models."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def frame_digest(df: pl.DataFrame) -> str:
    """Content digest of a frame: schema, height and row hashes (stable within a polars version)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[n, str(t)] for n, t in df.schema.items()]).encode())
    digest.update(str(df.height).encode())
    if df.height and df.width:
        digest.update(df.hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()


def strategies_digest(strategies: Any) -> str:
    """Digest of a strategy set's content (ids, compartments, gates, weights, seed panel)."""
    data = dataclasses.asdict(strategies)
    data.pop("source", None)  # where the file lives does not change what it says
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def leakage_guard() -> dict[str, Any]:
    """The leakage guard as data: declared names, patterns and the registry's leaky columns."""
    from targetrank.features import REGISTRY
    from targetrank.model.leakage import DECLARED_LEAKAGE, LEAKAGE_PATTERNS

    return {
        "declared": sorted(DECLARED_LEAKAGE),
        "patterns": [p.pattern for p in LEAKAGE_PATTERNS],
        "registry": sorted(REGISTRY.leakage_features()),
    }


def cache_key(components: Mapping[str, Any]) -> str:
    """SHA-256 of the key components (with the format and the library versions)."""
    full = {"format": FORMAT, "versions": library_versions(), **components}
    return hashlib.sha256(json.dumps(full, sort_keys=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------------------
# Frames in JSON state
# ------------------------------------------------------------------------------------------


def frame_to_text(df: pl.DataFrame) -> str:
    """A frame as base64 Arrow IPC (exact dtypes and values)."""
    buffer = io.BytesIO()
    df.write_ipc(buffer, compression="uncompressed")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def frame_from_text(text: str) -> pl.DataFrame:
    """Inverse of :func:`frame_to_text`."""
    return pl.read_ipc(io.BytesIO(base64.b64decode(text)))


# ------------------------------------------------------------------------------------------
# The store
# ------------------------------------------------------------------------------------------


def default_root(path: str | os.PathLike[str] | None = None) -> Path:
    """``<cache dir>/models``: ``path``, else ``TARGETRANK_CACHE_DIR``, else the platform folder."""
    from targetrank.paths import cache_dir

    return cache_dir(path) / "models"


class ModelCache:
    """Trained-model files under one folder, one file per key.

    Args:
        root: The folder holding the files (created on first write).
        notice: One-line messages for the user (a refused or unwritable file); never printed here.
    """

    def __init__(self, root: str | os.PathLike[str], notice: NoticeCallback = no_notice) -> None:
        self.root = Path(root)
        self.notice = notice
        self._write_failed = False  # one notice per run, not one per file

    def path(self, key: str) -> Path:
        """The file of ``key``."""
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / f"{key}{SUFFIX}"

    def load(self, key: str) -> dict[str, Any] | None:
        """The state stored under ``key``, or None (absent, or refused with a notice)."""
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None  # absent (a folder that cannot exist is reported when writing)
        except OSError as exc:
            self.notice(f"model cache {path} unreadable ({exc.strerror or exc}): retraining")
            return None
        reason = None
        state = None
        try:
            head, _, payload = blob.partition(b"\n")
            header = json.loads(head)
            versions = library_versions()
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                reason = "not a model cache file of this format"
            elif header.get("versions") != versions:
                theirs = header.get("versions") or {}
                changed = [
                    f"{lib} {theirs.get(lib, '?')} (now {v})"
                    for lib, v in versions.items()
                    if theirs.get(lib) != v
                ]
                reason = "written by " + ", ".join(changed or ["other library versions"])
            elif header.get("key") != key:
                reason = "its key does not match its name"
            elif hashlib.sha256(payload).hexdigest() != header.get("sha256"):
                reason = "checksum mismatch (truncated or corrupt)"
            else:
                state = json.loads(zlib.decompress(payload))
                if not isinstance(state, dict):
                    reason, state = "payload is not a state", None
        except (ValueError, zlib.error, UnicodeDecodeError) as exc:
            reason = f"unreadable ({type(exc).__name__})"
        if reason is not None:
            self.notice(f"model cache {path.name} refused: {reason}; retraining")
            return None
        return state

    def store(self, key: str, state: Mapping[str, Any]) -> bool:
        """Write ``state`` atomically; False (with a notice) when the folder is not writable."""
        from targetrank._atomic import atomic_path

        payload = zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 1)
        header = {
            "format": FORMAT,
            "key": key,
            "versions": library_versions(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "bytes": len(payload),
        }
        try:
            with atomic_path(self.path(key)) as tmp:
                tmp.write_bytes(json.dumps(header).encode() + b"\n" + payload)
        except OSError as exc:
            if self._write_failed:
                return False
            self._write_failed = True
            self.notice(
                f"model cache not written to {self.root} ({exc.strerror or exc}): the next run "
                "retrains; set TARGETRANK_CACHE_DIR or --cache-dir to a writable folder"
            )
            return False
        return True


def fit_cached(scorer: Any, context: Any, cache: ModelCache | None) -> CacheOutcome:
    """Fit ``scorer`` on ``context``, or restore it from ``cache`` when its key is stored.

    Scorers without cache support (weighted, custom) are fitted as usual and never cached.
    """
    if cache is None or not isinstance(scorer, CacheableScorer):
        scorer.fit(context)
        return CacheOutcome(False)
    key = cache_key(scorer.cache_components(context))
    state = cache.load(key)
    if state is not None:
        try:
            scorer.restore(state, context)
            return CacheOutcome(True, key)
        except Exception as exc:  # a verified file that does not restore: retrain, never fail
            cache.notice(f"model cache {key[:12]} refused: cannot restore ({exc}); retraining")
    scorer.fit(context, cache=cache)
    stored = cache.store(key, scorer.to_state())
    return CacheOutcome(False, key, stored)
