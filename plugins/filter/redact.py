# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``redact`` filter: a Claude Desktop document (or text) with every secret replaced by its fingerprint."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor


def redact(data, secrets=None, salt=None):
    """Dictionaries and lists are redacted structurally, strings as free text."""
    if secrets is not None and not isinstance(secrets, (list, tuple)):
        raise AnsibleFilterError("redact: 'secrets' must be a list of strings, got %s" % type(secrets).__name__)
    redactor = Redactor([value for value in (secrets or []) if isinstance(value, str)], salt=salt)
    if isinstance(data, (dict, list)):
        return redactor.document(data)
    if isinstance(data, str):
        return redactor.text(data)
    raise AnsibleFilterError("redact: expected a dictionary, a list or a string, got %s" % type(data).__name__)


class FilterModule(object):

    def filters(self):
        return {"redact": redact}
