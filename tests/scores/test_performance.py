"""KPS and ECOG as measured or converted (prognosis §8.1 and pitfall 6; contract §3 'kps', 'ecog')."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from metspine.scores.performance import ecog_score, kps_score

# prognosis §8.1, mapping A ("range" table): ECOG → KPS band.
MAPPING_A = {0: (90, 100), 1: (70, 80), 2: (50, 60), 3: (30, 40), 4: (10, 20), 5: (0, 0)}
# prognosis §8.1, mapping B (Buccheri 1996 point crosswalk).
BUCCHERI = {0: 90, 1: 80, 2: 60, 3: 40, 4: 20, 5: 0}


def test_measured_kps_is_reported_as_measured(build) -> None:
    r = kps_score(build.case(patient={"kps": 70}).patient, build.policy())
    assert r.status == "complete"
    assert r.value == 70
    assert r.components[0].input == "measured"
    assert r.components[0].note is None
    assert r.direction == "higher_better"


def test_measured_ecog_is_reported_as_measured(build) -> None:
    r = ecog_score(build.case(patient={"ecog": 3}).patient, build.policy())
    assert r.status == "complete"
    assert r.value == 3
    assert r.components[0].input == "measured"
    assert r.direction == "higher_worse"


def test_both_measured_neither_converted(build) -> None:
    # a recorded KPS 90 next to a recorded ECOG 2 (inconsistent by mapping A) is kept as measured
    p = build.case(patient={"kps": 90, "ecog": 2}).patient
    assert kps_score(p, build.policy()).value == 90
    assert ecog_score(p, build.policy()).value == 2


@pytest.mark.parametrize(("ecog", "band"), sorted(MAPPING_A.items()))
def test_ecog_to_kps_range_crosswalk(build, ecog: int, band: tuple[int, int]) -> None:
    r = kps_score(build.case(patient={"ecog": ecog}).patient, build.policy())
    lo, hi = band
    if lo == hi:
        # ECOG 5 (dead) ↔ KPS 0: a single value, still marked as converted
        assert r.status == "complete"
        assert r.value == lo
    else:
        assert r.status == "incomplete"
        assert r.value is None
        assert r.range == (lo, hi)
        assert r.missing == ["patient.kps"]
    note = r.components[0].note or ""
    assert "converted" in note
    assert f"ECOG {ecog}" in note


@pytest.mark.parametrize(("ecog", "kps"), sorted(BUCCHERI.items()))
def test_ecog_to_kps_buccheri_crosswalk(build, ecog: int, kps: int) -> None:
    r = kps_score(
        build.case(patient={"ecog": ecog}).patient, build.policy(kps_ecog_crosswalk="buccheri")
    )
    assert r.status == "complete"
    assert r.value == kps
    assert "converted" in (r.components[0].note or "")
    assert "buccheri1996_kps_ecog" in r.references


def test_no_crosswalk_means_missing(build) -> None:
    policy = build.policy(kps_ecog_crosswalk="none")
    r = kps_score(build.case(patient={"ecog": 1}).patient, policy)
    assert r.status == "incomplete"
    assert r.value is None
    assert r.missing == ["patient.kps"]
    r = ecog_score(build.case(patient={"kps": 80}).patient, policy)
    assert r.status == "incomplete"
    assert r.missing == ["patient.ecog"]


# mapping A read backwards: every KPS falls in exactly one ECOG band.
KPS_TO_ECOG = {kps: e for e, (lo, hi) in MAPPING_A.items() for kps in {lo, hi}}


@pytest.mark.parametrize(("kps", "ecog"), sorted(KPS_TO_ECOG.items()))
def test_kps_to_ecog_range_crosswalk(build, kps: int, ecog: int) -> None:
    r = ecog_score(build.case(patient={"kps": kps}).patient, build.policy())
    assert r.status == "complete"
    assert r.value == ecog
    assert "converted" in (r.components[0].note or "")


def test_kps_to_ecog_table_covers_every_kps_step() -> None:
    assert sorted(KPS_TO_ECOG) == list(range(0, 101, 10))


def test_neither_recorded(build) -> None:
    p = build.case().patient
    k = kps_score(p, build.policy())
    e = ecog_score(p, build.policy())
    assert (k.status, k.value, k.range, k.missing) == (
        "incomplete",
        None,
        (0, 100),
        ["patient.kps"],
    )
    assert (e.status, e.value, e.range, e.missing) == ("incomplete", None, (0, 5), ["patient.ecog"])


@pytest.mark.parametrize("kps", [75, 105, -10])
def test_impossible_kps_is_refused(build, kps: int) -> None:
    with pytest.raises(ValidationError):
        build.case(patient={"kps": kps})


@pytest.mark.parametrize("ecog", [6, -1])
def test_impossible_ecog_is_refused(build, ecog: int) -> None:
    with pytest.raises(ValidationError):
        build.case(patient={"ecog": ecog})
