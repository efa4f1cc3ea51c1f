#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: enterprise_config
short_description: Merge Claude Desktop third-party-inference (Cowork 3P) settings into each user's local configuration
version_added: 1.0.0
description:
  - Sets Claude Desktop "Cowork on third-party inference" keys (gateway URL, API key, models, egress hosts, any
    documented key) in the local configuration of every real user of a macOS, Linux or Windows host, in one
    module call per host.
  - With O(layout=config_file) (older app builds) it merges the keys into the C(enterpriseConfig) object of
    C(claude_desktop_config.json) and keeps every other key of the file (C(mcpServers), C(preferences),
    C(deploymentMode), other C(enterpriseConfig) keys) with its value and position.
  - With O(layout=config_library) (newer app builds) it owns exactly one named entry of the C(configLibrary/)
    directory, registers it in C(_meta.json) and makes it the applied one; other entries are never touched.
  - Files are compared by value, so a file that differs only in whitespace or key order is not rewritten.
    Writes are atomic (a temporary file in the same directory, then a rename), files are C(0600) and owned
    by their user, new directories C(0700). Running as root, the module never follows a symlink or uses a path
    component that the user could have replaced; such a user gets a clear error and the others carry on.
  - Settings are validated on the controller before any host is touched (see O(settings)).
  - On Windows hosts the action plugin does the work from the controller with the same engine, driving
    M(ansible.windows.slurp) and M(ansible.windows.win_powershell) (one discovery call per host, one read per
    existing file, one write per changed file); no PowerShell module of this collection runs there. Where a
    Claude MSIX package exists for a user, its virtualised C(LocalCache\\Roaming\\Claude-3p) copy is managed
    too. See C(docs/windows.md).
  - Claude Desktop reads its configuration only at launch. The module reports per user whether the app is
    running and whether a managed profile or policy makes the app ignore local files.
author:
  - AIOHub Platform Team (@aiohub)
extends_documentation_fragment:
  - aiohub.claude_desktop.settings
  - action_common_attributes
  - action_common_attributes.flow
  - action_common_attributes.files
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Diffs show whole documents with every secret replaced by a fingerprint.
  platform:
    platforms: [posix, windows]
  safe_file_operations:
    support: full
  vault:
    support: none
options:
  users:
    description:
      - Whose configuration to manage. V(all) means every real local account (a login shell, an existing home,
        uid 500 and above on macOS or 1000 and above on Linux, no C(_system) accounts; on Windows every user
        profile except system, service, C(Default) and C(Public) profiles).
      - Otherwise a list of user names. A name that does not exist is an error for that name only.
      - When the module does not run as root (or an administrator), only the connecting user's own files can
        be written; V(all) then means that user.
      - Mutually exclusive with O(path) and O(library_path). When none of the three is given, V(all) is meant
        (also with O(state=absent)).
    type: list
    elements: str
  path:
    description:
      - Manage this one C(claude_desktop_config.json) file instead of per-user files (O(layout=config_file)).
      - The file is owned by O(owner), or by the owner of its directory. The directory must exist.
      - Not supported on Windows hosts.
    type: path
  library_path:
    description:
      - Manage this one C(configLibrary) directory instead of per-user ones (O(layout=config_library)).
      - Created (C(0700)) when missing; its parent must exist.
      - Not supported on Windows hosts.
    type: path
  owner:
    description:
      - With O(path) or O(library_path), the user that owns the files. Defaults to the owner of the directory.
    type: str
  platform:
    description:
      - Which per-user locations to use. V(auto) detects the target OS.
      - C(macos) is C(~/Library/Application Support/Claude-3p/); C(linux) is C(~/.config/Claude-3p/).
      - Windows hosts are detected from the connection and always use C(%APPDATA%\\Claude-3p\\) and
        C(%LOCALAPPDATA%\\Claude-3p\\configLibrary\\) under each profile.
    type: str
    choices: [auto, macos, linux]
    default: auto
  layout:
    description:
      - V(config_file) merges into C(enterpriseConfig) of C(Claude-3p/claude_desktop_config.json) (older builds).
      - V(config_library) writes the entry O(entry_name) of C(Claude-3p/configLibrary/) (newer builds).
      - V(both) does both, for fleets with mixed app versions.
    type: str
    choices: [config_file, config_library, both]
    default: config_file
  entry_name:
    description:
      - Name of the C(configLibrary) entry this module owns. Its id is a UUID derived from this name, identical
        on every run and every host, so renaming it creates a new entry.
    type: str
    default: Managed by Ansible
  apply:
    description:
      - With O(layout=config_library), make our entry the applied one (C(appliedId) in C(_meta.json)).
    type: bool
    default: true
  remove:
    description:
      - Keys to delete from C(enterpriseConfig) (or from our library entry).
    type: list
    elements: str
    default: []
  exclusive:
    description:
      - Make C(enterpriseConfig) (or our library entry) exactly O(settings), deleting every other key in it.
      - Keys outside C(enterpriseConfig) are never touched.
    type: bool
    default: false
  state:
    description:
      - V(present) sets O(settings) and deletes O(remove).
      - V(absent) deletes the keys named in O(settings) and O(remove) from C(enterpriseConfig); when none are
        named it deletes the whole C(enterpriseConfig) object.
      - In a C(configLibrary), V(absent) always deletes our whole entry (it is ours; drop single keys with
        V(present) and O(remove)). If it was applied, the first remaining entry whose file exists becomes
        applied, and C(appliedId) is removed when there is none.
      - An C(enterpriseConfig) left empty by V(absent) is removed.
    type: str
    choices: [present, absent]
    default: present
  deployment_mode:
    description:
      - Also set the top-level C(deploymentMode) key of C(claude_desktop_config.json), which third-party tools
        use to open the app in third-party mode. Not documented by Anthropic; left alone when unset.
    type: str
    choices: ['3p', '1p']
  backup:
    description:
      - Before changing a file, keep a copy next to it named C(<file>.<pid>.<YYYYmmdd-HHMMSS>.bak), C(0600) and
        owned by the user.
      - Credential values of the settings this collection manages are replaced by their fingerprint in the
        copy; they live in your vault. Everything else is kept.
    type: bool
    default: false
  fail_on_managed:
    description:
      - Fail for a user when a managed profile or policy makes Claude Desktop ignore local configuration
        (macOS C(/Library/Managed Preferences/[<user>/]com.anthropic.claudefordesktop.plist), Windows
        C(HKLM\\SOFTWARE\\Policies\\Claude) or the user's C(HKCU\\SOFTWARE\\Policies\\Claude), Linux
        C(/etc/claude-desktop/managed-settings.json)) with any key other than the update keys.
      - By default the module warns, reports C(managed_override=true) and still writes (the admin may be migrating).
      - The update keys (C(disableAutoUpdates), C(autoUpdaterEnforcementHours), C(updateViaUpdatesHost)) and the
        app-behaviour keys that app 1.49585.0 treats the same way (C(relaunchEnforcementHours),
        C(configRecheckIntervalMinutes), C(egressProxyUrl), C(egressProxyPacUrl)) do not take over.
    type: bool
    default: false
  managed_preferences_dir:
    description:
      - Where macOS managed preferences live. Only change it for tests.
    type: path
    default: /Library/Managed Preferences
  max_file_size:
    description:
      - Refuse to read a configuration file larger than this many bytes (a real one is a few KB).
    type: int
    default: 8388608
  verify_gateway:
    description:
      - Before writing anything, ask the gateway whether it accepts the API key(s) this host's users would get
        (C(GET <inferenceGatewayBaseUrl>/v1/models) from the controller, with the header that
        C(inferenceGatewayAuthScheme) implies). Each distinct key is asked once per run, across hosts and forks.
      - A rejected key (401/403), an unreachable gateway, a redirect or a TLS error fails the host before
        anything is written; a gateway without C(/v1/models) (404/405/501) only warns. Models of
        C(inferenceModels) that the gateway does not list give a warning.
      - Only for C(inferenceProvider=gateway) with a static key; nothing is asked for a credential helper or an
        interactive sign-in. The outcome is in RV(gateway). See also M(aiohub.claude_desktop.gateway_preflight).
    type: bool
    default: false
  api_key_source:
    description:
      - With O(verify_gateway), where the key comes from (for example C(vault path secret/cowork)), named in the
        failure message instead of the key.
    type: str
  gateway_timeout:
    description: With O(verify_gateway), seconds to wait for the gateway.
    type: int
    default: 10
  gateway_validate_certs:
    description: With O(verify_gateway), verify the gateway's TLS certificate.
    type: bool
    default: true
  gateway_ca_path:
    description: With O(verify_gateway), a CA bundle for the gateway's certificate.
    type: path
  gateway_proxy_url:
    description: With O(verify_gateway), the proxy to reach the gateway through (default - the environment's).
    type: str
  secret_settings:
    description:
      - Set by the action plugin, not by users. The credential keys of O(settings), moved here so that the
        module marks them C(no_log).
    type: dict
    default: {}
  user_secret_settings:
    description:
      - Set by the action plugin, not by users. The credential keys of O(user_settings).
    type: dict
    default: {}
  redact_values:
    description:
      - Set by the action plugin, not by users. Credential values nested inside other settings (for example an
        MCP server's C(oauth.clientSecret)), so that the module masks them everywhere.
    type: list
    elements: str
    default: []
requirements:
  - jsonschema (Python library) on the controller, for the validation of O(settings).
notes:
  - Quit Claude Desktop before running; the app reads its configuration only at launch and rewrites
    C(configLibrary) itself. Running instances are reported in RV(results[].app_running) with a warning,
    never killed.
seealso:
  - name: Claude Desktop third-party configuration reference
    description: Every key, its type and rules.
    link: https://claude.com/docs/third-party/claude-desktop/configuration
  - name: The aiohub.claude_desktop.cowork role
    description: Wraps this module with key-vault lookups and a gateway preflight.
    link: https://github.com/aiohub/claude_desktop/blob/main/roles/cowork/README.md
"""

EXAMPLES = r"""
- name: Point Claude Desktop (Cowork 3P) at AIOHub for every local user
  aiohub.claude_desktop.enterprise_config:
    users: all
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
      inferenceGatewayApiKey: "{{ vault_aiohub_key }}"
      coworkEgressAllowedHosts: ["docs.aiohub.org", "*.example.com"]

- name: Newer app builds read configLibrary; write both forms for a mixed fleet
  aiohub.claude_desktop.enterprise_config:
    users: [alice, bob]
    layout: both
    entry_name: AIOHub gateway
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
      inferenceGatewayApiKey: "{{ vault_aiohub_key }}"
      inferenceGatewayAuthScheme: bearer
      inferenceModels: [claude-sonnet-4-6, {name: claude-opus-4-7, supports1m: true}]
    backup: true

- name: One API key per user, each from the key vault
  aiohub.claude_desktop.enterprise_config:
    users: [alice, bob]
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
    user_settings:
      alice:
        inferenceGatewayApiKey: "{{ lookup('community.hashi_vault.vault_kv2_get', 'cowork/alice').secret.api_key }}"
      bob:
        inferenceGatewayApiKey: "{{ lookup('community.hashi_vault.vault_kv2_get', 'cowork/bob').secret.api_key }}"

- name: Drop one key and keep the rest
  aiohub.claude_desktop.enterprise_config:
    users: all
    remove: [coworkEgressAllowedHosts]

- name: Roll back, removing enterpriseConfig entirely
  aiohub.claude_desktop.enterprise_config:
    users: all
    state: absent

- name: Fail instead of writing where an MDM profile already owns the app
  aiohub.claude_desktop.enterprise_config:
    users: all
    fail_on_managed: true
    settings:
      coworkEgressAllowedHosts: [docs.aiohub.org]
"""

RETURN = r"""
changed:
  description: Whether any file was (or, in check mode, would be) changed.
  returned: always
  type: bool
  sample: true
results:
  description: One entry per user and file location.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user name.
      type: str
      sample: alice
    home:
      description: The user's home or profile directory.
      type: str
      sample: /Users/alice
    layout:
      description: V(config_file) or V(config_library).
      type: str
      sample: config_file
    path:
      description: The file (config_file) or directory (config_library) managed for this user.
      type: str
      sample: /Users/alice/Library/Application Support/Claude-3p/claude_desktop_config.json
    reason:
      description: Why this location is managed (on Windows also the MSIX-virtualised copy).
      type: str
      sample: per-user configuration file
    status:
      description:
        - State found before this run. V(in_sync) nothing to do, V(drifted) settings differ, V(missing) the
          file does not exist yet, V(error) the user could not be handled (see RV(results[].error)).
      type: str
      sample: drifted
    changed:
      description: Whether this location was (or would be) changed.
      type: bool
      sample: true
    changed_keys:
      description: Names of the keys added, changed and removed in C(enterpriseConfig) or our library entry.
      type: dict
      sample: {"added": ["coworkEgressAllowedHosts"], "changed": ["inferenceGatewayApiKey"], "removed": []}
    key_changes:
      description:
        - The same keys as RV(results[].changed_keys) with their values before and after, every credential
          replaced by C(<redacted:xxxxxxxx>) (a keyed fingerprint, so a changed key is visible without the key).
      type: list
      elements: dict
      sample: [{"key": "inferenceGatewayApiKey", "change": "changed", "before": "<redacted:1a2b3c4d>", "after": "<redacted:5e6f7a8b>"}]
    files_written:
      description: The files written or deleted, in order.
      type: list
      elements: str
      sample: ["/Users/alice/Library/Application Support/Claude-3p/claude_desktop_config.json"]
    backup_file:
      description: The backup made before the change, when O(backup=true).
      type: str
      sample: /Users/alice/Library/Application Support/Claude-3p/claude_desktop_config.json.4242.20261124-101500.bak
    entry_id:
      description: With O(layout=config_library), the id of our entry.
      type: str
      sample: 1f0e4c2a-9c57-5d1e-8f33-2b8e9d0c7a11
    managed_override:
      description: Whether a managed profile or policy makes the app ignore this local configuration.
      type: bool
      sample: false
    managed_sources:
      description: The managed sources found, each with the keys that take over.
      type: list
      elements: dict
      sample: [{"source": "/Library/Managed Preferences/com.anthropic.claudefordesktop.plist", "keys": ["inferenceProvider"]}]
    app_running:
      description: Whether Claude Desktop is running for this user (it must be restarted to read the change).
      type: bool
      sample: false
    notes:
      description: Anything else done, such as a byte-order mark removed or the file mode fixed.
      type: list
      elements: str
      sample: ["file mode and owner set to 0600 alice"]
    error:
      description: Why this user failed; the other users are still handled.
      type: str
      sample: "/Users/bob/Library/Application Support/Claude-3p/claude_desktop_config.json is a symlink; refusing to follow symlinks in a user's home"
gateway:
  description:
    - With O(verify_gateway), the gateway's verdict for each distinct key this host's users get (keys shown as
      fingerprints), in the same form as M(aiohub.claude_desktop.gateway_preflight) returns. Users whose
      O(user_settings) change the provider, base URL or auth scheme are checked against their own gateway.
  returned: when O(verify_gateway=true) and there was a key to ask about
  type: dict
  sample:
    url: https://api.aiohub.org/v1/models
    auth_scheme: bearer
    checks:
      - key: "<redacted:1a2b3c4d>"
        users: ["every other user"]
        url: https://api.aiohub.org/v1/models
        outcome: ok
        http_status: 200
        missing_models: []
        cached: true
msg:
  description: When some users failed, how many and each error (host, user, path, cause); when the settings are
    invalid, every problem found (nothing is sent to the host then).
  returned: failure
  type: str
  sample: >-
    1 of 2 user location(s) failed: host mac-042, user bob:
    /Users/bob/Library/Application Support/Claude-3p/claude_desktop_config.json is not valid JSON (...)
validation_errors:
  description: When the settings are invalid, one line per problem (key, what is wrong, the rule). No host is touched.
  returned: when validation fails
  type: list
  elements: str
  sample: ["inferenceGatewayBaseUrl: ... ends in /v1 or contains /v1/messages, but the app appends /v1/messages ... (rule: no /v1 in the base URL)"]
summary:
  description: Counts of locations per status.
  returned: always
  type: dict
  sample: {"in_sync": 1, "drifted": 1, "missing": 0, "error": 0}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.enterprise_config_spec import (
    MUTUALLY_EXCLUSIVE, argument_spec,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_runner import PosixRunner
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import (
    failure_message, summarize, validate_users_option,
)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    problem = validate_users_option(module.params)
    if problem:
        module.fail_json(msg=problem)

    runner = PosixRunner(module.params, check_mode=module.check_mode, want_diff=module._diff,
                         on_warning=module.warn, effective_uid=os.geteuid())
    results, diffs = runner.run()
    module.no_log_values.update(runner.secret_values_seen)

    response = dict(changed=any(item["changed"] for item in results), results=results,
                    summary=summarize(results))
    if diffs:
        response["diff"] = diffs
    if any(item.get("error") for item in results):
        response["msg"] = failure_message(results)
        module.fail_json(**response)
    module.exit_json(**response)


if __name__ == "__main__":
    main()
