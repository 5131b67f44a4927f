"""``python -m bench [--quick | --full | --tiny] [--only B1,B3]``: run, print, write results.

``--quick`` (default) runs every benchmark once at real scale where that is cheap (B1's
1,150 x 18,000 matrices, B2's genome) and with fewer repetitions; ``--full`` repeats and adds
the bootstrap marginal-cost runs, the profile and the threads probe, and overwrites
``bench/RESULTS.md``; ``--tiny`` is the smoke test's size (seconds). Quick and tiny results go
to ``bench/_data/`` so RESULTS.md always shows a full run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import b1_depmap, b2_ranking, b3_opentargets, b4_quality
from bench.machine import describe
from bench.report import write_markdown
from bench.synthetic import data_dir, feature_subset

HERE = Path(__file__).resolve().parent
SMALL_RANKER = {"n_repeats": 1, "n_refits": 2, "prior_folds": 3, "n_folds": 3}
ALL = ("B1", "B2", "B3", "B4")


def configs(mode: str) -> dict[str, Any]:
    """Sizes and repetitions per mode."""
    if mode == "tiny":
        sub = feature_subset(300)
        return {
            "B1": b1_depmap.B1Config(n_models=60, n_genes=300, rounds=1),
            "B2": b2_ranking.B2Config(
                sizes=[150, 300],
                ranker=SMALL_RANKER,
                study_replicates=4,
                study_sets=[2],
                study_features=sub,
                cli_rounds=0,
            ),
            "B3": b3_opentargets.B3Config(sizes=[10], bulk_sizes=[100, 200]),
            "B4": b4_quality.B4Config(n_bootstrap=20, ranker=SMALL_RANKER, features=sub),
        }
    if mode == "quick":
        return {
            "B1": b1_depmap.B1Config(rounds=3),
            "B2": b2_ranking.B2Config(study_replicates=20, study_sets=[5, 10], cli_rounds=2),
            "B3": b3_opentargets.B3Config(bulk_sizes=[2000, 20000]),
            "B4": b4_quality.B4Config(n_bootstrap=200),
        }
    return {
        "B1": b1_depmap.B1Config(rounds=3, naive_pandas=True),
        "B2": b2_ranking.B2Config(
            repeats=3,
            cli_rounds=3,
            marginal_bootstrap=True,
            study_replicates=40,
            study_sets=[5, 10, 20],
            probe=True,
        ),
        "B3": b3_opentargets.B3Config(bulk_sizes=[2000, 20000], rounds=3),
        "B4": b4_quality.B4Config(n_bootstrap=500),
    }


def run_all(
    mode: str = "quick",
    only: tuple[str, ...] = ALL,
    *,
    shared: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Run the selected benchmarks; returns everything measured (JSON-serialisable)."""
    from targetrank.paths import shared_dir

    shared = shared or shared_dir(required=False)
    cfg = configs(mode)
    results: dict[str, Any] = {"mode": mode, "machine": describe(), "benchmarks": {}}
    log(
        f"bench --{mode}: {results['machine']['cores']} cores, load "
        f"{results['machine']['load_average']}, ../shared {'found' if shared else 'absent'}"
    )
    t0 = time.perf_counter()
    for name in only:
        start = time.perf_counter()
        if name == "B1":
            out = b1_depmap.run(cfg["B1"], shared=shared, log=log)
        elif name == "B2":
            out = b2_ranking.run(cfg["B2"], log=log)
        elif name == "B3":
            out = b3_opentargets.run(cfg["B3"], shared=shared, log=log)
        else:
            out = b4_quality.run(cfg["B4"], log=log)
        out["bench_wall_s"] = time.perf_counter() - start
        results["benchmarks"][name] = out
    results["total_wall_s"] = time.perf_counter() - t0
    results["machine_end"] = describe()
    log(f"bench --{mode}: done in {results['total_wall_s']:.0f} s")
    return results


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", dest="mode", const="quick")
    group.add_argument("--full", action="store_const", dest="mode", const="full")
    group.add_argument("--tiny", action="store_const", dest="mode", const="tiny")
    parser.add_argument("--only", default=",".join(ALL), help="e.g. B1,B3")
    parser.add_argument("--shared", type=Path, default=None, help="the ../shared folder")
    parser.add_argument("--results", type=Path, default=None, help="Markdown output path")
    args = parser.parse_args(argv)
    mode = args.mode or "quick"
    only = tuple(x.strip().upper() for x in args.only.split(",") if x.strip())
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    def log(line: str) -> None:
        print(line, flush=True)

    results = run_all(mode, only, shared=args.shared, log=log)
    out = data_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"results.{mode}.json").write_text(json.dumps(results, indent=1, default=str))
    default = HERE / "RESULTS.md" if mode == "full" and only == ALL else None
    target = args.results or default or out / f"RESULTS.{mode}.md"
    write_markdown(results, target)
    log(f"results: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
