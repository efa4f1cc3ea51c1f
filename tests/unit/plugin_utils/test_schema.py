"""schema.py: the JSON Schema built from the key catalogue (every key, type, enum, range, format, length)."""

from __future__ import annotations

import jsonschema
import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import config_keys as ck
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.schema import (
    STRUCTURES, UUID_PATTERN, key_schema, settings_schema,
)

SCHEMA = settings_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
UUID = "6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5"

# A documented, valid value for every key that needs more than its kind says.
GOOD = {
    "deploymentOrganizationUuid": UUID,
    "inferenceBedrockSsoAccountId": "123456789012",
    "inferenceModels": ["claude-sonnet-4-5", {"name": "claude-opus-4", "supports1m": True,
                                              "anthropicFamilyTier": "opus"}],
    "inferenceGatewayOidc": {"clientId": "cid", "issuer": "https://idp.example.com"},
    "inferenceVertexWorkforceOidc": {"clientId": "cid", "issuer": "https://idp.example.com"},
    "inferenceCustomHeaders": {"X-Route": "eu"},
    "inferenceGatewayHeaders": ["X-Route: eu"],
    "bootstrapHeaders": {"X-Tenant": "t1"},
    "inferenceModelPricing": [{"name": "claude-x", "inputPerMtok": 3, "outputPerMtok": 15.5}],
    "builtinToolPolicy": {"Bash": "ask", "WebFetch": "allow"},
    "allowedWorkspaceFolders": ["/srv/work", {"path": "/data", "mode": "ro", "isDefaultSelected": True}],
    "coworkEgressAllowedHosts": ["docs.example.com", "*.example.org", "api.example.com:8443"],
    "managedMcpServers": [
        {"name": "files", "transport": "stdio", "command": "/usr/bin/mcp", "args": ["-v"], "env": {"K": "v"}},
        {"name": "web", "url": "https://mcp.example.com", "oauth": True, "toolPolicy": {"search": "allow"}},
        {"name": "m365", "server": "microsoft365", "oauth": {"clientId": "c", "callbackPort": 53280}},
    ],
    "claudeAiImport": {"enabled": True, "bannerBehavior": "detect"},
    "orgPluginSettings": [{"serverName": "s", "tools": [{"toolName": "t", "permission": "ask-session"}]}],
    "allowedPluginMarketplaces": [{"source": "github", "repo": "org/market", "manifestSha256": "a" * 64}],
    "otlpHeaders": "Authorization=Bearer x,X-Team=y",
    "banner": {"enabled": True, "text": "Hello", "backgroundColor": "#112233", "textColor": "#FFFFFF"},
    "disabledBuiltinTools": ["Bash", "WebFetch"],
    "otlpContentCapture": ["userPrompts"],
    "inferenceCredentialHelperTimeoutSec": 30,
    "autoUpdaterEnforcementHours": 24,
    "inferenceTokenWindowHours": 24,
    "deploymentDisplayName": "AIOHub",
}

_BY_KIND = {
    ck.STRING: "text",
    ck.BOOLEAN: True,
    ck.INTEGER: 5,
    ck.NUMBER: 1.5,
    ck.STRING_LIST: ["a"],
    ck.OBJECT: {},
    ck.OBJECT_LIST: [{}],
    ck.MIXED_LIST: ["a"],
    ck.OBJECT_OR_LIST: {},
    ck.OBJECT_OR_STRING: {},
}

# A value of the wrong JSON type for each kind (a wrong type is never accepted).
_WRONG_TYPE = {
    ck.STRING: 5,
    ck.BOOLEAN: "true",
    ck.INTEGER: "5",
    ck.NUMBER: "1.5",
    ck.ENUM: 1,
    ck.STRING_LIST: "a,b",
    ck.OBJECT: ["a"],
    ck.OBJECT_LIST: {"a": 1},
    ck.MIXED_LIST: "claude-x",
    ck.OBJECT_OR_LIST: "x",
    ck.OBJECT_OR_STRING: 5,
}


def good_value(name):
    if name in GOOD:
        return GOOD[name]
    spec = ck.KEYS[name]
    if spec["type"] == ck.ENUM:
        return spec["enum"][0]
    if spec.get("format") in ("url", "https_url", "https_origin"):
        return "https://example.com"
    if spec.get("format") == "abs_path":
        return "/usr/local/bin/tool"
    if "minimum" in spec and spec["type"] in (ck.INTEGER, ck.NUMBER):
        return spec["minimum"] + 1
    return _BY_KIND[spec["type"]]


def errors(settings):
    return list(VALIDATOR.iter_errors(settings))


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["type"] == "object"


def test_every_catalogue_key_has_a_property_and_nothing_else():
    assert set(SCHEMA["properties"]) == set(ck.KEYS)


def test_structures_only_describe_catalogue_keys():
    assert set(STRUCTURES) <= set(ck.KEYS)


def test_unknown_keys_are_left_to_the_rules():
    assert errors({"notAKey": 1, "other.dotted": [1]}) == []


@pytest.mark.parametrize("name", sorted(ck.KEYS))
def test_documented_value_is_accepted(name):
    assert errors({name: good_value(name)}) == [], name


@pytest.mark.parametrize("name", sorted(ck.KEYS))
def test_wrong_type_is_refused(name):
    assert errors({name: _WRONG_TYPE[ck.KEYS[name]["type"]]}), name


@pytest.mark.parametrize("name", sorted(ck.KEYS))
def test_null_is_refused(name):
    assert errors({name: None}), name


@pytest.mark.parametrize("name", sorted(name for name, spec in ck.KEYS.items() if spec["type"] == ck.BOOLEAN))
def test_booleans_refuse_numbers(name):
    assert errors({name: 1}) and errors({name: 0})


@pytest.mark.parametrize("name", sorted(name for name, spec in ck.KEYS.items() if spec["type"] == ck.INTEGER))
def test_integers_refuse_booleans_and_fractions(name):
    assert errors({name: True})
    assert errors({name: good_value(name) + 0.5})


@pytest.mark.parametrize("name", sorted(name for name, spec in ck.KEYS.items() if spec["type"] == ck.ENUM))
def test_enums_accept_exactly_their_values(name):
    for value in ck.KEYS[name]["enum"]:
        assert errors({name: value}) == []
    assert errors({name: "not-a-documented-value"})
    assert errors({name: ck.KEYS[name]["enum"][0].upper() + "X"})


@pytest.mark.parametrize("name", sorted(name for name, spec in ck.KEYS.items() if "minimum" in spec))
def test_minimum(name):
    minimum = ck.KEYS[name]["minimum"]
    assert errors({name: minimum}) == []
    assert errors({name: minimum - 1})


@pytest.mark.parametrize("name", sorted(name for name, spec in ck.KEYS.items() if "maximum" in spec))
def test_maximum(name):
    maximum = ck.KEYS[name]["maximum"]
    assert errors({name: maximum}) == []
    assert errors({name: maximum + 1})


@pytest.mark.parametrize("name, low, high", [
    ("autoUpdaterEnforcementHours", 1, 72),
    ("inferenceTokenWindowHours", 1, 720),
    ("inferenceCredentialHelperTimeoutSec", 1, 600),
])
def test_documented_ranges(name, low, high):
    assert errors({name: low}) == [] and errors({name: high}) == []
    assert errors({name: low - 1}) and errors({name: high + 1})


@pytest.mark.parametrize("name", ["deploymentDisplayName", "deploymentDisplaySubtitle"])
def test_display_texts_are_at_most_60_characters(name):
    assert errors({name: "é" * 60}) == []
    assert [error.validator for error in errors({name: "x" * 61})] == ["maxLength"]


@pytest.mark.parametrize("value, ok", [
    (UUID, True), (UUID.upper(), True), (ck.PLACEHOLDER_ORGANIZATION_UUID, True),
    ("6f1c2d3e4b5a4c6d8e7f90a1b2c3d4e5", False), ("{%s}" % UUID, False), (UUID + "0", False), ("", False),
    ("6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4eg", False),
])
def test_organisation_uuid_format(value, ok):
    assert (errors({"deploymentOrganizationUuid": value}) == []) is ok
    assert key_schema("deploymentOrganizationUuid", ck.KEYS["deploymentOrganizationUuid"])["pattern"] == UUID_PATTERN


@pytest.mark.parametrize("value, ok", [("123456789012", True), ("12345678901", False), ("1234567890123", False),
                                       ("12345678901a", False)])
def test_bedrock_account_id(value, ok):
    assert (errors({"inferenceBedrockSsoAccountId": value}) == []) is ok


@pytest.mark.parametrize("colour, ok", [("#112233", True), ("#aBcDeF", True), ("112233", False), ("#123", False),
                                        ("red", False), ("#1122334", False), ("#GG2233", False)])
def test_banner_colours(colour, ok):
    assert (errors({"banner": {"backgroundColor": colour}}) == []) is ok
    assert (errors({"banner": {"textColor": colour}}) == []) is ok


def test_banner_text_is_one_line_of_at_most_200_characters():
    assert errors({"banner": {"text": "x" * 200}}) == []
    assert [error.validator for error in errors({"banner": {"text": "x" * 201}})] == ["maxLength"]
    assert [error.validator for error in errors({"banner": {"text": "a\nb"}})] == ["pattern"]
    assert [error.validator for error in errors({"banner": {"text": "a\rb"}})] == ["pattern"]


def test_disabled_builtin_tools_are_known_and_unique():
    assert errors({"disabledBuiltinTools": list(ck.BUILTIN_TOOLS)}) == []
    assert [error.validator for error in errors({"disabledBuiltinTools": ["Bash", "Bash"]})] == ["uniqueItems"]
    assert [error.validator for error in errors({"disabledBuiltinTools": ["rm"]})] == ["enum"]


@pytest.mark.parametrize("value", [[], [""], [5], [{"labelOverride": "x"}], [{"name": ""}],
                                   [{"name": "x", "anthropicFamilyTier": "gpt"}], [{"name": "x", "supports1m": "yes"}]])
def test_inference_models_shape(value):
    assert errors({"inferenceModels": value})


@pytest.mark.parametrize("value", [["docs example.com"], ["https://docs.example.com"], ["a/b"], [""]])
def test_egress_hosts_are_bare_host_patterns(value):
    assert errors({"coworkEgressAllowedHosts": value})


@pytest.mark.parametrize("oidc", [{}, {"issuer": "https://i"}, {"clientId": ""}, {"clientId": "c", "redirectPort": 0},
                                  {"clientId": "c", "redirectPort": 65536},
                                  {"clientId": "c", "bearerTokenType": "refresh_token"}])
def test_oidc_shape(oidc):
    assert errors({"inferenceGatewayOidc": oidc})


@pytest.mark.parametrize("server", [
    {"url": "https://x"},
    {"name": "x", "transport": "websocket"},
    {"name": "x", "oauth": {"callbackPort": 80}},
    {"name": "x", "oauth": "yes"},
    {"name": "x", "env": {"K": 1}},
    {"name": "x", "headers": {"Authorization": ["Bearer"]}},
    {"name": "x", "toolPolicy": {"t": "deny"}},
    {"name": "x", "args": "-v"},
])
def test_mcp_server_shape(server):
    assert errors({"managedMcpServers": [server]})


@pytest.mark.parametrize("value", [{"Authorization": 5}, ["a", 5], 5])
def test_gateway_headers_shape(value):
    assert errors({"inferenceGatewayHeaders": value})


def test_org_plugin_settings_legacy_record_and_canonical_list():
    assert errors({"orgPluginSettings": {"anything": {"goes": True}}}) == []
    assert errors({"orgPluginSettings": [{"serverName": "s", "tools": [{"toolName": "t"}]}]})
    assert errors({"orgPluginSettings": [{"serverName": "s", "tools": [{"toolName": "t", "permission": "deny"}]}]})


def test_marketplace_shape():
    assert errors({"allowedPluginMarketplaces": [{"repo": "o/r"}]})
    assert errors({"allowedPluginMarketplaces": [{"source": "svn"}]})
    assert errors({"allowedPluginMarketplaces": [{"source": "url", "manifestSha256": "abc"}]})


def test_pricing_shape():
    assert errors({"inferenceModelPricing": [{"name": "x", "inputPerMtok": -1}]})
    assert errors({"inferenceModelPricing": [{"inputPerMtok": 1}]})


def test_credential_keys_are_write_only_with_descriptions():
    for name in ck.SECRET_KEYS:
        assert SCHEMA["properties"][name]["writeOnly"] is True
    for name, spec in ck.KEYS.items():
        description = SCHEMA["properties"][name]["description"]
        assert description.startswith(name) and spec.get("since", "?") in description
        if spec.get("renamed_to"):
            assert "legacy name of %s" % spec["renamed_to"] in description
        if spec.get("mdm_only"):
            assert "managed sources" in description


def test_key_schema_does_not_mutate_shared_structures():
    before = dict(STRUCTURES["inferenceModels"])
    key_schema("inferenceModels", ck.KEYS["inferenceModels"])
    assert STRUCTURES["inferenceModels"] == before
