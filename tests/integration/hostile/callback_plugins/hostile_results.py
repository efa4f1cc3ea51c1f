# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test helper: writes every task result of a run to $HOSTILE_RESULTS_FILE (JSON), for the hostile suite.

{host: [{"task": name, "action": action, "status": ok|changed|failed|unreachable|skipped, "result": {...}}]}
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: hostile_results
type: aggregate
short_description: Dump task results to a JSON file (tests only)
description:
  - Used by tests/integration/hostile to read per-host, per-user results of a run while the normal output
    runs at -vvvv for the leak scan.
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "hostile_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self.results = {}

    def _record(self, result, status):
        data = dict(result._result)
        if status == "ok" and data.get("changed"):
            status = "changed"
        self.results.setdefault(result._host.get_name(), []).append({
            "task": result._task.get_name(),
            "action": result._task.action,
            "status": status,
            "result": data,
        })

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("HOSTILE_RESULTS_FILE")
        if path:
            with open(path, "w") as handle:
                json.dump(self.results, handle, indent=1, default=repr)
