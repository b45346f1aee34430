"""Regimen choice per scenario (radiation.md 3.2) and the recommendation details (contract §3)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from metspine.radiation import (
    Course,
    RadiationPolicy,
    Scenario,
    radiation_details,
    scenario_family,
    select_regimen,
)

POLICY = RadiationPolicy()

# radiation.md 3.2 -> (family, preferred dose, fractions)
PREFERRED = {
    Scenario.PALLIATIVE_PAIN: ("cebrt", 8.0, 1),
    Scenario.DE_NOVO_SBRT: ("sbrt", 24.0, 2),
    Scenario.DE_NOVO_SBRT_ABLATIVE: ("sbrt", 24.0, 1),
    Scenario.POSTOP_SBRT: ("sbrt", 27.0, 3),  # inside Laufer's 24-30 Gy/3 band
    Scenario.POSTOP_CEBRT: ("cebrt", 30.0, 10),
    Scenario.REIRRADIATION_SBRT: ("sbrt", 24.0, 2),
    Scenario.RADIOSENSITIVE_CEBRT: ("cebrt", 20.0, 5),
    Scenario.MSCC_CEBRT: ("cebrt", 20.0, 5),
}
EVIDENCE = {
    Scenario.PALLIATIVE_PAIN: {"rich2018_fractionation_review", "rtog0631_ryu2023"},
    Scenario.DE_NOVO_SBRT: {"sc24_sahgal2021"},
    Scenario.DE_NOVO_SBRT_ABLATIVE: {"zelefsky2021_24gy_vs_3fx", "yamada2017_histology"},
    Scenario.POSTOP_SBRT: {"laufer2013_separation", "patchell2005"},
    Scenario.POSTOP_CEBRT: {"patchell2005"},
    Scenario.REIRRADIATION_SBRT: {"sahgal2012_reirradiation"},
    Scenario.RADIOSENSITIVE_CEBRT: {"laufer2013_noms"},
    Scenario.MSCC_CEBRT: {"scorad3_hoskin2019"},
}


@pytest.mark.parametrize("scenario", list(Scenario))
def test_preferred_regimen_per_scenario(scenario: Scenario) -> None:
    family, dose, n = PREFERRED[scenario]
    choice = select_regimen(scenario, POLICY)
    assert scenario_family(scenario) == family
    assert (choice.preferred.regimen.dose_gy, choice.preferred.regimen.fractions) == (dose, n)
    refs = {k for r in choice.preferred.reasons for k in r.references}
    assert EVIDENCE[scenario] <= refs
    assert all(a.regimen.family == family for a in choice.alternatives)
    assert choice.preferred.regimen.id not in {a.regimen.id for a in choice.alternatives}


def test_alternatives_carry_their_evidence() -> None:
    choice = select_regimen(Scenario.POSTOP_SBRT, POLICY)
    by_id = {a.regimen.id: a for a in choice.alternatives}
    assert "al_omair2013_separation" in by_id["sbrt_24gy_2fx"].reasons[0].references
    assert {"sbrt_24gy_3fx", "sbrt_30gy_3fx", "sbrt_24gy_1fx"} <= set(by_id)


def test_poor_prognosis_switches_to_a_single_fraction() -> None:
    for scenario in (Scenario.MSCC_CEBRT, Scenario.RADIOSENSITIVE_CEBRT):
        assert (
            select_regimen(scenario, POLICY, poor_prognosis=True).preferred.regimen.id
            == "cebrt_8gy_1fx"
        )
        assert (
            select_regimen(scenario, POLICY, poor_prognosis=False).preferred.regimen.id
            == "cebrt_20gy_5fx"
        )
    unknown = select_regimen(Scenario.MSCC_CEBRT, POLICY)
    assert any("unknown" in r.text for r in unknown.reasons)


def test_high_vcf_risk_prefers_multi_fraction_for_ablative_sbrt() -> None:
    choice = select_regimen(Scenario.DE_NOVO_SBRT_ABLATIVE, POLICY, vcf_risk_high=True)
    assert choice.preferred.regimen.id == "sbrt_24gy_2fx"
    assert "sahgal2013_vcf" in choice.preferred.reasons[0].references


def test_policy_can_change_the_preferred_regimen() -> None:
    policy = RadiationPolicy(preferred_regimens={"postop_sbrt": "sbrt_30gy_3fx"})
    assert select_regimen(Scenario.POSTOP_SBRT, policy).preferred.regimen.id == "sbrt_30gy_3fx"
    with pytest.raises(ValidationError):
        RadiationPolicy(preferred_regimens={"postop_sbrt": "cebrt_8gy_1fx"})
    with pytest.raises(ValidationError):
        RadiationPolicy(preferred_regimens={"no_such_scenario": "sbrt_30gy_3fx"})


def test_details_de_novo_sbrt() -> None:
    details = radiation_details("sbrt", Scenario.DE_NOVO_SBRT, [], date(2026, 11, 27), POLICY)
    out = details.as_details()
    assert out["regimen"] == {"dose_gy": 24.0, "fractions": 2, "dose_per_fraction_gy": 12.0}
    assert out["cord_pmax_gy"] == 17.0  # HyTEC / Sahgal 2013, 2 fractions
    assert out["limit_source"] == "hytec2021_spine_sbrt"
    assert "reirradiation" not in out
    assert details.reasons


def test_details_reirradiation_user_story() -> None:
    # 20 Gy/5 eight months ago -> budget 25 Gy EQD2 -> 24 Gy/2 plan: cord Pmax 12.28 Gy (< 17.0).
    details = radiation_details(
        "sbrt",
        Scenario.REIRRADIATION_SBRT,
        [Course(20, 5, date(2026, 3, 27))],
        date(2026, 11, 27),
        POLICY,
    )
    out = details.as_details()
    assert out["cord_pmax_gy"] == 12.28
    assert out["limit_source"] == "sahgal2012_reirradiation"
    assert out["reirradiation"] == {
        "prior_eqd2_gy": 30.0,
        "cumulative_limit_eqd2_gy": 70.0,
        "remaining_eqd2_gy": 25.0,
        "interval_months": 8,
        "interval_ok": True,
    }


def test_details_reirradiation_incomplete_gives_no_cord_limit() -> None:
    policy = RadiationPolicy(prior_cord_dose_when_unrecorded="unknown")
    details = radiation_details(
        "sbrt",
        Scenario.REIRRADIATION_SBRT,
        [Course(20, 5, date(2026, 3, 27))],
        date(2026, 11, 27),
        policy,
    )
    assert details.cord_pmax_gy is None and details.limit_source is None
    assert "prior_courses[0].cord_max_eqd2_gy" in details.missing
    no_prior = radiation_details(
        "sbrt", Scenario.REIRRADIATION_SBRT, [], date(2026, 11, 27), POLICY
    )
    assert no_prior.cord_pmax_gy is None and no_prior.missing == ("prior_courses",)


def test_details_cebrt() -> None:
    out = radiation_details(
        "cebrt", Scenario.MSCC_CEBRT, [], date(2026, 11, 27), POLICY
    ).as_details()
    assert out["regimen"] == {"dose_gy": 20.0, "fractions": 5, "dose_per_fraction_gy": 4.0}
    assert out["cord_pmax_gy"] == 25.3
    ten = radiation_details("cebrt", Scenario.POSTOP_CEBRT, [], date(2026, 11, 27), POLICY)
    assert ten.cord_pmax_gy is None  # no cord point-max limit is given for 10 fractions
    # cEBRT 20/5 over a prior 30/10: cord assumed at prescription, 30 EQD2 > 25 cap: does not fit.
    over = radiation_details(
        "cebrt", Scenario.MSCC_CEBRT, [Course(30, 10, date(2025, 1, 1))], date(2026, 1, 1), POLICY
    )
    assert over.reirradiation is not None and over.reirradiation.plan is not None
    assert over.reirradiation.plan.fits is False


def test_family_must_match_the_scenario() -> None:
    with pytest.raises(ValueError, match="family"):
        radiation_details("cebrt", Scenario.DE_NOVO_SBRT, [], date(2026, 11, 27), POLICY)
