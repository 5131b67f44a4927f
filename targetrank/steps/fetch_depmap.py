"""Step ``targetrank fetch depmap``: resolve the panel, download a release, write the features.

Reads the target list, calls the DepMap source (:mod:`targetrank.sources.depmap`) and the
feature builder (:mod:`targetrank.features.depmap`), and writes ``depmap_features.parquet`` with
its ``manifest.json`` atomically.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from targetrank._atomic import atomic_open, atomic_path, output_errors
from targetrank._types import (
    NoticeCallback,
    ProgressCallback,
    manifest_stamp,
    no_notice,
    no_progress,
)
from targetrank.features.depmap import context_model_counts, depmap_gene_features
from targetrank.features.depmap_columns import DEPMAP_CONTEXTS
from targetrank.resolver import GeneIndex, Resolver
from targetrank.sources.depmap import fetch_depmap
from targetrank.sources.depmap_client import DepMapClient

FEATURES_FILE = "depmap_features.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass
class DepMapFetch:
    """What ``fetch depmap`` wrote: the downloaded inputs, the feature table, its manifest."""

    inputs: Any
    table: pl.DataFrame
    manifest: dict[str, Any]
    out: Path


def fetch_depmap_features(
    out: Path,
    *,
    release: str | None = None,
    endpoint: str | None = None,
    targets: Sequence[str] | None = None,
    skip_unresolved: bool = False,
    expression: bool = True,
    cache_dir: str | None = None,
    progress: ProgressCallback = no_progress,
    on_unresolved: NoticeCallback = no_notice,
) -> DepMapFetch:
    """Resolve ``targets`` (``None``: every gene), fetch the release, write ``out``."""
    index = GeneIndex.load()
    panel = resolve_panel(targets, skip_unresolved, index, on_unresolved)
    entrez = None if panel is None else panel["entrez_id"].to_list()
    client = DepMapClient(endpoint, cache=cache_dir, progress=progress)
    inputs = fetch_depmap(client, release=release, entrez_ids=entrez, expression=expression)
    table = depmap_gene_features(
        inputs.gene_effect,
        inputs.models,
        dependency=inputs.dependency,
        common_essentials=inputs.common_essentials,
        expression=inputs.expression,
        genes=index.genes,
        targets=panel,
    )
    manifest = depmap_manifest(inputs, table, panel)
    write_depmap_folder(out, table, manifest)
    return DepMapFetch(inputs, table, manifest, out)


def resolve_panel(
    names: Sequence[str] | None,
    skip_unresolved: bool,
    index: GeneIndex,
    on_unresolved: NoticeCallback = no_notice,
) -> pl.DataFrame | None:
    """``entrez_id, symbol`` of the named targets (``None``: every gene DepMap screens)."""
    if names is None:
        return None
    result = Resolver(index).resolve(list(names))
    if not skip_unresolved:
        result.raise_for_failures(done="nothing was downloaded")
    elif not result.ok:
        on_unresolved(result.summary())
    return result.targets.select("entrez_id", "symbol")


def depmap_manifest(inputs: Any, table: pl.DataFrame, panel: pl.DataFrame | None) -> dict[str, Any]:
    """The manifest of a DepMap feature folder: release, files, contexts, model counts."""
    return {
        "source": "DepMap, Broad Institute (depmap.org)",
        "licence": "CC BY 4.0",
        "release": inputs.release,
        "release_date": inputs.release_date.isoformat() if inputs.release_date else None,
        "endpoint": inputs.endpoint,
        "files": {kind: f.as_manifest() for kind, f in sorted(inputs.files.items())},
        "skipped": inputs.skipped,
        "contexts": {name: ctx.description for name, ctx in DEPMAP_CONTEXTS.items()},
        "models": {
            "in_model_table": context_model_counts(inputs.models),
            "screened": context_model_counts(inputs.models, inputs.gene_effect["ModelID"]),
            "with_expression": (
                context_model_counts(inputs.models, inputs.expression["ModelID"])
                if inputs.expression is not None
                else None
            ),
        },
        "genes": table.height,
        "panel": None if panel is None else panel["symbol"].to_list(),
        "table": FEATURES_FILE,
        **manifest_stamp(),
    }


def write_depmap_folder(out_dir: Path, table: pl.DataFrame, manifest: dict[str, Any]) -> None:
    """Write the table and its manifest; both replace the old pair only when both are written."""
    # both are written before either replaces the old one: a failure keeps the old pair
    # (a new table beside an old manifest would misstate the release)
    with (
        output_errors(
            "Cannot write the DepMap feature table",
            target=out_dir,
            done="the previous table (if any) was left as it was",
            fix="choose a writable folder with --out",
        ),
        atomic_path(out_dir / FEATURES_FILE) as tmp,
        atomic_open(out_dir / MANIFEST_FILE) as handle,
    ):
        table.write_parquet(tmp, compression="zstd", statistics=False)
        json.dump(manifest, handle, indent=2, sort_keys=False)
        handle.write("\n")
