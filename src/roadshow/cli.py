"""The `ipledge roadshow …` subcommands: `solve` (the scheduling contract of ROADSHOW.md §4)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from ipledge.settings import Settings


def cmd_solve(args: argparse.Namespace, settings: Settings) -> int:
    """Read a problem (file or stdin), write the result JSON to stdout; exit 2 with a message on bad input."""
    del settings
    from ipledge.errors import InvalidInput
    from roadshow import scheduling_port

    try:
        raw = Path(args.problem).read_bytes() if args.problem else sys.stdin.buffer.read()
    except OSError as exc:
        print(f"error: {args.problem}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        problem = scheduling_port.decode_and_validate(raw)
    except InvalidInput as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    limit = args.time_limit if args.time_limit is not None else problem.time_limit_s
    result = scheduling_port.solve(problem, limit)
    sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")
    return 0


def _positive(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError("must be in (0, 3600] seconds")
    return seconds


def register(sub: Any) -> None:
    """Add this domain's subcommands to the `ipledge` parser (`sub` is its subparsers object)."""
    roadshow = sub.add_parser("roadshow", help="roadshows: meeting scheduling").add_subparsers(
        dest="roadshow_command", required=True
    )
    solve = roadshow.add_parser("solve", help="solve a B2B meeting-scheduling problem (JSON in, JSON out)")
    solve.add_argument("problem", nargs="?", help="problem JSON file (default: stdin)")
    solve.add_argument("--time-limit", type=_positive, help="seconds (overrides the problem's time_limit_s)")
    solve.set_defaults(func=cmd_solve)
