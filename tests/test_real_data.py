"""Real Open Targets and DepMap values in the snapshot, read through the connectors' code.

Every expected value here is read independently from the source files in ``../shared`` (plain
polars reads, not targetrank's readers), so a wrong join, a shifted column or a mislabelled
release in the connector code fails these tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

import targetrank as t
from targetrank.cli import main

pytestmark = pytest.mark.shared

SPOT = ["PCNA", "RPL3", "TIGIT", "DKK1", "SPP1", "TNFSF11"]
OT_DIR = Path("data/opentargets/25.12")
SUMMARY = Path(
    "data/depmap_thirdparty/26Q1_gene_summary/depmap_26Q1_chronos_and_D2_per_gene_mean_sd.csv"
)


@pytest.fixture(scope="module")
def features() -> pl.DataFrame:
    return t.load_features()


def _row(features: pl.DataFrame, symbol: str) -> dict:
    return features.filter(pl.col("symbol") == symbol).row(0, named=True)


@pytest.mark.parametrize("symbol", SPOT)
def test_chronos_and_rnai_means_equal_the_summary_file(features, shared, symbol):
    raw = pl.read_csv(shared / SUMMARY).filter(pl.col("gene") == symbol).row(0, named=True)
    got = _row(features, symbol)
    assert got["depmap_mean_effect"] == pytest.approx(raw["crispr_26Q1_mean"], abs=1e-9)
    assert got["depmap_sd_effect"] == pytest.approx(raw["crispr_26Q1_sd"], abs=1e-9)
    assert got["depmap_n_models"] == int(raw["crispr_26Q1_n"])
    if raw["rnai_D2v6_mean"] is None:
        assert got["depmap_rnai_mean_effect"] is None
    else:
        assert got["depmap_rnai_mean_effect"] == pytest.approx(raw["rnai_D2v6_mean"], abs=1e-9)


@pytest.mark.parametrize("symbol", SPOT)
def test_prioritisation_flags_equal_the_bulk_parquet(features, shared, symbol):
    got = _row(features, symbol)
    part = next((shared / OT_DIR / "target_prioritisation").glob("*.parquet"))
    raw = pl.read_parquet(part).filter(pl.col("targetId") == got["ensembl_id"]).row(0, named=True)
    for key in ["isInMembrane", "isSecreted", "geneticConstraint", "tissueSpecificity"]:
        assert got[f"ot_prio_{key}"] == raw[key], key


def test_known_biology_of_the_seed_panel(features):
    # essential housekeeping genes are strongly depleted; the candidate targets are not
    assert _row(features, "PCNA")["depmap_mean_effect"] < -2
    assert _row(features, "RPL3")["depmap_mean_effect"] < -2
    assert _row(features, "RPL3")["ribosomal_protein"] is True
    for symbol in ["TIGIT", "DKK1", "SPP1", "TNFSF11"]:
        assert abs(_row(features, symbol)["depmap_mean_effect"]) < 0.3, symbol
        assert _row(features, symbol)["core_essential_control"] is False
    assert _row(features, "TIGIT")["ot_prio_isInMembrane"] == 1
    for symbol in ["DKK1", "SPP1"]:
        assert _row(features, symbol)["ot_prio_isSecreted"] == 1
    assert _row(features, "RPL3")["ps_fitness_pct"] == 100


def test_coverage_of_the_new_columns(features):
    # the done-when of the real-data issue: both sources reach >= 17,000 genes
    ot = features["ot_prio_isInMembrane"].is_not_null()
    dm = features["depmap_mean_effect"].is_not_null()
    assert ot.sum() >= 17_000
    assert dm.sum() >= 17_000
    assert (ot & dm).sum() >= 17_000
    assert features["mito_encoded"].sum() == 13  # the 13 protein-coding mitochondrial genes


def test_summary_agrees_with_the_independent_19q3_summary(features, shared):
    old = pl.read_csv(
        shared / "data/depmap_thirdparty/shinydepmap_19q3/shinydepmap_19q3_efficacy_selectivity.csv"
    ).select(pl.col("eid").alias("entrez_id"), "efficacy")
    both = features.select("entrez_id", "depmap_mean_effect").join(old, on="entrez_id")
    both = both.drop_nulls()
    rho = both.select(pl.corr("depmap_mean_effect", "efficacy", method="spearman")).item()
    # measured: Spearman 0.873 over 15,479 genes (different releases, libraries and methods)
    assert both.height > 15_000
    assert 0.8 < rho < 0.99


def test_manifest_names_source_release_licence_and_derivation():
    columns = t.feature_manifest()["columns"]
    dm = columns["depmap_mean_effect"]
    assert dm["derivation"] == ["third-party derived"]
    assert "26Q1" in dm["releases"][0] and dm["licences"] == ["CC BY 4.0"]
    ot = columns["ot_prio_isInMembrane"]
    assert ot["releases"] == ["Open Targets Platform 25.12"] and ot["derivation"] == ["first-party"]
    assert "Project Score 2019" in columns["ps_fitness_pct_bone"]["releases"][0]
    # what the partial download cannot give is null, and says which dataset is missing
    assert "'target' dataset" in columns["ot_tract_ab_nonclinical"]["null_reason"]
    assert "per-model" in columns["depmap_frac_dependent"]["null_reason"]
    connectors = t.feature_manifest()["connectors"]
    assert connectors["opentargets"]["datasets_read"] == ["target_prioritisation"]
    symbols = connectors["depmap_gene_summary"]["symbols"]
    assert symbols["mapped"] > 18_000 and symbols["unmapped"] > 0
    assert symbols["unmapped_examples"]


def test_leakage_guard_refuses_clinical_prioritisation_factors(context):
    from targetrank.model.leakage import LeakageError, check_no_leakage
    from targetrank.model.matrix import select_model_features

    with pytest.raises(LeakageError, match="maxClinicalTrialPhase"):
        check_no_leakage(["ot_prio_isInMembrane", "ot_prio_maxClinicalTrialPhase"], labels="x")
    sel = select_model_features(context.features)
    assert "leakage" in sel.refused["ot_prio_maxClinicalTrialPhase"]
    assert "leakage" in sel.refused["ot_prio_hasSafetyEvent"]
    assert "ot_prio_isInMembrane" in sel.used


def _partial_bulk(shared: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "25.12"
    shutil.copytree(shared / OT_DIR / "target_prioritisation", folder / "target_prioritisation")
    return folder


def test_partial_bulk_folder_fills_what_it_can(shared, tmp_path, runner):
    bulk = _partial_bulk(shared, tmp_path)
    out = tmp_path / "ot"
    args = ["fetch", "opentargets", "--targets", "TIGIT,DKK1,OPN,RANKL", "--bulk", str(bulk)]
    result = runner.invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Partial download" in result.output and "stay null" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataVersion"] == "25.12"  # from the folder layout
    assert "target" in manifest["absent_datasets"]
    assert "ot_tract_ab_nonclinical" in manifest["null_columns"]
    feats = pl.read_parquet(out / "opentargets_features.parquet")
    assert feats.height == 4
    assert feats["ot_prio_isInMembrane"].null_count() == 0
    assert feats["ot_tract_ab_nonclinical"].null_count() == 4  # never invented
    assert feats["ot_safety_event_count"].null_count() == 4  # not 0: the dataset is absent


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_bulk_parquet_is_a_data_error_naming_the_file(shared, tmp_path, runner, damage):
    bulk = _partial_bulk(shared, tmp_path)
    part = next((bulk / "target_prioritisation").glob("*.parquet"))
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not parquet" * 100)
    out = tmp_path / "ot"
    args = ["fetch", "opentargets", "--targets", "TIGIT", "--bulk", str(bulk), "--out", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 4, result.output
    assert part.name in result.output
    assert "corrupt or truncated" in result.output
    assert not out.exists()
