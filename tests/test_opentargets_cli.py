"""`targetrank fetch opentargets`: outputs, manifest, exit codes, nothing half-written."""

from __future__ import annotations

import json

import polars as pl
import pytest
from support.ot_fake import FakeOpenTargets
from support.ot_synthetic import make_platform, write_bulk

from targetrank.cli import main
from targetrank.features.opentargets_columns import OPENTARGETS_FEATURE_COLUMNS
from tests.support.stamps import assert_stamped

PANEL = "TIGIT,OPN,RANKL,SOST,PD-1"
SOST = "ENSG00000167941"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TARGETRANK_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def bulk_dir(tmp_path_factory):
    return write_bulk(make_platform(), tmp_path_factory.mktemp("bulk") / "26.06" / "output")


def _leftovers(parent):
    """Hidden temporary files or folders (atomic-write debris) left beside the output."""
    return [p.name for p in parent.iterdir() if p.name.startswith(".")] if parent.exists() else []


def test_bulk_mode_writes_tables_features_and_manifest(runner, bulk_dir, tmp_path):
    out = tmp_path / "features" / "opentargets"
    result = runner.invoke(
        main,
        ["fetch", "opentargets", "--targets", PANEL, "--bulk", str(bulk_dir), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "5 of 5 target(s)" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "bulk" and manifest["dataVersion"] == "26.06"
    assert manifest["rows"]["opentargets_features"] == 5
    assert "target" in manifest["datasets"]
    assert_stamped(manifest)
    features = pl.read_parquet(out / "opentargets_features.parquet")
    assert features.columns == ["ensembl_id", *OPENTARGETS_FEATURE_COLUMNS]
    for name in (
        "targets",
        "tractability",
        "safety",
        "clinical_candidates",
        "associations",
        "resolution",
    ):
        assert (out / f"{name}.parquet").is_file()
    assert _leftovers(out.parent) == []


def test_existing_output_needs_force(runner, bulk_dir, tmp_path):
    args = [
        "fetch",
        "opentargets",
        "--targets",
        "TIGIT",
        "--bulk",
        str(bulk_dir),
        "--out",
        str(tmp_path / "o"),
    ]
    assert runner.invoke(main, args).exit_code == 0
    again = runner.invoke(main, args)
    assert again.exit_code == 7 and "--force" in again.stderr
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0


def test_unresolved_target_stops_before_anything_is_written(runner, bulk_dir, tmp_path):
    out = tmp_path / "o"
    result = runner.invoke(
        main,
        [
            "fetch",
            "opentargets",
            "--targets",
            "TIGIT,CHI3L3",
            "--bulk",
            str(bulk_dir),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 3
    assert "CHI3L3" in result.stderr and "--skip-unresolved" in result.stderr
    assert not out.exists() and _leftovers(tmp_path) == []


def test_disk_full_while_writing_keeps_the_previous_output(runner, bulk_dir, tmp_path, monkeypatch):
    out = tmp_path / "o"
    args = [
        "fetch",
        "opentargets",
        "--targets",
        "TIGIT",
        "--bulk",
        str(bulk_dir),
        "--out",
        str(out),
    ]
    assert runner.invoke(main, args).exit_code == 0
    before = sorted(p.name for p in out.iterdir())
    calls = {"n": 0}
    original = pl.DataFrame.write_parquet

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return original(self, *a, **k)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", failing)
    result = runner.invoke(main, [*args, "--force"])
    assert result.exit_code == 7 and "No space left on device" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == before
    assert _leftovers(tmp_path) == []


def test_skip_unresolved_goes_on_and_lists_what_was_skipped(runner, bulk_dir, tmp_path):
    out = tmp_path / "o"
    result = runner.invoke(
        main,
        [
            "fetch",
            "opentargets",
            "--targets",
            "TIGIT,CHI3L3",
            "--bulk",
            str(bulk_dir),
            "--out",
            str(out),
            "--skip-unresolved",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["query"] for s in manifest["skipped_unresolved"]] == ["CHI3L3"]
    assert manifest["targets_requested"] == 1


def test_bad_disease_option_is_a_usage_error(runner, bulk_dir, tmp_path):
    result = runner.invoke(
        main,
        [
            "fetch",
            "opentargets",
            "--targets",
            "TIGIT",
            "--bulk",
            str(bulk_dir),
            "--disease",
            "lung",
        ],
    )
    assert result.exit_code == 2 and "KEY=NAME_OR_ID" in result.stderr


def test_bulk_and_endpoint_together_is_a_usage_error(runner, bulk_dir):
    result = runner.invoke(
        main,
        [
            "fetch",
            "opentargets",
            "--targets",
            "TIGIT",
            "--bulk",
            str(bulk_dir),
            "--endpoint",
            "http://x",
        ],
    )
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def _api_args(fake, out, *extra):
    return [
        "fetch", "opentargets", "--targets", PANEL, "--endpoint", fake.url, "--out", str(out),
        "--rate-limit", "100", *extra,
    ]  # fmt: skip


def test_api_mode_manifest_records_release_queries_and_warnings(runner, shared, tmp_path):
    with FakeOpenTargets(shared=shared) as fake:
        fake.dropped_targets.add(SOST)
        out = tmp_path / "o"
        result = runner.invoke(
            main, _api_args(fake, out, "--disease", "cancer=EFO_0000311", "--release", "26.06")
        )
    assert result.exit_code == 0, result.output
    assert "Warnings:" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["endpoint"] == fake.url and manifest["mode"] == "api"
    assert (manifest["apiVersion"], manifest["dataVersion"], manifest["pinned_release"]) == (
        "26.6.3",
        "26.06",
        "26.06",
    )
    assert set(manifest["queries"]) == {"meta", "resolve_diseases", "targets_features"}
    assert all(len(h) == 64 for h in manifest["queries"].values())
    assert manifest["requests"]["posts"] == 3
    kinds = {(w["kind"], w["subject"]) for w in manifest["warnings"]}
    assert ("dropped_id", SOST) in kinds and ("null_disease", "EFO_0000311") in kinds
    assert (manifest["targets_requested"], manifest["targets_returned"]) == (5, 4)
    features = pl.read_parquet(out / "opentargets_features.parquet")
    assert features["ot_assoc_cancer"].null_count() == 4


def test_500_storm_exits_5_naming_the_endpoint_and_writes_nothing(runner, shared, tmp_path):
    with FakeOpenTargets(shared=shared) as fake:
        fake.inject("status", code=500, times=100, operation="TargetsFeatures")
        out = tmp_path / "features" / "opentargets"
        result = runner.invoke(main, _api_args(fake, out, "--retries", "1"))
    assert result.exit_code == 5
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fake.url in lines[0] and "HTTP 500" in lines[0]
    assert "--bulk" in lines[0]
    assert not out.exists() and _leftovers(out.parent) == []


def test_second_run_is_served_from_the_cache(runner, shared, tmp_path):
    with FakeOpenTargets(shared=shared) as fake:
        assert runner.invoke(main, _api_args(fake, tmp_path / "a")).exit_code == 0
        fake.reset_counters()
        result = runner.invoke(main, _api_args(fake, tmp_path / "b"))
        assert result.exit_code == 0 and fake.counters.posts == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["requests"]["posts"] == 0 and manifest["requests"]["cache_hits"] == 3


def test_online_resolver_option(runner, shared, tmp_path):
    with FakeOpenTargets(shared=shared) as fake:
        result = runner.invoke(main, _api_args(fake, tmp_path / "o", "--resolver", "opentargets"))
        assert "MapTargets" in fake.counters.operations
    assert result.exit_code == 0, result.output
    resolution = pl.read_parquet(tmp_path / "o" / "resolution.parquet")
    status = dict(resolution.select("query", "status").iter_rows())
    assert status == {
        "TIGIT": "approved",
        "OPN": "alias",
        "RANKL": "alias",
        "SOST": "approved",
        "PD-1": "alias",
    }
