"""The 58 selected Gene Ontology terms, with stable column names.

Membership is propagated to descendant terms (GO.db offspring). For biological processes, only
genes that take part in the term count: membership reached only through a ``regulates`` edge is
not participation (otherwise T cell activation would contain TIGIT and CTLA4, its inhibitors).
For extracellular terms, genes placed there only by exosome proteomics do not count as secreted.
"""

from __future__ import annotations

#: GO id → (column name, GO term name, ontology). Ids are those of GO 2022-07-01.
GO_COLUMNS: dict[str, tuple[str, str, str]] = {
    "GO:0009986": ("go_cell_surface", "cell surface", "CC"),
    "GO:0005886": ("go_plasma_membrane", "plasma membrane", "CC"),
    "GO:0009897": ("go_external_side_plasma_membrane", "external side of plasma membrane", "CC"),
    "GO:0005887": ("go_integral_plasma_membrane", "integral component of plasma membrane", "CC"),
    "GO:0046658": ("go_anchored_plasma_membrane", "anchored component of plasma membrane", "CC"),
    "GO:0005615": ("go_extracellular_space", "extracellular space", "CC"),
    "GO:0005576": ("go_extracellular_region", "extracellular region", "CC"),
    "GO:0031012": ("go_extracellular_matrix", "extracellular matrix", "CC"),
    "GO:0038023": ("go_signaling_receptor", "signaling receptor activity", "MF"),
    "GO:0004888": ("go_transmembrane_receptor", "transmembrane signaling receptor activity", "MF"),
    "GO:0004930": ("go_gpcr", "G protein-coupled receptor activity", "MF"),
    "GO:0004714": ("go_rtk", "transmembrane receptor protein tyrosine kinase activity", "MF"),
    "GO:0004672": ("go_protein_kinase", "protein kinase activity", "MF"),
    "GO:0008233": ("go_peptidase", "peptidase activity", "MF"),
    "GO:0005216": ("go_ion_channel", "ion channel activity", "MF"),
    "GO:0004879": ("go_nuclear_receptor", "nuclear receptor activity", "MF"),
    "GO:0005215": ("go_transporter", "transporter activity", "MF"),
    "GO:0003700": ("go_transcription_factor", "DNA-binding transcription factor activity", "MF"),
    "GO:0005125": ("go_cytokine", "cytokine activity", "MF"),
    "GO:0008009": ("go_chemokine", "chemokine activity", "MF"),
    "GO:0008083": ("go_growth_factor", "growth factor activity", "MF"),
    "GO:0048018": ("go_receptor_ligand", "receptor ligand activity", "MF"),
    "GO:0005102": ("go_signaling_receptor_binding", "signaling receptor binding", "MF"),
    "GO:0002376": ("go_immune_system_process", "immune system process", "BP"),
    "GO:0042110": ("go_t_cell_activation", "T cell activation", "BP"),
    "GO:0050852": ("go_tcr_signaling", "T cell receptor signaling pathway", "BP"),
    "GO:0050868": (
        "go_neg_reg_t_cell_activation",
        "negative regulation of T cell activation",
        "BP",
    ),
    "GO:0042130": (
        "go_neg_reg_t_cell_proliferation",
        "negative regulation of T cell proliferation",
        "BP",
    ),
    "GO:0050777": ("go_neg_reg_immune_response", "negative regulation of immune response", "BP"),
    "GO:0002767": (
        "go_inhibitory_receptor_signaling",
        "immune response-inhibiting cell surface receptor signaling pathway",
        "BP",
    ),
    "GO:0045066": ("go_treg_differentiation", "regulatory T cell differentiation", "BP"),
    "GO:0030101": ("go_nk_activation", "natural killer cell activation", "BP"),
    "GO:0002418": ("go_immune_response_to_tumor", "immune response to tumor cell", "BP"),
    "GO:0019882": ("go_antigen_presentation", "antigen processing and presentation", "BP"),
    "GO:0002274": ("go_myeloid_activation", "myeloid leukocyte activation", "BP"),
    "GO:0042116": ("go_macrophage_activation", "macrophage activation", "BP"),
    "GO:0002573": ("go_myeloid_differentiation", "myeloid leukocyte differentiation", "BP"),
    "GO:0006954": ("go_inflammatory_response", "inflammatory response", "BP"),
    "GO:0046849": ("go_bone_remodeling", "bone remodeling", "BP"),
    "GO:0045453": ("go_bone_resorption", "bone resorption", "BP"),
    "GO:0030316": ("go_osteoclast_differentiation", "osteoclast differentiation", "BP"),
    "GO:0045672": (
        "go_pos_reg_osteoclast_differentiation",
        "positive regulation of osteoclast differentiation",
        "BP",
    ),
    "GO:0001649": ("go_osteoblast_differentiation", "osteoblast differentiation", "BP"),
    "GO:0045668": (
        "go_neg_reg_osteoblast_differentiation",
        "negative regulation of osteoblast differentiation",
        "BP",
    ),
    "GO:0001503": ("go_ossification", "ossification", "BP"),
    "GO:0030282": ("go_bone_mineralization", "bone mineralization", "BP"),
    "GO:0016055": ("go_wnt_signaling", "Wnt signaling pathway", "BP"),
    "GO:0030178": ("go_neg_reg_wnt", "negative regulation of Wnt signaling pathway", "BP"),
    "GO:0090090": (
        "go_neg_reg_canonical_wnt",
        "negative regulation of canonical Wnt signaling pathway",
        "BP",
    ),
    "GO:0070098": ("go_chemokine_signaling", "chemokine-mediated signaling pathway", "BP"),
    "GO:0007179": (
        "go_tgfb_signaling",
        "transforming growth factor beta receptor signaling pathway",
        "BP",
    ),
    "GO:0007155": ("go_cell_adhesion", "cell adhesion", "BP"),
    "GO:0016477": ("go_cell_migration", "cell migration", "BP"),
    "GO:0001837": ("go_emt", "epithelial to mesenchymal transition", "BP"),
    "GO:0001525": ("go_angiogenesis", "angiogenesis", "BP"),
    "GO:0001666": ("go_response_to_hypoxia", "response to hypoxia", "BP"),
    "GO:0006915": ("go_apoptotic_process", "apoptotic process", "BP"),
    "GO:0008283": ("go_cell_proliferation", "cell population proliferation", "BP"),
}

#: Terms whose "extracellular" membership must not come from exosome proteomics alone.
EXOSOME_SENSITIVE = {"GO:0005615", "GO:0005576"}
