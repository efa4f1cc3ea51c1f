#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This is a documentation-only file: the work is done by the action plugin of the same name, on the
# controller (plugins/action/gateway_preflight.py, HTTP in plugins/plugin_utils/gateway.py).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: gateway_preflight
short_description: Check from the controller that an Anthropic-Messages gateway accepts the API keys a host will get
version_added: 1.0.0
description:
  - Before Claude Desktop (Cowork 3P) settings are written to a host, asks the gateway with each API key that
    host's users would get, so that a wrong key, a wrong auth scheme or an unreachable gateway stops the host
    before anything is written, with a message naming the URL, the HTTP status and the users, never the key.
  - >-
    Sends C(GET <base_url>/v1/models) with the header the auth scheme implies (C(Authorization: Bearer <key>) for
    V(bearer), C(x-api-key: <key>) for V(x-api-key)) and C(anthropic-version), from the controller. Nothing is
    sent to or needed from the host, so it works with C(gather_facts: false) and unreachable hosts.
  - Each distinct (URL, auth scheme, key) is asked once per C(ansible-playbook) run, however many hosts and forks
    use it (also across C(serial) batches and plays); the other hosts reuse the verdict. The shared verdicts live
    in a private directory under the run's temporary directory and hold no key.
  - HTTP 401 or 403, a redirect, a 5xx answer, a timeout, a TLS or connection error fail exactly the hosts whose
    users would get that key. A gateway without model discovery (404, 405, 501) or a rate limit (429) gives a
    warning, since C(/v1/models) is optional for gateways.
  - Models named in O(models) that the gateway does not list give a warning.
  - Before any request, the base URL is checked with the same rules as M(aiohub.claude_desktop.enterprise_config)
    (https, or http on 127.0.0.1 only; no C(/v1) suffix unless O(allow_v1_base_url=true)), and every key must be
    present and usable in an HTTP header.
author:
  - AIOHub Platform Team (@aiohub)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
    details: Runs per host, but asks the gateway only once per distinct key for the whole run.
  check_mode:
    support: full
    details: The check is read-only (an HTTP GET), so it also runs in check mode.
  diff_mode:
    support: none
  platform:
    platforms: all
    details: Runs on the controller; the host is not contacted.
options:
  base_url:
    description:
      - The gateway root, as written to C(inferenceGatewayBaseUrl). The app and this check append C(/v1/models).
    type: str
    required: true
  auth_scheme:
    description:
      - How the key travels, as in C(inferenceGatewayAuthScheme).
    type: str
    choices: [bearer, x-api-key]
    default: bearer
  api_key:
    description:
      - The default key, for every user without a per-user key. Resolve it on the controller, for example with a
        lookup from your key vault.
      - Required when O(users=all); otherwise only when a listed user has no per-user key.
    type: str
  user_api_keys:
    description:
      - Per-user keys, user name to key. They override O(api_key) for those users.
    type: dict
    default: {}
  users:
    description:
      - The users of the host whose configuration will be written, V(all) or a list of names, as in
        O(aiohub.claude_desktop.enterprise_config#module:users). Decides which keys are used.
    type: list
    elements: str
    default: [all]
  models:
    description:
      - The models the configuration names (C(inferenceModels) entries, IDs or dictionaries with C(name)).
        Those the gateway does not list give a warning.
    type: list
    elements: raw
    default: []
  key_source:
    description:
      - A description of where the keys come from (for example C(OpenBao secret/cowork/workstations)), added to
        error messages. Never put a key here.
    type: str
  verify:
    description:
      - Ask the gateway. With V(false) only the base URL and the presence and shape of the keys are checked.
    type: bool
    default: true
  allow_v1_base_url:
    description:
      - Accept a base URL ending in C(/v1), as O(aiohub.claude_desktop.enterprise_config#module:allow_v1_base_url).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the gateway's answer.
    type: int
    default: 10
  validate_certs:
    description:
      - Verify the gateway's TLS certificate. Only switch off for a test gateway.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify the gateway (or a TLS-inspecting proxy) with, instead of the system store.
    type: path
  proxy_url:
    description:
      - An HTTP proxy for the request, for example C(http://proxy.example.com:3128).
      - Without it, C(https_proxy), C(http_proxy) and C(no_proxy) from the controller's environment apply when
        O(use_proxy=true).
    type: str
  use_proxy:
    description:
      - Use the proxy from the environment. Ignored when O(proxy_url) is set.
    type: bool
    default: true
  anthropic_version:
    description:
      - Value of the C(anthropic-version) header.
    type: str
    default: '2023-06-01'
  fingerprint_salt:
    description:
      - Key of the fingerprints that stand for API keys in results and messages, as in
        O(aiohub.claude_desktop.enterprise_config#module:fingerprint_salt), so both show the same fingerprint.
    type: str
notes:
  - Redirects are not followed, because the key would be sent to the new location.
  - The role C(aiohub.claude_desktop.cowork) runs this check before writing any host (tag C(cowork_verify)).
seealso:
  - module: aiohub.claude_desktop.enterprise_config
  - name: Gateway contract of Claude Desktop third-party inference
    description: The app requests C(<base>/v1/messages) and, for model discovery, C(<base>/v1/models).
    link: https://claude.com/docs/third-party/claude-desktop/configuration
"""

EXAMPLES = r"""
- name: Check the gateway key from the vault before configuring Claude Desktop
  aiohub.claude_desktop.gateway_preflight:
    base_url: https://api.aiohub.org
    auth_scheme: bearer
    api_key: "{{ lookup('community.hashi_vault.vault_kv2_get', 'cowork/gateway').secret.api_key }}"
    key_source: OpenBao secret/cowork/gateway
    models: [claude-sonnet-4-6, claude-opus-4-7]

- name: One key per user; only alice's and bob's keys are asked
  aiohub.claude_desktop.gateway_preflight:
    base_url: https://api.aiohub.org
    users: [alice, bob]
    user_api_keys:
      alice: "{{ vault_alice_key }}"
      bob: "{{ vault_bob_key }}"

- name: Through the corporate proxy, which re-signs TLS with its own CA
  aiohub.claude_desktop.gateway_preflight:
    base_url: https://api.aiohub.org
    api_key: "{{ vault_aiohub_key }}"
    proxy_url: http://proxy.example.com:3128
    ca_path: /etc/pki/tls/certs/corporate-ca.pem
    timeout: 20
"""

RETURN = r"""
url:
  description: The URL asked.
  returned: always
  type: str
  sample: https://api.aiohub.org/v1/models
auth_scheme:
  description: The auth scheme used.
  returned: always
  type: str
  sample: bearer
checks:
  description: One entry per distinct key of this host.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The key's fingerprint (never the key).
      type: str
      sample: <redacted:1a2b3c4d>
    label:
      description: V(the default key) or V(the per-user key).
      type: str
      sample: the default key
    users:
      description: The users that get this key.
      type: list
      elements: str
      sample: [alice, bob]
    url:
      description: The URL asked with this key (C(<base>/v1/models) of the gateway these users get).
      type: str
      sample: https://api.aiohub.org/v1/models
    outcome:
      description:
        - V(ok) the gateway accepted the key, V(failed) it did not (or could not be reached), V(unverified) it
          answered without saying (no model discovery, rate limit).
      type: str
      sample: ok
    http_status:
      description: The HTTP status, or null when there was no answer.
      type: int
      sample: 200
    message:
      description: What happened, with the URL and status; never a key.
      type: str
      sample: GET https://api.aiohub.org/v1/models answered HTTP 200 with 12 model(s)
    models:
      description: The model IDs the gateway lists.
      type: list
      elements: str
      sample: [claude-sonnet-4-6, claude-opus-4-7]
    missing_models:
      description: Models of O(models) the gateway does not list.
      type: list
      elements: str
      sample: []
    cached:
      description: Whether the verdict came from another host's request earlier in this run.
      type: bool
      sample: true
"""
