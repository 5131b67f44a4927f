"""SYNTHETIC Open Targets Platform data for tests and benchmarks.

Nothing here is real evidence. Ids and names have the real formats (Ensembl ``ENSG`` + 11 digits,
MONDO disease ids, ChEMBL-style drug ids) so the connector is exercised as in production, but
every value (tractability, safety, scores, stages, screens) is invented:

* seed targets: real Ensembl ids and HGNC symbols of the project's panel; three are hand-written
  in ``tests/fixtures/opentargets/synthetic_seed_targets.json``, the rest generated;
* generated targets: ids ``ENSG09xxxxxxxxx`` (outside Ensembl's real ``ENSG00…`` range, so they
  can never be mistaken for a real gene) and symbols ``SYNTH00001``…, as many as a benchmark
  needs (1,000+);
* diseases: the real 26.06 MONDO ids and names of the disease slots, with synthetic scores.

Each target is a *neutral record*; :mod:`tests.support.ot_fake` renders it into API responses for
either schema release, and :func:`write_bulk` writes it as the Platform's parquet datasets, so
the API and bulk paths can be compared on the same data.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.features.opentargets_columns import OT_PRIORITISATION_KEYS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "opentargets"
SEED_FILE = FIXTURES / "synthetic_seed_targets.json"
SYNTHETIC_ID_PREFIX = "ENSG09"

#: Real panel ids and symbols (values generated); the first three come from SEED_FILE.
SEED_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("ENSG00000181847", "TIGIT", "T cell immunoreceptor with Ig and ITIM domains"),
    ("ENSG00000118785", "SPP1", "secreted phosphoprotein 1"),
    ("ENSG00000120659", "TNFSF11", "TNF superfamily member 11"),
    ("ENSG00000107984", "DKK1", "dickkopf WNT signaling pathway inhibitor 1"),
    ("ENSG00000141655", "TNFRSF11A", "TNF receptor superfamily member 11a"),
    ("ENSG00000164761", "TNFRSF11B", "TNF receptor superfamily member 11b"),
    ("ENSG00000188389", "PDCD1", "programmed cell death 1"),
    ("ENSG00000120217", "CD274", "CD274 molecule"),
    ("ENSG00000135077", "HAVCR2", "hepatitis A virus cellular receptor 2"),
    ("ENSG00000073008", "PVR", "PVR cell adhesion molecule"),
    ("ENSG00000133048", "CHI3L1", "chitinase 3 like 1"),
    ("ENSG00000143387", "CTSK", "cathepsin K"),
    ("ENSG00000182578", "CSF1R", "colony stimulating factor 1 receptor"),
    ("ENSG00000121966", "CXCR4", "C-X-C motif chemokine receptor 4"),
    ("ENSG00000121807", "CCR2", "C-C motif chemokine receptor 2"),
    ("ENSG00000136244", "IL6", "interleukin 6"),
    ("ENSG00000105329", "TGFB1", "transforming growth factor beta 1"),
    ("ENSG00000167941", "SOST", "sclerostin"),
    ("ENSG00000174837", "ADGRE1", "adhesion G protein-coupled receptor E1"),
    ("ENSG00000146648", "EGFR", "epidermal growth factor receptor"),
    ("ENSG00000150637", "CD226", "CD226 molecule"),
    ("ENSG00000089692", "LAG3", "lymphocyte activating 3"),
    ("ENSG00000163599", "CTLA4", "cytotoxic T-lymphocyte associated protein 4"),
    ("ENSG00000197046", "SIGLEC15", "sialic acid binding Ig like lectin 15"),
    ("ENSG00000125538", "IL1B", "interleukin 1 beta"),
    ("ENSG00000087494", "PTHLH", "parathyroid hormone like hormone"),
    ("ENSG00000026751", "SLAMF7", "SLAM family member 7"),
    ("ENSG00000048462", "TNFRSF17", "TNF receptor superfamily member 17"),
    ("ENSG00000004468", "CD38", "CD38 molecule"),
    ("ENSG00000112715", "VEGFA", "vascular endothelial growth factor A"),
)
#: Synthetic synonyms for the resolver tests (PREVIOUS: ADGRE1 was EMR1).
_SYNONYMS = {
    "PVR": ["CD155", "NECL5"],
    "HAVCR2": ["TIM3", "TIM-3"],
    "TNFRSF11A": ["RANK", "ODFR"],
    "TNFRSF11B": ["OPG", "OCIF"],
    "PDCD1": ["PD-1", "PD1"],
    "CD274": ["PD-L1", "B7-H1"],
}
_OBSOLETE = {"ADGRE1": ["EMR1"]}

#: Real 26.06 MONDO ids and names (from the research note); scores attached to them are synthetic.
DISEASES: tuple[dict[str, Any], ...] = (
    {"id": "MONDO_0004992", "name": "cancer", "obsoleteTerms": ["EFO_0000311"]},
    {"id": "MONDO_0004989", "name": "breast carcinoma", "obsoleteTerms": ["EFO_0000305"]},
    {"id": "MONDO_0007254", "name": "breast cancer", "obsoleteTerms": []},
    {"id": "MONDO_0005159", "name": "prostate carcinoma", "obsoleteTerms": ["EFO_0001663"]},
    {"id": "MONDO_0008315", "name": "prostate cancer", "obsoleteTerms": []},
    {
        "id": "MONDO_0005233",
        "name": "non-small cell lung carcinoma",
        "obsoleteTerms": ["EFO_0003060"],
    },
    {"id": "MONDO_0008903", "name": "lung cancer", "obsoleteTerms": []},
    {"id": "MONDO_0009693", "name": "multiple myeloma", "obsoleteTerms": ["EFO_0001378"]},
    {"id": "MONDO_0009807", "name": "osteosarcoma", "obsoleteTerms": ["EFO_0000637"]},
)
DATATYPES = (
    "genetic_association",
    "somatic_mutation",
    "known_drug",
    "clinical",
    "affected_pathway",
    "literature",
    "animal_model",
    "rna_expression",
)
TRACT_LABELS = {
    "SM": (
        "Approved Drug",
        "Advanced Clinical",
        "Phase 1 Clinical",
        "Structure with Ligand",
        "High-Quality Ligand",
        "High-Quality Pocket",
        "Med-Quality Pocket",
        "Druggable Family",
    ),
    "AB": (
        "Approved Drug",
        "Advanced Clinical",
        "Phase 1 Clinical",
        "UniProt loc high conf",
        "GO CC high conf",
        "UniProt loc med conf",
        "UniProt SigP or TMHMM",
        "GO CC med conf",
        "Human Protein Atlas loc",
    ),
    "PR": (
        "Approved Drug",
        "Advanced Clinical",
        "Phase 1 Clinical",
        "Literature",
        "UniProt Ubiquitination",
        "Database Ubiquitination",
        "Half-life Data",
        "Small Molecule Binder",
    ),
    "OC": ("Approved Drug", "Advanced Clinical", "Phase 1 Clinical"),
}
PRIO_KEYS = tuple(OT_PRIORITISATION_KEYS)  # the declared columns: one source of truth
STAGES = ("PRECLINICAL", "PHASE_1", "PHASE_2", "PHASE_3", "APPROVAL", "PHASE_4", "WITHDRAWAL")
STAGE_PHASE = {
    "PRECLINICAL": 0.0,
    "PHASE_1": 1.0,
    "PHASE_2": 2.0,
    "PHASE_3": 3.0,
    "APPROVAL": 4.0,
    "PHASE_4": 4.0,
    "WITHDRAWAL": 4.0,
}
TISSUES = (
    ("UBERON_0002371", "Bone marrow"),
    ("UBERON_0002048", "Lung"),
    ("UBERON_0000310", "Breast"),
    ("UBERON_0002367", "Prostate"),
)


@dataclass
class SyntheticPlatform:
    """A synthetic Platform release: neutral target records and diseases."""

    targets: dict[str, dict[str, Any]]
    diseases: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {d["id"]: dict(d) for d in DISEASES}
    )

    @property
    def ids(self) -> list[str]:
        """Target ids: seeds first, then generated ones."""
        return list(self.targets)

    @property
    def seed_ids(self) -> list[str]:
        """The real panel ids (values synthetic)."""
        return [t[0] for t in SEED_TARGETS]


def synthetic_id(index: int) -> str:
    """``ENSG09`` + 9 digits: real Ensembl format, outside the real id range."""
    return f"{SYNTHETIC_ID_PREFIX}{index:09d}"


def _generated(ensembl_id: str, symbol: str, name: str) -> dict[str, Any]:
    """A deterministic synthetic record (same id, same values, whatever the platform size)."""
    rng = random.Random(ensembl_id)
    r2 = lambda lo, hi: round(rng.uniform(lo, hi), 3)  # noqa: E731
    assessed = rng.random() > 0.1  # ~10% of targets have no tractability assessment at all
    tract = [
        {"modality": m, "label": label, "value": rng.random() < 0.3}
        for m, labels in TRACT_LABELS.items()
        if assessed and (m != "OC" or rng.random() < 0.8)
        for label in labels
    ]
    n_drugs = rng.choice((0, 0, 0, 1, 2, 3))
    drugs = []
    for k in range(n_drugs):
        stage = rng.choice(STAGES)
        drugs.append(
            {
                "drugId": f"CHEMBL9{ensembl_id[4:]}{k}",
                "name": f"SYNTHETIC-{symbol}-DRUG-{k}",
                "drugType": rng.choice(("Small molecule", "Antibody", "Protein")),
                "stage": stage,
                "phase": STAGE_PHASE[stage],
                "indications": rng.sample([d["id"] for d in DISEASES], 2),
            }
        )
    assoc = []
    for disease in rng.sample(list(DISEASES), rng.randint(0, 5)):
        dts = {dt: r2(0.01, 0.9) for dt in rng.sample(DATATYPES, rng.randint(1, 4))}
        assoc.append(
            {"diseaseId": disease["id"], "score": min(1.0, max(dts.values())), "datatypes": dts}
        )
    essential = rng.choice((True, False, False, False, None))
    screens = [
        {
            "tissueId": tid,
            "tissueName": tname,
            "screens": [
                {
                    "depmapId": f"ACH-9{k:05d}",
                    "cellLineName": f"SYNTH-{tname[:4].upper()}-{k}",
                    "diseaseFromSource": "Synthetic cancer",
                    "geneEffect": r2(-2.0, 0.5),
                    "expression": r2(0.0, 8.0) if rng.random() < 0.8 else None,
                }
                for k in range(rng.randint(1, 4))
            ],
        }
        for tid, tname in rng.sample(TISSUES, rng.randint(0, 3))
    ]
    return {
        "id": ensembl_id,
        "approvedSymbol": symbol,
        "approvedName": name,
        "biotype": "protein_coding",
        "symbolSynonyms": list(_SYNONYMS.get(symbol, [])),
        "obsoleteSymbols": list(_OBSOLETE.get(symbol, [])),
        "tractability": tract,
        "safetyLiabilities": [
            {
                "event": f"synthetic event {k}",
                "eventId": f"SYNTH_{k:04d}" if rng.random() < 0.7 else None,
                "datasource": rng.choice(("Synthetic curation", "Synthetic screen")),
                "effects": [
                    {
                        "direction": rng.choice(("Activation/Increase", "Inhibition/Decrease")),
                        "dosing": None,
                    }
                    for _ in range(rng.randint(0, 2))
                ],
            }
            for k in range(rng.choice((0, 0, 1, 2, 3)))
        ],
        "subcellularLocations": [
            {"location": loc, "source": "uniprot"}
            for loc in rng.sample(
                ("Cell membrane", "Secreted", "Cytoplasm", "Nucleus"), rng.randint(0, 2)
            )
        ],
        "targetClass": [{"id": 9100, "label": "Synthetic enzyme", "level": "l1"}]
        if rng.random() < 0.4
        else [],
        "isEssential": essential,
        "depMapEssentiality": screens,
        "geneticConstraint": [
            {
                "constraintType": "syn",
                "oe": r2(0.8, 1.2),
                "oeLower": 0.7,
                "oeUpper": 1.3,
                "score": 0.0,
            },
        ]
        + (
            [
                {
                    "constraintType": "lof",
                    "oe": r2(0.05, 1.0),
                    "oeLower": 0.01,
                    "oeUpper": r2(1.0, 1.9),
                    "score": r2(-1, 4),
                }
            ]
            if rng.random() < 0.85
            else []
        ),
        "prioritisation": {k: r2(-1.0, 1.0) for k in PRIO_KEYS if rng.random() < 0.7},
        "chemicalProbes": [
            {"id": f"SYNTH-PROBE-{symbol}-{k}", "isHighQuality": rng.random() < 0.5}
            for k in range(rng.choice((0, 0, 0, 1, 2)))
        ],
        "mousePhenotypes": [
            {
                "modelPhenotypeId": f"MP_{9000000 + k:07d}",
                "modelPhenotypeLabel": f"synthetic phenotype {k}",
            }
            for k in rng.sample(range(50), rng.randint(0, 4))
        ],
        "pathways": [
            {
                "pathwayId": f"R-HSA-9{k:06d}",
                "pathway": f"Synthetic pathway {k}",
                "topLevelTerm": "Synthetic",
            }
            for k in rng.sample(range(40), rng.randint(0, 3))
        ],
        "tep": {
            "name": ensembl_id,
            "uri": "https://example.invalid/synthetic-tep",
            "therapeuticArea": "Synthetic",
            "description": "Synthetic TEP",
        }
        if rng.random() < 0.05
        else None,
        "drugs": drugs,
        "associations": assoc,
        "expression": [
            {"tissueId": tid, "tissueName": tname.lower(), "value": r2(0, 100), "unit": "TPM"}
            for tid, tname in rng.sample(TISSUES, rng.randint(0, 4))
        ],
    }


def make_platform(n_synthetic: int = 0) -> SyntheticPlatform:
    """The 30 seed targets plus ``n_synthetic`` generated ones (deterministic)."""
    hand = {t["id"]: t for t in json.loads(SEED_FILE.read_text())["targets"]}
    targets: dict[str, dict[str, Any]] = {}
    for ensembl_id, symbol, name in SEED_TARGETS:
        targets[ensembl_id] = hand.get(ensembl_id) or _generated(ensembl_id, symbol, name)
    for i in range(1, n_synthetic + 1):
        sid = synthetic_id(i)
        targets[sid] = _generated(sid, f"SYNTH{i:05d}", f"synthetic target {i}")
    return SyntheticPlatform(targets)


# --------------------------------------------------------------------------------------------
# Bulk parquet, written from the same neutral records
# --------------------------------------------------------------------------------------------

_S = pl.String
_LS = pl.List(pl.String)
TARGET_SCHEMA = pl.Schema(
    {
        "id": _S,
        "approvedSymbol": _S,
        "approvedName": _S,
        "biotype": _S,
        "tractability": pl.List(pl.Struct({"modality": _S, "id": _S, "value": pl.Boolean})),
        "safetyLiabilities": pl.List(
            pl.Struct(
                {
                    "event": _S,
                    "eventId": _S,
                    "datasource": _S,
                    "effects": pl.List(pl.Struct({"direction": _S, "dosing": _S})),
                }
            )
        ),
        "subcellularLocations": pl.List(pl.Struct({"location": _S, "source": _S})),
        "targetClass": pl.List(pl.Struct({"id": pl.Int64, "label": _S, "level": _S})),
        "constraint": pl.List(
            pl.Struct(
                {
                    "constraintType": _S,
                    "oe": pl.Float64,
                    "oeLower": pl.Float64,
                    "oeUpper": pl.Float64,
                    "score": pl.Float64,
                }
            )
        ),
        "chemicalProbes": pl.List(pl.Struct({"id": _S, "isHighQuality": pl.Boolean})),
        "pathways": pl.List(pl.Struct({"pathwayId": _S, "pathway": _S, "topLevelTerm": _S})),
        "tep": pl.Struct(
            {"targetFromSourceId": _S, "url": _S, "therapeuticArea": _S, "description": _S}
        ),
        "symbolSynonyms": pl.List(pl.Struct({"label": _S, "source": _S})),
    }
)
SCREEN = pl.Struct(
    {
        "depmapId": _S,
        "cellLineName": _S,
        "diseaseFromSource": _S,
        "geneEffect": pl.Float64,
        "expression": pl.Float64,
    }
)
ESSENTIALITY_SCHEMA = pl.Schema(
    {
        "id": _S,
        "geneEssentiality": pl.List(
            pl.Struct(
                {
                    "isEssential": pl.Boolean,
                    "depMapEssentiality": pl.List(
                        pl.Struct({"tissueId": _S, "tissueName": _S, "screens": pl.List(SCREEN)})
                    ),
                }
            )
        ),
    }
)


def _write(folder: Path, dataset: str, df: pl.DataFrame) -> None:
    out = folder / dataset
    out.mkdir(parents=True, exist_ok=True)
    df.write_parquet(out / "part-00000-synthetic.snappy.parquet")


def write_bulk(platform: SyntheticPlatform, folder: Path, *, layout: str = "26.06") -> Path:
    """Write the platform as the Platform's parquet datasets (``layout`` "26.06" or "25.12").

    26.06 writes ``clinical_target`` + ``drug_molecule``; 25.12 writes ``known_drug``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ts = list(platform.targets.values())
    targets = [
        {
            "id": t["id"],
            "approvedSymbol": t["approvedSymbol"],
            "approvedName": t["approvedName"],
            "biotype": t["biotype"],
            "tractability": [
                {"modality": x["modality"], "id": x["label"], "value": x["value"]}
                for x in t["tractability"]
            ],
            "safetyLiabilities": t["safetyLiabilities"],
            "subcellularLocations": t["subcellularLocations"],
            "targetClass": t["targetClass"],
            "constraint": t["geneticConstraint"],
            "chemicalProbes": t["chemicalProbes"],
            "pathways": t["pathways"],
            "tep": None
            if t["tep"] is None
            else {
                "targetFromSourceId": t["tep"]["name"],
                "url": t["tep"]["uri"],
                "therapeuticArea": t["tep"]["therapeuticArea"],
                "description": t["tep"]["description"],
            },
            "symbolSynonyms": [{"label": s, "source": "synthetic"} for s in t["symbolSynonyms"]],
        }
        for t in ts
    ]
    _write(folder, "target", pl.DataFrame(targets, schema=TARGET_SCHEMA))
    essentiality = [
        {
            "id": t["id"],
            "geneEssentiality": [
                {"isEssential": t["isEssential"], "depMapEssentiality": t["depMapEssentiality"]}
            ],
        }
        for t in ts
        if t["isEssential"] is not None or t["depMapEssentiality"]
    ]
    _write(folder, "target_essentiality", pl.DataFrame(essentiality, schema=ESSENTIALITY_SCHEMA))
    prio_schema = {"targetId": _S, **dict.fromkeys(PRIO_KEYS, pl.Float64)}
    prio = [{"targetId": t["id"], **t["prioritisation"]} for t in ts if t["prioritisation"]]
    _write(folder, "target_prioritisation", pl.DataFrame(prio, schema=prio_schema))
    mouse = [{"targetFromSourceId": t["id"], **p} for t in ts for p in t["mousePhenotypes"]]
    _write(
        folder,
        "mouse_phenotype",
        pl.DataFrame(
            mouse,
            schema={"targetFromSourceId": _S, "modelPhenotypeId": _S, "modelPhenotypeLabel": _S},
        ),
    )
    _write(
        folder,
        "disease",
        pl.DataFrame(
            list(platform.diseases.values()),
            schema={"id": _S, "name": _S, "obsoleteTerms": _LS},
        ),
    )
    overall = [
        {"diseaseId": a["diseaseId"], "targetId": t["id"], "score": a["score"], "evidenceCount": 1}
        for t in ts
        for a in t["associations"]
        if a["diseaseId"] in platform.diseases
    ]
    by_type = [
        {
            "diseaseId": a["diseaseId"],
            "targetId": t["id"],
            "datatypeId": dt,
            "score": score,
            "evidenceCount": 1,
        }
        for t in ts
        for a in t["associations"]
        if a["diseaseId"] in platform.diseases
        for dt, score in a["datatypes"].items()
    ]
    _write(
        folder,
        "association_overall_direct",
        pl.DataFrame(
            overall,
            schema={
                "diseaseId": _S,
                "targetId": _S,
                "score": pl.Float64,
                "evidenceCount": pl.Int64,
            },
        ),
    )
    _write(
        folder,
        "association_by_datatype_direct",
        pl.DataFrame(
            by_type,
            schema={
                "diseaseId": _S,
                "targetId": _S,
                "datatypeId": _S,
                "score": pl.Float64,
                "evidenceCount": pl.Int64,
            },
        ),
    )
    if layout == "25.12":
        known = [
            {
                "drugId": d["drugId"],
                "targetId": t["id"],
                "diseaseId": disease_id,
                "phase": d["phase"],
                "status": None,
                "prefName": d["name"],
                "drugType": d["drugType"],
            }
            for t in ts
            for d in t["drugs"]
            for disease_id in d["indications"]
        ]
        _write(
            folder,
            "known_drug",
            pl.DataFrame(
                known,
                schema={
                    "drugId": _S,
                    "targetId": _S,
                    "diseaseId": _S,
                    "phase": pl.Float64,
                    "status": _S,
                    "prefName": _S,
                    "drugType": _S,
                },
            ),
        )
    else:
        clinical = [
            {
                "id": f"{t['id']}-{d['drugId']}",
                "targetId": t["id"],
                "drugId": d["drugId"],
                "maxClinicalStage": d["stage"],
            }
            for t in ts
            for d in t["drugs"]
        ]
        _write(
            folder,
            "clinical_target",
            pl.DataFrame(
                clinical,
                schema={"id": _S, "targetId": _S, "drugId": _S, "maxClinicalStage": _S},
            ),
        )
        drugs = {d["drugId"]: d for t in ts for d in t["drugs"]}
        _write(
            folder,
            "drug_molecule",
            pl.DataFrame(
                [{"id": k, "name": d["name"], "drugType": d["drugType"]} for k, d in drugs.items()],
                schema={"id": _S, "name": _S, "drugType": _S},
            ),
        )
    return folder
