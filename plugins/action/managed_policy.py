# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin for ``aiohub.claude_desktop.managed_policy``: Claude Desktop managed policy on any OS.

Validation and credential handling are those of ``managed_preferences`` (this class extends it).
macOS (and other POSIX) hosts run the ``managed_preferences`` module. Windows hosts are handled here,
from the controller (``plugin_utils/managed_policy_windows.py``): one ``win_powershell`` read, then one
``win_regedit`` call per value to set or delete.
"""

from __future__ import annotations

from ansible_collections.aiohub.claude_desktop.plugins.action.managed_preferences import (
    ActionModule as ManagedPreferencesAction,
)
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.managed_policy_windows import (
    WindowsPolicyRunner,
)


class ActionModule(ManagedPreferencesAction):

    _force_no_log = False

    def _run_windows(self, params, settings, user_settings, redactor, task_vars):
        return WindowsPolicyRunner(self, task_vars, params, settings, user_settings, redactor).run()

    def execute_module_no_log(self, module_name, module_args, task_vars):
        """Run a module whose arguments carry a credential in an option its spec does not mark ``no_log``.

        ``win_regedit``'s ``data`` is such an option: the module would log it to the host's Application
        event log ("Invoked with: ...") and echo it in ``invocation`` and ``diff``. ``_update_module_args``
        (below) forces ``_ansible_no_log`` and turns the diff off for this one call, whatever the task says.
        """
        self._force_no_log = True
        try:
            return self._execute_module(module_name=module_name, module_args=module_args, task_vars=task_vars)
        finally:
            self._force_no_log = False

    def _update_module_args(self, module_name, module_args, task_vars, *args, **kwargs):
        # ActionBase sets _ansible_no_log from the task only (task.no_log or DEFAULT_NO_TARGET_SYSLOG) and
        # _ansible_diff from task.diff; both are overridden here for the calls made by execute_module_no_log.
        super(ActionModule, self)._update_module_args(module_name, module_args, task_vars, *args, **kwargs)
        if self._force_no_log:
            module_args["_ansible_no_log"] = True
            module_args["_ansible_diff"] = False
