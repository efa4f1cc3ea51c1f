# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The JSON Schema (draft 2020-12) of Claude Desktop third-party-inference settings (controller side).

Built from the key catalogue in ``module_utils/config_keys.py`` (one source of truth for names, kinds
and ranges) plus the structure of the object-valued keys from the reference (section 1). The rules a
schema cannot say (URL schemes, ``/v1`` suffixes, per-provider required keys...) are in
``validation.py``.
"""

from __future__ import annotations

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import config_keys as ck

SCHEMA_ID = "https://aiohub.org/schemas/claude-desktop/cowork-3p-settings.schema.json"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
SINGLE_LINE = r"^[^\r\n]*$"

# Values the app still reads but validation.py reports (error, or warning with allow_deprecated).
LEGACY_ENUMS = {"inferenceGatewayAuthScheme": ck.LEGACY_AUTH_SCHEMES}

_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_PORT = {"type": "integer", "minimum": 1, "maximum": 65535}


def _object(properties, required=(), extra=True):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if not extra:
        schema["additionalProperties"] = False
    return schema


_OIDC = _object({
    "clientId": {"type": "string", "minLength": 1},
    "issuer": _STRING,
    "authorizationUrl": _STRING,
    "tokenUrl": _STRING,
    "bearerTokenType": {"enum": ["id_token", "access_token"]},
    "scopes": _STRING,
    "appendOfflineAccess": {"type": "boolean"},
    "omitOfflineAccess": {"type": "boolean"},
    "resource": _STRING,
    "redirectPort": _PORT,
    "additionalRedirectReferrerHosts": _STRING,
}, required=("clientId",))

_MODEL = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        _object({
            "name": {"type": "string", "minLength": 1},
            "labelOverride": _STRING,
            "supports1m": {"type": "boolean"},
            "prefer1m": {"type": "boolean"},
            "anthropicFamilyTier": {"enum": ["sonnet", "opus", "haiku", "fable", "mythos"]},
            "isFamilyDefault": {"type": "boolean"},
        }, required=("name",)),
    ]
}

_OAUTH = {
    "oneOf": [
        {"type": "boolean"},
        _object({
            "clientId": _STRING,
            "clientSecret": _STRING,
            "clientSecretHelper": _STRING,
            "authorizationServer": {"type": "array", "items": _STRING},
            "authorizationUrl": _STRING,
            "tokenUrl": _STRING,
            "tenantId": _STRING,
            "authFlow": {"enum": ["browser", "broker"]},
            "scope": _STRING,
            "appendOfflineAccess": {"type": "boolean"},
            "callbackHost": {"enum": ["127.0.0.1", "localhost"]},
            "callbackPort": {"type": "integer", "minimum": 1024, "maximum": 65535},
            "additionalRedirectReferrerHosts": _STRING,
            "mode": {"enum": ["hosted"]},
        }),
    ]
}

_MCP_SERVER = _object({
    "name": {"type": "string", "minLength": 1},
    "transport": {"enum": ["http", "sse", "stdio"]},
    "url": _STRING,
    "headers": _STRING_MAP,
    "headersHelper": _STRING,
    "headersHelperTtlSec": {"type": "integer", "minimum": 0},
    "headersHelperRefreshBufferSec": {"type": "integer", "minimum": 0},
    "oauth": _OAUTH,
    "toolPolicy": {"type": "object", "additionalProperties": {"enum": ["allow", "ask", "blocked"]}},
    "command": _STRING,
    "args": {"type": "array", "items": _STRING},
    "env": _STRING_MAP,
    "envHelper": _STRING,
    "envHelperTtlSec": {"type": "integer", "minimum": 0},
    "startupTimeoutSec": {"type": "integer", "minimum": 1},
    "server": {"enum": ["microsoft365", "websearch", "github"]},
    "tenantId": _STRING,
    "clientId": _STRING,
    "azureCloud": {"enum": ["global", "us-gov-high", "us-gov-dod"]},
    "scope": _STRING,
    "provider": {"enum": ["brave", "tavily", "exa", "custom"]},
    "customUrl": _STRING,
    "host": _STRING,
    "toolsets": {"oneOf": [_STRING, {"type": "array", "items": _STRING}]},
    "readOnly": {"type": "boolean"},
}, required=("name",))

_ORG_PLUGIN_SETTINGS = {
    "oneOf": [
        {"type": "object"},
        {"type": "array", "items": _object({
            "serverName": {"type": "string", "minLength": 1},
            "tools": {"type": "array", "items": _object({
                "toolName": {"type": "string", "minLength": 1},
                "permission": {"enum": ["allow", "ask", "ask-session", "blocked"]},
            }, required=("toolName", "permission"))},
        }, required=("serverName",))},
    ]
}

_MARKETPLACE = _object({
    "source": {"enum": ["github", "git", "url"]},
    "repo": _STRING,
    "ref": _STRING,
    "path": _STRING,
    "expectedName": _STRING,
    "installationPreference": {"enum": ["available", "auto_install", "required"]},
    "credentialKind": {"enum": ["anonymous", "userGit", "credentialHelper", "inferenceCredential"]},
    "credentialHelper": _STRING,
    "url": _STRING,
    "manifestSha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
}, required=("source",))

_PRICING = _object({
    "name": {"type": "string", "minLength": 1},
    "inputPerMtok": {"type": "number", "minimum": 0},
    "outputPerMtok": {"type": "number", "minimum": 0},
    "cacheReadPerMtok": {"type": "number", "minimum": 0},
    "cacheWritePerMtok": {"type": "number", "minimum": 0},
}, required=("name",))

# Structure of object- and list-valued keys (reference 1.1-1.14).
STRUCTURES = {
    "inferenceCustomHeaders": _STRING_MAP,
    "inferenceGatewayHeaders": {"oneOf": [_STRING_MAP, {"type": "array", "items": _STRING}]},
    "inferenceGatewayOidc": _OIDC,
    "inferenceVertexWorkforceOidc": _OIDC,
    "bootstrapOidc": {"type": "object"},
    "bootstrapHeaders": _STRING_MAP,
    "inferenceModels": {"type": "array", "minItems": 1, "items": _MODEL},
    "inferenceModelPricing": {"type": "array", "items": _PRICING},
    "builtinToolPolicy": {"type": "object", "additionalProperties": {"enum": ["allow", "ask", "ask-session"]}},
    "allowedWorkspaceFolders": {"type": "array", "items": {"oneOf": [
        {"type": "string", "minLength": 1},
        _object({"path": {"type": "string", "minLength": 1}, "isDefaultSelected": {"type": "boolean"},
                 "mode": {"enum": ["rw", "ro"]}}, required=("path",)),
    ]}},
    "coworkEgressAllowedHosts": {"type": "array",
                                 "items": {"type": "string", "minLength": 1, "pattern": r"^[^\s/]+$"}},
    "managedMcpServers": {"type": "array", "items": _MCP_SERVER},
    "claudeAiImport": _object({"enabled": {"type": "boolean"}, "exportEnabled": {"type": "boolean"},
                               "bannerBehavior": {"enum": ["off", "detect", "show"]}}),
    "orgPluginSettings": _ORG_PLUGIN_SETTINGS,
    "allowedPluginMarketplaces": {"type": "array", "items": _MARKETPLACE},
    "otlpHeaders": {"oneOf": [_STRING_MAP, _STRING]},
    "otlpResourceAttributes": {"type": "object"},
    "banner": _object({
        "enabled": {"type": "boolean"},
        "text": {"type": "string", "maxLength": 200, "pattern": SINGLE_LINE},
        "backgroundColor": {"type": "string", "pattern": COLOR_PATTERN},
        "textColor": {"type": "string", "pattern": COLOR_PATTERN},
        "linkUrl": _STRING,
    }),
}

_KIND_SCHEMAS = {
    ck.STRING: {"type": "string"},
    ck.BOOLEAN: {"type": "boolean"},
    ck.INTEGER: {"type": "integer"},
    ck.NUMBER: {"type": "number"},
    ck.STRING_LIST: {"type": "array", "items": {"type": "string"}},
    ck.OBJECT: {"type": "object"},
    ck.OBJECT_LIST: {"type": "array", "items": {"type": "object"}},
    ck.MIXED_LIST: {"type": "array"},
    ck.OBJECT_OR_LIST: {"type": ["object", "array"]},
    ck.OBJECT_OR_STRING: {"type": ["object", "string"]},
}


def key_schema(name, spec):
    """The schema of one top-level key."""
    if name in STRUCTURES:
        schema = dict(STRUCTURES[name])
    elif spec["type"] == ck.ENUM:
        schema = {"type": "string", "enum": list(spec["enum"]) + list(LEGACY_ENUMS.get(name, ()))}
    elif spec["type"] == ck.STRING_LIST and spec.get("enum"):
        schema = {"type": "array", "items": {"enum": list(spec["enum"])}, "uniqueItems": True}
    else:
        schema = dict(_KIND_SCHEMAS[spec["type"]])
    for field, keyword in (("minimum", "minimum"), ("maximum", "maximum"), ("max_length", "maxLength"),
                           ("pattern", "pattern")):
        if field in spec:
            schema[keyword] = spec[field]
    if spec.get("format") == "uuid":
        schema["pattern"] = UUID_PATTERN
    if spec.get("secret"):
        schema["writeOnly"] = True
    schema["description"] = _describe(name, spec)
    return schema


def _describe(name, spec):
    parts = ["%s (%s), since %s" % (name, spec["type"], spec.get("since", "?"))]
    for field in ("deprecated", "no_effect"):
        if spec.get(field):
            parts.append(spec[field])
    if spec.get("renamed_to"):
        parts.append("legacy name of %s" % spec["renamed_to"])
    if spec.get("mdm_only"):
        parts.append("read only from managed sources")
    return "; ".join(parts)


def settings_schema():
    """The whole schema: every documented key, unknown keys allowed (they are reported separately)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Claude Desktop third-party inference (Cowork 3P) settings",
        "type": "object",
        "properties": dict((name, key_schema(name, spec)) for name, spec in ck.KEYS.items()),
    }
