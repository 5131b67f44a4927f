"""DepMap portal connector: release listing, checksummed cached downloads, cached matrices.

I/O only. The portal lists every released file with a (possibly signed, expiring) URL and the
MD5 of its bytes at ``GET /portal/api/download/files``. This module:

- reads that listing fresh for every run (signed URLs expire after 14 days: never cached);
- picks a release (``--release`` or the newest by ``release_date``) and its files by logical
  kind, whatever they were called in that release;
- downloads each file once into the cache (pooch: temporary file, MD5 check, atomic rename),
  retrying transient failures, retrying an MD5 mismatch once, and re-reading the listing once
  when a signed URL has expired (HTTP 403);
- parses wide matrices with polars and keeps a parquet copy, so reruns and panels are fast.

Cache layout: ``<cache>/depmap/<release tag>/<file name>`` (``<cache>`` is
``TARGETRANK_CACHE_DIR`` or the platform user cache), with ``parsed/*.parquet`` beside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import requests

from targetrank.__about__ import __version__
from targetrank._atomic import atomic_open, atomic_path
from targetrank._types import ProgressCallback, no_progress
from targetrank.errors import DataError, OutputError, UpstreamError, UsageError
from targetrank.paths import cache_dir
from targetrank.sources.local import read_depmap_gene_list
from targetrank.tables.depmap import (
    RELEASE_PREFIX,
    MatrixLayout,
    check_gene_list,
    depmap_releases,
    normalise_release,
    parse_listing,
    read_gene_matrix,
    read_matrix_layout,
    read_models,
    release_tag,
    select_gene_columns,
)

DEFAULT_ENDPOINT = "https://depmap.org/portal/api/download/files"
ENV_ENDPOINT = "TARGETRANK_DEPMAP_ENDPOINT"
LISTING_PATH = "/api/download/files"

#: Logical file kind → file names it has had, newest layout first.
FILE_KINDS: dict[str, tuple[str, ...]] = {
    "model": ("Model.csv", "Model_v2.csv", "sample_info.csv", "sample_info_v2.csv"),
    "gene_effect": ("CRISPRGeneEffect.csv", "CRISPR_gene_effect.csv", "Achilles_gene_effect.csv"),
    "gene_dependency": (
        "CRISPRGeneDependency.csv",
        "CRISPR_gene_dependency.csv",
        "Achilles_gene_dependency.csv",
    ),
    "common_essentials": (
        "CRISPRInferredCommonEssentials.csv",
        "CRISPR_common_essentials.csv",
        "Achilles_common_essentials.csv",
    ),
    # model-level until 25Q2; profile-level (one row per profile) from 25Q2 on
    "expression": (
        "OmicsExpressionProteinCodingGenesTPMLogp1.csv",
        "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv",
        "CCLE_expression.csv",
    ),
}
REQUIRED_KINDS = ("model", "gene_effect", "gene_dependency", "common_essentials")
OPTIONAL_KINDS = ("expression",)

_PARSER_VERSION = "1"  # bump when read_gene_matrix changes what it stores in parquet
_CHUNK = 1 << 20


def endpoint_url(endpoint: str | None = None) -> str:
    """The listing URL from ``--endpoint``, ``TARGETRANK_DEPMAP_ENDPOINT`` or the default.

    A portal root (``http://host/portal``) gets ``/api/download/files`` appended.
    """
    url = (endpoint or os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            "The DepMap endpoint is not an http(s) URL",
            input=url,
            done="nothing was downloaded",
            fix=f"pass --endpoint {DEFAULT_ENDPOINT} (or set {ENV_ENDPOINT})",
        )
    if not parts.path.rstrip("/").endswith(LISTING_PATH):
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + LISTING_PATH))
    return url


def redact(url: str) -> str:
    """A URL without its query string: signed URLs are bearer links and never shown or kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


@dataclass(frozen=True)
class DepMapFile:
    """One file of one release as listed by the portal (the URL is only valid for a while)."""

    kind: str
    release: str
    release_date: date | None
    filename: str
    url: str
    md5: str | None

    @property
    def label(self) -> str:
        """``Model.csv (DepMap Public 24Q4)`` for messages."""
        return f"{self.filename} ({self.release})"


@dataclass(frozen=True)
class LocalFile:
    """A downloaded, verified file in the cache."""

    kind: str
    release: str
    filename: str
    path: Path
    md5: str
    md5_verified: bool
    size: int
    source: str  # the URL without its query string
    downloaded: bool

    def as_manifest(self) -> dict[str, Any]:
        """Manifest entry (no path: caches differ between machines)."""
        return {
            "filename": self.filename,
            "md5": self.md5,
            "md5_verified": self.md5_verified,
            "size": self.size,
            "source": self.source,
        }


# --------------------------------------------------------------------------------------------
# Release and file selection (pure functions over the listing)
# --------------------------------------------------------------------------------------------


def select_release(listing: pl.DataFrame, release: str | None = None) -> str:
    """The release to use: ``release`` (``24Q4`` or ``DepMap Public 24Q4``) or the newest.

    Raises:
        UsageError: the requested release is not in the listing (the message lists recent ones).
        UpstreamError: the listing holds no DepMap Public release at all.
    """
    releases = depmap_releases(listing)
    if releases.height == 0:
        raise UpstreamError(
            "The DepMap file listing holds no 'DepMap Public' release",
            input=f"{listing.height} rows; releases: {', '.join(listing['release'].unique().head(5).to_list())}",
            done="nothing was downloaded",
            cause="the endpoint is not the DepMap portal's download API",
            fix=f"check --endpoint (or {ENV_ENDPOINT})",
        )
    if release is None:
        return str(releases["release"][0])
    wanted = normalise_release(release)
    if wanted in releases["release"].to_list():
        return wanted
    recent = ", ".join(r[len(RELEASE_PREFIX) :] for r in releases["release"].head(8).to_list())
    raise UsageError(
        f"DepMap release '{release}' is not in the portal's listing",
        input=f"looked for '{wanted}'",
        done="nothing was downloaded",
        cause="a typo or a release that does not exist (there was no 24Q1, 24Q3 or 25Q1)",
        fix=f"use --release with one of: {recent}",
    )


def release_files(
    listing: pl.DataFrame,
    release: str,
    kinds: Iterable[str] = REQUIRED_KINDS,
    optional: Iterable[str] = OPTIONAL_KINDS,
) -> dict[str, DepMapFile]:
    """Map logical kinds to the release's listed files (first matching name wins).

    Raises:
        DataError: a required kind has no file in the release; names the newest release that
            has all of them.
    """
    rows = listing.filter(pl.col("release") == release)
    by_name = {r["filename"]: r for r in rows.iter_rows(named=True)}
    found: dict[str, DepMapFile] = {}
    missing: list[str] = []
    required = list(kinds)
    for kind in [*required, *optional]:
        name = next((n for n in FILE_KINDS[kind] if n in by_name), None)
        if name is None:
            if kind in required:
                missing.append(f"{kind} ({' or '.join(FILE_KINDS[kind])})")
            continue
        row = by_name[name]
        found[kind] = DepMapFile(
            kind, release, row["release_date"], name, row["url"], row["md5_hash"]
        )
    if missing:
        complete = _complete_releases(listing, required)
        hint = f"--release {complete[0][len(RELEASE_PREFIX) :]}" if complete else "--release"
        raise DataError(
            f"{release} lists no file for {'; '.join(missing)}",
            input=f"{rows.height} files listed for {release}",
            done="nothing was downloaded",
            cause="the release is incomplete on the portal or predates these files",
            fix=f"use {hint} (the newest release with every required file)",
        )
    return found


def _complete_releases(listing: pl.DataFrame, kinds: Sequence[str]) -> list[str]:
    out = []
    for rel in depmap_releases(listing)["release"].to_list():
        names = set(listing.filter(pl.col("release") == rel)["filename"].to_list())
        if all(any(n in names for n in FILE_KINDS[k]) for k in kinds):
            out.append(rel)
    return out


# --------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------


class _PoochProgress:
    """Adapts pooch's progress-bar protocol (total, update, reset, close) to a callback."""

    def __init__(self, callback: ProgressCallback, step: str, size: int | None) -> None:
        self._callback, self._step = callback, step
        self._total = size or 0
        self._done = 0

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        if value:
            self._total = int(value)

    def update(self, n: int) -> None:
        self._done += n
        total = self._total or self._done
        self._callback(self._step, min(self._done, total), total)

    def reset(self) -> None:
        self._done = 0

    def close(self) -> None:
        total = self._total or self._done
        self._callback(self._step, total, total)


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    # pooch logs each download (with the signed URL) to stderr; the library never prints
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


_HASH_GOT = re.compile(r"but got ([0-9a-fA-F]+)")


@dataclass
class DepMapClient:
    """Talks to the DepMap portal (or a fake of it) and keeps a verified download cache.

    Args:
        endpoint: Listing URL or portal root (default: env ``TARGETRANK_DEPMAP_ENDPOINT``, else
            the public portal).
        cache: Cache root (default: ``TARGETRANK_CACHE_DIR`` or the platform user cache); files
            go under ``<cache>/depmap/``.
        retries: Extra attempts after a transient failure (connection error, timeout, HTTP 5xx
            or 429, truncated body).
        backoff: Seconds before the first retry; doubles each time (tests pass 0).
        timeout: Connect and read timeout in seconds.
        progress: ``(step, done, total)`` callback; bytes while downloading.
    """

    endpoint: str | None = None
    cache: str | os.PathLike[str] | None = None
    retries: int = 3
    backoff: float = 1.0
    timeout: float = 60.0
    progress: ProgressCallback = no_progress
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self._relisted: pl.DataFrame | None = None  # the listing re-read after a refused URL
        self.endpoint = endpoint_url(self.endpoint)
        self.root = cache_dir(self.cache) / "depmap"
        self.session.headers.setdefault("User-Agent", f"targetrank/{__version__}")

    # -- listing -------------------------------------------------------------------------

    def listing(self) -> pl.DataFrame:
        """GET the file listing (always fresh: its signed URLs expire)."""
        assert self.endpoint is not None
        response = self._get_with_retries(self.endpoint, what="the DepMap file listing")
        return parse_listing(response.content, source=self.endpoint)

    def _get_with_retries(self, url: str, *, what: str) -> requests.Response:
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(attempt)
            try:
                response = self.session.get(url, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = type(exc).__name__
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise UpstreamError(
                    f"Could not read {what}: HTTP {response.status_code}",
                    input=redact(url),
                    done="nothing was downloaded",
                    cause="the endpoint is wrong or the portal's API moved",
                    fix=f"check --endpoint (or {ENV_ENDPOINT}); the default is {DEFAULT_ENDPOINT}",
                )
            return response
        raise UpstreamError(
            f"Could not read {what} after {self.retries + 1} attempts ({last})",
            input=redact(url),
            done="nothing was downloaded",
            cause="no network, a proxy, or the portal is down",
            fix=f"check the connection and retry later, or point --endpoint / {ENV_ENDPOINT} at a mirror",
        )

    def _sleep(self, attempt: int) -> None:
        if self.backoff > 0:
            time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))

    # -- downloads -----------------------------------------------------------------------

    def folder(self, release: str) -> Path:
        """Cache folder of one release."""
        return self.root / release_tag(release)

    def download(self, file: DepMapFile) -> LocalFile:
        """Return the cached, verified file, downloading it first when needed.

        Raises:
            UpstreamError: the download failed after retries, the MD5 did not match twice, or
                the signed URL stayed rejected after re-reading the listing.
            OutputError: the cache folder cannot be written (read-only, full disk).
        """
        try:
            return self._download(file)
        except requests.RequestException:
            raise
        except OSError as exc:  # not the network: the cache folder cannot take the file
            folder = self.folder(file.release)
            raise OutputError(
                f"Cannot write {file.label} to the download cache",
                input=str(folder),
                done="the partial download was deleted; nothing was cached for this file",
                cause=exc.strerror or str(exc).split(" | ")[0],
                fix="free disk space, or point --cache-dir (or TARGETRANK_CACHE_DIR) at a "
                "writable folder",
            ) from exc

    def _download(self, file: DepMapFile) -> LocalFile:
        target = self.folder(file.release) / file.filename
        cached = self._cached(file, target)
        if cached is not None:
            return cached
        for stale in (target, self._sidecar(target)):  # unverifiable leftovers: fetch afresh
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        current = file
        refreshed = False
        transient = 0
        md5_failures = 0
        while True:
            try:
                self._fetch(current, target)
                break
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status in (401, 403) and not refreshed:
                    refreshed = True  # a signed URL expired: re-read the listing once
                    current = self._fresh(current)
                    continue
                if (status >= 500 or status == 429) and transient < self.retries:
                    transient += 1
                    self._sleep(transient)
                    continue
                raise self._http_error(current, status, refreshed) from exc
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,  # a truncated body
            ) as exc:
                last = type(exc).__name__
                if transient < self.retries:
                    transient += 1
                    self._sleep(transient)
                    continue
                raise UpstreamError(
                    f"Could not download {current.label} after {transient + 1} attempts ({last})",
                    input=redact(current.url),
                    done="nothing was cached for this file",
                    cause="no network, a proxy, or the portal is down",
                    fix="check the connection and rerun (finished files are kept in the cache)",
                ) from exc
            except ValueError as exc:
                if "hash" not in str(exc).lower():
                    raise
                md5_failures += 1
                if md5_failures < 2:
                    self._sleep(1)
                    continue
                got = _HASH_GOT.search(str(exc))
                actual = got.group(1).lower() if got else "unknown"
                raise UpstreamError(
                    f"{current.label} failed its MD5 check twice: expected {current.md5}, got {actual}",
                    input=redact(current.url),
                    done="the download was deleted and nothing was cached",
                    cause="a corrupted or truncated transfer (a proxy?), or the file changed upstream",
                    fix="rerun later; if it persists, choose another --release or report it to DepMap",
                ) from exc
        md5 = current.md5 or _md5(target)
        stat = target.stat()
        self._write_sidecar(current, target, md5)
        return LocalFile(
            current.kind,
            current.release,
            current.filename,
            target,
            md5,
            current.md5 is not None,
            stat.st_size,
            redact(current.url),
            downloaded=True,
        )

    def _fetch(self, file: DepMapFile, target: Path) -> None:
        import pooch

        size = self._head_size(file.url)
        bar = _PoochProgress(self.progress, f"download {file.filename}", size)
        downloader = pooch.HTTPDownloader(
            progressbar=bar,  # type: ignore[arg-type]
            chunk_size=_CHUNK,
            timeout=self.timeout,
            headers=dict(self.session.headers),
        )
        known = f"md5:{file.md5}" if file.md5 else None
        with _quiet_pooch():
            pooch.retrieve(
                file.url,
                known_hash=known,
                fname=target.name,
                path=target.parent,
                downloader=downloader,
            )

    def _head_size(self, url: str) -> int | None:
        """Size from HEAD, for the progress bar; best effort (signed GET URLs may refuse HEAD)."""
        try:
            response = self.session.head(url, timeout=self.timeout, allow_redirects=True)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        try:
            return int(response.headers.get("content-length", "")) or None
        except ValueError:
            return None

    def _fresh(self, file: DepMapFile) -> DepMapFile:
        """The file as listed now, after its signed URL was refused.

        The listing is re-read once per run: when every URL of a listing expired together, the
        other files take their new URL from that re-read instead of reading it again.
        """
        listing = self._relisted
        if listing is None or not self._listed_anew(listing, file):
            listing = self._relisted = self.listing()
        rows = listing.filter(
            (pl.col("release") == file.release) & (pl.col("filename") == file.filename)
        )
        if rows.height == 0:
            raise UpstreamError(
                f"{file.label} is no longer in the DepMap file listing",
                input=self.endpoint,
                done="nothing was cached for this file",
                cause="the portal withdrew or renamed the file",
                fix="choose another --release",
            )
        row = rows.row(0, named=True)
        return DepMapFile(
            file.kind, file.release, row["release_date"], file.filename, row["url"], row["md5_hash"]
        )

    @staticmethod
    def _listed_anew(listing: pl.DataFrame, file: DepMapFile) -> bool:
        """True when ``listing`` gives ``file`` a URL other than the one that was refused."""
        rows = listing.filter(
            (pl.col("release") == file.release) & (pl.col("filename") == file.filename)
        )
        return rows.height > 0 and rows["url"][0] != file.url

    def _http_error(self, file: DepMapFile, status: int, refreshed: bool) -> UpstreamError:
        if status in (401, 403):
            return UpstreamError(
                f"The portal refused {file.label} (HTTP {status}) even with a freshly listed URL",
                input=redact(file.url),
                done="nothing was cached for this file",
                cause="the signed URL expired again or access is blocked (proxy, region)",
                fix="rerun; if it persists, download the file in a browser from depmap.org and report it",
            )
        if status == 404:
            return UpstreamError(
                f"{file.label} was not found on the server (HTTP 404)",
                input=redact(file.url),
                done="nothing was cached for this file",
                cause="the listing points at a file that was moved",
                fix="rerun later or choose another --release",
            )
        return UpstreamError(
            f"Could not download {file.label} (HTTP {status}) after {self.retries + 1} attempts",
            input=redact(file.url),
            done="nothing was cached for this file",
            cause="the portal or its storage is failing",
            fix="rerun later (finished files are kept in the cache)",
        )

    # -- cache bookkeeping -----------------------------------------------------------------

    @staticmethod
    def _sidecar(target: Path) -> Path:
        return target.with_name(f".{target.name}.verified.json")

    def _write_sidecar(self, file: DepMapFile, target: Path, md5: str) -> None:
        stat = target.stat()
        record = {
            "release": file.release,
            "filename": file.filename,
            "md5": md5,
            "md5_verified": file.md5 is not None,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "ctime_ns": stat.st_ctime_ns,  # changes on any write, and cannot be set back
        }
        with atomic_open(self._sidecar(target)) as handle:
            json.dump(record, handle, indent=1, sort_keys=True)

    def _cached(self, file: DepMapFile, target: Path) -> LocalFile | None:
        """The cached file when its recorded verification still holds (no re-hashing).

        A file written since it was verified (its size, mtime or ctime changed; an edit that
        restores the mtime still changes the ctime) is hashed again before it is used.
        """
        if not target.is_file():
            return None
        try:
            record = json.loads(self._sidecar(target).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        stat = target.stat()
        same_file = (
            record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns
        )
        if file.md5 is not None:
            untouched = same_file and record.get("ctime_ns") == stat.st_ctime_ns
            ok = untouched and record.get("md5") == file.md5
            if not ok and _md5(target) == file.md5:  # e.g. a copy placed by hand: verify once
                self._write_sidecar(file, target, file.md5)
                ok = True
        else:
            ok = same_file  # the listing gives no MD5 (old releases): trust the earlier download
        if not ok:
            return None
        md5 = file.md5 or str(record.get("md5") or _md5(target))
        return LocalFile(
            file.kind,
            file.release,
            file.filename,
            target,
            md5,
            file.md5 is not None,
            stat.st_size,
            redact(file.url),
            downloaded=False,
        )


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Reading downloaded files (with a parquet cache for the big matrices)
# --------------------------------------------------------------------------------------------

_WHAT = {
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
    what = _WHAT.get(kind, kind)
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


# --------------------------------------------------------------------------------------------
# One call for the CLI: listing → release → downloads → frames
# --------------------------------------------------------------------------------------------


@dataclass
class DepMapInputs:
    """Everything the feature computation needs from one release, plus where it came from."""

    release: str
    release_date: date | None
    endpoint: str
    files: dict[str, LocalFile]
    models: pl.DataFrame
    gene_effect: pl.DataFrame
    dependency: pl.DataFrame
    common_essentials: pl.DataFrame
    expression: pl.DataFrame | None
    skipped: dict[str, str] = field(default_factory=dict)


def fetch_depmap(
    client: DepMapClient,
    *,
    release: str | None = None,
    entrez_ids: Sequence[int] | None = None,
    expression: bool = True,
) -> DepMapInputs:
    """Download (or reuse) one release's files and read them, projected to a panel if given.

    Args:
        client: The portal client (endpoint, cache, retries, progress).
        release: ``24Q4`` or ``DepMap Public 24Q4``; default: the newest by release date.
        entrez_ids: A panel of genes; all genes when None.
        expression: Also fetch the expression matrix when the release has one.
    """
    progress = client.progress
    progress("listing", 0, 1)
    listing = client.listing()
    chosen = select_release(listing, release)
    optional = OPTIONAL_KINDS if expression else ()
    files = release_files(listing, chosen, REQUIRED_KINDS, optional)
    skipped: dict[str, str] = {}
    if not expression:
        skipped["expression"] = "not requested (--no-expression)"
    elif "expression" not in files:
        skipped["expression"] = f"no model-level expression file listed for {chosen}"
    local = {kind: client.download(f) for kind, f in files.items()}
    rel_date = files["gene_effect"].release_date
    steps = ["models", "common essentials", *(_WHAT[k] for k in local if k in _WHAT)]
    done = 0

    def step(name: str) -> None:
        nonlocal done
        progress(f"parse {name}", done, len(steps))
        done += 1

    step("models")
    models = read_models(local["model"].path, release=chosen)
    step("common essentials")
    ce = load_gene_list(local["common_essentials"].path, release=chosen)
    frames: dict[str, pl.DataFrame] = {}
    for kind in ("gene_effect", "gene_dependency", "expression"):
        if kind not in local:
            continue
        step(_WHAT[kind])
        frames[kind] = load_matrix(
            local[kind].path,
            release=chosen,
            kind=kind,
            entrez_ids=entrez_ids,
            cache_key=local[kind].md5,
        )
    progress("parse", len(steps), len(steps))
    assert client.endpoint is not None
    return DepMapInputs(
        release=chosen,
        release_date=rel_date,
        endpoint=redact(client.endpoint),
        files=local,
        models=models,
        gene_effect=frames["gene_effect"],
        dependency=frames["gene_dependency"],
        common_essentials=ce,
        expression=frames.get("expression"),
        skipped=skipped,
    )
