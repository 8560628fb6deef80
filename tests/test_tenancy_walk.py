"""Tenancy across every domain (QUALITY.md, Reliability and security: Tenancy).

The set-up creates, through the API as the owning actors, one resource of every tenant-owned kind: registry
organisations, keys, enterprises and patents; valuation assessments; pool applications, entries, progress
reports and consent; institution criteria; push lists (JSON, CSV, XLSX); webhook endpoints, deliveries and
notices; feedback; roadshow invitations (with the enterprises' rankings of investors), sign-ups, preferences,
meetings and agendas (JSON, ICS, HTML); the operator's draft event, push run and schedule.

The walk then sends every non-operator role to every other organisation's resources with every verb (valid
bodies, so a 422 cannot hide a missing check) and expects 403 or 404 — never a success, never another
organisation's private data (each organisation's private resources carry markers that no other may see) and no
audited write. Every owner reads its own resources and operators read them all, so a wrong URL cannot make the
walk pass vacuously. A coverage check lists every route of the OpenAPI schema that names an organisation's
resource (by path parameter or selector query) and fails when the walk does not visit it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from ipledge.settings import Settings, load_settings
from ipledge.webhooks import store as webhook_store
from tests.factories import Actor, make_actor, patent_number
from tests.matching.helpers import set_profile
from tests.roadshow.helpers import event_body, expect

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
#: Path parameters that name one organisation's resource: a route with one of them must be walked.
RESOURCE_PARAMS = {
    "org_id",
    "key_id",
    "credit_code",
    "number",
    "assessment_id",
    "list_id",
    "endpoint_id",
    "webhook_id",
    "signup_id",
    "enterprise_id",
    "meeting_id",
    "event_id",
    "run_id",
    "schedule_id",
}
#: Path parameters that name shared platform data, not an organisation's resource.
GLOBAL_PARAMS = {
    "year": "the roadshow calendar is one per year for everybody",
    "version": "coefficient sets are platform data",
    "code": "chains are platform data",
    "fmt": "a file format (the list it exports is named by list_id or organisation_id)",
}
#: Query parameters that select another organisation's data on a list route.
SELECTOR_QUERIES = {"organisation_id", "enterprise", "endpoint_id"}
EVENT_TYPES = (
    "pool.enterprise.admitted",
    "pool.enterprise.graduated",
    "pool.enterprise.withdrawn",
    "push_list.published",
    "roadshow.agenda.published",
)
STATUS_MOVES = ("approve", "reject", "suspend")
EVENT_LISTS = ("pitches", "investors", "invitations", "signups", "meetings")


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Webhook endpoints on 127.0.0.1 are allowed (nothing is delivered: no worker runs here)."""
    return load_settings(
        {}, database_url=db_url, db_pool_min=1, db_pool_max=4, log_level="WARNING", allow_private_webhooks=True
    )


@dataclass
class Call:
    """One request against one organisation's resource."""

    method: str
    template: str
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None
    body: Any = None
    #: 200 is allowed for others (data shared by design, or a list that answers with the caller's own rows);
    #: the other organisations' private markers must still never appear.
    shared: bool = False

    @property
    def url(self) -> str:
        return API + self.template.format(**self.params)

    @property
    def route(self) -> tuple[str, str]:
        return self.method, API + self.template


@dataclass
class Tenants:
    actors: dict[str, Actor]
    calls: dict[str, list[Call]] = field(default_factory=dict)  # owner name -> calls on its resources
    markers: dict[str, set[str]] = field(default_factory=dict)  # owner name -> strings only it may see
    own_lists: list[Call] = field(default_factory=list)  # list routes every caller reads for its own rows


async def send(client: Any, actor: Actor, call: Call) -> Any:
    kwargs: dict[str, Any] = {"headers": actor.headers}
    if call.query:
        kwargs["params"] = call.query
    if call.body is not None:
        kwargs["json"] = call.body
    return await client.request(call.method, call.url, **kwargs)


# --- set-up: every resource through the API, as its owner ----------------------------------------------------


def _patent_row(owner: str, number: str) -> dict[str, Any]:
    return {
        "number": number,
        "title": "一种芯片封装结构及其制造方法",
        "owner": owner,
        "filing_date": "2018-03-01",
        "grant_date": "2020-06-01",
        "legal_status": "granted",
        "claims_total": 12,
        "claims_independent": 2,
        "ipc_codes": ["H01L 23/31"],
        "forward_citations": 7,
    }


async def _enterprise(client: Any, db: Any, t: Tenants, name: str, op: dict[str, str]) -> dict[str, str]:
    actor = t.actors[name]
    code, h = actor.org.credit_code, actor.headers
    await set_profile(db, actor.org.id)  # passes the ten entry criteria; consents to share
    number = patent_number(2018)
    r = await client.post(f"{API}/patents/import", headers=h, json=[_patent_row(code, number)])
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    body = {"patents": [{"number": number}], "requested_amount": 1_000_000}
    assessment = await expect(await client.post(f"{API}/assessments", headers=h, json=body), 201)
    await expect(await client.post(f"{API}/pool/applications", headers=h, json={}), 201)
    await expect(await client.post(f"{API}/pool/entries/{code}/review", headers=op, json={}))
    await expect(await client.post(f"{API}/pool/entries/{code}/admit", headers=op, json={"note": "走查"}))
    note = f"WALK-progress-{name}"
    report = {"reported_on": dt.date.today().isoformat(), "note": note}
    r = await client.post(f"{API}/pool/entries/{code}/progress-reports", headers=h, json=report)
    assert r.status_code in (200, 201), r.text
    t.markers[name] = {assessment["id"], note}
    return {"number": number, "assessment_id": assessment["id"]}


async def _institution(client: Any, t: Tenants, name: str, kind: str) -> dict[str, str]:
    actor = t.actors[name]
    h, org = actor.headers, actor.org.id
    thesis = f"WALK-thesis-{name}"
    criteria = {"kind": kind, "chains": ["ic"], "thesis": thesis}
    await expect(await client.put(f"{API}/institutions/{org}/criteria", headers=h, json=criteria))
    t.markers[name] = {thesis}
    if name in ("pending_bank", "bank2"):
        return {}
    description = f"WALK-hook-{name}"
    hook = {"url": "http://127.0.0.1:9/hook", "event_types": list(EVENT_TYPES), "description": description}
    created = await expect(await client.post(f"{API}/webhooks/endpoints", headers=h, json=hook), 201)
    t.markers[name] |= {created["endpoint"]["id"], description}
    return {"endpoint_id": created["endpoint"]["id"]}


async def _roadshow(client: Any, db: Any, t: Tenants, res: dict[str, dict[str, str]]) -> None:
    a, op = t.actors, t.actors["operator"].headers
    await db.execute(
        "UPDATE enterprises SET business_scope = '集成电路芯片设计', financing_need = 5000000"
        " WHERE organisation_id = ANY($1::uuid[])",
        [a["enterprise"].org.id, a["other_enterprise"].org.id],
    )
    event = await expect(await client.post(f"{API}/roadshow/events", json=event_body(), headers=op), 201)
    base = f"{API}/roadshow/events/{event['id']}"
    enterprises = [a["enterprise"], a["other_enterprise"]]
    invite = {"enterprise_ids": [str(e.org.id) for e in enterprises]}
    await expect(await client.post(f"{base}/invitations", json=invite, headers=op))
    await expect(await client.post(f"{base}/open", headers=op))
    for name in ("bank", "fund"):
        signup = await expect(
            await client.post(f"{base}/signups", json={"max_meetings": 2}, headers=a[name].headers), 201
        )
        res[name]["signup_id"] = signup["id"]
    ranking = [str(a["fund"].org.id), str(a["bank"].org.id)]
    for e in enterprises:
        answer = {"max_meetings": 2, "investor_ranking": ranking}
        await expect(await client.post(f"{base}/invitations/{e.org.id}/accept", json=answer, headers=e.headers))
    for name, wish in (("bank", "must_meet"), ("fund", "meet")):
        prefs = {"preferences": [{"enterprise_id": str(e.org.id), "wish": wish} for e in enterprises]}
        url = f"{base}/signups/{res[name]['signup_id']}/preferences"
        await expect(await client.put(url, json=prefs, headers=a[name].headers))
    await expect(await client.post(f"{base}/close", headers=op))
    await expect(await client.post(f"{base}/pair", headers=op))
    await expect(await client.post(f"{base}/schedule", json={"time_limit_s": 5}, headers=op))
    await expect(await client.post(f"{base}/publish", headers=op))
    meetings = (await expect(await client.get(f"{base}/meetings", headers=op)))["items"]
    for name in ("bank", "fund"):
        res[name]["meeting_id"] = next(m["id"] for m in meetings if m["organisation_id"] == str(a[name].org.id))
        note = f"WALK-outcome-{name}"  # the investor's own record of the meeting
        outcome = {"attended": True, "intention": "due_diligence", "amount": 3_000_000, "note": note}
        url = f"{base}/meetings/{res[name]['meeting_id']}/outcome"
        await expect(await client.put(url, json=outcome, headers=a[name].headers))
        t.markers[name].add(note)
    draft = await expect(
        await client.post(f"{API}/roadshow/events", json=event_body(venue="WALK-draft-venue"), headers=op), 201
    )
    res["operator"].update(event_id=event["id"], draft_id=draft["id"], meeting_id=meetings[0]["id"])
    t.markers["operator"] = {draft["id"], "WALK-draft-venue"}


async def build(client: Any, db: Any, world: Any) -> Tenants:
    actors = dict(world.all())
    actors["bank2"] = await make_actor(db, "bank", "第二测试银行")
    t = Tenants(actors=actors)
    op = actors["operator"].headers
    res: dict[str, dict[str, str]] = {name: {} for name in actors}
    for name, kind in (("bank", "bank"), ("fund", "vc_pe"), ("pending_bank", "bank"), ("bank2", "bank")):
        res[name] = await _institution(client, t, name, kind)
    for name in ("enterprise", "other_enterprise"):
        res[name] = await _enterprise(client, db, t, name, op)
    run = await expect(await client.post(f"{API}/push-runs", headers=op), 201)
    first = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
    schedule = await expect(
        await client.post(f"{API}/push-schedules", headers=op, json={"name": "走查", "first_run_at": first}), 201
    )
    res["operator"] = {"run_id": run["id"], "schedule_id": schedule["id"]}
    code = actors["enterprise"].org.credit_code
    for name in ("bank", "fund"):
        current = await expect(
            await client.get(
                f"{API}/push-lists/current", params={"organisation_id": str(actors[name].org.id)}, headers=op
            )
        )
        res[name]["list_id"] = current["push_list"]["id"]
        reason = f"WALK-feedback-{name}"
        headers = {**actors[name].headers, "Idempotency-Key": f"walk-{name}"}
        body = {"credit_code": code, "outcome": "declined", "decline_reason": reason}
        feedback = await expect(await client.post(f"{API}/feedback", headers=headers, json=body), 201)
        t.markers[name] |= {res[name]["list_id"], feedback["id"], reason}
    await _roadshow(client, db, t, res)
    for name in ("bank", "fund"):
        org = actors[name].org.id
        webhook_ids = [
            r["id"] for r in await db.fetch("SELECT id FROM webhook_messages WHERE organisation_id = $1", org)
        ]
        assert webhook_ids, f"{name} has deliveries"
        res[name]["webhook_id"] = webhook_ids[0]
        t.markers[name] |= set(webhook_ids)
        notice = f"WALK-notice-{name}"
        async with db.acquire() as conn:
            await webhook_store.notify(conn, org, "endpoint.disabled", res[name]["endpoint_id"], notice, notice)
        t.markers[name].add(notice)
    for name, actor in actors.items():
        res[name]["key_id"] = str(await db.fetchval("SELECT id FROM api_keys WHERE organisation_id = $1", actor.org.id))
    # Consent is withdrawn, so that no by-design sharing (banks read consenting enterprises) is left in the walk.
    for name in ("enterprise", "other_enterprise"):
        e = actors[name]
        url = f"{API}/pool/consent/{e.org.credit_code}"
        await expect(await client.put(url, headers=e.headers, json={"consent_share": False}))
    for name, actor in actors.items():
        t.calls[name] = _calls(name, actor, res)
    t.own_lists = _own_lists()
    return t


# --- the calls on each organisation's resources ---------------------------------------------------------------


def _registry(actor: Actor, res: dict[str, str]) -> list[Call]:
    org = {"org_id": str(actor.org.id)}
    calls = [
        Call("GET", "/organisations/{org_id}", org),
        Call("PATCH", "/organisations/{org_id}", org, body={"city": "走查市"}),
        Call("GET", "/organisations/{org_id}/keys", org),
        Call("POST", "/organisations/{org_id}/keys", org, body={"label": "walk"}),
        Call("DELETE", "/keys/{key_id}", {"key_id": res["key_id"]}),
    ]
    calls += [Call("POST", f"/organisations/{{org_id}}/{a}", org, body={"reason": "走查"}) for a in STATUS_MOVES]
    return calls


def _agenda(event_id: str, org_id: str) -> list[Call]:
    ev, q = {"event_id": event_id}, {"organisation_id": org_id}
    return [Call("GET", f"/roadshow/events/{{event_id}}/agenda{ext}", ev, q) for ext in ("", ".ics", ".html")]


def _calls(name: str, actor: Actor, all_res: dict[str, dict[str, str]]) -> list[Call]:
    res = all_res[name]
    calls = _registry(actor, res)
    event_id = all_res["operator"].get("event_id", "")
    org_id = str(actor.org.id)
    if actor.org.kind == "enterprise":
        cc = {"credit_code": actor.org.credit_code}
        number = {"number": res["number"]}
        aid = {"assessment_id": res["assessment_id"]}
        inv = {"event_id": event_id, "enterprise_id": org_id}
        calls += [
            Call("GET", "/enterprises/{credit_code}", cc),
            Call("PATCH", "/enterprises/{credit_code}", cc, body={"revenue": 1.0}),
            Call("GET", "/enterprises/{credit_code}/history", cc),
            Call("GET", "/patents/{number}", number),
            Call("POST", "/patents/{number}/events", number, body={"kind": "licence", "date": "2024-01-01"}),
            Call("GET", "/assessments/{assessment_id}", aid),
            Call("GET", "/assessments/{assessment_id}/html", aid),
            Call("GET", "/assessments", query={"enterprise": actor.org.credit_code}),
            Call("GET", "/pool/eligibility/{credit_code}", cc),
            Call("GET", "/pool/entries/{credit_code}", cc),
            Call("PUT", "/pool/consent/{credit_code}", cc, body={"consent_share": True}),
            Call("GET", "/pool/entries/{credit_code}/progress-reports", cc),
            Call(
                "POST",
                "/pool/entries/{credit_code}/progress-reports",
                cc,
                body={"reported_on": dt.date.today().isoformat(), "note": "走查"},
            ),
            Call("POST", "/pool/applications", body={"credit_code": actor.org.credit_code}),
            Call("POST", "/pool/entries/{credit_code}/review", cc, body={"note": "走查"}),
            Call("POST", "/pool/entries/{credit_code}/admit", cc, body={"note": "走查"}),
            Call("POST", "/pool/entries/{credit_code}/reject", cc, body={"reason": "走查测试"}),
            Call("POST", "/pool/entries/{credit_code}/graduate", cc, body={"reason": "走查"}),
            Call(
                "POST",
                "/pool/entries/{credit_code}/withdraw",
                cc,
                body={"reason_code": "voluntary", "reason": "走查测试"},
            ),
            Call(
                "POST",
                "/roadshow/events/{event_id}/invitations/{enterprise_id}/accept",
                inv,
                body={"max_meetings": 1},
            ),
            Call("POST", "/roadshow/events/{event_id}/invitations/{enterprise_id}/decline", inv),
            *_agenda(event_id, org_id),
        ]
    elif actor.org.kind in ("bank", "fund"):
        org = {"org_id": org_id}
        kind = "bank" if actor.org.kind == "bank" else "vc_pe"
        calls += [
            Call("GET", "/institutions/{org_id}/criteria", org),
            Call("PUT", "/institutions/{org_id}/criteria", org, body={"kind": kind, "thesis": "走查"}),
            Call("GET", "/institutions/{org_id}/criteria/history", org),
        ]
        if "list_id" in res:
            calls += _institution_calls(res, event_id, org_id)
    else:
        calls += _operator_calls(res)
    return calls


def _institution_calls(res: dict[str, str], event_id: str, org_id: str) -> list[Call]:
    listed, mine = {"list_id": res["list_id"]}, {"organisation_id": org_id}
    ep, wh = {"endpoint_id": res["endpoint_id"]}, {"webhook_id": res["webhook_id"]}
    signup = {"event_id": event_id, "signup_id": res["signup_id"]}
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    return [
        Call("GET", "/push-lists/{list_id}", listed),
        *[Call("GET", "/push-lists/{list_id}/{fmt}", {**listed, "fmt": f}) for f in ("csv", "xlsx")],
        Call("GET", "/push-lists/current", query=mine),
        *[Call("GET", "/push-lists/current/{fmt}", {"fmt": f}, mine) for f in ("csv", "xlsx")],
        Call("GET", "/push-lists", query=mine),
        Call("GET", "/feedback", query=mine, shared=True),  # a bank or fund gets its own rows whatever it names
        Call("GET", "/webhooks/endpoints/{endpoint_id}", ep),
        Call("PATCH", "/webhooks/endpoints/{endpoint_id}", ep, body={"description": "走查"}),
        *[Call("POST", f"/webhooks/endpoints/{{endpoint_id}}/{a}", ep) for a in ("disable", "enable", "rotate-secret")],
        Call("POST", "/webhooks/endpoints/{endpoint_id}/recover", ep, body={"since": since}),
        Call("GET", "/webhooks/deliveries", query={"endpoint_id": res["endpoint_id"]}, shared=True),
        Call("GET", "/webhooks/deliveries/{webhook_id}", wh),
        Call("POST", "/webhooks/deliveries/{webhook_id}/replay", wh),
        Call("GET", "/roadshow/events/{event_id}/signups/{signup_id}/preferences", signup),
        Call("PUT", "/roadshow/events/{event_id}/signups/{signup_id}/preferences", signup, body={"preferences": []}),
        Call("DELETE", "/roadshow/events/{event_id}/signups/{signup_id}", signup),
        Call(
            "PUT",
            "/roadshow/events/{event_id}/meetings/{meeting_id}/outcome",
            {"event_id": event_id, "meeting_id": res["meeting_id"]},
            body={"attended": True, "intention": "follow_up"},
        ),
        *_agenda(event_id, org_id),
    ]


def _operator_calls(res: dict[str, str]) -> list[Call]:
    ev, draft = {"event_id": res["event_id"]}, {"event_id": res["draft_id"]}
    meeting = {**ev, "meeting_id": res["meeting_id"]}
    calls = [
        Call("GET", "/push-runs/{run_id}", {"run_id": res["run_id"]}),
        Call("PATCH", "/push-schedules/{schedule_id}", {"schedule_id": res["schedule_id"]}, body={"enabled": False}),
        # the published event: shared with every participant for reading; only operators change it
        Call("GET", "/roadshow/events/{event_id}", ev, shared=True),
        *[Call("GET", f"/roadshow/events/{{event_id}}/{x}", ev, shared=True) for x in EVENT_LISTS],
        Call("PATCH", "/roadshow/events/{event_id}/meetings/{meeting_id}", meeting, body={"locked": True}),
        Call("DELETE", "/roadshow/events/{event_id}/meetings/{meeting_id}", meeting),
    ]
    for target in (ev, draft):
        calls += [
            Call("PATCH", "/roadshow/events/{event_id}", target, body={"venue": "走查"}),
            *[
                Call("POST", f"/roadshow/events/{{event_id}}/{m}", target)
                for m in ("open", "close", "reopen", "complete")
            ],
            Call("GET", "/roadshow/events/{event_id}/stats", target),
            Call("POST", "/roadshow/events/{event_id}/pair", target),
            Call("POST", "/roadshow/events/{event_id}/schedule", target, body={"time_limit_s": 1}),
            Call("POST", "/roadshow/events/{event_id}/publish", target),
            Call(
                "POST", "/roadshow/events/{event_id}/invitations", target, body={"enterprise_ids": [str(uuid.uuid4())]}
            ),
            Call(
                "POST",
                "/roadshow/events/{event_id}/meetings",
                target,
                body={"enterprise_id": str(uuid.uuid4()), "signup_id": str(uuid.uuid4())},
            ),
        ]
    # the draft event: operators only, for reading too
    calls += [Call("GET", "/roadshow/events/{event_id}", draft)]
    calls += [Call("GET", f"/roadshow/events/{{event_id}}/{x}", draft) for x in EVENT_LISTS]
    calls += [Call("POST", "/roadshow/events/{event_id}/signups", draft, body={"max_meetings": 2})]
    return calls


def _own_lists() -> list[Call]:
    """Routes that answer with the caller's own rows (or 403): no other organisation's private data."""
    calls = [
        Call("GET", path, shared=True)
        for path in (
            "/feedback",
            "/push-lists",
            "/push-lists/current",
            "/push-lists/current/csv",
            "/webhooks/endpoints",
            "/webhooks/deliveries",
            "/webhooks/notifications",
            "/assessments",
            "/patents",
            "/enterprises",
            "/organisations",
            "/pool/entries",
            "/roadshow/events",
        )
    ]
    calls += [Call("GET", "/feedback/stats", query={"by": by}, shared=True) for by in ("province", "institution")]
    return calls


# --- the walk ------------------------------------------------------------------------------------------------


def _leaks(response: Any, markers: set[str], url: str) -> list[str]:
    return [m for m in markers if m not in url and m.encode() in response.content]


def _route_detail(response: Any, call: Call) -> str:
    return f"{call.method} {call.template} -> {response.status_code} {response.text[:300]}"


async def test_every_role_against_every_other_organisation(client: Any, db: Any, world: Any) -> None:
    t = await build(client, db, world)
    schema = (await client.get("/schema/openapi.json")).json()
    check_coverage(schema, t)
    audited = await db.fetchval("SELECT coalesce(max(id), 0) FROM audit_log")
    problems: list[str] = []

    async def walk(who: str, actor: Actor) -> int:
        private = set().union(*(m for owner, m in t.markers.items() if owner != who))
        visited = 0
        for owner, calls in t.calls.items():
            if owner == who:
                continue
            for call in calls:
                r = await send(client, actor, call)
                visited += 1
                allowed = (403, 404, 200) if call.shared else (403, 404)
                if r.status_code not in allowed:
                    problems.append(f"{who} on {owner}'s {_route_detail(r, call)}")
                elif r.status_code == 404 and r.json().get("detail", "").startswith(f"{call.method} /"):
                    problems.append(f"{who}: no such route {_route_detail(r, call)}")
                if leaked := _leaks(r, private, call.url):
                    problems.append(f"{who} saw {owner}'s {leaked} via {call.method} {call.url}")
        return visited

    visited = 0
    for who, actor in t.actors.items():
        if who != "operator":
            visited += await walk(who, actor)
    assert not problems, "\n".join(problems)
    written = await db.fetch("SELECT actor_org, action, subject_id FROM audit_log WHERE id > $1", audited)
    names = {a.org.id: n for n, a in t.actors.items()}
    assert not written, f"refused requests wrote audit rows: {[(names.get(w[0]), w[1], w[2]) for w in written]}"

    # Lists that answer with the caller's own rows carry no other organisation's private data.
    for who, actor in t.actors.items():
        if who == "operator":
            continue
        private = set().union(*(m for owner, m in t.markers.items() if owner != who))
        for call in t.own_lists:
            r = await send(client, actor, call)
            visited += 1
            if r.status_code >= 500 or _leaks(r, private, call.url):
                problems.append(f"{who} on its own list {_route_detail(r, call)}")
    assert not problems, "\n".join(problems)
    assert visited > 500

    # Owners read their own resources and operators read everyone's (so no URL above was simply wrong).
    operator = t.actors["operator"]
    for owner, calls in t.calls.items():
        for call in calls:
            if call.method != "GET":
                continue
            r = await send(client, operator, call)
            if r.status_code != 200:
                problems.append(f"operator on {owner}'s {_route_detail(r, call)}")
            if owner != "operator" and owner != "pending_bank":
                r = await send(client, t.actors[owner], call)
                if r.status_code != 200:
                    problems.append(f"{owner} on its own {_route_detail(r, call)}")
    assert not problems, "\n".join(problems)

    # The investor keeps its own outcome record (the enterprise side does not see it: checked in the walk).
    fund, ev = t.actors["fund"], next(c for c in t.calls["operator"] if c.template.endswith("/meetings") and c.shared)
    assert b"WALK-outcome-fund" in (await send(client, fund, ev)).content

    # The one sharing by design: a bank reads the assessments of an enterprise that consents to share.
    e = t.actors["enterprise"]
    await expect(
        await client.put(f"{API}/pool/consent/{e.org.credit_code}", headers=e.headers, json={"consent_share": True})
    )
    url = next(c.url for c in t.calls["enterprise"] if c.template == "/assessments/{assessment_id}")
    assert (await client.get(url, headers=t.actors["bank"].headers)).status_code == 200
    assert (await client.get(url, headers=t.actors["fund"].headers)).status_code == 403
    assert (await client.get(url, headers=t.actors["other_enterprise"].headers)).status_code == 404


def check_coverage(schema: dict[str, Any], t: Tenants) -> None:
    """Every route naming an organisation's resource (path parameter or selector query) is in the walk."""
    walked = {c.route for calls in t.calls.values() for c in calls}
    routes: set[tuple[str, str]] = set()
    tenant: set[tuple[str, str]] = set()
    unknown: list[str] = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            route = (method.upper(), path)
            routes.add(route)
            names = {p.strip("{}").split(":")[0] for p in path.split("/") if p.startswith("{")}
            queries = {p["name"] for p in item[method].get("parameters", []) if p.get("in") == "query"}
            unknown += [f"{method.upper()} {path}: {n}" for n in names - RESOURCE_PARAMS - set(GLOBAL_PARAMS)]
            if names & RESOURCE_PARAMS or queries & SELECTOR_QUERIES:
                tenant.add(route)
    assert not unknown, f"classify these path parameters (RESOURCE_PARAMS or GLOBAL_PARAMS): {unknown}"
    assert walked <= routes, f"walked routes missing from the schema: {sorted(walked - routes)}"
    missing = sorted(tenant - walked)
    assert not missing, f"routes naming an organisation's resource that the tenancy walk does not visit: {missing}"


def test_walk_covers_every_route_naming_an_organisations_resource() -> None:
    """The coverage check alone, without a database: a new route fails here until the walk visits it."""
    from types import SimpleNamespace

    from ipledge.app import create_app

    app = create_app(load_settings({}, database_url="postgresql://unused/none"))
    kinds = {"operator": "operator", "enterprise": "enterprise", "bank": "bank", "fund": "fund"}
    actors = {
        name: Actor(org=SimpleNamespace(id=uuid.uuid4(), kind=kind, credit_code="x" * 18), key="")  # type: ignore[arg-type]
        for name, kind in kinds.items()
    }
    ids = ("key_id", "number", "assessment_id", "list_id", "endpoint_id", "webhook_id", "signup_id", "meeting_id")
    res = {name: {k: str(uuid.uuid4()) for k in ids} for name in kinds}
    res["operator"].update({k: str(uuid.uuid4()) for k in ("event_id", "draft_id", "run_id", "schedule_id")})
    t = Tenants(actors=actors, calls={name: _calls(name, actor, res) for name, actor in actors.items()})
    check_coverage(app.openapi_schema.to_schema(), t)
