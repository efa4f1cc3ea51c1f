# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin for ``aiohub.claude_desktop.enterprise_config``.

1. Validates the arguments and the settings on the controller (JSON Schema + reference rules); a bad
   value fails the task before anything reaches the host.
2. Moves credential values into ``no_log`` parameters so that neither the module's invocation echo,
   the target's syslog nor ``-vvvv`` output can show them.
3. POSIX hosts: runs the module once per host. Windows hosts: does the work here, on the controller,
   with the same engine, driving ``ansible.windows`` modules (``plugin_utils/windows.py``).
4. Replaces the invocation echo with the task's own arguments, secrets redacted.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import (
    MUTUALLY_EXCLUSIVE, argument_spec,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import split_secrets
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import (
    MIN_SUBSTRING_SECRET_LENGTH, Redactor, secret_values_in, shown_arguments,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import (
    failure_message, qualify_error, validate_users_option,
)
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.gateway import ANTHROPIC_VERSION
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.preflight import settings_preflight
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.validation import (
    SettingsValidationError, ValidationOptions, validate_request,
)

MODULE = "aiohub.claude_desktop.enterprise_config"


def module_arguments(params, settings, user_settings):
    """The module's arguments: credentials split out of the settings into no_log parameters."""
    plain, secrets = split_secrets(settings)
    user_plain, user_secrets = {}, {}
    for user, extra in user_settings.items():
        user_plain[user], found = split_secrets(extra)
        if found:
            user_secrets[user] = found
    nested = secret_values_in(plain) + [value for extra in user_plain.values() for value in secret_values_in(extra)]
    # Nested credentials are hidden where they sit by the redactor; no_log masking (which replaces the value
    # everywhere in the module's output) is kept for values long enough not to corrupt unrelated text.
    nested = [value for value in nested if len(value) >= MIN_SUBSTRING_SECRET_LENGTH]
    arguments = dict((key, value) for key, value in params.items() if value is not None)
    arguments.update(settings=plain, secret_settings=secrets, user_settings=user_plain,
                     user_secret_settings=user_secrets, redact_values=sorted(set(nested)))
    return arguments


def all_secret_values(settings, user_settings):
    values = secret_values_in(settings)
    for extra in user_settings.values():
        values.extend(secret_values_in(extra))
    return values


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}

        _validation, params = self.validate_argument_spec(
            argument_spec=argument_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE)
        problem = validate_users_option(params)
        if problem:
            raise AnsibleActionFail(problem)
        try:
            settings, user_settings, warnings = validate_request(
                params.get("settings"), params.get("user_settings"), ValidationOptions.from_params(params),
                remove=params.get("remove"), state=params.get("state"),
                users=None if params.get("path") or params.get("library_path") else params.get("users"))
        except SettingsValidationError as exc:
            result.update(failed=True, changed=False, msg=str(exc), validation_errors=[str(f) for f in exc.findings])
            return result

        redactor = Redactor(all_secret_values(settings, user_settings), salt=params.get("fingerprint_salt"))
        checked = self._gateway_preflight(params, settings, user_settings, redactor)
        if checked is not None:
            warnings = warnings + checked.pop("warnings", [])
            result["gateway"] = checked
            if checked.get("failed"):
                result.update(failed=True, changed=False, msg="%s\nNothing was written to this host."
                              % checked["msg"], warnings=warnings)
                return self._scrub(result, redactor)
        if self._is_windows():
            outcome = self._run_windows(params, settings, user_settings, redactor, task_vars)
        else:
            outcome = self._execute_module(module_name=MODULE,
                                           module_args=module_arguments(params, settings, user_settings),
                                           task_vars=task_vars)
        result.update(outcome)
        self._name_host_in_errors(result, task_vars)
        result["warnings"] = warnings + list(result.get("warnings") or [])
        result["invocation"] = {"module_args": shown_arguments(self._task.args, argument_spec(), redactor)}
        if self._task.no_log:
            # Ansible treats a top-level 'results' list as loop items, which no_log does not censor by itself.
            for item in result.get("results") or []:
                if isinstance(item, dict):
                    item["_ansible_no_log"] = True
        return self._scrub(result, redactor)

    @staticmethod
    def _gateway_preflight(params, settings, user_settings, redactor):
        """With ``verify_gateway``, ask the gateway once per distinct key (per run) before writing anything."""
        if not params.get("verify_gateway") or params.get("state") != "present":
            return None
        options = dict(key_source=params.get("api_key_source"), allow_v1_base_url=params.get("allow_v1_base_url"),
                       timeout=params.get("gateway_timeout"), validate_certs=params.get("gateway_validate_certs"),
                       ca_path=params.get("gateway_ca_path"), proxy_url=params.get("gateway_proxy_url"),
                       use_proxy=True, anthropic_version=ANTHROPIC_VERSION)
        users = None if params.get("path") or params.get("library_path") else params.get("users")
        checked = settings_preflight(settings, user_settings, users, options, redactor)
        if checked is not None:
            checked.pop("changed", None)
        return checked

    def _name_host_in_errors(self, result, task_vars):
        """Per-user errors name the inventory host too, so a fleet-wide log says where each problem is."""
        host = task_vars.get("inventory_hostname") or self._task.get_name()
        items = result.get("results") if isinstance(result.get("results"), list) else []
        errors = [item for item in items if isinstance(item, dict) and item.get("error")]
        for item in errors:
            item["error"] = qualify_error(host, item.get("user"), item["error"])
        if errors:
            result["msg"] = failure_message(items)

    def _is_windows(self):
        return getattr(self._connection._shell, "_IS_WINDOWS", False)

    def _run_windows(self, params, settings, user_settings, redactor, task_vars):
        from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.windows import WindowsRunner
        runner = WindowsRunner(self, task_vars, params, settings, user_settings, redactor)
        return runner.run()

    @staticmethod
    def _scrub(result, redactor):
        """Last line of defence: no declared secret survives anywhere in the result."""
        return redactor.scrub(result) if redactor.secret_values else result
