"""`targetrank fetch depmap` against the fake portal: outputs, manifest, reruns, exit codes."""

from __future__ import annotations

import json

import polars as pl
import pytest

from targetrank.cli import main
from targetrank.features.depmap_columns import DEPMAP_OUTPUT_SCHEMA
from targetrank.paths import shared_dir
from tests.support.depmap_fake import SEED_PANEL, FakeDepMapPortal
from tests.support.stamps import assert_stamped


@pytest.fixture()
def portal():
    with FakeDepMapPortal(shared_dir(required=False), n_models=40, n_genes=30) as fake:
        yield fake


def _run(runner, portal, tmp_path, *extra):
    args = [
        "fetch",
        "depmap",
        "--endpoint",
        portal.root,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(tmp_path / "out"),
        *extra,
    ]
    return runner.invoke(main, args)


def test_writes_feature_table_and_manifest(runner, portal, tmp_path):
    result = _run(runner, portal, tmp_path, "--release", "24Q4")
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(tmp_path / "out" / "depmap_features.parquet")
    assert dict(table.schema) == DEPMAP_OUTPUT_SCHEMA
    assert table.height == 30
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["release"] == "DepMap Public 24Q4"
    assert_stamped(manifest)
    assert manifest["release_date"] == "2024-12-16"
    files = manifest["files"]
    assert files["gene_effect"]["filename"] == "CRISPRGeneEffect.csv"
    for kind, (release, name) in {
        "gene_effect": ("DepMap Public 24Q4", "CRISPRGeneEffect.csv"),
        "model": ("DepMap Public 24Q4", "Model.csv"),
    }.items():
        assert files[kind]["md5"] == portal.md5[(release, name)]
        assert files[kind]["md5_verified"] is True
    assert "Signature" not in json.dumps(manifest)
    screened = manifest["models"]["screened"]
    assert screened["all"] == 40 and set(screened) == {
        "all",
        "breast",
        "prostate",
        "lung",
        "bone_site",
        "myeloma",
    }
    assert table["depmap_n_models_breast"].max() <= screened["breast"]
    assert "DepMap Public 24Q4: 30 genes" in result.stdout


def test_real_model_counts_in_manifest(runner, shared, tmp_path):
    with FakeDepMapPortal(shared, n_models=40, n_genes=10) as portal:
        result = _run(runner, portal, tmp_path, "--release", "24Q4")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["models"]["in_model_table"] == {
        "all": 2105,
        "breast": 96,
        "prostate": 15,
        "lung": 260,
        "bone_site": 11,
        "myeloma": 34,
    }
    assert manifest["files"]["model"]["md5"] == "675210d17675f3517b0ce39a3c274f16"


def test_second_run_downloads_nothing(runner, portal, tmp_path):
    assert _run(runner, portal, tmp_path, "--release", "24Q4").exit_code == 0
    files_before = portal.count("file", method=None)
    result = _run(runner, portal, tmp_path, "--release", "24Q4")
    assert result.exit_code == 0, result.output
    assert portal.count("file", method=None) == files_before


def test_targets_panel_one_row_per_target(runner, portal, tmp_path):
    result = _run(
        runner,
        portal,
        tmp_path,
        "--release",
        "24Q4",
        "--targets",
        "OPN,RANKL",
        "--targets",
        "TIGIT,DKK1,PD-1",
    )
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(tmp_path / "out" / "depmap_features.parquet")
    assert table["symbol"].to_list() == ["SPP1", "TNFSF11", "TIGIT", "DKK1", "PDCD1"]
    assert table["entrez_id"].to_list()[:4] == [6696, 8600, 201633, 22943]
    assert table.filter(pl.col("symbol") == "PDCD1")["depmap_mean_effect"].to_list() == [None]
    assert not table.filter(pl.col("symbol").is_in(list(SEED_PANEL)))[
        "depmap_common_essential"
    ].any()


def test_targets_file(runner, portal, tmp_path):
    path = tmp_path / "panel.txt"
    path.write_text("target\nTIGIT\n# comment\nSPP1\n")
    result = _run(runner, portal, tmp_path, "--release", "24Q4", "--targets-file", str(path))
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(tmp_path / "out" / "depmap_features.parquet")
    assert table["symbol"].to_list() == ["TIGIT", "SPP1"]


def test_unresolved_target_exits_3_before_downloading(runner, portal, tmp_path):
    result = _run(runner, portal, tmp_path, "--targets", "TIGIT,NOTAGENE")
    assert result.exit_code == 3
    assert "NOTAGENE" in result.stderr and "--skip-unresolved" in result.stderr
    assert portal.count("listing") == 0


def test_skip_unresolved_goes_on(runner, portal, tmp_path):
    result = _run(
        runner,
        portal,
        tmp_path,
        "--release",
        "24Q4",
        "--targets",
        "TIGIT,NOTAGENE",
        "--skip-unresolved",
    )
    assert result.exit_code == 0, result.output
    assert "NOTAGENE" in result.stderr


def test_md5_failure_exits_5_with_one_line_and_keeps_old_output(runner, portal, tmp_path):
    assert _run(runner, portal, tmp_path, "--release", "24Q4", "--no-expression").exit_code == 0
    old = (tmp_path / "out" / "depmap_features.parquet").read_bytes()
    portal.inject("OmicsExpressionProteinCodingGenesTPMLogp1.csv", "md5", times=2)
    result = _run(runner, portal, tmp_path, "--release", "24Q4")
    assert result.exit_code == 5
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MD5" in lines[0] and "expected" in lines[0]
    assert (tmp_path / "out" / "depmap_features.parquet").read_bytes() == old


def test_no_expression_leaves_expression_columns_null(runner, portal, tmp_path):
    result = _run(runner, portal, tmp_path, "--release", "24Q4", "--no-expression")
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(tmp_path / "out" / "depmap_features.parquet")
    assert table["depmap_mean_expression_lung"].null_count() == table.height
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "expression" in manifest["skipped"] and "expression" not in manifest["files"]
    assert "expression skipped" in result.stderr


def test_unknown_release_exits_2(runner, portal, tmp_path):
    result = _run(runner, portal, tmp_path, "--release", "24Q3")
    assert result.exit_code == 2
    assert "24Q4" in result.stderr and "--release" in result.stderr


def test_endpoint_from_env_var(runner, portal, tmp_path, monkeypatch):
    monkeypatch.setenv("TARGETRANK_DEPMAP_ENDPOINT", portal.endpoint)
    args = ["fetch", "depmap", "--release", "24Q4", "--no-expression"]
    args += ["--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert portal.count("listing") == 1


def test_default_release_is_the_latest(runner, portal, tmp_path):
    # the fake serves 24Q4 only; the latest listed release (25Q3) answers 404, exit 5
    result = _run(runner, portal, tmp_path)
    assert result.exit_code == 5
    assert "25Q3" in result.stderr and "404" in result.stderr


@pytest.mark.network
def test_real_portal_listing_parses(tmp_path):
    from targetrank.sources.depmap_client import DepMapClient
    from targetrank.sources.depmap_release import release_files, select_release

    client = DepMapClient(cache=tmp_path, retries=1)
    listing = client.listing()
    release = select_release(listing)
    assert release.startswith("DepMap Public ")
    assert "gene_effect" in release_files(listing, release)
