"""posix_host + managed: managed sources that take over local configuration, and the running app."""

from __future__ import annotations

import json
import os
import plistlib
import subprocess
import sys
import time

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import UPDATE_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.layout import LINUX, MACOS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed import (
    PLIST_NAME, takeover_keys, takeover_warning,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_host import (
    _is_app, managed_sources, uids_running_app,
)

TAKEOVER = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": "https://api.aiohub.org"}
UPDATES_ONLY = {"disableAutoUpdates": True, "autoUpdaterEnforcementHours": 24, "updateViaUpdatesHost": False}


@pytest.fixture
def prefs(tmp_path):
    """A fake /Library/Managed Preferences: write(content, user=None) places the plist."""
    root = tmp_path / "Managed Preferences"
    root.mkdir()

    def write(content, user=None, raw=None):
        directory = root / user if user else root
        directory.mkdir(exist_ok=True)
        path = directory / PLIST_NAME
        if raw is not None:
            path.write_bytes(raw)
        else:
            with open(path, "wb") as handle:
                plistlib.dump(content, handle)
        return str(path)
    write.root = str(root)
    return write


# --- macOS managed plists -------------------------------------------------------------------------

def test_no_managed_plist(prefs):
    assert managed_sources(MACOS, "alice", prefs.root) == []


def test_update_keys_only_do_not_take_over(prefs):
    prefs(UPDATES_ONLY)
    prefs(dict(UPDATES_ONLY, PayloadUUID="x", PayloadIdentifier="y"), user="alice")
    assert managed_sources(MACOS, "alice", prefs.root) == []


@pytest.mark.parametrize("key", sorted(UPDATE_KEYS))
def test_every_update_key_alone_does_not_take_over(prefs, key):
    prefs({key: "value"})
    assert managed_sources(MACOS, "alice", prefs.root) == []


def test_global_plist_with_a_real_key_takes_over(prefs):
    path = prefs(dict(UPDATES_ONLY, **TAKEOVER))
    assert managed_sources(MACOS, "alice", prefs.root) == [(path, sorted(TAKEOVER))]


def test_per_user_plist_comes_first_and_only_for_that_user(prefs):
    user_path = prefs({"coworkTabEnabled": False}, user="alice")
    global_path = prefs({"inferenceProvider": "bedrock"})
    assert managed_sources(MACOS, "alice", prefs.root) == [(user_path, ["coworkTabEnabled"]),
                                                           (global_path, ["inferenceProvider"])]
    assert managed_sources(MACOS, "bob", prefs.root) == [(global_path, ["inferenceProvider"])]


def test_binary_plist_is_read(prefs):
    path = prefs(None, raw=plistlib.dumps(TAKEOVER, fmt=plistlib.FMT_BINARY))
    assert managed_sources(MACOS, "alice", prefs.root) == [(path, sorted(TAKEOVER))]


@pytest.mark.parametrize("raw, marker", [
    (b"this is not a plist", "<unreadable: InvalidFileException>"),
    (plistlib.dumps(["a", "list"]), "<not a dictionary>"),
])
def test_unusable_plist_counts_as_managed(prefs, raw, marker):
    """The app treats a managed source it cannot read as managed: warn rather than write in vain."""
    path = prefs(None, raw=raw)
    assert managed_sources(MACOS, "alice", prefs.root) == [(path, [marker])]


def test_unreadable_plist_counts_as_managed(prefs):
    path = prefs(TAKEOVER)
    if os.geteuid() == 0:
        os.unlink(path)
        os.mkdir(path)  # root reads any file regardless of its mode; a directory cannot be read by anyone
        expected = "<unreadable: IsADirectoryError>"
    else:
        os.chmod(path, 0)
        expected = "<unreadable: PermissionError>"
    assert managed_sources(MACOS, "alice", prefs.root) == [(path, [expected])]


def test_missing_preferences_directory(tmp_path):
    assert managed_sources(MACOS, "alice", str(tmp_path / "nowhere")) == []


# --- Linux managed file ------------------------------------------------------------------------------

def test_linux_managed_file(tmp_path):
    path = tmp_path / "managed-settings.json"
    assert managed_sources(LINUX, "alice", None, str(path)) == []
    path.write_text(json.dumps(UPDATES_ONLY))
    assert managed_sources(LINUX, "alice", None, str(path)) == []
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(dict(TAKEOVER, disableAutoUpdates=True)).encode())
    assert managed_sources(LINUX, "alice", None, str(path)) == [(str(path), sorted(TAKEOVER))]


@pytest.mark.parametrize("raw, marker", [
    (b"{broken", "<unreadable: JSONDecodeError>"),
    (b"\xff\xfe", "<unreadable: UnicodeDecodeError>"),
    (b"[1]", "<not an object>"),
])
def test_linux_unusable_managed_file_counts_as_managed(tmp_path, raw, marker):
    path = tmp_path / "managed-settings.json"
    path.write_bytes(raw)
    assert managed_sources(LINUX, "alice", None, str(path)) == [(str(path), [marker])]


# --- managed rules -------------------------------------------------------------------------------------

def test_takeover_keys_are_sorted_and_skip_update_and_payload_keys():
    keys = ["zKey", "disableAutoUpdates", "PayloadVersion", "aKey", "egressProxyUrl"]
    assert takeover_keys(keys) == ["aKey", "zKey"]
    assert takeover_keys([]) == []


def test_takeover_warning_names_user_sources_and_remedies():
    keys = ["k%d" % index for index in range(7)]
    text = takeover_warning("alice", [("/Library/Managed Preferences/x.plist", keys), ("/etc/y.json", ["a"])])
    assert text.startswith("user alice: managed configuration takes precedence")
    assert "/Library/Managed Preferences/x.plist (k0, k1, k2, k3, k4, ...)" in text
    assert "/etc/y.json (a)" in text
    assert "k5" not in text
    assert "cowork_mode: managed" in text and "fail_on_managed: true" in text


# --- is the app running? -------------------------------------------------------------------------------

@pytest.mark.parametrize("command, expected", [
    ("/Applications/Claude.app/Contents/MacOS/Claude", True),
    ("/Users/a/Applications/Claude.app/Contents/MacOS/Claude", True),
    ("Claude", True),
    ("/opt/Claude/claude-desktop", True),
    ("/usr/bin/Claude Desktop", True),
    ("/usr/bin/claude", False),
    ("/usr/local/bin/claude-code", False),
    ("/Applications/Claude.app/Contents/Frameworks/Claude Helper.app/Contents/MacOS/Claude Helper", False),
    ("python3", False),
])
def test_is_app(command, expected):
    assert _is_app(command) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.isdir("/proc"), reason="needs /proc")
def test_a_running_claude_desktop_process_is_found():
    before = uids_running_app(LINUX)
    process = subprocess.Popen(["claude-desktop", "30"], executable="/bin/sleep")
    try:
        deadline = time.time() + 5
        while time.time() < deadline:
            with open("/proc/%d/cmdline" % process.pid, "rb") as handle:
                if handle.read().startswith(b"claude-desktop\0"):
                    break
            time.sleep(0.01)
        assert os.geteuid() in uids_running_app(LINUX)
    finally:
        process.kill()
        process.wait()
    if os.geteuid() not in before:
        assert os.geteuid() not in uids_running_app(LINUX)
