"""``targetrank sweep``: the validation over seeds, and the paired comparison a change is judged by."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import targetrank as t
from targetrank.cli.main import main
from targetrank.errors import DataError, UsageError
from targetrank.model.lightgbm_scorer import LightGBMScorer
from targetrank.model.validation import compare_sweeps, summarise_sweep
from targetrank.steps.sweep import SWEEP_COLUMNS, parse_seeds, read_sweep, sweep, write_sweep
from tests.support.rankers import TINY


def _table(rows: list[tuple[int, str, str, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"seed": pl.Int64, "strategy": pl.String, "metric": pl.String,
                "symbol": pl.String, "value": pl.Float64},
        orient="row",
    )  # fmt: skip


# --- seeds --------------------------------------------------------------------------------------


def test_seed_lists_read_ranges_lists_and_both_without_repeats():
    assert parse_seeds("0-4,10") == [0, 1, 2, 3, 4, 10]
    assert parse_seeds("3, 1,3") == [3, 1]
    assert parse_seeds("0-29") == list(range(30))


@pytest.mark.parametrize("text", ["", "a", "5-2", "1-x", "-3", ","])
def test_an_unreadable_seed_list_is_a_usage_error_with_the_fix(text):
    with pytest.raises(UsageError) as err:
        parse_seeds(text)
    assert "0-29" in err.value.message  # the fix shows the spelling


# --- the paired comparison ----------------------------------------------------------------------


def test_halving_every_rank_is_a_ratio_of_one_half_better_at_every_seed():
    rng = np.random.default_rng(1)
    ranks = rng.integers(10, 5000, 12).astype(float)
    base = _table([(s, "bone_resident", "median_rank_grade5", "", r) for s, r in enumerate(ranks)])
    new = base.with_columns(pl.col("value") / 2)
    row = compare_sweeps(base, new).row(0, named=True)
    assert row["effect"] == "ratio" and row["n_seeds"] == 12
    assert row["value"] == pytest.approx(0.5) and row["lo"] == pytest.approx(0.5)
    assert (row["better_seeds"], row["worse_seeds"]) == (12, 0)
    assert row["new"] == pytest.approx(row["base"] / 2)


def test_the_interval_spans_one_when_seeds_disagree():
    base = _table([(s, "x", "genome_rank", "TIGIT", 10.0) for s in range(6)])
    new = _table([(s, "x", "genome_rank", "TIGIT", 5.0 if s % 2 else 20.0) for s in range(6)])
    row = compare_sweeps(base, new).row(0, named=True)
    assert row["lo"] < 1 < row["hi"]
    assert (row["better_seeds"], row["worse_seeds"]) == (3, 3)


def test_shares_compare_as_differences_and_higher_is_better():
    base = _table([(s, "x", "external_recall_top100", "", 0.4) for s in range(5)])
    new = base.with_columns(pl.col("value") + 0.1)
    row = compare_sweeps(base, new).row(0, named=True)
    assert row["effect"] == "difference" and row["value"] == pytest.approx(0.1)
    assert row["better_seeds"] == 5


def test_spearman_with_pubmed_is_better_closer_to_zero():
    base = _table([(s, "x", "spearman_pubmed", "", 0.3) for s in range(4)])
    new = _table([(s, "x", "spearman_pubmed", "", -0.1) for s in range(4)])
    assert compare_sweeps(base, new).row(0, named=True)["better_seeds"] == 4


def test_only_shared_seeds_are_paired_and_missing_figures_are_left_out():
    base = _table([(s, "x", "median_rank_grade5", "", 100.0) for s in range(10)])
    new = _table(
        [(s, "x", "median_rank_grade5", "", None if s == 7 else 50.0) for s in range(5, 15)]
    )
    row = compare_sweeps(base, new).row(0, named=True)
    assert row["n_seeds"] == 4  # seeds 5, 6, 8, 9


def test_sweeps_without_a_shared_seed_cannot_be_compared():
    base = _table([(0, "x", "median_rank_grade5", "", 1.0)])
    new = _table([(1, "x", "median_rank_grade5", "", 1.0)])
    with pytest.raises(UsageError, match="share no seed") as err:
        compare_sweeps(base, new)
    assert "--seeds" in err.value.message


def test_the_summary_takes_geometric_means_of_ranks_and_top50_shares_of_watched_genes():
    ranks = [10.0, 1000.0, 40.0, 60.0]
    table = _table([(s, "x", "genome_rank", "SOST", r) for s, r in enumerate(ranks)])
    row = summarise_sweep(table).row(0, named=True)
    assert row["centre"] == "geometric mean"
    assert row["value"] == pytest.approx(math.exp(np.log(ranks).mean()))
    assert row["top50_share"] == pytest.approx(0.5)
    assert (row["min"], row["max"]) == (10.0, 1000.0)


# --- sweep files --------------------------------------------------------------------------------


def test_a_csv_that_is_not_a_sweep_is_refused_by_name(tmp_path):
    other = tmp_path / "evaluation.csv"
    other.write_text("strategy,method,ndcg\nx,lightgbm,0.5\n")
    with pytest.raises(DataError) as err:
        read_sweep(other)
    assert str(other) in err.value.message and "targetrank sweep --out" in err.value.message
    with pytest.raises(DataError, match="Cannot read the sweep table"):
        read_sweep(tmp_path / "absent.csv")


# --- the sweep itself ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_sweep():
    return sweep(
        [0, 1],
        strategies=["checkpoint_combination", "bone_resident"],
        ranker_options=dict(TINY),
        watch=[("checkpoint_combination", "PD-1"), ("bone_resident", "RANKL")],
    )


def test_a_sweep_records_every_figure_at_every_seed_and_says_what_it_ran(tiny_sweep):
    assert tiny_sweep.columns == SWEEP_COLUMNS
    assert tiny_sweep["targetrank_version"].unique().to_list() == [t.__version__]
    per_seed = tiny_sweep.group_by("seed").len().sort("seed")
    assert per_seed["seed"].to_list() == [0, 1]
    assert per_seed["len"].n_unique() == 1  # the same figures at each seed
    metrics = set(tiny_sweep.filter(pl.col("strategy") == "bone_resident")["metric"])
    assert {
        "median_rank_grade5",
        "external_recall_top100",
        "external_median_rank",
        "spearman_pubmed",
    } <= metrics
    overlap = tiny_sweep.filter(pl.col("metric") == "largest_overlap_top100")
    assert overlap.height == 2 and overlap["value"].is_between(0, 100).all()
    # watched genes are named by their symbols, whatever name the user gave
    watched = tiny_sweep.filter(pl.col("metric") == "genome_rank")
    assert sorted(set(watched["symbol"])) == ["PDCD1", "TNFSF11"]


def test_a_watched_rank_is_the_genome_rank_a_user_sees_in_rank(tiny_sweep):
    ranking = t.rank(
        targets=["PD-1"],
        strategies=["checkpoint_combination"],
        scorer=LightGBMScorer(**{**TINY, "n_refits": 0}),
        seed=1,
        evaluate_model=False,
    )
    shown = ranking.table.filter(pl.col("symbol") == "PDCD1")["genome_rank"].item()
    swept = tiny_sweep.filter(
        (pl.col("seed") == 1) & (pl.col("symbol") == "PDCD1") & (pl.col("metric") == "genome_rank")
    )["value"].item()
    assert swept == shown


def test_a_sweep_compared_with_itself_changes_nothing(tiny_sweep, tmp_path):
    path = write_sweep(tiny_sweep, tmp_path / "sweep.csv")
    again = read_sweep(path)
    paired = compare_sweeps(again, tiny_sweep)
    ratios = paired.filter(pl.col("effect") == "ratio")
    assert ratios.height and (ratios["value"] == 1.0).all()
    assert (paired["better_seeds"] == 0).all() and (paired["worse_seeds"] == 0).all()


def test_watching_a_strategy_the_sweep_does_not_rank_fails_before_any_fit():
    with pytest.raises(UsageError, match="does not rank") as err:
        sweep([0], strategies=["bone_resident"], watch=[("checkpoint_combination", "TIGIT")])
    assert "--strategy" in err.value.message


# --- the command --------------------------------------------------------------------------------


def test_sweep_command_writes_the_table_and_pairs_it_with_a_baseline(tmp_path):
    runner = CliRunner()
    first = tmp_path / "base.csv"
    args = ["sweep", "--seeds", "0", "--strategy", "checkpoint_combination", "--quiet",
            "--watch", "checkpoint_combination:TIGIT"]  # fmt: skip
    result = runner.invoke(main, [*args, "--out", str(first)])
    assert result.exit_code == 0, result.output
    assert "geometric mean" in result.output and "TIGIT" in result.output
    assert read_sweep(first).filter(pl.col("symbol") == "TIGIT").height == 1
    second = tmp_path / "new.csv"
    result = runner.invoke(main, [*args, "--out", str(second), "--baseline", str(first)])
    assert result.exit_code == 0, result.output
    # the same run: no change at any figure, and one seed gives no interval
    assert "1.00 (one seed)" in result.output and "nan" not in result.output
    assert "1/0" not in result.output and "0/1" not in result.output
    assert second.exists()


def test_sweep_command_judges_the_number_of_background_draws(tmp_path):
    # README: "--draws 6 is the better setting": a user must be able to measure that claim
    out = tmp_path / "draws.csv"
    args = ["sweep", "--seeds", "0", "--strategy", "engineered_cell_therapy", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--draws", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    one = read_sweep(out)
    library = sweep(
        [0], strategies=["engineered_cell_therapy"], ranker_options={"n_repeats": 1}, cache=False
    )
    assert one.equals(library)  # the CLI ran the one-draw ranker, not the default
    default = sweep([0], strategies=["engineered_cell_therapy"])
    assert not one.equals(default)


def test_sweep_command_refuses_a_bad_baseline_before_fitting(tmp_path):
    bad = tmp_path / "ranking.csv"
    bad.write_text("symbol,score\nTIGIT,1\n")
    out = tmp_path / "sweep.csv"
    result = CliRunner().invoke(
        main, ["sweep", "--seeds", "0", "--baseline", str(bad), "--out", str(out)]
    )
    assert result.exit_code == 4, result.output
    assert "not a sweep table" in result.output and not out.exists()


# --- the committed baseline ---------------------------------------------------------------------

BASELINES = Path(__file__).resolve().parent.parent / "bench" / "baselines"


def test_the_committed_baseline_is_what_this_code_measures_at_seed_0():
    """A change is judged against ``bench/baselines``: a stale baseline would judge it wrongly.

    Re-run ``targetrank sweep --seeds 0-29 --out bench/baselines/sweep-<version>-seeds0-29.csv``
    after any change to the ranking (with a new version); earlier releases' sweeps stay, so a
    release can be compared with the one before.
    """
    files = sorted(BASELINES.glob(f"sweep-{t.__version__}-seeds0-29.csv"))
    assert len(files) == 1, f"no committed sweep of this release ({t.__version__}) in {BASELINES}"
    committed = read_sweep(files[0])
    assert committed["seed"].unique().sort().to_list() == list(range(30))
    fresh = sweep([0])
    paired = compare_sweeps(committed.filter(pl.col("seed") == 0), fresh)
    assert paired.height == fresh.drop_nulls("value").height  # every figure was compared
    changed = paired.filter(pl.col("better_seeds") + pl.col("worse_seeds") > 0)
    assert changed.height == 0, (
        f"{files[0].name} is stale: {changed.select('strategy', 'metric', 'symbol', 'base', 'new')}"
    )
