"""Properties of every score, checked with hypothesis.

- Totals and ranges stay within each score's published range, and bands follow contract §3.
- SINS never decreases when one item moves to a more severe category.
- Soundness of incomplete results: take a complete case, forget a few inputs, and every way of filling
  them back in (enumerated when few, sampled otherwise) lands inside what the partial result claimed:
  its value when complete, its range when incomplete, and its band whenever it names one.

Completions respect what the case file allows (e.g. no Katagiri pattern without visceral disease) and,
under the 'range' crosswalk, keep KPS and ECOG consistent with prognosis §8.1 mapping A: a crosswalk is
a model of the other scale, and a KPS that contradicts the recorded ECOG is not a completion of it.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from metspine.knowledge.histology import histology_codes
from metspine.model.assessment import ScoreResult
from metspine.model.case import Case
from metspine.model.levels import LEVELS
from metspine.model.policy import Policy
from metspine.scores.bauer import bauer, bauer_modified
from metspine.scores.frailty import mfi5, mstfi
from metspine.scores.katagiri import katagiri
from metspine.scores.nesms import nesms
from metspine.scores.sins import sins
from metspine.scores.tokuhashi import tokuhashi
from metspine.scores.tomita import tomita
from metspine.scores.van_der_linden import van_der_linden

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Published ranges (prognosis §1, clinical §2.1, §8.1).
RANGES = {
    "sins": (0, 18),
    "tokuhashi_revised": (0, 15),
    "tomita": (2, 10),
    "bauer": (0, 5),
    "bauer_modified": (0, 4),
    "nesms": (0, 3),
    "katagiri_new": (0, 10),
    "van_der_linden": (0, 6),
    "mfi5": (0, 5),
    "mstfi": (0, 9),
}


def band_table(score: str, policy: Policy) -> list[tuple[int, int, str]]:
    """Contract §3 (original Bauer from prognosis §4); mFI-5 follows the Policy cut-off."""
    cut = policy.mfi5_frail_min
    return {
        "sins": [(0, 6, "stable"), (7, 12, "potentially_unstable"), (13, 18, "unstable")],
        "tokuhashi_revised": [(0, 8, "lt_6_months"), (9, 11, "ge_6_months"),
                              (12, 15, "ge_12_months")],
        "tomita": [(2, 3, "wide_marginal_excision"), (4, 5, "marginal_intralesional_excision"),
                   (6, 7, "palliative_surgery"), (8, 10, "supportive_care")],
        "bauer": [(0, 1, "poor"), (2, 3, "moderate"), (4, 5, "good")],
        "bauer_modified": [(0, 1, "poor"), (2, 2, "moderate"), (3, 4, "good")],
        "nesms": [(0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 3, "3")],
        "katagiri_new": [(0, 3, "low"), (4, 6, "intermediate"), (7, 10, "high")],
        "van_der_linden": [(0, 3, "A"), (4, 5, "B"), (6, 6, "C")],
        "mfi5": [(0, cut - 1, "not_frail"), (cut, 5, "frail")],
        "mstfi": [(0, 0, "not_frail"), (1, 1, "mild"), (2, 2, "moderate"), (3, 9, "severe")],
    }[score]  # fmt: skip


def band_of(score: str, value: int, policy: Policy) -> str:
    return next(code for lo, hi, code in band_table(score, policy) if lo <= value <= hi)


def all_scores(case: Case, policy: Policy) -> dict[str, ScoreResult]:
    out = {
        "tokuhashi_revised": tokuhashi(case, policy),
        "tomita": tomita(case),
        "bauer": bauer(case),
        "bauer_modified": bauer_modified(case),
        "nesms": nesms(case, policy),
        "katagiri_new": katagiri(case, policy),
        "van_der_linden": van_der_linden(case, policy),
        "mfi5": mfi5(case.patient, policy),
        "mstfi": mstfi(case.patient, policy),
    }
    for i, lesion in enumerate(case.lesions):
        out[f"sins[{i}]"] = sins(lesion, i)
    return out


def base_name(key: str) -> str:
    return key.split("[")[0]


def bounds(r: ScoreResult) -> tuple[float, float]:
    if r.status == "complete":
        assert r.value is not None
        return (r.value, r.value)
    assert r.value is None
    assert r.range is not None
    return r.range


# --- the inputs and the values each may take -----------------------------------------------------

# prognosis §8.1 mapping A
MAPPING_A = {0: {90, 100}, 1: {70, 80}, 2: {50, 60}, 3: {30, 40}, 4: {10, 20}, 5: {0}}
COMORBIDITIES = ["diabetes", "hypertension_treated", "copd_or_pneumonia", "chf",
                 "dependent_functional_status", "anemia", "chronic_lung_disease", "coagulopathy",
                 "electrolyte_abnormality", "pulmonary_circulation_disorder", "renal_failure",
                 "malnutrition"]  # fmt: skip
SINS_ORDER = {  # least to most severe (clinical §2.1)
    "pain": ["none", "occasional_nonmechanical", "mechanical"],
    "bone_lesion": ["blastic", "mixed", "lytic"],
    "alignment": ["normal", "de_novo_deformity", "subluxation_translation"],
    "collapse": ["none", "none_gt50_involved", "lt50", "gt50"],
    "posterolateral": ["none", "unilateral", "bilateral"],
}
# Lab values on either side of every threshold the scores use (NESMS 3.5, Katagiri 3.7, …).
DOMAINS: dict[str, list[Any]] = {
    "patient.kps": list(range(0, 101, 10)),
    "patient.ecog": [0, 1, 2, 3, 4, 5],
    "patient.frankel": ["A", "B", "C", "D", "E"],
    "patient.ambulation": ["independent", "with_aid", "non_ambulatory"],
    "patient.labs.albumin_g_dl": [3.0, 3.6, 4.0],
    "patient.labs.crp_mg_dl": [0.2, 0.5],
    "patient.labs.ldh_iu_l": [200, 300],
    "patient.labs.platelets_10e3_ul": [50, 200],
    "patient.labs.calcium_mg_dl": [9.5, 11.0],
    "patient.labs.bilirubin_mg_dl": [0.5, 2.0],
    **{f"patient.comorbidities.{k}": [False, True] for k in COMORBIDITIES},
    "patient.admission": ["elective", "urgent", "emergency"],
    "patient.anterior_or_combined_approach_planned": [False, True],
    "cancer.primary": list(histology_codes()),
    "cancer.hormone_dependent": [False, True],
    "cancer.targeted_therapy": [False, True],
    "cancer.visceral_metastases": ["none", "removable", "unremovable"],
    "cancer.visceral_pattern": ["nodular", "disseminated"],
    "cancer.brain_metastases": [False, True],
    "cancer.extraspinal_bone_metastases": [0, 1, 2, 3, 5],
    "cancer.vertebral_metastases": [1, 2, 3, 4, 5, 7],
    "cancer.pathological_fracture": [False, True],
    "cancer.prior_chemotherapy": [False, True],
    **{f"lesions.0.sins.{k}": v for k, v in SINS_ORDER.items()},
}


def get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node.get(part)
        if node is None:
            return None
    return node


def put(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


@st.composite
def full_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A case with every input the scores read, consistent with itself."""
    ecog = draw(st.sampled_from(DOMAINS["patient.ecog"]))
    kps = draw(st.sampled_from(sorted(MAPPING_A[ecog])))
    start = draw(st.integers(0, len(LEVELS) - 1))
    length = draw(st.integers(1, min(3, len(LEVELS) - start)))
    lesions = [
        {
            "id": "A",
            "levels": list(LEVELS[start : start + length]),
            "sins": {k: draw(st.sampled_from(v)) for k, v in SINS_ORDER.items()},
        }
    ]
    end = start + length
    if end + 1 < len(LEVELS) and draw(st.booleans()):
        s2 = draw(st.integers(end + 1, len(LEVELS) - 1))
        lesions.append(
            {
                "id": "B",
                "levels": [LEVELS[s2]],
                "sins": {k: draw(st.sampled_from(v)) for k, v in SINS_ORDER.items()},
            }
        )
    n_levels = sum(len(lesion["levels"]) for lesion in lesions)
    visceral = draw(st.sampled_from(DOMAINS["cancer.visceral_metastases"]))
    data: dict[str, Any] = {
        "format": "metspine.case/1",
        "id": "prop",
        "patient": {
            "kps": kps,
            "ecog": ecog,
            "frankel": draw(st.sampled_from(DOMAINS["patient.frankel"])),
            "ambulation": draw(st.sampled_from(DOMAINS["patient.ambulation"])),
            "labs": {},
            "comorbidities": {k: draw(st.booleans()) for k in COMORBIDITIES},
            "admission": draw(st.sampled_from(DOMAINS["patient.admission"])),
            "anterior_or_combined_approach_planned": draw(st.booleans()),
        },
        "cancer": {
            "primary": draw(st.sampled_from(DOMAINS["cancer.primary"])),
            "hormone_dependent": draw(st.booleans()),
            "targeted_therapy": draw(st.booleans()),
            "visceral_metastases": visceral,
            "brain_metastases": draw(st.booleans()),
            "extraspinal_bone_metastases": draw(
                st.sampled_from(DOMAINS["cancer.extraspinal_bone_metastases"])
            ),
            "vertebral_metastases": draw(st.integers(n_levels, n_levels + 4)),
            "pathological_fracture": draw(st.booleans()),
            "prior_chemotherapy": draw(st.booleans()),
        },
        "lesions": lesions,
    }
    for lab in ("albumin_g_dl", "crp_mg_dl", "ldh_iu_l", "platelets_10e3_ul", "calcium_mg_dl",
                "bilirubin_mg_dl"):  # fmt: skip
        data["patient"]["labs"][lab] = draw(st.sampled_from(DOMAINS[f"patient.labs.{lab}"]))
    if visceral != "none":
        data["cancer"]["visceral_pattern"] = draw(st.sampled_from(["nodular", "disseminated"]))
    return data


policies = st.builds(
    Policy,
    kps_ecog_crosswalk=st.sampled_from(["range", "none"]),
    mfi5_frail_min=st.sampled_from([2, 3]),
)


def consistent(data: dict[str, Any], policy: Policy) -> bool:
    """KPS and ECOG agree by mapping A whenever both are present (see the module docstring)."""
    kps, ecog = get(data, "patient.kps"), get(data, "patient.ecog")
    if policy.kps_ecog_crosswalk == "range" and kps is not None and ecog is not None:
        return kps in MAPPING_A[ecog]
    return True


def validate(data: dict[str, Any]) -> Case | None:
    try:
        return Case.model_validate(data)
    except ValidationError:
        return None


# --- 1. published ranges and bands ----------------------------------------------------------------


def check_band(key: str, r: ScoreResult, policy: Policy) -> None:
    name = base_name(key)
    lo, hi = bounds(r)
    pub_lo, pub_hi = RANGES[name]
    assert pub_lo <= lo <= hi <= pub_hi, (key, r.range, r.value)
    bands = [band_of(name, v, policy) for v in range(int(lo), int(hi) + 1)]
    distinct = list(dict.fromkeys(bands))
    assert r.possible_bands == distinct, (key, r)
    assert r.band == (distinct[0] if len(distinct) == 1 else None), (key, r)


@SETTINGS
@given(full=full_cases(), policy=policies)
def test_complete_cases_stay_in_published_range_with_contract_bands(full, policy) -> None:
    case = Case.model_validate(full)
    for key, r in all_scores(case, policy).items():
        check_band(key, r, policy)


@SETTINGS
@given(
    full=full_cases(),
    policy=policies,
    forget=st.lists(st.sampled_from(sorted(DOMAINS)), max_size=8, unique=True),
)
def test_incomplete_cases_stay_in_published_range_with_contract_bands(full, policy, forget) -> None:
    data = copy.deepcopy(full)
    for path in forget:
        put(data, path, None)
    case = Case.model_validate(data)
    for key, r in all_scores(case, policy).items():
        check_band(key, r, policy)
        if r.status == "incomplete":
            assert r.missing, (key, r)


# --- 2. SINS monotone in each item's severity ------------------------------------------------------

LOCATION_ORDER = ["S3", "T6", "L3", "T11"]  # rigid 0 < semi-rigid 1 < mobile 2 < junctional 3

sins_items = st.fixed_dictionaries(
    {k: st.one_of(st.none(), st.sampled_from(v)) for k, v in SINS_ORDER.items()}
)


def sins_bounds(level: str, items: dict[str, Any]) -> tuple[float, float]:
    from metspine.model.case import Lesion

    lesion = Lesion.model_validate(
        {"id": "L", "levels": [level], "sins": {k: v for k, v in items.items() if v is not None}}
    )
    return bounds(sins(lesion, 0))


@SETTINGS
@given(
    items=sins_items, level=st.sampled_from(LOCATION_ORDER), item=st.sampled_from(list(SINS_ORDER))
)
def test_sins_monotone_in_each_item(items, level, item) -> None:
    # Every category of one item in severity order, the rest fixed (known or unknown): both ends of
    # the result never go down.
    seen = [sins_bounds(level, {**items, item: value}) for value in SINS_ORDER[item]]
    for (lo1, hi1), (lo2, hi2) in itertools.pairwise(seen):
        assert lo1 <= lo2 and hi1 <= hi2, (item, seen)


@SETTINGS
@given(items=sins_items)
def test_sins_monotone_in_location(items) -> None:
    seen = [sins_bounds(level, items) for level in LOCATION_ORDER]
    for (lo1, hi1), (lo2, hi2) in itertools.pairwise(seen):
        assert lo1 <= lo2 and hi1 <= hi2, seen


# --- 3. an incomplete result contains every completion --------------------------------------------

MAX_ENUMERATED = 96
SAMPLED = 48


def completions(
    partial: dict[str, Any], forgotten: list[str], policy: Policy, rnd: Any
) -> list[Case]:
    domains = [DOMAINS[p] for p in forgotten]
    size = 1
    for d in domains:
        size *= len(d)
    if size <= MAX_ENUMERATED:
        choices = list(itertools.product(*domains))
    else:
        choices = [tuple(rnd.choice(d) for d in domains) for _ in range(SAMPLED)]
    out = []
    for values in choices:
        data = copy.deepcopy(partial)
        for path, value in zip(forgotten, values, strict=True):
            put(data, path, value)
        if not consistent(data, policy):
            continue
        case = validate(data)  # e.g. a pattern with no visceral disease is not a case
        if case is not None:
            out.append(case)
    return out


def assert_contains(key: str, partial: ScoreResult, completion: ScoreResult) -> None:
    lo, hi = bounds(partial)
    clo, chi = bounds(completion)
    assert lo <= clo and chi <= hi, (key, partial.range or partial.value, completion)
    if partial.band is not None and completion.band is not None:
        assert completion.band == partial.band, (key, partial, completion)
    assert set(completion.possible_bands) <= set(partial.possible_bands), (key, partial, completion)


def check_soundness(
    full: dict[str, Any], policy: Policy, forget: list[str], rnd: Any,
    scores: Callable[[Case, Policy], dict[str, ScoreResult]] = all_scores,
) -> None:  # fmt: skip
    partial_data = copy.deepcopy(full)
    for path in forget:
        put(partial_data, path, None)
    partial_case = Case.model_validate(partial_data)
    partial = scores(partial_case, policy)
    cases = [Case.model_validate(full), *completions(partial_data, forget, policy, rnd)]
    for case in cases:
        for key, result in scores(case, policy).items():
            assert_contains(key, partial[key], result)


@SETTINGS
@given(
    full=full_cases(),
    policy=policies,
    forget=st.lists(st.sampled_from(sorted(DOMAINS)), min_size=1, max_size=3, unique=True),
    rnd=st.randoms(use_true_random=False),
)
def test_incomplete_range_contains_every_completion(full, policy, forget, rnd) -> None:
    check_soundness(full, policy, forget, rnd)


# The inputs that decide the most scores, forgotten together more often than chance would.
KEY_INPUTS = [
    "patient.kps", "patient.ecog", "cancer.primary", "cancer.visceral_metastases",
    "cancer.visceral_pattern", "cancer.brain_metastases", "cancer.extraspinal_bone_metastases",
    "cancer.vertebral_metastases", "cancer.hormone_dependent", "cancer.targeted_therapy",
    "patient.labs.albumin_g_dl", "patient.labs.calcium_mg_dl",
]  # fmt: skip


@SETTINGS
@given(
    full=full_cases(),
    policy=policies,
    forget=st.lists(st.sampled_from(KEY_INPUTS), min_size=1, max_size=3, unique=True),
    rnd=st.randoms(use_true_random=False),
)
def test_incomplete_range_contains_every_completion_key_inputs(full, policy, forget, rnd) -> None:
    check_soundness(full, policy, forget, rnd)
