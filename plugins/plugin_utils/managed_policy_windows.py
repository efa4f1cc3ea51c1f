# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Claude Desktop registry policy on Windows hosts, done from the controller (``managed_policy``).

No PowerShell module of this collection runs on the host. One ``ansible.windows.win_powershell`` call
reads the policy key(s) (``READ`` below, read only, also in check mode); every decision is made here
with the shared engine (``policy_encoding.plan_policy``: values compared decoded, never as text); then
one ``ansible.windows.win_regedit`` call per value to set or delete, skipped in check mode.

Reference 2.1 and 6.1 item 7: values sit directly under ``SOFTWARE\\Policies\\Claude`` of HKLM (machine)
or of the user's hive (HKCU), as ``REG_SZ``; subkeys are never read. From app 1.19367.0 any value under
HKLM makes the app ignore HKCU entirely (older builds merged both, HKLM winning), so a configuration
split across both hives is reported as a warning.

Secrets. ``win_regedit``'s ``data`` option is not ``no_log`` in its argument spec, so a credential in it
would be written to the host's Application event log ("Invoked with: ...") by Ansible.Basic, and echoed
in the module's ``invocation`` and ``diff``. ``ActionBase._update_module_args`` sets
``_ansible_no_log`` from the task alone; the ``managed_policy`` action plugin therefore overrides it to
force ``_ansible_no_log=True`` (Ansible.Basic then writes no event log entry at all) and
``_ansible_diff=False`` (no diff echo) on every ``win_regedit`` call (``execute_module_no_log``). The
module's reply is never passed on: only ``failed`` and ``msg`` are read, and those are scrubbed.
"""

from __future__ import annotations

import json

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import compose_user_settings
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import (
    STATUS_DRIFTED, STATUS_IN_SYNC, STATUS_MISSING, describe_changes,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import (
    PolicyEncodingError, display_form, plan_policy,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import is_secret_name
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import (
    merge_request, new_result, record_error, summarize,
)
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.mdm_export import reg_text

READ_MODULE = "ansible.windows.win_powershell"
WRITE_MODULE = "ansible.windows.win_regedit"
LAYOUT = "managed_policy"
READ_FORMAT = 1
POLICY_KEY = "SOFTWARE\\Policies\\Claude"
# What the app reads as "policy present" (reference 2.1); the rest is invisible to it.
READABLE_TYPES = frozenset(("REG_SZ", "REG_EXPAND_SZ", "REG_DWORD"))
STRING_TYPE = "REG_SZ"

READ = r"""
# aiohub.claude_desktop.managed_policy - read the Claude policy registry key(s); read only, one call per host.
# SupportsShouldProcess makes win_powershell run this script in check mode too; it changes nothing.
[CmdletBinding(SupportsShouldProcess = $true)]
param (
    # machine: HKLM with value data, and the value names under every loaded user hive (split check).
    # user: each user's hive with value data, and the value names under HKLM (split check).
    [Parameter(Mandatory = $true)]
    [ValidateSet('machine', 'user')]
    [string]
    $Scope,

    # With Scope user: account names, 'all' (every logged-on account), or none (the connecting user's HKCU).
    [string[]]
    $Users = @()
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$policyKey = 'SOFTWARE\Policies\Claude'
# Local and domain accounts only (not SYSTEM, services, or the '<sid>_Classes' keys under HKU).
$accountSid = '^S-1-(5-21|12-1)-\d+-\d+-\d+-\d+$'
$hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
$hku = [Microsoft.Win32.RegistryKey]::OpenBaseKey('Users', 'Registry64')
$hkcu = [Microsoft.Win32.RegistryKey]::OpenBaseKey('CurrentUser', 'Registry64')
$typeNames = @{
    String = 'REG_SZ'; ExpandString = 'REG_EXPAND_SZ'; DWord = 'REG_DWORD'; QWord = 'REG_QWORD'
    MultiString = 'REG_MULTI_SZ'; Binary = 'REG_BINARY'; None = 'REG_NONE'
}

Function Get-ValueData {
    # One value's data: strings unexpanded, numbers unsigned, bytes as hex digits.
    param ([Microsoft.Win32.RegistryKey] $Key, [string] $Name, [string] $Kind)
    $raw = $Key.GetValue($Name, $null, 'DoNotExpandEnvironmentNames')
    switch ($Kind) {
        'String' { return [string]$raw }
        'ExpandString' { return [string]$raw }
        'DWord' { return [UInt32]('0x{0:x}' -f $raw) }
        'QWord' { return [UInt64]('0x{0:x}' -f $raw) }
        'MultiString' { return , [string[]]$raw }
        default {
            if ($null -eq $raw) { return '' }
            return (-join @(foreach ($byte in [byte[]]$raw) { $byte.ToString('x2') }))
        }
    }
}

Function Get-PolicyKey {
    # The values directly under a policy key (with their data when asked) and its subkey names.
    param ([Microsoft.Win32.RegistryKey] $Hive, [string] $SubKey, [bool] $WithData)
    $state = [ordered]@{ exists = $false; values = @(); subkeys = @() }
    $key = $Hive.OpenSubKey($SubKey)
    if ($null -eq $key) { return $state }
    try {
        $state.exists = $true
        $state.subkeys = @($key.GetSubKeyNames())
        $state.values = @(foreach ($name in $key.GetValueNames()) {
            $kind = [string]$key.GetValueKind($name)
            $item = [ordered]@{ name = $name; type = 'REG_UNKNOWN' }
            if ($typeNames.ContainsKey($kind)) { $item.type = $typeNames[$kind] }
            if ($WithData) { $item.data = Get-ValueData -Key $key -Name $name -Kind $kind }
            $item
        })
    }
    finally { $key.Dispose() }
    $state
}

Function Get-AccountName {
    param ([string] $Sid)
    try { ([Security.Principal.SecurityIdentifier]$Sid).Translate([Security.Principal.NTAccount]).Value }
    catch { $null }  # a deleted account, or a domain account while the domain is unreachable
}

Function New-UserEntry {
    # A user whose hive is loaded: its policy key, read through HKCU for the connecting user.
    param ([string] $Name, [string] $Sid, [bool] $Current, [bool] $WithData)
    $entry = [ordered]@{ name = $Name; account = (Get-AccountName -Sid $Sid); sid = $Sid; current = $Current
                         loaded = $true; error = $null; policy = $null }
    if ($Current) { $entry.policy = Get-PolicyKey -Hive $hkcu -SubKey $policyKey -WithData $WithData }
    else { $entry.policy = Get-PolicyKey -Hive $hku -SubKey "$Sid\$policyKey" -WithData $WithData }
    $entry
}

$identity = [Security.Principal.WindowsIdentity]::GetCurrent()
$loadedSids = @($hku.GetSubKeyNames() | Where-Object { $_ -match $accountSid })
$notLoggedOn = @()
if ($Scope -eq 'machine') {
    $machine = Get-PolicyKey -Hive $hklm -SubKey $policyKey -WithData $true
    $entries = @(foreach ($sid in $loadedSids) { New-UserEntry -Name $null -Sid $sid -Current $false -WithData $false })
}
else {
    $machine = Get-PolicyKey -Hive $hklm -SubKey $policyKey -WithData $false
    if ($Users.Count -eq 0) {
        $entries = @(New-UserEntry -Name $identity.Name -Sid $identity.User.Value -Current $true -WithData $true)
    }
    elseif ($Users -contains 'all') {
        $entries = @(foreach ($sid in $loadedSids) { New-UserEntry -Name $null -Sid $sid -Current $false -WithData $true })
        $profiles = $hklm.OpenSubKey('SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList')
        try {
            $notLoggedOn = @(foreach ($sid in $profiles.GetSubKeyNames()) {
                if ($sid -match $accountSid -and $loadedSids -notcontains $sid) {
                    $account = Get-AccountName -Sid $sid
                    if ($account) { $account } else { $sid }
                }
            })
        }
        finally { $profiles.Dispose() }
    }
    else {
        $entries = @(foreach ($name in $Users) {
            try {
                $sid = (New-Object Security.Principal.NTAccount -ArgumentList $name).Translate(
                    [Security.Principal.SecurityIdentifier]).Value
            }
            catch {
                [ordered]@{ name = $name; account = $null; sid = $null; current = $false; loaded = $false
                            error = "no account named '$name' on this host or in its domain"; policy = $null }
                continue
            }
            if ($loadedSids -contains $sid) { New-UserEntry -Name $name -Sid $sid -Current $false -WithData $true }
            else {
                [ordered]@{ name = $name; account = (Get-AccountName -Sid $sid); sid = $sid; current = $false
                            loaded = $false; error = $null; policy = $null }
            }
        })
    }
}

$Ansible.Result = ConvertTo-Json -Compress -Depth 8 -InputObject ([ordered]@{
    format = 1
    scope = $Scope
    current_account = $identity.Name
    current_sid = $identity.User.Value
    machine = $machine
    users = $entries
    not_logged_on = $notLoggedOn
})
"""


class WindowsPolicyError(Exception):
    """The host could not be read. The message says why."""


def ps_path(hive, sid=None):
    """The PSDrive path win_regedit wants: ``HKLM:\\...``, ``HKCU:\\...`` or ``HKU:\\<sid>\\...``."""
    if hive == "HKU":
        return "HKU:\\%s\\%s" % (sid, POLICY_KEY)
    return "%s:\\%s" % (hive, POLICY_KEY)


def shown_path(hive, sid=None):
    return "HKU\\%s\\%s" % (sid, POLICY_KEY) if hive == "HKU" else "%s\\%s" % (hive, POLICY_KEY)


def reg_key_name(hive, sid=None):
    roots = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS"}
    key = "%s\\%s" % (sid, POLICY_KEY) if hive == "HKU" else POLICY_KEY
    return "%s\\%s" % (roots[hive], key)


def _reply_error(reply):
    errors = reply.get("error") or []
    for record in errors:
        message = (record.get("exception") or {}).get("message") if isinstance(record, dict) else None
        if message:
            return message
    return reply.get("msg") or "unknown error"


def _readable_names(policy):
    return [item["name"] or "(Default)" for item in (policy or {}).get("values", ()) if item.get("type") in READABLE_TYPES]


class Target(object):
    """One policy key to manage: the machine's, or one user's."""

    def __init__(self, hive, user, sid, policy, settings_key, account=None):
        self.hive = hive
        self.user = user
        self.sid = sid
        self.policy = policy or {"exists": False, "values": [], "subkeys": []}
        self.settings_key = settings_key
        self.account = account

    @property
    def ps_path(self):
        return ps_path(self.hive, self.sid)

    @property
    def shown(self):
        return shown_path(self.hive, self.sid)


class WindowsPolicyRunner(object):
    """Reads, plans and writes the policy key(s) of one Windows host; returns the module-shaped result."""

    def __init__(self, action, task_vars, params, settings, user_settings, redactor):
        self.action = action
        self.task_vars = task_vars
        self.params = params
        self.settings = settings
        self.user_settings = user_settings or {}
        self.redactor = redactor
        self.check_mode = bool(action._task.check_mode)
        self.want_diff = bool(action._task.diff)
        self.results = []
        self.diffs = []
        self.warnings = []

    # -- read ----------------------------------------------------------------------------------------

    def read(self):
        parameters = {"Scope": self.params.get("scope") or "machine"}
        if parameters["Scope"] == "user" and self.params.get("users"):
            parameters["Users"] = list(self.params["users"])
        reply = self.action._execute_module(module_name=READ_MODULE, module_args={
            "script": READ, "parameters": parameters, "error_action": "stop"}, task_vars=self.task_vars)
        if reply.get("failed"):
            raise WindowsPolicyError("reading %s failed: %s" % (POLICY_KEY, self.redactor.text(_reply_error(reply))))
        facts = reply.get("result")
        try:
            facts = json.loads(facts) if isinstance(facts, str) else facts
            if facts.get("format") != READ_FORMAT or not isinstance(facts.get("users"), list) \
                    or not isinstance(facts.get("machine"), dict):
                raise ValueError("unexpected shape")
        except (ValueError, AttributeError, TypeError) as exc:
            raise WindowsPolicyError("the policy read script returned something unexpected (%s); is ansible.windows "
                                     "up to date on the controller?" % exc)
        return facts

    # -- run -----------------------------------------------------------------------------------------

    def run(self):
        try:
            facts = self.read()
        except WindowsPolicyError as exc:
            return {"failed": True, "changed": False, "msg": str(exc), "results": [], "summary": summarize([])}
        for target, problem in self._targets(facts):
            if problem:
                result = new_result(target.user, None, LAYOUT, target.shown if target.sid else None,
                                    "per-user policy (HKCU)")
                record_error(result, problem)
                self.results.append(result)
                continue
            self.results.append(self._run_target(target))
        self._warn_split(facts)
        return self._response()

    def _targets(self, facts):
        """[(Target, problem)] for the scope."""
        if (self.params.get("scope") or "machine") != "user":
            return [(Target("HKLM", None, None, facts["machine"], None), None)]
        found = []
        for entry in facts["users"]:
            user = entry.get("name") or entry.get("account") or entry.get("sid")
            hive = "HKCU" if entry.get("current") else "HKU"
            target = Target(hive, user, None if entry.get("current") else entry.get("sid"), entry.get("policy"),
                            self._settings_key(entry), entry.get("account"))
            if entry.get("error"):
                found.append((target, entry["error"]))
            elif not entry.get("loaded"):
                found.append((target, "%s is not logged on, so their registry hive (NTUSER.DAT) is not loaded and "
                                      "their HKCU policy cannot be written now; run again while they are logged on, "
                                      "or use scope: machine" % user))
            else:
                found.append((target, None))
        if facts.get("not_logged_on"):
            self.warnings.append("users: all covers logged-on accounts only (their registry hive is loaded); not "
                                 "handled: %s" % ", ".join(facts["not_logged_on"]))
        return found

    def _settings_key(self, entry):
        """Which key of user_settings applies to this user: the name given, the account, or its short name."""
        for candidate in (entry.get("name"), entry.get("account"), (entry.get("account") or "").split("\\")[-1]):
            if candidate and candidate in self.user_settings:
                return candidate
        return None

    def _run_target(self, target):
        reason = "machine policy (HKLM)" if target.hive == "HKLM" else "per-user policy (HKCU)"
        result = new_result(target.user, None, LAYOUT, target.shown, reason)
        settings = compose_user_settings(self.settings, None, self.user_settings, None, target.settings_key)
        request = merge_request(self.params, settings)
        stored, types = self._stored(target.policy, request.owned_keys())
        try:
            plan = plan_policy(stored, request, misencoded=[name for name, kind in types.items() if kind != STRING_TYPE])
        except PolicyEncodingError as exc:
            record_error(result, self.redactor.text(str(exc)))
            return result
        self._remember_secrets(plan.before)
        self._warn_about_key(target, plan)
        result["changed"] = plan.changed
        result["status"] = (STATUS_DRIFTED if target.policy.get("values") else STATUS_MISSING) if plan.changed \
            else STATUS_IN_SYNC
        result["changed_keys"] = plan.summary
        result["key_changes"] = describe_changes(plan.before, plan.after, plan.summary, self.redactor)
        result["notes"].extend(plan.notes)
        if self.want_diff and plan.changed:
            self.diffs.append(self._diff(target, plan, stored, types))
        if plan.changed and not self.check_mode:
            self._write(target, plan, result)
        return result

    @staticmethod
    def _stored(policy, owned):
        """({name: data as text}, {name: type}) of the values under a key.

        Registry value names are case-insensitive (so is the app's lookup): a stored name that differs from
        an owned key only in case is that key.
        """
        canonical = dict((key.lower(), key) for key in owned)
        stored, types = {}, {}
        for item in policy.get("values") or ():
            name, kind, data = item.get("name") or "", item.get("type"), item.get("data")
            name = canonical.get(name.lower(), name)
            if kind == "REG_MULTI_SZ":
                data = "\n".join(data) if isinstance(data, list) else data
            stored[name] = data if isinstance(data, str) else ("" if data is None else str(data))
            types[name] = kind
        return stored, types

    # -- write ---------------------------------------------------------------------------------------

    def _write(self, target, plan, result):
        calls = [(name, {"path": target.ps_path, "name": name, "data": data, "type": "string", "state": "present"})
                 for name, data in plan.set_values.items()]
        calls.extend((name, {"path": target.ps_path, "name": name, "state": "absent", "delete_key": False})
                     for name in plan.remove_values)
        for name, arguments in calls:
            reply = self.action.execute_module_no_log(WRITE_MODULE, arguments, self.task_vars)
            shown = "%s\\%s" % (target.shown, name or "(Default)")
            if reply.get("failed"):
                record_error(result, "writing %s failed: %s" % (shown, self.redactor.text(_reply_error(reply))))
                result["changed"] = bool(result["files_written"])
                return
            result["files_written"].append(shown)

    # -- reporting -----------------------------------------------------------------------------------

    def _remember_secrets(self, decoded):
        self.redactor.remember_credentials_in(decoded)

    def _entries(self, decoded, stored, types, owned_after=()):
        """(name, type, shown data) for a .reg-style listing of a key, credentials redacted."""
        shown = display_form(self.redactor.document(decoded))
        entries = []
        for name in decoded:
            kind = STRING_TYPE if name in owned_after else types.get(name, STRING_TYPE)
            if kind == STRING_TYPE or name in SECRET_KEYS or is_secret_name(name):
                entries.append((name, STRING_TYPE, shown[name]))
            elif kind == "REG_DWORD":
                entries.append((name, kind, int(stored[name])))
            elif kind in ("REG_EXPAND_SZ", "REG_MULTI_SZ"):
                text = self.redactor.text(stored[name])
                entries.append((name, kind, text.split("\n") if kind == "REG_MULTI_SZ" else text))
            else:
                entries.append((name, kind, stored[name]))
        return entries

    def _diff(self, target, plan, stored, types):
        key = reg_key_name(target.hive, target.sid)
        owned = set(plan.set_values)
        removed = plan.stored_after is None
        return {
            "before_header": target.shown if stored else "%s (no values)" % target.shown,
            "after_header": "%s (no values)" % target.shown if removed else target.shown,
            "before": reg_text(key, self._entries(plan.before, stored, types)) if stored else "",
            "after": "" if removed else reg_text(key, self._entries(plan.after, stored, types, owned)),
        }

    def _warn_about_key(self, target, plan):
        if target.policy.get("subkeys"):
            self.warnings.append("%s has subkeys (%s); the app never reads values in subkeys (some ADMX and Policy CSP "
                                 "tooling writes them), only values directly under the key"
                                 % (target.shown, ", ".join(target.policy["subkeys"])))
        touched = set(name.lower() for name in list(plan.set_values) + list(plan.remove_values))
        odd = ["%s (%s)" % (item.get("name") or "(Default)", item.get("type"))
               for item in target.policy.get("values") or ()
               if item.get("type") not in (STRING_TYPE, "REG_DWORD") and (item.get("name") or "").lower() not in touched]
        if odd:
            self.warnings.append("%s holds values of a type the app cannot use: %s. REG_EXPAND_SZ counts as policy "
                                 "present but is unreadable (under HKLM it disables HKCU without configuring "
                                 "anything); REG_MULTI_SZ, REG_QWORD and REG_BINARY are invisible. Write them as REG_SZ "
                                 "or delete them" % (target.shown, ", ".join(odd)))

    def _warn_split(self, facts):
        """Reference 2.1: never split a configuration across HKLM and HKCU."""
        if self.params.get("state") == "absent":
            return
        if (self.params.get("scope") or "machine") != "user":
            for entry in facts["users"]:
                names = _readable_names(entry.get("policy"))
                if names:
                    self.warnings.append(
                        "%s's HKCU\\%s also holds policy values (%s) while this task writes HKLM: from app 1.19367.0 "
                        "HKCU is ignored entirely whenever HKLM has any value (older builds merge both, HKLM "
                        "winning). Keep the whole configuration in one hive" % (
                            entry.get("account") or entry.get("sid"), POLICY_KEY, ", ".join(sorted(names))))
            return
        names = _readable_names(facts["machine"])
        if names:
            self.warnings.append(
                "HKLM\\%s holds policy values (%s): from app 1.19367.0 the app then ignores HKCU entirely, so what this "
                "task writes per user is not used (older builds merge both, HKLM winning). Keep the whole "
                "configuration in one hive: use scope: machine, or remove the HKLM values" % (
                    POLICY_KEY, ", ".join(sorted(names))))

    def _response(self):
        response = {
            "changed": any(item["changed"] for item in self.results),
            "results": self.results,
            "summary": summarize(self.results),
            "warnings": list(self.warnings),
        }
        if self.diffs:
            response["diff"] = self.diffs
        failed = [item for item in self.results if item.get("error")]
        if failed:
            reasons = ["%s: %s" % (item["user"] or item["path"], item["error"]) for item in failed]
            response["failed"] = True
            response["msg"] = "%d of %d policy key(s) failed: %s" % (len(failed), len(self.results), "; ".join(reasons))
        return response
