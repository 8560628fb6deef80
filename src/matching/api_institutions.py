"""HTTP controllers of institution criteria."""

from __future__ import annotations

import uuid

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from ipledge.auth import Principal, requires
from ipledge.db.types import Pool
from matching import schemas as s
from matching import service_institutions as svc

#: Banks and funds may register criteria while their organisation awaits approval.
OWNER_OR_OPERATOR = requires("operator", "bank", "fund", allow_pending=True)


class CriteriaController(Controller):
    path = "/api/v1/institutions/{org_id:uuid}/criteria"
    tags = ["institutions"]
    guards = [OWNER_OR_OPERATOR]

    @put(operation_id="registerCriteria", summary="Register a new version of a bank's or fund's criteria")
    async def register(
        self,
        pool: NamedDependency[Pool],
        principal: NamedDependency[Principal],
        org_id: FromPath[uuid.UUID],
        data: JSONBody[s.CriteriaIn],
    ) -> s.Criteria:
        """Type, provinces, chains, amount range, minimum grade, products, stages, thesis, region mandate."""
        return await svc.register(pool, principal, org_id, data)

    @get(operation_id="getCriteria", summary="The current criteria")
    async def current(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], org_id: FromPath[uuid.UUID]
    ) -> s.Criteria:
        return await svc.current(pool, principal, org_id)

    @get("/history", operation_id="criteriaHistory", summary="Every version, newest first")
    async def history(
        self, pool: NamedDependency[Pool], principal: NamedDependency[Principal], org_id: FromPath[uuid.UUID]
    ) -> list[s.Criteria]:
        return await svc.history(pool, principal, org_id)


CONTROLLERS = [CriteriaController]
