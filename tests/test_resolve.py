"""Target resolution: what users type must map to exactly one human gene, or fail loudly."""

from __future__ import annotations

import pytest

from targetrank.errors import ResolutionError, UsageError
from targetrank.resolver import (
    Resolver,
    curated_names,
    non_human_names,
    normalise,
    resolve,
)


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver()


def one(resolver: Resolver, query: str) -> dict:
    return resolver.resolve([query]).table.row(0, named=True)


ISSUE_QUERIES = [
    "OPN",
    "RANKL",
    "RANK",
    "OPG",
    "PD-1",
    "PD-L1",
    "TIM-3",
    "CD155",
    "YKL-40",
    "ENSG00000181847.11",
    "6696",
]
ISSUE_SYMBOLS = [
    "SPP1", "TNFSF11", "TNFRSF11A", "TNFRSF11B", "PDCD1", "CD274",
    "HAVCR2", "PVR", "CHI3L1", "TIGIT", "SPP1",
]  # fmt: skip


def test_issue_panel_resolves_in_order_with_duplicate_note(resolver):
    result = resolver.resolve(ISSUE_QUERIES)
    assert result.table["symbol"].to_list() == ISSUE_SYMBOLS
    assert result.ok
    last = result.table.row(-1, named=True)
    assert last["duplicate_of"] == "OPN"
    assert "duplicate" in last["note"]
    # duplicates collapse in the target list
    assert result.symbols == ISSUE_SYMBOLS[:-1]


@pytest.mark.parametrize(
    ("query", "symbol", "status"),
    [
        ("TIGIT", "TIGIT", "approved"),
        ("tigit", "TIGIT", "approved"),
        ("  DKK1  ", "DKK1", "approved"),
        ("SPP1\t", "SPP1", "approved"),
        ("RANKL", "TNFSF11", "alias"),
        ("opn", "SPP1", "alias"),
        ("PD-1", "PDCD1", "alias"),
        ("PD1", "PDCD1", "alias"),
        ("pd 1", "PDCD1", "alias"),
        ("PD-L1", "CD274", "alias"),
        ("TIM-3", "HAVCR2", "alias"),
        ("Tim3", "HAVCR2", "alias"),
        ("SDF-1", "CXCL12", "alias"),
        ("M-CSFR", "CSF1R", "alias"),
        ("CD25", "IL2RA", "alias"),
        ("B7-H3", "CD276", "alias"),
        ("PSMA", "FOLH1", "alias"),
        ("CD279", "PDCD1", "alias"),
        ("OPGL", "TNFSF11", "alias"),  # NCBI synonym, not curated
        ("TRANCE", "TNFSF11", "alias"),
        ("DNAM1", "CD226", "alias"),
        ("ENSG00000181847", "TIGIT", "ensembl"),
        ("ENSG00000181847.11", "TIGIT", "ensembl"),
        ("ensg00000118785.3", "SPP1", "ensembl"),
        ("6696", "SPP1", "entrez"),
        ("201633", "TIGIT", "entrez"),
    ],
)
def test_resolves(resolver, query, symbol, status):
    row = one(resolver, query)
    assert (row["symbol"], row["status"]) == (symbol, status)
    assert row["ensembl_id"].startswith("ENSG")
    assert row["entrez_id"] > 0


def test_versioned_ensembl_note_names_the_suffix(resolver):
    assert "version suffix .11 removed" in one(resolver, "ENSG00000181847.11")["note"]


def test_curated_name_note_gives_the_reason(resolver):
    row = one(resolver, "PD1")
    assert row["note"].startswith("curated name:")
    assert "SNCA" in row["note"]


def test_ambiguous_alias_lists_candidates_never_picks(resolver):
    # "MCT1" is an NCBI synonym of several protein-coding genes and not in the curated table.
    ambiguous = [
        q
        for q, ids in resolver._by_alias.items()
        if len(ids) > 1 and q not in resolver._by_symbol and normalise(q) not in resolver._curated
    ]
    assert ambiguous, "the NCBI synonym table always has ambiguous names"
    row = one(resolver, ambiguous[0])
    assert row["status"] == "ambiguous"
    assert row["symbol"] is None and row["entrez_id"] is None
    assert len(row["candidates"].split("; ")) == len(resolver._by_alias[ambiguous[0]])


def test_ambiguity_after_normalisation_is_reported(resolver):
    # keys that are unique verbatim but collide once punctuation is removed
    colliding = [
        k
        for k, ids in resolver._by_norm.items()
        if len(ids) > 1
        and k not in resolver._by_alias
        and k not in resolver._by_symbol
        and k not in resolver._curated
        and k not in resolver._non_human
    ]
    assert colliding
    row = one(resolver, colliding[0])
    assert row["status"] == "ambiguous"
    assert "normalising" in row["note"]


def test_mouse_chi3l3_is_non_human_with_proxies(resolver):
    for query in ["CHI3L3", "Chil3", "Ym1", "chi3l3"]:
        row = one(resolver, query)
        assert row["status"] == "non_human", query
        assert row["symbol"] is None  # never substituted
        assert row["candidates"] == "CHI3L1;CHI3L2"
        assert "CHI3L1" in row["note"] and "CHI3L2" in row["note"]


def test_mouse_ensembl_id_is_non_human(resolver):
    row = one(resolver, "ENSMUSG00000040809")
    assert row["status"] == "non_human"
    assert "mouse" in row["note"]


def test_mouse_style_symbol_resolves_with_a_warning(resolver):
    row = one(resolver, "Spp1")
    assert row["symbol"] == "SPP1"
    assert "mouse/rat style" in row["note"]


def test_unknown_gives_suggestions(resolver):
    row = one(resolver, "TIGTI")
    assert row["status"] == "unknown"
    assert "TIGIT" in row["candidates"].split(";")
    assert "did you mean" in row["note"]


def test_unknown_ids_are_unknown(resolver):
    assert one(resolver, "ENSG00000000000")["status"] == "unknown"
    assert one(resolver, "999999999")["status"] == "unknown"


def test_empty_input_is_a_usage_error(resolver):
    with pytest.raises(UsageError, match="No targets were given"):
        resolver.resolve([])
    with pytest.raises(UsageError):
        resolver.resolve(["", "   ", "\t"])


def test_blank_entries_are_dropped(resolver):
    result = resolver.resolve(["", "TIGIT", "  "])
    assert result.table.height == 1
    assert result.dropped_blank == 2


def test_raise_for_failures_names_each_failed_query(resolver):
    result = resolver.resolve(["TIGIT", "CHI3L3", "NOTAGENE"])
    assert not result.ok
    with pytest.raises(ResolutionError) as err:
        result.raise_for_failures()
    message = err.value.message
    assert "2 of 3" in message and "CHI3L3" in message and "NOTAGENE" in message
    assert "--skip-unresolved" in message
    assert "\n" not in message


def test_approved_symbol_wins_over_another_genes_synonym(resolver):
    # ARG1 is also an NCBI synonym of TINAGL1; the approved symbol must win and say so.
    row = one(resolver, "ARG1")
    assert row["symbol"] == "ARG1" and row["status"] == "approved"
    assert "TINAGL1" in row["note"]


def test_curated_table_is_consistent_with_the_gene_index(resolver):
    for entry in curated_names():
        assert entry.symbol.upper() in resolver._by_symbol, entry
        assert entry.reason.strip(), entry
        # a curated name must never shadow a different gene's approved symbol
        owner = resolver._by_symbol.get(entry.name.upper())
        assert owner is None or resolver._genes[owner][0] == entry.symbol, entry


def test_non_human_names_never_shadow_human_symbols(resolver):
    for entry in non_human_names():
        assert entry.name.upper() not in resolver._by_symbol, entry
        for proxy in entry.human_proxies:
            assert proxy in {g[0] for g in resolver._genes.values()}, proxy


def test_normalise():
    assert normalise("TIM-3") == normalise("tim 3") == "TIM3"
    assert normalise("IL-1β") == "IL1B"
    assert normalise("SIRPα") == "SIRPA"


def test_module_level_resolve_accepts_a_single_string():
    assert resolve("OPN").symbols == ["SPP1"]
