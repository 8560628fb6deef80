"""Reader for the public MiniZinc (.dzn) B2B instances (Bofill et al., JAIR 2022).

`read_dzn(text, fairness=2)` turns one instance into a `Problem`: participants become "p1".."pN",
meetings "m1".."mM"; `forbidden` `{0}` means none; `fixed` 0 means free; precedences are ignored
(callers skip the `prec*` variants).
"""

from __future__ import annotations

import re
from pathlib import Path

from roadshow.scheduling.contract import Meeting, Participant, Problem, Session

_SESSIONS: dict[int, Session] = {1: "am", 2: "pm", 3: "any"}
_ASSIGN = re.compile(r"(\w+)\s*=\s*(.*?);", re.S)


def _ints(text: str) -> list[int]:
    return [int(tok) for tok in re.findall(r"-?\d+", text)]


def _sets(text: str) -> list[list[int]]:
    return [_ints(body) for body in re.findall(r"\{([^}]*)\}", text)]


def read_dzn(text: str, *, fairness: int | None = 2, time_limit_s: float | None = None) -> Problem:
    """Parse the text of a .dzn instance into a Problem.

    Args:
        text: the file content.
        fairness: the fairness bound d to put in the problem (2 in the literature; None for none).
        time_limit_s: optional time limit to put in the problem.

    Returns:
        The equivalent Problem (1-based slots; `morning_slots` omitted when there is no afternoon).
    """
    fields = {name: value for name, value in _ASSIGN.findall(text)}
    n_business = int(fields["nBusiness"])
    n_meetings = int(fields["nMeetings"])
    slots = int(fields["nTotalSlots"])
    morning = int(fields["nMorningSlots"])
    triples = _ints(fields["requested"])
    if len(triples) != 3 * n_meetings:
        raise ValueError(f"requested: expected {n_meetings} rows, got {len(triples) / 3:g}")
    forbidden = _sets(fields["forbidden"]) if "forbidden" in fields else [[] for _ in range(n_business)]
    fixed = _ints(fields["fixed"]) if "fixed" in fields else [0] * n_meetings
    participants = [
        Participant(id=f"p{i + 1}", unavailable=sorted({s for s in forbidden[i] if 1 <= s <= slots}))
        for i in range(n_business)
    ]
    meetings = [
        Meeting(
            id=f"m{k + 1}",
            participants=[f"p{triples[3 * k]}", f"p{triples[3 * k + 1]}"],
            session=_SESSIONS[triples[3 * k + 2]],
            slot=fixed[k] or None,
        )
        for k in range(n_meetings)
    ]
    return Problem(
        slots=slots,
        tables=int(fields["nTables"]),
        participants=participants,
        meetings=meetings,
        morning_slots=morning if morning < slots else None,
        fairness=fairness,
        time_limit_s=time_limit_s,
    )


def load_dzn(path: Path | str, *, fairness: int | None = 2, time_limit_s: float | None = None) -> Problem:
    """Read a .dzn file from disk (see `read_dzn`)."""
    return read_dzn(Path(path).read_text(encoding="utf-8"), fairness=fairness, time_limit_s=time_limit_s)
