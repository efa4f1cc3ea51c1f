# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The per-user result structure every implementation (POSIX module, Windows action) returns (stdlib only)."""

from __future__ import annotations

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import MergeRequest, no_changes
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import STATUS_ERROR

STATUSES = ("in_sync", "drifted", "missing", "error")


def new_result(user, home, layout, path, reason):
    return {
        "user": user,
        "home": home,
        "layout": layout,
        "path": path,
        "reason": reason,
        "status": "in_sync",
        "changed": False,
        "changed_keys": no_changes(),
        "key_changes": [],
        "files_written": [],
        "backup_file": None,
        "managed_override": False,
        "managed_sources": [],
        "app_running": False,
        "notes": [],
        "error": None,
    }


def record_outcome(result, outcome):
    result["status"] = outcome.status
    result["changed"] = outcome.changed
    result["changed_keys"] = outcome.summary
    result["key_changes"] = outcome.key_changes
    result["notes"].extend(outcome.notes)


def record_error(result, message):
    result["status"] = STATUS_ERROR
    result["changed"] = False
    result["error"] = message


def qualify_error(host, user, message):
    """A per-user error that names the host and the user (the message itself names the path and the cause)."""
    prefix = "host %s, user %s: " % (host, user)
    return message if message.startswith(prefix) else prefix + message


def failure_message(results):
    """The task's ``msg`` when some users failed: how many, and each error."""
    failed = [item for item in results if item.get("error")]
    return "%d of %d user location(s) failed: %s" % (
        len(failed), len(results), "; ".join(item["error"] if item["error"].startswith("host ") else
                                             "%s: %s" % (item["user"], item["error"]) for item in failed))


def summarize(results):
    counts = dict((status, 0) for status in STATUSES)
    for item in results:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    return counts


def validate_users_option(params):
    """None when ``users``/``path``/``library_path`` make sense together, else the problem."""
    users = params.get("users")
    if users and "all" in users and len(users) > 1:
        return "users: 'all' cannot be combined with user names (got %s); give either 'all' or a list of names" % (
            ", ".join(users))
    if params.get("path") and params.get("layout") != "config_file":
        return "path: names one claude_desktop_config.json, so it needs layout: config_file (use library_path for " \
               "a configLibrary directory)"
    if params.get("library_path") and params.get("layout") != "config_library":
        return "library_path: names one configLibrary directory, so it needs layout: config_library"
    if params.get("path") and params.get("library_path"):
        return "path and library_path are mutually exclusive"
    return None


def merge_request(params, settings):
    return MergeRequest(settings=settings, remove=params.get("remove") or (), exclusive=params.get("exclusive"),
                        state=params.get("state") or "present")


def diff_label(user, path):
    return "%s: %s" % (user, path) if user else path
