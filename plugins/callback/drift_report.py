# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: drift_report
type: notification
short_description: Write a fleet drift report (JSON, Markdown, HTML) of Claude Desktop configuration
version_added: 1.0.0
description:
  - Collects the per-user results of this collection's modules (M(aiohub.claude_desktop.enterprise_config), and
    M(aiohub.claude_desktop.managed_preferences) and M(aiohub.claude_desktop.managed_policy), whatever name the task
    uses for them) and, at the end of the run, writes a report into O(output_dir) saying who drifted, where
    and how.
  - C(drift.json) holds, per host and per user, each managed location (path, layout, status C(in_sync),
    C(drifted), C(missing), C(error) or C(managed_override)) with the keys added, changed and removed and their
    values before and after; hosts that were C(unreachable), C(failed) outside the per-user results, or
    C(not_reached); and run metadata. Its format is the JSON Schema C(docs/drift-report.schema.json) of the
    collection.
  - C(drift.md) is a summary for people (counts, then one table row per drifted host, user and key);
    C(drift.html) is the same content in one self-contained page (inline CSS and JS, no network asset) whose
    tables sort by any column.
  - The fleet of the report is every host of each play that runs one of these modules or the
    C(aiohub.claude_desktop.cowork) role, after C(--limit). Failures in other plays (a final summary play on
    localhost, for example) are not part of the report.
  - No secret is written. The modules replace every credential by C(<redacted:xxxxxxxx>), a keyed
    fingerprint, so a changed key is visible without the key; the callback runs the whole report through the
    collection's redaction once more before writing it.
  - Use it with C(--check --diff) (or the C(aiohub.claude_desktop.drift) playbook). In a run that applies
    changes, statuses are what was found before the run changed it.
  - A callback cannot be enabled by a playbook. Enable this one with
    C(ANSIBLE_CALLBACKS_ENABLED=aiohub.claude_desktop.drift_report) or C(callbacks_enabled) in the
    C([defaults]) section of C(ansible.cfg).
author:
  - AIOHub Platform Team (@aiohub)
requirements:
  - Enabled through C(callbacks_enabled) (see above).
options:
  output_dir:
    description:
      - Directory the report files are written to; created when missing. Files of an earlier run are
        replaced (each one atomically).
      - A relative path given in C(ansible.cfg) is relative to the directory of that file; from the environment
        (or the default), to the directory C(ansible-playbook) runs in.
    type: path
    default: ./drift-report
    env:
      - name: AIOHUB_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift_report
        key: output_dir
  formats:
    description:
      - Which files to write. V(json) is C(drift.json), V(md) C(drift.md), V(html) C(drift.html).
      - In the environment, a comma-separated list.
    type: list
    elements: str
    choices: [json, md, html]
    default: [json, md, html]
    env:
      - name: AIOHUB_DRIFT_REPORT_FORMATS
    ini:
      - section: callback_drift_report
        key: formats
  title:
    description: Title of the Markdown and HTML reports (and the C(title) field of the JSON one).
    type: str
    default: Claude Desktop configuration drift
    env:
      - name: AIOHUB_DRIFT_REPORT_TITLE
    ini:
      - section: callback_drift_report
        key: title
  fingerprint_salt:
    description:
      - Salt of the fingerprints the callback computes for anything that looks like a credential and reached
        it unredacted (a second line of defence; normally there is none).
      - Give the same value as the modules' O(aiohub.claude_desktop.enterprise_config#module:fingerprint_salt)
        so that fingerprints can be compared between the module output and the report.
    type: str
    env:
      - name: AIOHUB_DRIFT_REPORT_FINGERPRINT_SALT
    ini:
      - section: callback_drift_report
        key: fingerprint_salt
  show_summary:
    description:
      - "Display the one-line summary (C(12 hosts: 9 in sync, 2 drifted (3 users), 1 unreachable)) and the
        paths of the files written at the end of the run."
    type: bool
    default: true
    env:
      - name: AIOHUB_DRIFT_REPORT_SHOW_SUMMARY
    ini:
      - section: callback_drift_report
        key: show_summary
notes:
  - The report is only as complete as the results it sees. A task of these modules with C(no_log=true) hides its
    result from every callback, so its hosts are reported as C(not_reached); the modules never need C(no_log)
    (credentials are already C(no_log) parameters and redacted everywhere).
  - Callbacks run in the controller's main process; results of any number of forks, C(serial) batches and
    strategies are collected there.
seealso:
  - name: Drift reports in CI and AWX
    description: The drift playbook, the CI gate and how to read the report.
    link: https://github.com/aiohub/claude_desktop/blob/main/docs/drift-reports.md
  - name: ansible.builtin.junit callback
    description: Its O(ansible.builtin.junit#callback:fail_on_change) turns every change into a test failure.
    link: https://docs.ansible.com/ansible/latest/collections/ansible/builtin/junit_callback.html
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = aiohub.claude_desktop.drift_report
#
# [callback_drift_report]
# output_dir = reports/drift
# formats = json, md, html

# Or for one run, then read reports/drift/drift.md:
#   ANSIBLE_CALLBACKS_ENABLED=aiohub.claude_desktop.drift_report AIOHUB_DRIFT_REPORT_DIR=reports/drift \
#     ansible-playbook -i inventory aiohub.claude_desktop.drift
"""

import os

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.drift import (
    COLLECTION, DEFAULT_TITLE, DriftCollector, collection_root, collection_version, is_collection_action,
    is_collection_role, iso, scrub, utc_now, write_report,
)

_INCLUDE_ROLE_ACTIONS = frozenset(("include_role", "import_role", "ansible.builtin.include_role",
                                   "ansible.builtin.import_role", "ansible.legacy.include_role",
                                   "ansible.legacy.import_role"))


# ansible-core 2.19 made the task result's ``result``, ``host`` and ``task`` public; before, only the
# underscored names exist.

def _result_of(result):
    try:
        return result.result
    except AttributeError:
        return result._result


def _host_of(result):
    try:
        return result.host.get_name()
    except AttributeError:
        return result._host.get_name()


def _task_of(result):
    try:
        return result.task
    except AttributeError:
        return result._task


def _task_label(task):
    name = task.get_name().strip()
    return name or task.action


def _task_is_ours(task):
    role = getattr(task, "_role", None)
    if role is not None and is_collection_role(role.get_name()):
        return True
    if task.action in _INCLUDE_ROLE_ACTIONS and is_collection_role(getattr(task, "_role_name", None)):
        return True
    return is_collection_action(task.action)


def _blocks_hold_ours(items):
    """Whether blocks (their tasks, rescue and always sections, nested) hold one of our tasks."""
    for item in items or ():
        if hasattr(item, "block"):
            if any(_blocks_hold_ours(part) for part in (item.block, item.rescue, item.always)):
                return True
        elif _task_is_ours(item):
            return True
    return False


def _play_runs_ours(play):
    """Whether a play statically holds one of our modules or our role (dynamic includes are seen when they start)."""
    for role in play.get_roles():
        if is_collection_role(role.get_name()) or any(is_collection_role(dep.get_name())
                                                      for dep in role.get_all_dependencies()):
            return True
        if _blocks_hold_ours(role.get_task_blocks()):
            return True
    return _blocks_hold_ours(play.pre_tasks + play.tasks + play.post_tasks)


def _play_hosts(play):
    """Every host of the play after --limit (all serial batches): the magic variable ``ansible_play_hosts_all``."""
    variables = play.get_variable_manager().get_vars(play=play, include_hostvars=False)
    return [str(host) for host in variables.get("ansible_play_hosts_all") or ()]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "aiohub.claude_desktop.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._collector = DriftCollector()
        self._started = utc_now()
        self._playbooks = []
        self._play_id = None

    # -- plays and tasks ---------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._playbooks.append(os.path.basename(playbook._file_name))

    def v2_playbook_on_play_start(self, play):
        self._play_id = play._uuid
        self._collector.add_play(self._play_id, play.get_name().strip(), _play_hosts(play), _play_runs_ours(play))

    def v2_playbook_on_task_start(self, task, is_conditional):
        if _task_is_ours(task):
            self._collector.mark_in_scope(self._play_id)

    # -- results -----------------------------------------------------------------------------------

    def _is_module_task(self, task):
        return is_collection_action(task.resolved_action or task.action)

    def _record(self, result, kind):
        task = _task_of(result)
        host = _host_of(result)
        data = _result_of(result)
        if kind != "unreachable" and self._is_module_task(task):
            recorded = self._collector.add_result(host, self._play_id, _task_label(task), data,
                                                  check_mode=task.check_mode, diff_mode=task.diff)
            if kind == "ok" or (recorded and not data.get("censored")):
                return
        if kind in ("failed", "unreachable"):
            message = data.get("msg") or ("no_log hides why" if data.get("censored") else "")
            self._collector.add_event(host, self._play_id, kind, _task_label(task), str(message))

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        # Ignored and rescued failures too: when the host reported no user, they say why.
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        task = _task_of(result)
        if is_collection_action(task.action):
            self._collector.add_event(_host_of(result), self._play_id, "skipped", _task_label(task), "")

    # -- the end -----------------------------------------------------------------------------------

    def _run_metadata(self):
        cli = context.CLIARGS
        return {
            "started_at": iso(self._started),
            "finished_at": iso(utc_now()),
            "limit": cli.get("subset") or None,
            "playbooks": list(self._playbooks),
            "tags": [tag for tag in cli.get("tags") or () if tag != "all"],
            "skip_tags": list(cli.get("skip_tags") or ()),
            "forks": cli.get("forks"),
            "cli_check": bool(cli.get("check")),
            "cli_diff": bool(cli.get("diff")),
            "ansible_version": ansible_version,
            "collection": {"name": COLLECTION, "version": collection_version(collection_root())},
        }

    def v2_playbook_on_stats(self, stats):
        report = self._collector.build(self._run_metadata(), title=self.get_option("title") or DEFAULT_TITLE)
        report = scrub(report, salt=self.get_option("fingerprint_salt"))
        directory = self.get_option("output_dir")
        formats = [name.strip() for name in self.get_option("formats") or () if name.strip()]
        try:
            written = write_report(report, directory, formats)
        except (OSError, ValueError) as exc:
            self._display.warning("aiohub.claude_desktop.drift_report: could not write the drift report to %s: %s. "
                                  "Set AIOHUB_DRIFT_REPORT_DIR (or output_dir in [callback_drift_report]) to a "
                                  "writable directory and formats to json, md and/or html." % (directory, exc))
            return
        if self.get_option("show_summary"):
            self._display.banner("DRIFT REPORT")
            self._display.display(report["summary"]["text"])
            for path in written:
                self._display.display("  %s" % path)
