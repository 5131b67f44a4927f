"""SYNTHETIC benchmark inputs at real scale and in the real layouts (fixed seeds, nothing real).

Everything is written under ``bench/_data/`` (git-ignored) and reused while its name (which
encodes shape and seed) matches, so only the first run pays for generation.

- DepMap: ``CRISPRGeneEffect.csv`` and ``CRISPRGeneDependency.csv`` with DepMap's header (a bare
  leading comma, then ``SYMBOL (ENTREZ)`` labels of real NCBI genes from the committed gene
  index) and real ModelIDs (the 24Q4 Model.csv of ../shared when present, else ``ACH-9xxxxx``
  ids with a synthetic Model.csv). Values are invented: effects near 0, a few hundred
  essential-like genes near -1.2, dependency = logistic(effect), 2 % empty cells. Written in
  row blocks, so generation memory stays at one block.
- Open Targets: the Platform's bulk parquet datasets for N generated targets, written by the
  test suite's generator (:mod:`support.ot_synthetic`), which the API fake also serves.
- Feature subsets: deterministic subsets of the embedded snapshot (for how ranking cost grows).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from targetrank.config import ENV_BENCH_DATA, env

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "_data"


def data_dir() -> Path:
    """Where inputs are generated: ``$TARGETRANK_BENCH_DATA`` (the smoke test's tmp) or _data."""
    return Path(env(ENV_BENCH_DATA) or DEFAULT_DATA_DIR)


TESTS_DIR = Path(__file__).resolve().parent.parent / "tests"
REAL_MODELS = Path("data/depmap/24Q4/Model.csv")  # under ../shared
_BLOCK_ROWS = 64


def test_support() -> None:
    """Make ``support`` (the test suite's fakes and generators) importable.

    ``tests/`` is not installed by ``pip install .``; it is there in every checkout, and bench
    runs from one. Putting ``tests/`` first on the path (as pytest does) imports the regular
    package ``support`` from this checkout, never a same-named installed one.
    """
    path = str(TESTS_DIR)
    if path not in sys.path:
        sys.path.insert(0, path)


# --------------------------------------------------------------------------------------------
# DepMap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepMapFiles:
    """Paths of one synthetic DepMap release and what it holds."""

    folder: Path
    gene_effect: Path
    dependency: Path
    models: Path
    n_models: int
    n_genes: int
    model_source: str  # "real 24Q4 Model.csv" or "synthetic"
    panel: list[int]  # 30 Entrez ids of the matrix, for the panel case

    @property
    def csv_bytes(self) -> int:
        """Size of the two matrices on disk."""
        return self.gene_effect.stat().st_size + self.dependency.stat().st_size


def _genes(n_genes: int, seed: int) -> pl.DataFrame:
    from targetrank.resolver import GeneIndex

    genes = GeneIndex.load().genes.select("symbol", "entrez_id").drop_nulls().sort("entrez_id")
    if n_genes > genes.height:
        raise ValueError(f"at most {genes.height} real genes are available, {n_genes} asked")
    rng = np.random.default_rng([seed, 1])
    idx = np.sort(rng.choice(genes.height, size=n_genes, replace=False))
    return genes[idx]


def _model_ids(n_models: int, seed: int, shared: Path | None) -> tuple[list[str], Path | None]:
    if shared is not None and (shared / REAL_MODELS).is_file():
        real = shared / REAL_MODELS
        ids = pl.read_csv(real, columns=["ModelID"], infer_schema=False)["ModelID"].to_list()
        ids = sorted(set(ids))
        if len(ids) >= n_models:
            rng = np.random.default_rng([seed, 2])
            return sorted(ids[i] for i in rng.choice(len(ids), size=n_models, replace=False)), real
    return [f"ACH-9{i:05d}" for i in range(n_models)], None


def _synthetic_models(ids: list[str], seed: int) -> pl.DataFrame:
    """A SYNTHETIC Model.csv (24Q4 column names) with every bone-metastasis context present."""
    rng = np.random.default_rng([seed, 3])
    kinds = [
        ("Breast", "Invasive Breast Carcinoma", "Breast Ductal", "IDC", "pleural_effusion"),
        ("Prostate", "Prostate Adenocarcinoma", "Prostate Adeno", "PRAD", "bone"),
        ("Lung", "Non-Small Cell Lung Cancer", "Lung Adenocarcinoma", "LUAD", "lung"),
        ("Lymphoid", "Mature B-Cell Neoplasms", "Plasma Cell Myeloma", "PCM", "bone_marrow"),
        ("Skin", "Melanoma", "Cutaneous Melanoma", "SKCM", "skin"),
        ("Bowel", "Colorectal Adenocarcinoma", "Colon Adenocarcinoma", "COAD", "colon"),
    ]
    pick = rng.integers(len(kinds), size=len(ids))
    site = ["bone" if rng.random() < 0.05 else kinds[k][4] for k in pick]
    return pl.DataFrame(
        {
            "ModelID": ids,
            "CellLineName": [f"SYNTHETIC-{i:04d}" for i in range(len(ids))],
            "OncotreeLineage": [kinds[k][0] for k in pick],
            "OncotreePrimaryDisease": [kinds[k][1] for k in pick],
            "OncotreeSubtype": [kinds[k][2] for k in pick],
            "OncotreeCode": [kinds[k][3] for k in pick],
            "PrimaryOrMetastasis": ["Metastatic" if s == "bone" else "Primary" for s in site],
            "SampleCollectionSite": site,
        }
    )


def _write_matrix(path: Path, ids: list[str], labels: list[str], blocks: list[np.ndarray]) -> None:
    """DepMap's CSV layout: ``,LABEL,...`` header, then ``ModelID,value,...`` rows."""
    tmp = path.with_suffix(".partial")
    with tmp.open("wb") as handle:
        handle.write(("," + ",".join(f'"{c}"' if "," in c else c for c in labels) + "\n").encode())
        start = 0
        for block in blocks:
            frame = pl.DataFrame(block.T, schema=labels, nan_to_null=True)  # columns = genes
            frame = frame.insert_column(0, pl.Series("_id", ids[start : start + len(block)]))
            frame.write_csv(handle, include_header=False)
            start += len(block)
    tmp.replace(path)


def depmap_release(
    n_models: int = 1150,
    n_genes: int = 18000,
    *,
    seed: int = 0,
    shared: Path | None = None,
    root: Path | None = None,
) -> DepMapFiles:
    """Write (or reuse) a SYNTHETIC gene-effect + dependency pair of the given shape."""
    folder = (root or data_dir()) / f"depmap_{n_models}x{n_genes}_seed{seed}"
    effect_path = folder / "CRISPRGeneEffect.csv"
    dep_path = folder / "CRISPRGeneDependency.csv"
    info_path = folder / "synthetic.json"
    genes = _genes(n_genes, seed)
    ids, real_models = _model_ids(n_models, seed, shared)
    models_path = real_models or folder / "Model.csv"
    rng_panel = np.random.default_rng([seed, 4])
    panel = sorted(
        int(e) for e in genes["entrez_id"].to_numpy()[rng_panel.choice(n_genes, 30, replace=False)]
    )
    files = DepMapFiles(
        folder,
        effect_path,
        dep_path,
        models_path,
        n_models,
        n_genes,
        "real 24Q4 Model.csv (../shared)" if real_models else "synthetic",
        panel,
    )
    ready = info_path.is_file() and effect_path.is_file() and dep_path.is_file()
    if ready and (real_models or models_path.is_file()):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    if real_models is None:
        _synthetic_models(ids, seed).write_csv(models_path)
    labels = [f"{s} ({e})" for s, e in genes.iter_rows()]
    rng = np.random.default_rng([seed, 5])
    scale = rng.uniform(0.1, 0.25, size=n_genes)
    shift = rng.normal(-0.05, 0.08, size=n_genes)
    essential = rng.random(n_genes) < 0.06
    effects, deps = [], []
    for start in range(0, n_models, _BLOCK_ROWS):
        rows = min(_BLOCK_ROWS, n_models - start)
        block = rng.normal(0.0, 1.0, size=(rows, n_genes)) * scale + shift
        block[:, essential] = rng.normal(-1.2, 0.3, size=(rows, int(essential.sum())))
        block[rng.random((rows, n_genes)) < 0.02] = np.nan
        effects.append(block)
        deps.append(1.0 / (1.0 + np.exp(8.0 * (block + 0.55))))
    _write_matrix(effect_path, ids, labels, effects)
    _write_matrix(dep_path, ids, labels, deps)
    info_path.write_text(
        json.dumps(
            {
                "note": "SYNTHETIC DepMap-shaped matrices (invented values) for bench/",
                "models": n_models,
                "genes": n_genes,
                "seed": seed,
                "model_ids": files.model_source,
            },
            indent=1,
        )
    )
    return files


# --------------------------------------------------------------------------------------------
# Open Targets bulk parquet
# --------------------------------------------------------------------------------------------


def opentargets_bulk(n_targets: int = 20000, *, root: Path | None = None) -> tuple[Path, list[str]]:
    """Write (or reuse) the Platform's 26.06 bulk datasets for ~``n_targets`` SYNTHETIC targets.

    Returns the ``output`` folder and the target ids (30 real-id seeds + generated ones).
    """
    test_support()
    from support.ot_synthetic import SEED_TARGETS, make_platform, synthetic_id, write_bulk

    n_generated = max(n_targets - len(SEED_TARGETS), 0)
    ids = [t[0] for t in SEED_TARGETS] + [synthetic_id(i) for i in range(1, n_generated + 1)]
    folder = (root or data_dir()) / f"opentargets_{n_targets}" / "26.06" / "output"
    done = folder.parent / "complete.json"
    if not done.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        write_bulk(make_platform(n_generated), folder)
        done.write_text(json.dumps({"note": "SYNTHETIC Open Targets bulk", "targets": len(ids)}))
    return folder, ids


# --------------------------------------------------------------------------------------------
# Feature subsets of the embedded snapshot
# --------------------------------------------------------------------------------------------


def feature_subset(n_genes: int, *, seed: int = 0, root: Path | None = None) -> str:
    """A feature folder holding ``n_genes`` genes of the embedded snapshot (deterministic).

    The evidence-base targets and the seed panel are always kept (the ranker trains on them);
    the rest is a fixed-seed sample. ``n_genes`` at or above the snapshot size gives the
    snapshot itself (``"snapshot"`` is returned).
    """
    import targetrank
    from targetrank.paths import snapshot_dir
    from targetrank.strategy_file import load_strategies

    features = targetrank.load_features()
    if n_genes >= features.height:
        return "snapshot"
    folder = (root or data_dir()) / f"features_{n_genes}_seed{seed}"
    if (folder / "features.parquet").is_file():
        return str(folder)
    keep = set(targetrank.evidence()["entrez_id"].to_list())
    keep |= set(targetrank.resolve(list(load_strategies().seed_panel)).targets["entrez_id"])
    rest = features.filter(~pl.col("entrez_id").is_in(list(keep)))
    rng = np.random.default_rng([seed, 6])
    take = max(n_genes - len(keep), 0)
    picked = set(rest["entrez_id"].to_numpy()[rng.choice(rest.height, take, replace=False)])
    subset = features.filter(pl.col("entrez_id").is_in(list(keep | picked)))
    folder.mkdir(parents=True, exist_ok=True)
    subset.write_parquet(folder / "features.parquet")
    for name in ("manifest.json", "precedence_labels.parquet"):
        shutil.copyfile(snapshot_dir() / name, folder / name)
    return str(folder)
