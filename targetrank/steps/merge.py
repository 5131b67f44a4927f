"""Overlay live connector tables (Open Targets, DepMap) on a base feature table.

``targetrank fetch opentargets`` and ``fetch depmap`` write ``*_features.parquet`` tables whose
columns are slots of the feature registry. :func:`merge_features` replaces those columns in the
base table for every gene the overlay covers (genes it does not cover keep the base value, null
for live-only columns), validates the result and writes a feature folder with a manifest that
records every overlay's source and release, so ``--features DIR`` ranks with live evidence.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from targetrank._atomic import atomic_dir, output_errors
from targetrank._types import utc_timestamp
from targetrank.errors import DataError, OutputError

FEATURES_FILE = "features.parquet"
MANIFEST_FILE = "manifest.json"


def _overlay_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*_features.parquet"))
    if not files:
        raise DataError(
            "No feature table found in the overlay folder",
            input=str(folder),
            cause="expected a *_features.parquet written by `targetrank fetch ...`",
            fix="run `targetrank fetch opentargets` or `targetrank fetch depmap` first",
        )
    return files


def _keyed(overlay: pl.DataFrame, source: str) -> pl.DataFrame:
    """Overlay rows keyed by entrez_id (Ensembl ids mapped through the gene index)."""
    if "entrez_id" in overlay.columns and overlay["entrez_id"].null_count() < overlay.height:
        keyed = overlay.drop_nulls("entrez_id").with_columns(pl.col("entrez_id").cast(pl.Int64))
    elif "ensembl_id" in overlay.columns:
        from targetrank.features._mapping import ensembl_map
        from targetrank.resolver import GeneIndex

        keyed = overlay.with_columns(pl.col("ensembl_id").str.replace(r"\.\d+$", "")).join(
            ensembl_map(GeneIndex.load().genes), on="ensembl_id", how="inner"
        )
    else:
        raise DataError(
            "Overlay table has no gene key",
            input=source,
            cause="expected an entrez_id or ensembl_id column",
            fix="use a table written by `targetrank fetch ...`",
        )
    return keyed.drop([c for c in ("symbol", "ensembl_id") if c in keyed.columns]).unique(
        "entrez_id", keep="first"
    )


def merge_features(
    overlays: Sequence[str | Path],
    out: str | Path,
    *,
    base: str | Path = "snapshot",
    force: bool = False,
) -> dict[str, Any]:
    """Write ``base`` with the overlays' columns filled in to the feature folder ``out``.

    Returns the new folder's manifest.
    """
    from targetrank.feature_folder import feature_file, feature_manifest, load_features
    from targetrank.features import REGISTRY
    from targetrank.features.schema import validate_features

    out_dir = Path(out)
    if out_dir.exists() and not force:
        raise OutputError(
            "The feature folder already exists",
            input=str(out_dir),
            done="nothing was written",
            fix="pass --force to replace it, or choose another --out",
        )
    table = load_features(base)
    manifest = feature_manifest(base)
    specs = REGISTRY.specs()
    applied: list[dict[str, Any]] = []
    for folder in map(Path, overlays):
        if not folder.is_dir():
            raise DataError(
                "Overlay folder not found",
                input=str(folder),
                fix="pass the --out folder of a `targetrank fetch` run",
            )
        overlay_manifest: dict[str, Any] = {}
        if (folder / MANIFEST_FILE).is_file():
            overlay_manifest = json.loads((folder / MANIFEST_FILE).read_text("utf-8"))
        for path in _overlay_files(folder):
            overlay = pl.read_parquet(path)
            columns = [c for c in overlay.columns if c in specs]
            unknown = [
                c
                for c in overlay.columns
                if c not in specs and c not in ("entrez_id", "symbol", "ensembl_id")
            ]
            if not columns:
                raise DataError(
                    "Overlay table fills no registered feature column",
                    input=f"{path}: columns {', '.join(overlay.columns[:8])}",
                    fix="register the columns in the feature registry first",
                )
            keys = [c for c in ("entrez_id", "ensembl_id") if c in overlay.columns]
            keyed = _keyed(overlay.select(*keys, *columns), str(path))
            keyed = keyed.with_columns(pl.col(c).cast(specs[c].dtype) for c in columns)
            covered = table["entrez_id"].is_in(keyed["entrez_id"].implode())
            joined = table.select("entrez_id").join(
                keyed, on="entrez_id", how="left", maintain_order="left"
            )
            table = table.with_columns(
                pl.when(covered).then(joined[c]).otherwise(pl.col(c)).alias(c) for c in columns
            )
            source_key = path.stem
            release = (
                overlay_manifest.get("release")
                or overlay_manifest.get("dataVersion")
                or overlay_manifest.get("data_version")
            )
            manifest.setdefault("sources", {})[source_key] = {
                "key": source_key,
                "name": f"live connector table {path.name}",
                "release": str(release) if release is not None else "see overlay manifest",
                "licence": "Open Targets: CC0 1.0"
                if "opentargets" in path.name
                else "DepMap: CC BY 4.0",
                "citation": str(folder / MANIFEST_FILE),
                "path": str(path),
            }
            for c in columns:
                entry = manifest.setdefault("columns", {}).setdefault(c, {})
                entry["sources"] = [source_key]
                entry["non_null"] = int(table[c].drop_nulls().len())
                entry.pop("null_reason", None)
            applied.append(
                {
                    "file": str(path),
                    "columns": columns,
                    "genes_covered": int(covered.sum()),
                    "ignored_columns": unknown,
                    "overlay_manifest": overlay_manifest,
                }
            )
    table = validate_features(table, source="merged feature table")
    manifest["merged"] = {
        "base": str(base),
        "overlays": applied,
        "created_utc": utc_timestamp(),
    }
    manifest["files"] = {FEATURES_FILE: {"rows": table.height, "columns": table.width}}
    with (
        output_errors(
            "Could not write the merged feature folder",
            target=out_dir,
            done="nothing half-written was kept",
            fix="choose a writable --out folder with free space",
        ),
        atomic_dir(out_dir, overwrite=force) as tmp,
    ):
        table.write_parquet(tmp / FEATURES_FILE, compression="zstd")
        base_dir = feature_file(base).parent
        for name in ("precedence_labels.parquet", "genes.parquet", "aliases.parquet"):
            if (base_dir / name).is_file():
                shutil.copyfile(base_dir / name, tmp / name)
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=2, default=str) + "\n", "utf-8"
        )
    return manifest
