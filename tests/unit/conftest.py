"""Fixtures shared by the unit tests (the collection is made importable by ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

# Credential-looking values used across the unit tests. None of them is real.
API_KEY = "sk-ant-api03-unit-test-7f3c9a1e5b2d4c6f8a0b"
OTHER_KEY = "sk-ant-api03-unit-other-0a1b2c3d4e5f6071829"
CLIENT_SECRET = "cs-unit-Zq8wX3vR5tY7uI9oP1aS"
MCP_TOKEN = "ghp_unitTestToken0123456789abcdefABCDEF"


@pytest.fixture
def redactor():
    from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
    return Redactor([API_KEY, OTHER_KEY, CLIENT_SECRET, MCP_TOKEN])


def assert_no_secret(text, secrets=(API_KEY, OTHER_KEY, CLIENT_SECRET, MCP_TOKEN)):
    """Fail when any of ``secrets`` appears in ``text`` (any str/bytes/JSON-able value)."""
    import json
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = json.dumps(text, default=repr, ensure_ascii=False)
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, "secret value(s) leaked: %r in %r" % (leaked, text[:500])
