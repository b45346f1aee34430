"""VCF risk after SBRT (Sahgal 2013 JCO): dose bands at their boundaries, drivers, missing inputs."""

from __future__ import annotations

import pytest

from metspine.radiation import dose_band, vcf_risk

CLEAN = {"lytic": False, "baseline_vcf": False, "misalignment": False}


@pytest.mark.parametrize(
    ("d", "band"),
    # Sahgal 2013: <= 19 Gy, 20-23 Gy, >= 24 Gy per fraction.
    [(8, "lt20"), (19, "lt20"), (19.99, "lt20"), (20, "20_to_23"), (23, "20_to_23"),
     (23.99, "20_to_23"), (24, "ge24"), (30, "ge24")],
)  # fmt: skip
def test_dose_bands_at_their_boundaries(d: float, band: str) -> None:
    assert dose_band(d) == band


@pytest.mark.parametrize(
    ("d", "level"), [(19, "low"), (20, "intermediate"), (23, "intermediate"), (24, "high")]
)
def test_dose_alone(d: float, level: str) -> None:
    risk = vcf_risk(d, **CLEAN)
    assert risk.level == level
    assert risk.missing == ()
    assert risk.consider_cement_augmentation is False


@pytest.mark.parametrize("driver", ["lytic", "baseline_vcf", "misalignment"])
def test_structural_driver_raises_the_level(driver: str) -> None:
    inputs = {**CLEAN, driver: True}
    assert vcf_risk(19, **inputs).level == "intermediate"
    assert vcf_risk(20, **inputs).level == "high"  # authors: caution at >= 20 Gy with these
    assert driver in vcf_risk(20, **inputs).drivers


def test_missing_inputs_give_a_range() -> None:
    risk = vcf_risk(20, lytic=None, baseline_vcf=False, misalignment=False)
    assert risk.level is None
    assert risk.level_range == ("intermediate", "high")
    assert "lytic" in risk.missing
    # At >= 24 Gy the level is high whatever the unknowns are.
    assert vcf_risk(24, lytic=None, baseline_vcf=None, misalignment=None).level == "high"
    unknown_dose = vcf_risk(None, **CLEAN)
    assert unknown_dose.level_range == ("low", "high")
    assert unknown_dose.missing[0] == "dose_per_fraction_gy"


def test_cement_augmentation() -> None:
    assert vcf_risk(24, **{**CLEAN, "baseline_vcf": True}).consider_cement_augmentation is True
    assert vcf_risk(12, **{**CLEAN, "misalignment": True}).consider_cement_augmentation is True
    lytic = {**CLEAN, "lytic": True}
    assert vcf_risk(24, **lytic, body_involvement_gt40pct=True).consider_cement_augmentation is True
    assert (
        vcf_risk(24, **lytic, body_involvement_gt40pct=False).consider_cement_augmentation is False
    )
    open_case = vcf_risk(24, **lytic)
    assert open_case.consider_cement_augmentation is None
    assert "body_involvement_gt40pct" in open_case.missing
    refs = {
        k for r in vcf_risk(24, **{**CLEAN, "baseline_vcf": True}).reasons for k in r.references
    }
    assert {"huo2017_spine_sbrt_review", "sahgal2013_vcf"} <= refs


def test_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="dose_per_fraction_gy"):
        vcf_risk(-1, **CLEAN)
    with pytest.raises(ValueError, match="lytic"):
        vcf_risk(20, lytic="yes", baseline_vcf=False, misalignment=False)  # type: ignore[arg-type]
