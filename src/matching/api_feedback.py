"""HTTP controllers of feedback: outcomes reported by banks and funds, with an Idempotency-Key."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, HeaderParameter, JSONBody, QueryParameter

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from ipledge.deps import Cursor, Limit
from matching import schemas as s
from matching import service_feedback as svc
from matching.api_common import INSTITUTION, lang_of

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A client-chosen key: the same key and body replay the first answer; another body is 409",
    ),
]
GroupBy = Annotated[Literal["province", "chain", "institution"], QueryParameter()]


class FeedbackController(Controller):
    path = "/api/v1/feedback"
    tags = ["feedback"]

    @post(operation_id="reportFeedback", guards=[INSTITUTION], summary="Report an outcome for an enterprise")
    async def report(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey,
        data: JSONBody[s.FeedbackIn],
    ) -> Response[s.Feedback]:
        """Contacted, declined (with reason), loan granted (amount, date, term, rate), investment intention/amount."""
        status, body = await svc.submit(pool, principal, idempotency_key, await request.body(), data)
        return Response(body, status_code=status)

    @get(operation_id="listFeedback", guards=[requires("operator", "bank", "fund")], summary="Reported outcomes")
    async def index(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        organisation_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> s.FeedbackPage:
        return await svc.index(pool, principal, organisation_id, cursor, limit)

    @get("/stats", operation_id="feedbackStats", guards=[requires("operator", "bank", "fund")])
    async def stats(
        self,
        request: Request[Principal, Any, Any],
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        by: GroupBy = "province",
    ) -> s.Stats:
        """Outcome counts and amounts per province, chain or institution (institutions: their own only)."""
        return await svc.stats(pool, principal, by, lang_of(request) == "en")


CONTROLLERS = [FeedbackController]
