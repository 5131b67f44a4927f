"""One call for ``targetrank fetch depmap``: listing -> release -> verified downloads -> frames.

I/O only. The portal lists every released file with a (possibly signed, expiring) URL and the
MD5 of its bytes; :mod:`.depmap_release` picks the release and its files, :mod:`.depmap_client`
downloads them into the verified cache, :mod:`.depmap_readers` parses them (with parquet copies).

Cache layout: ``<cache>/depmap/<release tag>/<file name>`` (``<cache>`` is
``TARGETRANK_CACHE_DIR`` or the platform user cache), with ``parsed/*.parquet`` beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from targetrank.sources.depmap_client import DepMapClient, LocalFile, redact
from targetrank.sources.depmap_readers import MATRIX_KINDS, load_gene_list, load_matrix
from targetrank.sources.depmap_release import (
    OPTIONAL_KINDS,
    REQUIRED_KINDS,
    release_files,
    select_release,
)
from targetrank.tables.depmap import read_models


@dataclass
class DepMapInputs:
    """Everything the feature computation needs from one release, plus where it came from."""

    release: str
    release_date: date | None
    endpoint: str
    files: dict[str, LocalFile]
    models: pl.DataFrame
    gene_effect: pl.DataFrame
    dependency: pl.DataFrame
    common_essentials: pl.DataFrame
    expression: pl.DataFrame | None
    skipped: dict[str, str] = field(default_factory=dict)


def fetch_depmap(
    client: DepMapClient,
    *,
    release: str | None = None,
    entrez_ids: Sequence[int] | None = None,
    expression: bool = True,
) -> DepMapInputs:
    """Download (or reuse) one release's files and read them, projected to a panel if given.

    Args:
        client: The portal client (endpoint, cache, retries, progress).
        release: ``24Q4`` or ``DepMap Public 24Q4``; default: the newest by release date.
        entrez_ids: A panel of genes; all genes when None.
        expression: Also fetch the expression matrix when the release has one.
    """
    progress = client.progress
    progress("listing", 0, 1)
    listing = client.listing()
    chosen = select_release(listing, release)
    optional = OPTIONAL_KINDS if expression else ()
    files = release_files(listing, chosen, REQUIRED_KINDS, optional)
    skipped: dict[str, str] = {}
    if not expression:
        skipped["expression"] = "not requested (--no-expression)"
    elif "expression" not in files:
        skipped["expression"] = f"no model-level expression file listed for {chosen}"
    local = {kind: client.download(f) for kind, f in files.items()}
    rel_date = files["gene_effect"].release_date
    steps = ["models", "common essentials", *(MATRIX_KINDS[k] for k in local if k in MATRIX_KINDS)]
    done = 0

    def step(name: str) -> None:
        nonlocal done
        progress(f"parse {name}", done, len(steps))
        done += 1

    step("models")
    models = read_models(local["model"].path, release=chosen)
    step("common essentials")
    ce = load_gene_list(local["common_essentials"].path, release=chosen)
    frames: dict[str, pl.DataFrame] = {}
    for kind in ("gene_effect", "gene_dependency", "expression"):
        if kind not in local:
            continue
        step(MATRIX_KINDS[kind])
        frames[kind] = load_matrix(
            local[kind].path,
            release=chosen,
            kind=kind,
            entrez_ids=entrez_ids,
            cache_key=local[kind].md5,
        )
    progress("parse", len(steps), len(steps))
    assert client.endpoint is not None
    return DepMapInputs(
        release=chosen,
        release_date=rel_date,
        endpoint=redact(client.endpoint),
        files=local,
        models=models,
        gene_effect=frames["gene_effect"],
        dependency=frames["gene_dependency"],
        common_essentials=ce,
        expression=frames.get("expression"),
        skipped=skipped,
    )
