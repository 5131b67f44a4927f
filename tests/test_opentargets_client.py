"""Transport behaviour users rely on: retries, Retry-After, clear errors, cache, rate limit.

These run against the loopback fake in meta-only mode, so they need neither ../shared nor the
internet.
"""

from __future__ import annotations

import time

import pytest
from support.ot_fake import FakeOpenTargets, fast_client

from targetrank.errors import ExitCode, UpstreamError
from targetrank.sources.opentargets_client import OpenTargetsClient
from targetrank.sources.opentargets_documents import load_document


@pytest.fixture()
def fake():
    with FakeOpenTargets() as server:
        yield server


def test_meta_gives_api_and_data_release(fake, tmp_path):
    info = fast_client(fake.url, tmp_path).release()
    assert (info.api_version, info.data_version, info.source) == ("26.6.3", "26.06", "api")
    assert info.location == fake.url


def test_429_with_retry_after_is_honoured_and_succeeds(fake, tmp_path):
    fake.inject("status", code=429, retry_after=1)
    client = fast_client(fake.url, tmp_path)
    started = time.monotonic()
    info = client.release()
    assert info.data_version == "26.06"
    assert time.monotonic() - started >= 0.9  # waited as told, not the 0.01 s backoff
    assert fake.counters.posts == 2 and client.stats.posts == 2


def test_huge_retry_after_is_capped(fake, tmp_path):
    fake.inject("status", code=503, retry_after=3600)
    started = time.monotonic()
    fast_client(fake.url, tmp_path, max_retry_after=0.2).release()
    assert time.monotonic() - started < 2


def test_read_timeout_is_retried(fake, tmp_path):
    fake.inject("delay", seconds=0.6)
    client = fast_client(fake.url, tmp_path, timeout=(1.0, 0.2), retries=1)
    assert client.release().data_version == "26.06"
    assert fake.counters.posts == 2


def test_500_storm_is_one_clear_error_naming_the_endpoint(fake, tmp_path):
    fake.inject("status", code=500, times=100)
    client = fast_client(fake.url, tmp_path, retries=2)
    with pytest.raises(UpstreamError) as info:
        client.release()
    message = info.value.message
    assert fake.url in message and "HTTP 500" in message and "3 attempt(s)" in message
    assert "--bulk" in message and "TARGETRANK_OT_ENDPOINT" in message
    assert "\n" not in message
    assert info.value.exit_code == ExitCode.UPSTREAM
    assert fake.counters.posts == 3


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("html", {"code": 200}, "HTML page instead of JSON"),
        ("html", {"code": 502}, "HTML page instead of JSON"),
        ("redirect", {}, "redirected the query to"),
        ("truncate", {}, "not valid JSON"),
        ("cut", {}, "cut in the middle of a response"),
    ],
)
def test_broken_answers_become_one_line_upstream_errors(fake, tmp_path, kind, params, expected):
    fake.inject(kind, times=10, **params)
    with pytest.raises(UpstreamError) as info:
        fast_client(fake.url, tmp_path, retries=1).release()
    assert expected in info.value.message
    assert fake.url in info.value.message
    assert "\n" not in info.value.message


def test_redirect_to_a_login_page_is_not_followed(fake, tmp_path):
    fake.inject("redirect")
    with pytest.raises(UpstreamError, match="login"):
        fast_client(fake.url, tmp_path).release()
    assert fake.counters.posts == 1  # the GET to /login was never made


def test_slow_drip_hits_the_body_deadline(fake, tmp_path):
    fake.inject("drip", chunk=4, interval=0.05)
    started = time.monotonic()
    with pytest.raises(UpstreamError, match="too slowly"):
        fast_client(fake.url, tmp_path, body_deadline=0.3, retries=0).release()
    assert time.monotonic() - started < 3


def test_unreachable_endpoint_names_it_and_the_fix(tmp_path):
    with FakeOpenTargets() as server:
        url = server.url
    with pytest.raises(UpstreamError) as info:
        fast_client(url, tmp_path, retries=1).release()
    assert url in info.value.message and "Could not reach Open Targets" in info.value.message


def test_cached_meta_makes_no_request_even_from_a_new_client(fake, tmp_path):
    fast_client(fake.url, tmp_path).release()
    again = fast_client(fake.url, tmp_path)
    assert again.release().data_version == "26.06"
    assert fake.counters.posts == 1
    assert again.stats.posts == 0 and again.stats.cache_hits == 1


def test_meta_expires_after_its_ttl(fake, tmp_path):
    client = fast_client(fake.url, tmp_path, meta_ttl=0.2)
    client.release()
    time.sleep(0.3)
    client.release()
    assert fake.counters.posts == 2


def test_cache_is_keyed_on_the_release(fake, tmp_path):
    client = fast_client(fake.url, tmp_path)
    doc = load_document("meta")
    client.execute(doc, {}, release="26.06")
    client.execute(doc, {}, release="26.06")
    client.execute(doc, {}, release="26.09")
    assert fake.counters.posts == 2


def test_answers_with_graphql_errors_are_not_cached(fake, tmp_path):
    fake.inject("errors", message="synthetic timeout in a resolver", path=["meta"])
    client = fast_client(fake.url, tmp_path)
    first = client.execute(load_document("meta"), {})
    assert first.errors and first.data["meta"]  # partial data is kept, with its errors
    second = client.execute(load_document("meta"), {})
    assert second.errors == [] and fake.counters.posts == 2


def test_cache_folder_follows_the_env_var(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("TARGETRANK_CACHE_DIR", str(tmp_path / "env-cache"))
    client = OpenTargetsClient(fake.url, rate_limit=None)
    client.release()
    assert client.cache_path == tmp_path / "env-cache" / "opentargets" / "responses.sqlite"
    assert client.cache_path.is_file()


def test_rate_limit_spaces_requests(fake):
    client = fast_client(fake.url, None, rate_limit=10.0)
    started = time.monotonic()
    for _ in range(4):
        client.release()
    assert time.monotonic() - started >= 0.29  # 4 requests at 10/s: 3 gaps of 0.1 s
    assert fake.counters.posts == 4


def test_bytes_are_counted_on_both_sides(fake, tmp_path):
    client = fast_client(fake.url, tmp_path)
    client.release()
    assert client.stats.bytes_sent == fake.counters.bytes_in > 0
    assert client.stats.bytes_received == fake.counters.bytes_out > 0
