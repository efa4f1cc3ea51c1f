# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The catalogue of Claude Desktop third-party-inference (Cowork 3P) configuration keys.

Stdlib only: this file ships to targets inside the module payload. It is the single source of
truth for what a key is (type, whether it holds a credential, where the app accepts it); the
controller-side JSON Schema (``plugin_utils/schema.py``), the redactor, the OS-preference encoder
and the managed-takeover detector all read it.

Facts come from the reference ``cowork-3p-config.md`` (section numbers in comments).
"""

from __future__ import annotations

# Value kinds, as the documentation names them.
STRING = "string"
BOOLEAN = "boolean"
INTEGER = "integer"
NUMBER = "number"
ENUM = "enum"
STRING_LIST = "string[]"
OBJECT = "object"
OBJECT_LIST = "object[]"
MIXED_LIST = "(string|object)[]"  # inferenceModels, allowedWorkspaceFolders
OBJECT_OR_LIST = "object|object[]"  # orgPluginSettings: legacy record or canonical array
OBJECT_OR_STRING = "object|string"  # otlpHeaders accepts "k=v,k2=v2"

LIST_KINDS = frozenset((STRING_LIST, OBJECT_LIST, MIXED_LIST))
STRUCTURED_KINDS = frozenset((STRING_LIST, OBJECT, OBJECT_LIST, MIXED_LIST, OBJECT_OR_LIST, OBJECT_OR_STRING))

# The three documented update keys (mdm-new) plus the app-behaviour keys found in the bundle
# (spike-s1). A managed source that sets only these leaves local configuration in force (2.3).
UPDATE_KEYS = frozenset((
    "disableAutoUpdates",
    "autoUpdaterEnforcementHours",
    "updateViaUpdatesHost",
    "relaunchEnforcementHours",
    "configRecheckIntervalMinutes",
    "egressProxyUrl",
    "egressProxyPacUrl",
))

PROVIDERS = ("gateway", "anthropic", "bedrock", "mantle", "vertex", "foundry")
CREDENTIAL_KINDS = ("static", "helper-script", "interactive", "vendor-profile", "oauth", "workforce")
AUTH_SCHEMES = ("bearer", "x-api-key")
LEGACY_AUTH_SCHEMES = ("sso", "auto")
BUILTIN_TOOLS = (
    "Bash", "Read", "Write", "Edit", "Glob", "Grep", "NotebookEdit", "WebFetch", "WebSearch", "Task",
    "TodoWrite", "TaskCreate", "TaskUpdate", "TaskGet", "TaskList", "TaskStop", "Skill", "REPL",
    "JavaScript", "AskUserQuestion", "ToolSearch", "SendUserMessage",
)
PLACEHOLDER_ORGANIZATION_UUID = "00000000-0000-4000-8000-000000000001"


def _key(kind, **extra):
    spec = {"type": kind}
    spec.update(extra)
    return spec


# name -> spec. Spec fields:
#   type      one of the kinds above
#   secret    the value is a credential (never shown, fingerprinted in reports)
#   enum      allowed values for ENUM (or list items for STRING_LIST)
#   minimum / maximum / max_length / format ("uuid", "url", "https_url", "https_origin",
#             "abs_path", "color")
#   provider  the inferenceProvider the key belongs to
#   since     first app release that reads it
#   mdm_only  read only from managed sources (MDM, registry, Linux managed file)
#   deprecated  text explaining what to use instead (a warning, the key still works)
#   renamed_to  the current name of a legacy key
#   no_effect   the app ignores it (a warning)
KEYS = {
    # 1.1 Connection / activation
    "inferenceProvider": _key(ENUM, enum=PROVIDERS, since="baseline"),
    "inferenceCredentialKind": _key(ENUM, enum=CREDENTIAL_KINDS, since="1.8555.0"),
    "deploymentOrganizationUuid": _key(STRING, format="uuid", since="baseline"),
    "disableDeploymentModeChooser": _key(BOOLEAN, since="1.3834.0"),
    "inferenceCustomHeaders": _key(OBJECT, since="1.8089.0"),
    "inferenceGatewayHeaders": _key(OBJECT_OR_LIST, since="baseline", renamed_to="inferenceCustomHeaders"),
    "inferenceSessionLifetimeSec": _key(INTEGER, minimum=1, since="1.14271.0"),
    "userContentRendererUrl": _key(STRING, format="https_origin", since="1.24012.0"),
    # 1.2 Credential helper
    "inferenceCredentialHelper": _key(STRING, format="abs_path", since="baseline"),
    "inferenceCredentialHelperTtlSec": _key(INTEGER, minimum=0, since="baseline"),
    "inferenceCredentialHelperTimeoutSec": _key(INTEGER, minimum=1, maximum=600, since="1.8089.0"),
    "inferenceCredentialHelperSilentRefreshEnabled": _key(BOOLEAN, since="1.10628.0"),
    # 1.3 Anthropic API
    "inferenceAnthropicApiKey": _key(STRING, secret=True, provider="anthropic", since="1.8089.0"),
    # 1.4 Gateway
    "inferenceGatewayBaseUrl": _key(STRING, format="url", provider="gateway", since="baseline"),
    "inferenceGatewayApiKey": _key(STRING, secret=True, provider="gateway", since="baseline"),
    "inferenceGatewayAuthScheme": _key(ENUM, enum=AUTH_SCHEMES, provider="gateway", since="1.3036.0"),
    "inferenceGatewayOidc": _key(OBJECT, provider="gateway", since="1.6889.0"),
    "inferenceGatewayOidcAuthFlow": _key(ENUM, enum=("browser", "broker"), provider="gateway", since="1.25927.0"),
    # 1.5 Bedrock
    "inferenceBedrockRegion": _key(STRING, provider="bedrock", since="baseline"),
    "inferenceBedrockBaseUrl": _key(STRING, format="https_origin", provider="bedrock", since="baseline"),
    "inferenceBedrockServiceTier": _key(ENUM, enum=("flex", "priority"), provider="bedrock", since="1.5186.0"),
    "inferenceBedrockBearerToken": _key(STRING, secret=True, provider="bedrock", since="baseline"),
    "inferenceBedrockSsoStartUrl": _key(STRING, format="https_url", provider="bedrock", since="1.6259.0"),
    "inferenceBedrockSsoRegion": _key(STRING, provider="bedrock", since="1.6259.0"),
    "inferenceBedrockSsoAccountId": _key(STRING, pattern=r"^[0-9]{12}$", provider="bedrock", since="1.6259.0"),
    "inferenceBedrockSsoRoleName": _key(STRING, provider="bedrock", since="1.6259.0"),
    "inferenceBedrockProfile": _key(STRING, provider="bedrock", since="baseline"),
    "inferenceBedrockAwsDir": _key(STRING, provider="bedrock", since="baseline"),
    "inferenceBedrockAwsCliPath": _key(STRING, format="abs_path", provider="bedrock", since="1.13576.0"),
    # 1.6 Vertex
    "inferenceVertexProjectId": _key(STRING, provider="vertex", since="baseline"),
    "inferenceVertexRegion": _key(STRING, provider="vertex", since="baseline"),
    "inferenceVertexCredentialsFile": _key(STRING, format="abs_path", provider="vertex", since="baseline"),
    "inferenceVertexBaseUrl": _key(STRING, format="https_url", provider="vertex", since="baseline"),
    "inferenceVertexOAuthClientId": _key(STRING, provider="vertex", since="baseline"),
    "inferenceVertexOAuthClientSecret": _key(STRING, secret=True, provider="vertex", since="baseline"),
    "inferenceVertexOAuthScopes": _key(STRING, provider="vertex", since="baseline"),
    "inferenceVertexOAuthLoginHint": _key(STRING, provider="vertex", since="1.12603.0"),
    "inferenceVertexWorkforceAudience": _key(STRING, provider="vertex", since="1.10628.0"),
    "inferenceVertexWorkforceUserProject": _key(STRING, provider="vertex", since="1.10628.0"),
    "inferenceVertexWorkforceOidc": _key(OBJECT, provider="vertex", since="1.10628.0"),
    "inferenceVertexWorkforceAuthFlow": _key(ENUM, enum=("browser", "broker"), provider="vertex", since="1.25927.0"),
    # 1.7 Foundry
    "inferenceFoundryResource": _key(STRING, provider="foundry", since="baseline"),
    "inferenceFoundryApiKey": _key(STRING, secret=True, provider="foundry", since="baseline"),
    "inferenceFoundryTenantId": _key(STRING, provider="foundry", since="1.9255.0"),
    "inferenceFoundryClientId": _key(STRING, provider="foundry", since="1.9255.0"),
    "inferenceFoundryAuthFlow": _key(ENUM, enum=("device-code", "browser", "broker"), provider="foundry",
                                     since="1.19367.0"),
    # 1.8 Models
    "inferenceModels": _key(MIXED_LIST, since="baseline"),
    "modelDiscoveryEnabled": _key(BOOLEAN, since="1.8089.0"),
    "modelPrefer1mContext": _key(BOOLEAN, since="1.28929.0"),
    "inferenceModelPricingEnabled": _key(BOOLEAN, since="1.37937.0"),
    "inferenceModelPricingMultiplier": _key(NUMBER, minimum=0, since="1.37937.0"),
    "inferenceModelPricing": _key(OBJECT_LIST, since="1.37937.0"),
    # 1.9 Workspace, surfaces, sandbox
    "isClaudeCodeForDesktopEnabled": _key(BOOLEAN, since="baseline"),
    "coworkTabEnabled": _key(BOOLEAN, since="1.9659.0"),
    "chatTabEnabled": _key(BOOLEAN, since="1.13576.0"),
    "chatAdvancedFileAnalysisEnabled": _key(BOOLEAN, since="1.14271.0"),
    "disableDeepLinkRegistration": _key(BOOLEAN, since="1.6889.0"),
    "disabledBuiltinTools": _key(STRING_LIST, enum=BUILTIN_TOOLS, since="baseline"),
    "builtinToolPolicy": _key(OBJECT, since="1.8089.0"),
    "disableBundledSkills": _key(BOOLEAN, since="1.15962.0"),
    "skillCreationEnabled": _key(BOOLEAN, since="1.25927.0"),
    "autoModeEnabled": _key(BOOLEAN, since="1.10628.0"),
    "toolSearchEnabled": _key(BOOLEAN, since="1.21459.0"),
    "allowedWorkspaceFolders": _key(MIXED_LIST, since="baseline"),
    "coworkEgressAllowedHosts": _key(STRING_LIST, since="baseline"),
    "requireCoworkFullVmSandbox": _key(BOOLEAN, since="baseline", deprecated="the app no longer reads it"),
    # 1.10 Connectors, MCP, extensions
    "managedMcpServers": _key(OBJECT_LIST, since="baseline"),
    "isLocalDevMcpEnabled": _key(BOOLEAN, since="baseline"),
    "mcpPersistentAlwaysAllowEnabled": _key(BOOLEAN, since="1.24012.9"),
    "mcpToolTimeoutSec": _key(INTEGER, minimum=1, since="1.37937.0"),
    "isDesktopExtensionEnabled": _key(BOOLEAN, since="baseline"),
    "isDesktopExtensionSignatureRequired": _key(BOOLEAN, since="baseline"),
    "isDesktopExtensionDirectoryEnabled": _key(BOOLEAN, since="baseline",
                                               deprecated="absent from the newest reference; may be ignored"),
    "isDxtEnabled": _key(BOOLEAN, since="baseline", renamed_to="isDesktopExtensionEnabled"),
    "isDxtSignatureRequired": _key(BOOLEAN, since="baseline", renamed_to="isDesktopExtensionSignatureRequired"),
    "microsoftAuthBroker": _key(ENUM, enum=("auto", "disabled"), since="1.19367.0"),
    "claudeAiImport": _key(OBJECT, since="1.28929.0"),
    # 1.11 Plugins
    "orgPluginSettings": _key(OBJECT_OR_LIST, since="1.8089.0"),
    "allowedPluginMarketplaces": _key(OBJECT_LIST, since="1.17377.1"),
    "organizationPluginsUrl": _key(STRING, format="https_url", since="1.10628.0",
                                   deprecated="deprecated in 1.25927.0; use allowedPluginMarketplaces"),
    "userPluginMarketplacesEnabled": _key(BOOLEAN, since="1.37937.0"),
    "userPluginUploadsEnabled": _key(BOOLEAN, since="1.37937.0"),
    "skipWebFetchPreflight": _key(BOOLEAN, since="1.37937.0"),
    "organizationInstructions": _key(STRING, since="1.37937.0"),
    "disableDefaultPlugins": _key(BOOLEAN, since="baseline", no_effect="removed in 1.18286.0"),
    # 1.12 Telemetry, updates, OTLP
    "disableEssentialTelemetry": _key(BOOLEAN, since="baseline"),
    "disableNonessentialTelemetry": _key(BOOLEAN, since="baseline"),
    "disableNonessentialServices": _key(BOOLEAN, since="baseline"),
    "disableFeatureDiscovery": _key(BOOLEAN, since="1.21459.0"),
    "disableAutoUpdates": _key(BOOLEAN, since="baseline"),
    "autoUpdaterEnforcementHours": _key(INTEGER, minimum=1, maximum=72, since="baseline"),
    "updateViaUpdatesHost": _key(BOOLEAN, since="1.26832.0"),
    "otlpEndpoint": _key(STRING, format="url", since="baseline"),
    "otlpProtocol": _key(ENUM, enum=("http/protobuf", "http/json", "grpc"), since="baseline"),
    "otlpHeaders": _key(OBJECT_OR_STRING, since="baseline"),
    "otlpAuthMode": _key(ENUM, enum=("none", "inference-credential"), since="1.30096.1"),
    "otlpHeadersHelper": _key(STRING, format="abs_path", since="1.30096.1"),
    "otlpResourceAttributes": _key(OBJECT, since="1.5354.0"),
    "otlpDesktopLogLevel": _key(ENUM, enum=("off", "error", "warn", "info", "debug"), since="1.9255.0"),
    "otlpContentCapture": _key(STRING_LIST, enum=("userPrompts", "assistantResponses", "toolDetails", "toolContent",
                                                  "rawApiBodies"), since="1.15962.0"),
    "otlpTracesEnabled": _key(BOOLEAN, since="1.22209.0"),
    # 1.13 Limits and appearance
    "inferenceMaxTokensPerWindow": _key(INTEGER, minimum=1, since="baseline"),
    "inferenceTokenWindowHours": _key(INTEGER, minimum=1, maximum=720, since="baseline"),
    "banner": _key(OBJECT, since="1.7196.0"),
    "deploymentDisplayName": _key(STRING, max_length=60, since="1.24012.0"),
    "deploymentDisplaySubtitle": _key(STRING, max_length=60, since="1.24012.0"),
    "endUserAttribution": _key(BOOLEAN, since="1.25927.0"),
    "enduserAttribution": _key(BOOLEAN, since="1.24012.0", renamed_to="endUserAttribution"),
    # 1.14 Bootstrap (MDM-only)
    "bootstrapEnabled": _key(BOOLEAN, mdm_only=True, since="1.10628.0"),
    "bootstrapUrl": _key(STRING, format="https_url", mdm_only=True, since="1.10628.0"),
    "bootstrapOidc": _key(OBJECT, mdm_only=True, since="1.10628.0"),
    "bootstrapHeaders": _key(OBJECT, mdm_only=True, since="1.32885.1"),
    "bootstrapHeadersHelper": _key(STRING, format="abs_path", mdm_only=True, since="1.32885.1"),
    "trustBootstrapDelivery": _key(BOOLEAN, mdm_only=True, since="1.26832.0"),
    "trustBootstrapLocalExec": _key(BOOLEAN, mdm_only=True, since="1.25927.0", renamed_to="trustBootstrapDelivery"),
    # 1.15 Other managed keys
    "egressProxyUrl": _key(STRING, format="url", since="unknown"),
    "egressProxyPacUrl": _key(STRING, format="url", since="unknown"),
    "relaunchEnforcementHours": _key(INTEGER, minimum=1, since="unknown",
                                     deprecated="found in the app bundle, not in the documentation"),
    "configRecheckIntervalMinutes": _key(INTEGER, minimum=1, since="unknown",
                                         deprecated="found in the app bundle, not in the documentation"),
    "forceLoginOrgUUID": _key(STRING, since="baseline", no_effect="has no effect in a third-party deployment"),
    "loginSsoOrgDomain": _key(STRING, since="baseline", no_effect="has no effect in a third-party deployment"),
    "betaFeaturesEnabled": _key(BOOLEAN, since="1.14271.0", no_effect="added and deprecated in 1.14271.0"),
}

# Credential keys whose value must never appear in any output.
SECRET_KEYS = frozenset(name for name, spec in KEYS.items() if spec.get("secret"))

# Required keys when a provider is selected (1.16). Each entry is a tuple of alternatives;
# an alternative is a tuple of keys that must all be present.
PROVIDER_REQUIREMENTS = {
    "gateway": {
        "required": ("inferenceGatewayBaseUrl",),
        "credential": (
            ("inferenceGatewayApiKey",),
            ("inferenceCredentialHelper",),
        ),
    },
    "anthropic": {"required": (), "credential": ()},
    "bedrock": {
        "required": ("inferenceBedrockRegion",),
        "credential": (
            ("inferenceBedrockBearerToken",),
            ("inferenceBedrockProfile",),
            ("inferenceBedrockSsoStartUrl", "inferenceBedrockSsoRegion", "inferenceBedrockSsoAccountId",
             "inferenceBedrockSsoRoleName"),
            ("inferenceCredentialHelper",),
        ),
    },
    "vertex": {"required": ("inferenceVertexProjectId", "inferenceVertexRegion", "inferenceModels"), "credential": ()},
    "foundry": {
        "required": ("inferenceFoundryResource", "inferenceModels"),
        "credential": (
            ("inferenceFoundryApiKey",),
            ("inferenceCredentialHelper",),
            ("inferenceFoundryTenantId", "inferenceFoundryClientId"),
        ),
    },
    "mantle": {"required": (), "credential": ()},
}


# The static credential of each provider (what inferenceCredentialKind: static uses).
STATIC_CREDENTIAL_KEYS = {
    "gateway": "inferenceGatewayApiKey",
    "anthropic": "inferenceAnthropicApiKey",
    "bedrock": "inferenceBedrockBearerToken",
    "foundry": "inferenceFoundryApiKey",
}


def is_known(name):
    return name in KEYS


def kind_of(name):
    spec = KEYS.get(name)
    return spec["type"] if spec else None


def is_secret_key(name):
    return name in SECRET_KEYS


def is_update_key(name):
    return name in UPDATE_KEYS
