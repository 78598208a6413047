"""Redaction by value: every known secret leaves log lines (tracebacks included), stored errors and messages."""

import logging

from integrations.http import ClientError
from integrations.redaction import REDACTED, redact_text, redact_values, secrets_remember

log = logging.getLogger("tests.redaction")


def test_a_remembered_secret_is_redacted_wherever_it_appears_in_text():
    secrets_remember({"api_key": "plain-secret-0a1b2c"})
    assert redact_text("upstream said: plain-secret-0a1b2c is wrong") == f"upstream said: {REDACTED} is wrong"


def test_a_secret_is_redacted_in_its_escaped_and_url_encoded_spellings():
    secret = 'we"ird/sec ret+9'
    secrets_remember([secret])
    for text in ['{"k": "we\\"ird/sec ret+9"}', "x=we%22ird%2Fsec%20ret%2B9", "x=we%22ird%2Fsec+ret%2B9"]:
        assert "ird" not in redact_text(text), text


def test_each_line_of_a_secret_with_a_newline_is_redacted_too():
    secrets_remember(["first-half-7c2e\nsecond-half-91df"])
    text = redact_text("token first-half-7c2e\nsecond-half-91df and later second-half-91df alone")
    assert "half" not in text


def test_short_values_are_not_redacted_as_secrets():
    secrets_remember(["abc"])
    assert redact_text("abc def") == "abc def"


def test_values_in_a_payload_are_redacted_and_its_shape_kept():
    secrets_remember(["payload-secret-55aa"])
    payload = {"note": "key payload-secret-55aa", "lines": [{"sku": "A"}, "payload-secret-55aa"], "qty": 2}
    assert redact_values(payload) == {"note": f"key {REDACTED}", "lines": [{"sku": "A"}, REDACTED], "qty": 2}


def test_a_channel_error_never_carries_a_known_secret():
    secrets_remember(["echoed-key-3f9d0c"])
    assert "echoed-key" not in str(ClientError("invalid key echoed-key-3f9d0c", channel="shop", status=400))


def test_the_log_line_and_the_traceback_of_an_exception_are_redacted(console_log):
    secret = "tb-token-8e1f\ncontinued-4b2a"
    secrets_remember([secret])
    try:
        raise ValueError(f"the server rejected {secret}")
    except ValueError:
        log.exception("call with %s failed", secret)
    written = console_log.getvalue()
    assert "ValueError" in written and "Traceback" in written  # the traceback is logged, redacted
    assert "tb-token" not in written and "continued-4b2a" not in written
    assert REDACTED in written


def test_secrets_sharing_a_prefix_and_a_very_long_one_are_each_redacted_whole():
    long_token = "L" * 3000 + "-end"
    secrets_remember(["shared-prefix-aaaa", "shared-prefix-aaaabbbb", "shared-prefix-cc", long_token])
    text = redact_text(f"a shared-prefix-aaaabbbb b shared-prefix-aaaa c shared-prefix-cc d {long_token} e")
    assert text == f"a {REDACTED} b {REDACTED} c {REDACTED} d {REDACTED} e"


def test_an_admin_message_quoting_a_secret_is_redacted_by_the_configured_storage(rf):
    from django.contrib import messages
    from django.contrib.messages.storage import default_storage

    secrets_remember(["admin-message-secret-5c1e"])
    request = rf.get("/")
    request.session = {}
    storage = default_storage(request)  # settings.MESSAGE_STORAGE: what every admin page adds its messages to
    storage.add(messages.ERROR, "acme: connection failed — upstream said: admin-message-secret-5c1e is wrong")
    assert [str(message) for message in storage] == ["acme: connection failed — upstream said: [redacted] is wrong"]
