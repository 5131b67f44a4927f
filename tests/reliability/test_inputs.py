"""Bad and awkward inputs to `targetrank rank` / `rerun`: what people paste from slides.

Each refused input is exit 2 (usage), 3 (resolution) or 4 (data) with one line naming the input
and the fix, before anything is computed or written. Each awkward-but-valid input (BOM, CRLF,
comments, duplicates, 10,000 names) ranks exactly the targets the user meant, under the names
they wrote. Nothing is ever substituted or dropped silently. The fast weighted scorer keeps
these end-to-end runs short.
"""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
from reliability_checks import assert_failed, assert_succeeded, debris

from targetrank.cli import main


def rank(runner, tmp_path, *args, out="run"):
    target = tmp_path / out
    result = runner.invoke(
        main, ["rank", "--scorer", "weighted", "--strategy", "bone_resident", "--out",
               str(target), "--quiet", *args],
    )  # fmt: skip
    return result, target


def refused(result, out, code, *needles):
    line = assert_failed(result, code, *needles)
    assert not out.exists() and debris(out.parent) == []
    return line


# ------------------------------------------------------------------ target lists
@pytest.mark.parametrize("value", ["", " ", ",,;"], ids=["empty", "blank", "separators"])
def test_empty_targets_value_is_refused_not_replaced_by_the_default_panel(runner, tmp_path, value):
    result, out = rank(runner, tmp_path, "--targets", value)
    refused(result, out, 2, "--targets was given but lists no targets", "unset shell variable")


def test_targets_file_with_only_comments_bom_and_blank_lines_is_refused(runner, tmp_path):
    path = tmp_path / "panel.txt"
    path.write_bytes(b"\xef\xbb\xbf# exported from slide 3\r\n\r\n   \r\ntarget\r\n# none yet\r\n")
    result, out = rank(runner, tmp_path, "--targets-file", str(path))
    refused(result, out, 2, "The targets file lists no targets", str(path), "one target per line")


def test_missing_targets_file_is_refused(runner, tmp_path):
    result, out = rank(runner, tmp_path, "--targets-file", str(tmp_path / "nope.txt"))
    refused(result, out, 2, "Cannot read the targets file", "nope.txt", "--targets-file")


def test_a_spreadsheet_saved_as_targets_file_is_refused_as_not_text(runner, tmp_path):
    path = tmp_path / "panel.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00\x00")
    result, out = rank(runner, tmp_path, "--targets-file", str(path))
    refused(result, out, 4, "not UTF-8 text", "panel.xlsx", "save it as UTF-8 text or CSV")


def test_only_unknown_targets_exit_3_with_suggestions(runner, tmp_path):
    result, out = rank(runner, tmp_path, "--targets", "TIGTI,DKK9X")
    line = refused(result, out, 3, "Could not resolve 2 of 2", "'TIGTI' is unknown", "'DKK9X'")
    assert "did you mean" in line and "TIGIT" in line and "--skip-unresolved" in line


def test_only_unknown_targets_with_skip_unresolved_is_still_refused(runner, tmp_path):
    result, out = rank(runner, tmp_path, "--targets", "TIGTI,DKK9X", "--skip-unresolved")
    refused(result, out, 2, "None of the given targets resolved", "TIGTI", "targetrank resolve")


def test_ambiguous_alias_lists_the_candidates_and_picks_none(runner, tmp_path):
    result, out = rank(runner, tmp_path, "--targets", "TIGIT,CD16")
    line = refused(result, out, 3, "Could not resolve 1 of 2", "'CD16' is ambiguous")
    assert "FCGR3A" in line and "FCGR3B" in line


def test_mouse_gene_is_reported_with_human_proxies_never_substituted(runner, tmp_path):
    result, out = rank(runner, tmp_path, "--targets", "TIGIT,CHI3L3")
    refused(result, out, 3, "'CHI3L3' is non_human", "CHI3L1, CHI3L2", "not substituted")
    result, out = rank(runner, tmp_path, "--targets", "TIGIT,CHI3L3", "--skip-unresolved")
    assert_succeeded(result)
    ranked = pl.read_csv(out / "ranking.csv")["symbol"].to_list()
    assert ranked == ["TIGIT"]  # no proxy slipped in


def test_ten_thousand_targets_from_a_file(runner, tmp_path):
    from targetrank.resolver import GeneIndex

    genes = GeneIndex.load().genes.sort("entrez_id").head(10_000)
    path = tmp_path / "big.txt"
    path.write_text("symbol\n" + "\n".join(genes["symbol"].to_list()) + "\n")
    result, out = rank(runner, tmp_path, "--targets-file", str(path), "--top", "3")
    assert_succeeded(result)
    table = pl.read_csv(out / "ranking.csv", infer_schema=False)
    assert table.height == 10_000
    assert set(table["symbol"]) == set(genes["symbol"])
    assert table["rank"].cast(pl.Int64).sort().to_list() == list(range(1, 10_001))


def test_targets_file_with_bom_crlf_comments_tabs_quotes_and_a_header(runner, tmp_path):
    path = tmp_path / "slide.csv"
    text = (
        '\ufeffgene\r\n# seed panel, from the review\r\n\r\n"TIGIT"\r\n  DKK1 \t OPN  \r\n'
        "RANKL # a.k.a. TNFSF11\r\n\r\n'PD-1'\r\n"
    )
    path.write_bytes(text.encode("utf-8"))
    result, out = rank(runner, tmp_path, "--targets-file", str(path))
    assert_succeeded(result)
    table = pl.read_csv(out / "ranking.csv")
    queries = dict(zip(table["symbol"], table["query"], strict=True))
    assert queries == {
        "TIGIT": "TIGIT", "DKK1": "DKK1", "SPP1": "OPN", "TNFSF11": "RANKL", "PDCD1": "PD-1",
    }  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["targets"] == ["TIGIT", "DKK1", "OPN", "RANKL", "PD-1"]


def test_duplicate_targets_in_any_spelling_are_ranked_once_under_the_first_name(runner, tmp_path):
    result, out = rank(
        runner, tmp_path, "--targets", "TIGIT,tigit,ENSG00000181847.11,201633,OPN,SPP1,DKK1"
    )
    assert_succeeded(result)
    table = pl.read_csv(out / "ranking.csv")
    assert table["symbol"].to_list().count("TIGIT") == 1
    assert sorted(table["symbol"]) == ["DKK1", "SPP1", "TIGIT"]
    assert dict(zip(table["symbol"], table["query"], strict=True))["SPP1"] == "OPN"


def test_a_target_missing_from_a_feature_folder_is_named_not_dropped(runner, tmp_path):
    from targetrank.paths import snapshot_dir

    folder = tmp_path / "features"
    shutil.copytree(snapshot_dir(), folder)
    table = pl.read_parquet(folder / "features.parquet")
    table.filter(pl.col("symbol") != "DKK1").write_parquet(folder / "features.parquet")
    result, out = rank(runner, tmp_path, "--features", str(folder), "--targets", "TIGIT,DKK1")
    refused(result, out, 4, "1 target(s) are not in the feature table: DKK1", "--skip-unresolved")
    result, out = rank(
        runner, tmp_path, "--features", str(folder), "--targets", "TIGIT,DKK1", "--skip-unresolved"
    )
    assert_succeeded(result)
    assert pl.read_csv(out / "ranking.csv")["symbol"].to_list() == ["TIGIT"]


def test_open_targets_bulk_folder_without_any_of_the_targets_is_an_error(runner, tmp_path):
    """GAPDH resolves offline but is not in the (synthetic) bulk release: an all-null feature
    table would change a merged ranking silently, so nothing is written."""
    from support.ot_synthetic import make_platform, write_bulk

    bulk = write_bulk(make_platform(), tmp_path / "bulk" / "26.06" / "output")
    out = tmp_path / "ot"
    result = runner.invoke(
        main, ["fetch", "opentargets", "--targets", "GAPDH", "--bulk", str(bulk), "--out", str(out)]
    )
    refused(result, out, 4, "returned none of the 1 requested target(s)", "ENSG00000111640")


# ------------------------------------------------------------------ strategies and weights
def test_unknown_strategy_lists_the_valid_ids(runner, tmp_path):
    result, out = rank(runner, tmp_path, "--strategy", "bone_magic")
    refused(
        result, out, 2, "Unknown strategy 'bone_magic'", "immune_subset", "targetrank strategies"
    )


@pytest.mark.parametrize(
    ("value", "needle"),
    [("1.5", "weight 1.5 is outside [0, 1]"), ("-0.1", "weight -0.1 is outside [0, 1]"),
     ("nan", "weight nan is outside [0, 1]"), ("inf", "weight inf is outside [0, 1]"),
     ('"high"', "weight 'high' is not a number")],
    ids=["above-1", "negative", "nan", "inf", "text"],
)  # fmt: skip
def test_weights_outside_0_1_are_refused_naming_file_and_entry(runner, tmp_path, value, needle):
    path = tmp_path / "w.toml"
    path.write_text(f"[bone_resident]\nsc_marker = {value}\n")
    result, out = rank(runner, tmp_path, "--weights", str(path))
    refused(result, out, 2, "Invalid weights file", needle, str(path), "sc_marker")


def test_weights_that_zero_a_whole_strategy_are_refused(runner, tmp_path):
    from targetrank.strategy_file import load_strategies

    features = load_strategies().get("bone_resident").weight_map()
    path = tmp_path / "w.toml"
    path.write_text("[bone_resident]\n" + "".join(f"{f} = 0\n" for f in features))
    result, out = rank(runner, tmp_path, "--weights", str(path))
    refused(result, out, 2, "no weight above 0", "bone_resident")


@pytest.mark.parametrize(
    ("name", "content", "needles"),
    [
        ("w.toml", b"[bone_resident\nsc_marker = 0.5\n", ("not valid TOML/JSON", "line 1")),
        ("w.json", b'{"bone_resident": {"sc_marker": 0.5,}}', ("not valid TOML/JSON",)),
        ("w.json", b"[0.5, 0.2]", ("holds a list, not a table",)),
        ("w.toml", b"bone_resident = 0.5\n", ("must be a table of feature = weight",)),
        ("w.toml", b"[bone_residnet]\nsc_marker = 0.5\n", ("unknown strategy 'bone_residnet'",)),
        ("w.toml", b"[bone_resident]\nsc_markr = 0.5\n", ("did you mean sc_marker",)),
        ("w.toml", "[bone_resident]\n# caf\xe9\n".encode("latin-1"), ("not UTF-8 text",)),
    ],
    ids=["toml-syntax", "json-syntax", "json-list", "scalar", "strategy-typo", "feature-typo",
         "latin-1"],
)  # fmt: skip
def test_malformed_weights_files_are_refused(runner, tmp_path, name, content, needles):
    path = tmp_path / name
    path.write_bytes(content)
    result, out = rank(runner, tmp_path, "--weights", str(path))
    refused(result, out, 2, str(path), *needles)


MINIMAL = """seed_panel = ["TIGIT"]
[[strategy]]
id = "bone_resident"
title = "Bone"
description = "Bone cells"
compartments = []
modalities = ["antibody"]
[strategy.weights]
sc_marker = 0.5
"""


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("[strategy.weights]\nsc_marker = 0.5", "weights = [0.5]", "'weights' must be a table"),
        ('description = "Bone cells"', "description = 3", "'description' must be a non-empty"),
        ('modalities = ["antibody"]', 'modalities = "antibody"', "'modalities' must be a list"),
        ('id = "bone_resident"', "id = 7", "'id' must be a non-empty text"),
        ('seed_panel = ["TIGIT"]', 'seed_panel = "TIGIT"', "'seed_panel' must be a list"),
        ('seed_panel = ["TIGIT"]', "", "no seed_panel"),
        ('modalities = ["antibody"]', 'modalities = ["laser"]', "unknown modality 'laser'"),
    ],
    ids=["weights-list", "description-number", "modalities-string", "id-number", "seed-string",
         "no-seed-panel", "unknown-modality"],
)  # fmt: skip
def test_malformed_strategy_files_are_refused(runner, tmp_path, old, new, needle):
    assert old in MINIMAL
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL.replace(old, new))
    result, out = rank(runner, tmp_path, "--strategies", str(path))
    refused(result, out, 2, "Invalid strategy file", needle, str(path))


def test_a_strategy_file_saved_with_a_bom_by_a_windows_editor_is_read(runner, tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.replace("\n", "\r\n").encode())
    result, out = rank(runner, tmp_path, "--strategies", str(path), "--targets", "TIGIT,DKK1")
    assert_succeeded(result)
    assert pl.read_csv(out / "ranking.csv").height == 2


# ------------------------------------------------------------------ feature folders
def test_features_folder_missing_a_column_exits_4_naming_it(runner, tmp_path):
    from targetrank.paths import snapshot_dir

    folder = tmp_path / "features"
    shutil.copytree(snapshot_dir(), folder)
    table = pl.read_parquet(folder / "features.parquet")
    table.drop("gnomad_pli").write_parquet(folder / "features.parquet")
    result, out = rank(runner, tmp_path, "--features", str(folder), "--targets", "TIGIT")
    refused(result, out, 4, "lacks required column(s) gnomad_pli", "features.parquet",
            "targetrank features merge")  # fmt: skip


def test_features_folder_with_a_corrupt_parquet_exits_4(runner, tmp_path):
    from targetrank.paths import snapshot_dir

    folder = tmp_path / "features"
    shutil.copytree(snapshot_dir(), folder)
    data = (folder / "features.parquet").read_bytes()
    (folder / "features.parquet").write_bytes(data[: len(data) // 3])  # an interrupted copy
    result, out = rank(runner, tmp_path, "--features", str(folder), "--targets", "TIGIT")
    refused(result, out, 4, "Feature table cannot be read", "not a valid parquet file")


# ------------------------------------------------------------------ rerun manifests
@pytest.fixture(scope="module")
def weighted_run(tmp_path_factory):
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("rerun") / "run"
    result = CliRunner().invoke(
        main, ["rank", "--scorer", "weighted", "--targets", "TIGIT,DKK1", "--out", str(out)]
    )
    assert_succeeded(result)
    return out


def test_rerun_of_a_manifest_from_a_newer_version_is_refused(runner, weighted_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(weighted_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["targetrank_version"] = "99.1.0"
    (run / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(
        main, ["rerun", str(run / "manifest.json"), "--out", str(tmp_path / "r")]
    )
    assert_failed(result, 4, "made by a newer targetrank (99.1.0)", "nothing was rerun",
                  "pip install 'targetrank>=99.1.0'")  # fmt: skip
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b'{"targetrank_version": "0.1.0", "seed": ', "Cannot read the run manifest"),
     (b'{"seed": 0}', "Not a targetrank run manifest"),
     (b"[1, 2, 3]", "Not a targetrank run manifest")],
    ids=["truncated", "foreign-json", "json-list"],
)  # fmt: skip
def test_rerun_of_a_broken_manifest_is_refused(runner, tmp_path, content, needle):
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    result = runner.invoke(main, ["rerun", str(path)])
    assert_failed(result, 4, needle, str(path))


def test_rerun_of_an_intact_weighted_run_is_identical(runner, weighted_run):
    result = runner.invoke(main, ["rerun", str(weighted_run / "manifest.json")])
    assert_succeeded(result)
    assert "identical" in result.stdout
