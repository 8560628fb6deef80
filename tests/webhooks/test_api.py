"""The webhooks API: endpoints, secrets, tenancy, the SSRF guard, deliveries, replay and recovery."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from ipledge import outbox
from ipledge.app import create_app
from ipledge.settings import load_settings
from tests.webhooks.conftest import register, running_worker, until
from tests.webhooks.receiver import Answer, Receiver

EP = "/api/v1/webhooks/endpoints"
DL = "/api/v1/webhooks/deliveries"


async def test_secret_is_shown_once_and_the_endpoint_is_listed(client: Any, world: Any) -> None:
    response = await client.post(
        EP,
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["push_list.published"], "description": "总行"},
        headers=world.bank.headers,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) - 6 >= 24
    endpoint = created["endpoint"]
    assert endpoint["organisation_id"] == str(world.bank.org.id) and endpoint["enabled"] is True
    one = await client.get(f"{EP}/{endpoint['id']}", headers=world.bank.headers)
    assert one.status_code == 200 and "whsec_" not in one.text and one.json() == endpoint
    page = (await client.get(EP, headers=world.bank.headers)).json()
    assert [e["id"] for e in page["items"]] == [endpoint["id"]] and page["next_cursor"] is None


async def test_secrets_are_encrypted_at_rest_when_a_key_is_set(
    db: Any, world: Any, settings: Any, receiver: Receiver
) -> None:
    keyed = load_settings(
        {}, **{f: getattr(settings, f) for f in settings.__struct_fields__ if f != "secret_key"}, secret_key="k" * 40
    )
    async with AsyncTestClient(app=create_app(keyed)) as client:
        _, secret = await register(client, world.bank, receiver.url)
    sealed = await db.fetchval("SELECT secret_sealed FROM webhook_endpoints")
    assert sealed.startswith("fernet:") and secret not in sealed and secret[6:] not in sealed
    receiver.secrets = [secret]
    await outbox.enqueue(db, event_type="push_list.published", organisation_id=world.bank.org.id, payload={})

    async def delivered() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM webhook_messages WHERE status = 'succeeded'") == 1)

    async with running_worker(keyed):
        await until(delivered, what="a delivery signed with the decrypted secret")
    assert [r.verified for r in receiver.received] == [True]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/h", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:9/h", "event_types": ["pool.nope"]}, "event_types"),
        ({"url": "http://127.0.0.1:9/h", "event_types": ["push_list.published", "push_list.published"]}, "event_types"),
        ({"url": "ftp://127.0.0.1/h", "event_types": ["push_list.published"]}, "url"),
        ({"url": "http://[::1/h", "event_types": ["push_list.published"]}, "url"),
        ({"url": "http://127.0.0.1:9/h", "event_types": ["push_list.published"], "secret": "x"}, "secret"),
    ],
)
async def test_bad_endpoints_are_422_naming_the_field(client: Any, world: Any, body: Any, field: str) -> None:
    response = await client.post(EP, json=body, headers=world.bank.headers)
    assert response.status_code == 422, response.text
    assert field in {e["field"].split(".")[0].split("[")[0] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "https://localhost/hook",
    ],
)
async def test_ssrf_guard_refuses_private_and_plain_http(settings: Any, world: Any, url: str) -> None:
    strict = load_settings(
        {}, **{f: getattr(settings, f) for f in settings.__struct_fields__ if f != "allow_private_webhooks"}
    )
    async with AsyncTestClient(app=create_app(strict)) as client:
        response = await client.post(
            EP, json={"url": url, "event_types": ["push_list.published"]}, headers=world.bank.headers
        )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "url"


async def test_tenancy_endpoints_and_deliveries(db: Any, client: Any, world: Any) -> None:
    endpoint_id, _ = await register(client, world.bank, "http://127.0.0.1:9/hook")
    await outbox.enqueue(db, event_type="push_list.published", organisation_id=world.bank.org.id, payload={})
    webhook_id = await db.fetchval("SELECT id FROM webhook_messages")
    for path, method in [
        (f"{EP}/{endpoint_id}", "get"),
        (f"{EP}/{endpoint_id}/disable", "post"),
        (f"{EP}/{endpoint_id}/rotate-secret", "post"),
        (f"{DL}/{webhook_id}", "get"),
        (f"{DL}/{webhook_id}/replay", "post"),
    ]:
        response = await getattr(client, method)(path, headers=world.fund.headers)
        assert response.status_code == 404, (path, response.text)
    patched = await client.patch(f"{EP}/{endpoint_id}", json={"description": "x"}, headers=world.fund.headers)
    assert patched.status_code == 404
    recovered = await client.post(
        f"{EP}/{endpoint_id}/recover", json={"since": "2024-01-01T00:00:00Z"}, headers=world.fund.headers
    )
    assert recovered.status_code == 404
    assert (await client.get(EP, headers=world.fund.headers)).json()["items"] == []
    assert (await client.get(DL, headers=world.fund.headers)).json()["items"] == []
    for actor in (world.enterprise, world.pending_bank):
        assert (await client.get(EP, headers=actor.headers)).status_code == 403
        assert (await client.get(DL, headers=actor.headers)).status_code == 403
    # The operator sees everything.
    assert [e["id"] for e in (await client.get(EP, headers=world.operator.headers)).json()["items"]] == [endpoint_id]
    assert [d["webhook_id"] for d in (await client.get(DL, headers=world.operator.headers)).json()["items"]] == [
        webhook_id
    ]


async def test_deliveries_filter_paginate_replay_and_recover(
    db: Any, client: Any, world: Any, settings: Any, receiver: Receiver
) -> None:
    endpoint_id, secret = await register(client, world.bank, receiver.url)
    receiver.secrets = [secret]
    receiver.behaviour = lambda _r, _n: Answer(status=500)
    bank = world.bank.org.id
    for i in range(3):
        await outbox.enqueue(db, event_type="pool.enterprise.admitted", organisation_id=bank, payload={"i": i})
    await outbox.enqueue(db, event_type="push_list.published", organisation_id=bank, payload={})

    async def count(status: str, n: int) -> Any:
        async def check() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM webhook_messages WHERE status = $1", status) == n)

        return check

    async with running_worker(settings):
        await until(await count("failed", 4), what="all four to fail")
    h = world.bank.headers
    failed = (await client.get(DL, params={"status": "failed"}, headers=h)).json()["items"]
    assert len(failed) == 4 and all(d["attempts"] == 8 and d["last_status_code"] == 500 for d in failed)
    admitted = (await client.get(DL, params={"event_type": "pool.enterprise.admitted"}, headers=h)).json()["items"]
    assert len(admitted) == 3
    first = (await client.get(DL, params={"limit": 3}, headers=h)).json()
    second = (await client.get(DL, params={"limit": 3, "cursor": first["next_cursor"]}, headers=h)).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert {d["webhook_id"] for d in first["items"] + second["items"]} == {d["webhook_id"] for d in failed}
    detail = (await client.get(f"{DL}/{failed[0]['webhook_id']}", headers=h)).json()
    assert [a["attempt_no"] for a in detail["attempts"]] == list(range(1, 9))
    # Each attempt got the receiver's 500, or (on a loaded machine) ran out of the tests' 1 s timeout; the
    # last one got the 500. (The first attempt's code was once not 500: most likely that timeout.)
    for attempt in detail["attempts"]:
        timed_out = attempt["response_code"] is None and "no 2xx within" in (attempt["error"] or "")
        assert attempt["response_code"] == 500 or timed_out, attempt
    assert detail["attempts"][-1]["response_code"] == 500, detail["attempts"][-1]
    assert detail["payload"].startswith('{"type":'), detail["payload"][:200]

    receiver.behaviour = lambda _r, _n: Answer()
    replayed = await client.post(f"{DL}/{failed[0]['webhook_id']}/replay", headers=h)
    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    async with running_worker(settings):
        await until(await count("succeeded", 1), what="the replay")
    assert receiver.ids().count(failed[0]["webhook_id"]) == 9  # same webhook-id, a new attempt

    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    recovered = await client.post(f"{EP}/{endpoint_id}/recover", json={"since": since}, headers=h)
    assert recovered.status_code == 200 and recovered.json() == {"requeued": 3}
    async with running_worker(settings):
        await until(await count("succeeded", 4), what="the recovered deliveries")
    assert {r.webhook_id for r in receiver.received if r.verified} == {d["webhook_id"] for d in failed}
    future = await client.post(f"{EP}/{endpoint_id}/recover", json={"since": "2999-01-01T00:00:00Z"}, headers=h)
    assert future.status_code == 422


async def test_disable_enable_and_replay_needs_an_enabled_endpoint(db: Any, client: Any, world: Any) -> None:
    endpoint_id, _ = await register(client, world.bank, "http://127.0.0.1:9/hook")
    await outbox.enqueue(db, event_type="push_list.published", organisation_id=world.bank.org.id, payload={})
    webhook_id = await db.fetchval("SELECT id FROM webhook_messages")
    disabled = await client.post(f"{EP}/{endpoint_id}/disable", headers=world.bank.headers)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert await db.fetchval("SELECT status FROM webhook_messages") == "failed"  # queued ones fail (recoverable)
    assert (await client.post(f"{DL}/{webhook_id}/replay", headers=world.bank.headers)).status_code == 409
    enabled = await client.post(f"{EP}/{endpoint_id}/enable", headers=world.bank.headers)
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None
    assert (await client.post(f"{DL}/{webhook_id}/replay", headers=world.bank.headers)).status_code == 202
    actions = [
        r["action"] for r in await db.fetch("SELECT action FROM audit_log WHERE action LIKE 'webhook%' ORDER BY id")
    ]
    assert actions == [
        "webhook_endpoint.created",
        "webhook_endpoint.disabled",
        "webhook_endpoint.enabled",
        "webhook_delivery.replayed",
    ]


async def test_update_and_unknown_ids(client: Any, world: Any) -> None:
    endpoint_id, _ = await register(client, world.bank, "http://127.0.0.1:9/hook")
    updated = await client.patch(
        f"{EP}/{endpoint_id}", json={"event_types": ["roadshow.agenda.published"]}, headers=world.bank.headers
    )
    assert updated.status_code == 200 and updated.json()["event_types"] == ["roadshow.agenda.published"]
    assert (await client.get(f"{EP}/{uuid.uuid4()}", headers=world.bank.headers)).status_code == 404
    assert (await client.get(f"{DL}/msg_{uuid.uuid4().hex}", headers=world.bank.headers)).status_code == 404
    assert (await client.get(f"{DL}/nonsense", headers=world.bank.headers)).status_code == 422
