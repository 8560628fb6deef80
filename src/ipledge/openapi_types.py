"""OpenAPI schema corrections for types Litestar describes wrongly."""

from __future__ import annotations

from datetime import time
from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition


class TimeOfDaySchemaPlugin(OpenAPISchemaPlugin):
    """``datetime.time`` is a local time of day, not a duration as Litestar 2 says.

    Not ``format: time`` either: RFC 3339 full-time requires an offset, and ours are local
    (Asia/Shanghai) wall-clock times such as ``09:00:00``.
    """

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(
            type=OpenAPIType.STRING,
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$",
            description="local time of day, HH:MM:SS",
            examples=["09:00:00"],
        )
