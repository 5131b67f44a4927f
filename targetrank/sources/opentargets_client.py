"""Open Targets GraphQL transport: one HTTP client with retries, rate limit, deadline and cache.

Why: the connector must be polite and robust without hand-rolling what libraries do. One
``requests`` session carries urllib3 ``Retry`` (POST allowed, backoff on timeouts, 429 and 5xx,
``Retry-After`` honoured and capped), a rate limit, a body deadline against slow drips, and a
requests-cache SQLite cache keyed by (query, variables, data release). Every failure becomes one
actionable :class:`~targetrank.errors.UpstreamError` naming the endpoint.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from targetrank.config import ENV_CACHE, ENV_OT_ENDPOINT, env
from targetrank.errors import OutputError, UpstreamError
from targetrank.sources.opentargets_documents import Document, load_document
from targetrank.tables.opentargets import ReleaseInfo

DEFAULT_ENDPOINT = "https://api.platform.opentargets.org/api/v4/graphql"

RELEASE_HEADER = "X-Targetrank-Data-Release"
USER_AGENT = "targetrank (+https://example.invalid/targetrank)"

_FIX_UPSTREAM = (
    "retry later (finished batches stay cached), point --endpoint at a reachable server "
    f"(or set {ENV_OT_ENDPOINT}), or use --bulk DIR with the Platform's parquet downloads"
)
_FIX_CACHE = f"free disk space, set {ENV_CACHE} to a writable folder, or pass --no-cache"
_UNKNOWN_FIELD = re.compile(r"Cannot query field ['\"](\w+)['\"] on type ['\"](\w+)['\"]")


class SchemaMismatchError(UpstreamError):
    """HTTP 400: the served schema lacks fields the query asks for (``fields``: (field, type))."""

    def __init__(self, what: str, *, fields: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(what, **kwargs)
        self.fields = fields


def _network_reason(exc: BaseException) -> tuple[str, str]:
    """A plain reason and likely cause for a transport failure (urllib3 hides it in a chain)."""
    text = repr(exc)
    if "ConnectTimeout" in text:
        return "the connection timed out", "no network, a firewall, or a proxy dropping packets"
    if "ReadTimeout" in text or "Read timed out" in text:
        return (
            "no answer within the read timeout",
            "the server is overloaded or the network is very slow",
        )
    if "Connection refused" in text or "ConnectionRefused" in text:
        return (
            "connection refused",
            "the server is down, or --endpoint names the wrong host or port",
        )
    if "NameResolution" in text or "Name or service not known" in text:
        return "the host name did not resolve", "no network (or DNS), or a typo in --endpoint"
    return type(exc).__name__, "no network, a firewall, or the server is down"


# --------------------------------------------------------------------------------------------
# Transport: retries, rate limit, deadline, cache
# --------------------------------------------------------------------------------------------


@dataclass
class RequestStats:
    """What went over the wire (cache hits never do): for manifests and benchmarks."""

    posts: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    cache_hits: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for manifests."""
        return {
            "posts": self.posts,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "cache_hits": self.cache_hits,
            "by_operation": dict(sorted(self.by_operation.items())),
        }


class BodyTimeout(requests.exceptions.Timeout):
    """The response body kept dripping past the deadline."""


class _RateLimiter:
    """At most ``rate`` requests per second (the official MCP server's polite default is 3)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


def _retry_class(max_retry_after: float) -> type[Retry]:
    class CappedRetry(Retry):
        """urllib3 Retry whose Retry-After waits are capped (a server may ask for an hour)."""

        def get_retry_after(self, response: Any) -> float | None:
            value = super().get_retry_after(response)
            return None if value is None else min(value, max_retry_after)

    return CappedRetry


class _Transport(HTTPAdapter):
    """Rate-limited adapter that counts attempts and bytes and bounds the body read time."""

    def __init__(
        self, *, retry: Retry, limiter: _RateLimiter, body_deadline: float, stats: RequestStats
    ) -> None:
        super().__init__(max_retries=retry)
        self._limiter = limiter
        self._deadline = body_deadline
        self._stats = stats

    def send(self, request: Any, stream: bool = False, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self._limiter.wait()
        response = super().send(request, stream=True, **kwargs)
        history = getattr(getattr(response.raw, "retries", None), "history", None) or ()
        attempts = 1 + len(history)
        self._stats.posts += attempts
        self._stats.bytes_sent += attempts * len(request.body or b"")
        if stream:
            return response
        started = time.monotonic()
        chunks = []
        try:
            while True:
                # read1 returns whatever arrived, so a dripping body is checked as it drips
                chunk = response.raw.read1(64 * 1024, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                if time.monotonic() - started > self._deadline:
                    response.close()
                    raise BodyTimeout(f"response body not complete after {self._deadline:g} s")
        except ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.exceptions.ReadTimeout(exc) from exc
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from exc
        response._content = b"".join(chunks)
        self._stats.bytes_received += len(response._content)
        return response


def _cacheable(response: requests.Response) -> bool:
    """Only complete, error-free GraphQL answers are cached (never partial data or HTML)."""
    if response.status_code != 200:
        return False
    try:
        payload = response.json()
    except ValueError:
        return False
    return isinstance(payload, dict) and not payload.get("errors") and "data" in payload


@dataclass
class GraphQLResult:
    """A GraphQL answer: ``data`` (possibly partial) and the ``errors`` that came with it."""

    data: dict[str, Any]
    errors: list[dict[str, Any]]
    from_cache: bool


def _open_cache(factory: Any, path: Path, attempts: int = 20) -> Any:
    """Open the SQLite response cache, waiting out another process that is creating it.

    Switching a new database to WAL needs an exclusive lock that SQLite's busy timeout does not
    cover, so two ``fetch`` processes starting together can see "database is locked" once.
    """
    for attempt in range(attempts):
        try:
            return factory(path, wal=True, busy_timeout=30_000)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


class OpenTargetsClient:
    """One HTTP session to the Open Targets GraphQL endpoint: retries, rate limit and cache.

    Args:
        endpoint: GraphQL URL (default: the public API, or ``TARGETRANK_OT_ENDPOINT``).
        cache: Keep responses on disk (``<cache_dir>/opentargets/responses.sqlite``).
        cache_dir: Cache root; default ``TARGETRANK_CACHE_DIR`` or the platform cache folder.
        meta_ttl: Seconds a cached ``meta`` answer stays fresh; data keyed on the release the
            endpoint served never expires.
        rate_limit: Requests per second (None or 0: unlimited).
        retries: Attempts after the first on timeouts, connection errors, 429 and 5xx.
        backoff_factor: Exponential backoff base in seconds (tests pass a tiny value).
        max_retry_after: Longest ``Retry-After`` wait honoured, in seconds.
        timeout: (connect, read) timeouts per attempt, in seconds.
        body_deadline: Longest time to receive a body once headers arrived (slow drip).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        cache: bool = True,
        cache_dir: str | Path | None = None,
        meta_ttl: float = 6 * 3600,
        rate_limit: float | None = 3.0,
        retries: int = 5,
        backoff_factor: float = 1.0,
        max_retry_after: float = 120.0,
        timeout: tuple[float, float] = (10.0, 90.0),
        body_deadline: float = 300.0,
    ) -> None:
        self.endpoint = endpoint or env(ENV_OT_ENDPOINT) or DEFAULT_ENDPOINT
        self.meta_ttl = meta_ttl
        self.timeout = timeout
        self.retries = retries
        self.stats = RequestStats()
        retry = _retry_class(max_retry_after)(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=None,  # GraphQL reads are POSTs: retry them too
            status_forcelist=(429, 500, 502, 503, 504),
            backoff_factor=backoff_factor,
            backoff_max=max(backoff_factor * 32, 1.0),
            respect_retry_after_header=True,
            raise_on_status=False,
            redirect=0,
        )
        self.cache_path: Path | None = None
        session: requests.Session
        if cache:
            import requests_cache

            from targetrank.paths import cache_dir as default_cache_dir

            folder = default_cache_dir(cache_dir) / "opentargets"
            self.cache_path = folder / "responses.sqlite"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                backend = _open_cache(requests_cache.SQLiteCache, self.cache_path)
            except (OSError, sqlite3.Error) as exc:
                raise OutputError(
                    "Cannot create the Open Targets response cache",
                    input=str(self.cache_path),
                    done="nothing was fetched",
                    cause=getattr(exc, "strerror", None) or str(exc),
                    fix=_FIX_CACHE,
                ) from exc
            session = requests_cache.CachedSession(
                backend=backend,
                allowable_methods=("POST",),
                allowable_codes=(200,),
                match_headers=[RELEASE_HEADER],
                filter_fn=_cacheable,
                expire_after=-1,
            )
        else:
            session = requests.Session()
        session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        transport = _Transport(
            retry=retry,
            limiter=_RateLimiter(rate_limit),
            body_deadline=body_deadline,
            stats=self.stats,
        )
        session.mount("http://", transport)
        session.mount("https://", transport)
        self.session = session

    def __enter__(self) -> OpenTargetsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP connections and the cache file."""
        self.session.close()

    # -- one request ----------------------------------------------------------------------
    def execute(
        self,
        document: Document,
        variables: Mapping[str, Any] | None = None,
        *,
        release: str = "unpinned",
        expire_after: float | None = None,
    ) -> GraphQLResult:
        """POST ``document`` with ``variables``; return its data, or raise a clear UpstreamError.

        Args:
            document: The query (see :func:`load_document`).
            variables: GraphQL variables.
            release: Data release the answer belongs to; part of the cache key.
            expire_after: Cache lifetime of this answer in seconds (None: forever).
        """
        variables = dict(variables or {})
        body = json.dumps(
            {"query": document.text, "variables": variables},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        headers = {"Content-Type": "application/json", RELEASE_HEADER: release}
        kwargs: dict[str, Any] = {}
        if hasattr(self.session, "cache"):
            kwargs["expire_after"] = -1 if expire_after is None else expire_after
        where = f"POST {self.endpoint} ({document.name})"
        try:
            response = self.session.post(
                self.endpoint,
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except BodyTimeout as exc:
            raise UpstreamError(
                f"Open Targets answered too slowly: {exc}",
                input=where,
                done="nothing was written",
                cause="an overloaded server or a proxy trickling the response",
                fix=_FIX_UPSTREAM,
            ) from exc
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise UpstreamError(
                "The connection to Open Targets was cut in the middle of a response",
                input=where,
                done="nothing was written",
                cause="a network drop or a proxy truncating large answers",
                fix="rerun (finished batches stay cached); " + _FIX_UPSTREAM,
            ) from exc
        except requests.exceptions.RequestException as exc:
            reason, cause = _network_reason(exc)
            raise UpstreamError(
                f"Could not reach Open Targets after {self.retries + 1} attempt(s): {reason}",
                input=where,
                done="retried with backoff, then stopped; nothing was written",
                cause=cause,
                fix=_FIX_UPSTREAM,
            ) from exc
        except sqlite3.Error as exc:  # the response cache could not be read or written
            raise OutputError(
                "Cannot use the Open Targets response cache",
                input=str(self.cache_path),
                done="nothing was written",
                cause=str(exc),
                fix=_FIX_CACHE,
            ) from exc
        from_cache = bool(getattr(response, "from_cache", False))
        if from_cache:
            self.stats.cache_hits += 1
        else:
            self.stats.by_operation[document.name] = (
                self.stats.by_operation.get(document.name, 0) + 1
            )
        return self._interpret(response, document, variables, where, from_cache)

    def _interpret(
        self,
        response: requests.Response,
        document: Document,
        variables: Mapping[str, Any],
        where: str,
        from_cache: bool,
    ) -> GraphQLResult:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise UpstreamError(
                f"Open Targets redirected the query to {location} (HTTP {status})",
                input=where,
                done="the redirect was not followed; nothing was written",
                cause="a login page, captive portal or proxy in front of the API, "
                "or a wrong --endpoint",
                fix=f"check --endpoint / {ENV_OT_ENDPOINT} and proxy settings",
            )
        ctype = response.headers.get("Content-Type", "")
        text_head = response.content[:200].lstrip().lower()
        if "html" in ctype or text_head.startswith((b"<!doctype", b"<html")):
            raise UpstreamError(
                f"Open Targets answered HTTP {status} with an HTML page instead of JSON",
                input=where,
                done="nothing was written",
                cause="a maintenance or error page from the server or a proxy",
                fix=_FIX_UPSTREAM,
            )
        if status == 429 or status >= 500:
            raise UpstreamError(
                f"Open Targets kept failing with HTTP {status} after {self.retries + 1} attempt(s)",
                input=where,
                done="retried with backoff, then stopped; nothing was written",
                cause="the server is overloaded or down",
                fix=_FIX_UPSTREAM + ", or lower --rate-limit",
            )
        try:
            payload = response.json()
        except ValueError as exc:
            raise UpstreamError(
                f"Open Targets sent a response that is not valid JSON ({len(response.content)} "
                f"bytes, HTTP {status})",
                input=where,
                done="nothing was written",
                cause="the connection was cut or a proxy truncated the response",
                fix="rerun (finished batches stay cached); " + _FIX_UPSTREAM,
            ) from exc
        errors = list(payload.get("errors") or []) if isinstance(payload, dict) else []
        data = payload.get("data") if isinstance(payload, dict) else None
        if status >= 400 or data is None:
            first = errors[0].get("message", "?") if errors else response.text[:200]
            first = " ".join(str(first).split())
            fields = [
                (m.group(1), m.group(2))
                for e in errors
                for m in [_UNKNOWN_FIELD.search(str(e.get("message", "")))]
                if m
            ]
            if fields:
                named = ", ".join(f"'{f}' on {t}" for f, t in dict.fromkeys(fields))
                raise SchemaMismatchError(
                    f"Open Targets rejected query {document.name} (HTTP {status}): the server "
                    f"has no field {named}",
                    fields=list(dict.fromkeys(fields)),
                    input=where,
                    done="nothing was written",
                    cause="the served API release renamed or removed a field this targetrank "
                    "version asks for",
                    fix="upgrade targetrank, pin --release to a supported release, "
                    "or use --bulk DIR",
                )
            unknown_field = "Cannot query field" in first or "Unknown type" in first
            raise UpstreamError(
                f"Open Targets rejected query {document.name} (HTTP {status}): {first}",
                input=f"{where}; variables: {_summarise(variables)}",
                done="nothing was written",
                cause=(
                    "the served API release renamed or removed a field this targetrank version asks for"
                    if unknown_field
                    else "the query is too large or malformed for this server"
                ),
                fix="upgrade targetrank, pin --release to a supported release, or use --bulk DIR",
            )
        return GraphQLResult(data=data, errors=errors, from_cache=from_cache)

    # -- meta -------------------------------------------------------------------------------
    def release(self) -> ReleaseInfo:
        """The API and data release the endpoint serves (cached for ``meta_ttl`` seconds)."""
        result = self.execute(load_document("meta"), {}, expire_after=self.meta_ttl)
        try:
            meta = result.data["meta"]
            api = meta["apiVersion"]
            api_version = ".".join(str(api[k]) for k in ("x", "y", "z"))
            if api.get("suffix"):
                api_version += f"-{api['suffix']}"
            dv = meta["dataVersion"]
            data_version = f"{dv['year']}.{dv['month']}"
        except (KeyError, TypeError) as exc:
            raise UpstreamError(
                "Open Targets meta answer lacks apiVersion/dataVersion",
                input=f"POST {self.endpoint} (meta)",
                done="nothing was fetched",
                cause="the endpoint is not the Open Targets Platform API",
                fix="check --endpoint",
            ) from exc
        return ReleaseInfo(api_version, data_version, "api", self.endpoint)


def _summarise(variables: Mapping[str, Any]) -> str:
    parts = []
    for key, value in variables.items():
        if isinstance(value, list):
            head = ", ".join(map(str, value[:3]))
            parts.append(f"{key}=[{head}{', ...' if len(value) > 3 else ''}] ({len(value)})")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts)
