"""Properties over generated cases: a lesion's technique options agree with its NOMS findings."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import make_case

import metspine
from metspine.decision.surgery import SURGICAL_CODES
from metspine.knowledge.histology import histology

PRIMARIES = ["breast", "renal_cell", "thyroid", "lung_nsclc", "melanoma", "myeloma", "colon",
             "liver_hcc", "prostate", "sarcoma"]  # fmt: skip
opt = st.none() | st.booleans()


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "cancer.primary": draw(st.sampled_from(PRIMARIES)),
        "patient.kps": draw(st.sampled_from([30, 40, 50, 60, 70, 80, 90, 100])),
        "patient.clinician_survival_estimate_months": draw(
            st.none() | st.sampled_from([1, 2.9, 3, 6, 11.9, 12, 36])
        ),
        "patient.mri_surveillance_planned": draw(opt),
        "patient.admission": draw(st.sampled_from(["elective", "urgent", "emergency"])),
        "lesions.0.levels": draw(st.sampled_from([["T6"], ["L3"], ["T11", "T12"], ["C5"]])),
        "lesions.0.escc": draw(st.sampled_from(["0", "1a", "1b", "1c", "2", "3"])),
        "lesions.0.motor_deficit": draw(opt),
        "lesions.0.functional_radiculopathy": draw(opt),
        "lesions.0.posterior_wall_involved": draw(opt),
        "lesions.0.solitary": draw(opt),
        "lesions.0.deformity_needs_in_situ_contouring": draw(opt),
        "lesions.0.sins.pain": draw(
            st.sampled_from(["mechanical", "occasional_nonmechanical", "none"])
        ),
        "lesions.0.sins.bone_lesion": draw(st.sampled_from(["lytic", "mixed", "blastic"])),
        "lesions.0.sins.alignment": draw(
            st.sampled_from(["subluxation_translation", "de_novo_deformity", "normal"])
        ),
        "lesions.0.sins.collapse": draw(
            st.sampled_from(["gt50", "lt50", "none_gt50_involved", "none"])
        ),
        "lesions.0.sins.posterolateral": draw(st.sampled_from(["bilateral", "unilateral", "none"])),
        "cancer.vertebral_metastases": 2,
    }
    if changes["lesions.0.motor_deficit"] is not True:
        changes["lesions.0.motor_deficit_onset_days"] = ...
    return make_case(**changes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_options_consistent_with_noms(data: dict[str, Any]) -> None:
    a = metspine.assess(data)
    les = a.lesions[0]
    lesion_in = data["lesions"][0]
    recs = {r.code: r for r in les.recommendations}
    live = {c for c, r in recs.items() if r.strength != "avoid"}
    systemic = les.noms.systemic.status
    resistant = les.noms.oncologic.status == "radioresistant"

    # No en bloc for a patient who cannot tolerate surgery, a non-solitary lesion or a
    # radiosensitive tumour; when offered, the survival is long by the engine's own statement.
    if "en_bloc_resection" in live:
        assert systemic == "can_tolerate_surgery"
        assert lesion_in["solitary"] is True and resistant
        est = data["patient"]["clinician_survival_estimate_months"]
        assert est is None or est >= 12

    # No cement augmentation as the answer to translation; no ablation either.
    if lesion_in["sins"]["alignment"] == "subluxation_translation":
        assert "cement_augmentation" not in live
        assert "ablation" not in live

    # LITT only for high-grade compression (ESCC 2-3), radioresistant, without motor deficit.
    if "litt_then_sbrt" in live:
        assert lesion_in["escc"] in ("2", "3") and resistant
        assert lesion_in["motor_deficit"] is False

    # Embolization only for hypervascular tumours, and only before a recommended exposure.
    if "preoperative_embolization" in recs:
        assert histology(data["cancer"]["primary"]).hypervascular is True
        assert any(recs[c].strength == "recommended" for c in SURGICAL_CODES if c in recs)

    # Endoscopic decompression is focal and not the answer to gross instability.
    if "endoscopic_decompression" in live:
        assert len(lesion_in["levels"]) == 1
        assert les.noms.mechanical.status != "unstable"

    # Details use the contract §3 values only.
    for code in ("stabilization", "separation_surgery_then_sbrt"):
        if code in recs:
            d = recs[code].details
            assert d["approach"] in ("percutaneous", "mini_open", "open", None)
            assert d["implant_material"] in ("carbon_fibre_peek", "titanium", "either")
            if d["implant_material"] == "carbon_fibre_peek":
                assert data["patient"]["mri_surveillance_planned"] is True
                assert lesion_in["deformity_needs_in_situ_contouring"] is not True
    if "ablation" in recs:
        assert recs["ablation"].details["modality"] in ("radiofrequency", "cryoablation")

    # A thoracic surgical target always carries the wrong-level safeguard.
    if live & SURGICAL_CODES and any(lv.startswith("T") for lv in lesion_in["levels"]):
        assert any(f.code == "wrong_level_safeguard" for f in a.safety)
    # Every safety item explains itself with references.
    for f in a.safety:
        assert f.text and f.references
