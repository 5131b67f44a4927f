"""Online path end to end, on the loopback fakes: fetch → merge → rank with live columns.

The values are SYNTHETIC (the fakes' generators); the test proves the plumbing a user relies on:
the connectors' tables land in the feature slots, with provenance, and the ranker uses them.
"""

from __future__ import annotations

import json

import polars as pl

from targetrank.cli import main
from targetrank.paths import shared_dir
from tests.support.depmap_fake import FakeDepMapPortal
from tests.support.ot_synthetic import make_platform, write_bulk


def test_fetch_merge_rank(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("TARGETRANK_CACHE_DIR", str(tmp_path / "cache"))
    bulk = write_bulk(make_platform(), tmp_path / "bulk" / "26.06" / "output")
    ot_out, dm_out = tmp_path / "ot", tmp_path / "dm"
    panel = "TIGIT,OPN,RANKL,DKK1,PD-1"
    result = runner.invoke(
        main,
        ["fetch", "opentargets", "--targets", panel, "--bulk", str(bulk), "--out", str(ot_out)],
    )
    assert result.exit_code == 0, result.output
    with FakeDepMapPortal(shared_dir(required=False), n_models=40, n_genes=30) as portal:
        result = runner.invoke(
            main,
            [
                "fetch",
                "depmap",
                "--release",
                "24Q4",
                "--endpoint",
                portal.root,
                "--cache-dir",
                str(tmp_path / "dmcache"),
                "--out",
                str(dm_out),
            ],
        )
    assert result.exit_code == 0, result.output

    live = tmp_path / "live"
    result = runner.invoke(
        main,
        ["features", "merge", "--with", str(ot_out), "--with", str(dm_out), "--out", str(live)],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((live / "manifest.json").read_text())
    assert manifest["columns"]["ot_safety_event_count"]["sources"] == ["opentargets_features"]
    assert manifest["columns"]["depmap_mean_effect"]["sources"] == ["depmap_features"]

    table = pl.read_parquet(live / "features.parquet")
    tigit = table.filter(pl.col("symbol") == "TIGIT").row(0, named=True)
    assert tigit["ot_prio_isInMembrane"] is not None
    assert table["depmap_mean_effect"].drop_nulls().len() > 0

    run = tmp_path / "run"
    result = runner.invoke(
        main,
        [
            "rank",
            "--features",
            str(live),
            "--scorer",
            "weighted",
            "--targets",
            panel,
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    releases = json.loads((run / "manifest.json").read_text())["data_releases"]
    assert "opentargets_features" in releases and "depmap_features" in releases
