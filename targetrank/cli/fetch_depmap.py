"""``targetrank fetch depmap``: DepMap per-gene features for bone-metastatic contexts."""

from __future__ import annotations

from pathlib import Path

import click

from targetrank.cli._common import interactive, progress_callback
from targetrank.cli.fetch import fetch
from targetrank.config import ENV_CACHE, ENV_DEPMAP_ENDPOINT

DEFAULT_OUT = Path("features") / "depmap"


@fetch.command("depmap")
@click.option(
    "--release",
    default=None,
    help="DepMap Public release, e.g. 24Q4 (default: the newest by release date).",
)
@click.option(
    "--endpoint",
    default=None,
    envvar=ENV_DEPMAP_ENDPOINT,
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
    envvar=ENV_CACHE,
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
    from targetrank.steps.fetch_depmap import FEATURES_FILE, fetch_depmap_features
    from targetrank.targets import read_targets_file, split_targets

    names = None
    if targets or targets_file:
        names = split_targets(targets)
        if targets_file:
            names += read_targets_file(targets_file)
    with progress_callback("depmap", interactive()) as progress:
        fetched = fetch_depmap_features(
            Path(out),
            release=release,
            endpoint=endpoint,
            targets=names,
            skip_unresolved=skip_unresolved,
            expression=expression,
            cache_dir=cache_dir,
            progress=progress,
            on_unresolved=lambda summary: click.echo(
                f"warning: skipped unresolved target(s): {summary}", err=True
            ),
        )
    inputs, table, manifest, out_dir = fetched.inputs, fetched.table, fetched.manifest, fetched.out
    counts = manifest["models"]["screened"]
    support = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "all")
    click.echo(
        f"{inputs.release}: {table.height} genes, {counts['all']} screened models ({support}) "
        f"→ {out_dir / FEATURES_FILE}"
    )
    for kind, why in inputs.skipped.items():
        click.echo(f"note: {kind} skipped: {why}; its feature columns are null", err=True)
