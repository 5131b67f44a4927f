"""B3 Open Targets economy: requests and bytes per panel size, cold and cached; bulk at scale.

API part (needs ../shared for the real GraphQL schema the loopback fake executes against):
``collect_opentargets`` for 10 / 100 / 1,000 SYNTHETIC targets through the fake, counting the
POSTs and bytes the fake saw; then the same again on the response cache. The bound is
``ceil(N/40) + 2`` POSTs cold (meta, disease resolution, one per batch of 40) and 0 cached.
The client runs without its 3 requests/s limit: this measures requests, not politeness.

Bulk part (no ../shared needed): the same tables from the Platform's parquet datasets for a
genome-sized target list, against a bare ``polars.read_parquet`` of every dataset it reads.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from bench.synthetic import opentargets_bulk, test_support
from bench.timing import interleave, ratio, timed, verdict

BULK_DATASETS = (
    "target",
    "target_essentiality",
    "target_prioritisation",
    "mouse_phenotype",
    "disease",
    "association_overall_direct",
    "association_by_datatype_direct",
    "clinical_target",
    "drug_molecule",
)


@dataclass
class B3Config:
    """Panel sizes for the API and the bulk size."""

    sizes: list[int] = field(default_factory=lambda: [10, 100, 1000])
    bulk_sizes: list[int] = field(default_factory=lambda: [2000, 20000])
    rounds: int = 1


def _api(cfg: B3Config, shared: Path, log: Any) -> dict[str, Any]:
    test_support()
    from support.ot_fake import FakeOpenTargets, fast_client
    from support.ot_synthetic import make_platform

    from targetrank.sources.opentargets import OpenTargetsAPI, collect_opentargets

    platform = make_platform(max(max(cfg.sizes) - 30, 0))
    rows: list[dict[str, Any]] = []
    with FakeOpenTargets(platform, shared=shared) as fake, tempfile.TemporaryDirectory() as tmp:
        for n in cfg.sizes:
            ids = platform.ids[:n]
            cache = Path(tmp) / f"cache_{n}"
            entry: dict[str, Any] = {"targets": n, "bound_cold": math.ceil(n / 40) + 2}
            for phase in ("cold", "cached"):
                fake.reset_counters()
                client = fast_client(fake.url, cache)
                run = timed(
                    lambda c=client, i=ids: collect_opentargets(i, source=OpenTargetsAPI(c))
                )
                entry[phase] = {
                    "posts": fake.counters.posts,
                    "bytes_sent": fake.counters.bytes_in,
                    "bytes_received": fake.counters.bytes_out,
                    "operations": sorted(set(fake.counters.operations)),
                    "rows": run.value.targets.height,
                    "wall_s": run.wall,
                    "cache_hits": client.stats.cache_hits,
                }
            rows.append(entry)
            c, k = entry["cold"], entry["cached"]
            log(
                f"  API {n:>5} targets: cold {c['posts']:>3} POSTs (bound {entry['bound_cold']}), "
                f"{c['bytes_sent'] / 1e3:,.1f} kB sent, {c['bytes_received'] / 1e3:,.1f} kB "
                f"received ({c['bytes_received'] / n / 1e3:.2f} kB/target), {c['wall_s']:.2f} s; "
                f"cached {k['posts']} POSTs, {k['cache_hits']} cache hits, {k['wall_s']:.2f} s"
            )
    return {"sizes": rows}


def _bare_bulk(folder: Path) -> int:
    return sum(pl.read_parquet(folder / name).height for name in BULK_DATASETS)


def _bulk_size(n_targets: int, rounds: int, log: Any) -> dict[str, Any]:
    from targetrank.sources.opentargets import collect_opentargets
    from targetrank.sources.opentargets_bulk import OpenTargetsBulk

    gen = timed(lambda: opentargets_bulk(n_targets))
    folder, ids = gen.value
    size = sum(p.stat().st_size for p in folder.rglob("*.parquet"))
    series = interleave(
        {
            "bare_read": lambda: _bare_bulk(folder),
            "bulk_collect": lambda: collect_opentargets(ids, source=OpenTargetsBulk(folder)),
        },
        rounds,
    )
    tables = series["bulk_collect"].last
    value = ratio(series, "bulk_collect", "bare_read")
    log(
        f"  bulk {len(ids):,} targets ({size / 1e6:.1f} MB parquet, ready in {gen.wall:.1f} s): "
        f"collect {series['bulk_collect'].wall:.2f} s vs bare read {series['bare_read'].wall:.2f} s"
        f" = {value:.2f}x; {tables.targets.height:,} target rows"
    )
    return {
        "targets": len(ids),
        "parquet_mb": size / 1e6,
        "rows": tables.targets.height,
        "figures": {
            k: {"wall_s": s.wall, "cpu_s": s.cpu, "n": len(s.samples)} for k, s in series.items()
        },
        "ratio_vs_bare_read": value,
    }


def _bulk(cfg: B3Config, log: Any) -> dict[str, Any]:
    from targetrank.sources.opentargets import collect_opentargets
    from targetrank.sources.opentargets_bulk import OpenTargetsBulk

    folder, ids = opentargets_bulk(min(cfg.bulk_sizes))
    collect_opentargets(ids[:50], source=OpenTargetsBulk(folder))  # warm-up: lazy imports
    sizes = [_bulk_size(n, cfg.rounds, log) for n in cfg.bulk_sizes]
    out = dict(sizes[-1])
    out["sizes"] = sizes
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        ta, tb = a["figures"]["bulk_collect"]["wall_s"], b["figures"]["bulk_collect"]["wall_s"]
        out["growth_slope"] = math.log(tb / ta) / math.log(b["targets"] / a["targets"])
        log(
            f"  bulk growth {a['targets']:,} -> {b['targets']:,} targets: log-log slope "
            f"{out['growth_slope']:.2f} (1 = linear)"
        )
    return out


def run(cfg: B3Config, *, shared: Path | None, log: Any = print) -> dict[str, Any]:
    """API economy (skipped without ../shared) and the bulk path at genome size."""
    log("B3 Open Targets economy")
    out: dict[str, Any] = {"name": "B3 Open Targets economy", "ratios": {}}
    schema = shared / "data" / "opentargets" / "schema_2026-06_derived.graphql" if shared else None
    if schema is None or not schema.is_file():
        out["api_skipped"] = (
            "../shared (the real Open Targets schema the loopback fake executes queries "
            "against) is absent: API request counts not measured; set TARGETRANK_SHARED"
        )
        log(f"  SKIPPED API part: {out['api_skipped']}")
    else:
        out["api"] = _api(cfg, shared, log)
        for entry in out["api"]["sizes"]:
            n = entry["targets"]
            posts = entry["cold"]["posts"]
            out["ratios"][f"posts_cold_{n}"] = {
                "value": posts / entry["bound_cold"],
                "target": 1.0,
                "at_most": True,
                "verdict": verdict(posts / entry["bound_cold"], 1.0),
                "what": f"cold POSTs / (ceil({n}/40) + 2) = {posts} / {entry['bound_cold']}",
            }
            cached = entry["cached"]["posts"]
            out["ratios"][f"posts_cached_{n}"] = {
                "value": float(cached),
                "target": 0.0,
                "at_most": True,
                "verdict": "met" if cached == 0 else f"missed: {cached} POSTs",
                "what": f"cached POSTs for {n} targets",
            }
    out["bulk"] = _bulk(cfg, log)
    out["ratios"]["bulk_vs_bare_read"] = {
        "value": out["bulk"]["ratio_vs_bare_read"],
        "target": None,
        "at_most": True,
        "verdict": "context (no target)",
        "what": f"bulk tables for {out['bulk']['targets']:,} targets / bare parquet read",
    }
    if "growth_slope" in out["bulk"]:
        slope = out["bulk"]["growth_slope"]
        out["ratios"]["bulk_growth"] = {
            "value": slope,
            "target": 1.15,
            "at_most": True,
            "verdict": verdict(slope, 1.15),
            "what": "log-log slope of bulk collect time between the two bulk sizes (1 = linear)",
        }
    for key, r in out["ratios"].items():
        target = "-" if r["target"] is None else f"<= {r['target']}"
        log(f"  {key:<22} {r['value']:7.2f}   target {target:<8} {r['verdict']}")
    return out
