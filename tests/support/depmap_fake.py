"""A fake DepMap portal on loopback, and generators of SYNTHETIC DepMap matrices.

What the fake serves, and what is real:

- ``/portal/api/download/files``: the REAL portal listing saved in
  ``../shared/data/depmap/download_files_listing_snapshot_2026-03.csv`` when ``shared`` is given,
  with every URL rewritten to this server (a fake ``Expires`` signature) and the MD5 of each
  synthetic file put in place of the real one. Without ``shared``: a small SYNTHETIC listing
  (real release labels and dates, files of one release), marked by a ``note`` column.
- Model.csv / sample_info.csv and CRISPRInferredCommonEssentials.csv: the REAL files of
  ``../shared`` for the releases that have them (24Q4 and 24Q2 Model.csv, 19Q4 sample_info,
  23Q2 and 24Q2 common essentials), byte for byte, so their listed MD5s verify. For any other
  release they are SYNTHETIC (cell lines named ``SYNTHETIC-…``, list labelled synthetic below).
- CRISPRGeneEffect, CRISPRGeneDependency and expression matrices: always SYNTHETIC values
  (fixed seeds), on REAL ModelIDs (from the real Model.csv when available) and the REAL
  ``SYMBOL (ENTREZ)`` header format with real NCBI symbols and Entrez ids (from the committed
  gene index). Sizes are parameters, so a benchmark can build 1,150 × 18,000 matrices.

Faults (``inject``): ``md5`` (one byte flipped), ``truncate`` (half the body, full
Content-Length), ``503``/``500`` (server error), ``403`` (refused URL), ``slow`` (pauses between
chunks); ``expire_urls`` invalidates every URL listed so far, as a signed URL expiring does.
Every request is recorded (``requests``, ``count``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import numpy as np
import polars as pl

from targetrank.resolver import GeneIndex
from targetrank.sources.depmap_release import FILE_KINDS
from targetrank.tables.depmap import RELEASE_PREFIX, release_tag

#: The seed panel of the review, with their real Entrez ids (none is common-essential).
SEED_PANEL = {"TIGIT": 201633, "DKK1": 22943, "SPP1": 6696, "TNFSF11": 8600}
PROFILE_EXPRESSION = "OmicsExpressionTPMLogp1HumanProteinCodingGenes.csv"
REAL_LISTING = "data/depmap/download_files_listing_snapshot_2026-03.csv"

#: Real files of ../shared the fake serves under their release (all md5-verified there).
REAL_FILES = {
    ("DepMap Public 24Q4", "Model.csv"): "data/depmap/24Q4/Model.csv",
    ("DepMap Public 24Q4", "AchillesCommonEssentialControls.csv"): (
        "data/depmap/24Q4/AchillesCommonEssentialControls.csv"
    ),
    ("DepMap Public 24Q2", "Model.csv"): "data/depmap/24Q2/Model.csv",
    ("DepMap Public 24Q2", "CRISPRInferredCommonEssentials.csv"): (
        "data/depmap/24Q2/CRISPRInferredCommonEssentials.csv"
    ),
    ("DepMap Public 23Q2", "CRISPRInferredCommonEssentials.csv"): (
        "data/depmap/23Q2/CRISPRInferredCommonEssentials.csv"
    ),
    ("DepMap Public 19Q4", "sample_info.csv"): "data/depmap/19Q4/sample_info.csv",
}

# Symbols of well-known core-essential families, used only to pick a SYNTHETIC common-essential
# list when the real one is not available (no ../shared).
_ESSENTIAL_PREFIXES = ("RPL", "RPS", "PSMA", "PSMB", "POLR2", "EIF3", "SF3B", "CCT")


# --------------------------------------------------------------------------------------------
# Synthetic data generators
# --------------------------------------------------------------------------------------------


def gene_label(symbol: str, entrez: int) -> str:
    """DepMap's column label format."""
    return f"{symbol} ({entrez})"


def real_gene_table() -> pl.DataFrame:
    """Real NCBI genes (symbol, entrez_id) from the committed gene index, sorted by Entrez id."""
    return GeneIndex.load().genes.select("symbol", "entrez_id").sort("entrez_id")


def pick_genes(
    n_genes: int,
    *,
    seed: int = 0,
    include: Iterable[tuple[str, int]] = (),
    essentials: int = 0,
    essential_pool: Sequence[tuple[str, int]] | None = None,
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Real (symbol, entrez) pairs for a synthetic header, and the subset to make essential.

    ``include`` genes come first; ``essentials`` genes are drawn from ``essential_pool`` (e.g.
    the real 24Q2 list) or, without one, from core-essential families of the gene index.
    """
    rng = np.random.default_rng(seed)
    table = real_gene_table()
    chosen: list[tuple[str, int]] = list(dict.fromkeys((s, int(e)) for s, e in include))
    if essential_pool is None:
        fam = table.filter(
            pl.col("symbol").str.contains("^(" + "|".join(_ESSENTIAL_PREFIXES) + ")")
        )
        essential_pool = list(zip(fam["symbol"], fam["entrez_id"], strict=True))
    pool = [g for g in essential_pool if g not in chosen]
    k = min(essentials, len(pool), max(n_genes - len(chosen), 0))
    ess = [pool[i] for i in sorted(rng.choice(len(pool), size=k, replace=False))] if k else []
    chosen += ess
    taken = {e for _, e in chosen}
    rest = table.filter(~pl.col("entrez_id").is_in(list(taken)))
    k = max(n_genes - len(chosen), 0)
    idx = np.sort(rng.choice(rest.height, size=min(k, rest.height), replace=False))
    chosen += list(zip(rest["symbol"][idx], (int(e) for e in rest["entrez_id"][idx]), strict=True))
    return chosen, ess


def synthetic_models(n: int = 240, seed: int = 0) -> pl.DataFrame:
    """A SYNTHETIC Model.csv (24Q4 column names) with every context represented."""
    rng = np.random.default_rng(seed)
    kinds = [
        (
            "Breast",
            "Invasive Breast Carcinoma",
            "Breast Invasive Ductal Carcinoma",
            "IDC",
            "pleural_effusion",
        ),
        ("Prostate", "Prostate Adenocarcinoma", "Prostate Adenocarcinoma", "PRAD", "bone"),
        ("Lung", "Non-Small Cell Lung Cancer", "Lung Adenocarcinoma", "LUAD", "lung"),
        ("Bone", "Osteosarcoma", "Osteosarcoma", "OS", "bone"),
        ("Lymphoid", "Mature B-Cell Neoplasms", "Plasma Cell Myeloma", "PCM", "bone_marrow"),
        ("Skin", "Melanoma", "Cutaneous Melanoma", "SKCM", "skin"),
    ]
    rows = []
    for i in range(n):
        lin, disease, subtype, code, site = kinds[int(rng.integers(len(kinds)))]
        rows.append(
            {
                "ModelID": f"ACH-9{i:05d}",
                "CellLineName": f"SYNTHETIC-{i:04d}",
                "OncotreeLineage": lin,
                "OncotreePrimaryDisease": disease,
                "OncotreeSubtype": subtype,
                "OncotreeCode": code,
                "PrimaryOrMetastasis": "Metastatic" if site == "bone" else "Primary",
                "SampleCollectionSite": site if rng.random() < 0.8 else "bone",
            }
        )
    return pl.DataFrame(rows)


def pick_models(models: pl.DataFrame, n: int, seed: int = 0) -> list[str]:
    """ModelIDs for synthetic matrices, stratified so every bone-metastasis context has lines."""
    from targetrank.features.depmap import model_contexts
    from targetrank.features.depmap_columns import CONTEXT_NAMES

    rng = np.random.default_rng(seed)
    ctx = model_contexts(models).sort("ModelID")
    picked: list[str] = []
    per = max(n // (2 * len(CONTEXT_NAMES)), 1)
    for name in CONTEXT_NAMES:
        ids = [m for m in ctx.filter(pl.col(name))["ModelID"].to_list() if m not in picked]
        take = min(per, len(ids))
        picked += [ids[i] for i in sorted(rng.choice(len(ids), size=take, replace=False))]
    rest = [m for m in ctx["ModelID"].to_list() if m not in set(picked)]
    k = min(max(n - len(picked), 0), len(rest))
    picked += [rest[i] for i in sorted(rng.choice(len(rest), size=k, replace=False))]
    return sorted(picked[:n])


@dataclass
class SyntheticMatrices:
    """SYNTHETIC gene effect, dependency and expression frames (``ModelID`` + gene columns)."""

    gene_effect: pl.DataFrame
    dependency: pl.DataFrame
    expression: pl.DataFrame
    genes: list[tuple[str, int]]
    essentials: list[tuple[str, int]]
    selective: list[tuple[str, int]]


def synthetic_matrices(
    model_ids: Sequence[str],
    genes: Sequence[tuple[str, int]],
    *,
    essentials: Iterable[tuple[str, int]] = (),
    n_selective: int = 3,
    missing: float = 0.02,
    all_missing: int = 1,
    seed: int = 0,
) -> SyntheticMatrices:
    """SYNTHETIC matrices with DepMap's shapes and scales (fixed seed, no real values).

    Gene effect: most genes near 0; ``essentials`` near −1.2; ``n_selective`` genes with a few
    strongly dependent lines (negative skew, heavy tail: strongly selective). Dependency is a
    logistic of the effect, in [0, 1]. Expression is log2(TPM+1)-like, ≥ 0. A fraction
    ``missing`` of cells is empty, and ``all_missing`` genes have no gene-effect value at all.
    """
    rng = np.random.default_rng(seed)
    n, g = len(model_ids), len(genes)
    ess = set(essentials)
    labels = [gene_label(s, e) for s, e in genes]
    is_ess = np.array([gene in ess for gene in genes])
    candidates = [j for j in range(g) if not is_ess[j]]
    sel_idx = candidates[-n_selective:] if n_selective else []
    effect = rng.normal(0.0, 1.0, size=(n, g)) * rng.uniform(0.1, 0.25, size=g)
    effect += rng.normal(-0.05, 0.08, size=g)
    effect[:, is_ess] = rng.normal(-1.2, 0.3, size=(n, int(is_ess.sum())))
    for j in sel_idx:
        hit = rng.random(n) < 0.06
        hit[int(rng.integers(n))] = True
        effect[:, j] = rng.normal(0.0, 0.12, size=n)
        effect[hit, j] = rng.normal(-1.6, 0.3, size=int(hit.sum()))
    effect[rng.random((n, g)) < missing] = np.nan
    gone = [j for j in candidates if j not in sel_idx][-all_missing:] if all_missing else []
    effect[:, gone] = np.nan
    dependency = 1.0 / (1.0 + np.exp(8.0 * (effect + 0.55)))
    expression = np.clip(rng.uniform(0, 6, size=g) + rng.normal(0, 1.0, size=(n, g)), 0.0, None)
    expression[rng.random((n, g)) < missing] = np.nan

    def frame(values: np.ndarray) -> pl.DataFrame:
        df = pl.DataFrame(values, schema=labels, orient="row", nan_to_null=True)
        return df.insert_column(0, pl.Series("ModelID", list(model_ids), pl.String))

    return SyntheticMatrices(
        gene_effect=frame(effect),
        dependency=frame(dependency),
        expression=frame(expression),
        genes=list(genes),
        essentials=[genes[j] for j in range(g) if is_ess[j]],
        selective=[genes[j] for j in sel_idx],
    )


def matrix_csv(df: pl.DataFrame, *, id_header: str = "") -> bytes:
    """A wide matrix as DepMap writes it: model ids in a first column named ``id_header``."""
    body = df.rename({"ModelID": id_header}).write_csv().encode()
    # polars quotes an empty column name; DepMap's header starts with a bare comma
    return body[2:] if body.startswith(b'"",') else body


def profile_expression_csv(expression: pl.DataFrame, *, seed: int = 0, flag: str = "both") -> bytes:
    """SYNTHETIC 25Q2+-style expression: one row per profile with metadata columns.

    Every model gets its default profile (the values of ``expression``); every third model also
    gets a non-default profile whose values are 99.0, so a reader that keeps the wrong row shows.
    ``flag`` selects the metadata: ``readme`` (is_default_entry True/False, 25Q2 README),
    ``26q1`` (IsDefaultEntryForModel Yes/No) or ``both``.
    """
    rng = np.random.default_rng(seed)
    genes = [c for c in expression.columns if c != "ModelID"]
    models = expression["ModelID"].to_list()
    default = expression.with_columns(pl.lit(True).alias("_default"))
    extra_ids = models[::3]
    extra = pl.DataFrame({"ModelID": extra_ids}).with_columns(
        *[pl.lit(99.0).alias(c) for c in genes], pl.lit(False).alias("_default")
    )
    both = pl.concat([default, extra.select(default.columns)])
    both = both.with_columns(pl.Series("_order", rng.permutation(both.height))).sort("_order")
    meta = [pl.format("PR-{}", pl.col("_order")).alias("ProfileID")]
    if flag in ("readme", "both"):
        meta.append(
            pl.when(pl.col("_default"))
            .then(pl.lit("True"))
            .otherwise(pl.lit("False"))
            .alias("is_default_entry")
        )
    if flag in ("26q1", "both"):
        meta.append(
            pl.when(pl.col("_default"))
            .then(pl.lit("Yes"))
            .otherwise(pl.lit("No"))
            .alias("IsDefaultEntryForModel")
        )
    out = both.select([*meta, pl.col("ModelID"), *[pl.col(c) for c in genes]])
    return out.write_csv().encode()


def gene_list_csv(genes: Iterable[tuple[str, int]], header: str = "Essentials") -> bytes:
    """A DepMap one-column gene list."""
    lines = [header, *(gene_label(s, e) for s, e in genes)]
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------------------------
# The loopback server
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request the fake received."""

    method: str
    kind: str  # "listing", "file" or "other"
    filename: str | None
    release: str | None
    expires: int | None
    status: int


class FakeDepMapPortal:
    """A DepMap portal on 127.0.0.1 (ephemeral port, background thread) for tests.

    Args:
        shared: The real ``../shared`` folder, or None for a fully synthetic portal.
        release: The release whose files are served (others are listed but answer 404).
        n_models, n_genes: Size of the synthetic matrices.
        seed: Seed of every synthetic value.
        taiga_id: Add the ``taiga_id`` column some portal configurations list.
        expression_flag: Metadata of profile-level expression (see ``profile_expression_csv``).
    """

    def __init__(
        self,
        shared: Path | None = None,
        *,
        release: str = "DepMap Public 24Q4",
        n_models: int = 60,
        n_genes: int = 40,
        seed: int = 0,
        taiga_id: bool = False,
        expression_flag: str = "both",
        essentials: int = 4,
        missing: float = 0.02,
    ) -> None:
        self.shared = shared
        self.release = release
        self.seed = seed
        self.taiga_id = taiga_id
        self.files: dict[tuple[str, str], bytes | Path] = {}
        self.md5: dict[tuple[str, str], str] = {}
        self.requests: list[Seen] = []
        self.slow_seconds = 0.05
        self._faults: dict[str, list[str]] = defaultdict(list)
        self.unlisted_md5: set[tuple[str, str]] = set()  # listed with an empty md5_hash
        self._generation = 0
        self._valid_from = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_listing = self._read_listing()
        self._populate(n_models, n_genes, expression_flag, essentials, missing)

    # -- content -------------------------------------------------------------------------

    def _read_listing(self) -> pl.DataFrame:
        if self.shared is not None:
            return pl.read_csv(self.shared / REAL_LISTING, infer_schema=False)
        rel = RELEASE_PREFIX
        rows = [
            (f"{rel}24Q4", "2024-12-16", name)
            for name in (
                "Model.csv",
                "CRISPRGeneEffect.csv",
                "CRISPRGeneDependency.csv",
                "CRISPRInferredCommonEssentials.csv",
                "OmicsExpressionProteinCodingGenesTPMLogp1.csv",
                "README.txt",
            )
        ]
        rows += [
            (f"{rel}25Q3", "2025-09-25", name)
            for name in (
                "Model.csv",
                "CRISPRGeneEffect.csv",
                "CRISPRGeneDependency.csv",
                "CRISPRInferredCommonEssentials.csv",
                PROFILE_EXPRESSION,
            )
        ]
        rows += [
            (f"{rel}24Q2", "2024-05-22", "Model.csv"),
            (f"{rel}24Q2", "2024-05-22", "CRISPRGeneEffect.csv"),
            (f"{rel}20Q4 v2", "2020-12-18", "sample_info.csv"),
            (f"{rel}20Q4", "2020-11-15", "sample_info.csv"),
            ("Harmonized Public Proteomics 24Q4", "2025-01-15", "harmonized_MS_CCLE_Gygi.csv"),
            ("Biogrid 25Q3", "2025-09-25", "BIOGRID-ALL.tab3.txt"),
        ]
        df = pl.DataFrame(rows, schema=["release", "release_date", "filename"], orient="row")
        return df.with_columns(
            pl.lit("https://synthetic.invalid/").alias("url"),
            pl.lit("0" * 32).alias("md5_hash"),
            pl.lit("SYNTHETIC listing: ../shared absent").alias("note"),
        )

    def _listed(self, release: str) -> set[str]:
        rows = self._base_listing.filter(pl.col("release") == release)
        return set(rows["filename"].to_list())

    def _populate(
        self, n_models: int, n_genes: int, expression_flag: str, essentials: int, missing: float
    ) -> None:
        rel = self.release
        listed = self._listed(rel)
        model_name = next((n for n in FILE_KINDS["model"] if n in listed), "Model.csv")
        real_model = self._real(rel, model_name)
        if real_model is not None:
            from targetrank.tables.depmap import read_models

            models = read_models(real_model)
            self.add_file(rel, model_name, real_model)
        else:
            models = synthetic_models(max(n_models * 2, 60), seed=self.seed)
            self.add_file(rel, model_name, models.write_csv().encode())
        ids = pick_models(models, n_models, seed=self.seed)
        real_ce = self._real(rel, "CRISPRInferredCommonEssentials.csv")
        # essential genes of the synthetic matrices: from this release's real list, else from the
        # real 24Q2 list, else (no ../shared) from core-essential gene families
        pool = None
        pool_file = real_ce or self._real(
            "DepMap Public 24Q2", "CRISPRInferredCommonEssentials.csv"
        )
        if pool_file is not None:
            from targetrank.sources.local import read_depmap_gene_list

            ce = read_depmap_gene_list(pool_file)
            pool = list(zip(ce["symbol"], ce["entrez_id"], strict=True))
        genes, ess = pick_genes(
            n_genes,
            seed=self.seed,
            include=SEED_PANEL.items(),
            essentials=essentials,
            essential_pool=pool,
        )
        self.matrices = synthetic_matrices(
            ids, genes, essentials=ess, seed=self.seed, missing=missing
        )
        self.models = models
        self.model_ids = ids
        if real_ce is not None:
            self.add_file(rel, "CRISPRInferredCommonEssentials.csv", real_ce)
        else:  # SYNTHETIC list: the essentials the synthetic matrices were built with
            self.add_file(rel, "CRISPRInferredCommonEssentials.csv", gene_list_csv(ess))
        self.add_file(rel, "CRISPRGeneEffect.csv", matrix_csv(self.matrices.gene_effect))
        self.add_file(rel, "CRISPRGeneDependency.csv", matrix_csv(self.matrices.dependency))
        expr_name = next((n for n in FILE_KINDS["expression"] if n in listed), None)
        if expr_name == PROFILE_EXPRESSION:
            body = profile_expression_csv(
                self.matrices.expression, seed=self.seed, flag=expression_flag
            )
            self.add_file(rel, expr_name, body)
        elif expr_name is not None:
            self.add_file(rel, expr_name, matrix_csv(self.matrices.expression))
        for r, name in REAL_FILES:
            real = self._real(r, name)
            if real is not None and (r, name) not in self.files:
                self.add_file(r, name, real)

    def _real(self, release: str, filename: str) -> Path | None:
        if self.shared is None or (release, filename) not in REAL_FILES:
            return None
        path = self.shared / REAL_FILES[(release, filename)]
        return path if path.is_file() else None

    def add_file(self, release: str, filename: str, body: bytes | Path) -> None:
        """Serve ``body`` as ``filename`` of ``release`` (listed with the body's own MD5)."""
        digest = hashlib.md5(usedforsecurity=False)
        if isinstance(body, Path):
            with body.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        else:
            digest.update(body)
        self.files[(release, filename)] = body
        self.md5[(release, filename)] = digest.hexdigest()

    def listing_csv(self) -> bytes:
        """The listing as served now: URLs point here and carry the current fake signature."""
        with self._lock:
            self._generation += 1
            gen = self._generation
        base = self._base_listing
        served = pl.DataFrame(
            [(r, f, m) for (r, f), m in self.md5.items()],
            schema=["release", "filename", "_md5"],
            orient="row",
        )
        extra = served.join(
            base.select("release", "filename"), on=["release", "filename"], how="anti"
        )
        if extra.height:
            dates = base.group_by("release").agg(pl.col("release_date").min())
            extra = extra.join(dates, on="release", how="left").with_columns(
                pl.col("release_date").fill_null("2024-01-01")
            )
            base = pl.concat(
                [
                    base,
                    extra.select("release", "release_date", "filename")
                    .with_columns(
                        *[
                            pl.lit(None, pl.String).alias(c)
                            for c in base.columns
                            if c not in ("release", "release_date", "filename")
                        ]
                    )
                    .select(base.columns),
                ]
            )
        df = base.join(served, on=["release", "filename"], how="left", maintain_order="left")
        blank = pl.lit(False)
        for release, filename in self.unlisted_md5:
            blank = blank | ((pl.col("release") == release) & (pl.col("filename") == filename))
        df = df.with_columns(
            pl.when(blank)
            .then(pl.lit(None, pl.String))
            .otherwise(pl.coalesce("_md5", "md5_hash"))
            .alias("md5_hash"),
            (
                pl.lit(f"{self.root}/files/")
                + pl.col("release").map_elements(release_tag, return_dtype=pl.String)
                + pl.lit("/")
                + pl.col("filename").map_elements(quote, return_dtype=pl.String)
                + pl.lit(f"?Expires={gen}&Signature=FAKE")
            ).alias("url"),
        ).drop("_md5")
        cols = ["release", "release_date", "filename", "url"]
        if self.taiga_id:
            df = df.with_columns(pl.format("fake-{}.1", pl.col("filename")).alias("taiga_id"))
            cols.append("taiga_id")
        cols.append("md5_hash")
        cols += [c for c in df.columns if c not in cols]
        return df.select(cols).write_csv().encode()

    # -- faults and counts -----------------------------------------------------------------

    def inject(self, target: str, fault: str, times: int = 1) -> None:
        """Make the next ``times`` GETs of ``target`` (a file name, or ``listing``) fail."""
        assert fault in {"md5", "truncate", "500", "503", "403", "slow"}, fault
        with self._lock:
            self._faults[target] += [fault] * times

    def expire_urls(self) -> None:
        """Every URL listed so far now answers 403, as an expired signed URL does."""
        with self._lock:
            self._valid_from = self._generation + 1

    def count(
        self, kind: str | None = None, *, filename: str | None = None, method: str | None = "GET"
    ) -> int:
        """Requests seen, filtered by kind (``listing``/``file``), file name and method."""
        return sum(
            1
            for r in self.requests
            if (kind is None or r.kind == kind)
            and (filename is None or r.filename == filename)
            and (method is None or r.method == method)
        )

    def _take_fault(self, target: str) -> str | None:
        with self._lock:
            queue = self._faults.get(target)
            return queue.pop(0) if queue else None

    # -- server ----------------------------------------------------------------------------

    @property
    def root(self) -> str:
        """Portal root URL (``http://127.0.0.1:<port>/portal``)."""
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/portal"

    @property
    def endpoint(self) -> str:
        """The listing URL (what ``--endpoint`` takes)."""
        return f"{self.root}/api/download/files"

    def start(self) -> FakeDepMapPortal:
        """Listen on 127.0.0.1 with an ephemeral port, in a daemon thread."""
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return None

            def do_HEAD(self) -> None:
                portal._handle(self, head=True)

            def do_GET(self) -> None:
                portal._handle(self, head=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeDepMapPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, *args: object) -> None:
        with self._lock:
            self.requests.append(Seen(*args))  # type: ignore[arg-type]

    def _handle(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        method = "HEAD" if head else "GET"
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        if path.rstrip("/") == "/portal/api/download/files":
            fault = None if head else self._take_fault("listing")
            if fault in ("500", "503"):
                self._record(method, "listing", None, None, None, int(fault))
                h.send_error(int(fault))
                return
            body = self.listing_csv()
            self._record(method, "listing", None, None, None, 200)
            self._send(h, 200, body, "text/csv", head=head)
            return
        pieces = path.split("/")
        if len(pieces) == 5 and pieces[1:3] == ["portal", "files"]:
            tag, filename = pieces[3], pieces[4]
            release = next(
                (r for (r, f) in self.files if release_tag(r) == tag and f == filename), None
            )
            query = parse_qs(parts.query)
            expires = int(query.get("Expires", ["0"])[0])
            if release is None:
                self._record(method, "file", filename, None, expires, 404)
                h.send_error(404)
                return
            if expires < self._valid_from:
                self._record(method, "file", filename, release, expires, 403)
                h.send_error(403, "Request has expired")
                return
            fault = None if head else self._take_fault(filename)
            if fault in ("500", "503", "403"):
                self._record(method, "file", filename, release, expires, int(fault))
                h.send_error(int(fault))
                return
            body = self.files[(release, filename)]
            self._record(method, "file", filename, release, expires, 200)
            if isinstance(body, Path) and fault is None:  # big benchmark files: stream from disk
                self._send_file(h, body, head=head)
                return
            data = body.read_bytes() if isinstance(body, Path) else body
            if fault == "md5":
                mid = len(data) // 2
                data = data[:mid] + bytes([data[mid] ^ 0x01]) + data[mid + 1 :]
            self._send(h, 200, data, "text/csv", head=head, fault=fault)
            return
        self._record(method, "other", None, None, None, 404)
        h.send_error(404)

    def _send_file(self, h: BaseHTTPRequestHandler, path: Path, *, head: bool) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        h.send_header("Content-Length", str(path.stat().st_size))
        h.end_headers()
        if not head:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    h.wfile.write(chunk)

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        ctype: str,
        *,
        head: bool,
        fault: str | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if head:
            return
        if fault == "truncate":
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return
        step = 1 << 16
        for start in range(0, len(data), step):
            if fault == "slow":
                time.sleep(self.slow_seconds)
            h.wfile.write(data[start : start + step])
