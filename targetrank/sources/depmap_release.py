"""DepMap release discovery: pick a release from the portal's listing and its files by kind.

Pure functions over the listing (no I/O): a release is ``--release`` or the newest by
``release_date``, and each logical file kind maps to whatever the file was called in that release.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from targetrank.config import ENV_DEPMAP_ENDPOINT
from targetrank.errors import DataError, UpstreamError, UsageError
from targetrank.tables.depmap import RELEASE_PREFIX, depmap_releases, normalise_release

#: Logical file kind → file names it has had, newest layout first.
FILE_KINDS: dict[str, tuple[str, ...]] = {
    "model": ("Model.csv", "Model_v2.csv", "sample_info.csv", "sample_info_v2.csv"),
    "gene_effect": ("CRISPRGeneEffect.csv", "CRISPR_gene_effect.csv", "Achilles_gene_effect.csv"),
    "gene_dependency": (
        "CRISPRGeneDependency.csv",
        "CRISPR_gene_dependency.csv",
        "Achilles_gene_dependency.csv",
    ),
    "common_essentials": (
        "CRISPRInferredCommonEssentials.csv",
        "CRISPR_common_essentials.csv",
        "Achilles_common_essentials.csv",
    ),
    # model-level until 25Q2; profile-level (one row per profile) from 25Q2 on
    "expression": (
        "OmicsExpressionProteinCodingGenesTPMLogp1.csv",
        "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv",
        "CCLE_expression.csv",
    ),
}
REQUIRED_KINDS = ("model", "gene_effect", "gene_dependency", "common_essentials")
OPTIONAL_KINDS = ("expression",)


@dataclass(frozen=True)
class DepMapFile:
    """One file of one release as listed by the portal (the URL is only valid for a while)."""

    kind: str
    release: str
    release_date: date | None
    filename: str
    url: str
    md5: str | None

    @property
    def label(self) -> str:
        """``Model.csv (DepMap Public 24Q4)`` for messages."""
        return f"{self.filename} ({self.release})"


def select_release(listing: pl.DataFrame, release: str | None = None) -> str:
    """The release to use: ``release`` (``24Q4`` or ``DepMap Public 24Q4``) or the newest.

    Raises:
        UsageError: the requested release is not in the listing (the message lists recent ones).
        UpstreamError: the listing holds no DepMap Public release at all.
    """
    releases = depmap_releases(listing)
    if releases.height == 0:
        raise UpstreamError(
            "The DepMap file listing holds no 'DepMap Public' release",
            input=f"{listing.height} rows; releases: {', '.join(listing['release'].unique().head(5).to_list())}",
            done="nothing was downloaded",
            cause="the endpoint is not the DepMap portal's download API",
            fix=f"check --endpoint (or {ENV_DEPMAP_ENDPOINT})",
        )
    if release is None:
        return str(releases["release"][0])
    wanted = normalise_release(release)
    if wanted in releases["release"].to_list():
        return wanted
    recent = ", ".join(r[len(RELEASE_PREFIX) :] for r in releases["release"].head(8).to_list())
    raise UsageError(
        f"DepMap release '{release}' is not in the portal's listing",
        input=f"looked for '{wanted}'",
        done="nothing was downloaded",
        cause="a typo or a release that does not exist (there was no 24Q1, 24Q3 or 25Q1)",
        fix=f"use --release with one of: {recent}",
    )


def release_files(
    listing: pl.DataFrame,
    release: str,
    kinds: Iterable[str] = REQUIRED_KINDS,
    optional: Iterable[str] = OPTIONAL_KINDS,
) -> dict[str, DepMapFile]:
    """Map logical kinds to the release's listed files (first matching name wins).

    Raises:
        DataError: a required kind has no file in the release; names the newest release that
            has all of them.
    """
    rows = listing.filter(pl.col("release") == release)
    by_name = {r["filename"]: r for r in rows.iter_rows(named=True)}
    found: dict[str, DepMapFile] = {}
    missing: list[str] = []
    required = list(kinds)
    for kind in [*required, *optional]:
        name = next((n for n in FILE_KINDS[kind] if n in by_name), None)
        if name is None:
            if kind in required:
                missing.append(f"{kind} ({' or '.join(FILE_KINDS[kind])})")
            continue
        row = by_name[name]
        found[kind] = DepMapFile(
            kind, release, row["release_date"], name, row["url"], row["md5_hash"]
        )
    if missing:
        complete = _complete_releases(listing, required)
        hint = f"--release {complete[0][len(RELEASE_PREFIX) :]}" if complete else "--release"
        raise DataError(
            f"{release} lists no file for {'; '.join(missing)}",
            input=f"{rows.height} files listed for {release}",
            done="nothing was downloaded",
            cause="the release is incomplete on the portal or predates these files",
            fix=f"use {hint} (the newest release with every required file)",
        )
    return found


def _complete_releases(listing: pl.DataFrame, kinds: Sequence[str]) -> list[str]:
    out = []
    for rel in depmap_releases(listing)["release"].to_list():
        names = set(listing.filter(pl.col("release") == rel)["filename"].to_list())
        if all(any(n in names for n in FILE_KINDS[k]) for k in kinds):
            out.append(rel)
    return out
