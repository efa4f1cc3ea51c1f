#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: managed_preferences
short_description: Write Claude Desktop (Cowork 3P) managed preferences on Macs without an MDM
version_added: 1.0.0
description:
  - Writes the Claude Desktop managed preference domain C(com.anthropic.claudefordesktop) as a property list file,
    the way an MDM profile would deliver it, for Macs that are not enrolled in an MDM.
  - With O(scope=machine) it writes C(/Library/Managed Preferences/com.anthropic.claudefordesktop.plist), read by the
    app for every user. With O(scope=user) it writes C(/Library/Managed Preferences/<user>/com.anthropic.claudefordesktop.plist)
    for each user in O(users); where a key is in both, the per-user value wins.
  - Managed preferences take precedence over the local configuration the app's own window writes
    (M(aiohub.claude_desktop.enterprise_config)); the window becomes read-only.
  - Every value is written as a string, the documented encoding (booleans C(true)/C(false), integers in decimal,
    lists and dictionaries as one compact JSON string); dotted sub-keys are refused. The file is compared by
    decoded value, so a plist that holds the same values in another layout (binary, other JSON spacing) is left
    alone.
  - Only the keys in O(settings) and O(remove) are managed; every other key of the domain keeps its value,
    unless O(exclusive=true).
  - Files are owned by root so that users cannot change their own policy. The machine plist is C(0644)
    (C(root:wheel)), readable by every user's app. A per-user plist is C(0640), group the user's primary group,
    so the app (which runs as that user and reads the plist as a file) can read it while service accounts cannot.
    Directories are C(0755) and created when missing.
  - Plists are written in the binary format an MDM client leaves (C(plutil -p) shows them); XML plists are read too.
  - Writes are atomic (a temporary file in the same directory renamed over the plist). The module never follows a
    symlink and refuses directories that are not root's or that group or others can write.
  - Settings are validated on the controller by the action plugin before the host is touched; credential values
    travel as C(no_log) parameters and never appear in output, diffs or logs.
  - An MDM owns C(/Library/Managed Preferences) on enrolled Macs and rewrites it; use an MDM profile there
    (the C(aiohub.claude_desktop.to_mobileconfig) filter and C(playbooks/export_mdm.yml) generate one).
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
    details: The diff shows the plist as XML with every credential replaced by a fingerprint.
  platform:
    platforms: [darwin]
  safe_file_operations:
    support: full
  vault:
    support: none
options:
  scope:
    description:
      - V(machine) writes the machine plist, read for every user.
      - V(user) writes one plist per user in O(users).
    type: str
    choices: [machine, user]
    default: machine
  users:
    description:
      - With O(scope=user), whose plists to write. V(all) (the default) means every real local account (a login
        shell, an existing home, uid 500 and above, no C(_) system accounts).
      - A name that does not exist is an error for that name only.
    type: list
    elements: str
  remove:
    description:
      - Keys to delete from the plist.
    type: list
    elements: str
    default: []
  exclusive:
    description:
      - Make the plist hold exactly O(settings), deleting every other key of the domain.
    type: bool
    default: false
  state:
    description:
      - V(present) sets O(settings) and deletes O(remove).
      - V(absent) deletes the keys named in O(settings) and O(remove); when none are named it deletes the whole plist.
      - A plist left without keys is deleted.
    type: str
    choices: [present, absent]
    default: present
  managed_preferences_dir:
    description:
      - Where managed preferences live. Only change it for tests (a scratch directory on any POSIX host).
      - On a host that is not a Mac the module refuses the default, since Claude Desktop on Linux reads
        C(/etc/claude-desktop/managed-settings.json) instead.
    type: path
    default: /Library/Managed Preferences
  max_file_size:
    description:
      - Refuse to read a plist larger than this many bytes.
    type: int
    default: 1048576
  secret_settings:
    description:
      - Set by the action plugin, not by users. The credential keys of O(settings), moved here so that the module
        marks them C(no_log).
    type: dict
    default: {}
  user_secret_settings:
    description:
      - Set by the action plugin, not by users. The credential keys of O(user_settings).
    type: dict
    default: {}
  redact_values:
    description:
      - Set by the action plugin, not by users. Credential values nested in other settings.
    type: list
    elements: str
    default: []
notes:
  - Needs root (C(become=true)).
  - Claude Desktop reads managed preferences only at launch; users must quit it fully and reopen it.
    RV(results[].app_running) says whether it is running.
  - Anyone who can read a plist can read an API key stored in it. Prefer C(inferenceCredentialHelper) for
    credentials that must stay private.
  - Requires C(jsonschema) on the controller for validation.
seealso:
  - module: aiohub.claude_desktop.managed_policy
  - module: aiohub.claude_desktop.enterprise_config
  - name: Claude Desktop MDM configuration
    description: Managed preferences, registry policy and their precedence.
    link: https://claude.com/docs/third-party/claude-desktop/mdm
"""

EXAMPLES = r"""
- name: Point every user of this Mac at AIOHub through machine managed preferences
  aiohub.claude_desktop.managed_preferences:
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
      inferenceGatewayApiKey: "{{ vault_aiohub_key }}"
      inferenceModels: [claude-sonnet-4-6, claude-opus-4-7]
      disableDeploymentModeChooser: true
  become: true

- name: One key per user, in per-user managed preferences
  aiohub.claude_desktop.managed_preferences:
    scope: user
    users: [alice, bob]
    settings:
      inferenceProvider: gateway
      inferenceGatewayBaseUrl: https://api.aiohub.org
    user_settings:
      alice:
        inferenceGatewayApiKey: "{{ lookup('community.hashi_vault.vault_kv2_get', 'cowork/alice').secret.api_key }}"
      bob:
        inferenceGatewayApiKey: "{{ lookup('community.hashi_vault.vault_kv2_get', 'cowork/bob').secret.api_key }}"
  become: true

- name: The plist holds exactly these keys and nothing else
  aiohub.claude_desktop.managed_preferences:
    exclusive: true
    settings:
      disableAutoUpdates: true
      autoUpdaterEnforcementHours: 24
  become: true

- name: Remove the managed preferences again
  aiohub.claude_desktop.managed_preferences:
    state: absent
  become: true
"""

RETURN = r"""
changed:
  description: Whether any plist was (or, in check mode, would be) changed.
  returned: always
  type: bool
  sample: true
results:
  description: One entry per plist (the machine one, or one per user).
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user of a per-user plist; V(null) for the machine plist.
      type: str
      sample: alice
    home:
      description: The user's home directory; V(null) for the machine plist.
      type: str
      sample: /Users/alice
    layout:
      description: Always V(managed_preferences).
      type: str
      sample: managed_preferences
    path:
      description: The plist.
      type: str
      sample: /Library/Managed Preferences/alice/com.anthropic.claudefordesktop.plist
    reason:
      description: V(machine managed preferences) or V(per-user managed preferences).
      type: str
      sample: per-user managed preferences
    status:
      description: State found before this run, V(in_sync), V(drifted), V(missing) or V(error).
      type: str
      sample: drifted
    changed:
      description: Whether this plist was (or would be) changed.
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
      sample: [{"key": "inferenceGatewayApiKey", "change": "changed", "before": "<redacted:1a2b3c4d>", "after": "<redacted:5e6f7a8b>"}]
    files_written:
      description: The plists written or deleted.
      type: list
      elements: str
      sample: ["/Library/Managed Preferences/alice/com.anthropic.claudefordesktop.plist"]
    backup_file:
      description: Always V(null) (no backups are kept; the values live in your inventory and vault).
      type: str
      sample: null
    managed_override:
      description: Always V(false) (this is the managed source).
      type: bool
      sample: false
    managed_sources:
      description: Always empty.
      type: list
      elements: dict
      sample: []
    app_running:
      description: Whether Claude Desktop is running for this user (for the machine plist, for anyone).
      type: bool
      sample: false
    notes:
      description: Anything else done, such as a value rewritten as a string or a file mode fixed.
      type: list
      elements: str
      sample: ["owner, group and mode set to root:0 0644"]
    error:
      description: Why this plist could not be handled; the others still are.
      type: str
      sample: "/Library/Managed Preferences/alice is a symlink; a per-user managed preferences folder must be a real directory owned by root"
summary:
  description: Counts of plists per status.
  returned: always
  type: dict
  sample: {"in_sync": 1, "drifted": 1, "missing": 0, "error": 0}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.managed_plist import (
    ManagedPreferencesRunner, argument_spec, scope_problem,
)
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.results import summarize


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    problem = scope_problem(module.params)
    if problem:
        module.fail_json(msg=problem)

    runner = ManagedPreferencesRunner(module.params, check_mode=module.check_mode, want_diff=module._diff,
                                      on_warning=module.warn, effective_uid=os.geteuid())
    problem = runner.host_problem()
    if problem:
        module.fail_json(msg=problem)
    results, diffs = runner.run()
    module.no_log_values.update(runner.secret_values_seen)

    response = dict(changed=any(item["changed"] for item in results), results=results, summary=summarize(results))
    if diffs:
        response["diff"] = diffs
    failed = [item for item in results if item.get("error")]
    if failed:
        reasons = ["%s: %s" % (item["user"] or item["path"], item["error"]) for item in failed]
        response["msg"] = "%d of %d managed preference file(s) failed: %s" % (
            len(failed), len(results), "; ".join(reasons))
        module.fail_json(**response)
    module.exit_json(**response)


if __name__ == "__main__":
    main()
