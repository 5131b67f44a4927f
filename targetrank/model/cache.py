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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import polars as pl

from targetrank._types import NoticeCallback, no_notice

FORMAT = "targetrank-model-cache/1"
SUFFIX = ".trmodel"
ARRAYS_FORMAT = "targetrank-model-cache-arrays/1"
ARRAYS_SUFFIX = ".trscores"
PACKAGE_DIR = Path(__file__).resolve().parent.parent


@runtime_checkable
class CacheableScorer(Protocol):
    """A scorer whose fitted state can be keyed, saved and restored."""

    def fit(
        self, context: Any, *, cache: ModelCache | None = None, with_prior: bool = False
    ) -> Any:
        """Fit, reusing (or storing) parts of the state in ``cache``.

        ``with_prior``: also fit the context model the model card reads, now, not on first use.
        """
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
    store: ModelCache | None = dataclasses.field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """For the manifest: ``{used, key}``."""
        return {"used": self.used, "key": self.key}


# ------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    """Versions of the libraries a trained model's numbers depend on.

    Read from the installed distributions' metadata (the same strings as ``__version__``), so
    computing a cache key does not import LightGBM and scikit-learn (~2.5 s), which a warm
    run never needs.
    """
    from importlib.metadata import version

    from targetrank.__about__ import __version__

    return {
        "targetrank": __version__,
        "lightgbm": version("lightgbm"),
        "polars": pl.__version__,
        "numpy": version("numpy"),
        "scikit-learn": version("scikit-learn"),
    }


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the package's sources and of the pairs and network the features read at run time.

    An edited checkout never reuses stale models.
    """
    from targetrank.features.network import NETWORK_FILE
    from targetrank.features.partners import PAIRS_FILE

    data = PACKAGE_DIR / "data"
    digest = hashlib.sha256()
    for path in [*sorted(PACKAGE_DIR.rglob("*.py")), data / PAIRS_FILE, data / NETWORK_FILE]:
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


def _refusal(header: Any, fmt: str, key: str, payload: bytes | memoryview) -> str | None:
    """Why a file with this header and payload cannot be used for ``key`` (None: it can)."""
    versions = library_versions()
    if not isinstance(header, dict) or header.get("format") != fmt:
        return "not a model cache file of this format"
    if header.get("versions") != versions:
        theirs = header.get("versions") or {}
        changed = [
            f"{lib} {theirs.get(lib, '?')} (now {v})"
            for lib, v in versions.items()
            if theirs.get(lib) != v
        ]
        return "written by " + ", ".join(changed or ["other library versions"])
    if header.get("key") != key:
        return "its key does not match its name"
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        return "checksum mismatch (truncated or corrupt)"
    return None


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

    def path(self, key: str, suffix: str = SUFFIX) -> Path:
        """The file of ``key``."""
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / f"{key}{suffix}"

    def load(self, key: str) -> dict[str, Any] | None:
        """The state stored under ``key``, or None (absent, or refused with a notice)."""
        path = self.path(key)
        blob = self._read(path, "retraining")
        if blob is None:
            return None
        state = None
        try:
            head, _, payload = blob.partition(b"\n")
            reason = _refusal(json.loads(head), FORMAT, key, payload)
            if reason is None:
                state = json.loads(zlib.decompress(payload))
                if not isinstance(state, dict):
                    reason, state = "payload is not a state", None
        except (ValueError, zlib.error, UnicodeDecodeError) as exc:
            reason = f"unreadable ({type(exc).__name__})"
        if reason is not None:
            self.notice(f"model cache {path.name} refused: {reason}; retraining")
            return None
        return state

    def _read(self, path: Path, then: str) -> bytes | None:
        """The bytes of ``path``; None when absent or unreadable (with a notice)."""
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None  # absent (a folder that cannot exist is reported when writing)
        except OSError as exc:
            self.notice(f"model cache {path} unreadable ({exc.strerror or exc}): {then}")
            return None

    def _write_failure(self, exc: OSError) -> None:
        if self._write_failed:
            return
        self._write_failed = True
        self.notice(
            f"model cache not written to {self.root} ({exc.strerror or exc}): the next run "
            "retrains; set TARGETRANK_CACHE_DIR or --cache-dir to a writable folder"
        )

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
            self._write_failure(exc)
            return False
        return True

    def load_arrays(
        self, key: str, then: str = "recomputing"
    ) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """``(meta, arrays)`` stored by :meth:`store_arrays` under ``key``, or None.

        None when absent, or refused with a notice ending in ``then``. The arrays are read-only
        views of the file's bytes: no copy, no parse.
        """
        path = self.path(key, ARRAYS_SUFFIX)
        blob = self._read(path, then)
        if blob is None:
            return None
        try:
            end = blob.index(b"\n") + 1
            header = json.loads(blob[:end])
            payload = memoryview(blob)[end:]
            reason = _refusal(header, ARRAYS_FORMAT, key, payload)
            if reason is None:
                arrays = {}
                for name, dtype, shape, offset in header["arrays"]:
                    count = int(np.prod(shape, dtype=np.int64))
                    if offset < 0 or offset + count * np.dtype(dtype).itemsize > len(payload):
                        raise ValueError(f"array {name} outside the payload")
                    arrays[name] = np.frombuffer(
                        payload, dtype=np.dtype(dtype), count=count, offset=offset
                    ).reshape(shape)
                return dict(header["meta"]), arrays
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            reason = f"unreadable ({type(exc).__name__})"
        self.notice(f"model cache {path.name} refused: {reason}; {then}")
        return None

    def store_arrays(
        self, key: str, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> bool:
        """Write numeric arrays (raw, 64-byte aligned) and JSON ``meta`` atomically under ``key``.

        The header is checked on reading as the model files' is; False (with a notice) when the
        folder is not writable.
        """
        from targetrank._atomic import atomic_path

        parts, layout, offset = [], [], 0
        for name, array in arrays.items():
            data = np.ascontiguousarray(array)
            pad = -offset % 64
            parts.append(b"\0" * pad)
            offset += pad
            layout.append([name, data.dtype.str, list(data.shape), offset])
            parts.append(memoryview(data).cast("B"))
            offset += data.nbytes
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part)
        header = {
            "format": ARRAYS_FORMAT,
            "key": key,
            "versions": library_versions(),
            "sha256": digest.hexdigest(),
            "bytes": offset,
            "meta": dict(meta),
            "arrays": layout,
        }
        head = json.dumps(header).encode()
        head += b" " * (-(len(head) + 1) % 64) + b"\n"  # the payload starts 64-byte aligned
        try:
            with atomic_path(self.path(key, ARRAYS_SUFFIX)) as tmp, tmp.open("wb") as handle:
                handle.write(head)
                for part in parts:
                    handle.write(part)
        except OSError as exc:
            self._write_failure(exc)
            return False
        return True


def fit_cached(
    scorer: Any, context: Any, cache: ModelCache | None, *, with_prior: bool = False
) -> CacheOutcome:
    """Fit ``scorer`` on ``context``, or restore it from ``cache`` when its key is stored.

    Scorers without cache support (weighted, custom) are fitted as usual and never cached.
    ``with_prior``: a cacheable scorer also fits what its model card reads (see
    :meth:`CacheableScorer.fit`).
    """
    if not isinstance(scorer, CacheableScorer):
        scorer.fit(context)
        return CacheOutcome(False)
    if cache is None:
        scorer.fit(context, with_prior=with_prior)
        return CacheOutcome(False)
    key = cache_key(scorer.cache_components(context))
    state = cache.load(key)
    if state is not None:
        try:
            scorer.restore(state, context)
            return CacheOutcome(True, key, store=cache)
        except Exception as exc:  # a verified file that does not restore: retrain, never fail
            cache.notice(f"model cache {key[:12]} refused: cannot restore ({exc}); retraining")
    scorer.fit(context, cache=cache, with_prior=with_prior)
    stored = cache.store(key, scorer.to_state())
    return CacheOutcome(False, key, stored, cache)


# ------------------------------------------------------------------------------------------
# Scored rows: what trained models say about each (strategy, gene) row, computed once
# ------------------------------------------------------------------------------------------

#: Bits of the row key that hold the Entrez id (the strategy's position is above them).
_ENTREZ_BITS = 40


def _lookup(stored: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``keys`` in the sorted ``stored`` and whether each is there."""
    pos = np.searchsorted(stored, keys)
    pos = np.minimum(pos, max(len(stored) - 1, 0))
    found = stored[pos] == keys if len(stored) else np.zeros(len(keys), dtype=bool)
    return pos, found


class ScoredRows:
    """A fitted scorer whose row results are computed once per (strategy, gene) row and kept.

    The scores, TreeSHAP contributions, bootstrap replicate scores and out-of-fold flags of a
    row are pure functions of the trained models and the feature table, both covered by the
    model key, so they are kept in memory and in the model cache beside the models (a
    ``.trscores`` file under the same key, checked like the model files). :meth:`score` and
    :meth:`point_scores` answer from that table and compute only rows not yet in it, so a warm
    genome-wide run reads its scores and explanations instead of recomputing them, and a run
    with another panel reuses every row it shares. Results are the same numbers either way:
    each row is computed independently of the others.

    Every other attribute is the wrapped scorer's.

    Args:
        scorer: The fitted scorer.
        store: The model cache, or None (compute every row, keep them for this run only).
        key: The model key (None: the scorer is not cacheable; nothing is stored).
        reuse: Read the stored table (only when the models themselves came from the cache).
    """

    def __init__(
        self, scorer: Any, store: ModelCache | None, key: str | None, *, reuse: bool = True
    ) -> None:
        self.scorer = scorer
        # rows are computed independently of each other only by cacheable scorers (LightGBM);
        # others (the weighted score, custom callables) may normalise over the rows they get
        self._rowwise = isinstance(scorer, CacheableScorer)
        self._store = store if key is not None and self._rowwise else None
        self._key = key
        self._reuse = reuse
        self._loaded = False
        self._changed = False
        self._strategy_index: dict[str, int] | None = None
        empty = np.empty(0, dtype=np.int64)
        # rows with a point score; rows with every part of a ScoreResult (a subset of them)
        self._point = (empty, np.empty(0))
        self._full: dict[str, Any] = {"keys": empty}
        # per-row texts derived from the results (e.g. the top drivers): name -> (keys, texts)
        self._texts: dict[str, tuple[np.ndarray, list[str]]] = {}
        self._stored_texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "scorer":
            raise AttributeError(name)
        return getattr(self.scorer, name)

    @property
    def name(self) -> str:
        """The wrapped scorer's name."""
        return str(self.scorer.name)

    # ------------------------------------------------------------------------------ keys
    def _keys(self, rows: pl.DataFrame) -> np.ndarray | None:
        """One int64 per row (strategy position, Entrez id); None when rows cannot be keyed."""
        if not self._rowwise:
            return None
        if self._strategy_index is None:
            ids = getattr(self.scorer, "strategy_ids_", None)
            if ids is None:
                context = getattr(self.scorer, "_context", None)
                ids = context.strategies.ids if context is not None else None
            if not ids:
                return None
            self._strategy_index = {s: i for i, s in enumerate(ids)}
        if "strategy" not in rows.columns or "entrez_id" not in rows.columns:
            return None
        strategy = rows["strategy"].replace_strict(
            self._strategy_index, default=-1, return_dtype=pl.Int64
        )
        entrez = rows["entrez_id"].cast(pl.Int64)
        if strategy.null_count() or entrez.null_count():
            return None
        s, e = strategy.to_numpy(), entrez.to_numpy()
        if len(s) and (s.min() < 0 or e.min() < 0 or e.max() >= 1 << _ENTREZ_BITS):
            return None
        return (s.astype(np.int64) << _ENTREZ_BITS) | e.astype(np.int64)

    # ------------------------------------------------------------------------------ scoring
    def score(self, rows: pl.DataFrame) -> Any:
        """The wrapped scorer's ``score(rows)``, from the table where the rows are in it."""
        from targetrank.model.protocol import ScoreResult

        keys = self._keys(rows)
        if keys is None:
            return self.scorer.score(rows)
        self._load()
        full = self._full
        pos, found = _lookup(full["keys"], keys)
        if not found.any():  # nothing stored: compute, keep, and return the result as it is
            result = self.scorer.score(rows)
            self._add_full(keys, result)
            return result
        if not found.all():
            missing = ~found
            self._add_full(keys[missing], self.scorer.score(rows.filter(pl.Series(missing))))
            full = self._full
            pos, found = _lookup(full["keys"], keys)

        def take(name: str) -> np.ndarray | None:
            array = full.get(name)
            return (
                None if array is None else array[..., pos] if name == "replicates" else array[pos]
            )

        contributions = None
        if full.get("contributions") is not None:
            stored = full["contributions"][pos]
            columns = full["columns"]
            if len(columns) == full["width"]:
                contributions = stored
            else:  # columns that were zero in every stored row are not stored
                contributions = np.zeros((len(pos), full["width"]))
                contributions[:, columns] = stored
        return ScoreResult(
            take("scores"),
            contributions,
            list(full["feature_names"]),
            take("replicates"),
            take("out_of_fold"),
        )

    def point_scores(self, rows: pl.DataFrame) -> np.ndarray:
        """Scores only, from the table where the rows are in it."""
        keys = self._keys(rows)
        if keys is None:
            return _point_scores(self.scorer, rows)
        self._load()
        stored, values = self._point
        pos, found = _lookup(stored, keys)
        if not found.all():
            missing = ~found
            computed = _point_scores(self.scorer, rows.filter(pl.Series(missing)))
            self._add_point(keys[missing], computed)
            stored, values = self._point
            pos, found = _lookup(stored, keys)
        return values[pos].copy()

    def texts(
        self, name: str, rows: pl.DataFrame, result: Any, compute: Callable[[Any], list[str]]
    ) -> list[str]:
        """A text per row derived from its results (e.g. the top drivers), computed once per row.

        ``result`` is :meth:`score`'s answer for ``rows``; ``compute(part)`` gives one text per
        row of a ScoreResult ``part``, each from its own row only. Texts are kept with the
        scored rows (and stored with them), so a warm run reads them instead of formatting them.
        """
        keys = self._keys(rows)
        if keys is None:
            return list(compute(result))
        self._load()
        stored_keys, texts = self._text_table(name)
        pos, found = _lookup(stored_keys, keys)
        if not found.all():
            missing = ~found
            made = list(compute(result if not found.any() else _result_rows(result, missing)))
            merged = np.concatenate([stored_keys, keys[missing]])
            unique, first = np.unique(merged, return_index=True)
            every = texts + made
            self._texts[name] = (unique, [every[i] for i in first.tolist()])
            self._changed = True
            stored_keys, texts = self._texts[name]
            pos, found = _lookup(stored_keys, keys)
        return [texts[i] for i in pos.tolist()]

    def _text_table(self, name: str) -> tuple[np.ndarray, list[str]]:
        if name not in self._texts:
            keys, blob = self._stored_texts.pop(name, (np.empty(0, dtype=np.int64), None))
            texts = [] if blob is None else blob.tobytes().decode("utf-8").split(_TEXT_SEP)
            if len(texts) != len(keys):  # a table that does not add up: compute anew
                keys, texts = np.empty(0, dtype=np.int64), []
            self._texts[name] = (keys, texts)
        return self._texts[name]

    # ------------------------------------------------------------------------------ the table
    def _add_point(self, keys: np.ndarray, values: np.ndarray) -> None:
        old_keys, old_values = self._point
        merged_keys = np.concatenate([old_keys, keys])
        unique, first = np.unique(merged_keys, return_index=True)  # stored rows win
        self._point = (unique, np.concatenate([old_values, values])[first])
        self._changed = True

    def _add_full(self, keys: np.ndarray, result: Any) -> None:
        """Merge a ScoreResult of new rows into the table."""
        full = self._full
        n_old = len(full["keys"])
        parts = ("contributions", "replicates", "out_of_fold")
        if n_old and (
            any((full.get(p) is None) != (getattr(result, p) is None) for p in parts)
            or list(full["feature_names"]) != list(result.feature_names)
        ):
            n_old, full = 0, {"keys": full["keys"][:0]}  # another shape of result: start anew
        contributions = result.contributions
        if contributions is not None:
            contributions = np.asarray(contributions, dtype=np.float64)
            width = contributions.shape[1]
            # columns whose every bit is 0 in every row (features no tree uses): not stored
            nonzero = (contributions.view(np.uint64) != 0).any(axis=0)
            if n_old:
                old = np.zeros(width, dtype=bool)
                old[full["columns"]] = True
                nonzero |= old
            columns = np.flatnonzero(nonzero)
            new = contributions[:, columns]
            if n_old:
                wide = np.zeros((n_old, width))
                wide[:, full["columns"]] = full["contributions"]
                new = np.concatenate([wide[:, columns], new])
            contributions, full_width = new, width
        merged = np.concatenate([full["keys"], keys])
        unique, first = np.unique(merged, return_index=True)

        def merge(name: str, new: Any, axis: int = 0) -> np.ndarray | None:
            if new is None:
                return None
            new = np.asarray(new)
            if n_old:
                new = np.concatenate([full[name], new], axis=axis)
            return np.take(new, first, axis=axis)

        table: dict[str, Any] = {
            "keys": unique,
            "scores": merge("scores", result.scores),
            "replicates": merge("replicates", result.replicates, axis=1),
            "out_of_fold": merge("out_of_fold", result.out_of_fold),
            "feature_names": list(result.feature_names),
        }
        if contributions is not None:
            table["contributions"] = np.take(contributions, first, axis=0)
            table["columns"] = columns
            table["width"] = full_width
        self._full = table
        self._add_point(keys, np.asarray(result.scores, dtype=np.float64))

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self._store is None or not self._reuse or self._key is None:
            return
        got = self._store.load_arrays(self._key)
        if got is None:
            return
        meta, arrays = got
        try:
            table = _table_from(meta, arrays, getattr(self.scorer, "feature_names_", None))
        except (KeyError, TypeError, ValueError) as exc:
            self._store.notice(
                f"model cache {self._key[:12]}{ARRAYS_SUFFIX} refused: {exc}; recomputing"
            )
            return
        self._point = (arrays["point_keys"], arrays["point_scores"])
        self._full = table
        for name in meta.get("texts", []):
            keys, blob = arrays.get(f"text_keys:{name}"), arrays.get(f"text:{name}")
            if keys is not None and blob is not None and keys.ndim == 1:
                self._stored_texts[name] = (keys, blob)

    def save(self) -> bool:
        """Store the table beside the models when this run added rows; True when written."""
        if self._store is None or self._key is None or not self._changed:
            return False
        full = self._full
        arrays = {"point_keys": self._point[0], "point_scores": self._point[1]}
        meta: dict[str, Any] = {"feature_names": full.get("feature_names", [])}
        if len(full["keys"]):
            arrays["keys"] = full["keys"]
            for name in ("scores", "replicates", "out_of_fold", "contributions", "columns"):
                if full.get(name) is not None:
                    arrays[name] = full[name]
            if full.get("contributions") is not None:
                meta["width"] = int(full["width"])
        names = []
        for name in sorted({*self._texts, *self._stored_texts}):
            keys, texts = self._text_table(name)
            if not len(keys) or any(_TEXT_SEP in t for t in texts):
                continue  # nothing to keep, or a text that would split: computed each run
            blob = _TEXT_SEP.join(texts).encode("utf-8")
            arrays[f"text_keys:{name}"] = keys
            arrays[f"text:{name}"] = np.frombuffer(blob, dtype=np.uint8)
            names.append(name)
        meta["texts"] = names
        if not self._store.store_arrays(self._key, meta, arrays):
            return False
        self._changed = False
        return True


def _table_from(
    meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], names: Any
) -> dict[str, Any]:
    """The in-memory table of a stored file, checked for consistency (ValueError if not)."""
    point_keys, point_scores = arrays["point_keys"], arrays["point_scores"]
    if point_keys.ndim != 1 or point_scores.shape != point_keys.shape:
        raise ValueError("point scores do not match their rows")
    feature_names = list(meta["feature_names"])
    if names is not None and feature_names and feature_names != list(names):
        raise ValueError("its features are not the models' features")
    keys = arrays.get("keys")
    if keys is None:
        return {"keys": np.empty(0, dtype=np.int64)}
    n = len(keys)
    table: dict[str, Any] = {
        "keys": keys,
        "scores": arrays["scores"],
        "feature_names": feature_names,
    }
    if table["scores"].shape != (n,):
        raise ValueError("scores do not match their rows")
    for name, axis in (("replicates", 1), ("out_of_fold", 0)):
        array = arrays.get(name)
        if array is not None and array.shape[axis] != n:
            raise ValueError(f"{name} do not match their rows")
        table[name] = array
    if "contributions" in arrays:
        width, columns = int(meta["width"]), arrays["columns"]
        if width != len(feature_names) + 1 or arrays["contributions"].shape != (n, len(columns)):
            raise ValueError("contributions do not match their rows")
        if len(columns) and (columns.min() < 0 or columns.max() >= width):
            raise ValueError("contribution columns out of range")
        table.update(contributions=arrays["contributions"], columns=columns, width=width)
    return table


def _point_scores(scorer: Any, rows: pl.DataFrame) -> np.ndarray:
    """Scores only (no contributions or replicates) where the scorer offers that shortcut."""
    fast = getattr(scorer, "point_scores", None)
    if callable(fast):
        return np.asarray(fast(rows), dtype=float)
    return np.asarray(scorer.score(rows).scores, dtype=float)


#: Separator of the stored per-row texts (a text holding it is not stored).
_TEXT_SEP = "\x00"


def _result_rows(result: Any, mask: np.ndarray) -> Any:
    """The rows ``mask`` of a ScoreResult."""
    from targetrank.model.protocol import ScoreResult

    def part(array: Any, axis: int = 0) -> Any:
        return None if array is None else np.compress(mask, np.asarray(array), axis=axis)

    return ScoreResult(
        part(result.scores),
        part(result.contributions),
        list(result.feature_names),
        part(result.replicates, axis=1),
        part(result.out_of_fold),
    )
