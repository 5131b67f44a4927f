"""DepMap portal transport: the file listing and checksummed, cached, retried downloads.

The portal lists every released file with a (possibly signed, expiring) URL and the MD5 of its
bytes at ``GET /portal/api/download/files``. The client:

- reads that listing fresh for every run (signed URLs expire after 14 days: never cached);
- downloads each file once into the cache (pooch: temporary file, MD5 check, atomic rename),
  retrying transient failures, retrying an MD5 mismatch once, and re-reading the listing once
  when a signed URL has expired (HTTP 403).

Cache layout: ``<cache>/depmap/<release tag>/<file name>`` with a ``.<name>.verified.json``
record beside each file, so a verified file is not hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import requests

from targetrank.__about__ import __version__
from targetrank._atomic import atomic_open
from targetrank._types import ProgressCallback, no_progress
from targetrank.config import ENV_CACHE, ENV_DEPMAP_ENDPOINT, env
from targetrank.errors import OutputError, UpstreamError, UsageError
from targetrank.paths import cache_dir
from targetrank.sources.depmap_release import DepMapFile
from targetrank.tables.depmap import parse_listing, release_tag

DEFAULT_ENDPOINT = "https://depmap.org/portal/api/download/files"
LISTING_PATH = "/api/download/files"

_CHUNK = 1 << 20


def endpoint_url(endpoint: str | None = None) -> str:
    """The listing URL from ``--endpoint``, ``TARGETRANK_DEPMAP_ENDPOINT`` or the default.

    A portal root (``http://host/portal``) gets ``/api/download/files`` appended.
    """
    url = (endpoint or env(ENV_DEPMAP_ENDPOINT) or DEFAULT_ENDPOINT).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            "The DepMap endpoint is not an http(s) URL",
            input=url,
            done="nothing was downloaded",
            fix=f"pass --endpoint {DEFAULT_ENDPOINT} (or set {ENV_DEPMAP_ENDPOINT})",
        )
    if not parts.path.rstrip("/").endswith(LISTING_PATH):
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + LISTING_PATH))
    return url


def redact(url: str) -> str:
    """A URL without its query string: signed URLs are bearer links and never shown or kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


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
                    fix=f"check --endpoint (or {ENV_DEPMAP_ENDPOINT}); the default is {DEFAULT_ENDPOINT}",
                )
            return response
        raise UpstreamError(
            f"Could not read {what} after {self.retries + 1} attempts ({last})",
            input=redact(url),
            done="nothing was downloaded",
            cause="no network, a proxy, or the portal is down",
            fix=f"check the connection and retry later, or point --endpoint / {ENV_DEPMAP_ENDPOINT} at a mirror",
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
                fix=f"free disk space, or point --cache-dir (or {ENV_CACHE}) at a writable folder",
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
