"""`targetrank rank` and friends: the run folder, every option, every exit code."""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from targetrank.cli import main
from targetrank.export import STORED_DRIVERS, _write_explanations
from targetrank.strategy_file import load_strategies
from tests.support.stamps import assert_stamped

SEED = {"TIGIT": "TIGIT", "DKK1": "DKK1", "SPP1": "OPN", "TNFSF11": "RANKL"}
STRATEGIES = [
    "immune_subset",
    "checkpoint_combination",
    "bone_resident",
    "bone_targeted_delivery",
    "engineered_cell_therapy",
]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, session_model_cache):
    """README command 1: the default LightGBM run (plus xlsx), cold: it trains in a cache of its
    own, whatever ran before, then hands its models to the session cache for later tests."""
    import shutil

    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("runs")
    out, cache = root / "default", root / "cache"
    args = ["rank", "--out", str(out), "--format", "csv,xlsx", "--cache-dir", str(cache)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    shutil.copytree(cache / "models", session_model_cache / "models", dirs_exist_ok=True)
    return out, result


def test_default_run_writes_every_file(default_run):
    out, _ = default_run
    names = {p.name for p in out.iterdir()}
    assert {
        "ranking.csv",
        "matrix.csv",
        "manifest.json",
        "model_card.md",
        "model_card.json",
        "heatmap.png",
        "ranking.xlsx",
        "explanations.parquet",
    } <= names
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_default_run_writes_the_report_and_names_it(default_run):
    out, result = default_run
    report = out / "report.html"
    assert f"Report: {report}" in result.stdout
    page = report.read_text("utf-8")
    rows = pl.read_csv(out / "ranking.csv")
    assert page.count('<tr data-i="') == rows.height  # every target of the default run is shown
    assert "ROC-AUC" in page and "NDCG@10" in page and "recall@100" in page
    refused = json.loads((out / "model_card.json").read_text("utf-8"))["features"]["refused"]
    assert refused and all(name in page for name in refused)  # what the leakage guard refused


def test_seed_panel_in_every_strategy_with_original_names(default_run):
    out, _ = default_run
    rows = list(csv.DictReader(io.StringIO((out / "ranking.csv").read_text("utf-8"))))
    assert list(rows[0]) == [
        "strategy", "rank", "symbol", "ensembl_id", "score", "rank_low", "rank_high",
        "p_top10", "evidence_stage", "failed_phase3", "top_drivers", "citations", "query",
        "genome_rank", "gate",
    ]  # fmt: skip
    for strategy in STRATEGIES:
        got = {r["symbol"]: r["query"] for r in rows if r["strategy"] == strategy}
        for symbol, query in SEED.items():
            assert got[symbol] == query, (strategy, symbol)
    for r in rows:
        assert int(r["rank_low"]) <= int(r["rank_high"])
        assert 0.0 <= float(r["p_top10"]) <= 1.0
        assert "[object" not in r["top_drivers"] and "{" not in r["top_drivers"]


def test_stdout_shows_top_tables_and_folder(default_run):
    out, result = default_run
    for strategy in STRATEGIES:
        assert f"{strategy} (top 10)" in result.stdout
    assert f"Run folder: {out}" in result.stdout


def test_matrix_is_targets_by_strategies(default_run):
    out, _ = default_run
    matrix = pl.read_csv(out / "matrix.csv")
    assert matrix.columns == ["symbol", "query", *STRATEGIES]
    assert matrix["symbol"].is_unique().all()


def test_manifest_records_everything_needed_to_reproduce(default_run):
    out, _ = default_run
    m = json.loads((out / "manifest.json").read_text())
    for key in ["targetrank_version", "command", "seed", "scorer", "weights", "feature_source",
                "data_releases", "input_hash", "created_utc", "files"]:  # fmt: skip
        assert key in m, key
    assert_stamped(m)
    assert m["data_releases"]["ncbi_genes"] == "NCBI Gene 2022-09-12"
    assert m["scorer"] == "lightgbm" and m["seed"] == 0


def test_model_card(default_run):
    out, _ = default_run
    card = json.loads((out / "model_card.json").read_text())
    assert card["level1_prior"]["metrics"]["model"]["roc_auc"] > 0.8
    assert "ot_max_clinical_stage" in card["features"]["refused"]
    assert card["evaluation"]["mean_ndcg10"]
    text = (out / "model_card.md").read_text()
    assert "Level 1" in text and "Level 2" in text and "NDCG@10" in text
    # the strategies with trees of their own, as the packaged strategy file sets them
    own = {s.id: s.own_trees for s in load_strategies() if s.own_trees}
    assert own and card["level2_ranker"]["own_trees"] == own
    level2 = text.split("## Level 2")[1].splitlines()
    for sid, trees in own.items():
        row = next(line for line in level2 if line.startswith(f"| {sid} |"))
        assert row.endswith(f"| {trees} |")


def test_xlsx_opens_with_one_sheet_per_strategy(default_run):
    out, _ = default_run
    import fastexcel

    book = fastexcel.read_excel(out / "ranking.xlsx")
    assert book.sheet_names == ["README", *STRATEGIES]
    sheet = pl.read_excel(out / "ranking.xlsx", sheet_name="bone_resident")
    ranking = pl.read_csv(out / "ranking.csv").filter(pl.col("strategy") == "bone_resident")
    assert sheet["symbol"].to_list() == ranking["symbol"].to_list()
    readme = pl.read_excel(out / "ranking.xlsx", sheet_name="README")
    assert "targetrank_version" in readme["key"].to_list()


def test_heatmap_is_a_slide_sized_png(default_run):
    out, _ = default_run
    assert png_size(out / "heatmap.png") == (2000, 1125)


def test_rerun_reproduces_identical_ranks(default_run, runner):
    """From the model cache, as a user's rerun is (retraining reproducibility: test_model.py's
    same-seed test and test_model_cache.py's --no-cache byte comparison)."""
    out, _ = default_run
    result = runner.invoke(main, ["rerun", str(out / "manifest.json")])
    assert result.exit_code == 0, result.output
    assert "identical" in result.stdout


def test_rank_from_the_model_cache_is_byte_identical(default_run, runner, tmp_path):
    out, _ = default_run
    assert json.loads((out / "manifest.json").read_text())["model_cache"]["used"] is False
    warm = tmp_path / "warm"
    result = runner.invoke(main, ["rank", "--out", str(warm), "--format", "csv,xlsx"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((warm / "manifest.json").read_text())
    assert manifest["model_cache"]["used"] is True
    for name in ("ranking.csv", "matrix.csv", "model_card.json", "explanations.parquet"):
        assert (warm / name).read_bytes() == (out / name).read_bytes(), name


def test_explain_reads_a_run_folder(default_run, runner):
    out, _ = default_run
    result = runner.invoke(
        main, ["explain", "OPN", "--strategy", "bone_resident", "--run", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "SPP1 in bone_resident" in result.stdout
    assert "pushes up" in result.stdout and "evidence card" in result.stdout
    assert "ASK8007" in result.stdout


def test_explain_books_a_switched_off_network_share_under_the_strategy(default_run, runner):
    # TIGIT has STRING partners; its share is null in checkpoint_combination only because that
    # strategy's file does not read the network: the card must not say TIGIT ranks for its
    # STRING neighbours (0.7.0 listed them at +0.27) nor call the share missing data
    out, _ = default_run
    args = ["explain", "TIGIT", "--strategy", "checkpoint_combination"]
    from_run = runner.invoke(main, [*args, "--run", str(out)])
    live = runner.invoke(main, args)
    assert from_run.exit_code == 0 and live.exit_code == 0, from_run.output + live.output
    assert from_run.stdout == live.stdout  # one card, whether read from the run or recomputed
    every = runner.invoke(main, [*args, "--n", "300"])  # every feature with a contribution
    assert every.exit_code == 0, every.output
    assert "+ strategy is checkpoint_combination = True" in every.stdout
    assert "(STRING)" not in every.stdout
    bone = runner.invoke(main, ["explain", "SOST", "--strategy", "bone_resident", "--n", "30"])
    assert bone.exit_code == 0, bone.output
    # bone_resident reads the network: there the share is SOST's own driver
    line = next(x for x in bone.stdout.splitlines() if "(STRING)" in x)
    assert "not used in this strategy" not in line


def test_draws_and_refits_are_recorded_and_rerun_uses_them(runner, tmp_path):
    # a user who steadies the list with more background draws must get the same list back from
    # `rerun`, not the default ranker's
    out = tmp_path / "run"
    args = ["rank", "--targets", "TIGIT,DKK1", "--draws", "1", "--refits", "0", "--quiet"]
    result = runner.invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scorer"] == "lightgbm"
    assert manifest["scorer_options"] == {"n_repeats": 1, "n_refits": 0}
    again = runner.invoke(main, ["rerun", str(out / "manifest.json")])
    assert again.exit_code == 0, again.output
    assert "identical" in again.stdout
    # the same run without its recorded settings is the default ranker: not the same scores
    del manifest["scorer_options"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(manifest))
    shutil.copy(out / "ranking.csv", tmp_path / "ranking.csv")
    differs = runner.invoke(main, ["rerun", str(edited)])
    assert differs.exit_code == 4, differs.output  # a run that does not reproduce is a data error
    assert "score(s) differ" in differs.output
    assert "input_hash" in differs.output  # the settings are part of the recorded inputs


def test_draws_with_a_run_folder_is_a_usage_error(runner, tmp_path):
    # the stored explanation comes from the run's own ranker: a --draws that silently did
    # nothing would mislead
    result = runner.invoke(
        main, ["explain", "TIGIT", "--strategy", "checkpoint_combination", "--run",
               str(tmp_path), "--draws", "6"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--draws has no effect with --run" in result.output


def test_draws_with_a_scorer_it_does_not_tune_is_a_usage_error(runner, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        main, ["rank", "--scorer", "weighted", "--draws", "6", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 2
    assert "LightGBM" in result.output and "--scorer lightgbm" in result.output
    assert not out.exists()  # nothing computed, nothing written


# ----------------------------------------------------------------- options (fast scorer)
def run(runner, tmp_path, *args):
    out = tmp_path / "run"
    result = runner.invoke(main, ["rank", "--scorer", "weighted", "--out", str(out), *args])
    return result, out


def test_targets_option_keeps_user_names(runner, tmp_path):
    result, out = run(runner, tmp_path, "--targets", "TIGIT,OPN", "--targets", "PD-1")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "ranking.csv")
    assert set(table["query"]) == {"TIGIT", "OPN", "PD-1"}
    assert table.height == 3 * 5


def test_targets_file_and_strategy_options(runner, tmp_path):
    path = tmp_path / "panel.txt"
    path.write_text("# my panel\nRANKL\nDKK1\n")
    result, out = run(
        runner, tmp_path, "--targets-file", str(path), "--strategy", "bone_resident",
        "--strategy", "immune_subset", "--seed", "3", "--top", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "ranking.csv")
    assert table["strategy"].unique(maintain_order=True).to_list() == [
        "bone_resident",
        "immune_subset",
    ]
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    assert "bone_resident (top 1)" in result.stdout


def test_weights_option_changes_the_weighted_ranking(runner, tmp_path):
    weights = tmp_path / "w.toml"
    weights.write_text("[bone_resident]\nsc_process = 0\nsc_marker = 0\nsc_modality_fit = 0\n"
                       "sc_ligand_receptor = 0\ngo_receptor_ligand = 0\n"
                       "hpa_tissue_bone_marrow = 1.0\ngnomad_pli = 0\n"
                       "depmap_common_essential = 0\n")  # fmt: skip
    result, out = run(runner, tmp_path, "--weights", str(weights), "--strategy", "bone_resident")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "ranking.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["weights"]["bone_resident"]) == ["hpa_tissue_bone_marrow"]
    from targetrank import load_features

    marrow = load_features().select("symbol", "hpa_tissue_bone_marrow")
    top = table.sort("rank").head(3).join(marrow, on="symbol")
    assert (
        top["hpa_tissue_bone_marrow"].min()
        >= marrow.filter(pl.col("symbol").is_in(table["symbol"].to_list()))[
            "hpa_tissue_bone_marrow"
        ].median()
    )


def test_genome_universe_writes_novel_candidates(runner, tmp_path):
    result, out = run(
        runner, tmp_path, "--universe", "genome", "--strategy", "checkpoint_combination"
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "ranking.csv")
    assert table.height > 19_000
    novel = pl.read_csv(out / "novel_candidates.csv")
    from targetrank import evidence

    assert not set(novel["symbol"]) & set(evidence()["symbol"])
    assert novel["top_drivers"].null_count() == 0


def test_custom_scorer_module_function(runner, tmp_path, monkeypatch):
    (tmp_path / "lab_scoring.py").write_text(
        "def surface(rows):\n    return rows['is_surface'].cast(float)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    result = runner.invoke(
        main,
        ["rank", "--scorer", "lab_scoring:surface", "--targets", "TIGIT,DKK1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "ranking.csv")
    for strategy in STRATEGIES:
        part = table.filter(pl.col("strategy") == strategy).sort("rank")
        assert part["symbol"].to_list() == ["TIGIT", "DKK1"]  # surface before secreted


def test_features_folder_option(runner, tmp_path):
    import shutil

    from targetrank.paths import snapshot_dir

    folder = tmp_path / "features"
    shutil.copytree(snapshot_dir(), folder)
    result, out = run(runner, tmp_path, "--features", str(folder), "--targets", "TIGIT")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["feature_source"] == str(folder)


# --------------------------------------------------------------------------- exit codes
def assert_failed(result, out: Path, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "fix:" in lines[0]
    for needle in needles:
        assert needle in lines[0]
    assert not out.exists()  # nothing written


def test_unknown_target_exit_3(runner, tmp_path):
    result, out = run(runner, tmp_path, "--targets", "TIGIT,NOTAGENE")
    assert_failed(result, out, 3, "NOTAGENE", "--skip-unresolved")


def test_skip_unresolved_ranks_the_rest(runner, tmp_path):
    result, out = run(runner, tmp_path, "--targets", "TIGIT,NOTAGENE,CHI3L3", "--skip-unresolved")
    assert result.exit_code == 0, result.output
    assert set(pl.read_csv(out / "ranking.csv")["symbol"]) == {"TIGIT"}


def test_empty_targets_file_exit_2(runner, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n# nothing\n")
    result, out = run(runner, tmp_path, "--targets-file", str(path))
    assert_failed(result, out, 2, "lists no targets")


def test_unknown_strategy_exit_2(runner, tmp_path):
    result, out = run(runner, tmp_path, "--strategy", "bone_magic")
    assert_failed(result, out, 2, "bone_magic", "immune_subset")


def test_weights_out_of_range_exit_2(runner, tmp_path):
    weights = tmp_path / "w.toml"
    weights.write_text("[immune_subset]\nsc_marker = 1.7\n")
    result, out = run(runner, tmp_path, "--weights", str(weights))
    assert_failed(result, out, 2, "outside [0, 1]", str(weights))


def test_unwritable_out_exit_7(runner, tmp_path, monkeypatch):
    import errno

    import targetrank.runfolder as runfolder

    real_mkdtemp = runfolder.tempfile.mkdtemp
    locked = tmp_path / "locked"
    locked.mkdir()

    def mkdtemp(*args, dir=None, **kwargs):  # root ignores permission bits: the OS refuses here
        if Path(dir) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(locked))
        return real_mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(runfolder.tempfile, "mkdtemp", mkdtemp)
    out = locked / "run"
    result = runner.invoke(main, ["rank", "--scorer", "weighted", "--out", str(out)])
    assert_failed(result, out, 7, "writable")


def test_out_path_blocked_by_a_file_exit_7(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "run"
    result = runner.invoke(main, ["rank", "--scorer", "weighted", "--out", str(out)])
    assert result.exit_code == 7, result.output
    assert "fix:" in result.stderr


def test_existing_out_is_never_overwritten_without_force(runner, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(main, ["rank", "--scorer", "weighted", "--out", str(out)])
    assert result.exit_code == 7
    assert "--force" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    forced = runner.invoke(
        main, ["rank", "--scorer", "weighted", "--out", str(out), "--force", "--targets", "TIGIT"]
    )
    # not a run folder: --force refuses too, and the user's file survives (issue 17)
    assert forced.exit_code == 7, forced.output
    assert "not a targetrank run folder" in forced.stderr
    assert (out / "keep.txt").read_text() == "mine" and not (out / "ranking.csv").exists()


def test_missing_features_folder_exit_4(runner, tmp_path):
    result, out = run(runner, tmp_path, "--features", str(tmp_path / "nope"))
    assert_failed(result, out, 4, "Feature table not found")


def test_model_failure_exit_6(runner, tmp_path):
    text = (Path(__file__).parents[1] / "targetrank" / "data" / "strategies.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(text.replace('id = "bone_resident"', 'id = "bone_custom"'))
    out = tmp_path / "run"
    result = runner.invoke(main, ["rank", "--strategies", str(path), "--out", str(out)])
    assert_failed(result, out, 6, "bone_custom", "--scorer weighted")


def test_unknown_format_exit_2(runner, tmp_path):
    result, out = run(runner, tmp_path, "--format", "csv,pdf")
    assert_failed(result, out, 2, "pdf")


def test_strategies_command(runner):
    result = runner.invoke(main, ["strategies"])
    assert result.exit_code == 0
    for strategy in STRATEGIES:
        assert strategy in result.stdout
    # each block says which gates apply and whether the model reads the STRING neighbourhood
    blocks = dict((b.split(":")[0].split(". ")[1], b) for b in result.stdout.strip().split("\n\n"))
    assert "STRING neighbours: not read" in blocks["checkpoint_combination"]
    assert "STRING neighbours: read (sc_network)" in blocks["bone_resident"]
    assert (
        "gates: car_antigen, dense_antigen, not_housekeeping" in blocks["engineered_cell_therapy"]
    )


def test_evaluate_command(runner, tmp_path):
    out = tmp_path / "eval.csv"
    result = runner.invoke(
        main,
        [
            "evaluate",
            "--bootstrap",
            "20",
            "--out",
            str(out),
            "--strategy",
            "bone_resident",
            "--strategy",
            "checkpoint_combination",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ROC-AUC" in result.stdout and "NDCG" in result.stdout
    table = pl.read_csv(out)
    assert {"lightgbm", "weighted", "pubmed_popularity", "random"} == set(table["method"])


def test_explain_command_recomputes(runner):
    result = runner.invoke(
        main, ["explain", "TIGIT", "--strategy", "checkpoint_combination", "--scorer", "weighted"]
    )
    assert result.exit_code == 0, result.output
    assert "TIGIT in checkpoint_combination" in result.stdout
    assert "SKYSCRAPER-01" in result.stdout


def test_stored_explanations_keep_the_pushes_down_of_a_gene_with_many_pushes_up(tmp_path):
    # `explain --run` reads explanations.parquet: a gene whose 30 largest contributions are all
    # positive must still have its small negative drivers stored, or its card from the run
    # folder would list fewer pushes down than the live card (TIGIT's did in 0.9.0's first build)
    n_up, n_down = STORED_DRIVERS + 5, 3
    contributions = np.array([[*(1.0 + 0.01 * k for k in range(n_up)), -0.02, -0.03, -0.01, -2.5]])
    names = [f"f{k}" for k in range(n_up + n_down)]
    rows = pl.DataFrame({"strategy": ["s"], "symbol": ["G"]})
    ranking = SimpleNamespace(
        table=rows.with_columns(pl.lit(1).alias("rank")),
        rows=rows,
        contributions=contributions,
        feature_names=names,
        evidence=None,
        universe="evidence",
    )
    path = tmp_path / "explanations.parquet"
    _write_explanations(ranking, path)
    stored = pl.read_parquet(path)
    down = stored.filter(pl.col("contribution") < 0, pl.col("feature") != "(bias)")
    assert down["feature"].to_list() == ["f31", "f30", "f32"]  # most negative first
    up = stored.filter(pl.col("contribution") > 0)
    assert up.height == STORED_DRIVERS  # the largest pushes up, not all of them
    assert up["feature"][0] == f"f{n_up - 1}"
    assert stored.filter(pl.col("feature") == "(bias)")["contribution"].to_list() == [-2.5]
