"""API types of the roadshow domain (requests are strict: unknown fields and wrong types are refused)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

import msgspec

from ipledge.vocab import ChainCode, Yuan, fail, set_field

Session = Literal["am", "pm"]
Wish = Literal["must_meet", "meet", "no_thanks"]
Intention = Literal["none", "follow_up", "due_diligence", "term_sheet", "invested"]
EventStatus = Literal["draft", "open", "closed", "paired", "scheduled", "published", "completed"]
SlotNo = Annotated[int, msgspec.Meta(ge=1, le=96, description="Meeting slot, 1-based over the whole day")]
SlotList = Annotated[list[SlotNo], msgspec.Meta(max_length=96)]
MaxMeetings = Annotated[int, msgspec.Meta(ge=0, le=96)]
Title = Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Clock = Annotated[time, msgspec.Meta(description="Local time (Asia/Shanghai), HH:MM:SS", examples=["09:00:00"])]


def _unique(field: str, values: list[int] | list[uuid.UUID] | None) -> None:
    if values is not None and len(set(values)) != len(values):
        raise fail(field, "列表中有重复项 / duplicate entries")


# --- calendar -------------------------------------------------------------------------------------------


class CalendarMonth(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    month: Annotated[int, msgspec.Meta(ge=1, le=12)]
    chain: ChainCode
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CalendarUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The months to set (months not listed keep their chain)."""

    months: Annotated[list[CalendarMonth], msgspec.Meta(min_length=1, max_length=12)]

    def __post_init__(self) -> None:
        _unique("months", [m.month for m in self.months])


class CalendarEntry(msgspec.Struct, kw_only=True):
    month: int
    chain: str
    chain_name: str
    note: str


class Calendar(msgspec.Struct, kw_only=True):
    year: int
    months: list[CalendarEntry]


# --- events ---------------------------------------------------------------------------------------------


class EventCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An event: pitch block, then meeting sessions of equal slots at ``tables`` tables (or online rooms).

    ``chain`` defaults to the calendar's chain for the event's month; ``title`` to one built from both.
    """

    event_date: date
    tables: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    chain: ChainCode | None = None
    title: Title | None = None
    city: Annotated[str, msgspec.Meta(min_length=2, max_length=50)] | None = None
    online: bool = False
    venue: Annotated[str, msgspec.Meta(max_length=200)] = ""
    pitch_start: Clock = time(9, 0)
    pitch_count: Annotated[int, msgspec.Meta(ge=1, le=500)] = 10
    pitch_minutes: Annotated[int, msgspec.Meta(ge=1, le=120)] = 8
    sessions: Annotated[list[Session], msgspec.Meta(min_length=1, max_length=2)] = msgspec.field(
        default_factory=lambda: ["am", "pm"]
    )
    slot_minutes: Literal[15, 20, 30] = 20
    morning_start: Clock | None = None
    morning_slots: Annotated[int, msgspec.Meta(ge=1, le=48)] | None = None
    afternoon_start: Clock = time(14, 0)
    afternoon_slots: Annotated[int, msgspec.Meta(ge=1, le=48)] | None = None
    floor_k: Annotated[int, msgspec.Meta(ge=0, le=48)] = 3
    fairness: Annotated[int, msgspec.Meta(ge=0, le=96)] | None = 2

    def __post_init__(self) -> None:
        if len(set(self.sessions)) != len(self.sessions):
            raise fail("sessions", "重复的场次 / duplicate session")
        if not self.online and self.city is None:
            raise fail("city", "线下活动需要城市 / an in-person event needs a city")
        pitch_end = _add_minutes(self.pitch_start, self.pitch_count * self.pitch_minutes)
        if pitch_end is None:
            raise fail("pitch_count", "路演环节超出当天 / the pitch block runs past midnight")
        if "am" in self.sessions:
            set_field(self, "morning_slots", self.morning_slots or 8)
            set_field(self, "morning_start", self.morning_start or pitch_end)
        else:
            set_field(self, "morning_slots", None)
            set_field(self, "morning_start", None)
        if "pm" in self.sessions:
            set_field(self, "afternoon_slots", self.afternoon_slots or 8)
        else:
            set_field(self, "afternoon_slots", None)
        self._check_times(pitch_end)

    def _check_times(self, pitch_end: time) -> None:
        if self.morning_start is not None and self.morning_slots is not None:
            if self.morning_start < pitch_end:
                raise fail("morning_start", "上午洽谈须在路演环节结束后开始 / morning meetings start after the pitches")
            end = _add_minutes(self.morning_start, self.morning_slots * self.slot_minutes)
            if end is None or ("pm" in self.sessions and end > self.afternoon_start):
                raise fail("morning_slots", "上午场次与下午场次重叠 / the morning session overlaps the afternoon")
        if self.afternoon_slots is not None:
            if self.morning_start is None and self.afternoon_start < pitch_end:
                raise fail("afternoon_start", "洽谈须在路演环节结束后开始 / meetings start after the pitches")
            if _add_minutes(self.afternoon_start, self.afternoon_slots * self.slot_minutes) is None:
                raise fail("afternoon_slots", "下午场次超出当天 / the afternoon session runs past midnight")


def _add_minutes(t: time, minutes: int) -> time | None:
    total = t.hour * 60 + t.minute + minutes
    return None if total > 24 * 60 - 1 else time(total // 60, total % 60)


class EventUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Fields to change before pairing (the whole event is re-validated)."""

    event_date: date | None = None
    tables: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    title: Title | None = None
    city: Annotated[str, msgspec.Meta(min_length=2, max_length=50)] | None = None
    online: bool | None = None
    venue: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    pitch_start: Clock | None = None
    pitch_count: Annotated[int, msgspec.Meta(ge=1, le=500)] | None = None
    pitch_minutes: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None
    sessions: Annotated[list[Session], msgspec.Meta(min_length=1, max_length=2)] | None = None
    slot_minutes: Literal[15, 20, 30] | None = None
    morning_start: Clock | None = None
    morning_slots: Annotated[int, msgspec.Meta(ge=1, le=48)] | None = None
    afternoon_start: Clock | None = None
    afternoon_slots: Annotated[int, msgspec.Meta(ge=1, le=48)] | None = None
    floor_k: Annotated[int, msgspec.Meta(ge=0, le=48)] | None = None
    fairness: Annotated[int, msgspec.Meta(ge=0, le=96)] | None = None


class Event(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    title: str
    chain: str
    chain_name: str
    event_date: date
    city: str | None
    online: bool
    venue: str
    pitch_start: time
    pitch_count: int
    pitch_minutes: int
    sessions: list[str]
    slot_minutes: int
    morning_start: time | None
    morning_slots: int
    afternoon_start: time | None
    afternoon_slots: int
    slots: int
    tables: int
    floor_k: int
    fairness: int | None
    status: EventStatus
    status_name: str
    published_version: int
    created_at: datetime
    updated_at: datetime


class EventPage(msgspec.Struct, kw_only=True):
    items: list[Event]
    next_cursor: str | None


# --- invitations and sign-ups ------------------------------------------------------------------------------


class InviteRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Whom to invite.

    By default the chain's pool enterprises ranked by readiness (at most ``limit``, default the pitch
    count); with ``enterprise_ids`` exactly those.
    """

    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    enterprise_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=1000)] | None = None

    def __post_init__(self) -> None:
        _unique("enterprise_ids", self.enterprise_ids)


class Invitation(msgspec.Struct, kw_only=True):
    event_id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_name: str
    credit_code: str
    readiness: float
    readiness_rank: int
    status: Literal["invited", "accepted", "declined"]
    max_meetings: int | None
    available_slots: list[int] | None
    investor_ranking: list[uuid.UUID]
    updated_at: datetime


class InvitationPage(msgspec.Struct, kw_only=True):
    items: list[Invitation]
    next_cursor: str | None


class InviteResult(msgspec.Struct, kw_only=True):
    invited: int
    already_invited: int
    policy_version: str


class InvitationAnswer(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An enterprise accepts.

    It gives the most meetings it wants, its free slots (None = all) and, optionally, the
    institutions it most wants to meet, best first.
    """

    max_meetings: Annotated[int, msgspec.Meta(ge=1, le=96)]
    available_slots: SlotList | None = None
    investor_ranking: Annotated[list[uuid.UUID], msgspec.Meta(max_length=200)] = []

    def __post_init__(self) -> None:
        _unique("available_slots", self.available_slots)
        _unique("investor_ranking", self.investor_ranking)


class SignupCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A fund or bank signs up one person or team; ``available_slots`` None = the whole day."""

    max_meetings: Annotated[int, msgspec.Meta(ge=1, le=96)]
    label: Label = "主联系人"
    available_slots: SlotList | None = None

    def __post_init__(self) -> None:
        _unique("available_slots", self.available_slots)


class Signup(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    event_id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    kind: str
    label: str
    max_meetings: int
    available_slots: list[int] | None
    preferences: int
    created_at: datetime


class SignupPage(msgspec.Struct, kw_only=True):
    items: list[Signup]
    next_cursor: str | None


class PreferenceItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    enterprise_id: uuid.UUID
    wish: Wish


class PreferencesUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The sign-up's whole set of wishes (replaces the previous set).

    Enterprises not listed get recommendations from the fit score.
    """

    preferences: Annotated[list[PreferenceItem], msgspec.Meta(max_length=1000)]

    def __post_init__(self) -> None:
        _unique("preferences", [p.enterprise_id for p in self.preferences])


class Preferences(msgspec.Struct, kw_only=True):
    signup_id: uuid.UUID
    preferences: list[PreferenceItem]


class Pitch(msgspec.Struct, kw_only=True):
    """An enterprise on the pitch list (accepted invitations, in readiness order)."""

    order: int
    enterprise_id: uuid.UUID
    name: str
    credit_code: str
    province: str
    business_scope: str


class Investor(msgspec.Struct, kw_only=True):
    """A signed-up institution, for enterprises to rank."""

    organisation_id: uuid.UUID
    name: str
    kind: str
    signups: int


# --- pairing, meetings, schedule ------------------------------------------------------------------------


class PairingSummary(msgspec.Struct, kw_only=True):
    status: EventStatus
    meetings: int
    recommended: int
    total_score: float
    below_floor: list[uuid.UUID]
    floor_k: int
    policy_version: str
    seconds: float


class MeetingCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An operator adds a meeting; a ``slot`` locks it there."""

    enterprise_id: uuid.UUID
    signup_id: uuid.UUID
    session: Literal["am", "pm", "any"] = "any"
    slot: SlotNo | None = None


class MeetingUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Lock a meeting (to ``slot``, or where it is now) or unlock it; optionally restrict its session."""

    locked: bool
    slot: SlotNo | None = None
    session: Literal["am", "pm", "any"] | None = None

    def __post_init__(self) -> None:
        if self.slot is not None and not self.locked:
            raise fail("slot", "只有锁定的洽谈才能指定时段 / only a locked meeting takes a slot")


class Meeting(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    event_id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_name: str
    signup_id: uuid.UUID
    organisation_id: uuid.UUID
    investor_name: str
    investor_label: str
    source: str
    score: float
    fit: float | None
    session: str
    slot: int | None
    table: int | None
    locked: bool
    published_slot: int | None
    published_table: int | None
    attended: bool | None
    intention: Intention | None
    amount: float | None
    outcome_note: str


class MeetingPage(msgspec.Struct, kw_only=True):
    items: list[Meeting]
    next_cursor: str | None


class ScheduleRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    time_limit_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0


class ScheduleSummary(msgspec.Struct, kw_only=True):
    status: str
    solver_status: str
    breaks: int | None
    lower_bound: int | None
    solve_seconds: float
    meetings: int
    locked: int
    published_kept: int
    published_moved: int


class PublishSummary(msgspec.Struct, kw_only=True):
    status: EventStatus
    version: int
    meetings: int
    organisations_notified: int


class OutcomeUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Attendance and outcome of one meeting; an amount (yuan) needs attendance and an intention."""

    attended: bool
    intention: Intention | None = None
    amount: Yuan | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""

    def __post_init__(self) -> None:
        if self.amount is not None and (not self.attended or self.intention in (None, "none")):
            raise fail("amount", "意向金额需要出席且有投资意向 / an amount needs attendance and an intention")
        if self.intention is not None and self.intention != "none" and not self.attended:
            raise fail("intention", "未出席的洽谈不能记录意向 / no intention without attendance")


class EventStats(msgspec.Struct, kw_only=True):
    event_id: uuid.UUID
    status: EventStatus
    invited: int
    accepted: int
    declined: int
    signups: int
    institutions: int
    wishes: dict[str, int]
    meetings: int
    scheduled: int
    locked: int
    meetings_per_enterprise_min: int
    meetings_per_enterprise_max: int
    meetings_per_enterprise_avg: float
    below_floor: int
    total_breaks: int
    max_breaks: int
    recorded: int
    attended: int
    no_shows: int
    intentions: dict[str, int]
    intended_amount: float


# --- agendas --------------------------------------------------------------------------------------------


class AgendaItem(msgspec.Struct, kw_only=True):
    meeting_id: uuid.UUID
    slot: int
    table: int
    place: str
    start: datetime
    end: datetime
    counterpart_id: uuid.UUID
    counterpart_name: str
    investor_label: str


class Agenda(msgspec.Struct, kw_only=True):
    event_id: uuid.UUID
    title: str
    event_date: date
    city: str | None
    online: bool
    venue: str
    organisation_id: uuid.UUID
    organisation_name: str
    role: Literal["enterprise", "investor"]
    #: "published": the schedule participants were sent; "draft": the operator's working schedule.
    version: Literal["published", "draft"]
    pitch_start: datetime
    pitch_end: datetime
    items: list[AgendaItem]
