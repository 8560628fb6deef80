"""Webhook delivery policy: when to retry, and what a response means (pure; the worker does I/O).

Usage in a worker, after attempt number ``n`` (1 = the first attempt) of a message::

    verdict = classify_response(status, headers, elapsed_s, policy)
    if verdict.outcome == "retry":
        when = next_attempt(n, now, verdict.retry_after, rng, policy)  # None: give up

The schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each with ±jitter) is data in
:class:`RetryPolicy`.
"""

import datetime as dt
import email.utils
import random
from collections.abc import Mapping
from typing import Literal

import msgspec

Outcome = Literal["success", "retry", "disable_endpoint"]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Versioned delivery settings."""

    version: str = "2024.1"
    #: Delay before retry k (k = 1..len), in seconds; after the last one the message has failed.
    delays_s: tuple[float, ...] = (5, 300, 1_800, 7_200, 18_000, 36_000, 36_000)
    #: Each delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter].
    jitter: float = 0.1
    #: A 2xx slower than this is a failure.
    success_timeout_s: float = 15.0
    #: A Retry-After above this is clamped, so a receiver cannot park a message for ever.
    max_retry_after_s: float = 36_000.0
    #: An endpoint that has failed continuously for this long is disabled.
    disable_after_s: float = 5 * 24 * 3600.0


DEFAULT_RETRY_POLICY = RetryPolicy()


class DeliveryVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """What one attempt's response means."""

    outcome: Outcome
    reason: str
    #: The raw Retry-After header to honour (only on 429/503).
    retry_after: str | None = None


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Parse a ``Retry-After`` header (delta-seconds or HTTP-date) into seconds from ``now``.

    Returns:
        Seconds (never negative), or None when the header is absent or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def next_attempt(
    attempt_no: int,
    now: dt.datetime,
    retry_after_header: str | None,
    rng: random.Random,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> dt.datetime | None:
    """When to make the next attempt after attempt number ``attempt_no`` failed.

    Args:
        attempt_no: How many attempts have been made (1 after the first one failed).
        now: The current time (timezone-aware, UTC).
        retry_after_header: A ``Retry-After`` to honour (from :func:`classify_response`), if any.
        rng: Random source for the jitter (seeded in tests).
        policy: The retry schedule.

    Returns:
        The time of the next attempt, or None when the schedule is exhausted.
    """
    if attempt_no < 1:
        raise ValueError(f"attempt_no starts at 1, got {attempt_no}")
    if attempt_no > len(policy.delays_s):
        return None
    asked = parse_retry_after(retry_after_header, now)
    if asked is not None:
        delay = min(asked, policy.max_retry_after_s)
    else:
        delay = policy.delays_s[attempt_no - 1] * rng.uniform(1 - policy.jitter, 1 + policy.jitter)
    return now + dt.timedelta(seconds=delay)


def classify_response(
    status: int | None,
    headers: Mapping[str, str] | None = None,
    elapsed_s: float | None = None,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
) -> DeliveryVerdict:
    """Classify one attempt.

    Args:
        status: HTTP status, or None when the connection failed or timed out.
        headers: Response headers (any case).
        elapsed_s: Time until the response arrived.
        policy: Supplies the success timeout.

    Returns:
        ``success`` for a 2xx in time; ``disable_endpoint`` for 410; otherwise ``retry``
        (redirects included: we never follow them), carrying Retry-After on 429/503.
    """
    if status is None:
        return DeliveryVerdict(outcome="retry", reason="no response (connection error or timeout)")
    if 200 <= status < 300:
        if elapsed_s is not None and elapsed_s > policy.success_timeout_s:
            return DeliveryVerdict(
                outcome="retry", reason=f"{status} after {elapsed_s:.1f} s (limit {policy.success_timeout_s:g} s)"
            )
        return DeliveryVerdict(outcome="success", reason=f"{status}")
    if status == 410:
        return DeliveryVerdict(outcome="disable_endpoint", reason="410 Gone: the receiver asked to stop")
    if 300 <= status < 400:
        return DeliveryVerdict(outcome="retry", reason=f"{status} redirect (redirects are not followed)")
    if status in (429, 503):
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        return DeliveryVerdict(outcome="retry", reason=f"{status}", retry_after=lowered.get("retry-after"))
    return DeliveryVerdict(outcome="retry", reason=f"{status}")


def should_disable_endpoint(
    failing_since: dt.datetime | None, now: dt.datetime, policy: RetryPolicy = DEFAULT_RETRY_POLICY
) -> bool:
    """Return True when an endpoint has failed without a success since ``failing_since`` for too long."""
    return failing_since is not None and (now - failing_since).total_seconds() >= policy.disable_after_s
