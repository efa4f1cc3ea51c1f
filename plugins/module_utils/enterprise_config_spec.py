# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The argument spec of ``enterprise_config``, shared by the module and its action plugin (stdlib only)."""

from __future__ import annotations

DEFAULT_MAX_FILE_SIZE = 8 * 1024 * 1024

# Options the action plugin consumes on the controller; the module accepts and ignores them.
CONTROLLER_OPTIONS = ("strict", "allow_v1_base_url", "check_required_keys", "allow_deprecated", "verify_gateway",
                      "api_key_source", "gateway_timeout", "gateway_validate_certs", "gateway_ca_path",
                      "gateway_proxy_url")
# Options only the action plugin sets (credential values moved out of settings so they are no_log).
INTERNAL_OPTIONS = ("secret_settings", "user_secret_settings", "redact_values")


def settings_argument_spec():
    """The options of every module that writes Claude Desktop settings (local files or managed policy)."""
    return dict(
        settings=dict(type="dict", default={}),
        user_settings=dict(type="dict", default={}),
        secret_settings=dict(type="dict", default={}, no_log=True),
        user_secret_settings=dict(type="dict", default={}, no_log=True),
        redact_values=dict(type="list", elements="str", default=[], no_log=True),
        remove=dict(type="list", elements="str", default=[]),
        exclusive=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        max_file_size=dict(type="int", default=DEFAULT_MAX_FILE_SIZE),
        strict=dict(type="bool", default=False),
        allow_v1_base_url=dict(type="bool", default=False),
        check_required_keys=dict(type="bool", default=True),
        allow_deprecated=dict(type="bool", default=False),
        fingerprint_salt=dict(type="str", no_log=True),
    )


def argument_spec():
    spec = settings_argument_spec()
    spec.update(
        users=dict(type="list", elements="str"),
        path=dict(type="path"),
        library_path=dict(type="path"),
        owner=dict(type="str"),
        platform=dict(type="str", default="auto", choices=["auto", "macos", "linux"]),
        layout=dict(type="str", default="config_file", choices=["config_file", "config_library", "both"]),
        entry_name=dict(type="str", default="Managed by Ansible"),
        apply=dict(type="bool", default=True),
        deployment_mode=dict(type="str", choices=["3p", "1p"]),
        backup=dict(type="bool", default=False),
        fail_on_managed=dict(type="bool", default=False),
        managed_preferences_dir=dict(type="path", default="/Library/Managed Preferences"),
        verify_gateway=dict(type="bool", default=False),
        api_key_source=dict(type="str", no_log=False),
        gateway_timeout=dict(type="int", default=10),
        gateway_validate_certs=dict(type="bool", default=True),
        gateway_ca_path=dict(type="path"),
        gateway_proxy_url=dict(type="str"),
    )
    return spec


def declared_secrets(params):
    """Every credential value the action plugin handed over in no_log parameters."""
    declared = list((params.get("secret_settings") or {}).values()) + list(params.get("redact_values") or [])
    for per_user in (params.get("user_secret_settings") or {}).values():
        declared.extend((per_user or {}).values())
    return [value for value in declared if isinstance(value, str)]


MUTUALLY_EXCLUSIVE = [("users", "path"), ("users", "library_path"), ("path", "library_path")]
