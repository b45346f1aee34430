"""Safety rules (spec clinical §8; spec safety-timing §1, §3, §4), each tested at its boundaries.

Dates are worked from assessed_on 2026-11-27 and a planned surgery on 2026-12-31.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from tests.conftest import make_case

import metspine
from metspine.model.assessment import Assessment, SafetyFlag
from metspine.model.policy import Policy, SafetyPolicy

SURGERY = date(2026, 12, 31)
HIGH_GRADE = {"lesions.0.escc": "2"}  # separation surgery recommended: a surgical candidate


def run(policy: Policy | None = None, **changes: Any) -> Assessment:
    return metspine.assess(make_case(**changes), policy)


def flags(a: Assessment, code: str) -> list[SafetyFlag]:
    return [f for f in a.safety if f.code == code]


def one(a: Assessment, code: str) -> SafetyFlag:
    found = flags(a, code)
    assert len(found) == 1, [f.text for f in a.safety]
    return found[0]


def before(days: int) -> str:
    return (SURGERY - timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("days", "severity"), [(6, "critical"), (7, "warning"), (13, "warning"), (14, "info")]
)
def test_rt_then_surgery_interval_boundaries(days: int, severity: str) -> None:
    # assessed_on must not precede the last radiation: move it to the surgery date.
    a = run(
        **{
            "assessed_on": SURGERY.isoformat(),
            "events": {"last_radiation_end": before(days), "planned_surgery": SURGERY.isoformat()},
        }
    )
    f = one(a, "rt_surgery_interval")
    assert f.severity == severity
    assert f"{days} days" in f.text
    assert "itshayek2010_timing" in f.references


@pytest.mark.parametrize(
    ("days", "severity"), [(6, "critical"), (7, "warning"), (13, "warning"), (14, "info")]
)
def test_surgery_then_rt_interval_boundaries(days: int, severity: str) -> None:
    rt = SURGERY + timedelta(days=days)
    a = run(
        **{
            "events": {
                "planned_surgery": SURGERY.isoformat(),
                "planned_radiation_start": rt.isoformat(),
            }
        }
    )
    assert one(a, "rt_surgery_interval").severity == severity


def test_stricter_postoperative_window_from_policy() -> None:
    pol = Policy(safety=SafetyPolicy(postop_rt_caution_below_days=21))  # jarvers2021_wound
    rt = SURGERY + timedelta(days=20)
    ev = {"planned_surgery": SURGERY.isoformat(), "planned_radiation_start": rt.isoformat()}
    f = one(run(pol, events=ev), "rt_surgery_interval")
    assert f.severity == "warning"
    assert "jarvers2021_wound" in f.references
    rt = SURGERY + timedelta(days=21)
    ev["planned_radiation_start"] = rt.isoformat()
    assert one(run(pol, events=ev), "rt_surgery_interval").severity == "info"


def agent(name: str, days: int) -> dict[str, Any]:
    # assessed_on = surgery date, so every last dose lies in the past.
    return {
        "assessed_on": SURGERY.isoformat(),
        "events": {
            "planned_surgery": SURGERY.isoformat(),
            "systemic_therapy": [{"agent": name, "last_dose": before(days)}],
        },
    }


@pytest.mark.parametrize(
    ("days", "severity"), [(27, "critical"), (28, "warning"), (41, "warning"), (42, "info")]
)
def test_bevacizumab_label_28_and_guideline_42_days(days: int, severity: str) -> None:
    f = one(run(**HIGH_GRADE, **agent("bevacizumab", days)), "antiangiogenic_timing")
    assert f.severity == severity
    assert "bevacizumab_uspi" in f.references
    assert "gordon2009_bevacizumab" in f.references  # stricter reading shown beside the label


@pytest.mark.parametrize(("days", "severity"), [(27, "critical"), (28, "info")])
def test_bevacizumab_label_only_policy(days: int, severity: str) -> None:
    pol = Policy(safety=SafetyPolicy(antiangiogenic_hold="label"))
    f = one(run(pol, **HIGH_GRADE, **agent("Avastin", days)), "antiangiogenic_timing")
    assert f.severity == severity


def test_bevacizumab_restart_28_days_after_surgery() -> None:
    f = one(run(**HIGH_GRADE, **agent("bevacizumab", 60)), "antiangiogenic_timing")
    assert "no sooner than 28 days" in f.text and "2027-01-28" in f.text


@pytest.mark.parametrize(
    ("drug", "hold", "ref"),
    [("sunitinib", 21, "sunitinib_uspi"), ("axitinib", 2, "axitinib_uspi"),
     ("pazopanib", 7, "pazopanib_uspi"), ("sorafenib", 10, "sorafenib_uspi"),
     ("cabozantinib", 21, "cabozantinib_uspi"), ("ramucirumab", 28, "ramucirumab_uspi")],
)  # fmt: skip
def test_vegfr_tki_label_holds(drug: str, hold: int, ref: str) -> None:
    below = one(run(**HIGH_GRADE, **agent(drug, hold - 1)), "antiangiogenic_timing")
    at = one(run(**HIGH_GRADE, **agent(drug, hold)), "antiangiogenic_timing")
    assert below.severity == "critical" and at.severity == "info"
    assert ref in below.references


def test_urgent_admission_downgrades_a_hold_to_warning() -> None:
    a = run(**HIGH_GRADE, **agent("bevacizumab", 10), **{"patient.admission": "emergency"})
    f = one(a, "antiangiogenic_timing")
    assert f.severity == "warning" and "overrides the hold" in f.text


def test_hold_without_surgery_date_gives_the_earliest_date() -> None:
    c = make_case(**HIGH_GRADE)
    c["events"] = {"systemic_therapy": [{"agent": "sunitinib", "last_dose": "2026-11-20"}]}
    f = one(metspine.assess(c), "antiangiogenic_timing")
    assert f.severity == "info" and "2026-12-11" in f.text  # 2026-11-20 + 21 days


@pytest.mark.parametrize(("days", "severity"), [(20, "warning"), (21, "info")])
def test_cytotoxic_chemotherapy_21_days(days: int, severity: str) -> None:
    f = one(run(**HIGH_GRADE, **agent("docetaxel", days)), "systemic_therapy_timing")
    assert f.severity == severity
    assert "jarvers2021_wound" in f.references


def test_checkpoint_inhibitor_no_hold_endocrine_checks() -> None:
    f = one(run(**HIGH_GRADE, **agent("pembrolizumab", 3)), "systemic_therapy_timing")
    assert f.severity == "info" and "no hold" in f.text and "cortisol" in f.text


def test_antiresorptive_no_hold_and_denosumab_calcium() -> None:
    f = one(run(**HIGH_GRADE, **agent("denosumab", 3)), "systemic_therapy_timing")
    assert f.severity == "info" and "no hold for spine surgery" in f.text and "calcium" in f.text
    z = one(run(**HIGH_GRADE, **agent("zoledronic acid", 3)), "systemic_therapy_timing")
    assert "calcium" not in z.text


def test_unknown_agent_is_reported_not_guessed() -> None:
    f = one(run(**HIGH_GRADE, **agent("mysterymab", 3)), "systemic_therapy_timing")
    assert f.severity == "warning" and "no surgical or SBRT hold" in f.text


def test_no_drug_flags_without_a_procedure() -> None:
    a = run(
        **{"events": {"systemic_therapy": [{"agent": "bevacizumab", "last_dose": "2026-11-20"}]}}
    )
    # Base case: SBRT recommended but no SBRT date → no timing to check; no surgery option.
    assert not flags(a, "antiangiogenic_timing")


def test_sbrt_interval_for_vegf_inhibitor() -> None:
    ev = {"planned_radiation_start": "2026-12-01",
          "systemic_therapy": [{"agent": "sunitinib", "last_dose": "2026-11-25"}]}  # fmt: skip
    f = one(run(events=ev), "antiangiogenic_timing")  # 6 days < 7 (kroeze2023_oligocare)
    assert f.severity == "warning" and "kroeze2023_oligocare" in f.references
    ev["systemic_therapy"] = [{"agent": "sunitinib", "last_dose": "2026-11-24"}]
    assert not flags(run(events=ev), "antiangiogenic_timing")


DEFICIT = {"lesions.0.escc": "3", "lesions.0.motor_deficit": True, "cancer.primary": "breast"}


def test_steroids_offered_16_mg_for_deficit() -> None:
    f = one(run(**DEFICIT), "steroid_regimen")
    assert f.severity == "warning" and "16 mg" in f.text and "nice_ng234" in f.references
    assert "bolus" not in f.text


def test_bolus_is_a_policy_option() -> None:
    pol = Policy(safety=SafetyPolicy(steroid_bolus="iv_10mg"))
    f = one(run(pol, **DEFICIT), "steroid_regimen")
    assert "10 mg IV bolus" in f.text and "vecht1989_dexamethasone" in f.references


@pytest.mark.parametrize(
    ("dose", "severity", "phrase"),
    [(16, "info", "standard regimen"), (24, "warning", "above the standard"),
     (96, "warning", "High-dose regimen")],
)  # fmt: skip
def test_steroid_dose_flags(dose: float, severity: str, phrase: str) -> None:
    c = make_case(**DEFICIT)
    c["events"] = {"steroids": {"drug": "dexamethasone", "dose_mg_day": dose}}
    f = one(metspine.assess(c), "steroid_regimen")
    assert f.severity == severity and phrase in f.text


def test_no_routine_steroids_without_neurological_signs() -> None:
    f = one(run(**{"lesions.0.escc": "2", "cancer.primary": "breast"}), "steroid_regimen")
    assert f.severity == "info" and "not routinely" in f.text


def test_suspected_lymphoma_prompt_never_blocks_with_deficit() -> None:
    stable = run(**{"cancer.suspected_lymphoma": True, "cancer.tissue_diagnosis": False})
    assert "biopsy before steroids" in one(stable, "tissue_before_steroids").text
    deficit = run(
        **DEFICIT, **{"cancer.suspected_lymphoma": True, "cancer.tissue_diagnosis": False}
    )
    f = one(deficit, "tissue_before_steroids")
    assert "do not delay dexamethasone" in f.text
    assert one(deficit, "steroid_regimen").severity == "warning"  # steroids still offered
    off = Policy(safety=SafetyPolicy(tissue_before_steroids_prompt=False))
    assert not flags(run(off, **{"cancer.suspected_lymphoma": True}), "tissue_before_steroids")


def test_frailty_statement_for_surgical_candidate() -> None:
    f = one(run(**HIGH_GRADE), "frailty_surgical_risk")
    assert f.severity == "info" and "mFI-5 0" in f.text and "MSTFI 0" in f.text
    frail = run(**HIGH_GRADE, **{"patient.comorbidities.diabetes": True,
                                 "patient.comorbidities.chf": True})  # fmt: skip
    assert one(frail, "frailty_surgical_risk").severity == "warning"  # mFI-5 2 ≥ 2


@pytest.mark.parametrize(
    ("pain", "bone", "expected"),
    # T6 semi-rigid 1 + posterolateral none 0 + normal 0 + no collapse 0:
    [("none", "blastic", None),  # 1 + 0 + 0 = 1
     ("mechanical", "lytic", None),  # 1 + 3 + 2 = 6: stable
     ("mechanical", "lytic", "info")],  # with unilateral posterolateral +1 = 7
)  # fmt: skip
def test_sins_consult_threshold_7(pain: str, bone: str, expected: str | None) -> None:
    post = "unilateral" if expected else "none"
    a = run(**{"lesions.0.sins.pain": pain, "lesions.0.sins.bone_lesion": bone,
               "lesions.0.sins.posterolateral": post})  # fmt: skip
    found = flags(a, "sins_surgical_consult")
    assert (found[0].severity if found else None) == expected


@pytest.mark.parametrize(
    ("collapse", "post", "total", "severity"),
    # 1 (T6) + 3 (mechanical) + 2 (lytic) = 6, plus collapse and posterolateral:
    [("none_gt50_involved", "unilateral", 8, "info"), ("lt50", "unilateral", 9, "info"),
     ("gt50", "unilateral", 10, "warning"), ("gt50", "bilateral", 12, "warning")],
)  # fmt: skip
def test_sins_consult_10_to_12_flagged_more_strongly(
    collapse: str, post: str, total: int, severity: str
) -> None:
    a = run(**{"lesions.0.sins.pain": "mechanical", "lesions.0.sins.bone_lesion": "lytic",
               "lesions.0.sins.collapse": collapse, "lesions.0.sins.posterolateral": post})  # fmt: skip
    assert a.lesions[0].scores["sins"].value == total
    assert one(a, "sins_surgical_consult").severity == severity


def test_sins_13_is_critical() -> None:
    a = run(**{"lesions.0.sins.pain": "mechanical", "lesions.0.sins.bone_lesion": "lytic",
               "lesions.0.sins.alignment": "de_novo_deformity", "lesions.0.sins.collapse": "lt50",
               "lesions.0.sins.posterolateral": "bilateral"})  # fmt: skip
    assert a.lesions[0].scores["sins"].value == 1 + 3 + 2 + 2 + 2 + 3  # 13
    assert one(a, "sins_surgical_consult").severity == "critical"


def test_wrong_level_safeguard_thoracic_only() -> None:
    f = one(run(**HIGH_GRADE), "wrong_level_safeguard")
    assert f.lesion_id == "L1" and "fiducial" in f.text and "mody2008_wrong_level" in f.references
    lumbar = run(**HIGH_GRADE, **{"lesions.0.levels": ["L3"]})
    assert not flags(lumbar, "wrong_level_safeguard")
    assert not flags(run(), "wrong_level_safeguard")  # no surgery planned


def test_vte_and_readmission_reminders_for_surgical_candidates_only() -> None:
    a = run(**HIGH_GRADE)
    assert one(a, "vte_prophylaxis").severity == "info"
    assert "21.9 %" in one(a, "readmission_risk").text
    assert not flags(run(), "vte_prophylaxis")


@pytest.mark.parametrize(
    ("admission", "severity"), [("elective", None), ("urgent", "info"), ("emergency", "warning")]
)
def test_emergency_presentation(admission: str, severity: str | None) -> None:
    found = flags(run(**{"patient.admission": admission}), "emergency_presentation")
    assert (found[0].severity if found else None) == severity


def test_safety_codes_are_contract_codes() -> None:
    allowed = {"rt_surgery_interval", "antiangiogenic_timing", "steroid_regimen",
               "tissue_before_steroids", "frailty_surgical_risk", "sins_surgical_consult",
               "wrong_level_safeguard", "vte_prophylaxis", "reirradiation", "vcf_risk",
               "lq_extrapolation", "emergency_presentation", "systemic_therapy_timing",
               "readmission_risk"}  # fmt: skip
    for f in sorted((metspine.load_case(p) for p in __import__("tests.conftest").conftest
                     .EXAMPLES.glob("*.yaml")), key=lambda c: c.id):  # fmt: skip
        for flag in metspine.assess(f).safety:
            assert flag.code in allowed and flag.references
