"""HTTP controllers of the roadshow domain (thin: validate, call the service, return a Struct)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Template

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from ipledge.errors import InvalidInput, wants_english
from ipledge.registry.pagination import decode_cursor
from roadshow import scheduling_port, service, service_agenda, service_pairing, service_people, service_schedule
from roadshow import schemas as s
from roadshow.agenda_page import page_context
from roadshow.ics import agenda_ics
from roadshow.scheduling.contract import Problem, Result
from roadshow.scheduling.validate import ProblemError, validate

OPERATOR = requires("operator")
ANYONE = requires("operator", "enterprise", "bank", "fund")
INVESTOR = requires("operator", "bank", "fund")
ENTERPRISE = requires("operator", "enterprise")
#: The HTTP solve endpoint caps the time limit (the CLI does not).
HTTP_MAX_TIME_LIMIT_S = 30.0
DEFAULT_TIME_LIMIT_S = 10.0

EventId = FromPath[uuid.UUID]
Year = FromPath[int]


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "年份须在 2000-2100 之间 / year must be within 2000-2100")
    return year


def _base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.app.state.settings.public_base_url)


class CalendarController(Controller):
    path = "/api/v1/roadshow/calendar"
    tags = ["roadshow"]

    @get(
        "/{year:int}", operation_id="getRoadshowCalendar", guards=[ANYONE], summary="The year's month → chain calendar"
    )
    async def get_year(self, pool: NamedDependency[Pool], year: Year) -> s.Calendar:
        return await service.get_calendar(pool, _year(year))

    @put("/{year:int}", operation_id="setRoadshowCalendar", guards=[OPERATOR], summary="Set months of the calendar")
    async def set_year(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        year: Year,
        data: JSONBody[s.CalendarUpdate],
    ) -> s.Calendar:
        return await service.set_calendar(pool, principal, _year(year), data)


class EventController(Controller):
    path = "/api/v1/roadshow/events"
    tags = ["roadshow"]

    @post(operation_id="createRoadshowEvent", guards=[OPERATOR], summary="Create an event (draft)")
    async def create(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], data: JSONBody[s.EventCreate]
    ) -> s.Event:
        return await service.create_event(pool, principal, data)

    @get(operation_id="listRoadshowEvents", guards=[ANYONE], summary="List events (drafts: operators only)")
    async def index(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        status: FromQuery[s.EventStatus | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.EventPage:
        after = decode_cursor(cursor, "du")
        return await service.list_events(
            pool, principal, year=year, status=status, after=after, limit=limit, english=wants_english(request)
        )

    @get("/{event_id:uuid}", operation_id="getRoadshowEvent", guards=[ANYONE], summary="One event")
    async def get_one(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
    ) -> s.Event:
        return await service.load_event(pool, principal, event_id, english=wants_english(request))

    @patch("/{event_id:uuid}", operation_id="updateRoadshowEvent", guards=[OPERATOR], summary="Edit before pairing")
    async def update(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        data: JSONBody[s.EventUpdate],
    ) -> s.Event:
        return await service.update_event(pool, principal, event_id, data)

    @post("/{event_id:uuid}/open", operation_id="openRoadshowSignup", guards=[OPERATOR], status_code=200)
    async def open_signup(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> s.Event:
        """Open sign-up (draft → open)."""
        return await service.change_status(pool, principal, event_id, "open")

    @post("/{event_id:uuid}/close", operation_id="closeRoadshowSignup", guards=[OPERATOR], status_code=200)
    async def close_signup(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> s.Event:
        """Close sign-up (open → closed)."""
        return await service.change_status(pool, principal, event_id, "close")

    @post("/{event_id:uuid}/reopen", operation_id="reopenRoadshowSignup", guards=[OPERATOR], status_code=200)
    async def reopen_signup(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> s.Event:
        """Reopen sign-up before pairing (closed → open)."""
        return await service.change_status(pool, principal, event_id, "reopen")

    @post("/{event_id:uuid}/complete", operation_id="completeRoadshowEvent", guards=[OPERATOR], status_code=200)
    async def complete(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> s.Event:
        """Mark a published event as held (published → completed)."""
        return await service.change_status(pool, principal, event_id, "complete")

    @get("/{event_id:uuid}/stats", operation_id="getRoadshowStats", guards=[OPERATOR], summary="Event statistics")
    async def stats(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> s.EventStats:
        return await service_agenda.stats(pool, principal, event_id)


class ParticipationController(Controller):
    path = "/api/v1/roadshow/events/{event_id:uuid}"
    tags = ["roadshow"]

    @post("/invitations", operation_id="inviteRoadshowEnterprises", guards=[OPERATOR], status_code=200)
    async def invite(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        data: JSONBody[s.InviteRequest],
    ) -> s.InviteResult:
        """Invite the chain's pool enterprises ranked by readiness (capped), or the listed ones."""
        return await service_people.invite(pool, principal, event_id, data)

    @get("/invitations", operation_id="listRoadshowInvitations", guards=[ENTERPRISE], summary="Invitations")
    async def invitations(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.InvitationPage:
        return await service_people.list_invitations(pool, principal, event_id, decode_cursor(cursor, "iu"), limit)

    @post(
        "/invitations/{enterprise_id:uuid}/accept",
        operation_id="acceptRoadshowInvitation",
        guards=[ENTERPRISE],
        status_code=200,
    )
    async def accept(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        enterprise_id: FromPath[uuid.UUID],
        data: JSONBody[s.InvitationAnswer],
    ) -> s.Invitation:
        """Accept: most meetings, free slots, and (optionally) a ranking of the signed-up institutions."""
        return await service_people.accept(pool, principal, event_id, enterprise_id, data)

    @post(
        "/invitations/{enterprise_id:uuid}/decline",
        operation_id="declineRoadshowInvitation",
        guards=[ENTERPRISE],
        status_code=200,
    )
    async def decline(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        enterprise_id: FromPath[uuid.UUID],
    ) -> s.Invitation:
        return await service_people.decline(pool, principal, event_id, enterprise_id)

    @get("/pitches", operation_id="listRoadshowPitches", guards=[ANYONE], summary="The pitch list")
    async def pitches(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> list[s.Pitch]:
        return await service_people.pitches(pool, principal, event_id)

    @get("/investors", operation_id="listRoadshowInvestors", guards=[ANYONE], summary="Signed-up institutions")
    async def investors(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], event_id: EventId
    ) -> list[s.Investor]:
        return await service_people.investors(pool, principal, event_id)

    @post("/signups", operation_id="createRoadshowSignup", guards=[requires("bank", "fund")])
    async def sign_up(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        data: JSONBody[s.SignupCreate],
    ) -> s.Signup:
        """A fund or bank signs up a person or team."""
        return await service_people.sign_up(pool, principal, event_id, data)

    @get("/signups", operation_id="listRoadshowSignups", guards=[INVESTOR], summary="Sign-ups (own, or all)")
    async def signups(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.SignupPage:
        return await service_people.list_signups(pool, principal, event_id, decode_cursor(cursor, "u"), limit)

    @delete("/signups/{signup_id:uuid}", operation_id="withdrawRoadshowSignup", guards=[INVESTOR])
    async def withdraw(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        signup_id: FromPath[uuid.UUID],
    ) -> None:
        await service_people.withdraw(pool, principal, event_id, signup_id)

    @put("/signups/{signup_id:uuid}/preferences", operation_id="setRoadshowPreferences", guards=[INVESTOR])
    async def set_preferences(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        signup_id: FromPath[uuid.UUID],
        data: JSONBody[s.PreferencesUpdate],
    ) -> s.Preferences:
        """Must meet / meet / no thanks per enterprise on the pitch list (replaces the set)."""
        return await service_people.set_preferences(pool, principal, event_id, signup_id, data)

    @get("/signups/{signup_id:uuid}/preferences", operation_id="getRoadshowPreferences", guards=[INVESTOR])
    async def get_preferences(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        signup_id: FromPath[uuid.UUID],
    ) -> s.Preferences:
        return await service_people.get_preferences(pool, principal, event_id, signup_id)


class MeetingController(Controller):
    path = "/api/v1/roadshow/events/{event_id:uuid}"
    tags = ["roadshow"]

    @post("/pair", operation_id="pairRoadshowEvent", guards=[OPERATOR], status_code=200)
    async def pair(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
    ) -> s.PairingSummary:
        """Choose who meets whom (min-cost flow); replaces earlier pairings."""
        lang = "en" if wants_english(request) else "zh"
        return await service_pairing.pair_event(pool, principal, event_id, lang)

    @post("/schedule", operation_id="scheduleRoadshowEvent", guards=[OPERATOR], status_code=200)
    async def schedule(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        data: JSONBody[s.ScheduleRequest],
    ) -> s.ScheduleSummary:
        """Solve or re-solve the schedule (a draft); locked meetings keep their slot."""
        return await service_schedule.schedule_event(pool, principal, event_id, data)

    @post("/publish", operation_id="publishRoadshowEvent", guards=[OPERATOR], status_code=200)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
    ) -> s.PublishSummary:
        """Publish the schedule; each participating bank/fund gets roadshow.agenda.published."""
        return await service_schedule.publish(pool, principal, event_id, _base_url(request))

    @get("/meetings", operation_id="listRoadshowMeetings", guards=[ANYONE], summary="Meetings (own, or all)")
    async def meetings(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> s.MeetingPage:
        return await service_agenda.list_meetings(pool, principal, event_id, decode_cursor(cursor, "uu"), limit)

    @post("/meetings", operation_id="addRoadshowMeeting", guards=[OPERATOR])
    async def add(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        data: JSONBody[s.MeetingCreate],
    ) -> s.Meeting:
        return await service_schedule.add_meeting(pool, principal, event_id, data)

    @patch("/meetings/{meeting_id:uuid}", operation_id="updateRoadshowMeeting", guards=[OPERATOR])
    async def update(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[s.MeetingUpdate],
    ) -> s.Meeting:
        """Lock a meeting to a slot, unlock it, or restrict its session."""
        return await service_schedule.update_meeting(pool, principal, event_id, meeting_id, data)

    @delete("/meetings/{meeting_id:uuid}", operation_id="deleteRoadshowMeeting", guards=[OPERATOR])
    async def remove(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        meeting_id: FromPath[uuid.UUID],
    ) -> None:
        await service_schedule.delete_meeting(pool, principal, event_id, meeting_id)

    @put("/meetings/{meeting_id:uuid}/outcome", operation_id="recordRoadshowOutcome", guards=[INVESTOR])
    async def outcome(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        meeting_id: FromPath[uuid.UUID],
        data: JSONBody[s.OutcomeUpdate],
    ) -> s.Meeting:
        """Attendance, intention and amount of one meeting."""
        return await service_agenda.record_outcome(pool, principal, event_id, meeting_id, data)


OrgQuery = Annotated[uuid.UUID | None, QueryParameter(description="Operators: whose agenda")]


class AgendaController(Controller):
    path = "/api/v1/roadshow/events/{event_id:uuid}"
    tags = ["roadshow"]

    @get("/agenda", operation_id="getRoadshowAgenda", guards=[ANYONE], summary="A participant's agenda (JSON)")
    async def agenda(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        organisation_id: OrgQuery = None,
    ) -> s.Agenda:
        return await service_agenda.agenda(pool, principal, event_id, organisation_id, wants_english(request))

    @get(
        "/agenda.ics",
        operation_id="getRoadshowAgendaIcs",
        guards=[ANYONE],
        media_type="text/calendar",
        summary="A participant's agenda as iCalendar (RFC 5545)",
    )
    async def agenda_ics(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        organisation_id: OrgQuery = None,
    ) -> Response[bytes]:
        english = wants_english(request)
        found = await service_agenda.agenda(pool, principal, event_id, organisation_id, english)
        return Response(
            agenda_ics(found, english=english),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="roadshow-{event_id}.ics"'},
        )

    @get(
        "/agenda.html",
        operation_id="getRoadshowAgendaHtml",
        guards=[ANYONE],
        media_type=MediaType.HTML,
        summary="A participant's agenda as a printable page",
    )
    async def agenda_html(
        self,
        request: Request[Any, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        event_id: EventId,
        organisation_id: OrgQuery = None,
    ) -> Template:
        """Chinese labels by default, English with ``Accept-Language: en``."""
        english = wants_english(request)
        found = await service_agenda.agenda(pool, principal, event_id, organisation_id, english)
        return Template(template_name="roadshow_agenda.html", context=page_context(found, english))


class SolveController(Controller):
    path = "/api/v1/roadshow/solve"
    tags = ["roadshow"]

    @post(operation_id="solveRoadshowSchedule", guards=[ANYONE], status_code=200)
    async def solve(self, data: JSONBody[Problem]) -> Result:
        """Solve a B2B meeting-scheduling problem (ROADSHOW.md §4); malformed problems get 422 naming the field.

        The time limit is the problem's ``time_limit_s`` (default 10 s, at most 30 s over HTTP; the CLI has no cap).
        """
        try:
            validate(data)
        except ProblemError as exc:
            raise InvalidInput(exc.field, exc.message) from None
        limit = min(data.time_limit_s or DEFAULT_TIME_LIMIT_S, HTTP_MAX_TIME_LIMIT_S)
        return await asyncio.to_thread(scheduling_port.solve, data, limit)


CONTROLLERS: list[type[Controller]] = [
    CalendarController,
    EventController,
    ParticipationController,
    MeetingController,
    AgendaController,
    SolveController,
]
