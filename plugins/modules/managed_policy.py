#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented by its action plugin (plugins/action/managed_policy.py): macOS hosts run
# aiohub.claude_desktop.managed_preferences, Windows hosts are handled from the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: managed_policy
short_description: Deliver Claude Desktop (Cowork 3P) settings as managed policy on macOS and Windows
version_added: 1.0.0
description:
  - Writes Claude Desktop third-party-inference settings where the app reads managed policy, which takes precedence
    over the local configuration users edit (M(aiohub.claude_desktop.enterprise_config)); the app's configuration
    window becomes read-only.
  - "macOS: runs M(aiohub.claude_desktop.managed_preferences) on the host, which writes
    C(/Library/Managed Preferences/com.anthropic.claudefordesktop.plist) (O(scope=machine)) or
    C(/Library/Managed Preferences/<user>/com.anthropic.claudefordesktop.plist) (O(scope=user)). That is the path
    for Macs without an MDM; an MDM rewrites this folder, so enrolled Macs get a profile instead
    (C(aiohub.claude_desktop.to_mobileconfig), C(playbooks/export_mdm.yml))."
  - "Windows: writes C(REG_SZ) values directly under C(HKLM\\SOFTWARE\\Policies\\Claude) (O(scope=machine)) or
    under C(SOFTWARE\\Policies\\Claude) of each user's hive (O(scope=user)), never in a subkey. No PowerShell module
    of this collection runs on the host: the action plugin reads the key(s) with one
    M(ansible.windows.win_powershell) call and sets or deletes each changed value with
    M(ansible.windows.win_regedit), computing C(changed) and the diff itself."
  - Every value is written as a string, the documented encoding (booleans C(true)/C(false), integers in decimal,
    lists and dictionaries as one compact JSON string); dotted sub-keys are refused. Values are compared decoded,
    so a value stored with other JSON spacing, or a plist in another layout, is not rewritten; an owned value
    stored in another form (a native plist boolean, a C(REG_DWORD)) is rewritten as the documented string.
  - Only the keys in O(settings) and O(remove) are managed, unless O(exclusive=true), which removes every other
    value (on Windows every other value directly under the key, including the key's default value).
  - "Windows, two hives: from app 1.19367.0 any value under HKLM makes the app ignore HKCU entirely (older builds
    merged both, HKLM winning). The module warns when a configuration would be split across both: HKCU values
    of a logged-on user while writing HKLM, or HKLM values while writing HKCU."
  - Credentials never appear in output, diffs or logs. On Windows, M(ansible.windows.win_regedit)'s C(data) option
    is not C(no_log), so every call is made with C(no_log) forced, which also keeps the values out of the host's
    event log.
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
    details:
      - macOS, the plist as XML; Windows, the key as a C(.reg) listing. Every credential is replaced by a fingerprint.
  platform:
    platforms: [darwin, windows]
  safe_file_operations:
    support: full
    details: macOS plists are replaced atomically; Windows registry values are set one by one.
  vault:
    support: none
options:
  scope:
    description:
      - V(machine) writes machine policy (macOS machine plist, Windows HKLM).
      - V(user) writes per-user policy (macOS per-user plists, Windows each user's HKCU).
    type: str
    choices: [machine, user]
    default: machine
  users:
    description:
      - With O(scope=user), whose policy to write.
      - macOS, V(all) (the default) is every real local account.
      - Windows, no value writes the HKCU of the connecting (or become) user; V(all) writes every logged-on account
        (only their registry hives are loaded; the others are listed in a warning); a name writes that account's hive,
        which must be loaded (the user logged on), otherwise that user fails with an explanation.
    type: list
    elements: str
  remove:
    description:
      - Keys to delete.
    type: list
    elements: str
    default: []
  exclusive:
    description:
      - Make the policy hold exactly O(settings), deleting every other value.
    type: bool
    default: false
  state:
    description:
      - V(present) sets O(settings) and deletes O(remove).
      - V(absent) deletes the keys named in O(settings) and O(remove); when none are named it deletes the whole policy
        (the macOS plist; every value directly under the Windows key, which itself and its subkeys are kept).
    type: str
    choices: [present, absent]
    default: present
  managed_preferences_dir:
    description:
      - macOS only. Where managed preferences live. Only change it for tests.
    type: path
    default: /Library/Managed Preferences
  max_file_size:
    description:
      - macOS only. Refuse to read a plist larger than this many bytes.
    type: int
    default: 1048576
  secret_settings:
    description:
      - Set by the action plugin, not by users.
    type: dict
    default: {}
  user_secret_settings:
    description:
      - Set by the action plugin, not by users.
    type: dict
    default: {}
  redact_values:
    description:
      - Set by the action plugin, not by users.
    type: list
    elements: str
    default: []
notes:
  - Needs root on macOS and an administrator on Windows (HKLM, other users' hives).
  - Claude Desktop reads managed policy only at launch; users must quit it fully and reopen it.
  - Anyone who can read the plist or the registry key can read a credential stored there. Prefer
    C(inferenceCredentialHelper) for credentials that must stay private.
  - Windows per-user policy can only be written for users whose registry hive is loaded (logged-on users).
  - Requires C(jsonschema) on the controller for validation.
seealso:
  - module: aiohub.claude_desktop.managed_preferences
  - module: aiohub.claude_desktop.enterprise_config
  - plugin: aiohub.claude_desktop.to_mobileconfig
    plugin_type: filter
  - plugin: aiohub.claude_desktop.to_reg
    plugin_type: filter
  - name: Claude Desktop MDM configuration
    description: Managed preferences, registry policy and their precedence.
    link: https://claude.com/docs/third-party/claude-desktop/mdm
"""

EXAMPLES = r"""
- name: Machine policy on Macs and Windows PCs alike
  aiohub.claude_desktop.managed_policy:
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
      inferenceGatewayApiKey: "{{ vault_aiohub_key }}"
      inferenceModels: [claude-sonnet-4-6, claude-opus-4-7]
      coworkEgressAllowedHosts: [docs.aiohub.org]
      disableDeploymentModeChooser: true
  become: true

- name: The policy key holds exactly these values, nothing else
  aiohub.claude_desktop.managed_policy:
    exclusive: true
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
      inferenceCredentialKind: helper-script
      inferenceCredentialHelper: C:\Program Files\Example\claude-token.exe

- name: Per-user policy for the logged-on users of a shared PC
  aiohub.claude_desktop.managed_policy:
    scope: user
    users: [all]
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
      inferenceCredentialKind: interactive

- name: Roll back, removing every value we set
  aiohub.claude_desktop.managed_policy:
    state: absent
    remove: [inferenceProvider, inferenceGatewayBaseUrl, inferenceGatewayApiKey, inferenceModels]
"""

RETURN = r"""
changed:
  description: Whether any plist or registry value was (or, in check mode, would be) changed.
  returned: always
  type: bool
  sample: true
results:
  description: One entry per policy location (the machine one, or one per user), in the per-user result shape of M(aiohub.claude_desktop.enterprise_config).
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user of per-user policy; V(null) for machine policy.
      type: str
      sample: alice
    layout:
      description: V(managed_preferences) (macOS) or V(managed_policy) (Windows).
      type: str
      sample: managed_policy
    path:
      description: The plist, or the registry key.
      type: str
      sample: HKLM\SOFTWARE\Policies\Claude
    reason:
      description: Which policy this is.
      type: str
      sample: machine policy (HKLM)
    status:
      description: State found before this run, V(in_sync), V(drifted), V(missing) or V(error).
      type: str
      sample: drifted
    changed:
      description: Whether this location was (or would be) changed.
      type: bool
      sample: true
    changed_keys:
      description: Names of the keys added, changed and removed.
      type: dict
      sample: {"added": ["inferenceModels"], "changed": [], "removed": []}
    key_changes:
      description: The same keys with their decoded values before and after, credentials replaced by C(<redacted:xxxxxxxx>).
      type: list
      elements: dict
      sample: [{"key": "inferenceModels", "change": "added", "after": ["claude-sonnet-4-6"]}]
    files_written:
      description: The plists, or the registry values (C(<key>\<value>)), written or deleted.
      type: list
      elements: str
      sample: ["HKLM\\SOFTWARE\\Policies\\Claude\\inferenceModels"]
    notes:
      description: Anything else done, such as a value rewritten as a string.
      type: list
      elements: str
      sample: ["disableAutoUpdates: stored in a form other than a string; rewritten as the documented string"]
    error:
      description: Why this location could not be handled; the others still are.
      type: str
      sample: "alice is not logged on, so their registry hive (NTUSER.DAT) is not loaded"
summary:
  description: Counts of locations per status.
  returned: always
  type: dict
  sample: {"in_sync": 0, "drifted": 1, "missing": 0, "error": 0}
"""
