"""DepMap per-gene features against an independent, straightforward numpy/scipy computation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from targetrank.errors import DataError
from targetrank.features.depmap import common_essential_flags, depmap_gene_features, model_contexts
from targetrank.features.depmap_columns import (
    CONTEXT_NAMES,
    DEPMAP_CONTEXTS,
    DEPMAP_FEATURE_COLUMNS,
    DEPMAP_OUTPUT_SCHEMA,
)
from targetrank.resolver import GeneIndex
from targetrank.sources.local import read_depmap_gene_list
from targetrank.tables.depmap import read_gene_matrix, read_matrix_layout, read_models
from tests.support.depmap_fake import (
    SEED_PANEL,
    pick_genes,
    pick_models,
    synthetic_matrices,
    synthetic_models,
)


@pytest.fixture(scope="module")
def genes():
    return GeneIndex.load().genes


@pytest.fixture(scope="module")
def case():
    """SYNTHETIC matrices on a SYNTHETIC model table (no ../shared needed)."""
    models = synthetic_models(160, seed=3)
    ids = pick_models(models, 90, seed=3)
    labels, ess = pick_genes(60, seed=3, include=SEED_PANEL.items(), essentials=5)
    m = synthetic_matrices(ids, labels, essentials=ess, n_selective=4, missing=0.05, seed=3)
    return models, m


# -- the independent reference ---------------------------------------------------------------


def _reference(models, ge, dep, expr):
    """Per gene, per context, with plain loops: what a careful analyst would write."""
    ctx = model_contexts(models)
    member = {c: set(ctx.filter(pl.col(c))["ModelID"]) for c in CONTEXT_NAMES}
    out = {}
    for col in ge.columns[1:]:
        x = ge[col].to_numpy().astype(float)
        d = dep[col].to_numpy().astype(float)
        e = expr[col].to_numpy().astype(float)
        rows = {}
        for name in (None, *CONTEXT_NAMES):
            keep = np.array([name is None or m in member[name] for m in ge["ModelID"]], dtype=bool)
            xv = x[keep & ~np.isnan(x)]
            dv = d[keep & ~np.isnan(d)]
            ev = e[np.array([name is not None and m in member[name] for m in expr["ModelID"]])]
            ev = ev[~np.isnan(ev)]
            rows[name] = {
                "mean": float(np.mean(xv)) if xv.size else None,
                "n": int(xv.size),
                "frac": float(np.mean(dv > 0.5)) if dv.size else None,
                "expr": float(np.mean(ev)) if ev.size else None,
            }
        xv = x[~np.isnan(x)]
        if xv.size >= 4:
            sk = stats.skew(xv, bias=False) * stats.kurtosis(xv, fisher=True, bias=False)
            n_dep = int(np.sum(d[~np.isnan(d)] > 0.5))
            rows["selective"] = bool(sk < -0.86 and n_dep >= 1)
        else:
            rows["selective"] = None
        out[col] = rows
    return out


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_features_match_the_reference_including_missing_values(case, genes):
    models, m = case
    got = depmap_gene_features(
        m.gene_effect, models, dependency=m.dependency, expression=m.expression, genes=genes
    )
    ref = _reference(models, m.gene_effect, m.dependency, m.expression)
    assert got.height == len(ref) == 60
    assert m.gene_effect.null_count().sum_horizontal().item() > 0  # missing values exercised
    by_label = {f"{r['symbol']} ({r['entrez_id']})": r for r in got.iter_rows(named=True)}
    n_checked = 0
    for label, r in ref.items():
        row = by_label[label]
        for name in (None, *CONTEXT_NAMES):
            sfx = "" if name is None else f"_{name}"
            assert _close(row[f"depmap_mean_effect{sfx}"], r[name]["mean"]), (label, name)
            assert _close(row[f"depmap_frac_dependent{sfx}"], r[name]["frac"]), (label, name)
            assert row[f"depmap_n_models{sfx}"] == r[name]["n"], (label, name)
            if name is not None:
                assert _close(row[f"depmap_mean_expression{sfx}"], r[name]["expr"]), label
            n_checked += 1
        assert row["depmap_strongly_selective"] == r["selective"], label
    assert n_checked == 60 * 6


def test_selectivity_rule_finds_the_selective_genes(case, genes):
    models, m = case
    got = depmap_gene_features(m.gene_effect, models, dependency=m.dependency, genes=genes)
    flagged = set(got.filter(pl.col("depmap_strongly_selective"))["entrez_id"].to_list())
    assert {e for _, e in m.selective} <= flagged
    assert not flagged & {e for _, e in m.essentials}


def test_all_missing_gene_gives_nulls_not_zeros(case, genes):
    models, m = case
    got = depmap_gene_features(m.gene_effect, models, dependency=m.dependency, genes=genes)
    empty = [c for c in m.gene_effect.columns[1:] if m.gene_effect[c].null_count() == 90]
    assert len(empty) == 1
    symbol = empty[0].split(" (")[0]
    row = got.filter(pl.col("symbol") == symbol).row(0, named=True)
    assert row["depmap_mean_effect"] is None and row["depmap_mean_effect_lung"] is None
    assert row["depmap_frac_dependent"] is None
    assert row["depmap_strongly_selective"] is None
    assert row["depmap_n_models"] == 0  # screened, but no model has a value


def test_output_has_exactly_the_feature_slots(case, genes):
    models, m = case
    got = depmap_gene_features(m.gene_effect, models, genes=genes)
    assert dict(got.schema) == DEPMAP_OUTPUT_SCHEMA
    assert list(DEPMAP_CONTEXTS) == ["breast", "prostate", "lung", "bone_site", "myeloma"]
    for ctx in CONTEXT_NAMES:
        for stem in ("mean_effect", "frac_dependent", "mean_expression", "n_models"):
            assert f"depmap_{stem}_{ctx}" in DEPMAP_FEATURE_COLUMNS
    # without dependency, expression and the CE list, their columns are null, never 0/False
    assert got["depmap_frac_dependent"].null_count() == got.height
    assert got["depmap_mean_expression_breast"].null_count() == got.height
    assert got["depmap_common_essential"].null_count() == got.height
    assert got["ensembl_id"].drop_nulls().str.starts_with("ENSG").all()
    spp1 = got.filter(pl.col("symbol") == "SPP1").row(0, named=True)
    assert spp1["ensembl_id"] == "ENSG00000118785"


def test_without_dependency_selectivity_is_only_decided_when_false(case):
    models, m = case
    full = depmap_gene_features(m.gene_effect, models, dependency=m.dependency)
    bare = depmap_gene_features(m.gene_effect, models)
    joined = full.join(bare, on="entrez_id", suffix="_bare")
    assert joined.filter(pl.col("depmap_strongly_selective_bare")).height == 0
    false_bare = joined.filter(pl.col("depmap_strongly_selective_bare") == False)  # noqa: E712
    assert not false_bare["depmap_strongly_selective"].any()


def test_moments_follow_pandas_conventions():
    models = pl.DataFrame({"ModelID": [f"M{i}" for i in range(6)]})
    ge = pl.DataFrame(
        {
            "ModelID": [f"M{i}" for i in range(6)],
            "FLAT (1)": [-0.5] * 6,  # zero variance: pandas gives skew = kurt = 0
            "FEW (2)": [-3.0, 0.0, 0.1, None, None, None],  # n < 4: kurtosis undefined
        }
    )
    dep = ge.with_columns(pl.lit(0.9).alias("FLAT (1)"), pl.lit(0.9).alias("FEW (2)"))
    got = depmap_gene_features(ge, models, dependency=dep)
    assert got["depmap_strongly_selective"].to_list() == [False, None]
    assert got["depmap_n_models"].to_list() == [6, 3]


def test_targets_give_one_row_each_in_order_with_nulls_when_unscreened(case, genes):
    models, m = case
    targets = pl.DataFrame(
        {"entrez_id": [8600, 5133, 201633], "symbol": ["TNFSF11", "PDCD1", "TIGIT"]}
    )
    got = depmap_gene_features(m.gene_effect, models, dependency=m.dependency, targets=targets)
    assert got["symbol"].to_list() == ["TNFSF11", "PDCD1", "TIGIT"]
    pdcd1 = got.row(1, named=True)
    assert pdcd1["depmap_mean_effect"] is None and pdcd1["depmap_n_models"] is None
    assert got.row(0, named=True)["depmap_n_models"] > 0


def test_dependency_out_of_range_is_caught(case):
    models, m = case
    with pytest.raises(DataError) as err:
        depmap_gene_features(m.gene_effect, models, dependency=m.gene_effect.fill_null(-2.0))
    assert "CRISPRGeneDependency" in err.value.message


def test_models_outside_model_table_count_overall_only():
    models = pl.DataFrame({"ModelID": ["A"], "OncotreeLineage": ["Breast"]})
    ge = pl.DataFrame({"ModelID": ["A", "B"], "SPP1 (6696)": [-1.0, 1.0]})
    row = depmap_gene_features(ge, models).row(0, named=True)
    assert row["depmap_n_models"] == 2 and row["depmap_n_models_breast"] == 1
    assert row["depmap_mean_effect_breast"] == -1.0 and row["depmap_mean_effect"] == 0.0
    assert row["depmap_mean_effect_lung"] is None and row["depmap_n_models_lung"] == 0


# -- common essentials -----------------------------------------------------------------------


def test_common_essentials_from_real_24q2_list(shared, genes):
    ce = read_depmap_gene_list(shared / "data/depmap/24Q2/CRISPRInferredCommonEssentials.csv")
    assert ce.height == 2023 and ce["entrez_id"].null_count() == 0
    listed = common_essential_flags(ce, ce.select("entrez_id", "symbol"))
    assert listed["depmap_common_essential"].all()
    panel = pl.DataFrame({"symbol": list(SEED_PANEL), "entrez_id": list(SEED_PANEL.values())})
    assert not common_essential_flags(ce, panel)["depmap_common_essential"].any()
    # offline over the whole gene index: no matrices needed
    flags = common_essential_flags(ce, genes.select("entrez_id", "symbol", "ensembl_id"))
    assert flags.height == genes.height
    assert 1900 < flags["depmap_common_essential"].sum() <= 2023


def test_common_essential_flags_in_features(shared):
    ce = read_depmap_gene_list(shared / "data/depmap/24Q2/CRISPRInferredCommonEssentials.csv")
    picked = list(zip(ce["symbol"].head(3), ce["entrez_id"].head(3), strict=True))
    models = synthetic_models(40)
    m = synthetic_matrices(models["ModelID"].to_list(), [*SEED_PANEL.items(), *picked])
    got = depmap_gene_features(m.gene_effect, models, common_essentials=ce)
    flags = dict(zip(got["symbol"], got["depmap_common_essential"], strict=True))
    assert [flags[s] for s in SEED_PANEL] == [False] * 4
    assert [flags[s] for s, _ in picked] == [True] * 3


def test_common_essential_by_symbol_when_entrez_is_missing():
    ce = pl.DataFrame({"symbol": ["POLR2A"], "entrez_id": [5430]})
    genes = pl.DataFrame({"symbol": ["polr2a", "SPP1"], "entrez_id": [None, 6696]})
    assert common_essential_flags(ce, genes)["depmap_common_essential"].to_list() == [True, False]


# -- real values (third-party 20-gene extract with bare-symbol header) -------------------------


def test_real_subset_with_bare_symbols_maps_to_entrez_and_matches_reference(shared, genes):
    path = shared / "data/depmap/24Q4/CRISPRGeneEffect_subset_20IPFgenes_thirdparty.csv"
    ge = read_gene_matrix(read_matrix_layout(path))
    models = read_models(shared / "data/depmap/24Q4/Model.csv")
    got = depmap_gene_features(ge, models, genes=genes)
    tert = got.filter(pl.col("symbol") == "TERT").row(0, named=True)
    assert tert["entrez_id"] == 7015 and tert["ensembl_id"] == "ENSG00000164362"
    x = ge["TERT"].drop_nulls().to_numpy()
    assert math.isclose(tert["depmap_mean_effect"], float(np.mean(x)), rel_tol=1e-12)
    # the real extract's support per context (screened models with Model.csv metadata)
    assert tert["depmap_n_models_breast"] == 53
    assert tert["depmap_n_models_prostate"] == 10
    assert tert["depmap_n_models_lung"] == 126
    assert tert["depmap_n_models_myeloma"] == 19
    sparse = got.filter(pl.col("depmap_n_models") < 100)
    assert sparse.height == 1 and sparse["depmap_mean_effect"].null_count() == 0
