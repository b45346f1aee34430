"""Terminal rendering of an Assessment (Rich). Renders only; computes nothing clinical."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from metspine.model.assessment import Assessment, ScoreResult

STRENGTH_STYLE = {"recommended": "bold green", "consider": "yellow", "avoid": "bold red"}
SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


def score_cell(s: ScoreResult) -> str:
    if s.status == "not_applicable":
        return "n/a"
    if s.value is not None:
        return f"{s.value}"
    if s.range is not None:
        return f"{s.range[0]}–{s.range[1]} (incomplete)"
    return "unknown"


def scores_table(scores: dict[str, ScoreResult], title: str) -> Table:
    t = Table(title=title, title_justify="left", expand=False, show_lines=False)
    t.add_column("score")
    t.add_column("value", justify="right")
    t.add_column("band", no_wrap=True)
    t.add_column("non-zero and unknown items")
    for code, s in scores.items():
        comps = ", ".join(
            f"{c.item} {c.points if c.points is not None else '?'}"
            for c in s.components
            if c.points != 0
        )
        band = s.band or (" / ".join(s.possible_bands) if s.possible_bands else "—")
        t.add_row(f"{s.name or code}", score_cell(s), band, comps)
    return t


def render(a: Assessment, console: Console, verbose: bool = True) -> None:
    head = Text.assemble(
        ("metspine assessment ", "bold"),
        (a.case_id, "bold cyan"),
        f"   assessed on {a.assessed_on or '—'}   engine {a.engine_version}   "
        f"knowledge {a.knowledge_version}   policy {a.policy.name} ({a.policy.sha256[:12]})",
    )
    console.print(head)
    console.print(scores_table(a.scores, "Patient scores"))
    for lesion in a.lesions:
        parts: list[Table | Text] = []
        sins = lesion.scores["sins"]
        parts.append(
            Text(
                f"SINS {score_cell(sins)} ({sins.band or '/'.join(sins.possible_bands)})   "
                f"ESCC {lesion.escc.grade or '?'} ({lesion.escc.group or 'unknown'})"
            )
        )
        noms = Table(show_header=True, expand=True)
        for col in ("Neurologic", "Oncologic", "Mechanical", "Systemic"):
            noms.add_column(col, ratio=1)
        f = lesion.noms
        noms.add_row(
            *(
                Text(x.status.replace("_", " "), style="bold")
                for x in (f.neurologic, f.oncologic, f.mechanical, f.systemic)
            )
        )
        noms.add_row(*(x.summary for x in (f.neurologic, f.oncologic, f.mechanical, f.systemic)))
        parts.append(noms)
        recs = Table(title="Options (strongest first)", title_justify="left", expand=True)
        recs.add_column("#", justify="right")
        recs.add_column("option")
        recs.add_column("strength")
        recs.add_column("why")
        for i, r in enumerate(lesion.recommendations, 1):
            why = "\n".join(
                f"• {x.text}" + (f" [{', '.join(x.references)}]" if x.references else "")
                for x in r.reasons
            )
            if verbose and r.would_change:
                why += "\n" + "\n".join(f"↺ {w}" for w in r.would_change)
            if r.details:
                why += "\n" + "  ".join(f"{k}: {v}" for k, v in r.details.items())
            recs.add_row(
                str(i),
                f"{r.code}\n{r.summary}",
                Text(r.strength, style=STRENGTH_STYLE[r.strength]),
                why,
            )
        parts.append(recs)
        console.print(
            Panel(Group(*parts), title=f"Lesion {lesion.id}: {'-'.join(_ends(lesion.levels))}")
        )
    if a.safety:
        st = Table(title="Safety", title_justify="left")
        st.add_column("severity")
        st.add_column("code")
        st.add_column("what to check")
        for flag in a.safety:
            st.add_row(
                Text(flag.severity, style=SEVERITY_STYLE[flag.severity]),
                flag.code,
                flag.text + (f" [{', '.join(flag.references)}]" if flag.references else ""),
            )
        console.print(st)
    if a.missing:
        mt = Table(title="Missing data (and what it would settle)", title_justify="left")
        mt.add_column("field")
        mt.add_column("needed for")
        for m in a.missing:
            mt.add_row(m.field, ", ".join(m.needed_for))
        console.print(mt)
    else:
        console.print("No missing data.")


def _ends(levels: list[str]) -> list[str]:
    return [levels[0]] if len(levels) == 1 else [levels[0], levels[-1]]


def board_line(a: Assessment) -> str:
    """One line per case for the board summary."""
    bits = []
    for lesion in a.lesions:
        top = next((r for r in lesion.recommendations if r.strength == "recommended"), None)
        first = top or (lesion.recommendations[0] if lesion.recommendations else None)
        label = f"{first.code} ({first.strength})" if first else "no option"
        sins = lesion.scores["sins"]
        bits.append(
            f"{lesion.id} {'-'.join(_ends(lesion.levels))}: SINS {score_cell(sins)}, "
            f"ESCC {lesion.escc.grade or '?'} → {label}"
        )
    return "; ".join(bits) or "no lesions"
