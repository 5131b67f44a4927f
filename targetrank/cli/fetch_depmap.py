"""``targetrank fetch depmap``: DepMap per-gene features for bone-metastatic contexts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from targetrank.cli._common import interactive, progress_callback
from targetrank.cli.fetch import fetch

DEFAULT_OUT = Path("features") / "depmap"
FEATURES_FILE = "depmap_features.parquet"
MANIFEST_FILE = "manifest.json"


@fetch.command("depmap")
@click.option(
    "--release",
    default=None,
    help="DepMap Public release, e.g. 24Q4 (default: the newest by release date).",
)
@click.option(
    "--endpoint",
    default=None,
    envvar="TARGETRANK_DEPMAP_ENDPOINT",
    show_envvar=True,
    help="The portal's file listing URL, or the portal root "
    "(default: https://depmap.org/portal/api/download/files).",
)
@click.option(
    "--targets",
    "targets",
    multiple=True,
    help="Only these genes (comma-separated or repeated); default: every gene DepMap screens.",
)
@click.option(
    "--targets-file",
    type=click.Path(dir_okay=False, exists=True),
    help="A file of targets: one per line or comma-separated; '#' starts a comment.",
)
@click.option(
    "--skip-unresolved",
    is_flag=True,
    help="Go on without targets that do not resolve to exactly one human gene.",
)
@click.option(
    "--expression/--no-expression",
    default=True,
    show_default=True,
    help="Also download the release's expression matrix (about 400 MB) for expression features.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=str(DEFAULT_OUT),
    show_default=True,
    help="Folder for depmap_features.parquet and manifest.json (both replaced atomically).",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="TARGETRANK_CACHE_DIR",
    help="Download cache (default: the platform user cache; env TARGETRANK_CACHE_DIR).",
)
def depmap(
    release: str | None,
    endpoint: str | None,
    targets: tuple[str, ...],
    targets_file: str | None,
    skip_unresolved: bool,
    expression: bool,
    out: str,
    cache_dir: str | None,
) -> None:
    """Write DepMap per-gene features for bone-metastatic contexts from a release.

    Dependency, common essentiality and expression for breast, prostate, lung, bone-sampled
    and myeloma lines, one row per gene (parquet), with a manifest.json. Files are MD5-checked and cached; a rerun downloads nothing. The listing is read fresh
    each run because its signed URLs expire.

    Example: targetrank fetch depmap --release 24Q4 --targets TIGIT,DKK1,SPP1,TNFSF11
    """
    from targetrank.features.depmap import depmap_gene_features
    from targetrank.resolver import GeneIndex
    from targetrank.sources.depmap import DepMapClient, fetch_depmap

    index = GeneIndex.load()
    panel = _resolve_targets(targets, targets_file, skip_unresolved, index)
    entrez = None if panel is None else panel["entrez_id"].to_list()
    with progress_callback("depmap", interactive()) as progress:
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
    manifest = _manifest(inputs, table, panel)
    out_dir = Path(out)
    _write(out_dir, table, manifest)
    counts = manifest["models"]["screened"]
    support = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "all")
    click.echo(
        f"{inputs.release}: {table.height} genes, {counts['all']} screened models ({support}) "
        f"→ {out_dir / FEATURES_FILE}"
    )
    for kind, why in inputs.skipped.items():
        click.echo(f"note: {kind} skipped: {why}; its feature columns are null", err=True)


def _resolve_targets(
    targets: tuple[str, ...], targets_file: str | None, skip_unresolved: bool, index: Any
) -> Any:
    if not targets and not targets_file:
        return None
    from targetrank.resolver import Resolver
    from targetrank.targets import read_targets_file, split_targets

    names = split_targets(targets)
    if targets_file:
        names += read_targets_file(targets_file)
    result = Resolver(index).resolve(names)
    if not skip_unresolved:
        result.raise_for_failures(done="nothing was downloaded")
    elif not result.ok:
        click.echo(f"warning: skipped unresolved target(s): {result.summary()}", err=True)
    return result.targets.select("entrez_id", "symbol")


def _manifest(inputs: Any, table: Any, panel: Any) -> dict[str, Any]:
    from targetrank.__about__ import __version__
    from targetrank.features.depmap import DEPMAP_CONTEXTS, context_model_counts

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
        "targetrank_version": __version__,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _write(out_dir: Path, table: Any, manifest: dict[str, Any]) -> None:
    from targetrank._atomic import atomic_open, atomic_path
    from targetrank.errors import OutputError

    try:
        # both are written before either replaces the old one: a failure keeps the old pair
        # (a new table beside an old manifest would misstate the release)
        with (
            atomic_path(out_dir / FEATURES_FILE) as tmp,
            atomic_open(out_dir / MANIFEST_FILE) as handle,
        ):
            table.write_parquet(tmp, compression="zstd", statistics=False)
            json.dump(manifest, handle, indent=2, sort_keys=False)
            handle.write("\n")
    except OSError as exc:
        raise OutputError(
            "Cannot write the DepMap feature table",
            input=str(out_dir),
            done="the previous table (if any) was left as it was",
            cause=exc.strerror or str(exc),
            fix="choose a writable folder with --out",
        ) from exc
