"""Downloads from the fake DepMap portal: caching, MD5 checks, retries, expired URLs, matrices."""

from __future__ import annotations

import json

import polars as pl
import pytest

from targetrank.errors import UpstreamError
from targetrank.paths import shared_dir
from targetrank.sources.depmap import fetch_depmap
from targetrank.sources.depmap_client import DepMapClient, endpoint_url
from targetrank.sources.depmap_readers import load_matrix, parquet_cache_path, wait_for_cache_writes
from targetrank.sources.depmap_release import release_files
from tests.support.depmap_fake import SEED_PANEL, FakeDepMapPortal

REL = "DepMap Public 24Q4"


@pytest.fixture()
def portal():
    # the real listing and Model.csv when ../shared is present, a synthetic portal otherwise
    with FakeDepMapPortal(shared_dir(required=False), n_models=30, n_genes=25) as fake:
        yield fake


@pytest.fixture()
def client(portal, tmp_path):
    return DepMapClient(portal.endpoint, cache=tmp_path / "cache", backoff=0, timeout=10)


def _file(client, name="CRISPRGeneEffect.csv"):
    files = release_files(client.listing(), REL)
    return next(f for f in files.values() if f.filename == name)


def _cache_files(client):
    return sorted(p.name for p in client.root.rglob("*") if p.is_file())


def test_first_run_downloads_each_file_once_and_second_run_nothing(portal, client):
    first = fetch_depmap(client, release="24Q4")
    assert all(f.downloaded and f.md5_verified for f in first.files.values())
    assert portal.count("file") == len(first.files) == 5
    assert portal.count("listing") == 1
    before = portal.count("file", method=None)
    second = fetch_depmap(client, release="24Q4")
    assert not any(f.downloaded for f in second.files.values())
    assert portal.count("file", method=None) == before  # no GET, no HEAD
    assert portal.count("listing") == 2  # the listing is always re-read (URLs expire)
    assert second.gene_effect.equals(first.gene_effect)


def test_md5_mismatch_is_retried_once_then_succeeds(portal, client):
    portal.inject("CRISPRGeneEffect.csv", "md5", times=1)
    local = client.download(_file(client))
    assert portal.count("file", filename="CRISPRGeneEffect.csv") == 2
    assert local.md5 == portal.md5[(REL, "CRISPRGeneEffect.csv")]


def test_md5_mismatch_twice_fails_naming_file_and_both_md5s_and_caches_nothing(portal, client):
    portal.inject("CRISPRGeneEffect.csv", "md5", times=2)
    file = _file(client)
    with pytest.raises(UpstreamError) as err:
        client.download(file)
    msg = err.value.message
    assert "CRISPRGeneEffect.csv" in msg and "24Q4" in msg
    assert f"expected {file.md5}" in msg
    actual = msg.split("got ")[1].split(";")[0]
    assert len(actual) == 32 and actual != file.md5
    assert "Signature" not in msg  # signed URLs are never shown
    assert portal.count("file", filename="CRISPRGeneEffect.csv") == 2
    assert _cache_files(client) == []  # no file, no temporary left behind


def test_file_listed_without_md5_is_cached_and_marked_unverified(portal, client):
    portal.unlisted_md5.add((REL, "Model.csv"))  # as for 18Q1-19Q3 sample_info.csv
    file = _file(client, "Model.csv")
    assert file.md5 is None
    first = client.download(file)
    assert first.downloaded and not first.md5_verified
    assert first.md5 == portal.md5[(REL, "Model.csv")]  # computed from the bytes, for the manifest
    second = client.download(file)
    assert not second.downloaded and second.md5 == first.md5
    assert portal.count("file", filename="Model.csv") == 1


def test_corrupt_cached_copy_is_replaced(portal, client):
    file = _file(client)
    first = client.download(file)
    first.path.write_bytes(first.path.read_bytes() + b"\n")  # changed on disk
    again = client.download(file)
    assert again.downloaded and again.md5 == file.md5


def test_server_errors_and_truncated_bodies_are_retried(portal, client):
    portal.inject("CRISPRGeneDependency.csv", "503", times=2)
    portal.inject("CRISPRGeneDependency.csv", "truncate", times=1)
    local = client.download(_file(client, "CRISPRGeneDependency.csv"))
    assert local.downloaded
    assert portal.count("file", filename="CRISPRGeneDependency.csv") == 4


def test_persistent_server_errors_fail_with_advice(portal, tmp_path):
    client = DepMapClient(portal.endpoint, cache=tmp_path, retries=1, backoff=0)
    portal.inject("Model.csv", "503", times=5)
    with pytest.raises(UpstreamError) as err:
        client.download(_file(client, "Model.csv"))
    assert "HTTP 503" in err.value.message and "rerun" in err.value.message
    assert portal.count("file", filename="Model.csv") == 2
    assert _cache_files(client) == []


def test_expired_signed_url_rereads_the_listing_once_and_uses_the_fresh_url(portal, client):
    file = _file(client)
    portal.expire_urls()
    local = client.download(file)
    assert local.downloaded
    gets = [r for r in portal.requests if r.method == "GET" and r.kind == "file"]
    assert [g.status for g in gets] == [403, 200]
    assert gets[1].expires > gets[0].expires  # the retry used the re-read URL
    assert portal.count("listing") == 2


def test_url_refused_again_after_rereading_fails(portal, client):
    portal.inject("Model.csv", "403", times=2)
    with pytest.raises(UpstreamError) as err:
        client.download(_file(client, "Model.csv"))
    assert "403" in err.value.message and "freshly listed" in err.value.message
    assert portal.count("listing") == 2


def test_listing_server_errors_are_retried(portal, client):
    portal.inject("listing", "503", times=2)
    assert client.listing().height > 0
    assert portal.count("listing") == 3


def test_unreachable_portal_is_an_upstream_error(tmp_path):
    client = DepMapClient("http://127.0.0.1:9/portal", cache=tmp_path, retries=1, backoff=0)
    with pytest.raises(UpstreamError) as err:
        client.listing()
    assert "--endpoint" in err.value.message and "TARGETRANK_DEPMAP_ENDPOINT" in err.value.message


def test_progress_reports_bytes_with_the_size_from_head(portal, client):
    portal.inject("CRISPRGeneEffect.csv", "slow")
    seen = []
    client.progress = lambda step, done, total: seen.append((step, done, total))
    client.download(_file(client))
    size = len(portal.files[(REL, "CRISPRGeneEffect.csv")])
    assert seen and all(step == "download CRISPRGeneEffect.csv" for step, _, _ in seen)
    assert seen[-1] == ("download CRISPRGeneEffect.csv", size, size)
    assert portal.count("file", filename="CRISPRGeneEffect.csv", method="HEAD") == 1


def test_cache_folder_follows_the_env_var(portal, tmp_path, monkeypatch):
    monkeypatch.setenv("TARGETRANK_CACHE_DIR", str(tmp_path / "env-cache"))
    client = DepMapClient(portal.endpoint, backoff=0)
    local = client.download(_file(client, "Model.csv"))
    assert local.path == tmp_path / "env-cache" / "depmap" / "24Q4" / "Model.csv"
    record = json.loads(local.path.with_name(".Model.csv.verified.json").read_text())
    assert record["md5"] == local.md5


def test_endpoint_accepts_portal_root_or_listing_url(monkeypatch):
    assert endpoint_url("http://h/portal") == "http://h/portal/api/download/files"
    assert (
        endpoint_url("http://h/portal/api/download/files") == "http://h/portal/api/download/files"
    )
    monkeypatch.setenv("TARGETRANK_DEPMAP_ENDPOINT", "http://mirror/portal")
    assert endpoint_url(None) == "http://mirror/portal/api/download/files"


# -- matrices: parquet cache and panels --------------------------------------------------------


def test_parquet_cache_serves_reruns_and_panels_without_reparsing(portal, client, monkeypatch):
    local = client.download(_file(client))
    full = load_matrix(local.path, release=REL, cache_key=local.md5)
    wait_for_cache_writes()  # the parquet copy is written in the background
    assert parquet_cache_path(local.path, local.md5).is_file()

    def no_csv(*args, **kwargs):
        raise AssertionError("the CSV was parsed again")

    monkeypatch.setattr("targetrank.sources.depmap_readers.read_gene_matrix", no_csv)
    assert load_matrix(local.path, release=REL, cache_key=local.md5).equals(full)
    panel = load_matrix(local.path, cache_key=local.md5, entrez_ids=list(SEED_PANEL.values()))
    assert panel.columns == [
        "ModelID",
        *[c for c in full.columns if c.split("(")[0].strip() in SEED_PANEL],
    ]
    assert panel.equals(full.select(panel.columns))


def test_panel_without_cache_projects_the_csv(portal, client):
    local = client.download(_file(client))
    panel = load_matrix(local.path, entrez_ids=[6696, 8600], cache=False)
    assert panel.columns == ["ModelID", "SPP1 (6696)", "TNFSF11 (8600)"]
    assert not parquet_cache_path(local.path, local.md5).exists()
    assert panel.equals(portal.matrices.gene_effect.select(panel.columns))


def test_profile_level_expression_from_a_25q3_style_release(tmp_path):
    shared = shared_dir(required=False)
    with FakeDepMapPortal(shared, release="DepMap Public 25Q3", n_models=30, n_genes=20) as fake:
        client = DepMapClient(fake.endpoint, cache=tmp_path, backoff=0)
        inputs = fetch_depmap(client)  # latest = 25Q3
        assert inputs.release == "DepMap Public 25Q3"
        assert inputs.files["expression"].filename == (
            "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv"
        )
        want = fake.matrices.expression.sort("ModelID")
        assert inputs.expression.sort("ModelID").equals(want)  # default profiles only


def test_no_expression_is_recorded_as_skipped(portal, client):
    inputs = fetch_depmap(client, release="24Q4", expression=False)
    assert inputs.expression is None and "expression" in inputs.skipped
    assert portal.count("file", filename="OmicsExpressionProteinCodingGenesTPMLogp1.csv") == 0


def test_release_files_read_only_in_panel_columns(portal, client):
    inputs = fetch_depmap(client, release="24Q4", entrez_ids=[6696, 22943])
    assert inputs.gene_effect.columns == ["ModelID", "DKK1 (22943)", "SPP1 (6696)"] or set(
        inputs.gene_effect.columns
    ) == {"ModelID", "DKK1 (22943)", "SPP1 (6696)"}
    assert inputs.dependency.width == 3 and inputs.expression is not None
    assert inputs.expression.width == 3
    assert isinstance(inputs.models, pl.DataFrame) and inputs.models.height > 30
