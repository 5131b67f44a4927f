"""B2 genome-wide ranking: cost per phase at 200 / 2,000 / 20,598 genes, and the bootstrap.

Every size runs ``targetrank.rank(universe="genome")`` in a fresh child process (``python -m
bench.b2_ranking --child``), so its peak RSS (``ru_maxrss`` of that child, from ``os.wait4``)
is its own. The child times the phases by wrapping the library's functions (no library change):

- assembly: ``load_inputs`` + the (target, strategy) rows built for scoring;
- fit: level-1 prior, level-2 out-of-fold models, bootstrap ensemble (from the progress ticks);
- score: what the rank step's scoring takes (``ScoredRows.score``): in a cold child the
  ranker's ``score`` = predictions (OOF + full model), TreeSHAP contributions and the
  replicates' predictions; in a warm child the scored rows read from the model cache;
- drivers: the top-driver texts (``ScoredRows.texts``: formatted by ``drivers_text`` in a cold
  child, read with the scored rows in a warm one);
- assemble: ranks, rank intervals (``intervals``) and the table.

"score+explain" is score + drivers + assemble. The quick model-card evaluation is off
(``evaluate_model=False``): B4 measures evaluation. The genome size runs cold (a fresh model
cache, which the cold run fills) and then warm (the trained models and the scored rows, i.e.
scores, contributions and replicate scores of every row, read from that cache).

What a user waits for is measured beside it: the CLI ``targetrank rank`` end to end (start-up,
imports, fit or cache, model-card evaluation, exports), each in a fresh process, in interleaved
rounds: cold (empty model cache), warm (same cache), warm with another panel; and the wall of
``targetrank --help``.

The bootstrap study fits one ranker with many replicates and splits them into disjoint sets
of B: the spread of the interval endpoints between sets of the same B is the Monte Carlo noise
of a B-replicate interval, at the cost per replicate measured above.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bench.synthetic import feature_subset
from bench.timing import verdict

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "score_explain_s": 5.0,
    "peak_rss_gb": 1.5,
    "cli_warm_vs_cold": 0.2,
    "cli_warm_panel_vs_cold": 0.25,
    "help_s": 0.5,
}
OTHER_PANEL = "TIGIT,CD274,SPP1,SOST"


@dataclass
class B2Config:
    """Sizes, repetitions and ranker options."""

    sizes: list[int] = field(default_factory=lambda: [200, 2000, 20598])
    repeats: int = 1
    ranker: dict[str, Any] = field(default_factory=dict)  # RankerConfig overrides
    marginal_bootstrap: bool = False  # also run the genome size with n_bootstrap=0
    study_replicates: int = 20  # bootstrap study: replicates fitted (0: skip)
    study_sets: list[int] = field(default_factory=lambda: [5, 10])
    study_features: str = "snapshot"
    probe: bool = False  # profile + TreeSHAP threads probe in one extra genome child
    cli_rounds: int = 2  # CLI rank cold / warm / warm other panel (0: skip)


# --------------------------------------------------------------------------------------------
# The child: one instrumented rank() call
# --------------------------------------------------------------------------------------------


def child(
    features: str, ranker: dict[str, Any], *, probe: bool = False, cache_dir: str | None = None
) -> dict[str, Any]:
    """Run one genome ranking with timers around the library's phases.

    ``probe``: afterwards, profile score+assemble with pyinstrument and time TreeSHAP on one
    thread against the row-block threads the library uses, interleaved (3 rounds).
    """
    import resource

    t_start = time.perf_counter()
    import targetrank
    from targetrank import assemble
    from targetrank.model import strategy_ranker
    from targetrank.model.cache import ScoredRows
    from targetrank.model.lightgbm_scorer import LightGBMScorer
    from targetrank.model.scoring import ScoringContext
    from targetrank.steps import rank as rank_step

    t_import = time.perf_counter() - t_start
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    state = {"inside": 0, "in_fit": False, "prior_in_fit": False}

    def wrap(owner: Any, name: str, key: str, *, nested: bool = False) -> None:
        fn = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if nested and state["inside"]:
                return fn(*args, **kwargs)
            state["inside"] += 1
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                times[key] = times.get(key, 0.0) + time.perf_counter() - t0
                cpu[key] = cpu.get(key, 0.0) + time.process_time() - c0
                state["inside"] -= 1

        setattr(owner, name, timed)

    # patched where they are looked up: the rank step, and the numerics module for its helpers
    wrap(rank_step, "load_inputs", "assembly_inputs")
    wrap(ScoringContext, "rows", "assembly_rows", nested=True)
    wrap(LightGBMScorer, "fit", "fit")
    # the level-1 prior: inside fit() only when level 2 uses it, else on first use (the card
    # or the cache state); timed on its own and added to the fit when it ran outside fit()
    wrap(LightGBMScorer, "_fit_prior", "prior")
    real_fit_prior = LightGBMScorer._fit_prior

    def flagged_prior(self: Any, *args: Any, **kwargs: Any) -> Any:
        state["prior_in_fit"] = state["prior_in_fit"] or state["in_fit"]
        return real_fit_prior(self, *args, **kwargs)

    LightGBMScorer._fit_prior = flagged_prior  # type: ignore[method-assign]
    real_fit = LightGBMScorer.fit

    def flagged_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        state["in_fit"] = True
        try:
            return real_fit(self, *args, **kwargs)
        finally:
            state["in_fit"] = False

    LightGBMScorer.fit = flagged_fit  # type: ignore[method-assign]
    wrap(LightGBMScorer, "restore", "fit")  # models read from the cache instead of a fit
    # the rank step scores through ScoredRows: rows read from the cached scored table, or
    # computed by the ranker (score_model) and kept
    wrap(ScoredRows, "score", "score")
    # the top-driver texts: formatted (cold) or read with the scored rows (warm), before assemble
    wrap(ScoredRows, "texts", "drivers_texts")
    wrap(LightGBMScorer, "score", "score_model")
    wrap(rank_step, "genome_ranks", "genome_ranks")
    wrap(rank_step, "assemble", "assemble")
    wrap(assemble, "intervals", "assemble_intervals")
    wrap(assemble, "drivers_text", "assemble_drivers")
    predict_time = {"predict": 0.0, "explain": 0.0}
    for method in ("predict", "explain"):
        original = getattr(strategy_ranker.StrategyRanker, method)

        def counted(self: Any, X: Any, _f: Any = original, _m: str = method) -> Any:
            t0 = time.perf_counter()
            out = _f(self, X)
            predict_time[_m] += time.perf_counter() - t0
            return out

        setattr(strategy_ranker.StrategyRanker, method, counted)

    ticks: list[tuple[float, str, int]] = []

    def progress(step: str, done: int, total: int) -> None:
        ticks.append((time.perf_counter(), step, done))

    scorer = LightGBMScorer(**ranker)
    cfg = scorer.config
    t0 = time.perf_counter()
    ranking = targetrank.rank(
        universe="genome",
        features=features,
        scorer=scorer,
        seed=0,
        evaluate_model=False,
        progress=progress,
        cache=cache_dir is not None,
        cache_dir=cache_dir,
    )
    total = time.perf_counter() - t0
    fit_start = next(t for t, step, _ in ticks if step == "fitting")
    # the level-1 prior is fitted on first use (the model card or the cache state), after the
    # level-2 models when level 2 does not use it: phases are measured as spans of their ticks
    prior_ticks = [t for t, step, _ in ticks if step == "precedence prior"]
    prior_s = times.get("prior", 0.0)
    fit_s = times.get("fit", 0.0) + (0.0 if state["prior_in_fit"] else prior_s)
    if "prior" not in times and prior_ticks:
        # fitted inside fit(), its folds in the same threads as the level-2 models (a run
        # that writes a model card): the span until its last fold arrived. Results are
        # collected in job order, prior first, so level-2 fits that finished meanwhile are
        # counted in this span and the out-of-fold span after it is near 0: the phases share
        # the pool and only the fit total is a time a user waits for
        prior_s = max(prior_ticks) - fit_start
    oof_n = cfg.n_repeats * (cfg.n_folds + 1)  # one fold set + whole-table model per draw
    ranker_ticks = [t for t, step, _ in ticks if step == "strategy ranker"]
    if ranker_ticks:
        before = [t for t in prior_ticks if t < ranker_ticks[0]]
        oof_start = max(before) if before else fit_start
        oof_end = ranker_ticks[oof_n - 1]
        oof_s = oof_end - oof_start
        boot_s = ranker_ticks[-1] - oof_end if cfg.n_refits else 0.0
    else:  # restored from the model cache: no training ticks
        oof_s = boot_s = 0.0
    rows = ranking.table.height
    usage = resource.getrusage(resource.RUSAGE_SELF)
    extra: dict[str, Any] = {}
    if probe:
        try:
            extra = _probe(scorer, ranking)
        except Exception as exc:  # the timings above stand without the probe
            extra = {"probe_error": f"{type(exc).__name__}: {exc}"}
    return extra | {
        "features": features,
        "genes": ranking.table["symbol"].n_unique(),
        "rows": rows,
        "strategies": ranking.table["strategy"].n_unique(),
        "n_bootstrap": cfg.n_refits,
        "n_folds": cfg.n_folds,
        "n_repeats": cfg.n_repeats,
        "model_cache_used": bool(ranking.manifest["model_cache"]["used"]),
        "import_s": t_import,
        "rank_total_s": total,
        "assembly_s": times.get("assembly_inputs", 0.0) + times.get("assembly_rows", 0.0),
        "fit_s": fit_s,
        "fit_prior_s": prior_s,
        "fit_oof_s": oof_s,
        "fit_bootstrap_s": boot_s,
        "score_s": times["score"],
        "score_model_s": times.get("score_model", 0.0),
        "genome_ranks_s": times.get("genome_ranks", 0.0),
        "scored_rows_read": bool(ranking.manifest["model_cache"]["used"])
        and "score_model" not in times,
        "score_predict_s": predict_time["predict"],
        "score_explain_s": predict_time["explain"],
        "assemble_s": times["assemble"],
        "assemble_intervals_s": times.get("assemble_intervals", 0.0),
        "assemble_drivers_s": times.get("assemble_drivers", 0.0),
        "drivers_texts_s": times.get("drivers_texts", 0.0),
        "score_plus_explain_s": times["score"]
        + times.get("drivers_texts", 0.0)
        + times["assemble"],
        "score_plus_explain_cpu_s": cpu["score"] + cpu.get("drivers_texts", 0.0) + cpu["assemble"],
        "self_cpu_s": usage.ru_utime + usage.ru_stime,
        "self_maxrss_mb": usage.ru_maxrss / 1024,
        "self_vm_hwm_mb": _vm_hwm_mb(),
    }


def _probe(scorer: Any, ranking: Any) -> dict[str, Any]:
    """pyinstrument summary of score + assemble, and TreeSHAP threads vs one thread."""
    from pyinstrument import Profiler

    from bench.timing import interleave
    from bench.timing import ratio as paired
    from targetrank.assemble import assemble
    from targetrank.model.matrix import to_matrix

    keys = ranking.rows.select("strategy", "entrez_id")
    rows = scorer.rows_for(scorer._context, keys)
    profiler = Profiler(interval=0.005)
    profiler.start()
    result = scorer.score(rows)
    assemble(rows, result, _inputs_for(scorer, rows))
    profiler.stop()
    summary = _frames(profiler.last_session.root_frame())
    X = to_matrix(rows.join(scorer.prior_map_, on="entrez_id", how="left"), scorer.feature_names_)
    model = scorer.full_model_
    series = interleave(
        {
            "one_thread": lambda: model.booster_.predict(X, pred_contrib=True, num_threads=1),
            "row_threads": lambda: model.explain(X),
        },
        3,
    )
    return {
        "profile_top": summary,
        "treeshap_one_thread_s": series["one_thread"].wall,
        "treeshap_row_threads_s": series["row_threads"].wall,
        "treeshap_threads_ratio": paired(series, "row_threads", "one_thread"),
        "treeshap_rows": int(X.shape[0]),
    }


def _inputs_for(scorer: Any, rows: Any) -> Any:
    """The RankInputs ``assemble`` reads (targets, evidence, strategies) for these rows."""
    from targetrank.pipeline import RankInputs

    ctx = scorer._context
    targets = rows.select(
        pl.col("symbol").alias("query"), "symbol", "ensembl_id", "entrez_id"
    ).unique("entrez_id", maintain_order=True)
    return RankInputs(
        ctx.features, "", ctx.strategies, ctx.evidence, ctx.labels, targets, ctx.seed_entrez
    )


def _frames(root: Any, limit: int = 12) -> list[dict[str, Any]]:
    """Time by (function, file) over the profile, innermost library/extension frames first."""
    totals: dict[str, float] = {}

    def walk(frame: Any, stack: frozenset[str]) -> None:
        name = f"{frame.function} ({frame.file_path_short})"
        if "acquire" in frame.function and any(s.startswith("_predict_rows") for s in stack):
            # pyinstrument samples the main thread, which waits here for the row-block threads
            name = "LightGBM predict/TreeSHAP in row-block threads (main thread waiting)"
        if not frame.is_synthetic and name not in stack:  # [self] is in its parent already
            totals[name] = totals.get(name, 0.0) + frame.total_self_time
        for child in frame.children:
            walk(child, stack | {name})

    walk(root, frozenset())
    total = root.time or 1.0
    top = sorted(totals.items(), key=lambda kv: -kv[1])[:limit]
    return [{"frame": k, "self_s": v, "share": v / total} for k, v in top]


def _vm_hwm_mb() -> float | None:
    """This process's own peak RSS (VmHWM), not inherited from a parent."""
    try:
        with open("/proc/self/status") as status:  # noqa: PTH123
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _spawn_measured(
    features: str, ranker: dict[str, Any], *, probe: bool = False, cache_dir: str | None = None
) -> dict[str, Any]:
    """One fresh process, forked by a small launcher: its own peak RSS (``ru_maxrss``)."""
    import tempfile

    cmd = [sys.executable, "-m", "bench.b2_ranking", "--child", features, json.dumps(ranker)]
    cmd += [json.dumps(cache_dir)]
    cmd = [sys.executable, "-m", "bench._launch", *cmd, *(["--probe"] if probe else [])]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT, stdout=out, stderr=err, env=env)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if code != 0:
        raise RuntimeError(f"B2 child failed for {features}: {errors[-2000:]}")
    result = json.loads(text.strip().splitlines()[-1])
    usage = json.loads(errors.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    result["child_maxrss_mb"] = usage["maxrss_mb"]
    result["child_cpu_s"] = usage["cpu_s"]
    return result


# --------------------------------------------------------------------------------------------
# Bootstrap study
# --------------------------------------------------------------------------------------------


def bootstrap_study(replicates: int, sets: list[int], features: str = "snapshot") -> dict[str, Any]:
    """Interval width and Monte Carlo stability for B replicates (disjoint sets of one fit).

    Replicate b depends only on (seed, b), so replicates 0..B-1 of a big ensemble *are* the
    B-replicate ensemble; disjoint sets of B give independent B-replicate intervals.
    """
    import targetrank
    from targetrank.assemble import intervals
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    scorer = LightGBMScorer(n_refits=replicates)
    t0 = time.perf_counter()
    ranking = targetrank.rank(scorer=scorer, seed=0, evaluate_model=False, features=features)
    wall = time.perf_counter() - t0
    rows = ranking.rows
    result = scorer.score(scorer.rows_for(scorer._context, rows.select("strategy", "entrez_id")))
    reps = result.replicates
    strategy = rows["strategy"].to_numpy()
    symbols = rows["symbol"].to_numpy()
    out: dict[str, Any] = {
        "universe": "default (seed panel + evidence targets)",
        "rows": len(symbols),
        "replicates_fitted": replicates,
        "rank_wall_s": wall,
        "by_b": {},
    }
    low, high, _ = intervals(strategy, reps, symbols)
    out["by_b"][str(replicates)] = {
        "sets": 1,
        "median_width": float(np.median(high - low)),
        "endpoint_jitter": None,
        "p_top10_jitter": None,
    }
    for b in sets:
        k = replicates // b
        if k < 2:
            continue
        parts = [intervals(strategy, reps[i * b : (i + 1) * b], symbols) for i in range(k)]
        widths = [float(np.median(high - low)) for low, high, _ in parts]
        jitter, p10 = [], []
        for i in range(k):
            for j in range(i + 1, k):
                jitter.append(
                    float(
                        np.mean(
                            (np.abs(parts[i][0] - parts[j][0]) + np.abs(parts[i][1] - parts[j][1]))
                            / 2
                        )
                    )
                )
                p10.append(float(np.mean(np.abs(parts[i][2] - parts[j][2]))))
        out["by_b"][str(b)] = {
            "sets": k,
            "median_width": statistics.median(widths),
            "endpoint_jitter": statistics.median(jitter),
            "p_top10_jitter": statistics.median(p10),
        }
    return out


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------


def _linearity(points: list[tuple[int, float]]) -> float | None:
    """Log-log slope of cost vs size between the two largest sizes (1.0 = linear)."""
    pts = sorted(p for p in points if p[1] > 0)
    if len(pts) < 2:
        return None
    (n1, t1), (n2, t2) = pts[-2], pts[-1]
    return float(np.log(t2 / t1) / np.log(n2 / n1))


def run(cfg: B2Config, *, log: Any = print) -> dict[str, Any]:
    """Every size in a fresh child, ``repeats`` times interleaved; medians."""
    folders = {n: feature_subset(n) for n in cfg.sizes}
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in cfg.sizes}
    marginal: list[dict[str, Any]] = []
    genome = max(cfg.sizes)
    import tempfile

    warm: list[dict[str, Any]] = []
    log(f"B2 genome-wide ranking: sizes {cfg.sizes}, {cfg.repeats} repeat(s), fresh process each")
    for _ in range(cfg.repeats):
        with tempfile.TemporaryDirectory(prefix="b2-cache-") as cache:
            for n in cfg.sizes:
                runs[n].append(_spawn_measured(folders[n], cfg.ranker, cache_dir=cache))
            warm.append(_spawn_measured(folders[genome], cfg.ranker, cache_dir=cache))
        if cfg.marginal_bootstrap:
            marginal.append(_spawn_measured(folders[genome], {**cfg.ranker, "n_refits": 0}))

    keys = [
        "genes", "rows", "rank_total_s", "assembly_s", "fit_s", "fit_prior_s", "fit_oof_s",
        "fit_bootstrap_s", "score_s", "score_model_s", "genome_ranks_s", "score_predict_s",
        "score_explain_s", "drivers_texts_s", "assemble_s",
        "assemble_intervals_s", "assemble_drivers_s", "score_plus_explain_s",
        "score_plus_explain_cpu_s", "child_cpu_s",
        "child_maxrss_mb", "process_wall_s",
    ]  # fmt: skip

    def med(items: list[dict[str, Any]]) -> dict[str, float]:
        return {k: statistics.median(float(r[k]) for r in items) for k in keys}

    sizes = {n: med(runs[n]) for n in cfg.sizes}
    warm_genome = med(warm)
    if not all(w["model_cache_used"] and w["scored_rows_read"] for w in warm) or any(
        r["model_cache_used"] for n in cfg.sizes for r in runs[n]
    ):
        raise RuntimeError("B2: a cold child hit the model cache or a warm child missed it")
    first = runs[genome][0]
    n_boot = int(first["n_bootstrap"])
    for n in cfg.sizes:
        s = sizes[n]
        log(
            f"  {int(s['genes']):>6} genes x {int(s['rows'] / max(s['genes'], 1))} strategies: "
            f"rank {s['rank_total_s']:6.2f} s = assembly {s['assembly_s']:.2f} + fit "
            f"{s['fit_s']:.2f} (prior {s['fit_prior_s']:.2f}, oof {s['fit_oof_s']:.2f}, "
            f"bootstrap {s['fit_bootstrap_s']:.2f}) + score {s['score_s']:.2f} (predict "
            f"{s['score_predict_s']:.2f}, TreeSHAP {s['score_explain_s']:.2f}) + driver texts "
            f"{s['drivers_texts_s']:.2f} (formatting {s['assemble_drivers_s']:.2f}) + assemble "
            f"{s['assemble_s']:.2f} (intervals {s['assemble_intervals_s']:.2f}); peak RSS "
            f"{s['child_maxrss_mb']:.0f} MB"
        )
    g = sizes[genome]
    ratios: dict[str, dict[str, Any]] = {}

    def add(key: str, value: float | None, target: float, what: str) -> None:
        if value is None:
            return
        ratios[key] = {
            "value": value,
            "target": target,
            "at_most": True,
            "verdict": verdict(value, target),
            "what": what,
        }

    w = warm_genome
    add("score_explain_s", w["score_plus_explain_s"], TARGETS["score_explain_s"],
        f"score + assemble at {int(w['genes'])} genes, trained models and scored rows from the "
        f"model cache, seconds (wall, median; cold child {g['score_plus_explain_s']:.2f} s)")  # fmt: skip
    ratios["score_explain_cold_s"] = {
        "value": g["score_plus_explain_s"],
        "target": None,
        "at_most": True,
        "verdict": "context (no target)",
        "what": f"score + assemble at {int(g['genes'])} genes in the cold child (models just "
        "trained, every row scored and explained), seconds (wall, median)",
    }
    ratios["library_warm_vs_cold"] = {
        "value": w["rank_total_s"] / g["rank_total_s"],
        "target": None,
        "at_most": True,
        "verdict": "context (no target)",
        "what": f"rank(universe='genome') with cached models / cold ({w['rank_total_s']:.2f} s / "
        f"{g['rank_total_s']:.2f} s, medians)",
    }
    add("peak_rss_gb", g["child_maxrss_mb"] / 1024, TARGETS["peak_rss_gb"],
        "peak RSS of the genome-size child, GB")  # fmt: skip
    growth = {}
    for key in ("rank_total_s", "score_plus_explain_s", "fit_s", "child_maxrss_mb"):
        slope = _linearity([(int(sizes[n]["genes"]), sizes[n][key]) for n in cfg.sizes])
        growth[key] = slope
    add("growth_score_explain", growth["score_plus_explain_s"], 1.15,
        "log-log slope of score+explain between the two largest sizes (1 = linear)")  # fmt: skip
    add("growth_rank_total", growth["rank_total_s"], 1.15,
        "log-log slope of the whole rank() between the two largest sizes")  # fmt: skip

    # the bootstrap: cost per replicate
    boot: dict[str, Any] = {"n_bootstrap_default": n_boot}
    if n_boot:
        boot["fit_per_replicate_s"] = g["fit_bootstrap_s"] / n_boot
        boot["fit_share"] = g["fit_bootstrap_s"] / g["fit_s"]
    if marginal:
        m = med(marginal)
        boot["marginal_total_per_replicate_s"] = (g["rank_total_s"] - m["rank_total_s"]) / n_boot
        boot["marginal_score_explain_per_replicate_s"] = (
            g["score_plus_explain_s"] - m["score_plus_explain_s"]
        ) / n_boot
        boot["rank_total_without_bootstrap_s"] = m["rank_total_s"]
        boot["score_explain_without_bootstrap_s"] = m["score_plus_explain_s"]
        boot["rss_without_bootstrap_mb"] = m["child_maxrss_mb"]
    if cfg.study_replicates:
        boot["study"] = bootstrap_study(cfg.study_replicates, cfg.study_sets, cfg.study_features)
    probe: dict[str, Any] = {}
    if cfg.probe:
        got = _spawn_measured(folders[genome], cfg.ranker, probe=True)
        probe = {k: got[k] for k in got if k.startswith(("profile_", "treeshap_", "probe_"))}
    if "treeshap_rows" in probe:
        log(
            f"  TreeSHAP on {probe['treeshap_rows']:,} rows: one thread "
            f"{probe['treeshap_one_thread_s']:.2f} s, row-block threads "
            f"{probe['treeshap_row_threads_s']:.2f} s (ratio {probe['treeshap_threads_ratio']:.2f})"
        )
        for item in probe["profile_top"][:6]:
            log(f"    {item['share']:5.0%}  {item['self_s']:6.2f} s  {item['frame']}")
    log(
        f"  genome, models and scored rows from the cache: rank {w['rank_total_s']:.2f} s (cold "
        f"{g['rank_total_s']:.2f}), score+explain {w['score_plus_explain_s']:.2f} s (cold "
        f"{g['score_plus_explain_s']:.2f} s)"
    )
    cli: dict[str, Any] = {}
    if cfg.cli_rounds:
        cli = cli_study(cfg.cli_rounds, log=log)
        for key in ("cli_warm_vs_cold", "cli_warm_panel_vs_cold"):
            add(key, cli["ratios"][key], TARGETS[key], cli["what"][key])
        add(
            "help_s", cli["help_s"], TARGETS["help_s"], "`targetrank --help` wall, seconds (median)"
        )
    _print_boot(boot, log)
    for key, r in ratios.items():
        target = "-" if r["target"] is None else f"<= {r['target']}"
        log(f"  {key:<22} {r['value']:7.2f}   target {target:<8} {r['verdict']}")
    return {
        "name": "B2 genome-wide ranking",
        "sizes": {str(n): sizes[n] for n in cfg.sizes},
        "runs": {str(n): runs[n] for n in cfg.sizes},
        "repeats": cfg.repeats,
        "ranker": cfg.ranker,
        "growth_slopes": growth,
        "warm_genome": warm_genome,
        "cli": cli,
        "bootstrap": boot,
        "probe": probe,
        "ratios": ratios,
    }


def _cli(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``targetrank`` command in a fresh process (checked)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "targetrank", *args], cwd=cwd, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"B2 CLI {args[:2]} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cli_study(rounds: int, *, log: Any = print) -> dict[str, Any]:
    """``targetrank rank`` end to end, cold / warm / warm with another panel, interleaved.

    Each round empties a model cache, runs the default ranking cold (it fills the cache), then
    warm, then warm with another panel; the order within a round is fixed (warm needs cold
    first), the ratios are paired by round. Every run writes its run folder (CSV, heatmap,
    explanations, model card with the out-of-fold evaluation), as a user's does.
    """
    import tempfile

    samples: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "warm_panel": []}
    helps = []
    with tempfile.TemporaryDirectory(prefix="b2-cli-") as tmp:
        root = Path(tmp)
        for r in range(rounds):
            cache = root / f"cache{r}"
            base = ["rank", "--quiet", "--cache-dir", str(cache)]
            samples["cold"].append(_cli([*base, "--out", str(root / f"cold{r}")], root))
            samples["warm"].append(_cli([*base, "--out", str(root / f"warm{r}")], root))
            panel = ["--targets", OTHER_PANEL, "--out", str(root / f"panel{r}")]
            samples["warm_panel"].append(_cli([*base, *panel], root))
            for name in ("ranking.csv", "model_card.json"):
                if (root / f"cold{r}" / name).read_bytes() != (
                    root / f"warm{r}" / name
                ).read_bytes():
                    raise RuntimeError(f"B2 CLI: warm {name} differs from cold")
            helps += [_cli(["--help"], root)[0] for _ in range(3)]

    def stats(xs: list[tuple[float, float]]) -> dict[str, float]:
        walls = [w for w, _ in xs]
        return {
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "cpu_median_s": statistics.median(c for _, c in xs),
            "n": len(xs),
        }

    figures = {k: stats(v) for k, v in samples.items()}
    paired = {
        key: statistics.median(
            w / c for (w, _), (c, _) in zip(samples[variant], samples["cold"], strict=True)
        )
        for key, variant in (("cli_warm_vs_cold", "warm"), ("cli_warm_panel_vs_cold", "warm_panel"))
    }
    out = {
        "rounds": rounds,
        "figures": figures,
        "ratios": paired,
        "help_s": statistics.median(helps),
        "help_min_s": min(helps),
        "help_max_s": max(helps),
        "what": {
            "cli_warm_vs_cold": "`targetrank rank` (default panel) warm / cold, end to end, "
            "paired by round",
            "cli_warm_panel_vs_cold": f"`targetrank rank --targets {OTHER_PANEL}` warm / default "
            "cold, paired by round",
        },
    }
    for k, f in figures.items():
        log(
            f"  CLI rank {k:<10} median {f['median_s']:6.2f} s (min {f['min_s']:.2f}, max "
            f"{f['max_s']:.2f}; CPU {f['cpu_median_s']:.2f} s; n={f['n']})"
        )
    log(
        f"  targetrank --help {out['help_s']:.2f} s (min {out['help_min_s']:.2f}, max {out['help_max_s']:.2f})"
    )
    return out


def _print_boot(boot: dict[str, Any], log: Any) -> None:
    if "fit_per_replicate_s" in boot:
        log(
            f"  bootstrap (B={boot['n_bootstrap_default']}): fit {boot['fit_per_replicate_s']:.2f} "
            f"s per replicate ({boot['fit_share']:.0%} of the fit)"
        )
    if "marginal_total_per_replicate_s" in boot:
        log(
            f"  bootstrap marginal cost (B={boot['n_bootstrap_default']} vs B=0, genome): "
            f"{boot['marginal_total_per_replicate_s']:.2f} s per replicate in rank(), "
            f"{boot['marginal_score_explain_per_replicate_s']:.3f} s of it in score+explain"
        )
    study = boot.get("study")
    if study:
        for b, s in study["by_b"].items():
            if s["endpoint_jitter"] is None:
                log(
                    f"  B={b:>3}: median interval width {s['median_width']:.1f} ranks (all replicates)"
                )
                continue
            log(
                f"  B={b:>3}: median interval width {s['median_width']:.1f} ranks, endpoint "
                f"jitter {s['endpoint_jitter']:.2f} ranks, P(top10) jitter "
                f"{s['p_top10_jitter']:.3f} ({s['sets']} disjoint sets)"
            )


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        probe = "--probe" in sys.argv[5:]
        cache = json.loads(sys.argv[4])
        print(json.dumps(child(sys.argv[2], json.loads(sys.argv[3]), probe=probe, cache_dir=cache)))
    else:
        raise SystemExit("internal entry: use `python -m bench`")
