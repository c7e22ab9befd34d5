"""Guards for aetherops.redact: every rule that keeps a secret out of output, one behaviour per test."""

from __future__ import annotations

import pytest

from aetherops import redact


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch):
    """A process-wide set of its own for each test (other tests register secrets too)."""
    monkeypatch.setattr(redact, "_SECRETS", set())


@pytest.mark.parametrize("key", [
    "token", "password", "passwd", "secret", "api_key", "api-key", "apikey", "credential", "credentials",
    "webhook_url", "webhook-url", "webhookurl", "auth_key", "auth-key", "service_key", "service-key", "routing_key",
    "routing-key", "bot_token", "bot-token", "authorization", "cookie", "basic_auth_password", "x-api-key", "TOKEN",
    "Slack_Webhook_URL", "client_secret", "apiKey",
])
def test_secret_keys(key):
    assert redact.is_secret_key(key)


@pytest.mark.parametrize("key", [
    "tokens", "mytoken", "token_env", "password_file", "secretary", "url", "name", "keys", "routing", "author",
    "api", "cookies_allowed", "webhook", "passwords_count", "", "tokenized", "x_token_y",
])
def test_not_secret_keys(key):
    assert not redact.is_secret_key(key)


def test_secret_key_accepts_any_key_type():
    assert redact.is_secret_key(0) is False and redact.is_secret_key("token") is True


@pytest.mark.parametrize("name, secret", [
    ("Authorization", True), ("X-Api-Key", True), ("Cookie", True), ("X-Auth-Token", True), ("X-Secret", True),
    ("X-Password", True), ("Proxy-Credential", True), ("X-Hub-Signature", True), ("x-scope-orgid", False),
    ("Accept", False), ("Content-Type", False), ("User-Agent", False),
])
def test_secret_headers(name, secret):
    assert redact.is_secret_header(name) is secret


def test_register_needs_three_characters():
    for value in (None, "", "ab"):
        redact.register_secret(value)
    assert redact.known_secrets() == frozenset()
    redact.register_secret("abc")
    assert redact.known_secrets() == frozenset({"abc"})
    assert isinstance(redact.known_secrets(), frozenset)
    assert redact.redact("ab abc") == "ab ***"


def test_redact_replaces_every_occurrence_longest_first():
    redact.register_secret("hunter2")
    redact.register_secret("hunter2-extended")
    assert redact.redact("a=hunter2-extended b=hunter2 c=hunter2") == "a=*** b=*** c=***"
    assert redact.redact("nothing here") == "nothing here"
    assert redact.redact("") == ""


def test_longest_first_even_when_a_shorter_secret_sorts_later():
    redact.register_secret("zed1")
    redact.register_secret("a-zed1-b")  # contains the shorter one, which sorts after it alphabetically
    assert redact.redact("x a-zed1-b y zed1") == "x *** y ***"


def test_redact_of_nothing_with_secrets_registered():
    redact.register_secret("s3cr3t")
    assert redact.redact(None) is None and redact.redact("") == ""


def test_redact_without_secrets_returns_the_text_itself():
    text = "token=abc"
    assert redact.redact(text) is text
    assert redact.redact(None) is None


def test_redact_data_masks_by_key_and_by_value():
    redact.register_secret("s3cr3t-value")
    data = {
        "api_key": "plain-unregistered",
        "note": "uses s3cr3t-value inside",
        "nested": [{"password": 12345, "user": "ops"}, "s3cr3t-value", 7, None, True],
        "token": {"inner": "s3cr3t-value", "plain": "x"},
        "credentials": ["s3cr3t-value", "y"],
    }
    masked = redact.redact_data(data)
    assert masked == {
        "api_key": "***",
        "note": "uses *** inside",
        "nested": [{"password": "***", "user": "ops"}, "***", 7, None, True],
        "token": {"inner": "***", "plain": "x"},  # a mapping under a secret key is walked, not replaced
        "credentials": ["***", "y"],
    }
    assert data["api_key"] == "plain-unregistered" and masked is not data


@pytest.mark.parametrize("empty", [None, "", {}, []])
def test_empty_values_under_secret_keys_stay_as_they_are(empty):
    assert redact.redact_data({"token": empty}) == {"token": empty}


def test_redact_data_passes_other_types_through():
    value = object()
    assert redact.redact_data(value) is value
    assert redact.redact_data(3.5) == 3.5
    assert redact.redact_data(("a", "b")) == ("a", "b")
