"""The `ipledge matching …` subcommands."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add this domain's subcommands to the `ipledge` parser (`sub` is its subparsers object)."""
    del sub

