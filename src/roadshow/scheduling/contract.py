"""The public solve contract (ROADSHOW.md §4): the Problem a caller sends and the Result it gets back.

Decode with `msgspec.json.decode(data, type=Problem, strict=True)`; the annotated aliases below carry the
per-field rules (positive slot numbers, id patterns, bounded lists). Cross-field rules (unknown participants,
duplicate ids, slots out of range...) live in `validate.py` because msgspec checks one field at a time.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

MAX_SLOTS = 96
MAX_TABLES = 10_000
MAX_PARTICIPANTS = 5_000
MAX_MEETINGS = 20_000
MAX_MEETING_SIZE = 8
MAX_TIME_LIMIT_S = 3_600.0

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$", description="Identifier")]
SlotNo = Annotated[int, msgspec.Meta(ge=1, le=MAX_SLOTS, description="Slot number, 1-based over the whole day")]
Session = Literal["am", "pm", "any"]
Status = Literal["optimal", "feasible", "infeasible", "unknown"]


class Participant(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A participant (enterprise or investor) and the slots it cannot attend."""

    id: Id
    unavailable: Annotated[list[SlotNo], msgspec.Meta(max_length=MAX_SLOTS)] = []


class Meeting(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A meeting to schedule; `slot` set means the operator locked it there."""

    id: Id
    participants: Annotated[list[Id], msgspec.Meta(min_length=2, max_length=MAX_MEETING_SIZE)]
    session: Session = "any"
    slot: SlotNo | None = None


class Problem(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A B2B meeting-scheduling problem (the request body of `POST /api/v1/roadshow/solve`)."""

    slots: Annotated[int, msgspec.Meta(ge=1, le=MAX_SLOTS)]
    tables: Annotated[int, msgspec.Meta(ge=1, le=MAX_TABLES)]
    participants: Annotated[list[Participant], msgspec.Meta(max_length=MAX_PARTICIPANTS)]
    meetings: Annotated[list[Meeting], msgspec.Meta(max_length=MAX_MEETINGS)]
    morning_slots: Annotated[int, msgspec.Meta(ge=1, le=MAX_SLOTS)] | None = None
    fairness: Annotated[int, msgspec.Meta(ge=0, le=MAX_SLOTS)] | None = None
    time_limit_s: Annotated[float, msgspec.Meta(gt=0, le=MAX_TIME_LIMIT_S)] | None = None


class ScheduledMeeting(msgspec.Struct, frozen=True):
    """Where and when one meeting takes place."""

    id: str
    slot: int
    table: int


class ParticipantBreaks(msgspec.Struct, frozen=True):
    """The number of breaks of one participant in the returned schedule."""

    id: str
    breaks: int


class Result(msgspec.Struct, frozen=True):
    """The solver's answer: best schedule found, proven lower bound and status.

    `breaks` and the lists are empty/None when no schedule is known (`infeasible` or `unknown`);
    `lower_bound` is None when the problem is proven infeasible.
    """

    status: Status
    breaks: int | None
    lower_bound: int | None
    solve_seconds: float
    meetings: list[ScheduledMeeting] = []
    participants: list[ParticipantBreaks] = []


def decode_problem(data: bytes | str) -> Problem:
    """Decode a Problem from JSON strictly (no type coercion, no unknown fields).

    Raises:
        msgspec.ValidationError: a field has the wrong type or breaks its constraint (message names the path).
        msgspec.DecodeError: the bytes are not JSON.
    """
    return msgspec.json.decode(data, type=Problem, strict=True)
