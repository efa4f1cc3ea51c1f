# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A faithful fake of a Windows host as seen through ``ActionBase._execute_module``.

No PowerShell runs here, so this models the host (ProfileList, files and directories with their ACLs,
policy registry values, running ``Claude.exe``, the Application event log) and answers module calls
exactly as the real modules would, as read from their sources in the venv:

- ``ansible.windows.slurp`` (``slurp.ps1``, legacy Parse-Args/Exit-Json): ``{changed, content, encoding}``
  or ``{msg: "Path X is not found", failed, changed}``; no event log entry.
- ``ansible.windows.win_powershell`` (``win_powershell.ps1`` on Ansible.Basic): the argument spec is
  checked (unknown options, choices, ``sensitive_parameters`` sub-options), ``no_log`` values are masked
  in ``invocation`` the way ``RemoveNoLogValues`` does and in the "Invoked with" event log entry, which
  is skipped when ``_ansible_no_log`` is true; check mode skips a script without
  ``SupportsShouldProcess`` ("skipped, running in check mode"); parameters are bound against the
  script's ``param()`` block (unknown names, missing mandatory ones, ValidateSet, SecureString types
  only through ``sensitive_parameters``); a thrown error gives ``failed`` plus an ``error`` record; the
  reply has every documented RETURN key.

The two scripts of the collection (``windows_scripts.DISCOVERY`` and ``WRITE``) are emulated step by
step against the model, following their PowerShell line by line.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import ntpath
import re

from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import shell_loader

from ansible_collections.aiohub.claude_desktop.plugins.action.enterprise_config import ActionModule
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import windows_scripts as scripts

SYSTEM = "S-1-5-18"
ADMINISTRATORS = "S-1-5-32-544"
NO_LOG_MARKER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
_ACCOUNT_SID = re.compile(r"^S-1-(5-21|12-1)-\d+-\d+-\d+-\d+$")  # the discovery script's $accountSid
# win_powershell.ps1's own test for SupportsShouldProcess (its fallback when the AST is not available).
_SHOULD_PROCESS = re.compile(
    r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?(?:,\s*[\w=\$]+)?\)\]")

WIN_POWERSHELL_OPTIONS = frozenset(("arguments", "chdir", "creates", "depth", "error_action", "executable",
                                    "parameters", "path", "sensitive_parameters", "remote_src", "removes", "script"))
SENSITIVE_OPTIONS = frozenset(("name", "username", "password", "value"))


def owner_only(sid):
    """The ACL the write script gives new files and directories: protected, the user, SYSTEM, Administrators."""
    return ("protected", frozenset((sid, SYSTEM, ADMINISTRATORS)))


INHERITED = ("inherited", frozenset())


class ScriptError(Exception):
    """What a PowerShell ``throw`` (or a .NET exception) in a script becomes."""

    def __init__(self, message, kind="System.Management.Automation.RuntimeException"):
        super(ScriptError, self).__init__(message)
        self.kind = kind


class Entry(object):
    def __init__(self, path, kind, data=None, acl=INHERITED, readonly=False):
        self.path = path
        self.kind = kind  # dir | file | link (a junction or symbolic link)
        self.data = data
        self.acl = acl
        self.readonly = readonly


class Param(object):
    def __init__(self, name, mandatory, kind, choices):
        self.name = name
        self.mandatory = mandatory
        self.kind = kind
        self.choices = choices


def script_parameters(script):
    """{lower name: Param} from a script's ``param ( ... )`` block, as PowerShell binds them."""
    start = script.index("param (") + len("param (")
    depth, index = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(script[index], 0)
        index += 1
    body = "\n".join(line for line in script[start:index - 1].splitlines() if not line.strip().startswith("#"))
    chunks, depth, current = [], 0, ""
    for char in body:
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            chunks.append(current)
            current = ""
        else:
            current += char
    chunks.append(current)
    params = {}
    for chunk in chunks:
        name = re.search(r"\[([\w\[\]\.]+)\]\s*\$(\w+)", chunk)
        choices = re.search(r"ValidateSet\(([^)]*)\)", chunk)
        params[name.group(2).lower()] = Param(
            name.group(2), bool(re.search(r"Mandatory\s*=\s*\$true", chunk)), name.group(1).lower(),
            re.findall(r"'([^']*)'", choices.group(1)) if choices else None)
    return params


def mask(value, secrets):
    """Ansible.Basic ``RemoveValueConditions``: equal -> marker, containing -> ``********``."""
    if isinstance(value, dict):
        return dict((key, mask(item, secrets)) for key, item in value.items())
    if isinstance(value, list):
        return [mask(item, secrets) for item in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    text = str(value)
    if text in secrets:
        return NO_LOG_MARKER
    for secret in secrets:
        if secret in text:
            return text.replace(secret, "********")
    return text


def format_log(data, indent=2):
    """Ansible.Basic ``FormatLogData`` (scalars are masked by the caller)."""
    if data is None:
        return "$null"
    if isinstance(data, list):
        return "".join("\r\n%s- %s" % (" " * indent, format_log(item, indent + 2)) for item in data)
    if isinstance(data, dict):
        separator = "\r\n%s" % (" " * indent)
        return separator.join("%s: %s" % (key, format_log(item, indent + 2)) for key, item in data.items())
    return str(data)


class FakeWindowsHost(object):

    def __init__(self, name="win1"):
        self.name = name
        self.entries = {}
        self.profile_list = []
        self.machine_policy = None      # {value name: kind} or None when the key does not exist
        self.user_policy = {}           # sid -> {value name: kind}
        self.loaded_hives = set()
        self.shell_folders = {}         # sid -> {"appdata": raw, "local_appdata": raw}
        self.running = set()            # sids owning a Claude.exe process
        self.running_error = None
        self.current_sid = "S-1-5-21-1-2-3-500"
        self.is_admin = True
        self.event_log = []
        self.temp_files = []
        self.pid = 4242
        self.stamp = "20261124-101500"
        self.discovery_override = None   # JSON text the discovery script "returns" instead of the model's
        self.after_read = None           # callable(path): something changes the host right after a slurp
        self.fail_write = None          # message: the next write script throws it
        self.profile_errors = {}        # sid -> message: listing that profile's directories throws it
        self.add_dir("C:\\Users")
        self.add_dir("C:\\Windows\\System32\\config\\systemprofile")
        for sid, path in ((SYSTEM, "C:\\Windows\\system32\\config\\systemprofile"),
                          ("S-1-5-19", "C:\\Windows\\ServiceProfiles\\LocalService"),
                          ("S-1-5-20", "C:\\Windows\\ServiceProfiles\\NetworkService")):
            self.profile_list.append({"sid": sid, "path": path, "account": None})

    # -- building the model ----------------------------------------------------------------------

    def add_dir(self, path, acl=INHERITED):
        parent = ntpath.dirname(path)
        if parent and parent != path and parent.lower() not in self.entries and not parent.endswith(":\\"):
            self.add_dir(parent)
        self.entries.setdefault(path.lower(), Entry(path, "dir", acl=acl))
        return path

    def add_link(self, path):
        self.add_dir(ntpath.dirname(path))
        self.entries[path.lower()] = Entry(path, "link")

    def add_file(self, path, data, readonly=False, link=False):
        self.add_dir(ntpath.dirname(path))
        self.entries[path.lower()] = Entry(path, "link" if link else "file", data=data, readonly=readonly)
        return path

    def add_profile(self, name, rid=1001, domain="WIN1", path=None, loaded=True, resolvable=True, msix=(), sid=None):
        sid = sid or "S-1-5-21-1111111111-2222222222-3333333333-%d" % rid
        path = path or "C:\\Users\\%s" % name
        for folder in ("AppData\\Roaming", "AppData\\Local", "Desktop"):
            self.add_dir(ntpath.join(path, folder))
        for family in msix:
            self.add_dir(ntpath.join(path, "AppData\\Local\\Packages", family, "LocalCache"))
        account = "%s\\%s" % (domain, name) if resolvable else None
        self.profile_list.append({"sid": sid, "path": path, "account": account})
        if loaded:
            self.loaded_hives.add(sid)
        return sid

    def read(self, path):
        entry = self.entries.get(path.lower())
        return entry.data if entry is not None and entry.kind == "file" else None

    def acl(self, path):
        return self.entries[path.lower()].acl

    def files(self):
        return sorted(entry.path for entry in self.entries.values() if entry.kind == "file")

    # -- module dispatch -------------------------------------------------------------------------

    def execute(self, module_name, module_args):
        if module_name in ("ansible.windows.slurp", "ansible.builtin.slurp", "slurp"):
            return self._slurp(module_args)
        if module_name == "ansible.windows.win_powershell":
            return self._win_powershell(module_args)
        raise AssertionError("the Windows runner called an unexpected module: %s" % module_name)

    def _slurp(self, args):
        src = args.get("src", args.get("path"))
        entry = self.entries.get(str(src).lower())
        if entry is not None and entry.kind == "file":
            content = base64.b64encode(entry.data).decode("ascii")
            if self.after_read:
                self.after_read(src)
            return {"changed": False, "content": content, "encoding": "base64", "_ansible_parsed": True}
        if entry is not None and entry.kind == "dir":
            return {"msg": "Path %s is a directory" % src, "failed": True, "changed": False, "_ansible_parsed": True}
        return {"msg": "Path %s is not found" % src, "failed": True, "changed": False, "_ansible_parsed": True}

    def _win_powershell(self, args):
        options = dict((key, value) for key, value in args.items() if not key.startswith("_ansible_"))
        unknown = sorted(set(options) - WIN_POWERSHELL_OPTIONS)
        if unknown:
            return self._basic_failure("Unsupported parameters for (win_powershell) module: %s" % ", ".join(unknown))
        if options.get("error_action", "continue") not in ("silently_continue", "continue", "stop"):
            return self._basic_failure("value of error_action must be one of: silently_continue, continue, stop")
        sensitive = options.get("sensitive_parameters") or []
        secrets = set()
        for item in sensitive:
            if set(item) - SENSITIVE_OPTIONS or "name" not in item or ("value" in item) == ("username" in item):
                return self._basic_failure("invalid sensitive_parameters entry")
            secrets.update(str(item[key]) for key in ("value", "password") if item.get(key))
        params = {"arguments": None, "chdir": None, "creates": None, "depth": 2, "error_action": "continue",
                  "executable": None, "parameters": None, "path": None, "remote_src": False, "removes": None,
                  "script": None, "sensitive_parameters": None}
        params.update(options)
        if params["sensitive_parameters"]:
            params["sensitive_parameters"] = [dict({"username": None, "password": None, "value": None}, **item)
                                              for item in params["sensitive_parameters"]]
        if not args.get("_ansible_no_log"):
            self.event_log.append("win_powershell - Invoked with:\r\n  %s" % format_log(mask(params, secrets)))
        reply = {"changed": True, "invocation": {"module_args": mask(params, secrets)}, "result": {}, "host_out": "",
                 "host_err": "", "output": [], "error": [], "warning": [], "verbose": [], "debug": [],
                 "information": [], "_ansible_parsed": True}
        script = params["script"]
        if args.get("_ansible_check_mode") and not _SHOULD_PROCESS.search(script):
            reply["msg"] = "skipped, running in check mode"
            return reply
        state = {"changed": True, "result": {}}
        try:
            bound = self._bind(script, params.get("parameters") or {}, sensitive)
            if _SHOULD_PROCESS.search(script):  # win_powershell adds these last, over any user value
                bound.update(Confirm=False, WhatIf=bool(args.get("_ansible_check_mode")))
            if script == scripts.DISCOVERY:
                self._discovery(bound, state)
            elif script == scripts.WRITE:
                self._write(bound, state)
            else:
                raise AssertionError("unknown script sent to win_powershell")
        except ScriptError as exc:
            reply["failed"] = True
            reply["error"] = [{
                "output": "%s\r\n    + CategoryInfo          : OperationStopped\r\n" % exc,
                "error_details": None,
                "exception": {"message": str(exc), "type": exc.kind, "help_link": None, "source": "",
                              "hresult": -2146233087, "inner_exception": None},
                "target_object": None,
                "category_info": {"category": "OperationStopped", "category_id": 14, "activity": "",
                                  "reason": "RuntimeException", "target_name": "", "target_type": ""},
                "fully_qualified_error_id": str(exc),
                "script_stack_trace": "at <ScriptBlock>, <No file>: line 1",
                "pipeline_iteration_info": [],
            }]
        reply["changed"] = state["changed"]
        reply["result"] = state["result"]
        return reply

    @staticmethod
    def _basic_failure(message):
        return {"failed": True, "msg": message, "_ansible_parsed": True}

    @staticmethod
    def _bind(script, parameters, sensitive):
        declared = script_parameters(script)
        bound = {}
        for name, value in parameters.items():
            param = declared.get(name.lower())
            if param is None:
                raise ScriptError("A parameter cannot be found that matches parameter name '%s'." % name,
                                  "System.Management.Automation.ParameterBindingException")
            if param.kind == "securestring":
                raise ScriptError("Cannot convert the \"%s\" value of type \"System.String\" to type "
                                  "\"System.Security.SecureString\"." % name,
                                  "System.Management.Automation.ParameterBindingException")
            if param.kind == "string" and not isinstance(value, str):
                raise AssertionError("parameter %s must be a string, got %r" % (name, value))
            if param.kind == "string[]" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise AssertionError("parameter %s must be a list of strings, got %r" % (name, value))
            if param.choices and value.lower() not in [choice.lower() for choice in param.choices]:
                raise ScriptError("Cannot validate argument on parameter '%s'." % name,
                                  "System.Management.Automation.ParameterBindingException")
            bound[param.name] = value
        for item in sensitive:
            param = declared.get(item["name"].lower())
            if param is None:
                raise ScriptError("A parameter cannot be found that matches parameter name '%s'." % item["name"],
                                  "System.Management.Automation.ParameterBindingException")
            if param.kind != "securestring":
                raise AssertionError("sensitive parameter %s is bound to a %s parameter" % (item["name"], param.kind))
            bound[param.name] = item.get("value") or ""
        for param in declared.values():
            if param.mandatory and param.name not in bound:
                raise ScriptError("Cannot process command because of one or more missing mandatory parameters: %s."
                                  % param.name, "System.Management.Automation.ParameterBindingException")
        return bound

    # -- DISCOVERY, step by step ------------------------------------------------------------------

    def _attributes(self, path):
        entry = self.entries.get(path.lower())
        return None if entry is None else entry.kind

    def _directory_state(self, profile_path, relative):
        state = {"relative": relative, "exists": False, "blocked": None, "blocked_kind": None, "files": []}
        current = profile_path
        for part in relative.split("\\"):
            current = ntpath.join(current, part)
            kind = self._attributes(current)
            if kind is None:
                return state
            if kind == "link":
                state.update(blocked=current, blocked_kind="link")
                return state
            if kind != "dir":
                state.update(blocked=current, blocked_kind="file")
                return state
        state["exists"] = True
        prefix = current.lower() + "\\"
        for key, entry in sorted(self.entries.items()):
            if key.startswith(prefix) and "\\" not in key[len(prefix):] and key.endswith(".json") \
                    and entry.kind in ("file", "link"):
                state["files"].append({"name": ntpath.basename(entry.path), "size": len(entry.data or b""),
                                       "readonly": entry.readonly, "link": entry.kind == "link"})
        return state

    def _policy_names(self, values):
        if values is None:
            return None
        return [("(default)" if name == "" else name) for name, kind in values.items()
                if kind in ("String", "ExpandString", "DWord")]

    @staticmethod
    def _honours_what_if(cmdlet):
        """Whether the discovery script lets ``cmdlet`` (a ShouldProcess cmdlet) see -WhatIf in check mode."""
        lines = [line for line in scripts.DISCOVERY.splitlines() if cmdlet in line and not line.strip().startswith("#")]
        return any("-WhatIf:$false" not in line for line in lines)

    def _discovery(self, bound, state):
        state["changed"] = False
        if self.discovery_override is not None:
            state["result"] = self.discovery_override
            return
        profiles = []
        for item in self.profile_list:
            sid, path = item["sid"], item["path"]
            profile = {"sid": sid, "path": path, "details": False}
            running = self.running if not (bound.get("WhatIf") and self._honours_what_if("Invoke-CimMethod")) else ()
            if _ACCOUNT_SID.match(sid) and path:
                loaded = sid in self.loaded_hives
                exists = self._attributes(path) == "dir"
                profile.update(
                    details=True, account=item["account"], exists=exists, hive_loaded=loaded,
                    user_policy=self._policy_names(self.user_policy.get(sid)) if loaded else None,
                    shell_folders=self.shell_folders.get(sid) if loaded else None,
                    app_running=sid in running, error=None, dirs=[])
                if exists and sid in self.profile_errors:
                    profile["error"] = self.profile_errors[sid]  # the script's catch around Get-DirectoryState
                elif exists:
                    profile["dirs"] = [self._directory_state(path, relative) for relative in bound["Directories"]]
            profiles.append(profile)
        state["result"] = json.dumps({
            "format": 1, "current_sid": self.current_sid, "is_admin": self.is_admin,
            "machine_policy": self._policy_names(self.machine_policy), "running_error": self.running_error,
            "profiles": profiles}, separators=(",", ":"))

    # -- WRITE, step by step ----------------------------------------------------------------------

    def _write(self, bound, state):
        path, root = bound["Path"], bound["ProfilePath"].rstrip("\\")
        operation, sid = bound["Operation"], bound["UserSid"]
        if operation == "write" and "Content" not in bound:
            raise ScriptError("no content given for %s; nothing was written" % path)
        if not path.lower().startswith(root.lower() + "\\") or re.search(r"\\\.\.?(\\|$)", path):
            raise ScriptError("%s is not below the profile %s; refusing to write it" % (path, bound["ProfilePath"]))
        if self.fail_write:
            message, self.fail_write = self.fail_write, None
            raise ScriptError(message, "System.UnauthorizedAccessException")
        created = []
        current = root
        parts = path[len(root) + 1:].split("\\")
        for part in parts[:-1]:
            current = "%s\\%s" % (current, part)
            kind = self._attributes(current)
            if kind is None:
                if operation == "delete":
                    raise ScriptError("%s does not exist any more; nothing to delete" % current)
                self.entries[current.lower()] = Entry(current, "dir", acl=owner_only(sid))
                created.append(current)
            elif kind == "link":
                raise ScriptError("%s is a junction or symbolic link; refusing to follow links in a user's profile"
                                  % current)
            elif kind != "dir":
                raise ScriptError("%s is a file where a directory is expected" % current)
        entry = self.entries.get(path.lower())
        existed = entry is not None
        if existed and entry.kind == "link":
            raise ScriptError("%s is a symbolic link; refusing to follow links in a user's profile" % path)
        found = hashlib.sha256(entry.data).hexdigest() if existed else ""
        if found != bound.get("ExpectedSha256", "").lower():
            raise ScriptError("%s changed while the task ran (is Claude Desktop running?); nothing was written, run "
                              "the task again" % path)
        result = {"path": path, "operation": operation, "existed": existed, "owner_only_acl": False,
                  "backup_file": None, "directories_created": created}
        if operation == "delete":
            del self.entries[path.lower()]
        else:
            directory, name = ntpath.dirname(path), ntpath.basename(path)
            if existed and "BackupContent" in bound:
                result["backup_file"] = "%s.%d.%s.bak" % (path, self.pid, self.stamp)
                self._new_owner_only_file(result["backup_file"], base64.b64decode(bound["BackupContent"]), sid)
            temp = ntpath.join(directory, ".%s.%s.tmp" % (name, "0123456789abcdef0123456789abcdef"))
            self.temp_files.append(temp)
            self._new_owner_only_file(temp, base64.b64decode(bound["Content"]), sid)
            new = self.entries.pop(temp.lower())
            if existed:
                if entry.readonly:
                    raise ScriptError("Access to the path '%s' is denied." % path, "System.UnauthorizedAccessException")
                new.acl = entry.acl  # ReplaceFile keeps the DACL of the replaced file
            else:
                result["owner_only_acl"] = True
            new.path = path
            self.entries[path.lower()] = new
        state["changed"] = True
        state["result"] = result

    def _new_owner_only_file(self, path, data, sid):
        if path.lower() in self.entries:
            raise ScriptError("The file '%s' already exists." % path, "System.IO.IOException")
        self.entries[path.lower()] = Entry(path, "file", data=data, acl=owner_only(sid))


# --- the real action plugin, with only the wire to the host replaced ------------------------------

class Call(object):
    def __init__(self, module_name, module_args):
        self.module_name = module_name
        self.module_args = module_args

    @property
    def is_write(self):
        return self.module_name == "ansible.windows.win_powershell" and self.module_args.get("script") == scripts.WRITE

    @property
    def is_discovery(self):
        return self.module_name == "ansible.windows.win_powershell" and \
            self.module_args.get("script") == scripts.DISCOVERY

    @property
    def is_read(self):
        return self.module_name == "ansible.windows.slurp"

    def visible_args(self):
        """The arguments minus the values win_powershell's argument spec marks no_log."""
        args = copy.deepcopy(self.module_args)
        for item in args.get("sensitive_parameters") or ():
            for key in ("value", "password"):
                item.pop(key, None)
        return args


class FakeConnection(object):
    """What ActionBase reads from a winrm/psrp connection; ``_shell`` is the real PowerShell shell plugin."""

    transport = "winrm"
    socket_path = None
    become = None
    always_pipeline_modules = True

    def __init__(self):
        self._shell = shell_loader.get("powershell")


class WindowsTestAction(ActionModule):
    """The collection's real action plugin; ``_execute_module`` runs the real ``_update_module_args`` and
    then answers from the fake host instead of transferring a module."""

    def __init__(self, host, *args, **kwargs):
        super(WindowsTestAction, self).__init__(*args, **kwargs)
        self.host = host
        self.calls = []
        self.replies = []
        self.no_log_seen = []

    def _execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None, persist_files=False,
                        delete_remote_tmp=None, wrap_async=False, ignore_unknown_opts=False):
        self._update_module_args(module_name, module_args, task_vars or {})
        self.calls.append(Call(module_name, copy.deepcopy(module_args)))
        self.no_log_seen.append((self._task.no_log, self._play_context.no_log))
        reply = self.host.execute(module_name, module_args)
        self.replies.append(copy.deepcopy(reply))
        return reply


def make_action(host, args, check_mode=False, diff=False, no_log=False):
    task = Task()
    task.action = "aiohub.claude_desktop.enterprise_config"
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.no_log = no_log
    play_context = PlayContext()
    play_context.no_log = no_log
    return WindowsTestAction(host, task, FakeConnection(), play_context, None, None, None)


def run_task(host, args, check_mode=False, diff=False):
    """(result, action) of the real ``ActionModule.run`` against the fake host."""
    action = make_action(host, args, check_mode=check_mode, diff=diff)
    result = action.run(task_vars={"inventory_hostname": host.name})
    return result, action
