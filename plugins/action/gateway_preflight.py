# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin ``aiohub.claude_desktop.gateway_preflight``: runs on the controller only.

Per host: which users get which API key, is every key usable, does the base URL follow the same rule
as ``enterprise_config`` (no ``/v1``), and does the gateway accept each key (``GET {base}/v1/models``,
once per distinct key for the whole run, shared across forks by ``plugin_utils.gateway.RunCache``).
A bad key fails exactly the hosts that would get it; nothing is sent to, or needed from, the host.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.preflight import (
    preflight, preflight_argument_spec,
)

ARGUMENT_SPEC = preflight_argument_spec()


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        keys = [params["api_key"]] + list((params["user_api_keys"] or {}).values())
        redactor = Redactor([key for key in keys if isinstance(key, str)], salt=params["fingerprint_salt"])
        result.update(preflight(params, redactor))
        return redactor.scrub(result)
