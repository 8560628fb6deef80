"""OpenAPI schema corrections for types Litestar describes wrongly."""

from __future__ import annotations

from datetime import time
from typing import Any

from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition


class TimeOfDaySchemaPlugin(OpenAPISchemaPlugin):
    """``datetime.time`` is a time of day (``format: time``), not a duration as Litestar 2 says."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.TIME, examples=["09:00:00"])
