# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters ``to_mobileconfig`` and ``to_reg``: Claude Desktop settings as MDM files (documentation in the
``to_mobileconfig.yml`` and ``to_reg.yml`` sidecars; logic in ``plugin_utils/mdm_export.py``)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import PolicyEncodingError
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import mdm_export
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.validation import (
    MANAGED, SettingsValidationError, ValidationOptions, validate_request,
)

display = Display()

SECRETS_WARNING = ("%s: credentials are written into the file (include_secrets=true); anyone who can read the "
                   "file, the MDM console or the share it is uploaded to can read them. Prefer a placeholder plus "
                   "a credential helper (inferenceCredentialHelper)")


def _checked(name, settings, strict):
    """The settings after the same validation managed_policy runs; warnings shown, errors raised."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("%s: expects a dictionary of Claude Desktop settings, got %s"
                                 % (name, type(settings).__name__))
    try:
        options = ValidationOptions(strict=strict, target=MANAGED)
        checked, _users, warnings = validate_request(dict(settings), {}, options)
    except SettingsValidationError as exc:
        raise AnsibleFilterError("%s: %s" % (name, exc))
    for warning in warnings:
        display.warning("%s: %s" % (name, warning))
    return checked


def _export(name, builder, settings, include_secrets, strict, validate, **options):
    if validate:
        settings = _checked(name, settings, strict)
    elif not isinstance(settings, dict):
        raise AnsibleFilterError("%s: expects a dictionary of Claude Desktop settings" % name)
    if include_secrets:
        display.warning(SECRETS_WARNING % name)
    try:
        return builder(settings, include_secrets=bool(include_secrets), **options)
    except (PolicyEncodingError, mdm_export.ExportError) as exc:
        raise AnsibleFilterError("%s: %s" % (name, exc))


def to_mobileconfig(settings, identifier=mdm_export.DEFAULT_IDENTIFIER, display_name=mdm_export.DEFAULT_DISPLAY_NAME,
                    description=mdm_export.DEFAULT_DESCRIPTION, organization=None, scope="System",
                    include_secrets=False, placeholder=mdm_export.DEFAULT_PLACEHOLDER, strict=False, validate=True):
    """A configuration profile (XML text) delivering ``settings`` in the com.anthropic.claudefordesktop domain."""
    return _export("to_mobileconfig", mdm_export.mobileconfig, settings, include_secrets, strict, validate,
                   identifier=identifier, display_name=display_name, description=description,
                   organization=organization, scope=scope, placeholder=placeholder)


def to_reg(settings, hive="HKLM", include_secrets=False, placeholder=mdm_export.DEFAULT_PLACEHOLDER,
           encoding="text", strict=False, validate=True):
    """A regedit 5.00 file setting ``settings`` as REG_SZ values under SOFTWARE\\Policies\\Claude."""
    if encoding not in ("text", "utf-16"):
        raise AnsibleFilterError("to_reg: encoding must be 'text' (a string) or 'utf-16' (the bytes regedit writes: "
                                 "a byte-order mark, then UTF-16 LE), got %r" % (encoding,))
    text = _export("to_reg", mdm_export.reg, settings, include_secrets, strict, validate, hive=hive,
                   placeholder=placeholder)
    return mdm_export.reg_bytes(text) if encoding == "utf-16" else text


class FilterModule(object):

    def filters(self):
        return {
            "to_mobileconfig": to_mobileconfig,
            "to_reg": to_reg,
        }
