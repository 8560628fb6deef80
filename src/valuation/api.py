"""HTTP controllers of the valuation domain (thin: validate, call the core and the store, return a Struct)."""

from __future__ import annotations

from litestar import Controller

CONTROLLERS: list[type[Controller]] = []
