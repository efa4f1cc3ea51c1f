# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""managed_policy on Windows hosts: the real action plugin against a fake Windows registry.

No PowerShell runs here. ``FakeWindows`` models the registry (HKLM, the loaded user hives, ProfileList,
case-insensitive names, value types) and answers the two modules the plugin calls exactly as they would,
read from their sources in the venv:

- ``ansible.windows.win_powershell`` running ``managed_policy_windows.READ``: the script is emulated
  line by line (parameter binding with ValidateSet, ``$null`` to ``[string]`` becoming ``""``, the
  ``Users`` cases, DWORDs unsigned, REG_MULTI_SZ as arrays, JSON in ``$Ansible.Result``); check mode
  runs it only because it declares ``SupportsShouldProcess``; the reply has every RETURN key.
- ``ansible.windows.win_regedit`` (``win_regedit.ps1`` on Ansible.Basic): argument spec (required
  ``path``, choices, ``delete_key`` defaulting to true and deleting the WHOLE key when ``name`` is empty),
  the PSDrive path check, check mode, ``data_changed``/``data_type_changed``, ``invocation`` echoing
  ``data`` (it is not ``no_log``), ``diff`` only with ``_ansible_diff``, and the "Invoked with" entry in
  the Application event log that Ansible.Basic skips only when ``_ansible_no_log`` is true.

``ActionBase._execute_module`` is replaced by a method that runs the real ``_update_module_args`` first,
so the ``_ansible_*`` arguments the host sees are the real ones.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import shell_loader

from ansible_collections.aiohub.claude_desktop.plugins.action.managed_policy import ActionModule
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import encode_settings
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import managed_policy_windows as mpw

from tests.unit.conftest import API_KEY, CLIENT_SECRET, OTHER_KEY, assert_no_secret

HKLM_KEY = "HKLM:\\SOFTWARE\\Policies\\Claude"
HKCU_KEY = "HKCU:\\SOFTWARE\\Policies\\Claude"
ADMIN_SID = "S-1-5-21-1111111111-2222222222-3333333333-500"
ALICE_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
BOB_SID = "S-1-5-21-1111111111-2222222222-3333333333-1002"
CAROL_SID = "S-1-5-21-1111111111-2222222222-3333333333-1003"
POLICY = "software\\policies\\claude"
ACCOUNT_SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-\d+$")
WIN_POWERSHELL_OPTIONS = frozenset(("arguments", "chdir", "creates", "depth", "error_action", "executable", "parameters",
                                    "path", "sensitive_parameters", "remote_src", "removes", "script"))
WIN_REGEDIT_OPTIONS = frozenset(("path", "key", "name", "entry", "value", "data", "type", "datatype", "state",
                                 "delete_key", "hive"))
KIND_OF_TYPE = {"string": "REG_SZ", "expandstring": "REG_EXPAND_SZ", "dword": "REG_DWORD", "qword": "REG_QWORD",
                "multistring": "REG_MULTI_SZ", "binary": "REG_BINARY", "none": "REG_NONE"}

SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": "https://api.aiohub.org",
    "inferenceGatewayApiKey": API_KEY,
    "inferenceModels": ["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}],
    "coworkEgressAllowedHosts": ["docs.aiohub.org"],
    "disableDeploymentModeChooser": True,
    "autoUpdaterEnforcementHours": 24,
    "managedMcpServers": [{"name": "files", "url": "https://mcp.example.com",
                           "oauth": {"clientId": "files-app", "clientSecret": CLIENT_SECRET}}],
}


# --- the fake host ----------------------------------------------------------------------------------

class FakeWindows(object):
    """A Windows host as seen through ``_execute_module``: registry, accounts, event log."""

    def __init__(self):
        self.keys = {}  # (hive id, lower path) -> {"values": {lower name: (name, type, data)}, "subkeys": [...]}
        self.accounts = {}  # lower short name -> (sid, "WIN1\\name")
        self.loaded = set()
        self.current_sid = ADMIN_SID
        self.event_log = []
        self.add_account("admin", ADMIN_SID, loaded=True)

    # -- model -------------------------------------------------------------------------------------

    def add_account(self, name, sid, loaded=True):
        self.accounts[name.lower()] = (sid, "WIN1\\%s" % name)
        if loaded:
            self.loaded.add(sid)

    def account_of(self, sid):
        for found, account in self.accounts.values():
            if found == sid:
                return account
        return None

    def key(self, hive, path=POLICY, create=False):
        ident = (hive, path.lower())
        if ident not in self.keys and create:
            self.keys[ident] = {"values": {}, "subkeys": []}
        return self.keys.get(ident)

    def set_value(self, hive, name, data, kind="REG_SZ", path=POLICY):
        self.key(hive, path, create=True)["values"][name.lower()] = (name, kind, data)

    def values(self, hive, path=POLICY):
        key = self.key(hive, path)
        return {} if key is None else dict((name, (kind, data)) for name, kind, data in key["values"].values())

    # -- module dispatch -----------------------------------------------------------------------------

    def execute(self, module_name, module_args):
        if module_name == mpw.READ_MODULE:
            return self._win_powershell(module_args)
        if module_name == mpw.WRITE_MODULE:
            return self._win_regedit(module_args)
        raise AssertionError("unexpected module %s" % module_name)

    def _log_invocation(self, module, args, params):
        if not args.get("_ansible_no_log"):
            self.event_log.append("%s - Invoked with:\r\n  %s" % (module, json.dumps(params)))

    # -- win_powershell + READ -----------------------------------------------------------------------

    def _win_powershell(self, args):
        options = dict((key, value) for key, value in args.items() if not key.startswith("_ansible_"))
        unknown = sorted(set(options) - WIN_POWERSHELL_OPTIONS)
        if unknown:
            return {"failed": True, "msg": "Unsupported parameters for (win_powershell) module: %s" % ", ".join(unknown)}
        params = {"arguments": None, "chdir": None, "creates": None, "depth": 2, "error_action": "continue",
                  "executable": None, "parameters": None, "path": None, "remote_src": False, "removes": None,
                  "script": None, "sensitive_parameters": None}
        params.update(options)
        self._log_invocation("win_powershell", args, params)
        reply = {"changed": True, "invocation": {"module_args": params}, "result": {}, "host_out": "", "host_err": "",
                 "output": [], "error": [], "warning": [], "verbose": [], "debug": [], "information": []}
        script = params["script"]
        assert script == mpw.READ, "only the READ script is sent to win_powershell"
        if args.get("_ansible_check_mode") and "[CmdletBinding(SupportsShouldProcess = $true)]" not in script:
            reply["msg"] = "skipped, running in check mode"
            return reply
        bound = dict((key.lower(), value) for key, value in (params["parameters"] or {}).items())
        assert set(bound) <= {"scope", "users"}, bound
        if bound.get("scope") not in ("machine", "user"):  # [ValidateSet('machine', 'user')], Mandatory
            reply.update(failed=True, error=[{"exception": {"message": "Cannot validate argument on parameter "
                                                                       "'Scope'."}}])
            return reply
        reply["changed"] = False  # $Ansible.Changed = $false
        reply["result"] = json.dumps(self._read(bound["scope"], [str(item) for item in bound.get("users") or []]))
        return reply

    def _policy(self, hive, with_data):
        key = self.key(hive)
        if key is None:
            return {"exists": False, "values": [], "subkeys": []}
        values = []
        for name, kind, data in key["values"].values():
            item = {"name": name, "type": kind}
            if with_data:
                item["data"] = data
            values.append(item)
        return {"exists": True, "values": values, "subkeys": list(key["subkeys"])}

    def _entry(self, name, sid, current, with_data):
        return {"name": name or "", "account": self.account_of(sid), "sid": sid, "current": current, "loaded": True,
                "error": None, "policy": self._policy(sid, with_data)}

    def _read(self, scope, users):
        loaded = sorted(sid for sid in self.loaded if ACCOUNT_SID.match(sid))
        not_logged_on = []
        if scope == "machine":
            machine = self._policy("HKLM", True)
            entries = [self._entry(None, sid, False, False) for sid in loaded]
        else:
            machine = self._policy("HKLM", False)
            if not users:
                entries = [self._entry(self.account_of(self.current_sid), self.current_sid, True, True)]
            elif "all" in [user.lower() for user in users]:
                entries = [self._entry(None, sid, False, True) for sid in loaded]
                not_logged_on = [account for sid, account in sorted(self.accounts.values()) if sid not in loaded]
            else:
                entries = []
                for name in users:
                    found = self.accounts.get(name.lower().split("\\")[-1])
                    if found is None:
                        entries.append({"name": name, "account": None, "sid": None, "current": False, "loaded": False,
                                        "error": "no account named '%s' on this host or in its domain" % name,
                                        "policy": None})
                    elif found[0] in loaded:
                        entries.append(self._entry(name, found[0], False, True))
                    else:
                        entries.append({"name": name, "account": found[1], "sid": found[0], "current": False,
                                        "loaded": False, "error": None, "policy": None})
        return {"format": 1, "scope": scope, "current_account": self.account_of(self.current_sid),
                "current_sid": self.current_sid, "machine": machine, "users": entries, "not_logged_on": not_logged_on}

    # -- win_regedit ---------------------------------------------------------------------------------

    def _win_regedit(self, args):
        options = dict((key, value) for key, value in args.items() if not key.startswith("_ansible_"))
        unknown = sorted(set(options) - WIN_REGEDIT_OPTIONS)
        if unknown:
            return {"failed": True, "msg": "Unsupported parameters for (win_regedit) module: %s" % ", ".join(unknown)}
        params = {"path": None, "name": None, "data": None, "type": "string", "state": "present", "delete_key": True,
                  "hive": None}
        params.update(options)
        if params["path"] is None:
            return {"failed": True, "msg": "missing required arguments: path"}
        if params["type"] not in KIND_OF_TYPE or params["state"] not in ("present", "absent"):
            return {"failed": True, "msg": "value of type/state must be one of the choices"}
        self._log_invocation("win_regedit", args, params)
        reply = {"changed": False, "data_changed": False, "data_type_changed": False,
                 "invocation": {"module_args": params}}
        match = re.match(r"^(HKLM|HKCU|HKU):\\(.*)$", params["path"])
        if not match:
            reply.update(failed=True, msg="path: %s is not a valid powershell path, see module documentation for "
                                          "examples." % params["path"])
            return reply
        hive, path = match.group(1), match.group(2)
        if hive == "HKCU":
            hive = self.current_sid
        elif hive == "HKU":
            hive, _sep, path = path.partition("\\")
            if hive not in self.loaded:
                reply.update(failed=True, msg="failed to create registry key at %s" % params["path"])
                return reply
        else:
            hive = "HKLM"
        check = bool(args.get("_ansible_check_mode"))
        key = self.key(hive, path)
        name = params["name"] or ""
        if params["state"] == "absent":
            if key is None:
                return reply
            if params["delete_key"] and not name:
                reply["changed"] = True
                if not check:
                    del self.keys[(hive, path.lower())]
            elif name.lower() in key["values"]:
                reply["changed"] = True
                if not check:
                    del key["values"][name.lower()]
            return reply
        kind = KIND_OF_TYPE[params["type"]]
        existing = None if key is None else key["values"].get(name.lower())
        if existing is None or existing[1:] != (kind, params["data"]):
            reply.update(changed=True, data_changed=existing is None or existing[2] != params["data"],
                         data_type_changed=existing is not None and existing[1] != kind)
            if not check:
                self.key(hive, path, create=True)["values"][name.lower()] = (
                    existing[0] if existing else name, kind, params["data"])
        if args.get("_ansible_diff"):
            reply["diff"] = {"before": {params["path"]: {name: existing and existing[2]}},
                             "after": {params["path"]: {name: params["data"]}}}
        return reply


# --- the real action plugin, with only the wire replaced ---------------------------------------------

class FakeConnection(object):
    transport = "winrm"
    socket_path = None
    become = None
    always_pipeline_modules = True

    def __init__(self):
        self._shell = shell_loader.get("powershell")


class WindowsPolicyAction(ActionModule):

    def __init__(self, host, *args, **kwargs):
        super(WindowsPolicyAction, self).__init__(*args, **kwargs)
        self.host = host
        self.calls = []

    def _execute_module(self, module_name=None, module_args=None, tmp=None, task_vars=None, persist_files=False,
                        delete_remote_tmp=None, wrap_async=False, ignore_unknown_opts=False):
        self._update_module_args(module_name, module_args, task_vars or {})
        self.calls.append((module_name, copy.deepcopy(module_args)))
        return copy.deepcopy(self.host.execute(module_name, module_args))


def run_task(host, args, check_mode=False, diff=True, no_log=False):
    task = Task()
    task.action = "aiohub.claude_desktop.managed_policy"
    task.args = copy.deepcopy(args)
    task.check_mode = check_mode
    task.diff = diff
    task.no_log = no_log
    play_context = PlayContext()
    action = WindowsPolicyAction(host, task, FakeConnection(), play_context, None, None, None)
    result = action.run(task_vars={"inventory_hostname": "win1"})
    return result, action


def user_args(call):
    """A call's arguments without the ``_ansible_*`` ones ActionBase adds."""
    return dict((key, value) for key, value in call[1].items() if not key.startswith("_ansible_"))


def writes(action):
    return [call for call in action.calls if call[0] == mpw.WRITE_MODULE]


def reads(action):
    return [call for call in action.calls if call[0] == mpw.READ_MODULE]


def reg_sz(settings):
    return dict((name, ("REG_SZ", data)) for name, data in encode_settings(settings).items())


@pytest.fixture
def host():
    fake = FakeWindows()
    fake.add_account("alice", ALICE_SID, loaded=True)
    fake.add_account("bob", BOB_SID, loaded=False)
    return fake


# --- machine policy ----------------------------------------------------------------------------------

def test_machine_policy_from_nothing_reads_once_and_writes_each_value_as_reg_sz(host):
    result, action = run_task(host, {"settings": SETTINGS})

    assert not result.get("failed"), result
    assert result["changed"] is True
    assert [call[0] for call in action.calls] == [mpw.READ_MODULE] + [mpw.WRITE_MODULE] * len(SETTINGS)
    assert user_args(reads(action)[0]) == {
        "script": mpw.READ, "parameters": {"Scope": "machine"}, "error_action": "stop"}
    expected = encode_settings(SETTINGS)
    assert [user_args(call) for call in writes(action)] == [
        {"path": HKLM_KEY, "name": name, "data": data, "type": "string", "state": "present"}
        for name, data in expected.items()]
    assert host.values("HKLM") == reg_sz(SETTINGS)
    assert host.values("HKLM")["inferenceModels"] == (
        "REG_SZ", '["claude-sonnet-4-6",{"name":"claude-opus-4-7","supports1m":true}]')
    assert host.values("HKLM")["disableDeploymentModeChooser"] == ("REG_SZ", "true")
    assert host.values("HKLM")["autoUpdaterEnforcementHours"] == ("REG_SZ", "24")

    entry, = result["results"]
    assert (entry["user"], entry["path"], entry["layout"], entry["status"]) == (
        None, "HKLM\\SOFTWARE\\Policies\\Claude", "managed_policy", "missing")
    assert entry["changed_keys"]["added"] == list(SETTINGS)
    assert entry["files_written"] == ["HKLM\\SOFTWARE\\Policies\\Claude\\%s" % name for name in SETTINGS]
    assert result["summary"] == {"in_sync": 0, "drifted": 0, "missing": 1, "error": 0}


def test_every_write_runs_with_no_log_and_without_diff_so_no_secret_reaches_the_event_log(host):
    result, action = run_task(host, {"settings": SETTINGS}, diff=True)

    for _module, arguments in writes(action):
        assert arguments["_ansible_no_log"] is True
        assert arguments["_ansible_diff"] is False
    read_call = reads(action)[0][1]
    assert read_call["_ansible_no_log"] is False  # the read carries no secret; it follows the task
    assert read_call["_ansible_diff"] is True
    assert not [line for line in host.event_log if line.startswith("win_regedit")]
    assert_no_secret(host.event_log)
    assert_no_secret(result)
    assert_no_secret([user_args(call) for call in reads(action)])


def test_the_write_flag_is_reset_after_each_call_even_when_the_module_raises(host):
    class Exploding(WindowsPolicyAction):
        def _execute_module(self, **kwargs):
            raise RuntimeError("connection lost")

    task = Task()
    task.args, task.check_mode, task.diff, task.no_log = {}, False, False, False
    action = Exploding(host, task, FakeConnection(), PlayContext(), None, None, None)
    with pytest.raises(RuntimeError):
        action.execute_module_no_log(mpw.WRITE_MODULE, {"path": HKLM_KEY}, {})
    assert action._force_no_log is False


def test_second_run_only_reads(host):
    run_task(host, {"settings": SETTINGS})
    result, action = run_task(host, {"settings": SETTINGS})

    assert result["changed"] is False
    assert [call[0] for call in action.calls] == [mpw.READ_MODULE]
    assert result["results"][0]["status"] == "in_sync"
    assert "diff" not in result


def test_check_mode_reads_but_writes_nothing_and_shows_a_redacted_reg_diff(host):
    host.set_value("HKLM", "inferenceGatewayApiKey", OTHER_KEY)
    result, action = run_task(host, {"settings": SETTINGS}, check_mode=True, diff=True)

    assert result["changed"] is True
    assert [call[0] for call in action.calls] == [mpw.READ_MODULE]
    assert reads(action)[0][1]["_ansible_check_mode"] is True
    assert host.values("HKLM") == {"inferenceGatewayApiKey": ("REG_SZ", OTHER_KEY)}
    diff, = result["diff"]
    assert diff["before_header"] == diff["after_header"] == "HKLM\\SOFTWARE\\Policies\\Claude"
    assert diff["before"].startswith("Windows Registry Editor Version 5.00\r\n\r\n"
                                     "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude]\r\n")
    assert '"inferenceModels"="[\\"claude-sonnet-4-6\\",{\\"name\\":\\"claude-opus-4-7\\",\\"supports1m\\":true}]"' \
        in diff["after"]
    assert re.search(r'"inferenceGatewayApiKey"="<redacted:[0-9a-f]{8}>"', diff["before"])
    assert re.search(r'"inferenceGatewayApiKey"="<redacted:[0-9a-f]{8}>"', diff["after"])
    assert "clientSecret" in diff["after"]
    assert_no_secret(result)
    changes = dict((item["key"], item) for item in result["results"][0]["key_changes"])
    assert changes["inferenceGatewayApiKey"]["before"] != changes["inferenceGatewayApiKey"]["after"]


def test_values_are_compared_decoded_not_as_text(host):
    for name, data in encode_settings(SETTINGS).items():
        host.set_value("HKLM", name, data)
    host.set_value("HKLM", "inferenceModels",
                   '[ "claude-sonnet-4-6", { "supports1m": true, "name": "claude-opus-4-7" } ]')
    host.set_value("HKLM", "INFERENCEPROVIDER", "gateway")  # names are case-insensitive, like the app's lookup

    result, action = run_task(host, {"settings": SETTINGS})

    assert result["changed"] is False, result["results"][0]["changed_keys"]
    assert writes(action) == []


def test_a_dword_for_an_owned_boolean_is_rewritten_as_reg_sz_with_a_note(host):
    for name, data in encode_settings(SETTINGS).items():
        host.set_value("HKLM", name, data)
    host.set_value("HKLM", "disableDeploymentModeChooser", 1, kind="REG_DWORD")

    result, action = run_task(host, {"settings": SETTINGS})

    assert [user_args(call) for call in writes(action)] == [
        {"path": HKLM_KEY, "name": "disableDeploymentModeChooser", "data": "true", "type": "string",
         "state": "present"}]
    assert host.values("HKLM")["disableDeploymentModeChooser"] == ("REG_SZ", "true")
    entry = result["results"][0]
    assert entry["changed_keys"] == {"added": [], "changed": ["disableDeploymentModeChooser"], "removed": []}
    assert "rewritten as the documented string" in entry["notes"][0]


def test_values_we_do_not_own_stay_unless_exclusive_which_also_clears_the_default_value(host):
    host.set_value("HKLM", "inferenceProvider", "vertex")
    host.set_value("HKLM", "bannerText", "legacy")
    host.set_value("HKLM", "", "default value")

    result, action = run_task(host, {"settings": {"inferenceProvider": "gateway"}, "check_required_keys": False})
    assert [user_args(call)["name"] for call in writes(action)] == ["inferenceProvider"]
    assert set(host.values("HKLM")) == {"inferenceProvider", "bannerText", ""}

    result, action = run_task(host, {"settings": {"inferenceProvider": "gateway"}, "check_required_keys": False,
                                     "exclusive": True})
    assert [user_args(call) for call in writes(action)] == [
        {"path": HKLM_KEY, "name": "bannerText", "state": "absent", "delete_key": False},
        {"path": HKLM_KEY, "name": "", "state": "absent", "delete_key": False}]
    assert host.values("HKLM") == {"inferenceProvider": ("REG_SZ", "gateway")}
    assert result["results"][0]["changed_keys"]["removed"] == ["bannerText", ""]
    assert host.key("HKLM") is not None, "the key itself must survive: delete_key defaults to true in win_regedit"


def test_remove_and_state_absent_delete_values_never_the_key(host):
    for name, data in encode_settings(SETTINGS).items():
        host.set_value("HKLM", name, data)
    host.key("HKLM")["subkeys"].append("ADMX")

    kept = dict((key, value) for key, value in SETTINGS.items() if key != "autoUpdaterEnforcementHours")
    result, action = run_task(host, {"settings": kept, "remove": ["bannerText", "autoUpdaterEnforcementHours"]})
    assert [user_args(call) for call in writes(action)] == [
        {"path": HKLM_KEY, "name": "autoUpdaterEnforcementHours", "state": "absent", "delete_key": False}]

    result, action = run_task(host, {"state": "absent", "settings": {"inferenceModels": []}})
    assert [user_args(call)["name"] for call in writes(action)] == ["inferenceModels"]

    result, action = run_task(host, {"state": "absent"})
    remaining = set(SETTINGS) - {"autoUpdaterEnforcementHours", "inferenceModels"}
    assert sorted(user_args(call)["name"] for call in writes(action)) == sorted(remaining)
    assert all(user_args(call)["delete_key"] is False for call in writes(action))
    assert host.values("HKLM") == {}
    assert host.key("HKLM")["subkeys"] == ["ADMX"]
    assert result["results"][0]["changed_keys"]["removed"] == [name for name in SETTINGS if name in remaining]

    result, action = run_task(host, {"state": "absent"})
    assert result["changed"] is False and writes(action) == []


def test_machine_policy_warns_when_a_logged_on_user_also_has_hkcu_policy(host):
    host.set_value(ALICE_SID, "inferenceProvider", "gateway")
    host.set_value(ALICE_SID, "ignoredBinary", "00ff", kind="REG_BINARY")  # invisible to the app: not counted

    result, _action = run_task(host, {"settings": SETTINGS})

    split = [text for text in result["warnings"] if "HKCU" in text and "1.19367.0" in text]
    assert len(split) == 1
    assert "WIN1\\alice" in split[0] and "inferenceProvider" in split[0] and "ignoredBinary" not in split[0]


def test_subkeys_and_unusable_value_types_are_reported(host):
    host.key("HKLM", create=True)["subkeys"].append("Settings")
    host.set_value("HKLM", "legacyPath", "%APPDATA%\\x", kind="REG_EXPAND_SZ")
    host.set_value("HKLM", "disableAutoUpdates", ["true"], kind="REG_MULTI_SZ")

    result, action = run_task(host, {"settings": dict(SETTINGS, disableAutoUpdates=True)})

    assert any("subkeys (Settings)" in text for text in result["warnings"])
    unusable = [text for text in result["warnings"] if "type the app cannot use" in text]
    assert len(unusable) == 1 and "legacyPath (REG_EXPAND_SZ)" in unusable[0]
    assert "disableAutoUpdates" not in unusable[0]  # ours: rewritten as REG_SZ instead
    assert host.values("HKLM")["disableAutoUpdates"] == ("REG_SZ", "true")


# --- per-user policy ---------------------------------------------------------------------------------

def test_user_scope_without_users_writes_the_connecting_users_hkcu(host):
    result, action = run_task(host, {"scope": "user", "settings": SETTINGS})

    assert user_args(reads(action)[0])["parameters"] == {"Scope": "user"}
    assert {user_args(call)["path"] for call in writes(action)} == {HKCU_KEY}
    assert host.values(ADMIN_SID) == reg_sz(SETTINGS)
    entry, = result["results"]
    assert (entry["user"], entry["path"], entry["reason"]) == (
        "WIN1\\admin", "HKCU\\SOFTWARE\\Policies\\Claude", "per-user policy (HKCU)")


def test_named_users_get_their_own_hive_and_user_settings_and_a_logged_off_user_fails_alone(host):
    args = {"scope": "user", "users": ["alice", "bob", "mallory"],
            "settings": dict((key, value) for key, value in SETTINGS.items() if key != "inferenceGatewayApiKey"),
            "user_settings": {"alice": {"inferenceGatewayApiKey": API_KEY}, "bob": {"inferenceGatewayApiKey": OTHER_KEY},
                              "mallory": {"inferenceGatewayApiKey": OTHER_KEY + "-mallory"}}}
    result, action = run_task(host, args)

    assert user_args(reads(action)[0])["parameters"] == {"Scope": "user", "Users": ["alice", "bob", "mallory"]}
    assert {user_args(call)["path"] for call in writes(action)} == {"HKU:\\%s\\SOFTWARE\\Policies\\Claude" % ALICE_SID}
    assert host.values(ALICE_SID)["inferenceGatewayApiKey"] == ("REG_SZ", API_KEY)
    assert result["failed"] is True
    by_user = dict((item["user"], item) for item in result["results"])
    assert by_user["alice"]["status"] == "missing" and by_user["alice"]["changed"] is True
    assert "bob is not logged on" in by_user["bob"]["error"] and "scope: machine" in by_user["bob"]["error"]
    assert "no account named 'mallory'" in by_user["mallory"]["error"]
    assert "2 of 3 policy key(s) failed" in result["msg"]
    assert_no_secret(result)


def test_all_users_means_logged_on_accounts_and_names_the_others(host):
    host.add_account("carol", CAROL_SID, loaded=True)
    result, action = run_task(host, {"scope": "user", "users": ["all"], "settings": SETTINGS})

    assert sorted(item["user"] for item in result["results"]) == ["WIN1\\admin", "WIN1\\alice", "WIN1\\carol"]
    assert host.values(CAROL_SID) == reg_sz(SETTINGS)
    assert any("not handled: WIN1\\bob" in text for text in result["warnings"])


def test_user_scope_warns_that_machine_policy_makes_hkcu_ignored(host):
    host.set_value("HKLM", "disableAutoUpdates", 1, kind="REG_DWORD")
    result, _action = run_task(host, {"scope": "user", "users": ["alice"], "settings": SETTINGS})

    split = [text for text in result["warnings"] if "HKLM" in text and "ignores HKCU entirely" in text]
    assert len(split) == 1 and "disableAutoUpdates" in split[0]


# --- failures ----------------------------------------------------------------------------------------

def test_invalid_settings_fail_before_any_call(host):
    result, action = run_task(host, {"settings": {"inferenceGatewayOidc.clientId": "x",
                                                  "disableAutoUpdates": "yes"}})
    assert result["failed"] is True
    assert action.calls == []
    assert "disableAutoUpdates" in result["msg"]


def test_a_dotted_key_fails_before_any_call(host):
    result, action = run_task(host, {"settings": {"inferenceGatewayOidc.clientId": "x"}, "check_required_keys": False})
    assert result["failed"] is True and action.calls == []
    assert "dotted sub-keys are never read" in result["msg"]


def test_a_failing_read_fails_the_task_with_the_scripts_message(host):
    class Broken(FakeWindows):
        def _read(self, scope, users):
            raise AssertionError("not reached")

        def _win_powershell(self, args):
            return {"failed": True, "changed": False, "result": {}, "output": [], "host_out": "", "host_err": "",
                    "warning": [], "verbose": [], "debug": [], "information": [],
                    "error": [{"exception": {"message": "Requested registry access is not allowed."}}]}

    result, action = run_task(Broken(), {"settings": SETTINGS})
    assert result["failed"] is True
    assert "Requested registry access is not allowed." in result["msg"]
    assert writes(action) == []


def test_a_failing_write_stops_that_key_and_reports_what_was_written(host):
    class Flaky(FakeWindows):
        def _win_regedit(self, args):
            if args.get("name") == "inferenceModels":
                return {"failed": True, "msg": "failed to create registry property 'inferenceModels' at %s: "
                                               "access denied, data was %s" % (args["path"], API_KEY)}
            return super(Flaky, self)._win_regedit(args)

    result, action = run_task(Flaky(), {"settings": SETTINGS})
    entry = result["results"][0]
    assert result["failed"] is True
    assert entry["files_written"] == ["HKLM\\SOFTWARE\\Policies\\Claude\\%s" % name for name in
                                      ("inferenceProvider", "inferenceGatewayBaseUrl", "inferenceGatewayApiKey")]
    assert "access denied" in entry["error"]
    assert_no_secret(result)


def test_macos_only_module_refuses_windows_hosts(host):
    from ansible_collections.aiohub.claude_desktop.plugins.action.managed_preferences import (
        ActionModule as PreferencesAction,
    )

    class Preferences(PreferencesAction):
        def _execute_module(self, **kwargs):
            raise AssertionError("nothing may run")

    task = Task()
    task.action = "aiohub.claude_desktop.managed_preferences"
    task.args, task.check_mode, task.diff, task.no_log = {"settings": SETTINGS}, False, False, False
    action = Preferences(task, FakeConnection(), PlayContext(), None, None, None)
    from ansible.errors import AnsibleActionFail
    with pytest.raises(AnsibleActionFail, match="use aiohub.claude_desktop.managed_policy"):
        action.run(task_vars={})
