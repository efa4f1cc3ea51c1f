# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``drift_summary`` filter: the drift report's statuses and summary line, inside a play."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.drift import play_summary


def _host_value(hostvars, host, name):
    try:
        return hostvars[host][name]
    except (KeyError, TypeError):
        return None


def drift_summary(hosts, hostvars, play_hosts=None, result_var="cowork_result", failure_var="__cowork_drift_failure"):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("drift_summary: expected the list of the play's hosts (ansible_play_hosts_all), got %s"
                                 % type(hosts).__name__)
    results = dict((host, _host_value(hostvars, host, result_var)) for host in hosts)
    failures = dict((host, _host_value(hostvars, host, failure_var)) for host in hosts)
    return play_summary(list(hosts), results, failures, list(play_hosts if play_hosts is not None else hosts))


class FilterModule(object):

    def filters(self):
        return {"drift_summary": drift_summary}
