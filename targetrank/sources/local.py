"""Readers for the real offline source files gathered in ``../shared/data``.

Each reader returns the file as a polars frame with typed columns and nothing computed; the
:data:`SOURCES` registry records where each file came from, its release and licence, so that every
feature built from it can be traced (see each folder's PROVENANCE.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from targetrank.errors import DataError


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one source file: what it is, which release, under which licence."""

    key: str
    name: str
    release: str
    licence: str
    citation: str
    path: str  # relative to the shared folder
    #: "first-party" (the provider's own release file) or "third-party derived" (values
    #: computed from the provider's data by someone else; see the folder's PROVENANCE.md)
    derivation: str = "first-party"

    def as_dict(self) -> dict[str, str]:
        """Plain dict for manifests."""
        return asdict(self)


SOURCES: dict[str, SourceInfo] = {
    s.key: s
    for s in [
        SourceInfo(
            "ncbi_genes",
            "NCBI Gene via Bioconductor org.Hs.eg.db 3.16.0 (protein-coding genes)",
            "NCBI Gene 2022-09-12",
            "Artistic-2.0 (org.Hs.eg.db); NCBI Gene public data",
            "Carlson M. org.Hs.eg.db 3.16.0, Bioconductor",
            "data/annotations/genes.tsv.gz",
        ),
        SourceInfo(
            "ncbi_aliases",
            "NCBI Gene symbols and synonyms via org.Hs.eg.db 3.16.0",
            "NCBI Gene 2022-09-12",
            "Artistic-2.0 (org.Hs.eg.db); NCBI Gene public data",
            "Carlson M. org.Hs.eg.db 3.16.0, Bioconductor",
            "data/annotations/aliases.tsv.gz",
        ),
        SourceInfo(
            "go",
            "Gene Ontology annotations (58 selected terms, propagated) via org.Hs.eg.db/GO.db",
            "GO 2022-07-01; gene2go 2022-09-12",
            "CC BY 4.0 (Gene Ontology Consortium); Artistic-2.0 (Bioconductor packaging)",
            "Gene Ontology Consortium, go-basic.obo 2022-07-01",
            "data/annotations/go_terms.tsv.gz",
        ),
        SourceInfo(
            "hpa_tissue",
            "Human Protein Atlas RNA consensus tissue expression (61 tissues)",
            "HPA v20 (inferred)",
            "CC BY-SA 3.0",
            "Uhlén et al. 2015, Science 347:1260419",
            "data/hpa/rna_tissue_consensus_wide_v20.tsv.gz",
        ),
        SourceInfo(
            "hpa_blood",
            "Human Protein Atlas RNA expression in 18 blood immune cell types",
            "HPA v20 (inferred)",
            "CC BY-SA 3.0",
            "Uhlén et al. 2019, Science 366:eaax9198",
            "data/hpa/rna_blood_cell_wide_v20.tsv.gz",
        ),
        SourceInfo(
            "hpa_subcellular",
            "Human Protein Atlas subcellular location",
            "HPA v21 (inferred)",
            "CC BY-SA 3.0",
            "Thul et al. 2017, Science 356:eaal3321",
            "data/hpa/subcellular_location_v21.tsv.gz",
        ),
        SourceInfo(
            "surfy",
            "SURFY in silico human surfaceome (Table S3, surface subset)",
            "2018",
            "as published (PNAS supplementary data); see shared/data/surfaceome/PROVENANCE.md",
            "Bausch-Fluck et al. 2018, PNAS 115:E10988",
            "data/surfaceome/surfy_2018_tableS3_surface_subset.tsv.gz",
        ),
        SourceInfo(
            "cspa",
            "Cell Surface Protein Atlas, human (Table A)",
            "2015",
            "CC BY 4.0 (PLoS ONE article data)",
            "Bausch-Fluck et al. 2015, PLoS ONE 10:e0121314",
            "data/surfaceome/cspa_2015_human_tableA.tsv.gz",
        ),
        SourceInfo(
            "panglaodb",
            "PanglaoDB cell-type markers",
            "27 Mar 2020",
            "as published; cite Franzén et al. 2019",
            "Franzén, Gan & Björkegren 2019, Database baz046",
            "data/panglaodb/PanglaoDB_markers_27_Mar_2020.tsv.gz",
        ),
        SourceInfo(
            "gnomad",
            "gnomAD pLoF metrics by gene (pLI)",
            "gnomAD v2.1.1",
            "CC0 1.0",
            "Karczewski et al. 2020, Nature 581:434",
            "data/gnomad/gnomad_v2.1.1_pLI_by_gene.tsv.gz",
        ),
        SourceInfo(
            "finan2017",
            "Druggable genome (Finan et al. 2017, Table S1)",
            "2017",
            "as published; cite Finan et al. 2017",
            "Finan et al. 2017, Sci Transl Med 9:eaag1166",
            "data/chembl_tractability/druggable_genome_finan2017.csv.gz",
        ),
        SourceInfo(
            "drugcentral_targets",
            "DrugCentral drug efficacy targets",
            "DrugCentral 2016-05",
            "CC BY 4.0",
            "Ursu et al. 2017, Nucleic Acids Res 45:D932",
            "data/drugcentral/drug_target_2016-05.tsv.gz",
        ),
        SourceInfo(
            "depmap_common_essentials",
            "DepMap CRISPRInferredCommonEssentials",
            "DepMap Public 24Q2",
            "CC BY 4.0",
            "DepMap, Broad Institute (depmap.org), DepMap Public 24Q2",
            "data/depmap/24Q2/CRISPRInferredCommonEssentials.csv",
        ),
        SourceInfo(
            "depmap_controls",
            "DepMap Achilles common-essential and non-essential control genes",
            "DepMap Public 24Q4",
            "CC BY 4.0",
            "DepMap, Broad Institute (depmap.org), DepMap Public 24Q4",
            "data/depmap/24Q4/AchillesCommonEssentialControls.csv",
        ),
        SourceInfo(
            "opentargets_prioritisation",
            "Open Targets Platform target_prioritisation bulk dataset (partial download: this "
            "dataset only)",
            "Open Targets Platform 25.12",
            "CC0 1.0",
            "Open Targets Platform 25.12 (Buniello et al. 2025, Nucleic Acids Res 53:D1467)",
            "data/opentargets/25.12/target_prioritisation",
        ),
        SourceInfo(
            "depmap_gene_summary",
            "DepMap per-gene CRISPR (Chronos) mean/sd/n and DEMETER2 RNAi mean/sd/n, derived "
            "by a third party from the portal files CRISPRGeneEffect.csv (26Q1) and "
            "D2_combined_gene_dep_scores.csv (DEMETER2 v6)",
            "DepMap Public 26Q1 (CRISPR); DEMETER2 Data v6 (RNAi)",
            "CC BY 4.0",
            "DepMap, Broad Institute (depmap.org), DepMap Public 26Q1; McFarland et al. 2018 "
            "(DEMETER2 Data v6)",
            "data/depmap_thirdparty/26Q1_gene_summary/depmap_26Q1_chronos_and_D2_per_gene_mean_sd.csv",
            derivation="third-party derived",
        ),
        SourceInfo(
            "projectscore",
            "Sanger Project Score fitness-gene frequency per gene (overall and per tissue), as "
            "shipped in the crispy package",
            "Project Score 2019 (Behan et al.)",
            "CC BY 4.0 (Project Score data)",
            "Behan et al. 2019, Nature 568:511",
            "data/projectscore/essential_sanger_depmap19.tsv",
        ),
        SourceInfo(
            "projectscore_core",
            "ADaM pan-cancer core-fitness genes (Project Score)",
            "Project Score 2019 (Behan et al.)",
            "CC BY 4.0 (Project Score data)",
            "Behan et al. 2019, Nature 568:511",
            "data/projectscore/pancan_core.csv",
        ),
        SourceInfo(
            "shinydepmap_19q3",
            "shinyDepMap per-gene efficacy and selectivity (CERES + DEMETER2), cross-check only",
            "DepMap 19Q3 (shinyDepMap)",
            "CC BY 4.0 (DepMap-derived)",
            "Shimada et al. 2021, eLife 10:e57116",
            "data/depmap_thirdparty/shinydepmap_19q3/shinydepmap_19q3_efficacy_selectivity.csv",
            derivation="third-party derived",
        ),
        SourceInfo(
            "hgnc_groups",
            "HGNC gene groups, rolled up the group hierarchy",
            "HGNC 2024-10",
            "CC0 1.0",
            "Seal et al. 2023, Nucleic Acids Res 51:D1003 (genenames.org)",
            "data/hgnc/hgnc_gene_groups_rolled_up_2024.tsv.gz",
        ),
        SourceInfo(
            "clustermole",
            "clustermole cell-type signature compendium (SaVanT, xCell, CellMarker, PanglaoDB "
            "human sets used)",
            "clustermole 1.1.1.9000 (2024-05)",
            "MIT (package); signatures CC BY (xCell, MSigDB) or academic (CellMarker)",
            "Dolgalev I. clustermole; Aran et al. 2017 Genome Biol 18:220 (xCell); Zhang et al. "
            "2019 Nucleic Acids Res 47:D721 (CellMarker)",
            "data/clustermole/clustermole_markers.tsv.gz",
        ),
        SourceInfo(
            "liana",
            "LIANA+ OmniPath ligand-receptor consensus resource (human)",
            "liana 1.10.0",
            "BSD-3-Clause (package); OmniPath content with mixed upstream terms",
            "Dimitrov et al. 2022 Nat Commun 13:3224; Türei et al. 2021 Mol Syst Biol 17:e9923",
            "data/liana/omni_resource.csv",
        ),
        SourceInfo(
            "string",
            "STRING v12.0 human network without text-mining (combined score recomputed), Entrez "
            "ids, via the R package dmfind",
            "STRING v12.0 (dmfind 3e1c7fc, 2024-05-15)",
            "CC BY 4.0 (STRING)",
            "Szklarczyk et al. 2023 Nucleic Acids Res 51:D638",
            "data/string/string_v12_entrez_ntm700_k3.edges.tsv.gz",
            "third-party derived",
        ),
        SourceInfo(
            "evidence_kb",
            "Curated clinical evidence per target and strategy (targetrank reference KB)",
            "2026-11",
            "project reference data; each row carries its own citations",
            "shared/reference/evidence_kb.md",
            "reference/evidence_kb.tsv",
        ),
    ]
}


def source_path(shared: Path, key: str) -> Path:
    """Absolute path of a registered source file, with a clear error when it is missing."""
    info = SOURCES[key]
    path = shared / info.path
    if not path.is_file():
        raise DataError(
            f"Source file for '{key}' ({info.name}) is missing",
            input=str(path),
            done="the build stopped before writing anything",
            cause="the shared data folder is incomplete or from another layout",
            fix="point --shared / TARGETRANK_SHARED at the complete shared folder",
        )
    return path


def _tsv(path: Path, *, null_values: list[str] | None = None) -> pl.DataFrame:
    # quote_char=None: these TSVs contain literal quotes inside names ('C-K-RAS); null_values
    # empty only, because real aliases such as "NA" (XK) must survive as strings.
    return pl.read_csv(
        path,
        separator="\t",
        quote_char=None,
        null_values=null_values or [""],
        infer_schema=False,
    )


def read_genes(shared: Path) -> pl.DataFrame:
    """NCBI protein-coding genes: entrez_id, symbol, name, ensembl_ids, uniprot_ids, pubmed counts."""
    df = _tsv(source_path(shared, "ncbi_genes"))
    return df.with_columns(
        pl.col("entrez_id").cast(pl.Int64),
        pl.col("pubmed_count").cast(pl.Int64),
        pl.col("pubmed_count_focused").cast(pl.Int64),
    )


def read_aliases(shared: Path) -> pl.DataFrame:
    """NCBI symbols and synonyms: alias, entrez_id, symbol, is_symbol."""
    df = _tsv(source_path(shared, "ncbi_aliases"))
    return df.select(
        pl.col("alias"),
        pl.col("entrez_id").cast(pl.Int64),
        pl.col("symbol"),
        (pl.col("is_symbol") == "1").alias("is_symbol"),
    )


def read_go_terms(shared: Path) -> pl.DataFrame:
    """Gene to selected GO term membership: entrez_id, go_id, ontology, via, evidence, exosome_only."""
    df = _tsv(source_path(shared, "go"))
    return df.with_columns(
        pl.col("entrez_id").cast(pl.Int64),
        (pl.col("exosome_only") == "1").alias("exosome_only"),
    )


def read_go_selected(shared: Path) -> pl.DataFrame:
    """The 58 selected GO terms: go_id, name, ontology, why."""
    path = shared / "data" / "annotations" / "go_selected.tsv"
    if not path.is_file():
        raise DataError("GO term list is missing", input=str(path), fix="check --shared")
    return _tsv(path)


def _wide_expression(path: Path) -> pl.DataFrame:
    df = _tsv(path, null_values=["", "NA"])
    return df.rename({"GeneID": "ensembl_id"}).with_columns(
        pl.exclude("ensembl_id").cast(pl.Float64)
    )


def read_hpa_tissue(shared: Path) -> pl.DataFrame:
    """HPA consensus RNA per tissue, wide: ensembl_id + 61 tissue columns (nTPM-like units)."""
    return _wide_expression(source_path(shared, "hpa_tissue"))


def read_hpa_blood(shared: Path) -> pl.DataFrame:
    """HPA RNA per blood immune cell type, wide: ensembl_id + 19 cell-type columns."""
    return _wide_expression(source_path(shared, "hpa_blood"))


def read_hpa_subcellular(shared: Path) -> pl.DataFrame:
    """HPA subcellular location table as released (column names normalised to snake case)."""
    df = _tsv(source_path(shared, "hpa_subcellular"))
    return df.rename({c: c.lower().replace(" ", "_") for c in df.columns}).rename(
        {"gene": "ensembl_id", "gene_name": "symbol"}
    )


def read_surfy(shared: Path) -> pl.DataFrame:
    """SURFY surfaceome: uniprot accession, gene, ensembl, entrez, label, ML score."""
    df = _tsv(source_path(shared, "surfy"))
    return df.select(
        pl.col("UniProt accession").alias("uniprot_id"),
        pl.col("UniProt gene").alias("symbol"),
        pl.col("Ensembl gene").alias("ensembl_id"),
        pl.col("GeneID").cast(pl.Int64, strict=False).alias("entrez_id"),
        pl.col("Surfaceome Label").alias("label"),
        pl.col("Surfaceome Label Source").alias("label_source"),
        pl.col("MachineLearning score").cast(pl.Float64, strict=False).alias("ml_score"),
    )


def read_cspa(shared: Path) -> pl.DataFrame:
    """CSPA human surface proteins observed by mass spectrometry."""
    df = _tsv(source_path(shared, "cspa"))
    return df.select(
        pl.col("ID_link").alias("uniprot_id"),
        pl.col("ENTREZ_gene_ID").cast(pl.Int64, strict=False).alias("entrez_id"),
        pl.col("ENTREZ gene symbol").alias("symbol"),
        pl.col("CSPA category").alias("category"),
    )


def read_panglaodb(shared: Path) -> pl.DataFrame:
    """PanglaoDB marker rows: species, symbol, cell_type, canonical_marker, organ, sensitivity."""
    df = _tsv(source_path(shared, "panglaodb"))
    return df.select(
        pl.col("species"),
        pl.col("official gene symbol").alias("symbol"),
        pl.col("cell type").alias("cell_type"),
        pl.col("nicknames").alias("nicknames"),
        (pl.col("canonical marker") == "1").alias("canonical_marker"),
        pl.col("organ"),
        pl.col("sensitivity_human").cast(pl.Float64, strict=False),
        pl.col("specificity_human").cast(pl.Float64, strict=False),
    )


def read_gnomad_pli(shared: Path) -> pl.DataFrame:
    """GnomAD v2.1.1 pLI by gene symbol (duplicated symbols and NA kept as released)."""
    df = _tsv(source_path(shared, "gnomad"), null_values=["", "NA"])
    return df.select(pl.col("gene").alias("symbol"), pl.col("pLI").cast(pl.Float64).alias("pli"))


def read_finan(shared: Path) -> pl.DataFrame:
    """Finan 2017 druggable genome: ensembl_id, tier, symbol, small-molecule/biologic flags."""
    df = pl.read_csv(source_path(shared, "finan2017"), infer_schema=False, null_values=[""])
    return df.select(
        pl.col("ensembl_gene_id").alias("ensembl_id"),
        pl.col("druggability_tier").alias("tier"),
        pl.col("hgnc_names").alias("symbol"),
        (pl.col("small_mol_druggable") == "Y").alias("small_mol_druggable"),
        (pl.col("bio_druggable") == "Y").alias("bio_druggable"),
    )


def read_drugcentral_targets(shared: Path) -> pl.DataFrame:
    """DrugCentral 2016 drug efficacy targets: drug, gene, action type."""
    df = _tsv(source_path(shared, "drugcentral_targets"))
    return df.select(
        pl.col("DRUG_ID").cast(pl.Int64).alias("drug_id"),
        pl.col("DRUG_NAME").alias("drug_name"),
        pl.col("GENE").alias("gene"),
        pl.col("UNIPROT").alias("uniprot_id"),
        pl.col("SWISSPROT").alias("swissprot"),
        pl.col("ACTION_TYPE").alias("action_type"),
        pl.col("TARGET_FAMILY").alias("target_family"),
    )


def read_depmap_gene_list(path: Path) -> pl.DataFrame:
    """A DepMap one-column gene list (``Essentials`` or ``Gene``) as symbol + entrez_id."""
    df = pl.read_csv(path, infer_schema=False)
    if df.width != 1:
        raise DataError(
            "DepMap gene list has an unexpected layout",
            input=str(path),
            cause=f"expected one column ('Essentials' or 'Gene'), found {df.columns}",
            fix="check the file comes from a DepMap Public release",
        )
    col = df.columns[0]
    parsed = df.select(pl.col(col).str.extract_groups(r"^(.*?)\s*\((\d+)\)$").alias("m"))
    return parsed.select(
        pl.col("m").struct.field("1").alias("symbol"),
        pl.col("m").struct.field("2").cast(pl.Int64).alias("entrez_id"),
    )


def read_depmap_common_essentials(shared: Path) -> pl.DataFrame:
    """DepMap Public 24Q2 CRISPRInferredCommonEssentials as symbol + entrez_id."""
    return read_depmap_gene_list(source_path(shared, "depmap_common_essentials"))


def read_evidence_kb(shared: Path) -> pl.DataFrame:
    """The curated evidence table as released in ``shared/reference``."""
    return _tsv(source_path(shared, "evidence_kb"))


def read_depmap_controls(shared: Path) -> pl.DataFrame:
    """DepMap 24Q4 Achilles common-essential controls (Hart ∩ Blomen) as symbol + entrez_id."""
    return read_depmap_gene_list(source_path(shared, "depmap_controls"))


def read_depmap_gene_summary(shared: Path) -> pl.DataFrame:
    """The third-party DepMap 26Q1 per-gene summary (see :func:`read_gene_summary`)."""
    from targetrank.sources.depmap_summary import read_gene_summary

    return read_gene_summary(source_path(shared, "depmap_gene_summary"))


def read_projectscore(shared: Path) -> pl.DataFrame:
    """Project Score fitness-gene frequencies (see :func:`read_fitness_frequencies`)."""
    from targetrank.sources.depmap_summary import read_fitness_frequencies

    return read_fitness_frequencies(source_path(shared, "projectscore"))


def read_projectscore_core(shared: Path) -> pl.DataFrame:
    """ADaM pan-cancer core-fitness genes (one ``symbol`` column)."""
    from targetrank.sources.depmap_summary import read_core_fitness

    return read_core_fitness(source_path(shared, "projectscore_core"))


def read_shinydepmap(shared: Path) -> pl.DataFrame:
    """ShinyDepMap 19Q3 efficacy/selectivity per gene (entrez_id, symbol, efficacy, selectivity)."""
    df = pl.read_csv(source_path(shared, "shinydepmap_19q3"), infer_schema=False)
    return df.select(
        pl.col("eid").cast(pl.Int64).alias("entrez_id"),
        pl.col("sym").alias("symbol"),
        pl.col("efficacy").cast(pl.Float64),
        pl.col("selectivity").cast(pl.Float64),
    )


def read_hgnc_groups(shared: Path) -> pl.DataFrame:
    """HGNC gene-group memberships, rolled up: symbol, group_id, group_name, inherited."""
    df = _tsv(source_path(shared, "hgnc_groups"))
    return df.select(
        pl.col("symbol"),
        pl.col("gid").cast(pl.Int64).alias("group_id"),
        pl.col("gname").alias("group_name"),
        (pl.col("inherited") == "1").alias("inherited"),
    )


def read_opentargets_bulk(shared: Path) -> Path:
    """The folder of the Open Targets bulk download in the shared data (FTP layout)."""
    path = shared / "data" / "opentargets" / "25.12"
    if not path.is_dir():
        raise DataError(
            "The Open Targets bulk download is missing",
            input=str(path),
            done="the build stopped before writing anything",
            cause="the shared data folder is incomplete or from another layout",
            fix="point --shared / TARGETRANK_SHARED at the complete shared folder",
        )
    return path


def read_clustermole(shared: Path) -> pl.DataFrame:
    """Human cell-type signatures: db, celltype, symbol (SaVanT's human sets are unlabelled)."""
    df = _tsv(source_path(shared, "clustermole"))
    species = pl.col("species").fill_null("")
    human = (species == "Human") | ((species == "") & (pl.col("db") == "SaVanT"))
    return (
        df.filter(human)
        .select("db", "celltype", "organ", pl.col("gene_hs").alias("symbol"))
        .drop_nulls("symbol")
    )


def read_liana(shared: Path) -> pl.DataFrame:
    """Ligand-receptor pairs of the LIANA consensus resource (complexes split into subunits)."""
    df = pl.read_csv(source_path(shared, "liana"), infer_schema=False)
    return (
        df.filter(pl.col("resource") == "consensus")
        .select(
            pl.col("source_genesymbol").str.split("_").alias("ligand"),
            pl.col("target_genesymbol").str.split("_").alias("receptor"),
        )
        .explode("ligand")
        .explode("receptor")
        .unique()
    )


def read_string(shared: Path) -> pl.DataFrame:
    """STRING v12 edges without text-mining: entrez_a, entrez_b, combined_score (0-1000)."""
    return pl.read_csv(
        source_path(shared, "string"),
        separator="\t",
        columns=["entrez_a", "entrez_b", "combined_score"],
        schema_overrides={"entrez_a": pl.Int64, "entrez_b": pl.Int64, "combined_score": pl.Int64},
    )
