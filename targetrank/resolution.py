"""The result of target resolution (one row per query) and the protocol every resolver follows.

A plain data type below both the offline resolver (:mod:`targetrank.resolver`) and the online one
(:mod:`targetrank.sources.opentargets_resolver`), so neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from targetrank.errors import ResolutionError

RESOLVED_STATUSES = ("approved", "alias", "previous", "ensembl", "entrez")
FAILED_STATUSES = ("ambiguous", "unknown", "non_human")
STATUSES = RESOLVED_STATUSES + FAILED_STATUSES

RESOLUTION_SCHEMA: dict[str, pl.DataType] = {
    "query": pl.String(),
    "status": pl.Enum(list(STATUSES)),
    "symbol": pl.String(),
    "ensembl_id": pl.String(),
    "entrez_id": pl.Int64(),
    "note": pl.String(),
    "candidates": pl.String(),
    "duplicate_of": pl.String(),
}

ENSEMBL_HUMAN = re.compile(r"^ENSG\d{11}(\.\d+)?$", re.IGNORECASE)
ENSEMBL_OTHER = re.compile(r"^ENS([A-Z]{3,6})G\d{11}(\.\d+)?$", re.IGNORECASE)

#: Failures spelt out in a resolution error; the rest are counted.
MAX_REPORTED = 5


# --------------------------------------------------------------------------------------------
# Resolution result
# --------------------------------------------------------------------------------------------


@dataclass
class Resolution:
    """The outcome of resolving a list of queries: one row per query, in input order.

    Attributes:
        table: columns ``query, status, symbol, ensembl_id, entrez_id, note, candidates,
            duplicate_of``. ``candidates`` lists the genes of an ambiguous query, the
            suggestions for an unknown one and the human proxies of a non-human one.
    """

    table: pl.DataFrame
    dropped_blank: int = 0

    @property
    def ok(self) -> bool:
        """True when every query resolved to exactly one human gene."""
        return self.failures.height == 0

    @property
    def failures(self) -> pl.DataFrame:
        """Rows whose status is ambiguous, unknown or non_human."""
        return self.table.filter(pl.col("status").cast(pl.String).is_in(FAILED_STATUSES))

    @property
    def targets(self) -> pl.DataFrame:
        """Resolved, de-duplicated targets in input order (query, symbol, ensembl_id, entrez_id)."""
        return self.table.filter(
            pl.col("status").cast(pl.String).is_in(RESOLVED_STATUSES)
            & pl.col("duplicate_of").is_null()
        ).select("query", "symbol", "ensembl_id", "entrez_id")

    @property
    def symbols(self) -> list[str]:
        """Resolved symbols, de-duplicated, in input order."""
        return self.targets["symbol"].to_list()

    def summary(self, limit: int | None = None) -> str:
        """The failures for an error message; above ``limit``, the first names and the counts."""
        failures = self.failures
        if limit is None or failures.height <= limit:
            return "; ".join(
                f"'{_clip(r['query'])}' is {r['status']} ({r['note']})"
                for r in failures.iter_rows(named=True)
            )
        first = failures.head(limit)
        names = ", ".join(
            f"'{_clip(q)}' ({st})" for q, st in first.select("query", "status").iter_rows()
        )
        counts = failures["status"].cast(pl.String).value_counts(sort=True)
        by_status = ", ".join(f"{st} {n:,}" for st, n in counts.iter_rows())
        example = first.row(0, named=True)
        note = example["note"] or ""
        note = note if len(note) <= 240 else note[:239] + "…"
        return (
            f"first {limit}: {names} and {failures.height - limit:,} more ({by_status}); "
            f"e.g. '{_clip(example['query'])}' is {example['status']}: {note}"
        )

    def raise_for_failures(self, *, done: str = "nothing was computed") -> None:
        """Raise a :class:`ResolutionError` naming every query that did not resolve."""
        if self.ok:
            return
        n_fail, n_all = self.failures.height, self.table.height
        raise ResolutionError(
            f"Could not resolve {n_fail:,} of {n_all:,} target(s): {self.summary(MAX_REPORTED)}",
            done=done,
            cause="the name is ambiguous, misspelt, not a human protein-coding gene, "
            "or newer than the NCBI 2022-09 gene index",
            fix="use an approved HGNC symbol, an Ensembl gene id or an Entrez id "
            "(see `targetrank resolve`), or pass --skip-unresolved to go on without them",
        )


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class TargetResolver(Protocol):
    """Anything that turns queries into a :class:`Resolution` (offline index, Open Targets)."""

    def resolve(self, queries: Sequence[str]) -> Resolution:
        """Resolve queries in order; never raise for a single bad query."""
        ...
