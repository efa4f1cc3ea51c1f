# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""macOS managed preferences for Claude Desktop, written by root without an MDM (stdlib only).

Reference 2.1: the app reads ``/Library/Managed Preferences/com.anthropic.claudefordesktop.plist``
(machine) and ``/Library/Managed Preferences/<user>/com.anthropic.claudefordesktop.plist`` (per user,
which wins key by key), as files, with every value a string (3.1, ``policy_encoding.py``).

File modes. The app runs as the logged-in user and opens the plist itself, so the user must be able to
read it, and nobody but root may be able to change it (it is policy):

- the machine plist is ``root:wheel 0644``, as an MDM client leaves it: every user's app reads it;
- a per-user plist is ``root:<the user's primary group> 0640``: the user's app still reads it (through
  the group) while system and service accounts (``_www``, ``daemon``...) cannot. On macOS the primary
  group of people is usually ``staff``, so other people on the same Mac can still read it; credentials
  that must stay private to one person belong in a credential helper, not in a plist;
- directories are ``root:wheel 0755``. Nothing is written through a symlink, into a directory that is
  not root's, or into one that group or others can write: ``<dir>/<user>`` is opened with
  ``O_NOFOLLOW`` relative to an open directory, and files are replaced by a temporary file in the same
  directory that is renamed over them (atomic for the app, which never sees half a plist).

Plists are written in the binary format an MDM client leaves there; any plist (XML or binary) is read,
and compared by decoded value, so rewriting happens only when a value really differs.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import plistlib
import stat
from xml.parsers.expat import ExpatError

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import (
    declared_secrets, settings_argument_spec,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed import (
    DEFAULT_MANAGED_PREFERENCES_DIR, PLIST_NAME,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import compose_user_settings
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    STATUS_DRIFTED, STATUS_IN_SYNC, STATUS_MISSING, describe_changes,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import (
    PolicyEncodingError, display_form, plan_policy,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_fs import (
    Identity, SafeDir, UnsafePathError,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_host import uids_running_app
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_runner import error_text, resolve_platform
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_users import (
    all_real_users, named_user,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import (
    diff_label, merge_request, new_result, record_error,
)

MACHINE = "machine"
USER = "user"
LAYOUT = "managed_preferences"
DIR_MODE = 0o755
MACHINE_FILE_MODE = 0o644
USER_FILE_MODE = 0o640
ROOT = 0
DEFAULT_MAX_FILE_SIZE = 1024 * 1024

# Options the action plugin consumes on the controller; the module accepts and ignores them.
CONTROLLER_OPTIONS = ("strict", "allow_v1_base_url", "check_required_keys", "allow_deprecated")
# Options only the action plugin sets (credential values moved out of settings so they are no_log).
INTERNAL_OPTIONS = ("secret_settings", "user_secret_settings", "redact_values")


def argument_spec():
    """Shared by the ``managed_preferences`` module, its action plugin and ``managed_policy``."""
    spec = settings_argument_spec()
    spec.update(
        scope=dict(type="str", default=MACHINE, choices=[MACHINE, USER]),
        users=dict(type="list", elements="str"),
        managed_preferences_dir=dict(type="path", default=DEFAULT_MANAGED_PREFERENCES_DIR),
        max_file_size=dict(type="int", default=DEFAULT_MAX_FILE_SIZE),
    )
    return spec


def scope_problem(params):
    """None when ``scope``, ``users`` and ``user_settings`` fit together, else what is wrong and how to fix it."""
    users = params.get("users") or []
    if params.get("scope") != USER:
        if users:
            return ("users: only used with scope: user (per-user policy); machine policy applies to everyone, so "
                    "remove users or set scope: user")
        if params.get("user_settings"):
            return ("user_settings: per-user values need scope: user; machine policy is the same for every user "
                    "(set scope: user, or move the values into settings)")
    if "all" in users and len(users) > 1:
        return "users: 'all' cannot be combined with user names (got %s)" % ", ".join(users)
    return None


# --- plist documents ---------------------------------------------------------------------------------

def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def users_sharing_group(gid, user):
    """The accounts other than ``user`` that can read files of group ``gid`` (primary group or member)."""
    others = set(entry.pw_name for entry in pwd.getpwall() if entry.pw_gid == gid)
    try:
        others.update(grp.getgrgid(gid).gr_mem)
    except KeyError:
        pass
    others.discard(user)
    return sorted(name for name in others if not name.startswith("_") and name not in ("root", "nobody"))


class PlistError(ValueError):
    """A managed plist that cannot be used. The message says why and how to fix it."""


def parse_plist(data, label):
    """Bytes of an XML or binary plist -> dict. Missing (None) is an empty dict."""
    if data is None:
        return {}
    try:
        document = plistlib.loads(data)
    except (plistlib.InvalidFileException, ExpatError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise PlistError("%s is not a valid property list (%s); fix or delete it, it is never overwritten while "
                         "it cannot be read" % (label, exc.__class__.__name__))
    if not isinstance(document, dict):
        raise PlistError("%s holds a %s at the top level, but a preference domain is a dictionary; fix or "
                         "delete it" % (label, type(document).__name__))
    return document


def plist_bytes(document):
    """The plist we write: binary, like the ones an MDM client installs, keys sorted (same values, same bytes).

    Binary rather than XML because XML normalises line ends: a value holding ``\r\n`` would come back
    as ``\n`` and never compare equal again. Both forms are read.
    """
    return plistlib.dumps(document, fmt=plistlib.FMT_BINARY, sort_keys=True)


def plist_text(document):
    """The XML form of a document, for diffs."""
    return plistlib.dumps(document, fmt=plistlib.FMT_XML, sort_keys=True).decode("utf-8")


# --- safe writes -------------------------------------------------------------------------------------

def _check_not_shared(directory):
    """Refuse a directory that group or others can write (they could swap the plist under us)."""
    info = os.fstat(directory.fd)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafePathError(errno.EPERM, "%s is writable by group or others (mode %04o), so anyone could replace "
                              "the policy in it; make it root-only (chmod 755) and run again"
                              % (directory.path, stat.S_IMODE(info.st_mode)))


def _as_root_with_group(directory, gid):
    """The same open directory, writing files owned by root and group ``gid`` (the engine's safe writer)."""
    return SafeDir(os.dup(directory.fd), directory.path, Identity("root", ROOT, gid))


def write_policy_file(directory, name, content, gid, mode, expected):
    """Replace ``name`` in ``directory`` (a SafeDir) atomically: root-owned, group ``gid``, ``mode``.

    ``expected`` is the stat of what was read (None if nothing was there); a file changed in between
    raises ConcurrentChangeError and nothing is replaced.
    """
    with _as_root_with_group(directory, gid) as writer:
        writer.write_atomic(name, content, expected=expected, mode=mode)


def fix_attributes(directory, name, info, gid, mode):
    """Give an existing plist the owner, group and mode it must have."""
    with _as_root_with_group(directory, gid) as writer:
        writer.fix_attributes(name, info, mode=mode)


# --- the run -----------------------------------------------------------------------------------------

class Target(object):
    """One plist: the machine one (``user`` None) or one user's, with the owner group and mode it gets."""

    def __init__(self, user, home, uid, gid, mode, path):
        self.user = user
        self.home = home
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.path = path


class ManagedPreferencesRunner(object):
    """Plans and applies the machine plist or every requested user's plist on one host."""

    def __init__(self, params, check_mode, want_diff, on_warning, effective_uid, platform=None):
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.warn = on_warning
        self.effective_uid = effective_uid
        self.platform = platform or resolve_platform("auto")
        self.base = params.get("managed_preferences_dir") or DEFAULT_MANAGED_PREFERENCES_DIR
        self.redactor = Redactor(declared_secrets(params), salt=params.get("fingerprint_salt"))
        self.secret_values_seen = set()
        self.results = []
        self.diffs = []

    # -- preconditions -----------------------------------------------------------------------------

    def host_problem(self):
        """Why this host cannot be handled at all (None when it can)."""
        if self.platform != "macos" and self.base == DEFAULT_MANAGED_PREFERENCES_DIR:
            return ("managed preferences are a macOS mechanism and this host is not a Mac; Claude Desktop on Linux "
                    "reads /etc/claude-desktop/managed-settings.json instead, which this module does not write "
                    "(set managed_preferences_dir only to test against a scratch directory)")
        if self.effective_uid != ROOT:
            return ("writing %s needs root, since managed preferences must be root's so that users cannot change "
                    "their own policy; use become: true" % self.base)
        return None

    # -- who -----------------------------------------------------------------------------------------

    def targets(self):
        """[(Target or None, name, problem)] for the scope and users."""
        if self.params.get("scope") != USER:
            return [(Target(None, None, None, ROOT, MACHINE_FILE_MODE, os.path.join(self.base, PLIST_NAME)),
                     None, None)]
        names = self.params.get("users") or ["all"]
        if names == ["all"]:
            entries = [(entry.name, entry, None) for entry in all_real_users(self.platform)]
        else:
            entries = []
            for name in names:
                try:
                    entries.append((name, named_user(name), None))
                except KeyError as exc:
                    entries.append((name, None, error_text(exc)))
        found = []
        for name, entry, problem in entries:
            if entry is None:
                found.append((None, name, problem))
            elif "/" in entry.name or entry.name in (".", ".."):
                found.append((None, name, "user name %r cannot be a directory name below %s" % (entry.name, self.base)))
            else:
                found.append((Target(entry.name, entry.home, entry.uid, entry.gid, USER_FILE_MODE,
                                     os.path.join(self.base, entry.name, PLIST_NAME)), name, None))
        return found

    # -- run -----------------------------------------------------------------------------------------

    def run(self):
        running = self._running_uids()
        for target, name, problem in self.targets():
            if target is None:
                result = new_result(name, None, LAYOUT, None, "per-user managed preferences")
                record_error(result, problem)
                self.results.append(result)
                continue
            reason = "per-user managed preferences" if target.user else "machine managed preferences"
            result = new_result(target.user, target.home, LAYOUT, target.path, reason)
            result["app_running"] = bool(running) if target.user is None else target.uid in running
            self.results.append(result)
            try:
                self._run_target(target, result)
            except (OSError, PlistError, PolicyEncodingError, KeyError) as exc:
                record_error(result, self.redactor.text(error_text(exc)))
            if result["changed"] and result["app_running"]:
                self.warn("%s: Claude Desktop is running; it reads managed preferences only at launch, so the change "
                          "takes effect after the user quits it fully and reopens it" % (target.user or target.path))
        return self.results, self.diffs

    def _running_uids(self):
        try:
            return uids_running_app(self.platform)
        except OSError:
            return set()

    def _request(self, target):
        params = self.params
        settings = compose_user_settings(params.get("settings"), params.get("secret_settings"),
                                         params.get("user_settings"), params.get("user_secret_settings"),
                                         target.user)
        return merge_request(params, settings)

    def _open(self, target, create, result):
        """The SafeDir holding the target's plist, or None when it does not exist (and is not created)."""
        if os.path.islink(self.base):
            raise UnsafePathError(errno.ELOOP, "%s is a symlink; managed preferences must be a real directory owned "
                                  "by root (remove the link and run again)" % self.base)
        if not os.path.lexists(self.base):
            if not create:
                return None
            self._create_base()
        root = SafeDir.open_root(self.base, Identity("root", ROOT, ROOT))
        try:
            _check_not_shared(root)
            self._ensure_passable(root, result)
            if target.user is None:
                return root.walk(())
            info = root.lstat(target.user)
            if info is not None and stat.S_ISLNK(info.st_mode):
                raise UnsafePathError(errno.ELOOP, "%s is a symlink; a per-user managed preferences folder must be a "
                                      "real directory owned by root (an MDM never puts a link there): remove the "
                                      "link and run again" % os.path.dirname(target.path))
            directory = root.child(target.user, create=create, mode=DIR_MODE)
            if directory is not None:
                _check_not_shared(directory)
                self._ensure_passable(directory, result)
            return directory
        finally:
            root.close()

    def _ensure_passable(self, directory, result):
        """The app runs as the user: it must be able to pass through every directory to reach the plist."""
        mode = stat.S_IMODE(os.fstat(directory.fd).st_mode)
        if mode & stat.S_IXOTH:
            return
        result["changed"] = True
        result["notes"].append("%s: mode %04o set to %04o so that Claude Desktop, running as the user, can reach "
                               "the plist" % (directory.path, mode, mode | 0o055))
        if not self.check_mode:
            os.fchmod(directory.fd, mode | 0o055)

    def _create_base(self):
        parent = os.path.dirname(os.path.abspath(self.base))
        if not os.path.isdir(parent):
            raise UnsafePathError(errno.ENOENT, "cannot create %s: its parent %s does not exist" % (self.base, parent))
        os.mkdir(self.base, DIR_MODE)
        os.chmod(self.base, DIR_MODE)

    def _refuse_credentials_others_can_read(self, target, request):
        """A per-user plist is readable by its group (the app runs as the user); on a Mac that group is usually
        ``staff``, shared by every person. A credential there would be readable by the other users."""
        secrets = sorted(key for key, value in request.settings.items() if key in SECRET_KEYS and value)
        if target.user is None or request.state != "present" or not secrets:
            return
        others = users_sharing_group(target.gid, target.user)
        if others:
            raise PlistError(
                "%s: %s would be readable by %s (the plist is root:%s %04o so that %s's app can read it, and that "
                "group is shared); deliver per-user credentials with a credential helper (inferenceCredentialHelper) "
                "or in the local configuration (cowork_mode: local), or give the user a private primary group"
                % (target.path, ", ".join(secrets), ", ".join(others[:5]) + (", ..." if len(others) > 5 else ""),
                   group_name(target.gid), target.mode, target.user))

    def _run_target(self, target, result):
        request = self._request(target)
        self._refuse_credentials_others_can_read(target, request)
        writing = request.state == "present" and not self.check_mode
        directory = self._open(target, writing, result)
        try:
            data, info = (None, None)
            if directory is not None:
                if not self.check_mode:
                    directory.remove_stale_temp_files(PLIST_NAME)
                data, info = directory.read(PLIST_NAME, self.params.get("max_file_size"))
            plan = plan_policy(parse_plist(data, target.path), request)
            self._remember_secrets(plan.before)
            self._record(result, plan, exists=data is not None)
            if self.want_diff and plan.changed:
                self.diffs.append(self._diff(target, plan, exists=data is not None))
            if plan.changed:
                if not self.check_mode:
                    self._apply(directory, target, plan, info, result)
            elif info is not None and self._attributes_wrong(info, target):
                result["changed"] = True
                result["notes"].append("owner, group and mode set to root:%d %04o" % (target.gid, target.mode))
                if not self.check_mode:
                    fix_attributes(directory, PLIST_NAME, info, target.gid, target.mode)
                    result["files_written"].append(target.path)
        finally:
            if directory is not None:
                directory.close()

    @staticmethod
    def _attributes_wrong(info, target):
        return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) != (ROOT, target.gid, target.mode)

    def _record(self, result, plan, exists):
        result["changed"] = result["changed"] or plan.changed
        if not plan.changed:
            result["status"] = STATUS_IN_SYNC
        else:
            result["status"] = STATUS_DRIFTED if exists else STATUS_MISSING
        result["changed_keys"] = plan.summary
        result["key_changes"] = describe_changes(plan.before, plan.after, plan.summary, self.redactor)
        result["notes"].extend(plan.notes)

    def _apply(self, directory, target, plan, info, result):
        if plan.stored_after is None:
            if info is not None:
                directory.unlink(PLIST_NAME, expected=info)
                result["files_written"].append(target.path)
            return
        write_policy_file(directory, PLIST_NAME, plist_bytes(plan.stored_after), target.gid, target.mode, info)
        result["files_written"].append(target.path)

    def _diff(self, target, plan, exists):
        header = diff_label(target.user, target.path)
        removed = plan.stored_after is None
        return {
            "before_header": header if exists else "%s (absent)" % header,
            "after_header": "%s (absent)" % header if removed else header,
            "before": plist_text(display_form(self.redactor.document(plan.before))) if exists else "",
            "after": "" if removed else plist_text(display_form(self.redactor.document(plan.after))),
        }

    def _remember_secrets(self, decoded):
        """Credentials already in the plist (decoded, so nested ones too) are masked like the ones written."""
        self.secret_values_seen.update(self.redactor.remember_credentials_in(decoded))
