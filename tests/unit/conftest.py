"""Unit-test set-up: the collection importable as ``ansible_collections.aiohub.claude_desktop``.

``scripts/env.sh`` links the working tree as ``.cache/collections/ansible_collections/aiohub/claude_desktop``
and exports ``ANSIBLE_COLLECTIONS_PATH``. The ``ansible`` package in the venv ships its own
``ansible_collections`` namespace package, so the link directory must also be on ``sys.path`` for a plain
``python -m pytest tests/unit`` to import this collection. This file does that (idempotently; the
top-level ``tests/conftest.py`` may already have) and holds fixtures shared by the unit tests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "aiohub" / "claude_desktop"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(REPO)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))

# Hypothesis keeps caches even without an example database: put them under .cache, not the repository root.
try:
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:  # pragma: no cover - hypothesis is in tests/requirements.txt
    pass
else:
    set_hypothesis_home_dir(str(REPO / ".cache" / "hypothesis"))

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
