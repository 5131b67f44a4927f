"""Smoke test of the benchmark harness at tiny sizes: it runs and reports every figure and ratio.

No timing threshold is asserted (the machine is shared); the full benchmarks never run in CI.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from bench.cli import main
from targetrank.paths import shared_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TARGETRANK_BENCH_DATA", str(out))
        assert main(["--tiny", "--results", str(out / "RESULTS.md")]) == 0
    return json.loads((out / "results.tiny.json").read_text()), (out / "RESULTS.md").read_text()


def _numbers(ratios):
    for key, r in ratios.items():
        assert isinstance(r["value"], float | int), key
        assert r["verdict"], key


def test_b1_reports_parse_ratios(results):
    b1 = results[0]["benchmarks"]["B1"]
    assert b1["checks"]["cached_equals_cold"] is True
    assert {"bare_parse", "engine", "panel", "cached"} <= set(b1["figures"])
    expected = {"engine_vs_bare", "panel_vs_bare", "cached_seconds"}
    if importlib.util.find_spec("pandas") is not None:
        expected.add("pandas_vs_engine")
        assert b1["checks"]["max_abs_diff_mean_effect_vs_pandas"] < 1e-9
    assert expected <= set(b1["ratios"])
    _numbers(b1["ratios"])


def test_b2_reports_phases_rss_growth_and_bootstrap(results):
    b2 = results[0]["benchmarks"]["B2"]
    assert len(b2["sizes"]) == 2
    for size in b2["sizes"].values():
        assert size["rows"] == 5 * size["genes"]
        assert size["child_maxrss_mb"] > 0 and size["score_plus_explain_s"] > 0
    assert {"score_explain_s", "peak_rss_gb", "growth_score_explain"} <= set(b2["ratios"])
    assert b2["bootstrap"]["fit_per_replicate_s"] > 0
    assert b2["bootstrap"]["study"]["by_b"]
    _numbers(b2["ratios"])


def test_b3_reports_requests_or_says_why_not(results):
    b3 = results[0]["benchmarks"]["B3"]
    assert b3["bulk"]["rows"] > 0 and "bulk_vs_bare_read" in b3["ratios"]
    if shared_dir(required=False) is None:
        assert "absent" in b3["api_skipped"]
    else:
        entry = b3["api"]["sizes"][0]
        assert entry["cold"]["posts"] <= entry["bound_cold"]
        assert entry["cached"]["posts"] == 0
    _numbers(b3["ratios"])


def test_b4_reports_ndcg_against_baselines(results):
    b4 = results[0]["benchmarks"]["B4"]
    methods = {m["method"] for m in b4["mean"]}
    assert {"lightgbm", "weighted", "pubmed_popularity", "random"} <= methods
    assert any(k.startswith("ndcg10_") for k in b4["ratios"])


def test_results_markdown_names_machine_and_every_benchmark(results):
    text = results[1]
    assert "load average" in text and "polars" in text and "lightgbm" in text
    for title in ("B1 DepMap ingest", "B2 genome-wide ranking", "B3 Open Targets", "B4 ranking"):
        assert title in text
