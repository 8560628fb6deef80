"""Benchmark the B2B scheduler on the public instances (QUALITY.md: scheduling).

Target: the 20 original instances with fairness 2, breaks <= the published optimum on every one, each
within 10 s on 2 cores; the non-precedence variants: a valid schedule or a proof of infeasibility within
10 s each. Every schedule is re-checked by the independent checker. `tail` is how long the solver's
background threads kept running after solve() returned (each is told to stop by the limit).

Usage: .venv/bin/python bench/bench_scheduling.py [--time-limit 10] [--only original] [--names forum-13 ...]
       [--no-probe]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from roadshow.scheduling import ProblemError, Result, check_schedule, load_dzn, solve  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "b2b"
VARIANTS = ("original", "forb0003", "forb0007", "fixed020-Forb", "fixed040-Forb")
PUBLISHED = {
    "forum-13": 0,
    "forum-13crafb": 6,
    "forum-13crafc": 1,
    "forum-14": 2,
    "forumt-14": 5,
    "forumt-14crafc": 5,
    "forumt-14crafd": 4,
    "forumt-14crafe": 5,
    "tic-12": 0,
    "tic-12crafc": 0,
    "tic-13": 0,
    "tic-13crafb": 0,
    "tic-13crafc": 4,
    "tic-14crafa": 0,
    "tic-14crafc": 0,
    "tic-14crafd": 0,
    "ticf-13crafa": 0,
    "ticf-13crafb": 3,
    "ticf-13crafc": 1,
    "ticf-14crafa": 0,
}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _tail(returned: float, wait_s: float = 5.0) -> float:
    """Seconds from solve()'s return until its background threads (named roadshow-*) have all ended."""
    while time.perf_counter() - returned < wait_s:
        if not any(t.name.startswith("roadshow-") and t.is_alive() for t in threading.enumerate()):
            break
        time.sleep(0.01)
    return time.perf_counter() - returned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--only", choices=VARIANTS, action="append")
    parser.add_argument("--names", nargs="*", default=sorted(PUBLISHED))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-probe", dest="probe", action="store_false", help="skip the relaxation probes")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"instances not found at {DATA}")
        return 1
    variants = args.only or list(VARIANTS)
    print(f"load average at start (1/5/15 min): {_load()} on {os.cpu_count()} cores")
    head = f"{'instance':16} {'variant':14} {'breaks':>6} {'publ.':>5} {'lb':>4} {'status':10} {'sec':>6} {'tail':>5}"
    print(f"{head} valid")
    rows = []
    for variant in variants:
        for name in args.names:
            path = DATA / f"{name}.{variant}.dzn"
            if not path.exists():
                continue
            problem = load_dzn(path, fairness=2)
            t0 = time.perf_counter()
            try:
                result = solve(problem, time_limit_s=args.time_limit, seed=args.seed, probe=args.probe)
            except ProblemError as exc:
                # a locked meeting outside its own session: no schedule can exist, rejected before solving
                result = Result(status="infeasible", breaks=None, lower_bound=None, solve_seconds=0.0)
                print(f"{name:16} {variant:14} rejected as malformed (so infeasible): {exc}")
            returned = time.perf_counter()
            secs = returned - t0
            tail = _tail(returned)
            errors = check_schedule(problem, result)
            publ = PUBLISHED[name] if variant == "original" else None
            rows.append((variant, name, result, publ, secs, not errors, tail))
            print(
                f"{name:16} {variant:14} {result.breaks!s:>6} {publ if publ is not None else '-':>5} "
                f"{result.lower_bound!s:>4} {result.status:10} {secs:6.2f} {tail:5.2f} "
                f"{'yes' if not errors else errors[:2]}",
                flush=True,
            )
    originals = [r for r in rows if r[0] == "original"]
    others = [r for r in rows if r[0] != "original"]
    if originals:
        hit = sum(1 for r in originals if r[2].breaks is not None and r[3] is not None and r[2].breaks <= r[3] and r[5])
        proved = sum(1 for r in originals if r[2].status == "optimal")
        print(
            f"originals: {hit}/{len(originals)} <= published optimum, {proved} proved optimal, "
            f"max {max(r[4] for r in originals):.2f} s, all valid: {all(r[5] for r in originals)}"
        )
    if others:
        settled = sum(1 for r in others if r[5] and r[2].status in ("optimal", "feasible", "infeasible"))
        worst = max(r[4] for r in others)
        print(f"variants: {settled}/{len(others)} valid schedule or proved infeasible, max {worst:.2f} s")
    if rows:
        print(f"threads still running after solve() returned: at most {max(r[6] for r in rows):.2f} s")
    print(f"load average at end (1/5/15 min): {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
