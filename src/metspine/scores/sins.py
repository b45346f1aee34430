"""SINS — Spinal Instability Neoplastic Score (fisher2010_sins; bands fourney2011_sins).

Six items, total 0-18, higher is worse: location (derived from the levels), pain, bone lesion,
radiographic alignment, vertebral body collapse, posterolateral involvement. Bands: 0-6 stable,
7-12 potentially unstable, 13-18 unstable; 7-18 prompts surgical consultation (fisher2014_sins_ro).
A lesion spanning two location categories takes the higher-scoring one and says so (spec clinical
§2.4 item 2 [U]). With an item unknown the score reports the range the known items allow.
"""

from __future__ import annotations

from metspine.model.assessment import ScoreResult
from metspine.model.case import Lesion
from metspine.scores._tally import Band, Tally

NAME = "SINS"
VERSION = "fisher2010"
REFERENCES = ["fisher2010_sins", "fourney2011_sins"]
BANDS = (
    Band(0, 6, "stable"),
    Band(7, 12, "potentially_unstable"),
    Band(13, 18, "unstable"),
)

# Location categories by level (fisher2010_sins): junctional occiput-C2, C7-T2, T11-L1, L5-S1 (3);
# mobile C3-C6, L2-L4 (2); semi-rigid T3-T10 (1); rigid S2-S5 (0).
_JUNCTIONAL = {"C1", "C2", "C7", "T1", "T2", "T11", "T12", "L1", "L5", "S1"}
_MOBILE = {"C3", "C4", "C5", "C6", "L2", "L3", "L4"}
_SEMI_RIGID = {f"T{i}" for i in range(3, 11)}
_RIGID = {"S2", "S3", "S4", "S5"}

LOCATION_POINTS: dict[str, tuple[str, int]] = {}
for _lv in _JUNCTIONAL:
    LOCATION_POINTS[_lv] = ("junctional", 3)
for _lv in _MOBILE:
    LOCATION_POINTS[_lv] = ("mobile", 2)
for _lv in _SEMI_RIGID:
    LOCATION_POINTS[_lv] = ("semi-rigid", 1)
for _lv in _RIGID:
    LOCATION_POINTS[_lv] = ("rigid", 0)

PAIN_POINTS = {"mechanical": 3, "occasional_nonmechanical": 1, "none": 0}
BONE_LESION_POINTS = {"lytic": 2, "mixed": 1, "blastic": 0}
ALIGNMENT_POINTS = {"subluxation_translation": 4, "de_novo_deformity": 2, "normal": 0}
COLLAPSE_POINTS = {"gt50": 3, "lt50": 2, "none_gt50_involved": 1, "none": 0}
POSTEROLATERAL_POINTS = {"bilateral": 3, "unilateral": 1, "none": 0}

_INTERPRETATION = {
    "stable": "Stable: no surgical consultation needed for instability.",
    "potentially_unstable": "Potentially unstable: surgical consultation recommended.",
    "unstable": "Unstable: surgical consultation recommended.",
}


def location(levels: list[str]) -> tuple[str, int, bool]:
    """Category and points for a lesion's levels; the flag says whether it spans categories."""
    cats = {LOCATION_POINTS[lv] for lv in levels}
    best = max(cats, key=lambda c: c[1])
    return best[0], best[1], len(cats) > 1


def sins(lesion: Lesion, index: int) -> ScoreResult:
    """SINS for one lesion; ``index`` is its position in ``case.lesions`` (for field paths)."""
    path = f"lesions[{index}].sins"
    t = Tally(NAME, VERSION, "higher_worse", list(REFERENCES), BANDS)
    cat, pts, spans = location(list(lesion.levels))
    levels = (
        "-".join([lesion.levels[0], lesion.levels[-1]])
        if len(lesion.levels) > 1
        else (lesion.levels[0])
    )
    note = None
    if spans:
        note = "lesion spans location categories; the higher-scoring category is used"
        t.notes.append(f"Location: {levels} spans categories; scored as {cat} ({pts}).")
    t.add("location", f"{levels} ({cat})", pts, note)
    s = lesion.sins
    for item, value, table in (
        ("pain", s.pain, PAIN_POINTS),
        ("bone_lesion", s.bone_lesion, BONE_LESION_POINTS),
        ("alignment", s.alignment, ALIGNMENT_POINTS),
        ("collapse", s.collapse, COLLAPSE_POINTS),
        ("posterolateral", s.posterolateral, POSTEROLATERAL_POINTS),
    ):
        if value is None:
            t.add_unknown(item, f"{path}.{item}", table.values())
        else:
            t.add(item, value, table[value])
    return t.result(interpretation=_INTERPRETATION.__getitem__)
