# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Merging owned keys into a flat settings object (stdlib only).

A *settings object* is the ``enterpriseConfig`` object of ``claude_desktop_config.json`` or a
``configLibrary/<id>.json`` entry: documented key names with native JSON values. The module owns
only the keys it is given; every other key keeps its value and its position.
"""

from __future__ import annotations

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import deep_copy, json_equal

PRESENT = "present"
ABSENT = "absent"


class MergeRequest(object):
    """What the caller wants done to one settings object.

    settings   keys to set (their values replace the current ones whole; objects are not deep-merged)
    remove     keys to delete
    exclusive  the object becomes exactly ``settings`` (keeping the existing order of kept keys)
    state      ``present`` sets and removes; ``absent`` deletes the keys named in ``settings`` and
               ``remove``, or the whole object when none are named
    """

    def __init__(self, settings=None, remove=(), exclusive=False, state=PRESENT):
        self.settings = settings or {}
        self.remove = list(remove or ())
        self.exclusive = bool(exclusive)
        self.state = state

    @property
    def removes_everything(self):
        return self.state == ABSENT and not self.settings and not self.remove

    def owned_keys(self):
        return list(self.settings) + [key for key in self.remove if key not in self.settings]


def merge_settings(current, request):
    """Return the new settings object (a new dict; ``current`` is not modified).

    Returns ``None`` when the whole object is to be removed (``state: absent`` with no keys named).
    """
    current = current or {}
    if request.state == ABSENT:
        if request.removes_everything:
            return None
        doomed = set(request.owned_keys())
        return dict((key, deep_copy(value)) for key, value in current.items() if key not in doomed)
    if request.exclusive:
        merged = dict((key, None) for key in current if key in request.settings)
    else:
        merged = dict((key, deep_copy(value)) for key, value in current.items())
    for key, value in request.settings.items():
        merged[key] = deep_copy(value)
    for key in request.remove:
        if key not in request.settings:
            merged.pop(key, None)
    return merged


def changed_keys(before, after):
    """Names of keys added, changed and removed between two settings objects (in document order)."""
    before = before or {}
    after = after or {}
    return {
        "added": [key for key in after if key not in before],
        "changed": [key for key in after if key in before and not json_equal(before[key], after[key])],
        "removed": [key for key in before if key not in after],
    }


def no_changes():
    return {"added": [], "changed": [], "removed": []}


def has_changes(summary):
    return any(summary.get(kind) for kind in ("added", "changed", "removed"))


def replace_in_place(document, key, value):
    """Set ``document[key]`` keeping the key's position; ``value is None`` deletes the key."""
    if value is None:
        return dict((name, item) for name, item in document.items() if name != key)
    if key in document:
        return dict((name, value if name == key else item) for name, item in document.items())
    updated = dict(document)
    updated[key] = value
    return updated


def compose_user_settings(settings, secret_settings=None, user_settings=None, user_secret_settings=None, user=None):
    """The settings one user gets: the common ones, then that user's overrides (secrets included).

    Credential values travel separately (no_log parameters); in ``settings`` a credential key holds
    ``None`` as a placeholder that keeps its position. The placeholder is filled here, and dropped if
    no value arrived for it.
    """
    composed = _fill(settings, secret_settings)
    if user is not None:
        for key, value in _fill((user_settings or {}).get(user), (user_secret_settings or {}).get(user)).items():
            composed[key] = value
    return composed


def _fill(plain, secrets):
    plain = plain or {}
    secrets = secrets or {}
    filled = {}
    for key, value in plain.items():
        if value is None and key in secrets:
            filled[key] = secrets[key]
        elif value is not None or key not in SECRET_KEYS:
            filled[key] = value
    for key, value in secrets.items():
        if key not in filled:
            filled[key] = value
    return filled


def split_secrets(settings):
    """(plain, secrets): credential keys moved out, a ``None`` placeholder keeping their position."""
    plain = {}
    secrets = {}
    for key, value in (settings or {}).items():
        if key in SECRET_KEYS:
            plain[key] = None
            secrets[key] = value
        else:
            plain[key] = value
    return plain, secrets
