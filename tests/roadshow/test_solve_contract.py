"""The public solve contract (ROADSHOW.md §4) over HTTP and the CLI: malformed problems are refused naming the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

import roadshow.scheduling
from roadshow.scheduling.checker import check_schedule
from roadshow.scheduling.contract import Result, decode_problem

SOLVE = "/api/v1/roadshow/solve"


def problem(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slots": 6,
        "morning_slots": 3,
        "tables": 2,
        "fairness": 1,
        "time_limit_s": 5,
        "participants": [{"id": "e1", "unavailable": [6]}, {"id": "e2"}, {"id": "f1"}, {"id": "f2"}],
        "meetings": [
            {"id": "m1", "participants": ["e1", "f1"], "session": "any", "slot": None},
            {"id": "m2", "participants": ["e1", "f2"], "session": "am", "slot": None},
            {"id": "m3", "participants": ["e2", "f1"], "session": "pm", "slot": 5},
            {"id": "m4", "participants": ["e2", "f2"]},
        ],
    }
    body.update(overrides)
    return body


MALFORMED = [
    ({"meetings": [{"id": "m1", "participants": ["e1", "zz"]}]}, "meetings[0].participants[1]", "unknown participant"),
    ({"meetings": [{"id": "m1", "participants": ["e1", "e1"]}]}, "meetings[0].participants[1]", "twice"),
    ({"meetings": [{"id": "m1", "participants": ["e1", "f1"], "slot": 7}]}, "meetings[0].slot", "out of range"),
    ({"meetings": [{"id": "m1", "participants": ["e1", "f1"], "slot": 0}]}, "meetings[0].slot", ">= 1"),
    (
        {"participants": [{"id": "e1", "unavailable": [9]}, {"id": "f1"}], "meetings": []},
        "participants[0].unavailable[0]",
        "out of range",
    ),
    (
        {
            "tables": 1,
            "meetings": [
                {"id": "m1", "participants": ["e1", "f1"], "slot": 2},
                {"id": "m2", "participants": ["e2", "f2"], "slot": 2},
            ],
        },
        "meetings[1].slot",
        "tables",
    ),
    ({"slots": "6"}, "slots", "Expected `int`"),
    ({"colour": "red"}, "colour", "unknown field"),
]


async def test_malformed_problems_are_422_naming_the_field(client: Any, world: Any) -> None:
    for override, field, text in MALFORMED:
        response = await client.post(SOLVE, json=problem(**override), headers=world.fund.headers)
        assert response.status_code == 422, response.text
        error = response.json()["errors"][0]
        assert error["field"] == field and text in error["message"], error
    assert (await client.post(SOLVE, json=problem())).status_code == 401


def _cli(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ipledge.cli", "roadshow", "solve", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_cli_rejects_bad_input_with_a_message(tmp_path: Path) -> None:
    bad = _cli([], json.dumps(problem(meetings=[{"id": "m1", "participants": ["e1", "zz"]}])).encode())
    assert bad.returncode == 2 and b"meetings[0].participants[1]" in bad.stderr and not bad.stdout
    junk = _cli([], b"{not json")
    assert junk.returncode == 2 and b"malformed JSON" in junk.stderr
    missing = _cli([str(tmp_path / "nope.json")])
    assert missing.returncode == 2 and b"nope.json" in missing.stderr
    limit = _cli(["--time-limit", "-1"], b"{}")
    assert limit.returncode == 2


needs_solver = pytest.mark.skipif(
    not hasattr(roadshow.scheduling, "solve"), reason="the scheduler core (roadshow.scheduling.solve) is not there yet"
)


@needs_solver
async def test_solve_returns_the_contract_json_and_a_valid_schedule(client: Any, world: Any) -> None:
    body = problem()
    response = await client.post(SOLVE, json=body, headers=world.enterprise.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == {"status", "breaks", "lower_bound", "solve_seconds", "meetings", "participants"}
    assert result["status"] in ("optimal", "feasible")
    parsed = decode_problem(json.dumps(body).encode())
    assert check_schedule(parsed, msgspec.convert(result, Result)) == []
    assert next(m for m in result["meetings"] if m["id"] == "m3")["slot"] == 5  # locked


@needs_solver
def test_cli_solves_from_stdin_and_from_a_file(tmp_path: Path) -> None:
    raw = json.dumps(problem()).encode()
    from_stdin = _cli(["--time-limit", "5"], raw)
    assert from_stdin.returncode == 0, from_stdin.stderr
    result = msgspec.json.decode(from_stdin.stdout, type=Result)
    assert check_schedule(decode_problem(raw), result) == []
    path = tmp_path / "problem.json"
    path.write_bytes(raw)
    from_file = _cli([str(path)])
    assert from_file.returncode == 0 and json.loads(from_file.stdout)["status"] in ("optimal", "feasible")
