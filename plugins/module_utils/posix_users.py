# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which local accounts are real people (POSIX, stdlib only)."""

from __future__ import annotations

import os
import pwd

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.layout import MACOS

MIN_UID = {MACOS: 500}
DEFAULT_MIN_UID = 1000
NOBODY_UIDS = frozenset((65534, 4294967294, 4294967295))
NON_LOGIN_SHELLS = frozenset(("nologin", "false", "true", "sync", "shutdown", "halt", ""))


class UserEntry(object):
    def __init__(self, name, uid, gid, home):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home


def _entry(record):
    return UserEntry(record.pw_name, record.pw_uid, record.pw_gid, record.pw_dir)


def is_real_user(record, platform):
    """A login shell, a home that exists, a uid in the people range, not a system (``_name``) account."""
    if record.pw_uid < MIN_UID.get(platform, DEFAULT_MIN_UID) or record.pw_uid in NOBODY_UIDS:
        return False
    if record.pw_name.startswith("_"):
        return False
    if os.path.basename(record.pw_shell or "") in NON_LOGIN_SHELLS:
        return False
    home = record.pw_dir or ""
    return home not in ("", "/", "/nonexistent", "/var/empty") and os.path.isdir(home)


def all_real_users(platform):
    seen = set()
    users = []
    for record in sorted(pwd.getpwall(), key=lambda item: item.pw_name):
        if record.pw_name in seen or not is_real_user(record, platform):
            continue
        seen.add(record.pw_name)
        users.append(_entry(record))
    return users


def named_user(name):
    """The account called ``name``; KeyError with a clear message when it does not exist."""
    try:
        return _entry(pwd.getpwnam(name))
    except KeyError:
        raise KeyError("no local user named '%s' on this host" % name)


def current_user():
    return _entry(pwd.getpwuid(os.geteuid()))
