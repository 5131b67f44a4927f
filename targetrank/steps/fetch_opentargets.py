"""Step ``targetrank fetch opentargets``: resolve targets, fetch evidence, write the folder.

Reads the target list, calls the Open Targets sources (API or bulk) and the feature builder, and
writes tables, features, the resolution and a manifest atomically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from targetrank._atomic import atomic_dir, output_errors
from targetrank._types import ProgressCallback, manifest_stamp, no_progress, utc_timestamp
from targetrank.errors import DataError, OutputError, UpstreamError, UsageError
from targetrank.features.opentargets import null_columns, opentargets_features
from targetrank.resolver import resolve
from targetrank.sources.opentargets import OpenTargetsAPI, collect_opentargets
from targetrank.sources.opentargets_bulk import OpenTargetsBulk
from targetrank.sources.opentargets_client import OpenTargetsClient
from targetrank.sources.opentargets_resolver import OpenTargetsResolver


def fetch_opentargets(
    targets: Sequence[str],
    out: str | Path,
    *,
    endpoint: str | None = None,
    bulk: str | Path | None = None,
    release: str | None = None,
    diseases: Mapping[str, str] | None = None,
    skip_unresolved: bool = False,
    resolver: Any = "offline",
    overwrite: bool = False,
    with_screens: bool = False,
    with_expression: bool = False,
    client: OpenTargetsClient | None = None,
    progress: ProgressCallback = no_progress,
) -> dict[str, Any]:
    """Resolve targets, fetch Open Targets evidence, and write tables, features and a manifest.

    The output folder is built beside ``out`` and renamed into place only when complete, so a
    failure (a 500 storm, Ctrl-C) leaves nothing half-written.

    Args:
        targets: Names or ids as users write them (resolved with the offline resolver unless
            ``resolver`` is given).
        out: Output folder (``features/opentargets`` in the CLI).
        endpoint: GraphQL endpoint (API mode).
        bulk: A folder of the Platform's parquet downloads (bulk mode, no network).
        release: Pin a data release ("26.06").
        diseases: Disease slot overrides, ``{key: name_or_id}``.
        skip_unresolved: Go on without targets that did not resolve (they are listed).
        resolver: "offline" (the embedded gene index), "opentargets" (mapIds, API mode) or
            any :class:`~targetrank.resolver.TargetResolver`.
        overwrite: Replace an existing output folder.
        with_screens: Also fetch DepMap screens (large).
        with_expression: Also fetch baseline expression (API only).
        client: An HTTP client to reuse (API mode).
        progress: ``(step, done, total)`` callback.

    Returns:
        The manifest written to ``out/manifest.json``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputError(
            "The output folder already exists",
            input=str(out),
            done="nothing was fetched or written",
            fix="pass --force to replace it, or choose another --out",
        )
    started = datetime.now(UTC)
    owned_client = None
    if bulk is None and client is None:
        client = owned_client = OpenTargetsClient(endpoint)
    try:
        if bulk is not None:
            src: Any = OpenTargetsBulk(bulk, release=release)
        else:
            assert client is not None
            src = OpenTargetsAPI(client, release=release)
        if resolver == "opentargets":
            if bulk is not None:
                raise UsageError(
                    "Online resolution (--resolver opentargets) needs the API",
                    input=f"--bulk {bulk}",
                    done="nothing was fetched or written",
                    fix="drop --bulk, or use --resolver offline",
                )
            resolver = OpenTargetsResolver(src)
        elif resolver in (None, "offline"):
            resolver = None
        resolution = resolve(list(targets), resolver)
        if not resolution.ok and not skip_unresolved:
            resolution.raise_for_failures(done="nothing was fetched or written")
        ids = [i for i in resolution.targets["ensembl_id"].to_list() if i]
        if not ids:
            raise UsageError(
                "None of the targets resolved to a human Ensembl gene id",
                input=", ".join(resolution.table["query"].to_list()[:5]),
                done="nothing was fetched or written",
                fix="check the names with `targetrank resolve`",
            )
        tables = collect_opentargets(
            ids,
            source=src,
            diseases=diseases,
            with_screens=with_screens,
            with_expression=with_expression,
            progress=progress,
        )
    finally:
        if owned_client is not None:
            owned_client.close()
    features = opentargets_features(tables)
    if features.height == 0:  # an all-null feature table would change rankings silently
        error = DataError if bulk is not None else UpstreamError
        raise error(
            f"Open Targets returned none of the {len(ids)} requested target(s)",
            input=f"{tables.release.location} (data {tables.release.data_version}): "
            + ", ".join(ids[:5])
            + (", ..." if len(ids) > 5 else ""),
            done="nothing was written",
            cause="the ids are retired or unknown in this data release, or the server dropped them",
            fix="check the names with `targetrank resolve`, or use another --release / --bulk DIR",
        )
    skipped = resolution.failures.select("query", pl.col("status").cast(pl.String), "note")
    manifest: dict[str, Any] = {
        "source": "Open Targets Platform",
        **manifest_stamp(),
        "mode": "bulk" if bulk is not None else "api",
        "endpoint": None if bulk is not None else src.location,
        "bulk_dir": str(bulk) if bulk is not None else None,
        "apiVersion": tables.release.api_version,
        "dataVersion": tables.release.data_version,
        "pinned_release": release,
        "started_utc": utc_timestamp(started),
        "queries": dict(sorted(getattr(src, "documents", {}).items())),
        "datasets": dict(sorted(getattr(src, "datasets", {}).items())),
        "requests": client.stats.as_dict() if client is not None and bulk is None else None,
        "targets_requested": len(ids),
        "targets_returned": features.height,
        "absent_datasets": list(tables.absent_datasets),
        "null_columns": null_columns(tables.absent_datasets),
        "skipped_unresolved": skipped.to_dicts(),
        "diseases": tables.diseases.with_columns(pl.col("status").cast(pl.String)).to_dicts(),
        "rows": {},
        "warnings": [w.as_dict() for w in tables.warnings],
        "licence": "Open Targets Platform data: CC0 1.0",
    }
    with (
        output_errors(
            "Could not write the Open Targets tables",
            target=out,
            done="nothing was kept",
            fix="check the folder's permissions and free space, or choose another --out",
        ),
        atomic_dir(out, overwrite=overwrite) as tmp,
    ):
        for name, df in {**tables.frames(), "opentargets_features": features}.items():
            df.write_parquet(tmp / f"{name}.parquet")
            manifest["rows"][name] = df.height
        resolution.table.with_columns(pl.col("status").cast(pl.String)).write_parquet(
            tmp / "resolution.parquet"
        )
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
