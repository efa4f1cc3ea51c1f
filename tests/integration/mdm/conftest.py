"""Shared set-up of the managed policy / MDM export tests (real ansible-playbook runs)."""

from __future__ import annotations

import os
import plistlib
import shutil
import stat

import pytest

from tests.support.sandbox import Sandbox, require_sandbox

REPO = __import__("pathlib").Path(__file__).resolve().parents[3]
API_KEY = "sk-aiohub-mdm-test-4b9e2c7a1f3d5e6a8b0c"
OTHER_KEY = "sk-aiohub-mdm-other-9a8b7c6d5e4f30211234"
PLIST = "com.anthropic.claudefordesktop.plist"


@pytest.fixture
def sandbox(tmp_path):
    require_sandbox()
    return Sandbox(tmp_path, users=("alice", "bob"), platform="macos")


@pytest.fixture
def prefs_dir(sandbox):
    """Where a scratch 'Managed Preferences' folder goes (the module creates it, root-owned, like the real one).

    Its parent is world-traversable (pytest's own temporary tree is root-only), so the test users can try
    to read what the module writes, as the app does.
    """
    import tempfile
    parent = tempfile.mkdtemp(prefix="aiohub-mdm-", dir="/tmp")
    os.chmod(parent, 0o755)
    yield __import__("pathlib").Path(parent) / "Managed Preferences"
    shutil.rmtree(parent, ignore_errors=True)


def gateway_settings(key=API_KEY):
    return {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://api.aiohub.org",
        "inferenceGatewayApiKey": key,
        "inferenceModels": ["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}],
        "coworkEgressAllowedHosts": ["docs.aiohub.org"],
        "disableDeploymentModeChooser": True,
    }


def read_plist(path):
    with open(path, "rb") as handle:
        return plistlib.load(handle)


def file_facts(path):
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def snapshot(root):
    """Bytes, mode and mtime of everything under ``root`` (to prove that nothing changed)."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            data = open(path, "rb").read() if stat.S_ISREG(info.st_mode) else None
            found[path] = (data, info.st_mode, info.st_uid, info.st_gid, info.st_mtime_ns)
    return found


def recap(output, host="localhost"):
    line = [text for text in output.splitlines() if text.startswith(host + " ")][-1]
    return dict(item.split("=") for item in line.split(":", 1)[1].split())


def assert_ok(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
