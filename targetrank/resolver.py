"""Turn what people type into exact human targets.

Users write protein aliases (OPN, RANKL, PD-1), punctuation variants (TIM-3), versioned Ensembl ids,
Entrez ids and even mouse genes (CHI3L3). A careless resolver silently ranks the wrong gene, so this
one reports every decision in a resolution table and never guesses:

1. Ensembl gene ids (version suffix stripped) and Entrez ids are looked up directly.
2. An approved HGNC/NCBI symbol wins (case-insensitive, trimmed).
3. Known non-human names (``data/non_human_genes.tsv``) get status ``non_human`` with human proxies
   offered, never substituted.
4. The curated immuno-oncology / bone-biology table (``data/curated_names.tsv``) comes next, so that
   PD-1 is PDCD1 and not RPL17.
5. NCBI synonyms, exactly (case-insensitive), then after normalising punctuation and Greek letters;
   more than one gene at either step is ``ambiguous`` and lists the candidates.
6. A family root such as ``CD3`` or ``IL12`` (HGNC names the members of a family or complex by
   a shared root plus a letter: CD3D, CD3E, CD3G; Bruford et al., Nat Genet 2020;52:754-758) is
   ``ambiguous`` and lists the members; the families are derived from the gene index's symbols.
7. Anything else is ``unknown`` with the closest suggestions. Fuzzy matching costs milliseconds
   per name, so above :data:`MAX_SUGGESTED` unknown names no suggestions are searched and the
   error names the first offenders and the count (a pasted spreadsheet column must fail fast).

The gene index is a compact table derived by ``targetrank snapshot build`` from the NCBI annotation
extract in ``../shared`` and committed with the snapshot. Online resolution (Open Targets ``mapIds``)
implements the same :class:`TargetResolver` protocol.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import polars as pl

from targetrank.errors import DataError, UsageError
from targetrank.resolution import ENSEMBL_HUMAN as _ENSEMBL_HUMAN
from targetrank.resolution import ENSEMBL_OTHER as _ENSEMBL_OTHER
from targetrank.resolution import (
    RESOLUTION_SCHEMA,
    RESOLVED_STATUSES,
    Resolution,
    TargetResolver,
)

_ENSEMBL_SPECIES = {"MUS": "mouse", "RNO": "rat", "DAR": "zebrafish", "GAL": "chicken"}
_ENTREZ = re.compile(r"^\d{1,9}$")
_FAMILY_MEMBER = re.compile(r"^([A-Z0-9]*\d)([A-Z])$")  # CD3D: root CD3 + member letter D
#: Most unknown names for which close names are searched (rapidfuzz over ~60k aliases each).
MAX_SUGGESTED = 50
_MOUSE_CASE = re.compile(r"^[A-Z][a-z][a-z0-9]*$|^[A-Z][a-z0-9]*[a-z][a-z0-9]*$")
_GREEK = {
    "α": "A", "β": "B", "γ": "G", "δ": "D", "ε": "E", "κ": "K", "λ": "L", "μ": "M", "ω": "W",
}  # fmt: skip


def normalise(name: str) -> str:
    """Case-, space- and punctuation-insensitive key: ``TIM-3`` and ``tim 3`` give ``TIM3``.

    Greek letters become their Latin initials (``IL-1β`` gives ``IL1B``), as HGNC spells them.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(_GREEK.get(ch.lower(), ch) for ch in text)
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@dataclass(frozen=True)
class CuratedName:
    """One entry of the curated name table: a name, the gene it means, and why it is there."""

    name: str
    symbol: str
    reason: str


@dataclass(frozen=True)
class NonHumanName:
    """A non-human gene name, with human proxies that may be offered but never substituted."""

    name: str
    species: str
    ortholog_status: str
    human_proxies: tuple[str, ...]
    note: str


def _read_packaged_tsv(filename: str) -> list[dict[str, str]]:
    text = resources.files("targetrank.data").joinpath(filename).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header = lines[0].split("\t")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise DataError(
                f"Malformed row in packaged table {filename}",
                input=f"{filename} data row {number - 1}: {line!r}",
                cause=f"expected {len(header)} tab-separated cells, found {len(cells)}",
                fix="repair the file (tabs, not spaces)",
            )
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def curated_names() -> list[CuratedName]:
    """The curated immuno-oncology / bone-biology name table shipped with the package."""
    return [
        CuratedName(r["name"], r["symbol"], r["reason"])
        for r in _read_packaged_tsv("curated_names.tsv")
    ]


def non_human_names() -> list[NonHumanName]:
    """Known non-human gene names (mostly mouse) with their human proxies."""
    return [
        NonHumanName(
            r["name"],
            r["species"],
            r["ortholog_status"],
            tuple(p for p in r["human_proxies"].split(";") if p),
            r["note"],
        )
        for r in _read_packaged_tsv("non_human_genes.tsv")
    ]


# --------------------------------------------------------------------------------------------
# Gene index: built from the NCBI extract, stored with the snapshot
# --------------------------------------------------------------------------------------------

GENES_FILE = "genes.parquet"
ALIASES_FILE = "aliases.parquet"


def build_gene_index(
    genes: pl.DataFrame, aliases: pl.DataFrame, primary_assembly_ids: Iterable[str] = ()
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Derive the compact resolver tables from the NCBI gene and alias extracts.

    Args:
        genes: ``read_genes`` output (entrez_id, symbol, name, ensembl_ids, uniprot_ids, ...).
        aliases: ``read_aliases`` output (alias, entrez_id, symbol, is_symbol).
        primary_assembly_ids: Ensembl ids known to be on the primary assembly (e.g. those used by
            HPA). NCBI lists up to 43 ids per gene, most on alternate haplotypes; the primary id is
            the one other sources key on, so it is preferred; else the lowest id.

    Returns:
        ``(genes, aliases)``: one row per gene with its primary ``ensembl_id`` and all ids, and one
        row per (alias, gene).
    """
    primary = set(primary_assembly_ids)

    def pick(ids: list[str] | None) -> str | None:
        if not ids:
            return None
        on_primary = sorted(i for i in ids if i in primary)
        return (on_primary or sorted(ids))[0]

    base = genes.select(
        pl.col("entrez_id").cast(pl.Int64),
        "symbol",
        "name",
        pl.col("ensembl_ids").str.split(";").alias("ensembl_ids"),
        pl.col("uniprot_ids").str.split(";").alias("uniprot_ids"),
    )
    gene_table = (
        base.with_columns(
            pl.Series("ensembl_id", [pick(ids) for ids in base["ensembl_ids"].to_list()], pl.String)
        )
        .select("entrez_id", "symbol", "name", "ensembl_id", "ensembl_ids", "uniprot_ids")
        .sort("entrez_id")
    )
    alias_table = (
        aliases.select("alias", pl.col("entrez_id").cast(pl.Int64), "is_symbol")
        .unique()
        .sort("alias", "entrez_id")
    )
    return gene_table, alias_table


@dataclass(frozen=True)
class GeneIndex:
    """Genes and aliases the offline resolver looks names up in."""

    genes: pl.DataFrame
    aliases: pl.DataFrame
    release: str = "NCBI Gene 2022-09-12 (org.Hs.eg.db 3.16.0)"

    @classmethod
    def load(cls, directory: str | Path | None = None) -> GeneIndex:
        """Load the index stored with the embedded snapshot (or another snapshot folder)."""
        from targetrank.config import ENV_SNAPSHOT, env_origin
        from targetrank.paths import snapshot_dir, snapshot_fix

        folder = Path(directory) if directory is not None else snapshot_dir()
        gpath, apath = folder / GENES_FILE, folder / ALIASES_FILE
        if not gpath.is_file() or not apath.is_file():
            origin = env_origin(ENV_SNAPSHOT) if directory is None else ""
            raise DataError(
                "The gene index for target resolution is missing",
                input=str(folder) + origin,
                done="no target was resolved",
                cause=f"{ENV_SNAPSHOT} points at a folder without genes.parquet/aliases.parquet"
                if origin
                else "the embedded snapshot was not built or not installed with the package",
                fix=snapshot_fix(
                    "run `targetrank snapshot build --shared ../shared`, or reinstall targetrank"
                ),
            )
        return cls(pl.read_parquet(gpath), pl.read_parquet(apath))


# --------------------------------------------------------------------------------------------
# The offline resolver
# --------------------------------------------------------------------------------------------


@dataclass
class _Hit:
    status: str
    entrez_ids: list[int] = field(default_factory=list)
    note: str = ""
    candidates: str | None = None
    unmatched: bool = False  # unknown after every lookup: suggestions may be searched


class Resolver:
    """Offline resolver over a :class:`GeneIndex` (the default for every entry point)."""

    def __init__(self, index: GeneIndex | None = None) -> None:
        self.index = index if index is not None else GeneIndex.load()

    # -- lookup tables, built once per resolver -------------------------------------------
    @cached_property
    def _genes(self) -> dict[int, tuple[str, str | None, str]]:
        return {
            row[0]: (row[1], row[2], row[3])
            for row in self.index.genes.select(
                "entrez_id", "symbol", "ensembl_id", "name"
            ).iter_rows()
        }

    @cached_property
    def _by_symbol(self) -> dict[str, int]:
        return {sym.upper(): eid for eid, (sym, _, _) in self._genes.items()}

    @cached_property
    def _by_alias(self) -> dict[str, list[int]]:
        table: dict[str, list[int]] = {}
        for alias, eid in self.index.aliases.select("alias", "entrez_id").iter_rows():
            ids = table.setdefault(alias.upper(), [])
            if eid not in ids:
                ids.append(eid)
        return table

    @cached_property
    def _by_norm(self) -> dict[str, list[int]]:
        table: dict[str, list[int]] = {}
        for alias, ids in self._by_alias.items():
            bucket = table.setdefault(normalise(alias), [])
            bucket.extend(i for i in ids if i not in bucket)
        return table

    @cached_property
    def _by_ensembl(self) -> dict[str, list[int]]:
        table: dict[str, list[int]] = {}
        for eid, ids in self.index.genes.select("entrez_id", "ensembl_ids").iter_rows():
            for ens in ids or []:
                table.setdefault(ens.upper(), []).append(eid)
        return table

    @cached_property
    def _curated(self) -> dict[str, CuratedName]:
        """Curated names keyed by their exact upper-case spelling and by their normalised key.

        The exact spelling is tried first so each written form keeps its own reason; the first
        entry of a normalised key answers the other spellings (``pd 1``).
        """
        table: dict[str, CuratedName] = {}
        by_norm: dict[str, CuratedName] = {}
        for entry in curated_names():
            if entry.symbol.upper() not in self._by_symbol:
                raise DataError(
                    "Curated name table points at a gene missing from the gene index",
                    input=f"curated_names.tsv: {entry.name} -> {entry.symbol}",
                    fix="correct the symbol in targetrank/data/curated_names.tsv",
                )
            key = normalise(entry.name)
            if key in by_norm and by_norm[key].symbol != entry.symbol:
                raise DataError(
                    "Curated name table maps one name to two genes",
                    input=f"{by_norm[key].name} -> {by_norm[key].symbol}; "
                    f"{entry.name} -> {entry.symbol}",
                    fix="keep one entry in targetrank/data/curated_names.tsv",
                )
            by_norm.setdefault(key, entry)
            table["=" + entry.name.upper()] = entry
        table.update(by_norm)
        return table

    @cached_property
    def _non_human(self) -> dict[str, NonHumanName]:
        return {normalise(e.name): e for e in non_human_names()}

    @cached_property
    def _suggestion_pool(self) -> tuple[list[str], list[int]]:
        names, ids = [], []
        for alias, eids in self._by_alias.items():
            if len(eids) == 1:
                names.append(alias)
                ids.append(eids[0])
        return names, ids

    @cached_property
    def _families(self) -> dict[str, list[int]]:
        """Family root -> members, from symbols that are a root ending in a digit plus a letter."""
        table: dict[str, list[int]] = {}
        for eid, (symbol, _, _) in self._genes.items():
            match = _FAMILY_MEMBER.match(symbol.upper())
            if match:
                table.setdefault(match.group(1), []).append(eid)
        return {root: sorted(ids, key=lambda i: self._genes[i][0]) for root, ids in table.items()
                if len(ids) > 1}  # fmt: skip

    # -- helpers ---------------------------------------------------------------------------
    def _label(self, eid: int) -> str:
        symbol, _, name = self._genes[eid]
        return f"{symbol} ({eid}, {name})"

    def _suggest(self, query: str, limit: int = 5) -> list[str]:
        from rapidfuzz import fuzz, process

        names, ids = self._suggestion_pool
        matches = process.extract(query.upper(), names, scorer=fuzz.ratio, limit=limit * 4)
        out: list[str] = []
        for _, score, pos in matches:
            symbol = self._genes[ids[pos]][0]
            if symbol not in out and score >= 50:
                out.append(symbol)
            if len(out) == limit:
                break
        return out

    def _one(self, query: str, *, suggest: bool = True) -> _Hit:
        q = query.strip()
        upper = q.upper()

        if _ENSEMBL_HUMAN.match(q):
            stable = upper.split(".")[0]
            note = f"version suffix .{upper.split('.')[1]} removed" if "." in upper else ""
            ids = self._by_ensembl.get(stable, [])
            if len(ids) == 1:
                return _Hit("ensembl", ids, note)
            if len(ids) > 1:
                cands = "; ".join(self._label(i) for i in ids)
                return _Hit(
                    "ambiguous", ids, f"Ensembl id {stable} is shared by {len(ids)} genes", cands
                )
            return _Hit(
                "unknown",
                note=f"Ensembl id {stable} is not a protein-coding gene in {self.index.release}",
            )
        other = _ENSEMBL_OTHER.match(q)
        if other and other.group(1).upper() != "":
            species = _ENSEMBL_SPECIES.get(
                other.group(1).upper()[:3], f"ENS{other.group(1)} species"
            )
            return _Hit(
                "non_human",
                note=f"{species} Ensembl gene id; targetrank ranks human genes: "
                "give the human ortholog's symbol",
            )
        if _ENTREZ.match(q):
            eid = int(q)
            if eid in self._genes:
                return _Hit("entrez", [eid])
            return _Hit(
                "unknown",
                note=f"Entrez id {eid} is not a human protein-coding gene in {self.index.release}",
            )

        if upper in self._by_symbol:
            eid = self._by_symbol[upper]
            notes = []
            if q != upper and _MOUSE_CASE.match(q):
                notes.append(
                    f"written in mouse/rat style ({q}); resolved to the human gene with the same "
                    "symbol, check orthology"
                )
            others = [i for i in self._by_alias.get(upper, []) if i != eid]
            if others:
                notes.append("also a synonym of " + ", ".join(self._label(i) for i in others[:3]))
            return _Hit("approved", [eid], "; ".join(notes))

        key = normalise(q)
        if key in self._non_human:
            nh = self._non_human[key]
            proxies = ", ".join(nh.human_proxies) or "none"
            return _Hit(
                "non_human",
                note=f"{nh.species} gene: {nh.note}; human proxies offered (not substituted): {proxies}",
                candidates=";".join(nh.human_proxies) or None,
            )
        entry = self._curated.get("=" + upper) or self._curated.get(key)
        if entry is not None:
            eid = self._by_symbol[entry.symbol.upper()]
            return _Hit("alias", [eid], f"curated name: {entry.reason}")

        exact = self._by_alias.get(upper, [])
        if len(exact) == 1:
            return _Hit(
                "alias", exact, "NCBI synonym (previous symbols are included in NCBI synonyms)"
            )
        if len(exact) > 1:
            cands = "; ".join(self._label(i) for i in exact)
            return _Hit("ambiguous", exact, f"NCBI synonym of {len(exact)} genes: {cands}", cands)

        loose = self._by_norm.get(key, []) if key else []
        if len(loose) == 1:
            return _Hit(
                "alias", loose, "NCBI synonym matched after normalising punctuation and case"
            )
        if len(loose) > 1:
            cands = "; ".join(self._label(i) for i in loose)
            return _Hit(
                "ambiguous",
                loose,
                f"after normalising punctuation and case, synonym of {len(loose)} genes: {cands}",
                cands,
            )

        members = self._families.get(key, [])
        if members:
            symbols = [self._genes[i][0] for i in members]
            return _Hit(
                "ambiguous",
                members,
                f"gene family {q}: {len(members)} members ({', '.join(symbols)}); name the "
                "member you mean (HGNC names family members by root + letter)",
                "; ".join(self._label(i) for i in members),
            )

        what = f"not a human protein-coding gene symbol, synonym or id in {self.index.release}"
        if not suggest:
            return _Hit("unknown", note=what, unmatched=True)
        suggestions = self._suggest(q)
        hint = f"did you mean {', '.join(suggestions)}?" if suggestions else "no close name found"
        return _Hit("unknown", note=f"{what}; {hint}", candidates=";".join(suggestions) or None)

    def resolve(self, queries: Sequence[str]) -> Resolution:
        """Resolve queries in input order; duplicates collapse onto their first occurrence.

        Raises:
            UsageError: if no non-blank query was given.
        """
        if isinstance(queries, str):
            queries = [queries]
        kept = [q for q in queries if q is not None and str(q).strip()]
        if not kept:
            raise UsageError(
                "No targets were given",
                done="nothing was resolved",
                cause="the target list or file is empty (blank lines and comments are ignored)",
                fix="name at least one target, e.g. `targetrank resolve TIGIT` or --targets TIGIT,DKK1",
            )
        hits = [self._one(str(raw).strip(), suggest=False) for raw in kept]
        unmatched = [i for i, hit in enumerate(hits) if hit.unmatched]
        if len(unmatched) <= MAX_SUGGESTED:  # close names are searched only for a few typos
            for i in unmatched:
                hits[i] = self._one(str(kept[i]).strip())
        else:
            for i in unmatched:
                hits[i].note += (
                    f"; no close names searched ({len(unmatched):,} names are unknown, more "
                    f"than {MAX_SUGGESTED}: is this a list of genes?)"
                )
        rows = []
        first_query: dict[int, str] = {}
        for raw, hit in zip(kept, hits, strict=True):
            query = str(raw).strip()
            symbol = ensembl = None
            entrez = None
            duplicate_of = None
            note = hit.note
            if hit.status in RESOLVED_STATUSES:
                entrez = hit.entrez_ids[0]
                symbol, ensembl, _ = self._genes[entrez]
                if entrez in first_query:
                    duplicate_of = first_query[entrez]
                    dup = f"duplicate of '{duplicate_of}' ({symbol}); counted once"
                    note = f"{note}; {dup}" if note else dup
                else:
                    first_query[entrez] = query
            rows.append(
                {
                    "query": query,
                    "status": hit.status,
                    "symbol": symbol,
                    "ensembl_id": ensembl,
                    "entrez_id": entrez,
                    "note": note or None,
                    "candidates": hit.candidates,
                    "duplicate_of": duplicate_of,
                }
            )
        table = pl.DataFrame(rows, schema=RESOLUTION_SCHEMA)
        return Resolution(table, dropped_blank=len(queries) - len(kept))


_DEFAULT: Resolver | None = None


def default_resolver() -> Resolver:
    """A process-wide offline resolver over the embedded snapshot's gene index."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Resolver()
    return _DEFAULT


def resolve(queries: Sequence[str] | str, resolver: TargetResolver | None = None) -> Resolution:
    """Resolve target names, ids or aliases to human genes.

    Example:
        >>> import targetrank
        >>> targetrank.resolve(["OPN", "RANKL"]).symbols
        ['SPP1', 'TNFSF11']
    """
    if isinstance(queries, str):
        queries = [queries]
    return (resolver or default_resolver()).resolve(queries)
