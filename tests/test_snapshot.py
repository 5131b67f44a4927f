"""The embedded snapshot: real offline data, complete, traceable and reproducible."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import targetrank as t
from targetrank.paths import snapshot_dir

SEED = ["TIGIT", "DKK1", "SPP1", "TNFSF11"]


@pytest.fixture(scope="module")
def features() -> pl.DataFrame:
    return t.load_features()


@pytest.fixture(scope="module")
def manifest() -> dict:
    return t.feature_manifest()


def row(features: pl.DataFrame, symbol: str) -> dict:
    return features.filter(pl.col("symbol") == symbol).row(0, named=True)


def test_genome_wide_and_contains_panel_and_evidence_targets(features):
    assert features.height >= 19_000
    assert features["entrez_id"].is_unique().all()
    symbols = set(features["symbol"])
    assert set(SEED) <= symbols
    assert set(t.evidence()["symbol"]) <= symbols


def test_loads_offline_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert t.load_features().height >= 19_000


@pytest.mark.parametrize("symbol", ["TIGIT", "PDCD1", "CD274"])
def test_checkpoint_proteins_are_surface(features, symbol):
    assert row(features, symbol)["is_surface"] is True


@pytest.mark.parametrize("symbol", ["DKK1", "SPP1", "SOST"])
def test_bone_ligands_are_secreted(features, symbol):
    assert row(features, symbol)["is_secreted"] is True


@pytest.mark.parametrize("symbol", ["TNFSF11", "CSF1R"])
def test_osteoclast_biology(features, symbol):
    r = row(features, symbol)
    assert r["go_osteoclast_differentiation"] is True


@pytest.mark.shared
def test_every_listed_common_essential_gene_is_flagged(features, shared):
    from targetrank.sources.local import read_depmap_common_essentials

    listed = read_depmap_common_essentials(shared)
    flagged = features.join(listed.select("entrez_id"), on="entrez_id", how="inner")
    assert flagged.height >= 0.97 * listed.height
    assert flagged["depmap_common_essential"].all()


def test_common_essential_flags(features):
    for symbol in ["PCNA", "RPL3"]:
        assert row(features, symbol)["depmap_common_essential"] is True, symbol
    # the 24Q2 list has 2,023 genes; nearly all map onto the NCBI gene index
    assert 1_950 <= features["depmap_common_essential"].sum() <= 2_023
    for symbol in SEED:
        assert row(features, symbol)["depmap_common_essential"] is False, symbol


def test_missing_is_null_not_zero(features):
    # genes HPA never quantified have null expression, not 0
    hpa = features["hpa_blood_t_reg"]
    assert hpa.null_count() > 0
    assert (hpa.drop_nulls() == 0).sum() > 0  # real zeros exist too, and stay distinct
    # columns the offline files cannot give are all null (drugs: no clinical_target dataset;
    # dependent fractions: no per-model values in the DepMap summary)
    assert features["ot_max_clinical_stage"].null_count() == features.height
    assert features["depmap_frac_dependent"].null_count() == features.height
    # genes DepMap did not screen have a null effect, not 0
    effect = features["depmap_mean_effect"]
    assert 0 < effect.null_count() < features.height // 5


def test_every_non_null_value_traces_to_a_manifest_source(features, manifest):
    keys = {"entrez_id", "symbol", "ensembl_id"}
    for column in features.columns:
        if column in keys:
            continue
        info = manifest["columns"][column]
        if features[column].null_count() < features.height:
            assert info["sources"], column
            for source in info["sources"]:
                entry = manifest["sources"][source]
                assert entry["release"] and entry["licence"], (column, source)
        else:
            assert info["null_reason"], column


def test_manifest_matches_the_table(features, manifest):
    assert manifest["files"]["features.parquet"]["rows"] == features.height
    assert set(manifest["columns"]) == set(features.columns) - {"entrez_id", "symbol", "ensembl_id"}


def test_snapshot_is_small():
    total = sum(p.stat().st_size for p in Path(snapshot_dir()).iterdir())
    assert total < 15 * 1024 * 1024


@pytest.mark.shared
def test_rebuild_from_shared_is_identical(shared, tmp_path):
    from targetrank.steps.snapshot import build_snapshot

    build_snapshot(shared, tmp_path)
    for name in [
        "features.parquet",
        "genes.parquet",
        "aliases.parquet",
        "precedence_labels.parquet",
    ]:
        committed = pl.read_parquet(snapshot_dir() / name)
        rebuilt = pl.read_parquet(tmp_path / name)
        assert committed.equals(rebuilt, null_equal=True), name


@pytest.mark.shared
def test_packaged_ligand_receptor_pairs_are_what_the_builder_makes_from_liana(shared):
    from targetrank.features.partners import build_pairs, read_pairs
    from targetrank.sources.local import read_aliases, read_liana

    genes = pl.read_parquet(snapshot_dir() / "genes.parquet")
    rebuilt = build_pairs(read_liana(shared), genes, read_aliases(shared))
    packaged = read_pairs()
    assert packaged.equals(rebuilt)
    pairs = set(packaged.select("ligand", "receptor").iter_rows())
    # the review's axes are there: RANKL-RANK, PD-L1-PD-1, CXCL12-CXCR4
    assert {("TNFSF11", "TNFRSF11A"), ("CD274", "PDCD1"), ("CXCL12", "CXCR4")} <= pairs


def test_packaged_string_network_is_what_the_builder_makes_from_string(shared):
    from targetrank.features.network import MIN_SCORE, build_network, read_network
    from targetrank.sources.local import read_string

    genes = pl.read_parquet(snapshot_dir() / "genes.parquet")
    rebuilt = build_network(read_string(shared), genes)
    packaged = read_network()
    assert packaged.equals(rebuilt)
    assert packaged["combined_score"].min() >= MIN_SCORE
    edges = set(packaged.select("entrez_a", "entrez_b").iter_rows())
    ids = dict(zip(genes["symbol"], genes["entrez_id"], strict=True))

    def edge(a: str, b: str) -> tuple[int, int]:
        return (min(ids[a], ids[b]), max(ids[a], ids[b]))

    # the functional partners the bone and B-cell strategies rely on
    assert {edge("SOST", "LRP5"), edge("DKK1", "LRP6"), edge("CD19", "CD81")} <= edges


def test_tissue_tau_equals_a_plain_python_reference_bit_for_bit():
    """Tau is the C library's log1p summed column by column, not numpy's vectorised log1p.

    On AVX-512 machines numpy's log1p differs from other CPUs' in the last bit for about 8 % of
    HPA's values, so a snapshot rebuilt there no longer matched the committed one. A reference
    from ``math.log1p`` in plain Python does not take that path; tau must equal it exactly.
    """
    import math
    import random

    from targetrank.features.gene_features import (
        HPA_BLOOD_GROUPS,
        HPA_TISSUES_KEPT,
        VITAL_TISSUES,
        hpa_tissue,
    )

    rng = random.Random(7)
    tissues = sorted(set(HPA_TISSUES_KEPT + VITAL_TISSUES) | {f"tissue_{i}" for i in range(40)})
    n = 400
    values = {
        t: [
            None if rng.random() < 0.05 else round(rng.lognormvariate(1.5, 2.0), 1)
            for _ in range(n)
        ]
        for t in tissues
    }
    values[HPA_BLOOD_GROUPS[0]] = [1000.0] * n  # a blood group: never a tissue of tau
    ids = [f"ENSG{i:011d}" for i in range(n)]
    table = pl.DataFrame({"ensembl_id": ids, **values})
    genes = pl.DataFrame({"entrez_id": list(range(1, n + 1)), "ensembl_ids": [[e] for e in ids]})

    tau = hpa_tissue(genes, {"hpa_tissue": table}).sort("entrez_id")["hpa_tissue_tau"].to_list()

    expected = []
    for i in range(n):
        logs = [math.log1p(values[t][i]) for t in tissues if values[t][i] is not None]
        top = max(logs)
        total = 0.0
        for value in logs:
            total += 1 - value / top
        expected.append(None if top <= 0 or len(logs) < 2 else total / (len(logs) - 1))
    assert tau == expected
