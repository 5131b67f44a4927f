"""Fixtures of the reliability suite: loopback fakes with test-sized timeouts, a private cache."""

from __future__ import annotations

from functools import partial

import pytest


@pytest.fixture(autouse=True)
def _quiet_fakes(monkeypatch):
    """A client that gives up mid-response makes the fakes' handler threads print a
    BrokenPipeError to sys.stderr, which the CLI runner captures as the command's stderr."""
    import socketserver

    monkeypatch.setattr(socketserver.BaseServer, "handle_error", lambda *_args: None)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every case gets its own download/response cache (never the user's)."""
    monkeypatch.setenv("TARGETRANK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TARGETRANK_OT_ENDPOINT", raising=False)
    monkeypatch.delenv("TARGETRANK_DEPMAP_ENDPOINT", raising=False)


#: Transport settings for the CLI under test: the real client with tiny backoffs (the shipped
#: defaults wait seconds to minutes, which is right for users and wrong for CI). Timeouts stay
#: generous so a loaded CI machine does not time out; the timeout cases shorten them.
FAST_OT = {
    "backoff_factor": 0.01,
    "max_retry_after": 2.0,
    "timeout": (2.0, 5.0),
    "body_deadline": 10.0,
}


@pytest.fixture()
def fast_ot_cli(monkeypatch):
    """`targetrank fetch opentargets` builds its client with FAST_OT transport settings; the
    returned dict overrides them for one case (e.g. a short read timeout)."""
    import targetrank.sources.opentargets_client as ot

    real = ot.OpenTargetsClient
    overrides: dict = {}

    def factory(endpoint=None, **options):
        return real(endpoint, **{**FAST_OT, **overrides, **options})

    monkeypatch.setattr(ot, "OpenTargetsClient", factory)
    return overrides


@pytest.fixture()
def ot(shared):
    """The Open Targets fake executing queries against the real 26.06 schema."""
    from support.ot_fake import FakeOpenTargets

    with FakeOpenTargets(shared=shared) as server:
        yield server


@pytest.fixture()
def portal():
    """The DepMap portal fake (real listing and Model.csv when ../shared is present)."""
    from support.depmap_fake import FakeDepMapPortal

    from targetrank.paths import shared_dir

    with FakeDepMapPortal(shared_dir(required=False), n_models=30, n_genes=25) as fake:
        yield fake


@pytest.fixture()
def fast_depmap_cli(monkeypatch):
    """`targetrank fetch depmap` builds its client without backoff sleeps."""
    import targetrank.sources.depmap_client as depmap

    monkeypatch.setattr(depmap, "DepMapClient", partial(depmap.DepMapClient, backoff=0, timeout=5))
