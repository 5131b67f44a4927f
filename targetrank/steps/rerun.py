"""Reproduce a run from its manifest and say whether the results match."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.__about__ import __version__
from targetrank._types import NoticeCallback
from targetrank.errors import DataError, ExitCode


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


@dataclass
class RerunReport:
    """Outcome of a rerun."""

    identical: bool
    compared: int
    differences: pl.DataFrame
    manifest: dict[str, Any]
    written: Path | None = None
    exit_code: ExitCode = ExitCode.DATA

    score_changes: pl.DataFrame | None = None
    cause: str = ""

    def summary(self) -> str:
        """One paragraph for the terminal: rank changes listed, score-only changes counted."""
        if self.identical:
            head = f"Reproduced {self.compared} (strategy, target) ranks: identical."
        elif self.differences.height:
            head = f"Reproduced {self.compared} (strategy, target) ranks: {self.differences.height} differ."
        else:
            head = f"Reproduced {self.compared} (strategy, target) ranks: identical ranks, but "
            head += f"{_score_text(self.score_changes)}."
        lines = [head]
        if not self.identical:
            for r in self.differences.head(10).iter_rows(named=True):
                lines.append(
                    f"  {r['strategy']} {r['symbol']}: rank {r['rank_original']} -> {r['rank_rerun']}"
                )
            if self.differences.height and self.score_changes is not None:
                lines.append(f"  besides, {_score_text(self.score_changes)} at an unchanged rank")
            lines.append(f"Likely cause: {self.cause}")
        if self.written:
            lines.append(f"Reproduced run folder: {self.written}")
        return "\n".join(lines)


def _score_text(changes: pl.DataFrame | None) -> str:
    if changes is None or changes.height == 0:
        return "no score differs"
    largest = float(changes["delta"].abs().max())  # type: ignore[arg-type]
    return f"{changes.height} score(s) differ (largest change {largest:.3g})"


def likely_cause(recorded: dict[str, Any], recomputed: dict[str, Any]) -> str:
    """Why a rerun differs, from what the two manifests say (not a guess at the version)."""
    reasons = []
    if recorded.get("input_hash") and recorded["input_hash"] != recomputed.get("input_hash"):
        reasons.append(
            "the inputs differ from those recorded in the manifest's input_hash: the manifest "
            "was edited (e.g. its seed, targets or weights) or the feature table or evidence "
            "base changed since the run"
        )
    if str(recorded.get("targetrank_version")) != __version__:
        reasons.append(
            f"a different targetrank version (this is {__version__}; the run used "
            f"{recorded.get('targetrank_version')})"
        )
    if not reasons:
        reasons.append(
            "the same version and inputs gave different results (non-determinism, e.g. thread "
            "count); please report it with both run folders"
        )
    return "; and ".join(reasons) + "."


def _scorer_of(manifest: dict[str, Any]) -> Any:
    """The scorer the run used: its name, or the LightGBM ranker with the recorded settings."""
    name = manifest.get("scorer", "lightgbm")
    options = manifest.get("scorer_options") or {}
    if name == "lightgbm" and options:
        from targetrank.model.lightgbm_scorer import LightGBMScorer

        return LightGBMScorer(**options)
    return name


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check a run manifest."""
    p = Path(path)
    try:
        manifest = json.loads(p.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            "Cannot read the run manifest",
            input=str(p),
            cause=str(exc),
            fix="give the manifest.json of a run folder written by `targetrank rank`",
        ) from exc
    if not isinstance(manifest, dict) or "targetrank_version" not in manifest:
        raise DataError(
            "Not a targetrank run manifest",
            input=str(p),
            fix="give the manifest.json of a run folder written by `targetrank rank`",
        )
    if _version_tuple(manifest["targetrank_version"]) > _version_tuple(__version__):
        raise DataError(
            f"The run was made by a newer targetrank ({manifest['targetrank_version']})",
            input=str(p),
            done="nothing was rerun",
            cause=f"this is targetrank {__version__}, which may compute differently",
            fix=f"upgrade: pip install 'targetrank>={manifest['targetrank_version']}'",
        )
    return manifest


def rerun(
    manifest_path: str | Path,
    *,
    out: str | Path | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    notice: NoticeCallback | None = None,
) -> RerunReport:
    """Recompute the run described by ``manifest_path`` and compare ranks with its ranking.csv.

    ``cache=False`` retrains the models instead of reusing the model cache: either way gives
    the same ranks (the cache key covers everything the models depend on).
    """
    from targetrank.steps.rank import rank

    manifest = read_manifest(manifest_path)
    if out is not None:  # an unusable --out fails now, not after recomputing the run
        from targetrank.export import check_out_dir

        check_out_dir(Path(out), force=False)
    ranking = rank(
        targets=manifest.get("targets"),
        strategies=manifest.get("strategies"),
        scorer=_scorer_of(manifest),
        features=manifest.get("feature_source", "snapshot"),
        seed=int(manifest.get("seed", 0)),
        universe=manifest.get("universe", "evidence"),
        weights=manifest.get("weights"),
        strategies_file=manifest.get("strategies_file"),
        skip_unresolved=bool(manifest.get("skip_unresolved", False)),
        command=manifest.get("command"),
        evaluate_model=False,
        cache=cache,
        cache_dir=cache_dir,
        notice=notice,
    )
    original_path = Path(manifest_path).parent / "ranking.csv"
    if not original_path.is_file():
        raise DataError(
            "The run's ranking.csv is missing beside its manifest",
            input=str(original_path),
            fix="keep the run folder intact to compare",
        )
    original = pl.read_csv(original_path, schema_overrides={"rank": pl.Int64, "score": pl.Float64})
    merged = original.select("strategy", "symbol", "rank", "score").join(
        ranking.table.select("strategy", "symbol", "rank", "score"),
        on=["strategy", "symbol"],
        how="full",
        suffix="_rerun",
        coalesce=True,
    )
    moved = (
        (pl.col("rank") != pl.col("rank_rerun"))
        | pl.col("rank").is_null()
        | pl.col("rank_rerun").is_null()
    )
    diff = merged.filter(moved).rename({"rank": "rank_original"})
    scores = merged.filter(
        ~moved & ((pl.col("score") - pl.col("score_rerun")).abs() > 1e-6)
    ).with_columns((pl.col("score_rerun") - pl.col("score")).alias("delta"))
    written = None
    if out is not None:
        written = ranking.write(out, formats=manifest.get("formats", ["csv"]))
    identical = diff.height == 0 and scores.height == 0
    return RerunReport(
        identical,
        merged.height,
        diff,
        manifest,
        written,
        score_changes=scores,
        cause="" if identical else likely_cause(manifest, ranking.manifest),
    )
