import base64
import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from matching.webhooks import InvalidSecretError, decode_secret, generate_secret, sign, signed_headers


def test_generated_secret_has_the_standard_form():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert generate_secret() != secret
    assert len(decode_secret(generate_secret(64))) == 64


@pytest.mark.parametrize("n", [0, 23, 65])
def test_secret_length_outside_24_64_is_refused(n):
    with pytest.raises(InvalidSecretError):
        generate_secret(n)


@pytest.mark.parametrize(
    "secret",
    [
        "abc",
        "whsec_!!!notbase64",
        "whsec_" + base64.b64encode(b"x" * 10).decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
    ],
)
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(InvalidSecretError):
        decode_secret(secret)


def test_known_vector_from_the_specification_libraries():
    # Vector used by the standardwebhooks reference test-suite.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(msg_id, 1614265330, body, [secret]) == expected


def test_reference_library_verifies_our_signature():
    secret = generate_secret()
    now = int(time.time())
    body = '{"type":"push_list.published","data":{"push_run_id":"r1","count":200,"名称":"集成电路"}}'.encode()
    headers = signed_headers("msg_1", now, body, [secret])
    assert Webhook(secret).verify(body, headers) == {
        "type": "push_list.published",
        "data": {"push_run_id": "r1", "count": 200, "名称": "集成电路"},
    }
    assert (
        Webhook(secret).sign("msg_1", dt.datetime.fromtimestamp(now, dt.UTC), body.decode())
        == headers["webhook-signature"]
    )


def test_rotation_signs_with_both_secrets_and_either_verifies():
    old, new = generate_secret(), generate_secret(48)
    now = int(time.time())
    headers = signed_headers("msg_2", now, b"{}", [new, old])
    assert headers["webhook-signature"].count("v1,") == 2
    Webhook(old).verify(b"{}", headers)
    Webhook(new).verify(b"{}", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(b"{}", headers)


def test_tampered_body_or_timestamp_fails_verification():
    secret = generate_secret()
    now = int(time.time())
    headers = signed_headers("msg_3", now, b'{"a":1}', [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":1}', {**headers, "webhook-timestamp": str(now - 1)})


def test_signing_needs_a_secret():
    with pytest.raises(InvalidSecretError):
        sign("m", 1, b"", [])


@settings(max_examples=50)
@given(
    msg_id=st.text(min_size=1, max_size=40).filter(lambda s: " " not in s),
    body=st.binary(max_size=300).map(lambda b: b.hex()),
)
def test_any_id_and_body_verify_with_the_reference_library(msg_id, body):
    secret = generate_secret()
    headers = signed_headers(msg_id, int(time.time()), body, [secret])
    Webhook(secret).verify(body, headers, json_parse=False)
