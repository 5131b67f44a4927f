"""RESULTS.md: the machine, every figure and ratio, and for each missed target what bounds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from targetrank.model.lightgbm_scorer import RankerConfig


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def _ratio_rows(ratios: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| ratio | value | target | verdict | what |", "|---|---|---|---|---|"]
    for key, r in ratios.items():
        target = (
            "-" if r["target"] is None else ("≤ " if r["at_most"] else "≥ ") + _fmt(r["target"])
        )
        lines.append(f"| `{key}` | {_fmt(r['value'])} | {target} | {r['verdict']} | {r['what']} |")
    return lines


def _machine(m: dict[str, Any], end: dict[str, Any]) -> list[str]:
    v = m["versions"]
    return [
        f"- date: {m['date_utc']}; commit {m['commit']}",
        f"- machine: {m['cores']} cores ({m['cores_available']} available to the process), "
        f"{_fmt(m['ram_gb'], 1)} GB RAM, {m['platform']}",
        f"- load average (1, 5, 15 min): {m['load_average']} at the start, "
        f"{end['load_average']} at the end (the machine is shared: other engineers' test runs)",
        f"- Python {m['python']}, polars {v['polars']}, lightgbm {v['lightgbm']}, numpy "
        f"{v['numpy']}, scikit-learn {v['scikit-learn']}, pandas {v['pandas']}, targetrank "
        f"{v['targetrank']}",
    ]


def _b1(r: dict[str, Any]) -> list[str]:
    s = r["shape"]
    out = [
        f"Input: SYNTHETIC CRISPRGeneEffect + CRISPRGeneDependency, {s['models']:,} models × "
        f"{s['genes']:,} genes, {s['csv_mb']:,.0f} MB of CSV (model ids: {s['model_ids']}); "
        f"parquet cache {s['cache_mb']:,.0f} MB. {r['rounds']} interleaved round(s), medians.",
        "",
        "| variant | wall s (median) | min | max | CPU s |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {k} | {_fmt(f['wall_s'])} | {_fmt(f.get('min_s', f['wall_s']))} | "
        f"{_fmt(f.get('max_s', f['wall_s']))} | {_fmt(f['cpu_s'])} |"
        for k, f in r["figures"].items()
    ]
    out += ["", *_ratio_rows(r["ratios"]), "", f"Checks: {r['checks']}"]
    return out


def _b2(r: dict[str, Any]) -> list[str]:
    out = [
        f"`targetrank.rank(universe='genome')`, 5 strategies, ranker {r['ranker'] or 'defaults'}"
        f" (n_refits={RankerConfig().n_refits}, n_folds={RankerConfig().n_folds}, "
        f"n_repeats={RankerConfig().n_repeats} unless overridden), one fresh process per "
        f"size and repeat ({r['repeats']}×, medians); peak RSS is that child's `ru_maxrss`.",
        "",
        "| genes | rows | rank() s | assembly | fit (prior / oof / bootstrap) | score (predict / "
        "TreeSHAP) | drivers + assemble (intervals / driver texts formatted) | score+explain "
        "wall / CPU | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in r["sizes"].values():
        out.append(
            f"| {int(s['genes']):,} | {int(s['rows']):,} | {_fmt(s['rank_total_s'])} | "
            f"{_fmt(s['assembly_s'])} | {_fmt(s['fit_s'])} ({_fmt(s['fit_prior_s'])} / "
            f"{_fmt(s['fit_oof_s'])} / {_fmt(s['fit_bootstrap_s'])}) | {_fmt(s['score_s'])} "
            f"({_fmt(s['score_predict_s'])} / {_fmt(s['score_explain_s'])}) | "
            f"{_fmt(s['assemble_s'] + s.get('drivers_texts_s', 0.0))} "
            f"({_fmt(s['assemble_intervals_s'])} / "
            f"{_fmt(s['assemble_drivers_s'])}) | {_fmt(s['score_plus_explain_s'])} / "
            f"{_fmt(s['score_plus_explain_cpu_s'])} | {_fmt(s['child_maxrss_mb'], 0)} |"
        )
    w = r.get("warm_genome")
    if w:
        out += [
            "",
            f"Genome size with the trained models and the scored rows read from the model cache "
            f"(fresh process): rank() {_fmt(w['rank_total_s'])} s, score+explain "
            f"{_fmt(w['score_plus_explain_s'])} s (score {_fmt(w['score_s'])}, driver texts "
            f"{_fmt(w.get('drivers_texts_s', 0.0))}, assemble {_fmt(w['assemble_s'])}; cold child {_fmt(r['sizes'][max(r['sizes'], key=int)]['score_plus_explain_s'])} s); "
            f"peak RSS {_fmt(w['child_maxrss_mb'], 0)} MB.",
        ]
    cli = r.get("cli")
    if cli:
        out += [
            "",
            f"What a user waits for: `targetrank rank` end to end (fresh process: start-up, "
            f"inputs, fit or model cache, model-card evaluation, run folder), {cli['rounds']} "
            "round(s) of cold (empty model cache) → warm → warm with another panel:",
            "",
            "| CLI run | wall s (median) | min | max | CPU s |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {k} | {_fmt(f['median_s'])} | {_fmt(f['min_s'])} | {_fmt(f['max_s'])} | "
            f"{_fmt(f['cpu_median_s'])} |"
            for k, f in cli["figures"].items()
        ]
        out.append(
            f"| `targetrank --help` | {_fmt(cli['help_s'])} | {_fmt(cli['help_min_s'])} | "
            f"{_fmt(cli['help_max_s'])} | - |"
        )
    slopes = ", ".join(f"{k} {_fmt(v)}" for k, v in r["growth_slopes"].items())
    out += ["", f"Growth (log-log slope between the two largest sizes, 1 = linear): {slopes}."]
    out += ["", *_ratio_rows(r["ratios"]), ""]
    b = r["bootstrap"]
    out.append("**The bootstrap ensemble.**")
    if "fit_per_replicate_s" in b:
        out.append(
            f"- fit: {_fmt(b['fit_per_replicate_s'])} s per replicate at genome size "
            f"({_fmt(100 * b['fit_share'], 0)} % of the fit at B={b['n_bootstrap_default']})."
        )
    if "marginal_total_per_replicate_s" in b:
        out.append(
            f"- side by side, B={b['n_bootstrap_default']} vs B=0 (genome, same run): rank() "
            f"{_fmt(b['rank_total_without_bootstrap_s'])} s without the ensemble; "
            f"{_fmt(b['marginal_total_per_replicate_s'])} s per replicate in all, "
            f"{_fmt(b['marginal_score_explain_per_replicate_s'], 3)} s of it in score+explain; "
            f"score+explain without the ensemble {_fmt(b['score_explain_without_bootstrap_s'])} s;"
            f" peak RSS without it {_fmt(b['rss_without_bootstrap_mb'], 0)} MB."
        )
    study = b.get("study")
    if study:
        out += [
            "",
            f"Interval width and stability ({study['universe']}, {study['rows']} rows; one fit "
            f"with {study['replicates_fitted']} replicates split into disjoint sets of B; jitter ="
            " mean |difference| of the 5 % and 95 % endpoints between two sets, in ranks):",
            "",
            "| B | sets | median width (ranks) | endpoint jitter (ranks) | P(top 10) jitter |",
            "|---|---|---|---|---|",
        ]
        for key, s in study["by_b"].items():
            out.append(
                f"| {key} | {s['sets']} | {_fmt(s['median_width'], 1)} | "
                f"{_fmt(s['endpoint_jitter'])} | {_fmt(s['p_top10_jitter'], 3)} |"
                if s["endpoint_jitter"] is not None
                else f"| {key} (all) | 1 | {_fmt(s['median_width'], 1)} | - | - |"
            )
    if study and "marginal_total_per_replicate_s" in b:
        by = study["by_b"]
        g = list(r["sizes"].values())[-1]
        if "10" in by and "20" in by:
            extra = 10 * b["marginal_total_per_replicate_s"]
            out += [
                "",
                f"Trade-off: B=10 → 20 adds about {_fmt(extra, 1)} s "
                f"({100 * extra / g['rank_total_s']:.0f} %) to a genome-wide rank() (10 more "
                f"replicates at {_fmt(b['marginal_total_per_replicate_s'])} s), and "
                f"{_fmt(10 * b['fit_per_replicate_s'], 1)} s of fitting to any ranking; the "
                f"endpoint jitter falls from {_fmt(by['10']['endpoint_jitter'])} to "
                f"{_fmt(by['20']['endpoint_jitter'])} ranks, P(top 10) jitter from "
                f"{_fmt(by['10']['p_top10_jitter'], 3)} to {_fmt(by['20']['p_top10_jitter'], 3)},"
                f" and the median width moves from {_fmt(by['10']['median_width'], 1)} towards "
                f"the {study['replicates_fitted']}-replicate "
                f"{_fmt(by[str(study['replicates_fitted'])]['median_width'], 1)} (small B "
                "understates a 5–95 % interval).",
            ]
    probe = r.get("probe") or {}
    if "probe_error" in probe:
        out += ["", f"Profile/threads probe failed: {probe['probe_error']}"]
    if "treeshap_rows" in probe:
        out += [
            "",
            f"TreeSHAP on {probe['treeshap_rows']:,} rows, same process, interleaved: one "
            f"thread {_fmt(probe['treeshap_one_thread_s'])} s, row blocks in threads (the "
            f"library's default on ≥ 2 available cores) {_fmt(probe['treeshap_row_threads_s'])} s "
            f"(ratio {_fmt(probe['treeshap_threads_ratio'])}).",
            "",
            "pyinstrument, score + assemble at genome size (self time by frame):",
            "",
            "| share | self s | frame |",
            "|---|---|---|",
        ]
        out += [
            f"| {100 * p['share']:.0f} % | {_fmt(p['self_s'])} | `{p['frame']}` |"
            for p in probe["profile_top"][:8]
        ]
    return out


def _b3(r: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if "api_skipped" in r:
        out.append(f"API part **skipped**: {r['api_skipped']}.")
    else:
        out += [
            "Loopback fake executing the queries against the real 26.06 schema (../shared), "
            "SYNTHETIC targets; the client without its rate limit.",
            "",
            "| targets | cold POSTs | bound ⌈N/40⌉+2 | kB sent | kB received | kB/target | cold s"
            " | cached POSTs | cached s |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for e in r["api"]["sizes"]:
            c, k = e["cold"], e["cached"]
            out.append(
                f"| {e['targets']:,} | {c['posts']} | {e['bound_cold']} | "
                f"{_fmt(c['bytes_sent'] / 1e3, 1)} | {_fmt(c['bytes_received'] / 1e3, 1)} | "
                f"{_fmt(c['bytes_received'] / e['targets'] / 1e3)} | {_fmt(c['wall_s'])} | "
                f"{k['posts']} | {_fmt(k['wall_s'])} |"
            )
    out += [
        "",
        "Bulk parquet (SYNTHETIC, 26.06 layout): `collect_opentargets` for every target vs a bare"
        " `polars.read_parquet` of the same datasets.",
        "",
        "| targets | parquet MB | collect s | bare read s | ratio |",
        "|---|---|---|---|---|",
    ]
    for b in r["bulk"].get("sizes", [r["bulk"]]):
        f = b["figures"]
        out.append(
            f"| {b['targets']:,} | {_fmt(b['parquet_mb'], 1)} | {_fmt(f['bulk_collect']['wall_s'])}"
            f" | {_fmt(f['bare_read']['wall_s'])} | {_fmt(b['ratio_vs_bare_read'])} |"
        )
    out += ["", *_ratio_rows(r["ratios"])]
    return out


def _b4(r: dict[str, Any]) -> list[str]:
    out = [
        f"`targetrank.evaluate(seed=0, n_bootstrap={r['n_bootstrap']})` on {r['features']}, "
        f"{_fmt(r['wall_s'])} s; mean over the five strategies, NDCG with 95 % bootstrap CIs.",
        "",
        "| setting | k | method | NDCG | 95 % CI |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {m['setting']} | {m['k']} | {m['method']} | {_fmt(m['ndcg'], 3)} | "
        f"[{_fmt(m['ci_low'], 2)}, {_fmt(m['ci_high'], 2)}] |"
        for m in r["mean"]
    ]
    prior = r["prior"].get("model", {})
    out += [
        "",
        f"Level-1 prior: ROC-AUC {_fmt(prior.get('roc_auc'), 3)} "
        f"[{', '.join(_fmt(x, 3) for x in prior.get('roc_auc_ci95') or [])}], "
        f"average precision {_fmt(prior.get('average_precision'), 3)}.",
        "",
        *_ratio_rows(r["ratios"]),
    ]
    return out


def _misses(results: dict[str, Any]) -> list[str]:
    """Each missed target: by how much, and what bounds it (from the measured breakdown)."""
    out: list[str] = []
    for name, r in results["benchmarks"].items():
        for key, ratio in r.get("ratios", {}).items():
            if not str(ratio["verdict"]).startswith("missed"):
                continue
            out.append(f"- **{name} `{key}`**: {_fmt(ratio['value'])} against "
                       f"{'≤' if ratio['at_most'] else '≥'} {_fmt(ratio['target'])}, "
                       f"{ratio['verdict']}. {_bound(name, key, r, results)}")  # fmt: skip
    if out:
        return out
    out = ["Every target with a number was met in this run. The tight ones (within 15 %):", ""]
    for name, r in results["benchmarks"].items():
        for key, ratio in r.get("ratios", {}).items():
            target, value = ratio["target"], ratio["value"]
            if not target or not value or key.startswith("posts_"):  # counts: exact by design
                continue
            use = value / target if ratio["at_most"] else target / value
            if use >= 0.85:
                out.append(
                    f"- **{name} `{key}`**: {_fmt(value)} against "
                    f"{'≤' if ratio['at_most'] else '≥'} {_fmt(target)} ({100 * use:.0f} % of "
                    f"the allowance). {_bound(name, key, r, results)}"
                )
    return out


def _bound(name: str, key: str, r: dict[str, Any], results: dict[str, Any]) -> str:
    load = results["machine"]["load_average"][0]
    cores = results["machine"]["cores"]
    if name == "B2" and key == "score_explain_s":
        g = r.get("warm_genome") or list(r["sizes"].values())[-1]
        total = g["score_plus_explain_s"]
        parts = {
            "TreeSHAP (LightGBM pred_contrib)": g["score_explain_s"],
            "predictions (full model + replicates)": g["score_predict_s"],
            "driver texts (Python string formatting)": g["assemble_drivers_s"],
            "rank intervals": g["assemble_intervals_s"],
        }
        if r.get("warm_genome"):
            parts["scored rows read from the model cache"] = g["score_s"] - g["score_model_s"]
        rest = total - sum(parts.values())
        shares = "; ".join(f"{k} {_fmt(v)} s ({100 * v / total:.0f} %)" for k, v in parts.items())
        probe = r.get("probe") or {}
        threads = ""
        if "treeshap_threads_ratio" in probe:
            threads = (
                f" TreeSHAP alone on {probe['treeshap_rows']:,} rows: "
                f"{_fmt(probe['treeshap_one_thread_s'])} s on one thread, "
                f"{_fmt(probe['treeshap_row_threads_s'])} s in row-block threads "
                f"(ratio {_fmt(probe['treeshap_threads_ratio'])}; load average {load} on {cores}"
                " cores, so the second core was only partly free)."
            )
        return (
            f"Breakdown at genome size, warm (wall): {shares}; other {_fmt(rest)} s; CPU "
            f"{_fmt(g['score_plus_explain_cpu_s'])} s. Bound: LightGBM's C++ TreeSHAP and "
            f"prediction ({_fmt(g['score_explain_s'] + g['score_predict_s'])} s), then the "
            "per-row driver texts." + threads
        )
    if name == "B2" and key.startswith("growth"):
        return "See the phase table: the per-row parts (TreeSHAP, driver texts) set the slope."
    if name == "B2" and key == "peak_rss_gb":
        return "See the peak RSS column (dense contributions: rows × features float64)."
    if name == "B1":
        f = r["figures"]
        cpu_ratio = f["engine"]["cpu_s"] / f["bare_parse"]["cpu_s"]
        extra = f["engine"]["wall_s"] - f["bare_parse"]["wall_s"]
        extra_cpu = f["engine"]["cpu_s"] - f["bare_parse"]["cpu_s"]
        return (
            f"Engine minus bare parse: {_fmt(extra)} s wall, {_fmt(extra_cpu)} s CPU; "
            f"CPU time engine / bare parse {_fmt(cpu_ratio)}; the bare parse used "
            f"{_fmt(f['bare_parse']['cpu_s'] / f['bare_parse']['wall_s'])} cores on average "
            f"(load average {load} on {cores} cores). The engine's work beyond the parse is the "
            "per-gene statistics (numpy, blocks in threads) and the parquet read when cached; "
            "pandas parses on one core, so the pandas ratio falls when the second core is busy."
        )
    if name == "B3" and key.startswith("posts_"):
        return "Requests are counted by the fake: meta, disease resolution, one per batch of 40."
    if name == "B3":
        return "See the bulk table (collect vs bare read per size)."
    return ""


def write_markdown(results: dict[str, Any], path: Path) -> None:
    """Overwrite ``path`` with the results as Markdown."""
    b = results["benchmarks"]
    lines = [
        f"# Benchmark results ({results['mode']} run)",
        "",
        "Written by `python -m bench --" + results["mode"] + "`; every input is SYNTHETIC (see "
        "bench/README.md). Ratios are paired medians of interleaved rounds in the same run.",
        "",
        "## Machine",
        "",
        *_machine(results["machine"], results["machine_end"]),
        f"- total time: {_fmt(results['total_wall_s'], 0)} s",
        "",
    ]
    sections = {"B1": _b1, "B2": _b2, "B3": _b3, "B4": _b4}
    for name, render in sections.items():
        if name in b:
            lines += [f"## {b[name]['name']}", "", *render(b[name]), ""]
    lines += ["## Targets missed, and what bounds them", "", *_misses(results), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
