# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin for ``aiohub.claude_desktop.managed_preferences`` (and the base of ``managed_policy``).

1. Validates the arguments and the settings on the controller, for a managed target (keys that only an
   MDM may set are fine here), and checks that every value can be written in the OS-preference form
   (no dotted sub-keys); a bad value fails the task before anything reaches the host.
2. Moves credential values into ``no_log`` parameters, exactly as ``enterprise_config`` does (its
   helpers are reused), so that neither the invocation echo, the target's syslog nor ``-vvvv`` output
   can show them.
3. Runs the module; ``managed_policy`` overrides ``_run_windows`` to handle Windows hosts here.
4. Replaces the invocation echo with the task's own arguments, secrets redacted, and scrubs every
   declared secret from the result.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.aiohub.claude_desktop.plugins.action.enterprise_config import (
    all_secret_values, module_arguments,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed_plist import (
    argument_spec, scope_problem,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.merge import PRESENT
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import (
    PolicyEncodingError, check_key_name, encode_settings,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor, shown_arguments
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.validation import (
    MANAGED, SettingsValidationError, ValidationOptions, validate_request,
)

MODULE = "aiohub.claude_desktop.managed_preferences"


def check_encodable(settings, user_settings, remove, state):
    """Raise PolicyEncodingError unless every value each user gets can be written as a preference string."""
    problems = [problem for problem in (check_key_name(key) for key in remove or ()) if problem]
    if state != PRESENT:
        problems.extend(problem for problem in (check_key_name(key) for key in settings) if problem)
    else:
        for extra in [{}] + list(user_settings.values()):
            combined = dict(settings)
            combined.update(extra)
            try:
                encode_settings(combined)
            except PolicyEncodingError as exc:
                problems.extend(problem for problem in exc.problems if problem not in problems)
    if problems:
        raise PolicyEncodingError(problems)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}

        _validation, params = self.validate_argument_spec(argument_spec=argument_spec())
        problem = scope_problem(params)
        if problem:
            raise AnsibleActionFail(problem)
        try:
            settings, user_settings, warnings = validate_request(
                params.get("settings"), params.get("user_settings"),
                ValidationOptions.from_params(params, target=MANAGED), remove=params.get("remove"),
                state=params.get("state"), users=params.get("users") if params.get("scope") == "user" else None)
            check_encodable(settings, user_settings, params.get("remove"), params.get("state"))
        except SettingsValidationError as exc:
            result.update(failed=True, changed=False, msg=str(exc), validation_errors=[str(f) for f in exc.findings])
            return result
        except PolicyEncodingError as exc:
            result.update(failed=True, changed=False, validation_errors=exc.problems,
                          msg="settings cannot be written as managed preferences or registry policy, nothing was "
                              "changed on any host:\n%s" % "\n".join("  - %s" % item for item in exc.problems))
            return result

        redactor = Redactor(all_secret_values(settings, user_settings), salt=params.get("fingerprint_salt"))
        if getattr(self._connection._shell, "_IS_WINDOWS", False):
            outcome = self._run_windows(params, settings, user_settings, redactor, task_vars)
        else:
            outcome = self._execute_module(module_name=MODULE,
                                           module_args=module_arguments(params, settings, user_settings),
                                           task_vars=task_vars)
        result.update(outcome)
        result["warnings"] = warnings + list(result.get("warnings") or [])
        result["invocation"] = {"module_args": shown_arguments(self._task.args, argument_spec(), redactor)}
        return redactor.scrub(result) if redactor.secret_values else result

    def _run_windows(self, params, settings, user_settings, redactor, task_vars):
        raise AnsibleActionFail(
            "managed_preferences writes macOS managed preferences, and this host is Windows; use "
            "aiohub.claude_desktop.managed_policy, which writes the policy registry key (HKLM or HKCU "
            "SOFTWARE\\Policies\\Claude) there")
