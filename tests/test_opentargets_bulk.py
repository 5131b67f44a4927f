"""Bulk mode: the Platform's parquet downloads yield the same tables as the API.

The bulk files are written by tests/support/ot_synthetic.py from the same SYNTHETIC records the
fake API serves. Offline tests compare against API-shaped records rendered without HTTP; the
``shared`` tests compare against real GraphQL execution over HTTP.
"""

from __future__ import annotations

import polars as pl
import pytest
from support.ot_fake import FakeOpenTargets, fast_client, render_records
from support.ot_synthetic import make_platform, write_bulk

from targetrank.errors import DataError, UsageError
from targetrank.sources.opentargets import OpenTargetsAPI, build_tables, collect_opentargets
from targetrank.sources.opentargets_bulk import OpenTargetsBulk

LAYOUTS = ("26.06", "25.12")


@pytest.fixture(scope="module")
def platform():
    return make_platform(60)


@pytest.fixture(scope="module")
def bulk_dirs(platform, tmp_path_factory):
    root = tmp_path_factory.mktemp("ot-bulk")
    return {
        layout: write_bulk(platform, root / layout / "output", layout=layout) for layout in LAYOUTS
    }


def _ids(platform):
    return [*platform.ids, "ENSG00000000001"]  # one id no release has


def _assert_same(a, b):
    fa, fb = a.frames(), b.frames()
    assert fa.keys() == fb.keys()
    for name in fa:
        assert fa[name].equals(fb[name]), f"{name} differs:\n{fa[name]}\n{fb[name]}"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bulk_equals_parsed_api_records(platform, bulk_dirs, layout):
    bulk = collect_opentargets(_ids(platform), source=OpenTargetsBulk(bulk_dirs[layout]))
    disease_ids = bulk.diseases["disease_id"].to_list()
    records = render_records(platform, _ids(platform), disease_ids, release=layout)
    api = build_tables(
        records,
        bulk.diseases,
        release=bulk.release,
        requested=bulk.requested,
        warnings=[],
        source="rendered",
    )
    _assert_same(bulk, api)
    assert bulk.targets.height == len(platform.ids)
    assert [w.subject for w in bulk.warnings if w.kind == "dropped_id"] == ["ENSG00000000001"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bulk_equals_the_api_over_http(shared, platform, bulk_dirs, layout, tmp_path):
    with FakeOpenTargets(platform, release=layout, shared=shared) as fake:
        client = fast_client(fake.url, tmp_path)
        api = collect_opentargets(_ids(platform), source=OpenTargetsAPI(client), with_screens=True)
    bulk = collect_opentargets(
        _ids(platform), source=OpenTargetsBulk(bulk_dirs[layout]), with_screens=True
    )
    _assert_same(api, bulk)
    assert api.essentiality_screens.height > 0
    kinds = lambda t: sorted((w.kind, w.subject) for w in t.warnings)  # noqa: E731
    assert kinds(api) == kinds(bulk)


def test_bulk_release_comes_from_the_folder_or_the_pin(bulk_dirs):
    assert OpenTargetsBulk(bulk_dirs["26.06"]).release().data_version == "26.06"
    with pytest.raises(UsageError, match=r"looks like release 26\.06, not the pinned 25\.12"):
        OpenTargetsBulk(bulk_dirs["26.06"], release="25.12").release()


def test_bulk_resolves_disease_names_to_current_ids_and_flags_retired_ones(bulk_dirs):
    table, warnings = OpenTargetsBulk(bulk_dirs["26.06"]).resolve_diseases({"lung": "EFO_0003060"})
    slots = {r["key"]: r for r in table.to_dicts()}
    assert (
        slots["breast"]["disease_id"] == "MONDO_0004989" and slots["breast"]["status"] == "mapped"
    )
    assert slots["lung"]["status"] == "retired"
    assert [w.subject for w in warnings] == ["EFO_0003060"]
    assert "not 'no associations'" in warnings[0].message


def test_missing_dataset_is_a_data_error_with_the_fix(bulk_dirs, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    with pytest.raises(DataError) as info:
        OpenTargetsBulk(partial).scan("association_overall_direct")
    assert "association_overall_direct" in info.value.message
    assert str(partial) in info.value.message and "drop --bulk" in info.value.message


def test_missing_column_is_a_data_error(tmp_path):
    folder = tmp_path / "bad" / "disease"
    folder.mkdir(parents=True)
    pl.DataFrame({"id": ["MONDO_0004992"]}).write_parquet(folder / "part-0.parquet")
    with pytest.raises(DataError, match="lacks column"):
        OpenTargetsBulk(tmp_path / "bad").scan("disease")


def test_missing_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="--bulk DIR"):
        OpenTargetsBulk(tmp_path / "nope")
