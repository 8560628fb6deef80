"""The application factory: ``create_app(settings, *, http_transport=None)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from os import PathLike
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from ipledge import __version__
from ipledge.admission import FairLimiter
from ipledge.auth import KeyCache, api_key_guard
from ipledge.db.runtime import open_database
from ipledge.deps import provide_pool, provide_principal
from ipledge.errors import EXCEPTION_HANDLERS, PROBLEM_JSON
from ipledge.metrics import publishing
from ipledge.observability import LEDGER, HealthController, request_context_middleware
from ipledge.openapi_types import TimeOfDaySchemaPlugin
from ipledge.registry.api import CONTROLLERS as REGISTRY_CONTROLLERS
from ipledge.settings import Settings, load_settings
from ipledge.strict import strict_body
from ipledge.webhooks.api import CONTROLLERS as WEBHOOK_CONTROLLERS
from matching.api import CONTROLLERS as MATCHING_CONTROLLERS
from matching.api_push import FILE_RESPONSES
from roadshow.api import CONTROLLERS as ROADSHOW_CONTROLLERS
from valuation.api import CONTROLLERS as VALUATION_CONTROLLERS

_PUBLIC = ["^/health$", "^/ready$", "^/metrics$", "^/schema"]
_SRC = Path(__file__).resolve().parents[1]
#: Each domain keeps its HTML templates (printable reports, agendas) in ``<domain>/templates``.
TEMPLATE_DIRS: list[Path | PathLike[Any] | str] = [
    _SRC / "valuation" / "templates",
    _SRC / "matching" / "templates",
    _SRC / "roadshow" / "templates",
]


async def _authorize_connection(self: BaseRouteHandler, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Run the route's guards, handing them the handler itself.

    Litestar hands each guard a shallow copy of the handler (a copy per request and guard, about a tenth
    of a small request's CPU). Our guards (``ipledge.auth.requires``) never look at the handler.
    """
    for guard in self.resolve_guards():
        await guard(connection, self)  # type: ignore[misc]  # Litestar's own loop has the same ignore


HTTPRouteHandler.authorize_connection = _authorize_connection  # type: ignore[method-assign]


def _problem_schemas() -> dict[str, Schema]:
    """``Problem`` (RFC 9457 with our ``errors`` and ``request_id``) and ``FieldError`` as OpenAPI schemas."""
    text, integer = Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.INTEGER)
    field_error = Schema(
        type=OpenAPIType.OBJECT,
        required=["field", "message"],
        properties={"field": text, "message": text},
        description="A field the request got wrong (a dotted path, e.g. patents[0].number) and why",
    )
    problem = Schema(
        type=OpenAPIType.OBJECT,
        required=["type", "title", "status"],
        properties={
            "type": text,
            "title": text,
            "status": integer,
            "detail": text,
            "instance": text,
            "errors": Schema(type=OpenAPIType.ARRAY, items=Reference(ref="#/components/schemas/FieldError")),
            "request_id": text,
        },
        description="RFC 9457 problem details; `errors` names each offending field",
    )
    return {"Problem": problem, "FieldError": field_error}


def _document_problems(openapi: OpenAPI) -> OpenAPI:
    """Every error response as it is sent: ``application/problem+json`` with a :class:`~ipledge.errors.Problem`.

    Litestar documents raised exceptions as ``application/json`` with its own validation-error shape; our
    exception handlers (``ipledge.errors``) answer every 4xx and 5xx with a problem document instead.
    """
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    components.schemas = {**(components.schemas or {}), **_problem_schemas()}
    openapi.components = components
    problem = {PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))}
    for item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            operation = getattr(item, method, None)
            for code, response in ((operation.responses or {}) if operation else {}).items():
                if code[:1] in ("4", "5") and isinstance(response, OpenAPIResponse):
                    response.content = dict(problem)
                files = FILE_RESPONSES.get(operation.operation_id or "") if operation else None
                if code == "200" and files and isinstance(response, OpenAPIResponse):
                    response.content = {
                        media: OpenAPIMediaType(
                            schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=what)
                        )
                        for media, what in files.items()
                    }
    return openapi


_build_openapi = OpenAPIPlugin._build_openapi


def _build_documented(self: OpenAPIPlugin) -> OpenAPI:
    return _document_problems(_build_openapi(self))


OpenAPIPlugin._build_openapi = _build_documented  # type: ignore[method-assign]


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="ipledge API",
        version=__version__,
        description="专利质押评估、培育库推送与“一月一链”路演 / patent pledge valuation, pool push lists and roadshows",
        path="/schema",
        render_plugins=[SwaggerRenderPlugin(path="/"), ScalarRenderPlugin(path="/scalar")],
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="API key")}
        ),
        security=[{"bearer": []}],
    )


def _limiters(settings: Settings) -> dict[str, FairLimiter]:
    """This process's admission limiters (see ipledge.admission), by the name routes give them."""
    return {"assessments": FairLimiter(settings.assessment_concurrency, settings.assessment_queue)}


def create_app(settings: Settings | None = None, *, http_transport: httpx.AsyncBaseTransport | None = None) -> Litestar:
    """Build the app; its lifespan owns the database pool and the one outbound HTTP client."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_database(settings) as pool:
            client = httpx.AsyncClient(
                transport=http_transport,
                timeout=httpx.Timeout(15.0, connect=5.0),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                follow_redirects=False,
            )
            app.state.pool = pool
            app.state.http = client
            app.state.settings = settings
            app.state.key_cache = KeyCache(settings.key_cache_seconds)
            LEDGER.drain()  # what an earlier app's event loop closed on (tests run several apps in one process)
            try:
                async with publishing():  # this worker's request counts, for the other workers' /metrics
                    try:
                        yield
                    finally:
                        LEDGER.drain()  # the last requests' counts and log lines, before the last publication
            finally:
                await client.aclose()

    app = Litestar(
        route_handlers=[
            HealthController,
            *REGISTRY_CONTROLLERS,
            *VALUATION_CONTROLLERS,
            *MATCHING_CONTROLLERS,
            *ROADSHOW_CONTROLLERS,
            *WEBHOOK_CONTROLLERS,
        ],
        lifespan=[lifespan],
        # Authentication is the first guard of every route (see api_key_guard), not a middleware.
        guards=[api_key_guard(_PUBLIC)],
        dependencies={
            "pool": Provide(provide_pool, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        before_request=strict_body,
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=_openapi(),
        plugins=[TimeOfDaySchemaPlugin()],
        template_config=TemplateConfig(directory=TEMPLATE_DIRS, engine=JinjaTemplateEngine),
        request_max_body_size=settings.max_body_bytes,
        state=State({"settings": settings, "limiters": _limiters(settings)}),
        debug=False,
    )
    # Wrap the whole app, not just matched routes, so 404s and 405s carry a request id and are counted too.
    app.asgi_handler = request_context_middleware(app.asgi_handler)
    return app
