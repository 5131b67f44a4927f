"""``targetrank fetch opentargets``: Open Targets evidence into feature tables (parquet)."""

from __future__ import annotations

import click

from targetrank.cli._common import interactive, progress_callback
from targetrank.cli.fetch import fetch


@fetch.command("opentargets")
@click.option("--targets", "queries", multiple=True, help="Targets, comma- or space-separated.")
@click.option(
    "--targets-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A file with one target per line.",
)
@click.option(
    "--endpoint",
    default=None,
    help="GraphQL endpoint (default: the public API, or TARGETRANK_OT_ENDPOINT).",
)
@click.option(
    "--bulk",
    type=click.Path(file_okay=False),
    default=None,
    help="Read the Platform's parquet downloads from this folder instead of the API.",
)
@click.option("--release", default=None, help="Pin the data release, e.g. 26.06.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="features/opentargets",
    show_default=True,
    help="Output folder for the tables, features and manifest.json.",
)
@click.option(
    "--disease",
    "diseases",
    multiple=True,
    metavar="KEY=NAME_OR_ID",
    help="Override a disease slot (cancer, breast, prostate, lung, myeloma), e.g. "
    "--disease lung='lung carcinoma' or --disease lung=MONDO_0005233.",
)
@click.option(
    "--resolver",
    type=click.Choice(["offline", "opentargets"]),
    default="offline",
    show_default=True,
    help="Resolve names with the offline gene index or with Open Targets mapIds.",
)
@click.option("--skip-unresolved", is_flag=True, help="Go on without targets that do not resolve.")
@click.option("--with-screens", is_flag=True, help="Also fetch DepMap screens (~100 KB/target).")
@click.option("--with-expression", is_flag=True, help="Also fetch baseline expression (API).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the response cache.")
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.1),
    default=3.0,
    show_default=True,
    help="Most requests per second to the API.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Retries (with backoff) on timeouts, 429 and 5xx before giving up.",
)
@click.option("--force", is_flag=True, help="Replace an existing output folder.")
def opentargets(
    queries: tuple[str, ...],
    targets_file: str | None,
    endpoint: str | None,
    bulk: str | None,
    release: str | None,
    out: str,
    diseases: tuple[str, ...],
    resolver: str,
    skip_unresolved: bool,
    with_screens: bool,
    with_expression: bool,
    no_cache: bool,
    rate_limit: float,
    retries: int,
    force: bool,
) -> None:
    """Fetch Open Targets tractability, safety, essentiality, drugs and associations."""
    from targetrank.errors import UsageError
    from targetrank.sources.opentargets_client import OpenTargetsClient
    from targetrank.steps.fetch_opentargets import fetch_opentargets
    from targetrank.targets import read_targets_file, split_targets

    if bulk is not None and endpoint is not None:
        raise UsageError(
            "--bulk and --endpoint exclude each other",
            fix="pass --bulk DIR to read parquet downloads, or --endpoint URL to use an API",
        )
    names = split_targets(queries)
    if targets_file:
        names += read_targets_file(targets_file)
    overrides = {}
    for item in diseases:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(
                f"--disease {item!r} is not KEY=NAME_OR_ID",
                fix="e.g. --disease lung=MONDO_0005233",
            )
        overrides[key.strip()] = value.strip()
    client = None
    if bulk is None:
        client = OpenTargetsClient(
            endpoint, cache=not no_cache, rate_limit=rate_limit, retries=retries
        )
    try:
        with progress_callback("Open Targets", interactive()) as progress:
            manifest = fetch_opentargets(
                names,
                out,
                bulk=bulk,
                release=release,
                diseases=overrides,
                skip_unresolved=skip_unresolved,
                resolver=resolver,
                overwrite=force,
                with_screens=with_screens,
                with_expression=with_expression,
                client=client,
                progress=progress,
            )
    finally:
        if client is not None:
            client.close()
    click.echo(
        f"Open Targets {manifest['mode']} (data {manifest['dataVersion']}): "
        f"{manifest['targets_returned']} of {manifest['targets_requested']} target(s); "
        f"wrote {len(manifest['rows'])} tables to {out}"
    )
    if manifest.get("absent_datasets"):
        nulled = sorted(manifest.get("null_columns", {}))
        click.echo(
            "Partial download: no "
            + ", ".join(manifest["absent_datasets"])
            + f" dataset(s) in {bulk}; {len(nulled)} column(s) stay null: "
            + ", ".join(nulled[:8])
            + (", ..." if len(nulled) > 8 else "")
            + f" (all in {out}/manifest.json)",
            err=True,
        )
    if manifest["warnings"]:
        kinds: dict[str, int] = {}
        for w in manifest["warnings"]:
            kinds[w["kind"]] = kinds.get(w["kind"], 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        click.echo(f"Warnings: {summary} (see {out}/manifest.json)", err=True)
