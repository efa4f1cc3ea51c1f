"""validation.py: the schema plus the rules of reference 6.1, message contents, and no secret in any message."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleError

from ansible_collections.aiohub.claude_desktop.plugins.module_utils import config_keys as ck
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import validation
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.validation import (
    ERROR, MANAGED, Finding, SettingsValidationError, ValidationOptions, check, normalize, validate_request,
)

from tests.unit.conftest import API_KEY, CLIENT_SECRET, MCP_TOKEN, OTHER_KEY, assert_no_secret

BASE_URL = "https://api.aiohub.org"
GATEWAY = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL, "inferenceGatewayApiKey": API_KEY}
UUID = "6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5"
PASSWORD = "hunter2-Pa55w0rd-xyz"
SECRETS = (API_KEY, OTHER_KEY, CLIENT_SECRET, MCP_TOKEN, PASSWORD)


def validate(settings, user_settings=None, remove=(), state="present", users=None, **options):
    """(settings, per-user settings, warnings) or SettingsValidationError."""
    if users is None and user_settings:
        users = list(user_settings)  # the task names exactly the users it gives settings to
    return validate_request(settings, {} if user_settings is None else user_settings, ValidationOptions(**options),
                            remove=remove, state=state, users=users)


def errors(settings, user_settings=None, users=None, **options):
    """The error findings (empty when the request is valid)."""
    try:
        validate(settings, user_settings, users=users, **options)
    except SettingsValidationError as exc:
        return exc.findings
    return []


def warnings(settings, user_settings=None, **options):
    return validate(settings, user_settings, **options)[2]


def only_error(settings, user_settings=None, **options):
    found = errors(settings, user_settings, **options)
    assert len(found) == 1, [str(item) for item in found]
    return found[0]


def all_messages(settings, user_settings=None, **options):
    """Everything a user could read: the exception text and every finding, or the warnings."""
    try:
        return "\n".join(warnings(settings, user_settings, **options))
    except SettingsValidationError as exc:
        return "\n".join([str(exc)] + [str(item) for item in exc.findings])


def gateway(**changes):
    settings = dict(GATEWAY)
    settings.update(changes)
    return settings


# --- the valid baseline ---------------------------------------------------------------------------

def test_a_complete_gateway_configuration_is_valid_and_silent():
    settings, per_user, found = validate(dict(GATEWAY, inferenceModels=["claude-sonnet-4-5"],
                                              coworkEgressAllowedHosts=["docs.aiohub.org"],
                                              deploymentOrganizationUuid=UUID))
    assert settings["inferenceGatewayApiKey"] == API_KEY
    assert per_user == {} and found == []


def test_settings_validation_error_is_an_ansible_error_listing_everything():
    with pytest.raises(SettingsValidationError) as info:
        validate(gateway(autoUpdaterEnforcementHours=0, disableAutoUpdates="yes",
                         inferenceGatewayBaseUrl="http://x.org"))
    assert isinstance(info.value, AnsibleError)
    text = str(info.value)
    assert text.startswith("settings: 3 problem(s) found, nothing was changed on any host:")
    assert text.count("\n  - ") == 3
    assert len(info.value.findings) == 3 and all(item.level == ERROR for item in info.value.findings)


def test_finding_text_names_key_message_and_rule():
    assert str(Finding(ERROR, "k", "the rule", "is bad; fix it")) == "k: is bad; fix it (rule: the rule)"


@pytest.mark.parametrize("settings", [None, [], "inferenceProvider: gateway", 5])
def test_settings_must_be_a_dictionary(settings):
    found = check(settings, ValidationOptions())
    assert [(item.key, item.rule) for item in found] == [("settings", "dictionary")]


# --- schema messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, rule, needles", [
    ("disableAutoUpdates", "true", "type", ["must be a boolean", "without quotes"]),
    ("disableAutoUpdates", "False", "type", ["must be a boolean", "without quotes"]),
    ("disableAutoUpdates", 1, "type", ["must be a boolean", "documented type"]),
    ("autoUpdaterEnforcementHours", "12", "type", ["must be an integer", "without quotes"]),
    ("autoUpdaterEnforcementHours", 1.5, "type", ["integer"]),
    ("autoUpdaterEnforcementHours", 0, "range", ["at least 1", "(got 0)", "documented range"]),
    ("autoUpdaterEnforcementHours", 73, "range", ["at most 72", "(got 73)"]),
    ("inferenceTokenWindowHours", 721, "range", ["at most 720"]),
    ("inferenceCredentialHelperTimeoutSec", 601, "range", ["at most 600"]),
    ("inferenceCredentialHelperTimeoutSec", 0, "range", ["at least 1"]),
    ("inferenceModelPricingMultiplier", -0.5, "range", ["at least 0"]),
    ("otlpProtocol", "http", "allowed values", ["must be one of: http/protobuf, http/json, grpc", '(got "http")']),
    ("inferenceGatewayAuthScheme", "Bearer", "allowed values", ["bearer, x-api-key"]),
    ("deploymentOrganizationUuid", "not-a-uuid", "UUID format", ["must be a UUID", "uuidgen", "keep it stable"]),
    ("deploymentDisplayName", "x" * 61, "length", ["at most 60 characters", "(got 61)", "shorten it"]),
    ("deploymentDisplaySubtitle", "y" * 70, "length", ["at most 60 characters", "(got 70)"]),
    ("inferenceModels", [], "not empty", ["must not be empty"]),
    ("disabledBuiltinTools", ["Bash", "Bash"], "unique entries", ["same entry twice", "remove the duplicates"]),
    ("disabledBuiltinTools", ["Shell"], "allowed values", ["must be one of: Bash", '(got "Shell")']),
    ("inferenceBedrockSsoAccountId", "12345", "AWS account ID", ["12-digit AWS account ID", '"12345"']),
    ("coworkEgressAllowedHosts", ["https://docs.example.com"], "egress host format",
     ["host name or pattern", "*.example.com", "no scheme"]),
])
def test_schema_rule_messages(key, value, rule, needles):
    settings = dict(GATEWAY, inferenceModels=["claude-x"])
    settings[key] = value
    found = [item for item in errors(settings) if item.key.startswith(key) and item.rule == rule]
    assert len(found) == 1, [str(item) for item in errors(settings)]
    finding = found[0]
    assert finding.rule == rule
    for needle in needles:
        assert needle in finding.message


@pytest.mark.parametrize("key, value, path, rule, needle", [
    ("banner", {"backgroundColor": "red"}, "banner.backgroundColor", "colour format", "#RRGGBB"),
    ("banner", {"textColor": "#12345"}, "banner.textColor", "colour format", "#RRGGBB"),
    ("banner", {"text": "two\nlines"}, "banner.text", "single line", "remove the line breaks"),
    ("banner", {"text": "x" * 201}, "banner.text", "length", "at most 200"),
    ("inferenceGatewayOidc", {"issuer": "https://idp"}, "inferenceGatewayOidc", "required field", "clientId"),
    ("inferenceModels", [{"label": "x"}], "inferenceModels[0]", "model entry shape", "at least 'name'"),
    ("inferenceModels", ["claude-x", 7], "inferenceModels[1]", "model entry shape", "model ID string"),
    ("managedMcpServers", [{"url": "https://m"}], "managedMcpServers[0]", "required field", "name"),
    ("managedMcpServers", [{"name": "a", "url": "https://m", "startupTimeoutSec": 0}],
     "managedMcpServers[0].startupTimeoutSec", "range", "at least 1"),
    ("managedMcpServers", [{"name": "a", "url": "https://m", "toolPolicy": {"t": "deny"}}],
     "managedMcpServers[0].toolPolicy.t", "allowed values", "allow, ask, blocked"),
])
def test_nested_schema_messages_name_the_path(key, value, path, rule, needle):
    finding = only_error(gateway(**{key: value}))
    assert (finding.key, finding.rule) == (path, rule)
    assert needle in finding.message


@pytest.mark.parametrize("key, value, path, rule", [
    ("managedMcpServers", [{"name": "a", "url": "https://m", "oauth": {"callbackPort": 80}}],
     "managedMcpServers[0].oauth.callbackPort", "range"),
    ("allowedWorkspaceFolders", [{"path": "/a", "mode": "rwx"}], "allowedWorkspaceFolders[0].mode", "allowed values"),
    ("allowedWorkspaceFolders", [{"mode": "rw"}], "allowedWorkspaceFolders[0]", "required field"),
    ("orgPluginSettings", [{"serverName": "s", "tools": [{"toolName": "t", "permission": "deny"}]}],
     "orgPluginSettings[0].tools[0].permission", "allowed values"),
    ("otlpHeaders", {"X-Team": 5}, "otlpHeaders.X-Team", "type"),
])
def test_one_of_messages_point_at_the_nested_problem(key, value, path, rule):
    finding = only_error(gateway(**{key: value}))
    assert (finding.key, finding.rule) == (path, rule)


# --- the gateway base URL ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://api.aiohub.org", "https://api.aiohub.org:8443", "https://gw.example.com/anthropic",
    "http://127.0.0.1:4000", "http://127.0.0.1", "https://api.aiohub.org/v1beta", "https://x.org/v10",
])
def test_good_base_urls(url):
    assert errors(gateway(inferenceGatewayBaseUrl=url)) == []


def test_http_off_loopback_is_refused():
    finding = only_error(gateway(inferenceGatewayBaseUrl="http://api.aiohub.org"))
    assert finding.key == "inferenceGatewayBaseUrl" and finding.rule == "https or http on 127.0.0.1"
    assert "must use https://" in finding.message and "127.0.0.1" in finding.message


@pytest.mark.parametrize("url", ["http://localhost:4000", "http://LOCALHOST", "http://localhost/"])
def test_http_localhost_is_refused_with_a_hint(url):
    finding = only_error(gateway(inferenceGatewayBaseUrl=url))
    assert finding.rule == "https or http on 127.0.0.1"
    assert "localhost" in finding.message and "write http://127.0.0.1 instead" in finding.message


@pytest.mark.parametrize("url", ["api.aiohub.org", "ftp://api.aiohub.org", "https://", "//api.aiohub.org", "",
                                 "file:///etc/passwd"])
def test_base_url_must_be_absolute_http_s(url):
    found = errors(gateway(inferenceGatewayBaseUrl=url))
    assert found, url
    assert all(item.key in ("inferenceGatewayBaseUrl", "inferenceProvider") for item in found)
    if url:
        assert [item.rule for item in found if item.key == "inferenceGatewayBaseUrl"] == ["absolute URL"]


@pytest.mark.parametrize("url", [
    "https://api.aiohub.org/v1", "https://api.aiohub.org/v1/", "https://api.aiohub.org/v1/messages",
    "https://api.aiohub.org/v1/messages/", "https://gw.example.com/anthropic/v1",
    "https://api.aiohub.org/proxy/v1/messages?beta=true",
])
def test_v1_base_urls_are_refused_with_the_reason(url):
    finding = only_error(gateway(inferenceGatewayBaseUrl=url))
    assert finding.key == "inferenceGatewayBaseUrl" and finding.rule == "no /v1 in the base URL"
    assert "appends /v1/messages" in finding.message
    assert "allow_v1_base_url: true" in finding.message and "gateway root" in finding.message


@pytest.mark.parametrize("url", ["https://api.aiohub.org/v1", "https://api.aiohub.org/v1/messages"])
def test_allow_v1_base_url_overrides(url):
    settings, _users, found = validate(gateway(inferenceGatewayBaseUrl=url), allow_v1_base_url=True)
    assert settings["inferenceGatewayBaseUrl"] == url and found == []


def test_trailing_slash_is_removed_with_a_note():
    settings, _users, found = validate(gateway(inferenceGatewayBaseUrl="https://api.aiohub.org/gw/"))
    assert settings["inferenceGatewayBaseUrl"] == "https://api.aiohub.org/gw"
    assert found == ["inferenceGatewayBaseUrl: trailing slash removed (the app appends /v1/messages to it)"]


def test_normalize_does_not_touch_other_values():
    settings = {"inferenceGatewayBaseUrl": "https://x.org", "other": "y/"}
    assert normalize(settings) == (settings, [])


@pytest.mark.parametrize("key", ["inferenceGatewayBaseUrl", "otlpEndpoint", "bootstrapUrl"])
def test_malformed_url_is_a_finding_not_a_crash(key):
    found = errors(gateway(**{key: "https://[api.aiohub.org"}))
    assert [item.key for item in found] == [key]


@pytest.mark.parametrize("url", ["https://api.aiohub.org:99999", "https://api.aiohub.org:port"])
def test_invalid_port_is_refused(url):
    assert errors(gateway(inferenceGatewayBaseUrl=url))


# --- other URL rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(name for name, spec in ck.KEYS.items()
                                       if spec.get("format") in ("https_url", "https_origin")))
def test_https_only_keys(key):
    assert not [item for item in errors(gateway(**{key: "https://login.example.com"}))
                if item.key == key and item.rule != "all four Bedrock SSO keys"]
    finding = [item for item in errors(gateway(**{key: "http://login.example.com"}))
               if item.key == key and item.rule != "all four Bedrock SSO keys"]
    assert [item.rule for item in finding] == ["https or http on 127.0.0.1"]
    assert "must use https://" in finding[0].message


@pytest.mark.parametrize("key", ["otlpEndpoint", "egressProxyUrl", "egressProxyPacUrl"])
def test_http_is_fine_for_collectors_and_proxies(key):
    assert not [item for item in errors(gateway(**{key: "http://collector.corp:4318"})) if item.key == key]


@pytest.mark.parametrize("key", ["egressProxyUrl", "egressProxyPacUrl"])
@pytest.mark.parametrize("url", ["socks5://proxy:1080", "SOCKS://proxy"])
def test_socks_proxies_are_refused(key, url):
    finding = [item for item in errors(gateway(**{key: url})) if item.key == key]
    assert [item.rule for item in finding] == ["no SOCKS proxies"]
    assert "http(s) proxy" in finding[0].message


def test_banner_link_must_be_https():
    finding = only_error(gateway(banner={"linkUrl": "http://intranet.example.com"}))
    assert finding.key == "banner.linkUrl" and finding.rule == "https or http on 127.0.0.1"


@pytest.mark.parametrize("key, value", [
    ("inferenceGatewayBaseUrl", "https://user:%s@api.aiohub.org" % PASSWORD),
    ("inferenceGatewayBaseUrl", "https://%s@api.aiohub.org" % MCP_TOKEN),
    ("otlpEndpoint", "https://otel:%s@collector.example.com" % PASSWORD),
    ("egressProxyUrl", "http://proxy:%s@proxy.corp:3128" % PASSWORD),
    ("bootstrapUrl", "https://u:%s@boot.example.com" % PASSWORD),
    ("inferenceVertexBaseUrl", "https://:%s@vertex.example.com" % PASSWORD),
])
def test_credentials_in_urls_are_refused_without_showing_them(key, value):
    found = [item for item in errors(gateway(**{key: value})) if item.key == key]
    assert [item.rule for item in found] == ["no credentials in URLs"]
    assert "remove them" in found[0].message
    assert_no_secret(all_messages(gateway(**{key: value})), SECRETS)


def test_credentials_in_mcp_and_banner_urls_are_refused():
    settings = gateway(managedMcpServers=[{"name": "a", "url": "https://u:%s@mcp.example.com" % PASSWORD}],
                       banner={"linkUrl": "https://u:%s@intranet" % PASSWORD})
    found = errors(settings)
    assert sorted((item.key, item.rule) for item in found) == [
        ("banner.linkUrl", "no credentials in URLs"), ("managedMcpServers[0].url", "no credentials in URLs")]
    assert_no_secret(all_messages(settings), SECRETS)


def test_base_url_with_credentials_and_v1_does_not_leak_the_password():
    assert_no_secret(all_messages(gateway(inferenceGatewayBaseUrl="https://u:%s@api.aiohub.org/v1" % PASSWORD)),
                     SECRETS)


# --- MCP servers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("server, key, rule", [
    ({"name": "a"}, "managedMcpServers[0].url", "url for http/sse"),
    ({"name": "a", "transport": "sse"}, "managedMcpServers[0].url", "url for http/sse"),
    ({"name": "a", "transport": "stdio"}, "managedMcpServers[0].command", "command for stdio"),
    ({"name": "a", "url": "http://mcp.example.com"}, "managedMcpServers[0].url", "https or http on 127.0.0.1"),
])
def test_mcp_server_rules(server, key, rule):
    finding = only_error(gateway(managedMcpServers=[server]))
    assert (finding.key, finding.rule) == (key, rule)


@pytest.mark.parametrize("server", [
    {"name": "a", "url": "https://mcp.example.com"},
    {"name": "a", "transport": "stdio", "command": "/usr/bin/mcp"},
    {"name": "m365", "server": "microsoft365"},
])
def test_good_mcp_servers(server):
    assert errors(gateway(managedMcpServers=[server])) == []


# --- credentials -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(ck.SECRET_KEYS))
@pytest.mark.parametrize("value", ["", "   "])
def test_empty_credentials_are_refused(key, value):
    found = [item for item in errors({key: value}) if item.key == key]
    assert [item.rule for item in found] == ["credential not empty"]
    assert "placeholder" in found[0].message and "inferenceCredentialKind" in found[0].message


@pytest.mark.parametrize("key", sorted(ck.SECRET_KEYS))
@pytest.mark.parametrize("padding", [("", "\n"), (" ", ""), ("\t", "\r\n")])
def test_credentials_with_surrounding_whitespace_are_refused_without_the_value(key, padding):
    value = padding[0] + "sk-aiohub-padded-9f8e7d6c5b4a3210" + padding[1]
    found = [item for item in errors({key: value}) if item.key == key]
    assert [item.rule for item in found] == ["credential without surrounding whitespace"]
    assert "| trim" in found[0].message and "sk-aiohub-padded" not in found[0].message


def test_a_per_user_key_with_a_trailing_newline_is_refused_naming_the_user_not_the_key():
    found = only_error(GATEWAY, {"bob": {"inferenceGatewayApiKey": OTHER_KEY + "\n"}})
    assert found.rule == "credential without surrounding whitespace" and "bob" in str(found)
    assert_no_secret([str(found), found.message])


@pytest.mark.parametrize("key", sorted(ck.STATIC_CREDENTIAL_KEYS.values()))
@pytest.mark.parametrize("inside", ["sk-with space-inside-0123", "sk-caf\u00e9-key-0123456789"])
def test_header_keys_must_be_printable_ascii(key, inside):
    found = [item for item in errors({key: inside}) if item.key == key]
    assert [item.rule for item in found] == ["credential an HTTP header can carry"]
    assert inside not in found[0].message


@pytest.mark.parametrize("scheme", ["bearer", "x-api-key"])
def test_documented_auth_schemes(scheme):
    assert errors(gateway(inferenceGatewayAuthScheme=scheme)) == []


@pytest.mark.parametrize("scheme, needle", [("sso", "inferenceCredentialKind: interactive"), ("auto", "1.3036")])
def test_legacy_auth_schemes_are_errors_by_default(scheme, needle):
    found = errors(gateway(inferenceGatewayAuthScheme=scheme))
    rule_findings = [item for item in found if item.rule == "bearer or x-api-key"]
    assert len(rule_findings) == 1 and needle in rule_findings[0].message
    assert all(item.key == "inferenceGatewayAuthScheme" for item in found)


@pytest.mark.parametrize("scheme", ["sso", "auto"])
def test_allow_deprecated_turns_legacy_auth_schemes_into_warnings(scheme):
    _settings, _users, found = validate(gateway(inferenceGatewayAuthScheme=scheme), allow_deprecated=True)
    assert len(found) == 1 and "allow_deprecated" in found[0] and "inferenceGatewayAuthScheme" in found[0]


def test_legacy_auth_scheme_is_reported_once():
    assert len(errors(gateway(inferenceGatewayAuthScheme="sso"))) == 1


# --- per-provider required keys --------------------------------------------------------------------------

@pytest.mark.parametrize("settings", [
    GATEWAY,
    {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL, "inferenceCredentialHelper": "/usr/bin/h"},
    {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL, "inferenceCredentialKind": "interactive"},
    {"inferenceProvider": "anthropic"},
    {"inferenceProvider": "mantle"},
    {"inferenceProvider": "bedrock", "inferenceBedrockRegion": "eu-west-1", "inferenceBedrockProfile": "corp"},
    {"inferenceProvider": "bedrock", "inferenceBedrockRegion": "eu-west-1", "inferenceBedrockSsoStartUrl": "https://s",
     "inferenceBedrockSsoRegion": "eu-west-1", "inferenceBedrockSsoAccountId": "123456789012",
     "inferenceBedrockSsoRoleName": "dev"},
    {"inferenceProvider": "vertex", "inferenceVertexProjectId": "p", "inferenceVertexRegion": "europe-west1",
     "inferenceModels": ["claude-sonnet-4-5"]},
    {"inferenceProvider": "foundry", "inferenceFoundryResource": "r", "inferenceModels": ["claude-x"],
     "inferenceFoundryTenantId": "t", "inferenceFoundryClientId": "c"},
    {"inferenceProvider": "foundry", "inferenceFoundryResource": "r", "inferenceModels": ["claude-x"],
     "inferenceFoundryApiKey": API_KEY},
    {"disableAutoUpdates": True},
])
def test_complete_providers(settings):
    assert errors(settings) == []


@pytest.mark.parametrize("settings, rule, needles", [
    ({"inferenceProvider": "gateway", "inferenceGatewayApiKey": API_KEY}, "required keys for gateway",
     ["add inferenceGatewayBaseUrl", "check_required_keys: false"]),
    ({"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL}, "credential for gateway",
     ["standard mode", "inferenceGatewayApiKey or inferenceCredentialHelper or inferenceCredentialKind"]),
    ({"inferenceProvider": "bedrock", "inferenceBedrockProfile": "p"}, "required keys for bedrock",
     ["add inferenceBedrockRegion"]),
    ({"inferenceProvider": "bedrock", "inferenceBedrockRegion": "eu-west-1"}, "credential for bedrock",
     ["inferenceBedrockSsoStartUrl+inferenceBedrockSsoRegion"]),
    ({"inferenceProvider": "vertex", "inferenceVertexProjectId": "p", "inferenceVertexRegion": "r"},
     "required keys for vertex", ["add inferenceModels"]),
    ({"inferenceProvider": "foundry", "inferenceFoundryResource": "r", "inferenceModels": ["claude-x"]},
     "credential for foundry", ["inferenceFoundryTenantId+inferenceFoundryClientId"]),
    ({"inferenceProvider": "foundry", "inferenceFoundryResource": "r", "inferenceModels": ["claude-x"],
      "inferenceFoundryTenantId": "t"}, "credential for foundry", ["inferenceFoundryApiKey"]),
])
def test_incomplete_providers(settings, rule, needles):
    finding = only_error(settings)
    assert finding.key == "inferenceProvider" and finding.rule == rule
    for needle in needles:
        assert needle in finding.message


def test_check_required_keys_false_skips_completeness():
    assert errors({"inferenceProvider": "gateway"}, check_required_keys=False) == []


def test_credential_given_per_user_satisfies_the_provider():
    common = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL}
    settings, per_user, found = validate(common, {"alice": {"inferenceGatewayApiKey": API_KEY},
                                                  "bob": {"inferenceGatewayApiKey": OTHER_KEY}})
    assert settings == common and found == []
    assert per_user == {"alice": {"inferenceGatewayApiKey": API_KEY}, "bob": {"inferenceGatewayApiKey": OTHER_KEY}}


def test_a_user_without_the_credential_is_named():
    common = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL}
    found = errors(common, {"alice": {"inferenceGatewayApiKey": API_KEY}, "bob": {"coworkTabEnabled": True}})
    assert [(item.key, item.rule) for item in found] == [("user_settings.bob.inferenceProvider",
                                                          "credential for gateway")]


@pytest.mark.parametrize("users", [["all"], ["alice", "bob"]])
def test_users_without_user_settings_need_complete_common_settings(users):
    common = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL}
    found = errors(common, {"alice": {"inferenceGatewayApiKey": API_KEY}}, users=users)
    assert [(item.key, item.rule) for item in found] == [("inferenceProvider", "credential for gateway")]
    expected = "users: all, users not listed" if users == ["all"] else "users not listed in user_settings (bob)"
    assert expected in found[0].message and "check_required_keys: false" in found[0].message
    assert errors(common, {"alice": {"inferenceGatewayApiKey": API_KEY}}, users=users, check_required_keys=False) == []


def test_user_settings_are_validated_like_settings():
    found = errors(GATEWAY, {"alice": {"autoUpdaterEnforcementHours": 99}})
    assert [(item.key, item.rule) for item in found] == [("user_settings.alice.autoUpdaterEnforcementHours", "range")]


def test_a_problem_of_the_common_settings_is_reported_once():
    found = errors(gateway(autoUpdaterEnforcementHours=99), {"alice": {}, "bob": {}})
    assert [item.key for item in found] == ["autoUpdaterEnforcementHours"]


def test_user_settings_must_be_dictionaries():
    found = errors(GATEWAY, {"alice": ["inferenceGatewayApiKey"]})
    assert [(item.key, item.rule) for item in found] == [("user_settings.alice", "dictionary")]


def test_user_settings_are_normalized_too():
    _settings, per_user, found = validate(GATEWAY, {"alice": {"inferenceGatewayBaseUrl": "https://eu.aiohub.org/"}})
    assert per_user["alice"]["inferenceGatewayBaseUrl"] == "https://eu.aiohub.org"
    assert found == ["user alice: inferenceGatewayBaseUrl: trailing slash removed (the app appends /v1/messages to it)"]


def test_no_user_settings_given_as_none():
    assert validate_request(GATEWAY, None, ValidationOptions())[2] == []


# --- other reference 6.1 rules --------------------------------------------------------------------------

def test_bedrock_sso_needs_all_four_keys():
    settings = {"inferenceProvider": "bedrock", "inferenceBedrockRegion": "eu-west-1", "inferenceBedrockProfile": "p",
                "inferenceBedrockSsoStartUrl": "https://sso.example.com", "inferenceBedrockSsoRegion": "eu-west-1"}
    finding = only_error(settings)
    assert finding.rule == "all four Bedrock SSO keys"
    assert "missing inferenceBedrockSsoAccountId, inferenceBedrockSsoRoleName" in finding.message


@pytest.mark.parametrize("oidc, key, rule", [
    ({"clientId": "c", "issuer": "https://idp/.well-known/openid-configuration"}, "inferenceGatewayOidc.issuer",
     "issuer base URL"),
    ({"clientId": "c"}, "inferenceGatewayOidc", "issuer or endpoints"),
    ({"clientId": "c", "authorizationUrl": "https://idp/auth"}, "inferenceGatewayOidc", "issuer or endpoints"),
    ({"clientId": "c", "issuer": "https://idp", "bearerTokenType": "access_token"}, "inferenceGatewayOidc.scopes",
     "scopes for access_token"),
])
def test_oidc_rules(oidc, key, rule):
    finding = only_error(gateway(inferenceGatewayOidc=oidc))
    assert (finding.key, finding.rule) == (key, rule)


def test_oidc_with_endpoints_instead_of_issuer():
    oidc = {"clientId": "c", "authorizationUrl": "https://idp/auth", "tokenUrl": "https://idp/token",
            "bearerTokenType": "access_token", "scopes": "api://x/.default"}
    assert errors(gateway(inferenceGatewayOidc=oidc)) == []


@pytest.mark.parametrize("value, rule", [
    ("~/bin/helper", "absolute path, no expansion"),
    ("$HOME/bin/helper", "absolute path, no expansion"),
    ("%APPDATA%\\helper.exe", "absolute path, no expansion"),
    ("bin/helper", "absolute path"),
    ("helper.exe", "absolute path"),
])
def test_paths_must_be_absolute_without_expansion(value, rule):
    finding = only_error(gateway(inferenceCredentialHelper=value))
    assert (finding.key, finding.rule) == ("inferenceCredentialHelper", rule)


@pytest.mark.parametrize("value", ["/usr/local/bin/helper", "C:\\Program Files\\h.exe", "D:/h.exe",
                                   "\\\\srv\\share\\h"])
def test_absolute_paths(value):
    assert errors(gateway(inferenceCredentialHelper=value, otlpHeadersHelper=value)) == []


def test_models_are_required_when_discovery_is_off():
    finding = only_error(gateway(modelDiscoveryEnabled=False))
    assert (finding.key, finding.rule) == ("inferenceModels", "models when discovery is off")
    assert errors(gateway(modelDiscoveryEnabled=False, inferenceModels=["claude-x"])) == []


def test_non_claude_model_names_warn_for_gateways():
    models = ["gpt-4o", {"name": "llama"}, {"name": "mistral", "anthropicFamilyTier": "sonnet"}, "claude-sonnet-4-5",
              "anthropic.claude-v2", "my-opus"]
    found = warnings(gateway(inferenceModels=models))
    assert len(found) == 2
    assert "'gpt-4o' does not look like a Claude model" in found[0] and "anthropicFamilyTier" in found[0]
    assert "'llama'" in found[1]


def test_vertex_with_tool_search_warns():
    settings = {"inferenceProvider": "vertex", "inferenceVertexProjectId": "p", "inferenceVertexRegion": "r",
                "inferenceModels": ["claude-x"], "toolSearchEnabled": True}
    found = warnings(settings)
    assert len(found) == 1 and found[0].startswith("toolSearchEnabled:")


def test_egress_warnings():
    found = warnings(gateway(coworkEgressAllowedHosts=["*", "api.example.com:8443", "docs.example.com"]))
    assert len(found) == 2
    assert "turns egress filtering off" in found[0]
    assert "api.example.com:8443 has a :port suffix" in found[1]


@pytest.mark.parametrize("key", ["inferenceCustomHeaders", "otlpHeaders", "bootstrapHeaders"])
def test_credential_headers_warn_without_showing_values(key):
    settings = gateway(**{key: {"Authorization": "Bearer " + MCP_TOKEN, "X-Route": "eu"}})
    found = [text for text in warnings(settings) if text.startswith(key + ":") and "no credentials in headers" in text]
    assert len(found) == 1
    assert "carries Authorization" in found[0] and "redacted" in found[0]
    assert_no_secret(found, SECRETS)


# --- the catalogue: unknown, renamed, deprecated, no effect, managed-only ---------------------------------

def test_unknown_key_warns_with_a_suggestion():
    found = warnings(gateway(inferenceGatewayBaseURL="https://x.org"))
    assert found == ["inferenceGatewayBaseURL: is not a documented Claude Desktop key, so the app ignores it. Did you "
                     "mean inferenceGatewayBaseUrl? (strict: true makes this an error) (rule: known keys)"]


def test_unknown_key_without_a_close_match():
    found = warnings(gateway(zzzz=1))
    assert len(found) == 1 and "Did you mean" not in found[0] and found[0].startswith("zzzz:")


def test_unknown_key_is_an_error_under_strict():
    finding = only_error(gateway(coworkTabEnabeld=True), strict=True)
    assert finding.key == "coworkTabEnabeld" and finding.rule == "known keys"
    assert "Did you mean coworkTabEnabled?" in finding.message and "strict" not in finding.message


def test_dotted_keys_get_a_specific_hint():
    found = warnings(gateway(**{"banner.text": "hello"}))
    assert len(found) == 1 and "Dotted sub-keys are never read: give banner as one dictionary value" in found[0]


def test_unknown_names_in_remove_are_reported():
    found = validate(GATEWAY, remove=["inferenceGatewayApiKye"])[2]
    assert len(found) == 1 and "Did you mean inferenceGatewayApiKey?" in found[0]
    with pytest.raises(SettingsValidationError):
        validate(GATEWAY, remove=["inferenceGatewayApiKye"], strict=True)


def test_absent_only_checks_key_names():
    settings, _users, found = validate({"inferenceGatewayApiKey": None, "autoUpdaterEnforcementHours": "junk"},
                                       state="absent")
    assert found == [] and settings == {"inferenceGatewayApiKey": None, "autoUpdaterEnforcementHours": "junk"}
    found = validate({"notAKey": 1}, remove=["alsoNot"], state="absent")[2]
    assert [text.split(":")[0] for text in found] == ["notAKey", "alsoNot"]
    with pytest.raises(SettingsValidationError):
        validate({"notAKey": 1}, state="absent", strict=True)


@pytest.mark.parametrize("key", sorted(name for name, spec in ck.KEYS.items() if spec.get("renamed_to")))
def test_renamed_keys_warn_with_the_new_name(key):
    value = {"inferenceGatewayHeaders": {"X-Route": "eu"}}.get(key, True)
    found = [text for text in warnings({key: value}) if "old name" in text]
    assert len(found) == 1 and ck.KEYS[key]["renamed_to"] in found[0] and found[0].startswith(key + ":")


@pytest.mark.parametrize("key", sorted(name for name, spec in ck.KEYS.items() if spec.get("deprecated")))
def test_deprecated_keys_warn(key):
    spec = ck.KEYS[key]
    value = {ck.INTEGER: 5, ck.BOOLEAN: True}.get(spec["type"], "https://example.com")
    found = [text for text in warnings({key: value}) if "(rule: deprecated)" in text]
    assert found == ["%s: %s (rule: deprecated)" % (key, spec["deprecated"])]


@pytest.mark.parametrize("key", sorted(name for name, spec in ck.KEYS.items() if spec.get("no_effect")))
def test_no_effect_keys_warn(key):
    value = True if ck.KEYS[key]["type"] == ck.BOOLEAN else "x"
    found = [text for text in warnings({key: value}) if "(rule: no effect)" in text]
    assert len(found) == 1 and "remove it" in found[0]


@pytest.mark.parametrize("key", sorted(name for name, spec in ck.KEYS.items() if spec.get("mdm_only")))
def test_managed_only_keys_warn_for_local_files_only(key):
    spec = ck.KEYS[key]
    value = {ck.BOOLEAN: True, ck.OBJECT: {}}.get(spec["type"], "/usr/bin/x" if spec.get("format") == "abs_path"
                                                  else "https://boot.example.com")
    local = [text for text in warnings({key: value}) if "managed sources only" in text]
    assert len(local) == 1 and "cowork_mode: managed" in local[0]
    managed = [text for text in warnings({key: value}, target=MANAGED) if "managed sources only" in text]
    assert managed == []


def test_placeholder_organisation_uuid_warns():
    found = warnings(gateway(deploymentOrganizationUuid=ck.PLACEHOLDER_ORGANIZATION_UUID))
    assert len(found) == 1 and "placeholder" in found[0] and "generate your own UUID" in found[0]


def test_warnings_are_unique():
    found = warnings(gateway(zzzz=1), {"alice": {}, "bob": {}})
    assert len(found) == 1


def test_options_from_params():
    options = ValidationOptions.from_params({"strict": True, "allow_v1_base_url": None, "check_required_keys": False,
                                             "allow_deprecated": 1}, target=MANAGED)
    assert (options.strict, options.allow_v1_base_url, options.check_required_keys, options.allow_deprecated,
            options.target) == (True, False, False, True, MANAGED)
    assert ValidationOptions.from_params({}).check_required_keys is True


def test_missing_jsonschema_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(validation, "HAS_JSONSCHEMA", False)
    monkeypatch.setattr(validation, "JSONSCHEMA_IMPORT_ERROR", ImportError("No module named 'jsonschema'"))
    with pytest.raises(AnsibleError, match="pip install jsonschema"):
        validation._validator()


def test_every_error_names_a_key_a_rule_and_a_message():
    settings = gateway(
        inferenceGatewayBaseUrl="http://localhost/v1", autoUpdaterEnforcementHours=0, disableAutoUpdates="no",
        inferenceModels='["claude-x"]', banner={"backgroundColor": "blue"}, deploymentOrganizationUuid="x",
        inferenceCredentialHelper="~/h", managedMcpServers=[{"name": "a", "transport": "stdio"}],
        inferenceGatewayOidc={"clientId": "c"}, egressProxyUrl="socks5://p", coworkEgressAllowedHosts=["a b"],
        inferenceGatewayApiKey=" ")
    found = errors(settings)
    assert len(found) >= 12
    for item in found:
        assert item.level == ERROR
        assert item.key and item.rule and item.message
        assert len(item.message) > 15


# --- no secret in any message ---------------------------------------------------------------------------

SECRET_CASES = [
    pytest.param(gateway(inferenceGatewayApiKey=12345678901234), id="key-as-number"),
    pytest.param(gateway(inferenceGatewayApiKey=[API_KEY]), id="key-in-list"),
    pytest.param(gateway(inferenceGatewayApiKey={"value": API_KEY}), id="key-in-dict"),
    pytest.param(gateway(inferenceModels='["%s"]' % API_KEY), id="key-json-encoded-in-list-key"),
    pytest.param(gateway(inferenceFoundryApiKey=True, inferenceVertexOAuthClientSecret=[CLIENT_SECRET]),
                 id="other-credential-keys-wrong-type"),
    pytest.param(gateway(inferenceCustomHeaders={"Authorization": ["Bearer " + MCP_TOKEN]}), id="header-list-value"),
    pytest.param(gateway(inferenceCustomHeaders={"X-Api-Key": 5, "Authorization": "Bearer " + MCP_TOKEN}),
                 id="header-number"),
    pytest.param(gateway(inferenceCustomHeaders='{"Authorization": "Bearer %s"}' % MCP_TOKEN), id="headers-json"),
    pytest.param(gateway(otlpHeaders={"Authorization": {"v": MCP_TOKEN}}), id="otlp-headers-nested"),
    pytest.param(gateway(managedMcpServers=[{"name": "gh", "url": "https://m", "env": {"GH": [MCP_TOKEN]}}]),
                 id="mcp-env-list"),
    pytest.param(gateway(managedMcpServers=[{"name": "gh", "url": "https://m",
                                             "headers": {"Authorization": {"b": MCP_TOKEN}}}]), id="mcp-header-dict"),
    pytest.param(gateway(managedMcpServers=[{"name": "gh", "url": "https://m",
                                             "oauth": {"clientSecret": [CLIENT_SECRET]}}]), id="mcp-oauth-secret"),
    pytest.param(gateway(inferenceGatewayBaseUrl="https://u:%s@api.aiohub.org" % PASSWORD), id="url-password"),
    pytest.param(gateway(otlpEndpoint="grpc://u:%s@otel" % PASSWORD), id="otlp-url-password"),
    pytest.param(gateway(inferenceGatewayApiKey=""), id="empty-key"),
    pytest.param({"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL, "bootstrapOidc": {},
                  "inferenceBedrockBearerToken": ["x", OTHER_KEY]}, id="bedrock-token-list"),
]


@pytest.mark.parametrize("settings", SECRET_CASES)
def test_no_secret_in_messages(settings):
    text = all_messages(settings)
    assert text
    assert_no_secret(text, SECRETS)


@pytest.mark.parametrize("settings", SECRET_CASES)
def test_no_secret_in_messages_for_user_settings(settings):
    text = all_messages({"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL}, {"alice": settings})
    assert_no_secret(text, SECRETS)


@pytest.mark.parametrize("settings", [
    pytest.param(gateway(**{key: API_KEY}), id=key) for key in (
        "inferenceGatewayBaseUrl", "inferenceGatewayAuthScheme", "deploymentOrganizationUuid",
        "inferenceBedrockSsoAccountId", "otlpProtocol", "inferenceCredentialHelper")] + [
    pytest.param(gateway(inferenceGatewayOidc={"clientId": "c", "issuer": "https://i", "bearerTokenType": API_KEY}),
                 id="oidc-bearerTokenType"),
    pytest.param(gateway(managedMcpServers=[{"name": "a", "url": API_KEY}]), id="mcp-url"),
])
def test_a_credential_in_the_wrong_key_is_not_echoed(settings):
    assert_no_secret(all_messages(settings), SECRETS)


# --- inferenceCredentialKind: the chosen source must be complete (there is no fallback) ----------------

@pytest.mark.parametrize("kind, needed", [("static", "inferenceGatewayApiKey"),
                                          ("helper-script", "inferenceCredentialHelper")])
def test_a_credential_kind_needs_its_own_source(kind, needed):
    common = {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL, "inferenceCredentialKind": kind}
    found = errors(common)
    assert [(item.key, item.rule) for item in found] == [("inferenceCredentialKind", "credential for kind %s" % kind)]
    assert needed in found[0].message and "no fallback" in found[0].message


@pytest.mark.parametrize("kind", ["interactive", "vendor-profile"])
def test_kinds_without_a_static_source_need_nothing_more(kind):
    assert errors({"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": BASE_URL,
                   "inferenceCredentialKind": kind}) == []


def test_a_key_next_to_a_helper_is_a_warning():
    _settings, _users, warnings = validate(gateway(inferenceCredentialHelper="/usr/local/bin/aiohub-token"))
    assert any("the helper always wins" in warning for warning in warnings)
    _settings, _users, warnings = validate(gateway(inferenceCredentialHelper="/usr/local/bin/aiohub-token",
                                                   inferenceCredentialKind="static"))
    assert not any("the helper always wins" in warning for warning in warnings)
