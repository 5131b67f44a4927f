"""Runs a scientist can trust (issue 17): folders that never lose work, bounds before compute,
output that explains itself.

Each case asserts the exit code, the one-line message and that no file was lost or left behind.
The fast weighted scorer keeps the end-to-end runs short; timings are generous upper bounds on
a loaded machine (the point is seconds, not the minutes these inputs used to take).
"""

from __future__ import annotations

import csv
import errno
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import polars as pl
import pytest
from reliability_checks import assert_failed, assert_succeeded, debris, read_csv_rows, tree

import targetrank
from targetrank.cli import main
from targetrank.errors import OutputError, UsageError

WEIGHTED = ["--scorer", "weighted", "--strategy", "bone_resident", "--quiet"]


def rank(runner, out, *extra, targets="TIGIT,DKK1,OPN"):
    chosen = ["--targets", targets] if targets else []
    return runner.invoke(main, ["rank", *WEIGHTED, *chosen, "--out", str(out), *extra])


def timed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


# ------------------------------------------------------------------ run folders
def test_two_default_runs_in_the_same_second_both_succeed_in_different_folders(
    runner, tmp_path, monkeypatch
):
    import targetrank.runfolder as runfolder

    frozen = datetime(2026, 12, 3, 15, 42, 10, tzinfo=UTC)
    monkeypatch.setattr(runfolder, "datetime", SimpleNamespace(now=lambda tz=None: frozen))
    monkeypatch.chdir(tmp_path)
    args = ["rank", *WEIGHTED, "--targets", "TIGIT,DKK1"]
    first, second = runner.invoke(main, args), runner.invoke(main, args)
    assert_succeeded(first)
    assert_succeeded(second)
    folders = sorted(p.name for p in (tmp_path / "outputs").iterdir())
    assert len(folders) == 2 and all(f.startswith("20261203T154210Z-") for f in folders)
    for name in folders:
        assert (tmp_path / "outputs" / name / "ranking.csv").is_file()
    assert debris(tmp_path) == []


def test_force_on_a_folder_that_is_not_a_run_exits_7_and_keeps_every_file(runner, tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_bytes(b"two years of work")
    (out / "data").mkdir()
    (out / "data" / "raw.csv").write_text("a,b\n1,2\n")
    before = tree(out)
    result, seconds = timed(lambda: rank(runner, out, "--force"))
    assert_failed(result, 7, "not a targetrank run folder", str(out), "nothing was computed, "
                  "deleted or overwritten", "choose a new --out")  # fmt: skip
    assert tree(out) == before and debris(tmp_path) == []
    assert seconds < 3, f"refused after {seconds:.1f} s: the check must come before computing"


def test_force_on_a_folder_with_a_fake_manifest_is_refused_too(runner, tmp_path):
    out = tmp_path / "other"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"name": "another tool's manifest"}))
    before = tree(out)
    assert_failed(rank(runner, out, "--force"), 7, "not a targetrank run folder")
    assert tree(out) == before


def test_library_force_refuses_a_foreign_folder(tmp_path):
    ranking = targetrank.rank(["TIGIT", "DKK1"], scorer="weighted", strategies=["bone_resident"])
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not a targetrank run folder"):
        ranking.write(out, force=True)
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_second_writer_to_the_same_folder_is_refused_at_once(runner, tmp_path):
    """Another process holds the folder's lock (a run computing): refuse, do not overwrite."""
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom targetrank.runfolder import run_folder_lock\n"
         f"with run_folder_lock({str(out)!r}):\n    print('held', flush=True)\n    sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        result, seconds = timed(lambda: rank(runner, out))
        assert_failed(result, 7, "Another targetrank run is writing this output folder",
                      str(out), "wait for the other run")  # fmt: skip
        assert not out.exists() and seconds < 3
    finally:
        holder.communicate("", timeout=30)
    assert_succeeded(rank(runner, out))  # the lock went with its holder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no lock file left behind


def test_out_in_proc_fails_in_under_3_seconds_with_the_real_cause(runner):
    result, seconds = timed(lambda: rank(runner, "/proc/x"))
    assert_failed(result, 7, "Cannot write the output folder", "/proc/x",
                  "nothing was computed or written", "normal disk")  # fmt: skip
    assert "free disk space" not in result.stderr
    assert seconds < 3, f"--out /proc/x failed only after {seconds:.1f} s"


def test_evaluate_out_in_proc_fails_before_evaluating(runner):
    args = ["evaluate", "--out", "/proc/x/evaluation.csv", "--quiet"]
    result, seconds = timed(lambda: runner.invoke(main, args))
    assert_failed(result, 7, "Cannot write the output folder", "/proc/x/evaluation.csv")
    assert seconds < 3, f"failed only after {seconds:.1f} s"


@pytest.mark.parametrize(
    ("code", "needles"),
    [
        (errno.EROFS, ("read-only file system", "writable disk")),
        (errno.EACCES, ("no write permission", "writable --out")),
        (errno.ENOSPC, ("full", "free disk space")),
    ],
    ids=["read-only", "permission", "no-space"],
)
def test_unwritable_out_advice_follows_the_errno(runner, tmp_path, monkeypatch, code, needles):
    import targetrank.runfolder as runfolder

    def refuse(*_args, **_kwargs):
        raise OSError(code, "simulated", str(tmp_path))

    monkeypatch.setattr(runfolder.tempfile, "mkdtemp", refuse)
    out = tmp_path / "run"
    result, seconds = timed(lambda: rank(runner, out))
    line = assert_failed(result, 7, "Cannot write the output folder", *needles)
    markers = {errno.EROFS: "read-only", errno.EACCES: "permission", errno.ENOSPC: "disk space"}
    assert not [m for c, m in markers.items() if c != code and m in line], line
    assert not out.exists() and seconds < 3


# ------------------------------------------------------------------ bounds before compute
@pytest.mark.parametrize("top", ["0", "-5"])
def test_top_below_1_is_exit_2_in_under_3_seconds(runner, tmp_path, top):
    out = tmp_path / "run"
    result, seconds = timed(lambda: rank(runner, out, "--top", top))
    assert_failed(result, 2, "--top", "x>=1", "rank --help")
    assert not out.exists() and seconds < 3


@pytest.mark.parametrize("n", ["0", "5"])
def test_evaluate_bootstrap_below_the_minimum_is_exit_2_at_once(runner, tmp_path, n):
    out = tmp_path / "eval.csv"
    result, seconds = timed(
        lambda: runner.invoke(main, ["evaluate", "--bootstrap", n, "--out", str(out), "--quiet"])
    )
    assert_failed(result, 2, "--bootstrap", "x>=20")
    assert not out.exists() and seconds < 3


def test_library_evaluate_refuses_too_few_resamples_before_fitting():
    start = time.monotonic()
    with pytest.raises(UsageError, match="cannot give a 95% interval") as info:
        targetrank.evaluate(n_resamples=0)
    assert "at least 20" in info.value.message and time.monotonic() - start < 3


def test_library_evaluate_keeps_n_bootstrap_as_a_deprecated_name():
    with (
        pytest.warns(DeprecationWarning, match="n_resamples"),
        pytest.raises(UsageError, match="cannot give a 95% interval"),
    ):
        targetrank.evaluate(n_bootstrap=5)


def test_100k_garbage_names_fail_in_under_30_s_with_a_short_error(runner, tmp_path):
    import random
    import string

    rng = random.Random(17)
    names = ["".join(rng.choices(string.ascii_uppercase, k=10)) for _ in range(100_000)]
    path = tmp_path / "column.txt"
    path.write_text("\n".join(names) + "\n")
    out = tmp_path / "run"
    result, seconds = timed(lambda: rank(runner, out, "--targets-file", str(path), targets=""))
    line = assert_failed(result, 3, "Could not resolve 100,000 of 100,000", f"'{names[0]}'",
                         f"'{names[4]}'", "and 99,995 more", "no close names searched")  # fmt: skip
    assert len(line.encode()) < 2048, f"{len(line.encode())} bytes"
    assert f"'{names[5]}'" not in line
    assert seconds < 30, f"took {seconds:.1f} s"
    assert not out.exists() and debris(tmp_path) == []


def test_a_few_typos_still_get_suggestions():
    result = targetrank.resolve(["TIGTI", "DKK1"])
    assert "did you mean" in result.table["note"][0]


def test_snapshot_variable_is_named_in_its_error(runner, tmp_path, monkeypatch):
    import targetrank.resolver as resolver

    monkeypatch.setenv("TARGETRANK_SNAPSHOT", str(tmp_path / "nonexistent"))
    monkeypatch.setattr(resolver, "_DEFAULT", None)
    out = tmp_path / "run"
    for result in (rank(runner, out), runner.invoke(main, ["resolve", "TIGIT"])):
        assert_failed(result, 4, "set by TARGETRANK_SNAPSHOT=", "unset it")
    assert not out.exists()


def test_no_evidence_has_one_spelling_in_every_export(tmp_path):
    """CD274 has a bone-targeted-delivery entry recording a searched-for absence (stage NONE)."""
    ranking = targetrank.rank(
        ["CD274", "TIGIT", "DKK1"], scorer="weighted", strategies=["bone_targeted_delivery"]
    )
    out = ranking.write(tmp_path / "run", formats=["csv", "xlsx"])
    stages = {r["symbol"]: r["evidence_stage"] for r in read_csv_rows(out / "ranking.csv")}
    assert stages["CD274"] == "" and "NONE" not in stages.values()
    sheet = pl.read_excel(out / "ranking.xlsx", sheet_name="bone_targeted_delivery")
    assert "NONE" not in sheet["evidence_stage"].cast(pl.String).to_list()
    readme = pl.read_excel(out / "ranking.xlsx", sheet_name="README")
    doc = dict(zip(readme["key"], readme["value"], strict=True))["column: evidence_stage"]
    assert "empty means no clinical evidence" in doc and "never NONE" in doc


@pytest.fixture(scope="module")
def weighted_run(tmp_path_factory):
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("trust") / "run"
    assert_succeeded(rank(CliRunner(), out, targets="TIGIT,DKK1,OPN,RANKL"))
    return out


def test_rerun_after_a_seed_change_lists_no_unchanged_ranks_and_does_not_blame_the_version(
    runner, weighted_run, tmp_path
):
    run = tmp_path / "run"
    shutil.copytree(weighted_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["seed"] = 7  # the ranking.csv beside it was made with seed 0
    (run / "manifest.json").write_text(json.dumps(manifest))
    with (run / "ranking.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:  # what another seed does to a model: scores move, ranks stay
        r["score"] = str(float(r["score"]) + 0.01)
    with (run / "ranking.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(main, ["rerun", str(run / "manifest.json")])
    assert result.exit_code == 4, result.output
    assert "identical ranks, but 4 score(s) differ (largest change 0.01)" in result.stdout
    assert " -> " not in result.stdout  # no "rank 1 -> 1" rows
    assert "edited (e.g. its seed" in result.stdout
    assert "version" not in result.stdout


def test_rerun_to_an_existing_folder_is_refused_before_recomputing(runner, weighted_run, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    args = ["rerun", str(weighted_run / "manifest.json"), "--out", str(out)]
    result, seconds = timed(lambda: runner.invoke(main, args))
    assert_failed(result, 7, "already exists", str(out))
    assert tree(out) == {"mine.txt": b"keep"} and seconds < 3


# ------------------------------------------------------------------ output that explains itself
def test_rank_output_has_a_legend_and_always_shows_the_seed_panel(runner, tmp_path):
    out = tmp_path / "run"
    result = rank(runner, out, "--top", "1", targets="TIGIT,DKK1,OPN,RANKL,CTSK,ACP5")
    assert_succeeded(result)
    text = result.stdout
    table = text.split("Legend:")[0]
    for name in ("OPN", "RANKL", "DKK1", "TIGIT"):  # the seed panel, below a top 1
        assert name in table, text
    assert "bone_resident (top 1) of 6 targets; then the seed panel" in table
    assert "genome rank" in table
    legend = " ".join(text.split("Legend:")[1].split())  # unwrap the lines
    for needle in ("compares targets within one strategy only", "genome rank", "gate",
                   "deterministic"):  # fmt: skip
        assert needle in legend, legend


def test_legend_warns_that_p_top10_says_nothing_for_a_small_panel():
    from targetrank.legend import legend

    ranking = targetrank.rank(["TIGIT", "DKK1", "OPN"], scorer="weighted",
                              strategies=["bone_resident"])  # fmt: skip
    fake = SimpleNamespace(
        table=ranking.table,
        manifest={**ranking.manifest, "scorer": "lightgbm", "uncertainty": "bootstrap"},
        model_card={"level2_ranker": {"bootstrap_replicates": 20}},
    )
    meanings = dict(legend(fake))
    assert "says nothing here: with 3 targets per strategy" in meanings["P(top10)"]
    assert "20 bootstrap refits" in meanings["rank 5-95%"]
    assert "lightgbm model units" in meanings["score"]


def test_xlsx_readme_carries_the_legend(tmp_path):
    ranking = targetrank.rank(["TIGIT", "DKK1"], scorer="weighted", strategies=["bone_resident"])
    out = ranking.write(tmp_path / "run", formats=["csv", "xlsx"])
    readme = pl.read_excel(out / "ranking.xlsx", sheet_name="README")
    keys = readme["key"].to_list()
    assert {"legend: score", "legend: rank", "legend: gate"} <= set(keys)
    score = readme.filter(pl.col("key") == "legend: score")["value"][0]
    assert "within one strategy only" in score


def test_heatmap_columns_carry_the_typed_names(tmp_path, monkeypatch):
    import matplotlib.axes

    seen: list[list[str]] = []
    real = matplotlib.axes.Axes.set_xticks

    def record(self, ticks, labels=None, **kwargs):
        if labels is not None:
            seen.append(list(labels))
        return real(self, ticks, labels, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_xticks", record)
    ranking = targetrank.rank(["PD-1", "RANKL", "TIGIT"], scorer="weighted",
                              strategies=["bone_resident"])  # fmt: skip
    ranking.write(tmp_path / "run")
    assert seen and set(seen[-1]) == {"PD-1 (PDCD1)", "RANKL (TNFSF11)", "TIGIT"}


def test_genome_heatmap_shows_the_seed_panel_and_the_best_of_every_strategy():
    from targetrank.export import _short_rank, heatmap_targets

    rows = []
    for s, strategy in enumerate(["a", "b", "c"]):
        for i in range(20_000):  # strategy a likes gene 0.., b likes gene 5000.., c gene 10000..
            rows.append((strategy, (i + 5000 * s) % 20_000 + 1, f"G{i}"))
    table = pl.DataFrame(rows, schema=["strategy", "rank", "symbol"], orient="row")
    fake = SimpleNamespace(table=table, manifest={"seed_panel": ["G19999", "G7"]})
    chosen = heatmap_targets(fake, max_targets=12)
    assert len(chosen) == 12 and {"G19999", "G7"} <= set(chosen)
    best = {s: table.filter((pl.col("strategy") == s) & (pl.col("rank") == 1))["symbol"][0]
            for s in "abc"}  # fmt: skip
    assert set(best.values()) <= set(chosen)  # not 12 genes of one strategy
    assert [_short_rank(r) for r in (7, 812, 4648, 17363)] == ["7", "812", "4.6k", "17.4k"]


def test_a_gene_family_is_ambiguous_with_its_members(runner, tmp_path):
    result = runner.invoke(main, ["resolve", "CD3"])
    assert result.exit_code == 3
    row = targetrank.resolve(["CD3"]).table.row(0, named=True)
    assert row["status"] == "ambiguous"
    assert "gene family CD3: 3 members (CD3D, CD3E, CD3G)" in row["note"]
    out = tmp_path / "run"
    assert_failed(rank(runner, out, targets="CD3,TIGIT"), 3, "'CD3' is ambiguous",
                  "CD3D, CD3E, CD3G")  # fmt: skip
    assert not out.exists()
