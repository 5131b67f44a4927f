"""The embedded snapshot: real offline data, built by the project's own code.

``targetrank snapshot build --shared ../shared`` reads the gathered source files and writes, under
``features/snapshot/``: the resolver's gene index, the genome-wide feature table, the precedence
labels and a manifest naming every source, release and licence per column. The default run uses
this folder, so it works offline on real data; nothing in it is invented. Open Targets and DepMap
matrix columns stay null here (the manifest says why); online runs of the connectors fill them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.__about__ import __version__
from targetrank._atomic import atomic_open, atomic_path
from targetrank._types import ProgressCallback, no_progress
from targetrank.paths import REPO_DIR, shared_dir
from targetrank.resolver import ALIASES_FILE, GENES_FILE, build_gene_index
from targetrank.sources import local

MANIFEST_FILE = "manifest.json"
FEATURES_FILE = "features.parquet"
LABELS_FILE = "precedence_labels.parquet"

#: Source table name (as feature groups declare it) → reader of the shared folder.
TABLE_READERS: dict[str, Callable[[Path], pl.DataFrame]] = {
    "genes_annotation": local.read_genes,
    "aliases": local.read_aliases,
    "go_terms": local.read_go_terms,
    "surfy": local.read_surfy,
    "cspa": local.read_cspa,
    "hpa_subcellular": local.read_hpa_subcellular,
    "hpa_blood": local.read_hpa_blood,
    "hpa_tissue": local.read_hpa_tissue,
    "panglaodb": local.read_panglaodb,
    "gnomad": local.read_gnomad_pli,
    "depmap_common_essentials": local.read_depmap_common_essentials,
    "depmap_controls": local.read_depmap_controls,
    "projectscore_core": local.read_projectscore_core,
    "hgnc_groups": local.read_hgnc_groups,
    "clustermole": local.read_clustermole,
    "liana": local.read_liana,
    "string": local.read_string,
}


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    """Write parquet atomically and compactly."""
    with atomic_path(path) as tmp:
        df.write_parquet(tmp, compression="zstd", compression_level=19, statistics=False)


def shared_tables(
    root: Path, derived: dict[str, pl.DataFrame] | None = None
) -> Callable[[str], pl.DataFrame]:
    """A loader of named source tables from the shared folder, for the feature builder.

    ``derived`` holds tables computed by the connectors' code before the build (Open Targets
    and DepMap features), served under their names.
    """

    def load(name: str) -> pl.DataFrame:
        if derived and name in derived:
            return derived[name]
        if name not in TABLE_READERS:
            from targetrank.errors import DataError

            raise DataError(
                f"No offline reader for source table '{name}'",
                fix="pass the table explicitly: build_feature_table(..., tables={name: df})",
            )
        return TABLE_READERS[name](root)

    return load


def build_snapshot(
    shared: str | Path | None = None,
    out: str | Path | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Build the embedded snapshot from ``../shared`` and return its manifest.

    Args:
        shared: The shared source-data folder (default: ``../shared`` or ``TARGETRANK_SHARED``).
        out: Output folder (default: ``features/snapshot`` in the checkout).
        progress: Optional ``(step, done, total)`` callback; the library never prints.
    """
    from targetrank.features import REGISTRY, build_feature_table
    from targetrank.features.schema import validate_features
    from targetrank.labels import build_precedence_labels

    report = progress or no_progress
    root = shared_dir(shared)
    assert root is not None
    out_dir = Path(out) if out is not None else REPO_DIR / "features" / "snapshot"
    out_dir.mkdir(parents=True, exist_ok=True)

    report("gene index", 0, 4)
    genes_raw = local.read_genes(root)
    hpa_ids = local.read_hpa_tissue(root)["ensembl_id"].to_list()
    gene_table, alias_table = build_gene_index(genes_raw, local.read_aliases(root), hpa_ids)

    report("connectors", 1, 4)
    derived, connector_info = connector_tables(root, gene_table, alias_table)
    load = shared_tables(root, derived)

    report("features", 1, 4)
    features, column_info = build_feature_table(gene_table, load)
    features = validate_features(features, source=str(root))

    report("precedence labels", 2, 4)
    labels, label_info = build_precedence_labels(
        gene_table, local.read_drugcentral_targets(root), local.read_finan(root), load("aliases")
    )

    report("evidence base", 3, 4)
    from targetrank.evidence import EVIDENCE_FILE, build_evidence, write_evidence

    evidence_table, curation_log = build_evidence(local.read_evidence_kb(root))

    from targetrank.features.partners import PAIRS_FILE, build_pairs, write_pairs

    pairs = build_pairs(load("liana"), gene_table, load("aliases"))
    from targetrank.features.network import MIN_SCORE, NETWORK_FILE, build_network, write_network

    network = build_network(load("string"), gene_table)

    report("writing", 3, 4)
    write_evidence(evidence_table, REPO_DIR / "targetrank" / "data" / EVIDENCE_FILE)
    write_pairs(pairs, REPO_DIR / "targetrank" / "data" / PAIRS_FILE)
    write_network(network, REPO_DIR / "targetrank" / "data" / NETWORK_FILE)
    write_parquet(gene_table, out_dir / GENES_FILE)
    write_parquet(alias_table, out_dir / ALIASES_FILE)
    write_parquet(features, out_dir / FEATURES_FILE)
    write_parquet(labels, out_dir / LABELS_FILE)

    used_sources: set[str] = {"ncbi_genes", "ncbi_aliases", "hpa_tissue"}
    columns: dict[str, Any] = {}
    specs = REGISTRY.specs()
    for name, info in column_info.items():
        group = REGISTRY.group_of(name)
        non_null = features.height - features[name].null_count()
        entry = dict(info)
        entry["non_null"] = non_null
        if non_null == 0:
            entry["sources"] = []
            entry["null_reason"] = (
                connector_info["null_reasons"].get(name)
                or specs[name].null_reason
                or group.null_reason
                or "no source gives a value for any gene"
            )
        else:
            used_sources.update(info["sources"])  # type: ignore[arg-type]
            sources = [local.SOURCES[k] for k in info["sources"] if k in local.SOURCES]  # type: ignore[union-attr]
            entry["releases"] = [s.release for s in sources]
            entry["licences"] = [s.licence for s in sources]
            entry["derivation"] = sorted({s.derivation for s in sources})
        columns[name] = entry
    used_sources.update(label_info["sources"])
    used_sources.add("evidence_kb")
    used_sources.add("liana")
    used_sources.add("string")
    manifest: dict[str, Any] = {
        "targetrank_version": __version__,
        "built_from": "shared/ (see each source's PROVENANCE.md)",
        "genes": gene_table.height,
        "files": {
            GENES_FILE: {"rows": gene_table.height, "sources": ["ncbi_genes", "hpa_tissue"]},
            ALIASES_FILE: {"rows": alias_table.height, "sources": ["ncbi_aliases"]},
            FEATURES_FILE: {"rows": features.height, "columns": features.width},
            LABELS_FILE: {
                "rows": labels.height,
                "positives": label_info["positives"],
                "sources": label_info["sources"],
            },
        },
        "columns": columns,
        "connectors": connector_info["connectors"],
        "sources": {k: local.SOURCES[k].as_dict() for k in sorted(used_sources)},
        "labels": label_info,
        "evidence": {
            "file": f"targetrank/data/{EVIDENCE_FILE}",
            "rows": evidence_table.height,
            "targets": evidence_table["symbol"].n_unique(),
            "source": local.SOURCES["evidence_kb"].as_dict(),
            "curation": curation_log,
        },
        "ligand_receptor_pairs": {
            "file": f"targetrank/data/{PAIRS_FILE}",
            "rows": pairs.height,
            "genes": pl.concat([pairs["ligand_entrez"], pairs["receptor_entrez"]]).n_unique(),
            "source": local.SOURCES["liana"].as_dict(),
        },
        "string_network": {
            "file": f"targetrank/data/{NETWORK_FILE}",
            "edges": network.height,
            "genes": pl.concat([network["entrez_a"], network["entrez_b"]]).n_unique(),
            "min_combined_score": MIN_SCORE,
            "source": local.SOURCES["string"].as_dict(),
        },
    }
    with atomic_open(out_dir / MANIFEST_FILE) as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
    report("done", 4, 4)
    return manifest


def connector_tables(
    root: Path, genes: pl.DataFrame, aliases: pl.DataFrame
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """Run the Open Targets and DepMap connectors' code on the real files in ``shared/``.

    Open Targets: the bulk connector reads ``data/opentargets/25.12`` as a partial download
    (only ``target_prioritisation``) for every gene of the index. DepMap: the per-gene 26Q1
    summary, its symbols mapped through the gene index, and Project Score frequencies.

    Returns:
        The derived tables by the names feature groups require, and the manifest's record of
        what each connector read, which datasets were absent, and why columns stay null.
    """
    from targetrank.features.essentiality import projectscore_features, summary_features
    from targetrank.features.opentargets import null_columns, opentargets_features
    from targetrank.sources.opentargets import collect_opentargets
    from targetrank.sources.opentargets_bulk import OpenTargetsBulk

    bulk = OpenTargetsBulk(local.read_opentargets_bulk(root))
    ids = genes["ensembl_id"].drop_nulls().to_list()
    tables = collect_opentargets(ids, source=bulk)
    ot = opentargets_features(tables)
    absent = null_columns(tables.absent_datasets)
    dropped = [w.subject for w in tables.warnings if w.kind == "dropped_id"]

    summary = local.read_depmap_gene_summary(root)
    depmap, mapping = summary_features(summary, genes, aliases)
    screened = depmap.filter(pl.col("depmap_mean_effect").is_not_null())["entrez_id"]
    projectscore = projectscore_features(local.read_projectscore(root), genes, screened)

    null_reasons = {
        column: f"the Open Targets bulk download in shared/ (release "
        f"{tables.release.data_version}) has no '{dataset}' dataset; run `targetrank fetch "
        "opentargets` (API or a complete --bulk folder), then `targetrank features merge`"
        for column, dataset in absent.items()
    }
    info: dict[str, Any] = {
        "null_reasons": null_reasons,
        "connectors": {
            "opentargets": {
                "mode": "bulk (partial download)",
                "folder": local.SOURCES["opentargets_prioritisation"].path,
                "release": tables.release.data_version,
                "datasets_read": sorted(bulk.datasets),
                "datasets_absent": list(tables.absent_datasets),
                "targets_requested": len(ids),
                "targets_with_values": ot.height,
                "targets_absent_from_release": len(dropped),
                "targets_absent_examples": dropped[:10],
            },
            "depmap_gene_summary": {
                "release": local.SOURCES["depmap_gene_summary"].release,
                "derivation": "third-party derived",
                "rows": summary.height,
                "symbols": mapping.as_dict(),
                "not_given": "per-model values: fraction of lines dependent, lineage and site "
                "effects, expression and strong selectivity stay null (need `fetch depmap`)",
            },
            "projectscore": {
                "release": local.SOURCES["projectscore"].release,
                "genes_listed": int(projectscore["ps_fitness_pct"].gt(0).sum()),
                "zero_rule": "a gene absent from the file is 0 % when DepMap screened it "
                "(genome-wide CRISPR libraries), else null",
            },
        },
    }
    derived = {
        "opentargets_features": ot,
        "depmap_features": depmap,
        "projectscore_features": projectscore,
    }
    return derived, info
