"""The API path against the schema-executing fake (needs ../shared for the real schema)."""

from __future__ import annotations

import polars as pl
import pytest
from support.ot_fake import FakeOpenTargets, fast_client
from support.ot_synthetic import make_platform

from targetrank.errors import UpstreamError
from targetrank.sources.opentargets import OpenTargetsAPI, collect_opentargets
from targetrank.sources.opentargets_resolver import OpenTargetsResolver
from targetrank.tables.opentargets import ReleaseInfo

TIGIT, SPP1, TNFSF11, ADGRE1 = (
    "ENSG00000181847",
    "ENSG00000118785",
    "ENSG00000120659",
    "ENSG00000174837",
)


@pytest.fixture(scope="module")
def platform():
    return make_platform(1000)


@pytest.fixture()
def fake(shared, platform):
    with FakeOpenTargets(platform, shared=shared) as server:
        yield server


@pytest.fixture()
def legacy(shared, platform):
    with FakeOpenTargets(platform, release="25.12", shared=shared) as server:
        yield server


def test_100_targets_in_5_posts_and_0_when_cached(fake, platform, tmp_path):
    ids = platform.ids[:100]
    progress = []
    client = fast_client(fake.url, tmp_path)
    tables = collect_opentargets(
        ids, source=OpenTargetsAPI(client), progress=lambda *a: progress.append(a)
    )
    assert tables.targets.height == 100
    assert fake.counters.posts == 5
    assert fake.counters.operations == [
        "Meta",
        "ResolveDiseases",
        "TargetsFeatures",
        "TargetsFeatures",
        "TargetsFeatures",
    ]
    assert progress[-1] == ("Open Targets targets", 3, 3)
    fake.reset_counters()
    again = collect_opentargets(ids, source=OpenTargetsAPI(fast_client(fake.url, tmp_path)))
    assert fake.counters.posts == 0
    assert again.targets.equals(tables.targets)


def test_1000_targets_stay_in_batches_of_40(fake, platform, tmp_path):
    client = fast_client(fake.url, tmp_path)
    tables = collect_opentargets(platform.ids[:1000], source=OpenTargetsAPI(client))
    assert tables.targets.height == 1000
    assert fake.counters.operations.count("TargetsFeatures") == 25
    assert client.stats.posts == 27


def test_dropped_ids_are_warnings_per_id(fake, platform, tmp_path):
    fake.dropped_targets.add(SPP1)
    ids = [TIGIT, SPP1, "ENSG00000000001", f"{TNFSF11}.16"]
    tables = collect_opentargets(ids, source=OpenTargetsAPI(fast_client(fake.url, tmp_path)))
    dropped = [w.subject for w in tables.warnings if w.kind == "dropped_id"]
    assert dropped == [SPP1, "ENSG00000000001"]
    assert [w.kind for w in tables.warnings if w.subject == f"{TNFSF11}.16"] == ["version_suffix"]
    assert set(tables.targets["ensembl_id"]) == {TIGIT, TNFSF11}  # version suffix stripped


def test_disease_names_resolve_to_mondo_ids_with_mapids(fake, tmp_path):
    api = OpenTargetsAPI(fast_client(fake.url, tmp_path))
    table, warnings = api.resolve_diseases()
    ids = dict(table.select("key", "disease_id").iter_rows())
    assert ids == {
        "breast": "MONDO_0004989",
        "cancer": "MONDO_0004992",
        "lung": "MONDO_0005233",
        "myeloma": "MONDO_0009693",
        "prostate": "MONDO_0005159",
    }
    assert set(table["status"].cast(pl.String)) == {"mapped"} and warnings == []


def test_legacy_efo_id_is_a_retired_disease_warning_not_no_associations(fake, tmp_path):
    api = OpenTargetsAPI(fast_client(fake.url, tmp_path))
    tables = collect_opentargets([TIGIT], source=api, diseases={"cancer": "EFO_0000311"})
    warning = next(w for w in tables.warnings if w.subject == "EFO_0000311")
    assert warning.kind == "null_disease" and "retired" in warning.message
    status = dict(tables.diseases.select("key", pl.col("status").cast(pl.String)).iter_rows())
    assert status["cancer"] == "retired"
    assert "MONDO_0004992" not in tables.associations["disease_id"].to_list()


def test_unresolvable_name_falls_back_to_the_documented_id(fake, tmp_path):
    fake.platform.diseases["MONDO_0009693"]["name"] = "plasma cell myeloma"
    try:
        api = OpenTargetsAPI(fast_client(fake.url, tmp_path))
        table, warnings = api.resolve_diseases()
    finally:
        fake.platform.diseases["MONDO_0009693"]["name"] = "multiple myeloma"
    row = table.filter(pl.col("key") == "myeloma").row(0, named=True)
    assert (row["disease_id"], row["status"]) == ("MONDO_0009693", "fallback")
    assert [w.subject for w in warnings] == ["myeloma"]


def test_pre_2603_release_uses_known_drugs_and_follows_cursors(legacy, platform, tmp_path):
    ids = platform.seed_ids[:8]
    big = collect_opentargets(ids, source=OpenTargetsAPI(fast_client(legacy.url, tmp_path)))
    assert "TargetsFeaturesPre2603" in legacy.counters.operations
    legacy.reset_counters()
    paged = collect_opentargets(
        ids,
        source=OpenTargetsAPI(fast_client(legacy.url, tmp_path / "b"), known_drugs_size=1),
    )
    assert legacy.counters.operations.count("TargetKnownDrugsPage") > 0
    assert paged.clinical_candidates.equals(big.clinical_candidates)
    assert set(big.clinical_candidates["source_field"].cast(pl.String)) == {"knownDrugs"}


def test_associations_paginate_by_count(fake, platform, tmp_path):
    ids = platform.ids[:80]
    whole = collect_opentargets(ids, source=OpenTargetsAPI(fast_client(fake.url, tmp_path)))
    fake.reset_counters()
    paged = collect_opentargets(
        ids, source=OpenTargetsAPI(fast_client(fake.url, tmp_path / "b"), assoc_page_size=2)
    )
    assert fake.counters.operations.count("TargetsAssociationsPage") >= 2
    assert paged.associations.equals(whole.associations)
    assert paged.association_datatypes.equals(whole.association_datatypes)


def test_partial_errors_become_warnings_on_the_target(fake, tmp_path):
    fake.inject("errors", operation="TargetsFeatures", path=["targets", 0, "safetyLiabilities"])
    tables = collect_opentargets(
        [TIGIT, SPP1], source=OpenTargetsAPI(fast_client(fake.url, tmp_path))
    )
    partial = [w for w in tables.warnings if w.kind == "partial_error"]
    assert len(partial) == 1 and partial[0].subject == TIGIT
    assert tables.targets.height == 2


def test_unknown_field_is_http_400_and_a_clear_error(legacy, tmp_path):
    api = OpenTargetsAPI(fast_client(legacy.url, tmp_path))
    api._release = ReleaseInfo("26.6.3", "26.06", "api", legacy.url)  # wrong belief: 26.06
    with pytest.raises(UpstreamError) as info:
        collect_opentargets([TIGIT], source=api)
    message = info.value.message
    assert "HTTP 400" in message and "drugAndClinicalCandidates" in message
    assert "renamed or removed a field" in message and legacy.url in message


def test_the_fake_enforces_the_complexity_cap_and_batching_respects_it(fake, platform, tmp_path):
    ids = platform.ids[:20]
    reckless = OpenTargetsAPI(
        fast_client(fake.url, tmp_path), max_batch=200, complexity_budget=1e12, assoc_page_size=3000
    )
    with pytest.raises(UpstreamError, match="too complex"):
        collect_opentargets(ids, source=reckless)
    careful = OpenTargetsAPI(fast_client(fake.url, tmp_path / "b"), assoc_page_size=3000)
    assert collect_opentargets(ids, source=careful).targets.height == 20
    assert fake.counters.operations.count("TargetsFeatures") > 2  # smaller batches


def test_a_pinned_release_that_is_not_served_stops_before_fetching(fake, tmp_path):
    api = OpenTargetsAPI(fast_client(fake.url, tmp_path), release="25.12")
    with pytest.raises(
        UpstreamError, match=r"serves Open Targets data release 26\.06, not the pinned 25\.12"
    ):
        collect_opentargets([TIGIT], source=api)
    assert fake.counters.operations == ["Meta"]


@pytest.mark.parametrize(
    ("release", "operation"),
    [("26.06", "TargetsExpression"), ("25.12", "TargetsExpressionPre2661")],
)
def test_expression_uses_the_field_of_the_release(shared, platform, tmp_path, release, operation):
    with FakeOpenTargets(platform, release=release, shared=shared) as server:
        api = OpenTargetsAPI(fast_client(server.url, tmp_path), expression_page_size=1)
        tables = collect_opentargets([TIGIT, SPP1], source=api, with_expression=True)
        assert operation in server.counters.operations
    assert tables.expression.filter(pl.col("ensembl_id") == TIGIT)["value"].to_list() == [12.5]


def test_online_resolver_statuses(fake, tmp_path):
    resolver = OpenTargetsResolver(fast_client(fake.url, tmp_path))
    result = resolver.resolve(
        ["TIGIT", "RANKL", "EMR1", f"{TNFSF11}.16", "ENSMUSG00000000001", "NOTAGENE", "tnfsf11"]
    )
    rows = {r["query"]: r for r in result.table.to_dicts()}
    assert (rows["TIGIT"]["status"], rows["TIGIT"]["ensembl_id"]) == ("approved", TIGIT)
    assert (rows["RANKL"]["status"], rows["RANKL"]["symbol"]) == ("alias", "TNFSF11")
    assert (rows["EMR1"]["status"], rows["EMR1"]["ensembl_id"]) == ("previous", ADGRE1)
    assert rows[f"{TNFSF11}.16"]["status"] == "ensembl"
    assert rows["ENSMUSG00000000001"]["status"] == "non_human"
    assert rows["NOTAGENE"]["status"] == "unknown"
    assert rows["tnfsf11"]["duplicate_of"] == "RANKL"
    assert fake.counters.operations == ["Meta", "MapTargets"]


def test_online_resolver_reports_ambiguity_without_picking(fake, tmp_path):
    fake.platform.targets[SPP1]["symbolSynonyms"].append("SHARED-NAME")
    fake.platform.targets[TIGIT]["symbolSynonyms"].append("SHARED-NAME")
    try:
        result = OpenTargetsResolver(fast_client(fake.url, tmp_path)).resolve(["SHARED-NAME"])
    finally:
        fake.platform.targets[SPP1]["symbolSynonyms"].remove("SHARED-NAME")
        fake.platform.targets[TIGIT]["symbolSynonyms"].remove("SHARED-NAME")
    row = result.table.row(0, named=True)
    assert row["status"] == "ambiguous" and row["ensembl_id"] is None
    assert "SPP1" in row["candidates"] and "TIGIT" in row["candidates"]
