# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Managed-takeover rules (stdlib only; used on targets and, for Windows, on the controller).

Reference 2.3: when a managed source (macOS managed preferences, Windows policy registry, the Linux
managed file) sets any key other than the update keys, the app ignores the local configuration
(``claude_desktop_config.json`` and ``configLibrary/``) entirely.
"""

from __future__ import annotations

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import UPDATE_KEYS

PLIST_NAME = "com.anthropic.claudefordesktop.plist"
DEFAULT_MANAGED_PREFERENCES_DIR = "/Library/Managed Preferences"
LINUX_MANAGED_FILE = "/etc/claude-desktop/managed-settings.json"
WINDOWS_POLICY_KEY = "SOFTWARE\\Policies\\Claude"


def takeover_keys(keys):
    """The keys of a managed source that make the app ignore local files (sorted)."""
    return sorted(key for key in keys if key not in UPDATE_KEYS and not str(key).startswith("Payload"))


def takeover_warning(user, sources):
    """One warning naming the user, the managed sources and what happens next."""
    where = "; ".join("%s (%s)" % (source, ", ".join(keys[:5]) + (", ..." if len(keys) > 5 else ""))
                      for source, keys in sources)
    return ("user %s: managed configuration takes precedence over the local file, so Claude Desktop will ignore "
            "what this task writes: %s. Remove the managed profile/policy, manage these settings there instead "
            "(cowork_mode: managed), or set fail_on_managed: true to stop here" % (user, where))
