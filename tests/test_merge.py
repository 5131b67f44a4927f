"""`targetrank features merge`: live connector tables overlaid on the snapshot."""

from __future__ import annotations

import json

import polars as pl
import pytest

import targetrank as t
from targetrank.cli import main
from targetrank.errors import DataError, OutputError
from targetrank.steps.merge import merge_features


@pytest.fixture()
def overlays(tmp_path):
    """Synthetic overlay tables in the connectors' layouts (values invented, labelled so)."""
    ot = tmp_path / "opentargets"
    ot.mkdir()
    pl.DataFrame(
        {
            "ensembl_id": ["ENSG00000181847", "ENSG00000118785.4"],  # TIGIT, SPP1 (versioned)
            "ot_safety_event_count": [2, 0],
            "ot_tract_ab_nonclinical": [True, False],
            "ot_max_clinical_stage": [8, 1],
        }
    ).write_parquet(ot / "opentargets_features.parquet")
    (ot / "manifest.json").write_text(json.dumps({"dataVersion": "26.06-synthetic"}))
    dm = tmp_path / "depmap"
    dm.mkdir()
    pl.DataFrame(
        {
            "entrez_id": [201633, 22943],  # TIGIT, DKK1
            "symbol": ["TIGIT", "DKK1"],
            "depmap_mean_effect": [0.01, -0.05],
            "depmap_common_essential": [False, False],
        }
    ).write_parquet(dm / "depmap_features.parquet")
    (dm / "manifest.json").write_text(json.dumps({"release": "DepMap Public 24Q4 (synthetic)"}))
    return ot, dm


def value(table, symbol, column):
    return table.filter(pl.col("symbol") == symbol)[column][0]


def test_merge_fills_slots_for_covered_genes_only(overlays, tmp_path):
    ot, dm = overlays
    out = tmp_path / "live"
    manifest = merge_features([ot, dm], out)
    table = t.load_features(out)
    assert value(table, "TIGIT", "ot_safety_event_count") == 2
    assert value(table, "SPP1", "ot_tract_ab_nonclinical") is False
    assert value(table, "DKK1", "depmap_mean_effect") == pytest.approx(-0.05)
    assert value(table, "PDCD1", "ot_safety_event_count") is None  # not covered: stays null
    # a gene the overlay does not cover keeps its snapshot value
    snapshot = t.load_features()
    assert value(table, "PCNA", "depmap_common_essential") == value(
        snapshot, "PCNA", "depmap_common_essential"
    )
    assert manifest["columns"]["ot_safety_event_count"]["sources"] == ["opentargets_features"]
    assert manifest["sources"]["opentargets_features"]["release"] == "26.06-synthetic"
    assert "null_reason" not in manifest["columns"]["ot_safety_event_count"]


def test_merged_folder_ranks_and_leaky_overlay_column_is_refused(overlays, tmp_path, runner):
    ot, dm = overlays
    out = tmp_path / "live"
    merge_features([ot, dm], out)
    run = tmp_path / "run"
    result = runner.invoke(
        main,
        [
            "rank",
            "--features",
            str(out),
            "--scorer",
            "weighted",
            "--targets",
            "TIGIT,OPN",
            "--out",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    from targetrank.model.matrix import select_model_features

    sel = select_model_features(t.load_features(out))
    assert "ot_tract_ab_nonclinical" in sel.used
    assert "leakage" in sel.refused["ot_max_clinical_stage"]
    # safety events come largely from existing drugs' adverse events: refused too
    assert "leakage" in sel.refused["ot_safety_event_count"]


def test_cli_merge_and_existing_out(overlays, tmp_path, runner):
    ot, dm = overlays
    out = tmp_path / "live"
    result = runner.invoke(
        main, ["features", "merge", "--with", str(ot), "--with", str(dm), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 genes" in result.stdout
    again = runner.invoke(main, ["features", "merge", "--with", str(ot), "--out", str(out)])
    assert again.exit_code == 7
    with pytest.raises(OutputError):
        merge_features([ot], out)


def test_overlay_without_feature_table_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="No feature table"):
        merge_features([empty], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_write_failure_is_an_output_error_and_leaves_nothing(overlays, tmp_path, monkeypatch):
    ot, dm = overlays
    out = tmp_path / "live"

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    with pytest.raises(OutputError, match="No space left on device"):
        merge_features([ot, dm], out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
