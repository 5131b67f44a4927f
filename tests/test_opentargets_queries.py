"""The GraphQL contract: every document the connector can send is valid for its release, and
the release, batching and complexity logic picks what the server accepts."""

from __future__ import annotations

import pytest
from graphql import build_schema, parse, validate

from targetrank.sources.opentargets_documents import (
    COMPLEXITY_CAP,
    batch_size,
    estimate_complexity,
    load_document,
    operation_names,
)
from targetrank.sources.opentargets_release import field_sets
from targetrank.tables.opentargets import ReleaseInfo

#: Documents sent only to releases before 26.03 (knownDrugs) or API 26.6.1 (expressions).
PRE_2603 = {"targets_features_pre2603", "target_known_drugs_page"}
PRE_2661 = {"targets_expression_pre2661"}


def _schema(shared, name):
    return build_schema((shared / "data" / "opentargets" / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema_2606(shared):
    return _schema(shared, "schema_2026-06_derived.graphql")


@pytest.fixture(scope="module")
def schema_2601(shared):
    return _schema(shared, "schema.graphql")


@pytest.mark.parametrize("name", sorted(set(operation_names()) - PRE_2603 - PRE_2661))
def test_current_documents_validate_against_the_26_06_schema(schema_2606, name):
    errors = validate(schema_2606, parse(load_document(name).text))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", sorted(PRE_2603 | PRE_2661))
def test_legacy_documents_validate_against_the_january_2026_schema(schema_2601, name):
    errors = validate(schema_2601, parse(load_document(name).text))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", sorted(PRE_2603 | PRE_2661))
def test_legacy_documents_are_rejected_by_the_current_schema(schema_2606, name):
    # the reason for release-aware field sets: one removed field fails the whole query
    assert validate(schema_2606, parse(load_document(name).text))


def test_current_feature_query_is_rejected_by_the_january_schema(schema_2601):
    errors = validate(schema_2601, parse(load_document("targets_features").text))
    assert any("drugAndClinicalCandidates" in e.message for e in errors)


def test_documents_carry_only_the_fragments_they_use():
    doc = load_document("targets_features")
    assert "fragment TargetAnnotations" in doc.text
    assert "fragment ClinicalCandidates" in doc.text
    assert "KnownDrug" not in doc.text
    legacy = load_document("targets_features_pre2603")
    assert "fragment KnownDrugs" in legacy.text and "fragment KnownDrugRow" in legacy.text
    assert "drugAndClinicalCandidates {" not in legacy.text
    assert len(doc.sha256) == 64 and doc.sha256 != legacy.sha256


@pytest.mark.parametrize(
    ("api", "data", "features", "expression"),
    [
        ("26.6.3", "26.06", "targets_features", "targets_expression"),
        ("26.6.1", "26.06", "targets_features", "targets_expression"),
        ("26.6.0", "26.06", "targets_features", "targets_expression_pre2661"),
        ("26.3.0", "26.03", "targets_features", "targets_expression_pre2661"),
        ("25.12.1", "25.12", "targets_features_pre2603", "targets_expression_pre2661"),
        ("bulk", "26.06", "targets_features", "targets_expression_pre2661"),
        ("dev", "unknown", "targets_features", "targets_expression"),
    ],
)
def test_field_sets_follow_the_api_version(api, data, features, expression):
    sets = field_sets(ReleaseInfo(api, data, "api", "x"))
    assert (sets.features, sets.expression) == (features, expression)


def _features_vars(page_size=5):
    return {
        "diseaseIds": ["MONDO_0004992"] * 5,
        "assocPage": {"index": 0, "size": page_size},
    }


def test_complexity_grows_with_ids_and_nested_page_size():
    doc = load_document("targets_features")
    one = estimate_complexity(doc, {**_features_vars(), "ids": ["ENSG00000181847"]})
    forty = estimate_complexity(doc, {**_features_vars(), "ids": ["ENSG00000181847"] * 40})
    big_page = estimate_complexity(doc, {**_features_vars(3000), "ids": ["ENSG00000181847"]})
    assert forty == pytest.approx(40 * one, rel=0.01)
    assert big_page > 100 * one


def test_batches_are_forty_ids_with_small_pages_and_shrink_under_the_cap():
    doc = load_document("targets_features")
    budget = COMPLEXITY_CAP / 2
    assert batch_size(doc, _features_vars(5), max_batch=40, budget=budget) == 40
    small = batch_size(doc, _features_vars(3000), max_batch=40, budget=budget)
    assert 1 <= small < 40
    cost = estimate_complexity(doc, {**_features_vars(3000), "ids": ["ENSG00000181847"] * small})
    assert cost <= budget
