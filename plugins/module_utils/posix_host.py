# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Host facts a POSIX run needs: managed sources that take over, and whether Claude Desktop runs."""

from __future__ import annotations

import json
import os
import plistlib
import subprocess

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.layout import MACOS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed import (
    LINUX_MANAGED_FILE, PLIST_NAME, takeover_keys,
)

APP_PROCESS_NAMES = frozenset(("Claude", "claude-desktop", "Claude Desktop"))


def _plist_keys(path):
    """Keys of a managed plist; None when missing; a one-element marker list when unreadable."""
    try:
        with open(path, "rb") as handle:
            data = plistlib.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, plistlib.InvalidFileException, ValueError) as exc:
        return ["<unreadable: %s>" % exc.__class__.__name__]
    return list(data) if isinstance(data, dict) else ["<not a dictionary>"]


def _json_keys(path):
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8-sig"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # The app treats an unreadable managed file as "managed but unreadable": local settings are off.
        return ["<unreadable: %s>" % exc.__class__.__name__]
    return list(data) if isinstance(data, dict) else ["<not an object>"]


def managed_sources(platform, user, managed_preferences_dir, linux_managed_file=LINUX_MANAGED_FILE):
    """[(source path, [takeover keys])] for the managed sources that make the app ignore ``user``'s files."""
    if platform == MACOS:
        candidates = [os.path.join(managed_preferences_dir, user, PLIST_NAME),
                      os.path.join(managed_preferences_dir, PLIST_NAME)]
        found = [(path, _plist_keys(path)) for path in candidates]
    else:
        found = [(linux_managed_file, _json_keys(linux_managed_file))]
    return [(path, takeover_keys(keys)) for path, keys in found if keys is not None and takeover_keys(keys)]


def _proc_processes():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv0 = handle.read().split(b"\0", 1)[0].decode("utf-8", "replace")
            uid = os.stat("/proc/%s" % pid).st_uid
        except OSError:
            continue
        yield uid, argv0


def _ps_processes():
    try:
        output = subprocess.run(["ps", "-axo", "uid=,comm="], capture_output=True, check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return
    for line in output.decode("utf-8", "replace").splitlines():
        uid, _sep, command = line.strip().partition(" ")
        if uid.isdigit():
            yield int(uid), command.strip()


def _is_app(command):
    if "Claude.app/Contents/MacOS/Claude" in command:
        return True
    return os.path.basename(command) in APP_PROCESS_NAMES


def uids_running_app(platform):
    """The uids that have Claude Desktop running (the app reads its configuration only at launch)."""
    processes = _ps_processes() if platform == MACOS or not os.path.isdir("/proc") else _proc_processes()
    return set(uid for uid, command in processes if _is_app(command))
