# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs ``enterprise_config`` on a POSIX host: every user, every layout, in one module call."""

from __future__ import annotations

import os
import sys

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.document import DocumentError, parse_object
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import declared_secrets
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.layout import (
    CONFIG_FILE, LINUX, MACOS, config_file_dirs, layouts_for, library_dirs,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed import takeover_warning
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import PRESENT, compose_user_settings
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    CONFIG_FILE_NAME, META_FILE_NAME, PlanError, backup_content, entry_id_for, plan_config_file,
    plan_config_library,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_fs import (
    ConcurrentChangeError, Identity, SafeDir, attributes_need_fix, describe_os_error, owner_writable,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_host import (
    managed_sources, uids_running_app,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_users import (
    all_real_users, current_user, named_user,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import (
    diff_label, merge_request, new_result, record_error, record_outcome,
)

MAX_ATTEMPTS = 3
FILE_ATTRIBUTES_KEY = "(file mode and owner)"


def resolve_platform(option):
    if option in (MACOS, LINUX):
        return option
    return MACOS if sys.platform == "darwin" else LINUX


def error_text(exc):
    """A one-line cause that names the path: our own OSErrors carry a full sentence in ``strerror``."""
    if isinstance(exc, OSError):
        text = exc.strerror or describe_os_error(exc)
        if exc.filename and str(exc.filename) not in text:
            text = "%s: %s" % (text, exc.filename)
        return text
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


class Target(object):
    """One place to manage: whose it is, the trusted directory to start from and the components below it."""

    def __init__(self, identity, home, base, components, label_path, error=None):
        self.identity = identity
        self.home = home
        self.base = base
        self.components = components
        self.label_path = label_path
        self.error = error


class PosixRunner(object):

    def __init__(self, params, check_mode, want_diff, on_warning, effective_uid):
        self.params = params
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.warn = on_warning
        self.effective_uid = effective_uid
        self.platform = resolve_platform(params.get("platform"))
        self.redactor = Redactor(declared_secrets(params), salt=params.get("fingerprint_salt"))
        self.secret_values_seen = set()
        self.results = []
        self.diffs = []

    # -- who -----------------------------------------------------------------------------------

    def _user_entries(self):
        """[(name, UserEntry or None, error)] for the ``users`` option."""
        names = self.params.get("users") or ["all"]
        if names == ["all"]:
            if self.effective_uid != 0:
                return [(current_user().name, current_user(), None)]
            return [(entry.name, entry, None) for entry in all_real_users(self.platform)]
        entries = []
        for name in names:
            try:
                entries.append((name, named_user(name), None))
            except KeyError as exc:
                entries.append((name, None, error_text(exc)))
        return entries

    def _explicit_identity(self, directory):
        owner = self.params.get("owner")
        if owner:
            entry = named_user(owner)
            return Identity(entry.name, entry.uid, entry.gid)
        info = os.stat(directory)
        try:
            import pwd
            name = pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            name = "uid %d" % info.st_uid
        return Identity(name, info.st_uid, info.st_gid)

    # -- run -----------------------------------------------------------------------------------

    def run(self):
        running = self._running_uids()
        if self.params.get("path") or self.params.get("library_path"):
            self._run_explicit(running)
        else:
            entries = self._user_entries()
            if not entries:
                self.warn("users: all found no local account on this host (a login shell, an existing home, uid %d or "
                          "above, not a system account), so nothing was configured; a new machine gets its users at "
                          "first login" % (500 if self.platform == MACOS else 1000))
            for name, entry, problem in entries:
                self._run_user(name, entry, problem, running)
        return self.results, self.diffs

    def _running_uids(self):
        try:
            return uids_running_app(self.platform)
        except OSError:
            return set()

    def _run_explicit(self, running):
        path = self.params.get("path") or self.params.get("library_path")
        layout = CONFIG_FILE if self.params.get("path") else "config_library"
        parent = os.path.dirname(os.path.abspath(path))
        result = new_result(None, None, layout, path, "explicit %s" % ("file" if layout == CONFIG_FILE else "directory"))
        self.results.append(result)
        try:
            identity = self._explicit_identity(parent)
        except (OSError, KeyError) as exc:
            record_error(result, error_text(exc))
            return
        result["user"] = identity.name
        result["app_running"] = identity.uid in running
        components = () if layout == CONFIG_FILE else (os.path.basename(path),)
        target = Target(identity, parent, parent, components, path)
        self._run_layout(target, layout, result, name=os.path.basename(path) if layout == CONFIG_FILE else None)

    def _run_user(self, name, entry, problem, running):
        layouts = layouts_for(self.params.get("layout"))
        if entry is None:
            for layout in layouts:
                result = new_result(name, None, layout, None, "per-user configuration")
                record_error(result, problem)
                self.results.append(result)
            return
        identity = Identity(entry.name, entry.uid, entry.gid)
        sources = self._managed(entry.name)
        for layout in layouts:
            dirs = config_file_dirs(self.platform) if layout == CONFIG_FILE else library_dirs(self.platform)
            shown = os.path.join(entry.home, *dirs)
            if layout == CONFIG_FILE:
                shown = os.path.join(shown, CONFIG_FILE_NAME)
            result = new_result(entry.name, entry.home, layout, shown,
                                "per-user configuration file" if layout == CONFIG_FILE else "per-user configLibrary")
            result["app_running"] = entry.uid in running
            result["managed_sources"] = [{"source": source, "keys": keys} for source, keys in sources]
            result["managed_override"] = bool(sources)
            self.results.append(result)
            if self.effective_uid != 0 and entry.uid != self.effective_uid:
                record_error(result, "cannot manage %s's files without root: connect as %s or use become: true"
                             % (entry.name, entry.name))
                continue
            if sources and self.params.get("fail_on_managed"):
                record_error(result, takeover_warning(entry.name, sources))
                continue
            target = Target(identity, entry.home, entry.home, dirs, shown)
            self._run_layout(target, layout, result)
        self._warn_about(entry.name, sources, entry.uid in running)

    def _managed(self, user):
        try:
            return managed_sources(self.platform, user, self.params.get("managed_preferences_dir"))
        except OSError:
            return []

    def _warn_about(self, user, sources, running):
        if sources and not self.params.get("fail_on_managed"):
            self.warn(takeover_warning(user, sources))
        if running:
            self.warn("user %s: Claude Desktop is running; it reads its configuration only at launch, so the user "
                      "must quit it fully and reopen it (the module never stops the app)" % user)

    def _run_layout(self, target, layout, result, name=None):
        settings = compose_user_settings(self.params.get("settings"), self.params.get("secret_settings"),
                                         self.params.get("user_settings"), self.params.get("user_secret_settings"),
                                         target.identity.name)
        request = merge_request(self.params, settings)
        first_diff = len(self.diffs)
        for attempt in range(MAX_ATTEMPTS):
            # A retry after a concurrent change starts from scratch: no diff or note of the attempt it replaces.
            del self.diffs[first_diff:]
            result.update(files_written=[], notes=[])
            try:
                if layout == CONFIG_FILE:
                    self._config_file(target, request, result, name or CONFIG_FILE_NAME)
                else:
                    self._config_library(target, request, result)
                return
            except ConcurrentChangeError as exc:
                if attempt == MAX_ATTEMPTS - 1:
                    record_error(result, "%s; it kept changing, quit Claude Desktop and run again" % error_text(exc))
            except (OSError, DocumentError, PlanError, KeyError) as exc:
                record_error(result, self.redactor.text(error_text(exc)))
                return
            except Exception as exc:  # pylint: disable=broad-except
                # One user's unexpected failure must not take the other users of the host down with it.
                record_error(result, self.redactor.text("unexpected %s while handling %s: %s; please report it"
                                                        % (type(exc).__name__, target.label_path, exc)))
                return

    # -- config_file ---------------------------------------------------------------------------

    def _open(self, target, request):
        create = request.state == PRESENT and not self.check_mode
        root = SafeDir.open_root(target.base, target.identity)
        try:
            return root.walk(target.components, create=create)
        finally:
            root.close()

    def _config_file(self, target, request, result, name):
        directory = self._open(target, request)
        data, info = (None, None)
        try:
            if directory is not None:
                if not self.check_mode:
                    directory.remove_stale_temp_files(name)
                data, info = directory.read(name, self.params.get("max_file_size"))
                self._refuse_read_only(info, target.label_path)
            self._remember_secrets(data)
            outcome = plan_config_file(data, request, self.redactor, label=target.label_path,
                                       header=diff_label(target.identity.name, target.label_path),
                                       want_diff=self.want_diff, deployment_mode=self.params.get("deployment_mode"))
            record_outcome(result, outcome)
            self.diffs.extend(outcome.diffs)
            if outcome.writes:
                if not self.check_mode:
                    self._apply(directory, outcome, {name: info}, result, rename={CONFIG_FILE_NAME: name})
            elif directory is not None and attributes_need_fix(info, target.identity):
                self._fix_attributes(directory, name, info, result)
        finally:
            if directory is not None:
                directory.close()

    def _refuse_read_only(self, info, path):
        if not owner_writable(info):
            raise PlanError("%s is read-only (mode %04o); someone locked it on purpose, so it is left alone. Make it "
                            "writable (chmod u+w) or delete it, then run again" % (path, info.st_mode & 0o7777))

    def _remember_secrets(self, data):
        if not data:
            return
        try:
            document = parse_object(data)
        except ValueError:
            return
        self.secret_values_seen.update(self.redactor.remember_credentials_in(document))

    def _fix_attributes(self, directory, name, info, result):
        identity = directory.identity
        result["changed"] = True
        result["status"] = "drifted"
        result["notes"].append("file mode and owner set to 0600 %s" % identity.name)
        # Reports list drift key by key; a wrong mode or owner is drift too, so it gets a row of its own.
        result["key_changes"].append({"key": FILE_ATTRIBUTES_KEY, "change": "changed",
                                      "before": "%04o uid %d" % (info.st_mode & 0o7777, info.st_uid),
                                      "after": "0600 uid %d" % identity.uid})
        if self.check_mode:
            return
        directory.fix_attributes(name, info)
        result["files_written"].append(os.path.join(directory.path, name))

    def _apply(self, directory, outcome, infos, result, rename=None):
        rename = rename or {}
        for write in outcome.writes:
            name = rename.get(write.name, write.name)
            path = os.path.join(directory.path, name)
            if self.params.get("backup") and write.before is not None:
                result["backup_file"] = directory.backup(name, backup_content(write.before, self.redactor))
            if write.is_delete:
                directory.unlink(name, expected=infos.get(name))
            else:
                directory.write_atomic(name, write.content, expected=infos.get(name))
            result["files_written"].append(path)

    # -- config_library ------------------------------------------------------------------------

    def _config_library(self, target, request, result):
        entry_name = self.params.get("entry_name")
        entry_file = "%s.json" % entry_id_for(entry_name)
        result["entry_id"] = entry_id_for(entry_name)
        directory = self._open(target, request)
        meta = entry = None
        infos = {}
        present = set()
        try:
            if directory is not None:
                if not self.check_mode:
                    directory.remove_stale_temp_files(entry_file)
                    directory.remove_stale_temp_files(META_FILE_NAME)
                present = set(directory.names())
                meta, infos[META_FILE_NAME] = directory.read(META_FILE_NAME, self.params.get("max_file_size"))
                entry, infos[entry_file] = directory.read(entry_file, self.params.get("max_file_size"))
                self._refuse_read_only(infos[entry_file], os.path.join(target.label_path, entry_file))
            self._remember_secrets(entry)
            outcome = plan_config_library(meta, entry, present, request, self.redactor, entry_name=entry_name,
                                          apply=self.params.get("apply"),
                                          label=target.label_path,
                                          header=diff_label(target.identity.name, target.label_path),
                                          want_diff=self.want_diff)
            record_outcome(result, outcome)
            self.diffs.extend(outcome.diffs)
            if outcome.writes:
                if not self.check_mode:
                    self._apply(directory, outcome, infos, result)
            elif directory is not None:
                for name in (entry_file, META_FILE_NAME):
                    if attributes_need_fix(infos.get(name), target.identity):
                        self._fix_attributes(directory, name, infos[name], result)
        finally:
            if directory is not None:
                directory.close()
