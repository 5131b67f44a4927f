"""Open Targets query documents: what is sent, and what it costs the server.

The API validates the whole document first, so the queries live in ``opentargets_queries/*.graphql``
(one per purpose, fragments shared) and a document is an operation file plus the fragment files
it spreads. The server caps a query's complexity (ids x nested page sizes), so the cost of a
document is estimated here and targets go in batches that keep it under a budget.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from importlib import resources
from typing import Any

from targetrank.errors import UsageError

#: Server limits (platform-api ``conf/application.conf`` and ``Pagination.scala``, 26.6.3).
COMPLEXITY_CAP = 150_000
PAGE_SIZE_MAX = 3000
MAP_IDS_MAX = 3000


@dataclass(frozen=True)
class Document:
    """A GraphQL document as sent: the operation file plus the fragment files it uses."""

    name: str
    text: str

    @property
    def sha256(self) -> str:
        """Content hash, recorded in manifests so a run names the exact queries it sent."""
        return sha256(self.text.encode()).hexdigest()


def _query_files() -> dict[str, str]:
    folder = resources.files("targetrank.sources").joinpath("opentargets_queries")
    return {
        p.name.removesuffix(".graphql"): p.read_text(encoding="utf-8")
        for p in folder.iterdir()
        if p.name.endswith(".graphql")
    }


@cache
def load_document(name: str) -> Document:
    """Load operation ``name`` and append every fragment it spreads, transitively."""
    files = _query_files()
    if name not in files or name.endswith(".fragment"):
        raise UsageError(
            f"Unknown Open Targets query document {name!r}",
            fix=f"use one of {', '.join(sorted(operation_names()))}",
        )
    fragments: dict[str, str] = {}
    for file_name, text in files.items():
        if file_name.endswith(".fragment"):
            for m in re.finditer(r"^fragment\s+(\w+)", text, re.MULTILINE):
                fragments[m.group(1)] = file_name
    parts, seen, todo = [files[name]], set[str](), [files[name]]
    while todo:
        for spread in re.findall(r"\.\.\.\s*([A-Za-z_]\w*)", _strip_comments(todo.pop())):
            fname = fragments.get(spread, "")
            if fname and fname not in seen:
                seen.add(fname)
                parts.append(files[fname])
                todo.append(files[fname])
    return Document(name, "\n".join(p.strip() + "\n" for p in parts))


def operation_names() -> list[str]:
    """Every operation document the connector can send (fragments excluded)."""
    return sorted(n for n in _query_files() if not n.endswith(".fragment"))


def _strip_comments(text: str) -> str:
    return re.sub(r"#[^\n]*", "", text)


def estimate_complexity(document: Document, variables: Mapping[str, Any]) -> float:
    """Estimate the server's complexity score for ``document`` with ``variables``.

    Mirrors the platform-api rule: each field costs 1 plus its children; ``targets(ensemblIds)``
    multiplies by the number of ids and any ``page``/``size`` argument by the page size. Lists
    without arguments (e.g. ``depMapEssentiality``) do not multiply, as on the server.
    """
    from graphql import (
        FieldNode,
        FragmentDefinitionNode,
        FragmentSpreadNode,
        InlineFragmentNode,
        OperationDefinitionNode,
        parse,
        value_from_ast_untyped,
    )

    ast = parse(document.text)
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}

    def arg(node: FieldNode, name: str) -> Any:
        for a in node.arguments or ():
            if a.name.value == name:
                return value_from_ast_untyped(a.value, dict(variables))
        return None

    def cost(selection_set: Any) -> float:
        total = 0.0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                child = cost(sel.selection_set)
                mult = 1.0
                ids = arg(sel, "ensemblIds")
                page = arg(sel, "page")
                size = arg(sel, "size")
                if isinstance(ids, list):
                    mult = max(len(ids), 1)
                elif isinstance(page, dict) and page.get("size"):
                    mult = float(page["size"])
                elif isinstance(size, int | float) and size:
                    mult = float(size)
                total += (1.0 + child) * mult
            elif isinstance(sel, FragmentSpreadNode):
                total += cost(fragments[sel.name.value].selection_set)
            elif isinstance(sel, InlineFragmentNode):
                total += cost(sel.selection_set)
        return total

    ops = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
    return float(sum(cost(op.selection_set) for op in ops))


def batch_size(
    document: Document,
    variables: Mapping[str, Any],
    *,
    max_batch: int,
    budget: float,
) -> int:
    """Largest number of ids per request that keeps the estimated cost under ``budget``."""
    one = estimate_complexity(document, {**variables, "ids": ["ENSG00000000000"]})
    two = estimate_complexity(document, {**variables, "ids": ["ENSG00000000000"] * 2})
    per_id, fixed = two - one, 2 * one - two
    fit = int((budget - fixed) // per_id) if per_id > 0 else max_batch
    return max(1, min(max_batch, fit))
