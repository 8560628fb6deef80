"""HTTP controllers of the matching domain (thin: validate, call the core and the store, return a Struct)."""

from __future__ import annotations

from litestar import Controller

from matching.api_feedback import CONTROLLERS as FEEDBACK
from matching.api_institutions import CONTROLLERS as INSTITUTIONS
from matching.api_pool import CONTROLLERS as POOL
from matching.api_push import CONTROLLERS as PUSH

CONTROLLERS: list[type[Controller]] = [*POOL, *INSTITUTIONS, *PUSH, *FEEDBACK]
