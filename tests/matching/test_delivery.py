import datetime as dt
import random

import pytest

from matching.delivery import (
    DEFAULT_RETRY_POLICY,
    RetryPolicy,
    classify_response,
    next_attempt,
    parse_retry_after,
    should_disable_endpoint,
)

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def test_schedule_follows_the_policy_within_jitter_then_stops():
    rng = random.Random(7)
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    for n, delay in enumerate(expected, start=1):
        when = next_attempt(n, NOW, None, rng)
        seconds = (when - NOW).total_seconds()
        assert delay * 0.9 <= seconds <= delay * 1.1
    assert next_attempt(8, NOW, None, rng) is None


def test_schedule_is_data_and_jitter_spreads_retries():
    policy = RetryPolicy(delays_s=(10,), jitter=0.0)
    assert next_attempt(1, NOW, None, random.Random(1), policy) == NOW + dt.timedelta(seconds=10)
    assert next_attempt(2, NOW, None, random.Random(1), policy) is None
    times = {next_attempt(1, NOW, None, random.Random(seed)) for seed in range(20)}
    assert len(times) > 10


def test_retry_after_is_honoured_and_clamped():
    rng = random.Random(0)
    assert next_attempt(1, NOW, "120", rng) == NOW + dt.timedelta(seconds=120)
    far = next_attempt(1, NOW, "99999999", rng)
    assert far == NOW + dt.timedelta(seconds=DEFAULT_RETRY_POLICY.max_retry_after_s)
    http_date = "Wed, 01 May 2024 12:10:00 GMT"
    assert next_attempt(3, NOW, http_date, rng) == NOW + dt.timedelta(minutes=10)
    assert parse_retry_after("garbage", NOW) is None
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", NOW) == 0.0


def test_attempt_numbers_start_at_one():
    with pytest.raises(ValueError):
        next_attempt(0, NOW, None, random.Random(0))


@pytest.mark.parametrize(
    ("status", "elapsed", "outcome"),
    [
        (200, 0.1, "success"),
        (204, None, "success"),
        (200, 15.5, "retry"),
        (301, 0.1, "retry"),
        (307, 0.1, "retry"),
        (400, 0.1, "retry"),
        (500, 0.1, "retry"),
        (410, 0.1, "disable_endpoint"),
        (None, None, "retry"),
    ],
)
def test_classification(status, elapsed, outcome):
    assert classify_response(status, {}, elapsed).outcome == outcome


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_passed_on_for_429_and_503_only(status):
    assert classify_response(status, {"Retry-After": "30"}).retry_after == "30"
    assert classify_response(500, {"Retry-After": "30"}).retry_after is None


def test_endpoint_disabled_after_five_days_of_failure():
    assert not should_disable_endpoint(None, NOW)
    assert not should_disable_endpoint(NOW - dt.timedelta(days=4, hours=23), NOW)
    assert should_disable_endpoint(NOW - dt.timedelta(days=5), NOW)
