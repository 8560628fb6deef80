"""Authentication, role guards, and every role against every other organisation's resources."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import credit_code, patent_number

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer ipk_not_a_real_key"}],
)
async def test_unauthenticated_requests_get_401_problem(client: Any, headers: dict[str, str]) -> None:
    r = await client.get("/api/v1/chains", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["status"] == 401


async def test_options_is_authenticated_and_public_paths_are_not(client: Any, world: Any) -> None:
    # OPTIONS was a 500 (the role guard found no user); it is authenticated like any other method.
    r = await client.options("/api/v1/valuation/methods/income")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    r = await client.options("/api/v1/valuation/methods/income", headers=world.enterprise.headers)
    assert r.status_code == 204 and "POST" in r.headers["allow"]
    for path in ("/health", "/metrics", "/schema/openapi.json"):
        assert (await client.get(path)).status_code == 200, path


async def test_revoked_key_stops_working(client: Any, world: Any) -> None:
    h = world.bank.headers
    assert (await client.get("/api/v1/chains", headers=h)).status_code == 200
    keys = (await client.get(f"/api/v1/organisations/{world.bank.org.id}/keys", headers=h)).json()
    assert all("key" not in k and "key_hash" not in k for k in keys)
    r = await client.delete(f"/api/v1/keys/{keys[0]['id']}", headers=h)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert (await client.get("/api/v1/chains", headers=h)).status_code == 401


async def test_keys_are_stored_hashed(db: Any, world: Any) -> None:
    rows = await db.fetch("SELECT key_hash, prefix FROM api_keys")
    assert rows and all(len(r["key_hash"]) == 32 for r in rows)
    assert world.operator.key.encode() not in [bytes(r["key_hash"]) for r in rows]


async def test_pending_bank_gets_nothing_until_approved(client: Any, world: Any) -> None:
    h = world.pending_bank.headers
    assert (await client.get("/api/v1/chains", headers=h)).status_code == 403
    me = await client.get("/api/v1/me", headers=h)
    assert me.status_code == 200 and me.json()["status"] == "pending"
    r = await client.post(
        f"/api/v1/organisations/{world.pending_bank.org.id}/approve",
        headers=world.operator.headers,
        json={"reason": "资料齐全"},
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    # Approval clears this process's key cache, so the same key works at once.
    assert (await client.get("/api/v1/chains", headers=h)).status_code == 200


async def test_role_guards(client: Any, world: Any) -> None:
    for actor in (world.enterprise, world.bank, world.fund):
        assert (await client.get("/api/v1/organisations", headers=actor.headers)).status_code == 403
        r = await client.post(
            "/api/v1/organisations/" + str(world.bank.org.id) + "/approve", headers=actor.headers, json={}
        )
        assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    assert (await client.get("/api/v1/enterprises", headers=world.enterprise.headers)).status_code == 403


async def _seed_patents(client: Any, world: Any) -> dict[str, str]:
    numbers = {}
    for name in ("enterprise", "other_enterprise"):
        actor = getattr(world, name)
        number = patent_number()
        r = await client.post(
            "/api/v1/patents",
            headers=actor.headers,
            json={
                "number": number,
                "title": "一种测试装置",
                "owner": actor.org.credit_code,
                "filing_date": "2020-01-01",
                "legal_status": "pending",
            },
        )
        assert r.status_code == 201, r.text
        numbers[name] = number
    return numbers


async def test_every_role_against_other_organisations(client: Any, world: Any) -> None:
    """Walk every non-operator role over every other organisation's resources: 403 or 404, never data."""
    numbers = await _seed_patents(client, world)
    actors = world.all()
    for who, actor in actors.items():
        if who in ("operator", "pending_bank"):
            continue
        for whose, target in actors.items():
            if whose == who:
                continue
            org = target.org
            urls = [f"/api/v1/organisations/{org.id}", f"/api/v1/organisations/{org.id}/keys"]
            if org.kind == "enterprise":
                urls.append(f"/api/v1/enterprises/{org.credit_code}/history")
                # Banks and funds may read consenting enterprises only; other enterprises never.
                if who == "enterprise" or who == "other_enterprise" or whose == "other_enterprise":
                    urls.append(f"/api/v1/enterprises/{org.credit_code}")
                    urls.append(f"/api/v1/patents/{numbers[whose]}")
            for url in urls:
                r = await client.get(url, headers=actor.headers)
                assert r.status_code in (403, 404), (who, url, r.status_code)
            r = await client.patch(f"/api/v1/organisations/{org.id}", headers=actor.headers, json={"city": "x市"})
            assert r.status_code in (403, 404), (who, whose)
            r = await client.post(f"/api/v1/organisations/{org.id}/keys", headers=actor.headers, json={})
            assert r.status_code in (403, 404), (who, whose)
            if org.kind == "enterprise":
                r = await client.patch(
                    f"/api/v1/enterprises/{org.credit_code}", headers=actor.headers, json={"revenue": 1.0}
                )
                assert r.status_code in (403, 404), (who, whose)


async def test_enterprise_lists_only_its_own_patents(client: Any, world: Any) -> None:
    numbers = await _seed_patents(client, world)
    r = await client.get("/api/v1/patents", headers=world.enterprise.headers)
    assert [p["number"] for p in r.json()["items"]] == [numbers["enterprise"]]
    r = await client.get(
        f"/api/v1/patents?owner={world.other_enterprise.org.credit_code}", headers=world.enterprise.headers
    )
    assert r.status_code == 404


async def test_bank_sees_consenting_enterprises_only_and_reads_are_audited(client: Any, world: Any, db: Any) -> None:
    numbers = await _seed_patents(client, world)
    r = await client.get("/api/v1/patents", headers=world.bank.headers)
    assert [p["number"] for p in r.json()["items"]] == [numbers["enterprise"]]
    r = await client.get("/api/v1/enterprises", headers=world.bank.headers)
    assert [e["credit_code"] for e in r.json()["items"]] == [world.enterprise.org.credit_code]
    r = await client.get(f"/api/v1/enterprises/{world.enterprise.org.credit_code}", headers=world.bank.headers)
    assert r.status_code == 200
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'enterprise.read' AND actor_org = $1", world.bank.org.id
    )
    assert audited == 1
    # A non-consenting enterprise and an unknown one get the same answer (no registry oracle).
    unknown = credit_code("44")
    for url in ("/api/v1/enterprises/{}", "/api/v1/patents?owner={}"):
        answers = []
        for code in (world.other_enterprise.org.credit_code, unknown):
            r = await client.get(url.format(code), headers=world.bank.headers)
            answers.append((r.status_code, r.json().get("detail")))
        assert answers[0] == answers[1] and answers[0][0] == 404, (url, answers)


def test_the_key_cache_keeps_a_valid_header_for_its_lifetime_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from ipledge import auth

    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    who = auth.Principal(uuid.uuid4(), uuid.uuid4(), "bank", "active", "")
    cache = auth.KeyCache(5.0)
    header = b"Bearer ipk_" + b"A" * 40
    assert cache.seen(header) is None
    cache.remember(header, who)
    assert cache.seen(header) is who and cache.seen(header + b" ") is None and cache.seen(b"") is None
    now[0] += 5.0
    assert cache.seen(header) is who  # to the end of its lifetime
    now[0] += 0.001
    assert cache.seen(header) is None  # then the key is looked up again (a revocation elsewhere shows)
    cache.remember(header, who)
    cache.clear()  # a revocation or a status change in this process
    assert cache.seen(header) is None
    off = auth.KeyCache(0.0)  # key_cache_seconds = 0: nothing is kept
    off.remember(header, who)
    assert off.seen(header) is None


async def test_a_header_with_other_spacing_or_case_is_the_same_key(client: Any, world: Any) -> None:
    key = world.bank.headers["Authorization"].partition(" ")[2]
    for header in (f"Bearer {key}", f"bearer {key}", f"BEARER  {key} ", f"Bearer {key}"):
        r = await client.get("/api/v1/chains", headers={"Authorization": header})
        assert r.status_code == 200, header
    r = await client.get("/api/v1/chains", headers={"Authorization": f"Bearer {key}x"})
    assert r.status_code == 401
