# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Options shared by every plugin that writes Claude Desktop (Cowork 3P) settings.
    DOCUMENTATION = r"""
options:
  settings:
    description:
      - Claude Desktop third-party-inference keys to set, with native YAML/JSON values (booleans, numbers,
        lists, dictionaries), for example C(inferenceProvider), C(inferenceGatewayBaseUrl),
        C(inferenceGatewayApiKey), C(inferenceModels), C(coworkEgressAllowedHosts).
      - Every key of the reference is known and validated on the controller before any host is touched
        (type, allowed values, ranges, URL rules, per-provider required keys). Unknown keys give a warning
        (the app ignores them), or an error with O(strict=true).
      - A value replaces the current value of that key whole; dictionaries such as C(inferenceGatewayOidc)
        are not deep-merged.
      - Credential keys (C(inferenceGatewayApiKey), C(inferenceAnthropicApiKey), C(inferenceBedrockBearerToken),
        C(inferenceFoundryApiKey), C(inferenceVertexOAuthClientSecret)) never appear in any output; diffs and
        results show C(<redacted:xxxxxxxx>), a keyed fingerprint.
    type: dict
    default: {}
  user_settings:
    description:
      - Per-user keys, merged over O(settings) for that user only. Keys of the outer dictionary are user names.
      - Typical use is one API key per user, each read from a key vault on the controller.
    type: dict
    default: {}
  strict:
    description:
      - Treat keys that are not in the Claude Desktop reference as errors instead of warnings.
    type: bool
    default: false
  allow_v1_base_url:
    description:
      - Accept a C(inferenceGatewayBaseUrl) that ends in C(/v1) or contains C(/v1/messages).
      - The app appends C(/v1/messages) and C(/v1/models) to the base URL itself, so such a URL normally
        produces C(/v1/v1/messages) and fails; only set this for a gateway that really serves C(/v1/v1/...).
    type: bool
    default: false
  check_required_keys:
    description:
      - When O(settings) selects a provider (C(inferenceProvider)), require the keys that provider needs
        (for C(gateway) the base URL and a credential). Without them the app silently starts in standard mode.
      - Set to V(false) when the remaining keys are written by another task.
    type: bool
    default: true
  allow_deprecated:
    description:
      - Accept deprecated values that older app builds need, with a warning instead of an error
        (C(inferenceGatewayAuthScheme) V(sso) or V(auto)).
    type: bool
    default: false
  fingerprint_salt:
    description:
      - Key of the HMAC-SHA256 fingerprint shown instead of secret values (first 8 hex digits).
      - The default is a fixed, public salt, so fingerprints are stable across runs and hosts. Set your own
        (from a vault) when secrets are low-entropy.
    type: str
"""
