"""Dependencies shared by every controller."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from ipledge.auth import Principal
from ipledge.db.types import Pool

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size (1-500)")]
Cursor = Annotated[str | None, QueryParameter(max_length=500, description="Opaque cursor from next_cursor")]


def provide_pool(state: State) -> Pool:
    pool: Pool = state.pool
    return pool


def provide_principal(request: Request[Principal, Any, Any], pool: NamedDependency[Pool]) -> Principal:
    """The authenticated caller.

    ``pool`` is taken, unused, so that Litestar resolves the two dependencies one after the other: two
    dependencies with no order between them are resolved concurrently, in a task group with a task each,
    which costs more than both providers (they only read attributes) on every request.
    """
    del pool
    return request.user
