"""The model cache: identical outputs warm and cold, panels reuse it, every fault retrains."""

from __future__ import annotations

import json
import multiprocessing
import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

import targetrank as t
from targetrank.cli import main
from targetrank.inputs import load_inputs
from targetrank.model.cache import ARRAYS_SUFFIX, FORMAT, SUFFIX, ModelCache, cache_key
from targetrank.model.lightgbm_scorer import LightGBMScorer
from tests.support.rankers import TINY

COMPARED = ("ranking.csv", "matrix.csv", "model_card.json", "explanations.parquet")


PANEL = ["TIGIT", "DKK1", "OPN", "RANKL", "CD274", "SOST"]


def tiny_rank(cache_dir: Path, notes: list[str] | None = None, **kwargs):
    """A tiny ranking of a small panel (the model-card evaluation is compared in test_cli_rank)."""
    options = {"targets": PANEL, "evaluate_model": False, **kwargs}
    return t.rank(
        scorer=LightGBMScorer(**TINY),
        cache_dir=cache_dir,
        notice=(notes if notes is not None else []).append,
        **options,
    )


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """A cold tiny ranking, written, with the cache folder it filled."""
    root = tmp_path_factory.mktemp("cache-cold")
    notes: list[str] = []
    ranking = tiny_rank(root / "cache", notes)
    assert notes == []
    out = ranking.write(root / "run")
    return root / "cache", out, ranking


def same_files(a: Path, b: Path) -> None:
    for name in COMPARED:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def copy_cache(cold_cache: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cache"
    shutil.copytree(cold_cache, target)
    return target


def model_files(cache: Path) -> list[Path]:
    return sorted((cache / "models").glob(f"*{SUFFIX}"))


def test_cold_run_stores_and_records_the_key(cold):
    cache, out, _ = cold
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_cache"]["used"] is False
    key = manifest["model_cache"]["key"]
    assert len(key) == 64
    names = {p.stem for p in model_files(cache)}
    assert key in names and len(names) == 2  # the ranker and its level-1 prior


def test_warm_run_is_byte_identical(cold, tmp_path):
    cache, out, _ = cold
    warm = tiny_rank(cache)
    assert warm.manifest["model_cache"] == {
        "used": True,
        "key": warm.manifest["model_cache"]["key"],
    }
    same_files(out, warm.write(tmp_path / "warm"))


def test_no_cache_retrains_to_the_same_bytes(cold, tmp_path):
    _, out, _ = cold
    fresh = tiny_rank(tmp_path / "unused", cache=False)
    assert fresh.manifest["model_cache"] == {"used": False, "key": None}
    assert not (tmp_path / "unused").exists()
    same_files(out, fresh.write(tmp_path / "fresh"))


def test_another_panel_and_strategy_subset_reuse_the_models(cold):
    cache, _, ranking = cold
    panel = tiny_rank(cache, targets=["TIGIT", "OPN"], strategies=["bone_resident"])
    assert panel.manifest["model_cache"]["used"] is True
    assert panel.manifest["model_cache"]["key"] == ranking.manifest["model_cache"]["key"]
    full = ranking.table.filter(pl.col("strategy") == "bone_resident").select("symbol", "score")
    got = panel.table.select("symbol", "score").join(full, on="symbol", suffix="_full")
    assert got.height == 2 and (got["score"] == got["score_full"]).all()


def test_key_follows_every_training_input(cold):
    _, _, ranking = cold
    context = load_inputs().context(0)
    scorer = LightGBMScorer(**TINY)
    base = cache_key(scorer.cache_components(context))
    assert base == ranking.manifest["model_cache"]["key"]
    again = load_inputs(targets=["TIGIT"]).context(0)
    assert cache_key(scorer.cache_components(again)) == base  # panels do not train
    evidence = context.evidence.with_columns(
        pl.when(pl.col("symbol") == "TNFSF11").then(1).otherwise(pl.col("grade")).alias("grade")
    )
    changed = [
        replace(context, seed=1),
        replace(context, evidence=evidence),
        replace(context, features=context.features.head(20000)),
        replace(context, seed_entrez=context.seed_entrez[:-1]),
    ]
    keys = {cache_key(scorer.cache_components(c)) for c in changed}
    keys.add(cache_key(LightGBMScorer(**{**TINY, "n_refits": 3}).cache_components(context)))
    keys.add(cache_key(LightGBMScorer(**TINY, features=["is_surface"]).cache_components(context)))
    assert base not in keys and len(keys) == 6


def test_weights_change_the_key(cold):
    _, _, ranking = cold
    inputs = load_inputs(weights={"bone_resident": {"is_surface": 0.5}})
    key = cache_key(LightGBMScorer(**TINY).cache_components(inputs.context(0)))
    assert key != ranking.manifest["model_cache"]["key"]


# ------------------------------------------------------------------------------ scored rows
def scores_file(cache: Path, key: str) -> Path:
    return cache / "models" / f"{key}{ARRAYS_SUFFIX}"


@pytest.fixture()
def count_scoring(monkeypatch):
    """Rows the ranker really scores (``score``) and point-scores (``point_scores``)."""
    calls: dict[str, list[int]] = {"score": [], "point_scores": []}
    for name in calls:
        real = getattr(LightGBMScorer, name)

        def spy(self, rows, _real=real, _name=name):
            calls[_name].append(rows.height)
            return _real(self, rows)

        monkeypatch.setattr(LightGBMScorer, name, spy)
    return calls


def test_cold_run_stores_the_scored_rows_beside_the_models(cold):
    cache, out, _ = cold
    key = json.loads((out / "manifest.json").read_text())["model_cache"]["key"]
    meta, arrays = ModelCache(cache / "models").load_arrays(key)
    # the panel's rows with contributions and replicates, and every gene's point score
    assert len(arrays["keys"]) == len(PANEL) * 5
    assert arrays["replicates"].shape == (TINY["n_refits"], len(PANEL) * 5)
    assert len(arrays["point_keys"]) > 100_000 and len(meta["feature_names"]) > 50


def test_warm_run_reads_scores_and_drivers_instead_of_computing_them(
    cold, tmp_path, count_scoring, monkeypatch
):
    import targetrank.assemble as assemble

    def fail(*args, **kwargs):
        raise AssertionError("the warm run formatted the driver texts again")

    monkeypatch.setattr(assemble, "drivers_text", fail)
    cache, out, _ = cold
    warm = tiny_rank(copy_cache(cache, tmp_path))
    assert count_scoring == {"score": [], "point_scores": []}
    same_files(out, warm.write(tmp_path / "warm"))


def test_another_panel_reuses_the_scored_rows_and_adds_its_own(cold, tmp_path, count_scoring):
    cache = copy_cache(cold[0], tmp_path)
    panel = ["TIGIT", "SOST", "CD19"]  # CD19 is not in the cold run's panel
    warm = tiny_rank(cache, targets=panel)
    assert count_scoring == {"score": [5], "point_scores": []}  # CD19's 5 rows, nothing else
    # the same panel with the models only (no stored rows): every row computed in this run
    alone = copy_cache(cold[0], tmp_path / "alone")
    for path in (alone / "models").glob(f"*{ARRAYS_SUFFIX}"):
        path.unlink()
    fresh = tiny_rank(alone, targets=panel)
    assert count_scoring["score"] == [5, 15]
    same_files(fresh.write(tmp_path / "fresh-run"), warm.write(tmp_path / "warm-run"))
    count_scoring["score"].clear()
    again = tiny_rank(cache, targets=["CD19"], strategies=["engineered_cell_therapy"])
    assert count_scoring["score"] == []  # stored by the run before
    cd19 = warm.table.filter(pl.col("strategy") == "engineered_cell_therapy")
    assert (
        again.table["score"].to_list() == cd19.filter(pl.col("symbol") == "CD19")["score"].to_list()
    )


@pytest.mark.parametrize("damage", ["flip", "truncate"], ids=["flipped-byte", "truncated"])
def test_corrupt_scored_rows_file_is_refused_and_recomputed(cold, tmp_path, damage, count_scoring):
    cache_src, out, _ = cold
    cache = copy_cache(cache_src, tmp_path)
    key = json.loads((out / "manifest.json").read_text())["model_cache"]["key"]
    path = scores_file(cache, key)
    (_truncate if damage == "truncate" else _corrupt)(path)
    notes: list[str] = []
    ranking = tiny_rank(cache, notes)
    assert ranking.manifest["model_cache"]["used"] is True  # the models themselves are fine
    assert len(notes) == 1 and "refused" in notes[0] and "checksum" in notes[0], notes
    assert notes[0].endswith("recomputing") and path.name in notes[0]
    assert count_scoring["score"] == [len(PANEL) * 5]
    same_files(out, ranking.write(tmp_path / "run"))
    # the recomputed table replaced the damaged file
    notes.clear()
    tiny_rank(cache, notes)
    assert notes == [] and count_scoring["score"] == [len(PANEL) * 5]


def test_scored_rows_file_of_another_format_or_garbage_is_refused(cold, tmp_path):
    cache_src, out, _ = cold
    cache = copy_cache(cache_src, tmp_path)
    key = json.loads((out / "manifest.json").read_text())["model_cache"]["key"]
    path = scores_file(cache, key)
    blob = path.read_bytes()
    for damage, reason in [
        (b"\x00garbage", "unreadable"),
        (b"", "unreadable"),
        (b'{"format": "other"}\n' + blob, "not a model cache"),
        (blob.replace(b'"point_scores", "<f8", [', b'"point_scores", "<f8", [9', 1), "unreadable"),
        (blob[:-8] + bytes(8), "checksum mismatch"),
    ]:
        path.write_bytes(damage)
        notes: list[str] = []
        assert ModelCache(cache / "models", notes.append).load_arrays(key) is None
        assert len(notes) == 1 and reason in notes[0] and "\n" not in notes[0], (reason, notes)


# ------------------------------------------------------------------------------ faults
def _corrupt(path: Path) -> None:
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0xFF
    path.write_bytes(bytes(blob))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.write_bytes(b"\x00garbage"), "unreadable"),
        (lambda p: p.write_text(""), "unreadable"),
        (lambda p: p.write_bytes(b'{"format": "other"}\n' + p.read_bytes()), "not a model cache"),
        (_truncate, "checksum mismatch"),
    ],
    ids=["garbage", "empty", "foreign", "truncated"],
)
def test_damaged_file_is_refused_with_one_line(cold, tmp_path, damage, reason):
    cache_src, _, _ = cold
    cache = copy_cache(cache_src, tmp_path)
    path = model_files(cache)[0]
    damage(path)
    notes: list[str] = []
    assert ModelCache(cache / "models", notes.append).load(path.stem) is None
    assert len(notes) == 1 and "refused" in notes[0] and reason in notes[0], notes
    assert "\n" not in notes[0]


@pytest.mark.parametrize(("damage", "reason"), [(_corrupt, "checksum mismatch"), (_truncate, "checksum")], ids=["flipped-byte", "truncated"])  # fmt: skip
def test_corrupt_cache_file_is_refused_and_retrained(cold, tmp_path, damage, reason):
    cache_src, out, _ = cold
    cache = copy_cache(cache_src, tmp_path)
    for path in model_files(cache):
        damage(path)
    notes: list[str] = []
    ranking = tiny_rank(cache, notes)
    assert ranking.manifest["model_cache"]["used"] is False
    assert len(notes) == 2 and all("refused" in n and reason in n for n in notes), notes
    assert all("\n" not in n for n in notes)
    same_files(out, ranking.write(tmp_path / "run"))
    # the retrained models replaced the damaged files
    assert tiny_rank(cache).manifest["model_cache"]["used"] is True


def test_cache_from_another_library_version_is_refused(cold, tmp_path):
    cache_src, out, _ = cold
    cache = copy_cache(cache_src, tmp_path)
    for path in model_files(cache):
        head, _, payload = path.read_bytes().partition(b"\n")
        header = json.loads(head)
        assert header["format"] == FORMAT
        header["versions"]["lightgbm"] = "3.0.0"
        path.write_bytes(json.dumps(header).encode() + b"\n" + payload)
    notes: list[str] = []
    ranking = tiny_rank(cache, notes)
    assert ranking.manifest["model_cache"]["used"] is False
    assert notes and all("lightgbm 3.0.0" in n and "retraining" in n for n in notes), notes
    same_files(out, ranking.write(tmp_path / "run"))


def test_read_only_cache_folder_retrains_and_warns(cold, tmp_path, monkeypatch):
    _, out, _ = cold
    import targetrank._atomic as atomic

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)  # what a read-only folder does
    notes: list[str] = []
    ranking = tiny_rank(tmp_path / "ro", notes)
    assert ranking.manifest["model_cache"]["used"] is False
    assert len(notes) == 1 and "not written" in notes[0] and "Permission denied" in notes[0], notes
    same_files(out, ranking.write(tmp_path / "run"))


def test_cache_folder_that_is_a_file_retrains_and_warns(cold, tmp_path):
    _, out, _ = cold
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    notes: list[str] = []
    ranking = tiny_rank(blocker, notes)
    assert ranking.manifest["model_cache"]["used"] is False
    assert len(notes) == 1 and "not written" in notes[0], notes
    same_files(out, ranking.write(tmp_path / "run"))


def _writer(root: str, key: str, rounds: int) -> None:
    cache = ModelCache(root)
    state = {"blob": "x" * 2_000_000, "n": list(range(50_000))}
    for _ in range(rounds):
        assert cache.store(key, state)


def test_two_processes_writing_one_key_never_leave_a_partial_file(tmp_path):
    key = "ab" * 32
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(tmp_path), key, 15)) for _ in range(2)]
    for w in writers:
        w.start()
    notes: list[str] = []
    reader = ModelCache(tmp_path, notes.append)
    seen = 0
    while any(w.is_alive() for w in writers):
        state = reader.load(key)
        if state is not None:
            assert len(state["blob"]) == 2_000_000 and state["n"][-1] == 49_999
            seen += 1
    for w in writers:
        w.join()
        assert w.exitcode == 0
    assert notes == [] and reader.load(key) is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers
    assert seen >= 0


# ------------------------------------------------------------------------------- the CLI
def test_cli_passes_cache_options_and_writes_notices_to_stderr(runner, tmp_path, monkeypatch):
    import targetrank.pipeline as pipeline

    real = pipeline.rank
    seen = {}

    def noisy(**kwargs):
        seen.update(kwargs)
        kwargs["notice"]("model cache abc refused: checksum mismatch; retraining")
        return real(**{**kwargs, "scorer": "weighted"})

    monkeypatch.setattr(pipeline, "rank", noisy)
    cache = tmp_path / "c"
    args = ["rank", "--no-cache", "--cache-dir", str(cache), "--out", str(tmp_path / "run")]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert seen["cache"] is False and seen["cache_dir"] == str(cache)
    assert "Note: model cache abc refused: checksum mismatch; retraining" in result.stderr
    assert "Note:" not in result.stdout
    assert "--cache-dir" in runner.invoke(main, ["rerun", "--help"]).stdout


def test_weighted_scorer_is_never_cached(tmp_path):
    ranking = t.rank(["TIGIT"], scorer="weighted", cache_dir=tmp_path)
    assert ranking.manifest["model_cache"] == {"used": False, "key": None}
    assert not (tmp_path / "models").exists()


def test_warm_run_reuses_the_model_card_evaluation(cold, tmp_path, monkeypatch):
    """The evaluation depends only on the cached models and the strategies shown: a warm run
    returns the stored one, equal to the cold run's, and never recomputes it."""
    import targetrank.steps.rank as rank_step

    cache = copy_cache(cold[0], tmp_path)  # the models (the evaluation is not stored yet)
    first = tiny_rank(cache, evaluate_model=True)
    assert {"evaluation", "genome_validation"} <= set(first.model_card)

    def fail(*args, **kwargs):
        raise AssertionError("the warm run recomputed the evaluation")

    monkeypatch.setattr(rank_step, "quick_evaluation", fail)
    warm = tiny_rank(cache, evaluate_model=True)
    assert warm.manifest["model_cache"]["used"] is True
    for part in ("evaluation", "genome_validation"):
        assert json.dumps(warm.model_card[part]) == json.dumps(first.model_card[part])
    # another strategy subset is another evaluation: computed, not taken from the full one
    with pytest.raises(AssertionError, match="recomputed"):
        tiny_rank(cache, evaluate_model=True, strategies=["bone_resident"])


def test_warm_run_never_loads_lightgbm_or_scikit_learn(cold, tmp_path):
    """A warm run reads every row it shows from the scored rows, so it neither imports LightGBM
    and scikit-learn (~2.5 s of start-up) nor parses a model; its ranking is the cold one."""
    import subprocess
    import sys

    cache, out, _ = cold
    script = f"""
import sys
import targetrank as t
from targetrank.model.lightgbm_scorer import LightGBMScorer
from tests.support.rankers import TINY
r = t.rank(scorer=LightGBMScorer(**TINY), targets={PANEL!r}, evaluate_model=False,
           cache_dir={str(copy_cache(cache, tmp_path))!r})
r.write({str(tmp_path / "run")!r})
assert r.manifest["model_cache"]["used"] is True
print(sorted(m for m in ("lightgbm", "sklearn", "scipy") if m in sys.modules))
"""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    same_files(out, tmp_path / "run")
