"""Shared pieces of the matching controllers: language, public base URL, province query values."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from ipledge.auth import requires
from ipledge.errors import InvalidInput, wants_english
from ipledge.regions import province_code
from matching.i18n import Lang

OPERATOR = requires("operator")
INSTITUTION = requires("bank", "fund")


def lang_of(request: Request[Any, Any, Any]) -> Lang:
    """``en`` when the client asks for English (``Accept-Language: en``), else ``zh``."""
    return "en" if wants_english(request) else "zh"


def provide_base_url(state: State) -> str:
    """The public base URL put into event links."""
    url: str = state.settings.public_base_url
    return url


BASE_URL = {"base_url": Provide(provide_base_url, sync_to_thread=False)}


def province_param(value: str | None) -> str | None:
    """A province query value (code or name) as its code; 422 on ``province`` when unknown."""
    if value is None:
        return None
    code = province_code(value)
    if code is None:
        raise InvalidInput("province", f"未知省份 {value!r} / unknown province")
    return code
