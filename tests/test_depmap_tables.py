"""DepMap parsers: the portal listing, release choice, Model.csv layouts, wide matrices."""

from __future__ import annotations

import polars as pl
import pytest

from targetrank.errors import DataError, UpstreamError, UsageError
from targetrank.features.depmap import context_model_counts
from targetrank.sources.depmap_release import release_files, select_release
from targetrank.tables.depmap import (
    GENE_LABEL,
    depmap_releases,
    normalise_release,
    parse_listing,
    read_gene_matrix,
    read_matrix_layout,
    read_models,
    release_tag,
    select_gene_columns,
)

LISTING = "data/depmap/download_files_listing_snapshot_2026-03.csv"


@pytest.fixture(scope="module")
def real_listing(shared):
    path = shared / LISTING
    return parse_listing(path.read_bytes(), source=str(path))


# -- listing ---------------------------------------------------------------------------------


def test_real_listing_parses_every_row(shared, real_listing):
    raw = pl.read_csv(shared / LISTING, infer_schema=False)
    assert real_listing.height == raw.height == 1261
    assert real_listing.schema["release_date"] == pl.Date
    row = real_listing.filter(
        (pl.col("release") == "DepMap Public 24Q4") & (pl.col("filename") == "Model.csv")
    ).row(0, named=True)
    assert row["md5_hash"] == "675210d17675f3517b0ce39a3c274f16"


def test_latest_release_is_the_newest_release_date(real_listing):
    depmap = real_listing.filter(pl.col("release").str.starts_with("DepMap Public "))
    newest = depmap.sort("release_date").row(-1, named=True)
    chosen = select_release(real_listing)
    assert chosen == newest["release"] == "DepMap Public 25Q3"
    # later non-DepMap releases (e.g. "Biogrid 25Q3") and string order play no part
    assert chosen != real_listing.sort("release").row(-1, named=True)["release"]


def test_release_date_not_name_orders_20q4_v2():
    csv = (
        "release,release_date,filename,url,md5_hash\n"
        "DepMap Public 20Q4 v2,2020-12-18,a.csv,https://x/a,\n"
        "DepMap Public 20Q4,2020-11-15,a.csv,https://x/b,\n"
        "Biogrid 25Q3,2025-09-25,b.txt,https://x/c,\n"
    )
    listing = parse_listing(csv, source="test")
    assert select_release(listing) == "DepMap Public 20Q4 v2"
    assert depmap_releases(listing)["release"].to_list() == [
        "DepMap Public 20Q4 v2",
        "DepMap Public 20Q4",
    ]


def test_late_additions_do_not_make_an_old_release_newest():
    # 19Q4 gained files in 2020-05, after 20Q1 came out: its date is its first file's
    csv = (
        "release,release_date,filename,url,md5_hash\n"
        "DepMap Public 19Q4,2019-12-19,a.csv,https://x/a,\n"
        "DepMap Public 19Q4,2020-05-05,b.csv,https://x/b,\n"
        "DepMap Public 20Q1,2020-02-21,a.csv,https://x/c,\n"
    )
    assert select_release(parse_listing(csv, source="t")) == "DepMap Public 20Q1"


def test_listing_is_parsed_by_column_name_with_taiga_id():
    csv = (
        "md5_hash,taiga_id,filename,release,url,release_date\n"
        "0d3bdadf0c59264e39f7fbadf232ccdb,x.1,CRISPRGeneDependency.csv,DepMap Public 24Q4,"
        "https://x/d,2024-12-16\n"
    )
    row = parse_listing(csv, source="t").row(0, named=True)
    assert row["filename"] == "CRISPRGeneDependency.csv"
    assert row["md5_hash"] == "0d3bdadf0c59264e39f7fbadf232ccdb"
    assert str(row["release_date"]) == "2024-12-16"


def test_listing_that_is_not_csv_names_expected_and_found_columns():
    with pytest.raises(UpstreamError) as err:
        parse_listing(b"<html><body>Maintenance</body></html>\n", source="https://p/api")
    msg = err.value.message
    assert "md5_hash" in msg and "https://p/api" in msg and "--endpoint" in msg


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("24Q4", "DepMap Public 24Q4"),
        ("24q4", "DepMap Public 24Q4"),
        ("DepMap Public 24Q4", "DepMap Public 24Q4"),
        ("20Q4 v2", "DepMap Public 20Q4 v2"),
    ],
)
def test_release_names_normalise(given, expected):
    assert normalise_release(given) == expected


def test_release_tag_is_path_safe():
    assert release_tag("DepMap Public 20Q4 v2") == "20Q4_v2"


def test_unknown_release_lists_real_choices(real_listing):
    with pytest.raises(UsageError) as err:
        select_release(real_listing, "24Q3")
    assert "24Q4" in err.value.message and "--release" in err.value.message


def test_files_are_found_by_kind_across_layouts(real_listing):
    q4 = release_files(real_listing, "DepMap Public 24Q4")
    assert q4["gene_effect"].filename == "CRISPRGeneEffect.csv"
    assert q4["gene_effect"].md5 == "6edf7ade09b9b34199210b559d4745d3"
    assert q4["expression"].filename == "OmicsExpressionProteinCodingGenesTPMLogp1.csv"
    q3 = release_files(real_listing, "DepMap Public 25Q3")
    assert q3["expression"].filename == "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv"
    old = release_files(real_listing, "DepMap Public 21Q4")
    assert old["model"].filename == "sample_info.csv"
    assert old["gene_effect"].filename == "CRISPR_gene_effect.csv"


def test_release_without_required_files_suggests_a_complete_one(real_listing):
    with pytest.raises(DataError) as err:
        release_files(real_listing, "DepMap Public 19Q4")
    assert "gene_effect" in err.value.message
    assert "--release 25Q3" in err.value.message


# -- Model.csv and sample_info.csv -----------------------------------------------------------


def test_24q4_model_context_counts_match_the_research_note(shared):
    models = read_models(shared / "data/depmap/24Q4/Model.csv", release="DepMap Public 24Q4")
    assert models.height == 2105
    counts = context_model_counts(models)
    assert counts == {
        "all": 2105,
        "breast": 96,
        "prostate": 15,
        "lung": 260,
        "bone_site": 11,
        "myeloma": 34,
    }


def test_bone_lineage_is_not_a_context(shared):
    # OncotreeLineage == "Bone" (90 primary bone tumours) must not stand in for bone metastasis
    models = read_models(shared / "data/depmap/24Q4/Model.csv")
    assert models.filter(pl.col("OncotreeLineage") == "Bone").height == 90
    sampled_from_bone = models.filter(pl.col("SampleCollectionSite") == "bone")
    assert sampled_from_bone.height == 74  # 63 of them are primary bone tumours themselves
    assert sampled_from_bone.filter(pl.col("OncotreeLineage") == "Bone").height == 63
    assert context_model_counts(models)["bone_site"] == 74 - 63


def test_24q2_model_layout_loads(shared):
    raw = pl.read_csv(shared / "data/depmap/24Q2/Model.csv", infer_schema=False)
    assert "LegacyMolecularSubtype" in raw.columns and "ModelType" not in raw.columns
    models = read_models(shared / "data/depmap/24Q2/Model.csv", release="DepMap Public 24Q2")
    assert models.height == 1959
    counts = context_model_counts(models)
    assert (counts["breast"], counts["prostate"], counts["lung"]) == (97, 15, 254)
    assert (counts["bone_site"], counts["myeloma"]) == (10, 34)


def test_19q4_sample_info_layout_loads_with_legacy_values(shared):
    models = read_models(shared / "data/depmap/19Q4/sample_info.csv", release="DepMap Public 19Q4")
    assert models.height == 1756
    assert models["ModelID"].str.starts_with("ACH-").all()
    counts = context_model_counts(models)
    raw = pl.read_csv(shared / "data/depmap/19Q4/sample_info.csv", infer_schema=False)
    assert counts["breast"] == raw.filter(pl.col("lineage") == "breast").height > 0
    assert (
        counts["bone_site"]
        == raw.filter(
            (pl.col("sample_collection_site") == "bone") & (pl.col("lineage") != "bone")
        ).height
    )
    assert counts["myeloma"] == raw.filter(pl.col("lineage_subtype") == "multiple_myeloma").height
    assert counts["myeloma"] > 0


def test_model_table_with_missing_columns_names_file_release_and_columns(tmp_path):
    path = tmp_path / "Model.csv"
    path.write_text("ModelID,CellLineName,OncotreeLineage\nACH-000001,X,Breast\n")
    with pytest.raises(DataError) as err:
        read_models(path, release="DepMap Public 24Q4")
    msg = err.value.message
    assert str(path) in msg and "24Q4" in msg
    assert "SampleCollectionSite" in msg and "'OncotreeLineage'" in msg and "--release" in msg


# -- wide matrices ---------------------------------------------------------------------------


def _write(tmp_path, text, name="m.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_unnamed_or_named_model_column(tmp_path):
    for first in ("", "ModelID"):
        path = _write(tmp_path, f"{first},A1BG (1),SPP1 (6696)\nACH-1,0.5,\nACH-2,,-1.5\n")
        layout = read_matrix_layout(path, release="r")
        df = read_gene_matrix(layout)
        assert df.columns == ["ModelID", "A1BG (1)", "SPP1 (6696)"]
        assert df["SPP1 (6696)"].to_list() == [None, -1.5]
        assert df.schema["A1BG (1)"] == pl.Float64


def test_panel_projection_by_entrez(tmp_path):
    path = _write(tmp_path, ",A1BG (1),SPP1 (6696),TIGIT (201633)\nACH-1,1,2,3\n")
    layout = read_matrix_layout(path)
    cols = select_gene_columns(layout, entrez_ids=[201633, 1])
    assert read_gene_matrix(layout, columns=cols).columns == [
        "ModelID",
        "A1BG (1)",
        "TIGIT (201633)",
    ]


def test_profile_level_expression_keeps_default_entries(tmp_path):
    text = (
        "ProfileID,is_default_entry,IsDefaultEntryForModel,ModelID,SPP1 (6696)\n"
        "PR-1,True,Yes,ACH-1,1.0\n"
        "PR-2,False,No,ACH-1,99.0\n"
        "PR-3,True,Yes,ACH-2,2.0\n"
    )
    layout = read_matrix_layout(_write(tmp_path, text))
    assert layout.profile_level and layout.default_flag == "IsDefaultEntryForModel"
    df = read_gene_matrix(layout).sort("ModelID")
    assert df.to_dict(as_series=False) == {"ModelID": ["ACH-1", "ACH-2"], "SPP1 (6696)": [1.0, 2.0]}
    readme = text.replace("IsDefaultEntryForModel,", "").replace(",Yes,", ",").replace(",No,", ",")
    df = read_gene_matrix(read_matrix_layout(_write(tmp_path, readme, "b.csv"))).sort("ModelID")
    assert df["SPP1 (6696)"].to_list() == [1.0, 2.0]


def test_repeated_models_without_default_flag_is_an_error(tmp_path):
    path = _write(tmp_path, "ProfileID,ModelID,SPP1 (6696)\nPR-1,ACH-1,1\nPR-2,ACH-1,2\n")
    with pytest.raises(DataError) as err:
        read_gene_matrix(read_matrix_layout(path, release="DepMap Public 25Q3"))
    assert "repeated model" in err.value.message and "25Q3" in err.value.message


def test_non_numeric_value_names_the_file(tmp_path):
    path = _write(tmp_path, ",SPP1 (6696)\nACH-1,high\n")
    with pytest.raises(DataError) as err:
        read_gene_matrix(read_matrix_layout(path, release="DepMap Public 24Q4"), what="gene effect")
    assert str(path) in err.value.message and "gene effect" in err.value.message


def test_file_without_model_column_names_expected_and_found(tmp_path):
    path = _write(tmp_path, "gene,ACH-1\nSPP1,0.1\n")
    with pytest.raises(DataError) as err:
        read_matrix_layout(path, release="DepMap Public 24Q4")
    assert "'gene'" in err.value.message and "ModelID" in err.value.message


def test_real_bare_symbol_subset_loads(shared):
    path = shared / "data/depmap/24Q4/CRISPRGeneEffect_subset_20IPFgenes_thirdparty.csv"
    layout = read_matrix_layout(path)
    assert len(layout.gene_columns) == 20 and "TERT" in layout.gene_columns
    df = read_gene_matrix(layout)
    assert df.shape == (1186, 21)
    assert select_gene_columns(layout, symbols=["tert"]) == ["TERT"]


def test_synthetic_matrices_use_real_model_ids_and_header_format(shared):
    # the fake portal's matrices (SYNTHETIC values) must look like the released files
    from tests.support.depmap_fake import FakeDepMapPortal

    portal = FakeDepMapPortal(shared, n_models=50, n_genes=30)
    real = set(read_models(shared / "data/depmap/24Q4/Model.csv")["ModelID"])
    effect = portal.matrices.gene_effect
    assert effect.shape == (50, 31) and set(effect["ModelID"]) <= real
    body = portal.files[("DepMap Public 24Q4", "CRISPRGeneEffect.csv")]
    header = body.split(b"\n", 1)[0].decode().split(",")
    assert header[0] == "" and all(GENE_LABEL.match(c) for c in header[1:])
    assert "SPP1 (6696)" in header
