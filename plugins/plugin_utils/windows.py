# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""``enterprise_config`` on Windows hosts: the engine runs here, on the controller.

The collection ships no PowerShell module. The action plugin hands Windows connections to
``WindowsRunner``, which drives ``ansible.windows`` modules on the target and nothing else:

1. one ``ansible.windows.win_powershell`` discovery call per host (``windows_scripts.DISCOVERY``):
   user profiles, which Claude directories and ``*.json`` files exist, MSIX package folders, the names
   of managed policy values, who runs ``Claude.exe``;
2. one ``ansible.windows.slurp`` per existing file the plan needs;
3. one ``ansible.windows.win_powershell`` call per changed file (``windows_scripts.WRITE``): atomic
   write (temporary file in the same directory, then replace or move), owner-only ACL on new files,
   optional backup, or a delete; never in check mode.

Parsing, merging, comparing, serializing, diffs and redaction are the engine's (``module_utils``), so a
Windows user gets exactly the result a POSIX user gets (``results.new_result``).

Secrets. The bytes written contain the API key. They travel base64-encoded in
``sensitive_parameters[].value`` of ``win_powershell``, an option that is ``no_log`` in that module's
argument spec: Ansible.Basic masks it in the returned invocation and in the "Invoked with" event log
entry, and hands it to the script as a SecureString. On top of that, every call that carries file
content (the write, and the slurp whose reply holds the old file) runs with the task's ``no_log``
forced on (``forced_no_log``): ``ActionBase._update_module_args`` derives ``_ansible_no_log`` from
``task.no_log`` (a value passed in the module arguments is overwritten), so this is the lever that
makes Ansible.Basic skip the event log entirely and the connection plugins censor the module's
stdout at high verbosity. Replies are never returned as they are: only validated fields are used,
and error texts go through the redactor (the action plugin scrubs the whole result once more).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import ntpath
import re
from contextlib import contextmanager

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import DocumentError, parse_object
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.layout import (
    CONFIG_FILE, CONFIG_LIBRARY, MSIX_FAMILIES, WINDOWS, config_file_dirs, layouts_for, library_dirs,
    msix_config_file_dirs, msix_package_dir,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed import (
    WINDOWS_POLICY_KEY, takeover_keys, takeover_warning,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import compose_user_settings
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    CONFIG_FILE_NAME, META_FILE_NAME, PlanError, backup_content, entry_id_for, plan_config_file,
    plan_config_library,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import (
    diff_label, failure_message, merge_request, new_result, qualify_error, record_error, record_outcome, summarize,
)
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import windows_scripts as scripts

POWERSHELL = "ansible.windows.win_powershell"
SLURP = "ansible.windows.slurp"

# Profiles that are never a person's, whatever their SID says.
NON_USER_PROFILES = frozenset(("default", "default user", "public", "all users"))
# Local and domain accounts (S-1-5-21-...) and Entra ID accounts (S-1-12-1-...); SYSTEM, LOCAL SERVICE,
# NETWORK SERVICE (S-1-5-18/19/20), service SIDs and the "<sid>.bak" keys of corrupt profiles do not match.
ACCOUNT_SID = re.compile(r"^S-1-(5-21|12-1)-\d+-\d+-\d+-\d+$")

_USERPROFILE = re.compile(re.escape("%USERPROFILE%"), re.IGNORECASE)
_APPDATA_DEFAULTS = (
    # (key in discovery's shell_folders, layout, folder relative to the profile, name shown)
    ("appdata", CONFIG_FILE, "AppData\\Roaming", "%APPDATA%"),
    ("local_appdata", CONFIG_LIBRARY, "AppData\\Local", "%LOCALAPPDATA%"),
)


class WindowsTaskError(Exception):
    """Something this host or user cannot do; the message says what, where and how to fix it."""


# --- forcing no_log for one internal call --------------------------------------------------------

@contextmanager
def forced_no_log(action, enabled=True):
    """Run one internal ``_execute_module`` call as if the task had ``no_log: true``.

    ``ActionBase._update_module_args`` sets ``_ansible_no_log`` from ``self._task.no_log`` and overwrites
    whatever the caller put in the module arguments, so the task attribute is the only way to get it
    to the target for a single internal call: Ansible.Basic (``win_powershell``) then writes no
    "Invoked with" entry to the Windows event log. ``play_context.no_log`` makes the winrm, psrp and ssh
    connection plugins print "<censored due to no log>" instead of the module's stdout (a slurp reply
    holds the old file, API key included) at high verbosity. Both are restored afterwards, so the
    task's own result is displayed as usual.
    """
    if not enabled:
        yield
        return
    task, play_context = action._task, action._play_context
    saved = (task.no_log, play_context.no_log)
    task.no_log = True
    play_context.no_log = True
    try:
        yield
    finally:
        task.no_log, play_context.no_log = saved


# --- discovery -----------------------------------------------------------------------------------

class FileFact(object):
    def __init__(self, name, size, readonly, link):
        self.name = name
        self.size = size
        self.readonly = readonly
        self.link = link


class DirectoryFact(object):
    """One directory below a profile: whether it exists, what blocks it, its ``*.json`` files (by lower name)."""

    def __init__(self, relative, exists, blocked, blocked_kind, files):
        self.relative = relative
        self.exists = exists
        self.blocked = blocked
        self.blocked_kind = blocked_kind
        self.files = files


class Profile(object):
    def __init__(self, sid, path, details=False, account=None, exists=False, hive_loaded=False, user_policy=None,
                 shell_folders=None, app_running=False, error=None, dirs=None):
        self.sid = sid
        self.path = path
        self.details = details
        self.account = account
        self.exists = exists
        self.hive_loaded = hive_loaded
        self.user_policy = user_policy
        self.shell_folders = shell_folders or {}
        self.app_running = app_running
        self.error = error
        self.dirs = dirs or {}

    @property
    def short_name(self):
        """The account name without its domain; the profile folder's name when the SID cannot be resolved."""
        if self.account:
            return self.account.rsplit("\\", 1)[-1]
        return ntpath.basename(self.path.rstrip("\\"))

    def is_user_profile(self):
        return bool(self.details and ACCOUNT_SID.match(self.sid) and self.path
                    and ntpath.basename(self.path.rstrip("\\")).lower() not in NON_USER_PROFILES)

    def directory(self, relative):
        return self.dirs.get(relative.lower())


class Discovery(object):
    def __init__(self, current_sid, is_admin, machine_policy, running_error, profiles):
        self.current_sid = current_sid
        self.is_admin = is_admin
        self.machine_policy = machine_policy
        self.running_error = running_error
        self.profiles = profiles

    def user_profiles(self):
        return [profile for profile in self.profiles if profile.is_user_profile()]


class _Reader(object):
    """Typed access to the discovery document; any surprise is a ``WindowsTaskError`` naming the field."""

    def __init__(self, host):
        self.host = host

    def fail(self, where, problem):
        raise WindowsTaskError(
            "%s: the discovery script returned malformed data (%s: %s), so nothing was read or written. This is a "
            "bug in aiohub.claude_desktop or an unsupported PowerShell; please report it with the PowerShell version "
            "($PSVersionTable) of the host" % (self.host, where, problem))

    def get(self, document, key, kinds, where, optional=False):
        if not isinstance(document, dict):
            self.fail(where, "expected an object")
        if key not in document:
            if optional:
                return None
            self.fail("%s.%s" % (where, key), "missing")
        value = document[key]
        if value is None and optional:
            return None
        if isinstance(value, bool) and bool not in kinds:
            self.fail("%s.%s" % (where, key), "expected %s, got a boolean" % "/".join(k.__name__ for k in kinds))
        if not isinstance(value, kinds):
            self.fail("%s.%s" % (where, key), "expected %s, got %s" % (
                "/".join(k.__name__ for k in kinds), type(value).__name__))
        return value

    def names(self, document, key, where):
        """A list of strings, or None (the registry key does not exist)."""
        value = self.get(document, key, (list,), where, optional=True)
        if value is not None and not all(isinstance(item, str) for item in value):
            self.fail("%s.%s" % (where, key), "expected a list of strings")
        return value


def parse_discovery(reply, host):
    """The reply of the discovery ``win_powershell`` call -> ``Discovery``, validated field by field."""
    if reply.get("failed"):
        raise WindowsTaskError("%s: discovering user profiles failed: %s" % (host, failure_text(reply)))
    reader = _Reader(host)
    text = reply.get("result")
    if not isinstance(text, str):
        reader.fail("result", "expected the JSON text the script sets in $Ansible.Result, got %s%s" % (
            type(text).__name__, " (%s)" % reply["msg"] if isinstance(reply.get("msg"), str) else ""))
    try:
        document = json.loads(text)
    except ValueError as exc:
        reader.fail("result", "not JSON (%s)" % exc)
    if reader.get(document, "format", (int,), "result") != scripts.DISCOVERY_FORMAT:
        reader.fail("result.format", "unknown format %r" % document["format"])
    profiles = [_parse_profile(reader, item, "profiles[%d]" % index)
                for index, item in enumerate(reader.get(document, "profiles", (list,), "result"))]
    return Discovery(
        current_sid=reader.get(document, "current_sid", (str,), "result"),
        is_admin=reader.get(document, "is_admin", (bool,), "result"),
        machine_policy=reader.names(document, "machine_policy", "result"),
        running_error=reader.get(document, "running_error", (str,), "result", optional=True),
        profiles=profiles)


def _parse_profile(reader, item, where):
    sid = reader.get(item, "sid", (str,), where)
    path = reader.get(item, "path", (str,), where)
    if not reader.get(item, "details", (bool,), where):
        return Profile(sid, path)
    dirs = {}
    for index, entry in enumerate(reader.get(item, "dirs", (list,), where)):
        fact = _parse_directory(reader, entry, "%s.dirs[%d]" % (where, index))
        dirs[fact.relative.lower()] = fact
    shell_folders = reader.get(item, "shell_folders", (dict,), where, optional=True) or {}
    return Profile(
        sid, path, details=True,
        account=reader.get(item, "account", (str,), where, optional=True),
        exists=reader.get(item, "exists", (bool,), where),
        hive_loaded=reader.get(item, "hive_loaded", (bool,), where),
        user_policy=reader.names(item, "user_policy", where),
        shell_folders=dict((key, value) for key, value in shell_folders.items() if isinstance(value, str)),
        app_running=reader.get(item, "app_running", (bool,), where),
        error=reader.get(item, "error", (str,), where, optional=True),
        dirs=dirs)


def _parse_directory(reader, entry, where):
    files = {}
    for index, item in enumerate(reader.get(entry, "files", (list,), where)):
        at = "%s.files[%d]" % (where, index)
        fact = FileFact(reader.get(item, "name", (str,), at), reader.get(item, "size", (int,), at),
                        reader.get(item, "readonly", (bool,), at), reader.get(item, "link", (bool,), at))
        files[fact.name.lower()] = fact
    return DirectoryFact(
        relative=reader.get(entry, "relative", (str,), where),
        exists=reader.get(entry, "exists", (bool,), where),
        blocked=reader.get(entry, "blocked", (str,), where, optional=True),
        blocked_kind=reader.get(entry, "blocked_kind", (str,), where, optional=True),
        files=files)


def failure_text(reply):
    """One line from a failed module reply: ``msg`` and the script's exception messages (never its stdout)."""
    parts = []
    if isinstance(reply.get("msg"), str) and reply["msg"]:
        parts.append(reply["msg"])
    for error in reply.get("error") or ():
        if not isinstance(error, dict):
            continue
        exception = error.get("exception")
        message = exception.get("message") if isinstance(exception, dict) else None
        if not message and isinstance(error.get("output"), str):
            message = error["output"].strip().splitlines()[0] if error["output"].strip() else None
        if message and message not in parts:
            parts.append(message)
    return "; ".join(parts) or "the module failed without a message"


# --- locations -----------------------------------------------------------------------------------

def relative(components):
    return "\\".join(components)


class Location(object):
    """One place to manage for one user: a config file, or a configLibrary directory."""

    def __init__(self, layout, profile, components, reason, file_name=None):
        self.layout = layout
        self.relative = relative(components)
        self.directory = ntpath.join(profile.path, *components)
        self.file_name = file_name
        self.path = ntpath.join(self.directory, file_name) if file_name else self.directory
        self.reason = reason
        self.fact = profile.directory(self.relative)


def locations_for(profile, layout_option):
    """Where to write for this profile, in order; the MSIX copies only for the config_file layout."""
    found = []
    for layout in layouts_for(layout_option):
        if layout == CONFIG_FILE:
            found.append(Location(CONFIG_FILE, profile, config_file_dirs(WINDOWS),
                                  "per-user configuration file (%APPDATA%\\Claude-3p)", CONFIG_FILE_NAME))
            for family in MSIX_FAMILIES:
                package = profile.directory(relative(msix_package_dir(family)))
                if package is not None and (package.exists or package.blocked):
                    found.append(Location(
                        CONFIG_FILE, profile, msix_config_file_dirs(family),
                        "MSIX package %s is installed for this user: the packaged app reads %%APPDATA%% through this "
                        "virtualised LocalCache\\Roaming copy, not the real %%APPDATA%%\\Claude-3p" % family,
                        CONFIG_FILE_NAME))
        else:
            found.append(Location(layout, profile, library_dirs(WINDOWS),
                                  "per-user configLibrary (%LOCALAPPDATA%\\Claude-3p\\configLibrary)"))
    return found


def discovery_directories(layout_option):
    """The directories (relative to each profile) the discovery script inspects for this task."""
    wanted = []
    for layout in layouts_for(layout_option):
        if layout == CONFIG_FILE:
            wanted.append(relative(config_file_dirs(WINDOWS)))
            for family in MSIX_FAMILIES:
                wanted.append(relative(msix_package_dir(family)))
                wanted.append(relative(msix_config_file_dirs(family)))
        else:
            wanted.append(relative(library_dirs(WINDOWS)))
    return wanted


def display_names(profiles):
    """sid -> the name shown in results: the short account name, or DOMAIN\\name when two profiles share it."""
    counts = {}
    for profile in profiles:
        counts[profile.short_name.lower()] = counts.get(profile.short_name.lower(), 0) + 1
    return dict((profile.sid, profile.account if counts[profile.short_name.lower()] > 1 and profile.account
                 else profile.short_name) for profile in profiles)


def match_profiles(name, profiles):
    """The profiles a ``users`` entry names: ``alice``, ``DOMAIN\\alice`` or a SID, case-insensitively."""
    wanted = name.lower()
    if "\\" in wanted:
        return [profile for profile in profiles if (profile.account or "").lower() == wanted]
    return [profile for profile in profiles if profile.sid.lower() == wanted or profile.short_name.lower() == wanted]


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest() if data is not None else ""


def b64(data):
    return base64.b64encode(data).decode("ascii")


# --- the runner ----------------------------------------------------------------------------------

class WindowsRunner(object):
    """Does for every user of one Windows host what ``PosixRunner`` does on a POSIX host."""

    def __init__(self, action, task_vars, params, settings, user_settings, redactor):
        self.action = action
        self.task_vars = task_vars or {}
        self.params = params
        self.settings = settings or {}
        self.user_settings = user_settings or {}
        self.redactor = redactor
        self.check_mode = bool(action._task.check_mode)
        self.want_diff = bool(action._task.diff)
        self.host = str(self.task_vars.get("inventory_hostname") or action._play_context.remote_addr or "host")
        self.layout = params.get("layout") or CONFIG_FILE
        self.results = []
        self.diffs = []
        self.warnings = []

    # -- module calls ----------------------------------------------------------------------------

    def _execute(self, module_name, module_args, sensitive):
        with forced_no_log(self.action, sensitive):
            return self.action._execute_module(module_name=module_name, module_args=module_args,
                                               task_vars=self.task_vars)

    def _discover(self):
        reply = self._execute(POWERSHELL, {
            "script": scripts.DISCOVERY,
            "parameters": {scripts.DISCOVERY_DIRECTORIES: discovery_directories(self.layout)},
            "error_action": "stop",
        }, sensitive=False)
        return parse_discovery(reply, self.host)

    def _slurp(self, path):
        reply = self._execute(SLURP, {"src": path}, sensitive=True)
        if reply.get("failed"):
            raise WindowsTaskError("cannot read %s: %s" % (path, failure_text(reply)))
        content = reply.get("content")
        if reply.get("encoding") != "base64" or not isinstance(content, str):
            raise WindowsTaskError("cannot read %s: ansible.windows.slurp returned no base64 content" % path)
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise WindowsTaskError("cannot read %s: ansible.windows.slurp returned invalid base64" % path)

    def _write(self, profile, path, write):
        operation = "delete" if write.is_delete else "write"
        sensitive = []
        if not write.is_delete:
            sensitive.append({"name": scripts.WRITE_CONTENT, "value": b64(write.content)})
            if self.params.get("backup") and write.before is not None:
                sensitive.append({"name": scripts.WRITE_BACKUP,
                                  "value": b64(backup_content(write.before, self.redactor))})
        args = {
            "script": scripts.WRITE,
            "parameters": {
                scripts.WRITE_PATH: path,
                scripts.WRITE_PROFILE: profile.path,
                scripts.WRITE_USER_SID: profile.sid,
                scripts.WRITE_OPERATION: operation,
                scripts.WRITE_EXPECTED: sha256_hex(write.before),
            },
            "error_action": "stop",
        }
        if sensitive:
            args["sensitive_parameters"] = sensitive
        reply = self._execute(POWERSHELL, args, sensitive=True)
        if reply.get("failed"):
            raise WindowsTaskError("cannot %s %s: %s" % (operation, path, failure_text(reply)))
        done = reply.get("result")
        if not isinstance(done, dict) or done.get("operation") != operation or \
                str(done.get("path", "")).lower() != path.lower():
            raise WindowsTaskError("cannot tell whether the %s of %s succeeded: the write script returned an "
                                   "unexpected reply; check the file and run again" % (operation, path))
        return done

    # -- who -------------------------------------------------------------------------------------

    def _users(self, discovery):
        """[(name, Profile or None, problem)] for the ``users`` option."""
        profiles = [profile for profile in discovery.user_profiles() if profile.exists]
        names = display_names(profiles)
        wanted = self.params.get("users") or ["all"]
        if wanted == ["all"]:
            if not discovery.is_admin:
                profiles = [profile for profile in profiles if profile.sid == discovery.current_sid]
            return [(names[profile.sid], profile, None) for profile in profiles]
        entries = []
        for name in wanted:
            matches = match_profiles(name, profiles)
            if len(matches) == 1:
                entries.append((names[matches[0].sid], matches[0], None))
            elif matches:
                entries.append((name, None, "'%s' matches %d profiles (%s); name the account as DOMAIN\\user"
                                % (name, len(matches), ", ".join(p.account or p.path for p in matches))))
            else:
                entries.append((name, None, "no user profile for '%s' on this host (profiles: %s); check the name, or "
                                "let the user log on once so that Windows creates the profile"
                                % (name, ", ".join(sorted(names.values(), key=str.lower)) or "none")))
        return entries

    def _settings_for(self, name, profile):
        """The settings this user gets; ``user_settings`` keys match the user case-insensitively."""
        candidates = set(value.lower() for value in (name, profile.short_name, profile.account or "", profile.sid))
        key = next((key for key in self.user_settings if key.lower() in candidates), name)
        return compose_user_settings(self.settings, None, self.user_settings, None, key)

    # -- run -------------------------------------------------------------------------------------

    def run(self):
        if self.params.get("path") or self.params.get("library_path"):
            return self._failure("path and library_path are not supported on Windows hosts; use users (each user's "
                                 "files are found from the profile, including MSIX copies)")
        try:
            discovery = self._discover()
        except WindowsTaskError as exc:
            return self._failure(str(exc))
        if discovery.running_error:
            self.warnings.append("%s: could not check whether Claude Desktop is running: %s"
                                 % (self.host, discovery.running_error))
        for name, profile, problem in self._users(discovery):
            if profile is None:
                self._user_error(name, problem)
            else:
                self._run_user(name, profile, discovery)
        return self._response()

    def _failure(self, message):
        return dict(failed=True, changed=False, msg=self.redactor.text(message), results=[], summary=summarize([]),
                    warnings=self.warnings)

    def _response(self):
        response = dict(changed=any(item["changed"] for item in self.results), results=self.results,
                        summary=summarize(self.results), warnings=self.warnings)
        if self.diffs:
            response["diff"] = self.diffs
        if any(item.get("error") for item in self.results):
            response["failed"] = True
            response["msg"] = failure_message(self.results)
        return response

    def _error_text(self, user, message):
        """A per-user error names the host and the user; the message names the path and the cause."""
        return qualify_error(self.host, user, self.redactor.text(message))

    def _user_error(self, name, problem):
        for layout in layouts_for(self.layout):
            result = new_result(name, None, layout, None, "per-user configuration")
            record_error(result, self._error_text(name, problem))
            self.results.append(result)

    def _run_user(self, name, profile, discovery):
        sources = self._managed_sources(profile, discovery)
        notes = self._profile_notes(profile)
        request = merge_request(self.params, self._settings_for(name, profile))
        for location in locations_for(profile, self.layout):
            result = new_result(name, profile.path, location.layout, location.path, location.reason)
            result["app_running"] = profile.app_running
            result["managed_sources"] = [{"source": source, "keys": keys} for source, keys in sources]
            result["managed_override"] = bool(sources)
            result["notes"].extend(notes)
            self.results.append(result)
            problem = self._refusal(name, profile, discovery, sources)
            if problem:
                record_error(result, self._error_text(name, problem))
                continue
            try:
                self._run_location(name, profile, location, request, result)
            except (WindowsTaskError, DocumentError, PlanError) as exc:
                record_error(result, self._error_text(name, str(exc)))
        self._warn_about(name, profile, sources, notes)

    def _refusal(self, name, profile, discovery, sources):
        if not discovery.is_admin and profile.sid != discovery.current_sid:
            return ("cannot manage %s's files without administrator rights: connect as %s or as an administrator "
                    "(become: true)" % (name, name))
        if profile.error:
            return "cannot inspect the profile %s: %s" % (profile.path, profile.error)
        if sources and self.params.get("fail_on_managed"):
            return takeover_warning(name, sources)
        return None

    def _managed_sources(self, profile, discovery):
        """[(source, takeover keys)]: HKLM and this user's HKCU policy values that make the app ignore local files."""
        found = []
        machine = takeover_keys(discovery.machine_policy or ())
        if machine:
            found.append(("HKLM\\%s" % WINDOWS_POLICY_KEY, machine))
        user = takeover_keys(profile.user_policy or ())
        if user:
            found.append(("HKU\\%s\\%s" % (profile.sid, WINDOWS_POLICY_KEY), user))
        return found

    def _profile_notes(self, profile):
        notes = []
        if not profile.hive_loaded:
            notes.append("HKCU\\%s not checked: the user is not logged on, so the registry hive is not loaded"
                         % WINDOWS_POLICY_KEY)
        layouts = layouts_for(self.layout)
        for key, layout, default, shown in _APPDATA_DEFAULTS:
            value = profile.shell_folders.get(key)
            if layout not in layouts or not value:
                continue
            expanded = _USERPROFILE.sub(lambda _match: profile.path, value)
            if ntpath.normcase(ntpath.normpath(expanded)) != ntpath.normcase(ntpath.join(profile.path, default)):
                notes.append("%s is redirected to %s (folder redirection); Claude Desktop reads its files there, which "
                             "this module does not manage" % (shown, value))
        return notes

    def _warn_about(self, name, profile, sources, notes):
        if sources and not self.params.get("fail_on_managed"):
            self.warnings.append(takeover_warning(name, sources))
        if profile.app_running:
            self.warnings.append("user %s: Claude Desktop is running; it reads its configuration only at launch, so "
                                 "the user must quit it fully and reopen it (the module never stops the app)" % name)
        for note in notes:
            if "redirected" in note:
                self.warnings.append("user %s: %s" % (name, note))

    # -- one location ----------------------------------------------------------------------------

    def _run_location(self, name, profile, location, request, result):
        fact = location.fact
        if fact is None:
            raise WindowsTaskError("the discovery did not report %s" % location.directory)
        if fact.blocked and fact.blocked_kind == "link":
            raise WindowsTaskError("%s is a junction or symbolic link; refusing to follow links in a user's profile "
                                   "(remove it, the app recreates the directory)" % fact.blocked)
        if fact.blocked:
            raise WindowsTaskError("%s is a file where a directory is expected; move it away and run again"
                                   % fact.blocked)
        header = diff_label(name, location.path)
        if location.file_name:
            data = self._read(location, location.file_name, owned=True)
            self._remember_secrets(data)
            outcome = plan_config_file(data, request, self.redactor, label=location.path, header=header,
                                       want_diff=self.want_diff, deployment_mode=self.params.get("deployment_mode"))
        else:
            entry_name = self.params.get("entry_name")
            entry_file = "%s.json" % entry_id_for(entry_name)
            result["entry_id"] = entry_id_for(entry_name)
            meta = self._read(location, META_FILE_NAME, owned=False)
            entry = self._read(location, entry_file, owned=True)
            self._remember_secrets(entry)
            present = [item.name for item in fact.files.values()] if fact.exists else []
            outcome = plan_config_library(meta, entry, present, request, self.redactor, entry_name=entry_name,
                                          apply=self.params.get("apply"), label=location.path, header=header,
                                          want_diff=self.want_diff, sep="\\")
        record_outcome(result, outcome)
        self.diffs.extend(outcome.diffs)
        if outcome.writes and not self.check_mode:
            self._apply(profile, location, outcome, result)

    def _read(self, location, name, owned):
        """The bytes of one file of the location (None when missing); one slurp per existing file."""
        fact = location.fact.files.get(name.lower()) if location.fact.exists else None
        if fact is None:
            return None
        path = ntpath.join(location.directory, fact.name)
        if fact.link:
            raise WindowsTaskError("%s is a symbolic link; refusing to follow links in a user's profile (replace it "
                                   "with a regular file or delete it)" % path)
        limit = self.params.get("max_file_size")
        if limit and fact.size > limit:
            raise WindowsTaskError("%s is %d bytes, more than max_file_size (%d); a Claude Desktop config is a few "
                                   "KB, so this is not one: move it away or raise max_file_size"
                                   % (path, fact.size, limit))
        if owned:
            self._refuse_read_only(fact, path)
        return self._slurp(path)

    @staticmethod
    def _refuse_read_only(fact, path):
        if fact is not None and fact.readonly:
            raise WindowsTaskError("%s is read-only (ReadOnly attribute); someone locked it on purpose, so it is left "
                                   "alone. Clear the attribute (attrib -R) or delete it, then run again" % path)

    def _remember_secrets(self, data):
        """Credentials already in a user's file are masked like the ones being written (as on POSIX)."""
        if not data:
            return
        try:
            document = parse_object(data)
        except ValueError:
            return
        self.redactor.remember_credentials_in(document)

    def _apply(self, profile, location, outcome, result):
        """Write or delete in the plan's order, one call per file; nothing at all if any target is read-only."""
        paths = []
        for write in outcome.writes:
            fact = location.fact.files.get(write.name.lower()) if location.fact.exists else None
            path = ntpath.join(location.directory, fact.name if fact else write.name)
            self._refuse_read_only(fact, path)
            paths.append(path)
        for path, write in zip(paths, outcome.writes):
            done = self._write(profile, path, write)
            result["files_written"].append(path)
            for directory in done.get("directories_created") or ():
                result["notes"].append("created %s (owner-only ACL)" % directory)
            if done.get("owner_only_acl"):
                result["notes"].append("created %s with an owner-only ACL (%s, SYSTEM, Administrators)"
                                       % (path, result["user"]))
            if done.get("backup_file"):
                result["backup_file"] = done["backup_file"]
