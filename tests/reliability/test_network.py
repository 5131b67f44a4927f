"""Network faults between `targetrank fetch opentargets` and the API, end to end.

Each case runs the real command against the loopback fake (which executes every query against
the real 26.06 schema from ../shared) with one fault injected, and checks what the user sees:
the exit code, one actionable line, and the output folder either complete or absent (never
half-written, no temporary debris). Transient faults must be retried into a success; permanent
ones must stop with exit 5 naming the endpoint and the fix. Silent data loss (a dropped id, a
retired disease) must be a warning on stderr and in the manifest, never an empty feature.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import polars as pl
import pytest
from reliability_checks import assert_failed, assert_succeeded, debris, tree

from targetrank.cli import main

pytestmark = pytest.mark.usefixtures("fast_ot_cli")

PANEL = "TIGIT,OPN,RANKL,SOST,PD-1"
SOST = "ENSG00000167941"
OK_POSTS = 3  # Meta, ResolveDiseases, TargetsFeatures


def fetch(runner, url, out, *extra):
    args = ["fetch", "opentargets", "--targets", PANEL, "--endpoint", url, "--out", str(out)]
    return runner.invoke(main, [*args, "--rate-limit", "100", *extra])


def manifest(out):
    return json.loads((out / "manifest.json").read_text())


def assert_nothing_written(out):
    assert not out.exists(), sorted(p.name for p in out.iterdir())
    assert debris(out.parent) == []


# ------------------------------------------------------------------ unreachable / slow
def test_connection_refused_exits_5_naming_the_endpoint(runner, tmp_path):
    from support.ot_fake import FakeOpenTargets

    with FakeOpenTargets() as server:
        url = server.url  # the port is free again once the fake stops: nothing listens
    out = tmp_path / "o"
    result = fetch(runner, url, out, "--retries", "1")
    assert_failed(result, 5, "Could not reach Open Targets", "connection refused", url, "--bulk")
    assert_nothing_written(out)


def test_read_timeout_once_is_retried_into_a_complete_output(runner, ot, tmp_path, fast_ot_cli):
    fast_ot_cli["timeout"] = (2.0, 0.6)
    ot.inject("delay", operation="TargetsFeatures", seconds=1.5)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_succeeded(result)
    assert manifest(out)["requests"]["posts"] == OK_POSTS + 1  # the timed-out attempt counted
    assert manifest(out)["targets_returned"] == 5


def test_read_timeout_every_time_exits_5_saying_it_timed_out(runner, ot, tmp_path, fast_ot_cli):
    fast_ot_cli["timeout"] = (2.0, 0.6)
    ot.inject("delay", operation="TargetsFeatures", seconds=1.5, times=5)
    out = tmp_path / "o"
    started = time.monotonic()
    result = fetch(runner, ot.url, out, "--retries", "1")
    line = assert_failed(result, 5, "no answer within the read timeout", ot.url, "retry later")
    assert "overloaded" in line
    assert time.monotonic() - started < 5
    assert_nothing_written(out)


def test_slow_drip_body_hits_the_deadline_and_exits_5(runner, ot, tmp_path, fast_ot_cli):
    fast_ot_cli["body_deadline"] = 0.6
    ot.inject("drip", operation="Meta", chunk=8, interval=0.1)
    out = tmp_path / "o"
    started = time.monotonic()
    result = fetch(runner, ot.url, out, "--retries", "0")
    assert_failed(result, 5, "answered too slowly", ot.url, "proxy")
    assert time.monotonic() - started < 5  # the deadline, not the drip, decides
    assert_nothing_written(out)


# ------------------------------------------------------------------ 429 / 5xx
def test_429_with_retry_after_waits_as_told_then_succeeds(runner, ot, tmp_path):
    ot.inject("status", operation="TargetsFeatures", code=429, retry_after=1)
    out = tmp_path / "o"
    started = time.monotonic()
    result = fetch(runner, ot.url, out)
    assert_succeeded(result)
    assert time.monotonic() - started >= 0.9  # honoured Retry-After, not the 0.01 s backoff
    assert ot.counters.operations.count("TargetsFeatures") == 2
    assert manifest(out)["rows"]["opentargets_features"] == 5


def test_429_without_retry_after_backs_off_then_succeeds(runner, ot, tmp_path):
    ot.inject("status", operation="TargetsFeatures", code=429, times=2)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_succeeded(result)
    assert ot.counters.operations.count("TargetsFeatures") == 3
    assert manifest(out)["requests"]["posts"] == OK_POSTS + 2


def test_a_500_502_503_burst_then_success_gives_a_complete_output(runner, ot, tmp_path):
    for code in (500, 502, 503):
        ot.inject("status", operation="TargetsFeatures", code=code)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out, "--retries", "3")
    assert_succeeded(result)
    assert ot.counters.operations.count("TargetsFeatures") == 4
    features = pl.read_parquet(out / "opentargets_features.parquet")
    assert features.height == 5


def test_permanent_503_exits_5_and_keeps_the_previous_output(runner, ot, tmp_path):
    out = tmp_path / "o"
    assert_succeeded(fetch(runner, ot.url, out, "--no-cache"))
    before = tree(out)
    ot.inject("status", code=503, times=100)
    result = fetch(runner, ot.url, out, "--no-cache", "--retries", "2", "--force")
    assert_failed(result, 5, "HTTP 503 after 3 attempt(s)", ot.url, "--rate-limit")
    assert tree(out) == before  # --force never destroys the old output on failure
    assert debris(tmp_path) == []


def test_a_failed_batch_is_not_cached_and_finished_batches_are(ot, tmp_path):
    """'finished batches stay cached' (the fix the messages give) holds: a rerun asks only for
    what failed."""
    from support.ot_fake import fast_client

    from targetrank.errors import UpstreamError
    from targetrank.sources.opentargets import OpenTargetsAPI, collect_opentargets

    ids = ["ENSG00000181847", "ENSG00000118785", "ENSG00000120659", SOST]
    ot.inject("status", operation="TargetsFeatures", code=500, times=2)  # batch 1 fails twice
    client = fast_client(ot.url, tmp_path / "cache", retries=1)
    with pytest.raises(UpstreamError) as err:
        collect_opentargets(ids, source=OpenTargetsAPI(client, max_batch=2))
    assert "HTTP 500" in err.value.message
    ot.reset_counters()
    again = fast_client(ot.url, tmp_path / "cache", retries=1)
    tables = collect_opentargets(ids, source=OpenTargetsAPI(again, max_batch=2))
    assert tables.targets.height == 4
    assert ot.counters.operations == ["TargetsFeatures", "TargetsFeatures"]  # meta, diseases cached


# ------------------------------------------------------------------ answers that are wrong
def test_schema_drift_http_400_names_the_field_and_the_release_field_set(runner, shared, tmp_path):
    """A server whose meta says 26.06 but whose schema lacks drugAndClinicalCandidates."""
    from support.ot_fake import FakeOpenTargets

    with FakeOpenTargets(release="25.12", shared=shared) as server:
        server.release = "26.06"  # meta reports 26.6.3; the schema is the January 2026 one
        out = tmp_path / "o"
        result = fetch(runner, server.url, out)
    line = assert_failed(
        result,
        5,
        "HTTP 400",
        "no field 'drugAndClinicalCandidates' on Target",
        "needs knownDrugs",  # the field set the server needs
        "API 26.6.3",  # the field set targetrank picked, and why
        "knownDrugs before",
        server.url,
        "--bulk DIR",
    )
    assert "renamed or removed a field" in line
    assert_nothing_written(out)


def test_graphql_errors_with_partial_data_are_warnings_not_silence(runner, ot, tmp_path):
    ot.inject(
        "errors", operation="TargetsFeatures", path=["targets", 0, "safetyLiabilities"],
        message="synthetic resolver timeout",
    )  # fmt: skip
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_succeeded(result)
    assert "Warnings: 1 partial_error" in result.stderr
    warnings = [w for w in manifest(out)["warnings"] if w["kind"] == "partial_error"]
    assert len(warnings) == 1 and "synthetic resolver timeout" in warnings[0]["message"]
    ot.reset_counters()  # the partial answer was not cached: a rerun asks again
    assert_succeeded(fetch(runner, ot.url, tmp_path / "again"))
    assert ot.counters.operations == ["TargetsFeatures"]


def test_a_dropped_id_is_a_warning_and_null_features_never_zero(runner, ot, tmp_path):
    ot.dropped_targets.add(SOST)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_succeeded(result)
    assert "4 of 5 target(s)" in result.stdout
    assert "dropped_id" in result.stderr
    dropped = [w for w in manifest(out)["warnings"] if w["kind"] == "dropped_id"]
    assert [w["subject"] for w in dropped] == [SOST]
    features = pl.read_parquet(out / "opentargets_features.parquet")
    assert SOST not in features["ensembl_id"].to_list()  # absent, so merged as null, not 0


def test_every_id_dropped_is_an_error_not_an_empty_table(runner, ot, tmp_path):
    from support.ot_synthetic import make_platform

    ot.dropped_targets.update(make_platform().targets)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_failed(result, 5, "returned none of the 5 requested target(s)", "data 26.06", SOST)
    assert_nothing_written(out)


def test_a_retired_disease_id_is_null_features_and_a_warning(runner, ot, tmp_path):
    ot.retired_diseases.add("MONDO_0005233")
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out, "--disease", "lung=MONDO_0005233")
    assert_succeeded(result)
    assert "null_disease" in result.stderr
    warning = next(w for w in manifest(out)["warnings"] if w["kind"] == "null_disease")
    assert "retired or unknown id" in warning["message"] and "--disease lung=" in warning["message"]
    features = pl.read_parquet(out / "opentargets_features.parquet")
    lung = [c for c in features.columns if c.startswith("ot_assoc_lung")]
    assert lung and all(features[c].null_count() == features.height for c in lung)
    cancer = [c for c in features.columns if c.startswith("ot_assoc_cancer")]
    assert any(features[c].null_count() < features.height for c in cancer)  # others are filled


@pytest.mark.parametrize(
    ("kind", "params", "needles"),
    [
        ("truncate", {}, ("not valid JSON", "truncated")),
        ("html", {"code": 200}, ("HTTP 200 with an HTML page instead of JSON",)),
        ("html", {"code": 502}, ("HTTP 502 with an HTML page instead of JSON",)),
        ("cut", {}, ("cut in the middle of a response",)),
    ],
    ids=["truncated-json", "html-200", "html-502", "connection-cut"],
)
def test_broken_bodies_exit_5_and_are_never_cached(runner, ot, tmp_path, kind, params, needles):
    ot.inject(kind, operation="TargetsFeatures", times=10, **params)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out, "--retries", "1")
    assert_failed(result, 5, *needles, ot.url)
    assert_nothing_written(out)
    ot.faults.clear()
    ot.reset_counters()
    assert_succeeded(fetch(runner, ot.url, out))
    assert "TargetsFeatures" in ot.counters.operations  # the broken body was not cached


def test_redirect_to_a_login_page_is_not_followed(runner, ot, tmp_path):
    ot.inject("redirect", operation="Meta")
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_failed(result, 5, "redirected the query to", "/login", "proxy settings")
    assert ot.counters.posts == 1  # and the login page was never fetched (it would be a GET)
    assert_nothing_written(out)


# ------------------------------------------------------------------ the response cache
def test_unwritable_response_cache_exits_7_and_suggests_no_cache(runner, ot, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("TARGETRANK_CACHE_DIR", str(blocker))
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_failed(result, 7, "Cannot create the Open Targets response cache", "--no-cache")
    assert ot.counters.posts == 0
    assert_nothing_written(out)
    assert_succeeded(fetch(runner, ot.url, out, "--no-cache"))  # and the fix works


def test_disk_full_while_caching_a_response_exits_7(runner, ot, tmp_path, monkeypatch):
    import sqlite3

    from requests_cache.backends.sqlite import SQLiteCache

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SQLiteCache, "save_response", full)
    out = tmp_path / "o"
    result = fetch(runner, ot.url, out)
    assert_failed(result, 7, "response cache", "database or disk is full", "free disk space")
    assert_nothing_written(out)


def test_two_processes_sharing_the_response_cache_do_not_corrupt_it(ot, tmp_path):
    """Two `fetch opentargets` processes write their answers into one SQLite cache at the same
    moment (the fake holds both feature queries until both arrived)."""
    # Hold each feature query until both processes have sent one (so their answers reach the
    # cache together), but never fail a request because the other process started slowly on a
    # loaded machine: after 60 s the held query is answered anyway.
    arrived = threading.Condition()
    met = []
    real_answer = ot.answer

    def answer(body):
        if b"TargetsFeatures" in body:
            with arrived:
                met.append(1)
                arrived.notify_all()
                arrived.wait_for(lambda: len(met) >= 2, timeout=60)
        return real_answer(body)

    ot.answer = answer
    cache = tmp_path / "shared-cache"
    env = {**os.environ, "TARGETRANK_CACHE_DIR": str(cache)}

    def command(name):
        return [sys.executable, "-m", "targetrank", "fetch", "opentargets", "--targets", PANEL,
                "--endpoint", ot.url, "--rate-limit", "100", "--out", str(tmp_path / name)]  # fmt: skip

    procs = [
        subprocess.Popen(command(f"o{i}"), env=env, stderr=subprocess.PIPE, text=True)
        for i in (0, 1)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
    assert met  # the feature queries reached the fake (normally both, held together)
    tables = [pl.read_parquet(tmp_path / f"o{i}" / "opentargets_features.parquet") for i in (0, 1)]
    assert tables[0].equals(tables[1]) and tables[0].height == 5
    database = cache / "opentargets" / "responses.sqlite"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    ot.reset_counters()
    third = subprocess.run(command("o2"), env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0, third.stderr
    assert ot.counters.posts == 0  # every answer came from the shared cache
