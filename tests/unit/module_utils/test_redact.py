"""redact.py: fingerprints, which names and values are secrets, documents and free text."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.config_keys import SECRET_KEYS
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import (
    DEFAULT_SALT, HEADER_KEYS, Redactor, fingerprint, is_marker, is_secret_name, marker, secret_values_in,
)

from tests.unit.conftest import API_KEY, CLIENT_SECRET, MCP_TOKEN, OTHER_KEY, assert_no_secret

MARKER = re.compile(r"^<redacted:[0-9a-f]{8}>$")


# --- fingerprints ---------------------------------------------------------------------------------

def test_fingerprint_is_the_first_8_hex_of_hmac_sha256():
    expected = hmac.new(DEFAULT_SALT.encode(), API_KEY.encode(), hashlib.sha256).hexdigest()[:8]
    assert fingerprint(API_KEY) == expected
    assert marker(API_KEY) == "<redacted:%s>" % expected
    assert MARKER.match(marker(API_KEY))


def test_fingerprint_is_stable_and_distinguishes_values():
    assert fingerprint(API_KEY) == fingerprint(API_KEY)
    assert fingerprint(API_KEY) != fingerprint(OTHER_KEY)


def test_salt_changes_the_fingerprint():
    assert fingerprint(API_KEY, "fleet-salt") != fingerprint(API_KEY)
    assert Redactor(salt="fleet-salt").value(API_KEY) == marker(API_KEY, "fleet-salt")


def test_empty_secret_fingerprint():
    assert marker("") == "<redacted:empty>"


def test_non_string_values_are_fingerprinted_too():
    assert MARKER.match(marker(12345))
    assert marker(12345) != marker("12346")


def test_is_marker():
    assert is_marker(marker("x"))
    assert not is_marker("<redacted:abc")
    assert not is_marker(None)


# --- which names are credentials -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SECRET_KEYS) + [
    "clientSecret", "client_secret", "Authorization", "authorization", "Proxy-Authorization", "X-Api-Key",
    "x-api-key", "apiKey", "api_key", "APIKEY", "password", "passwd", "dbPassword", "token", "accessToken",
    "refresh_token", "X-Auth-Token", "auth", "Cookie", "privateKey", "private_key", "aws_secret_access_key",
    "accessKey", "bearer", "signature", "credentials",
])
def test_credential_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "tokenUrl", "token_uri", "bearerTokenType", "inferenceCredentialHelper", "inferenceCredentialHelperTtlSec",
    "inferenceCredentialHelperTimeoutSec", "inferenceCredentialKind", "inferenceMaxTokensPerWindow",
    "inferenceTokenWindowHours", "inferenceGatewayAuthScheme", "credentialHelper", "credentialKind",
    "clientSecretHelper", "headersHelper", "inferenceSessionLifetimeSec", "clientId", "tenantId", "name", "url",
    "inferenceProvider", "inferenceGatewayBaseUrl", "otlpAuthMode", "authFlow", "passwordFile", "apiKeyPath",
    "inferenceCredentialHelperSilentRefreshEnabled", "authorizationUrl", "inferenceFoundryAuthFlow",
])
def test_metadata_names_are_not_credentials(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", [None, 1, ("token",)])
def test_non_string_names_are_not_credentials(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["sessionId", "session_id", "X-Session-Id"])
def test_session_ids_are_credentials(name):
    assert is_secret_name(name)


# --- documents --------------------------------------------------------------------------------------

def test_catalogue_credential_keys_at_any_depth(redactor):
    document = {"enterpriseConfig": dict((key, "value-of-%s" % key) for key in SECRET_KEYS)}
    redacted = Redactor().document(document)
    for key in SECRET_KEYS:
        assert redacted["enterpriseConfig"][key] == marker("value-of-%s" % key)


def test_nested_credential_names_are_hidden_metadata_kept():
    document = {
        "managedMcpServers": [{
            "name": "github", "url": "https://mcp.example.com/", "headersHelperTtlSec": 60,
            "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k-123", "X-Route": "eu"},
            "oauth": {"clientId": "cid", "clientSecret": "shh", "tokenUrl": "https://idp/token",
                      "clientSecretHelper": "/usr/local/bin/secret"},
        }],
        "inferenceGatewayOidc": {"clientId": "cid", "tokenUrl": "https://idp/token", "bearerTokenType": "id_token"},
        "inferenceCredentialHelper": "/usr/local/bin/helper",
        "inferenceMaxTokensPerWindow": 100000,
    }
    redacted = Redactor().document(document)
    server = redacted["managedMcpServers"][0]
    # Every value of a headers map is hidden: gateways use header names no pattern knows (Ocp-Apim-Subscription-Key).
    assert server["headers"] == {"Authorization": marker("Bearer abc"), "X-Api-Key": marker("k-123"),
                                 "X-Route": marker("eu")}
    assert server["oauth"] == {"clientId": "cid", "clientSecret": marker("shh"), "tokenUrl": "https://idp/token",
                               "clientSecretHelper": "/usr/local/bin/secret"}
    assert (server["name"], server["url"], server["headersHelperTtlSec"]) == ("github", "https://mcp.example.com/", 60)
    assert redacted["inferenceGatewayOidc"] == document["inferenceGatewayOidc"]
    assert redacted["inferenceCredentialHelper"] == "/usr/local/bin/helper"
    assert redacted["inferenceMaxTokensPerWindow"] == 100000


def test_every_env_value_of_an_mcp_server_is_hidden():
    document = {"managedMcpServers": [{"name": "x", "command": "/bin/x", "env": {
        "GITHUB_PERSONAL_ACCESS": MCP_TOKEN, "DEBUG": "1", "REGION": "eu-west-1", "N": 5}}]}
    env = Redactor().document(document)["managedMcpServers"][0]["env"]
    assert env == {"GITHUB_PERSONAL_ACCESS": marker(MCP_TOKEN), "DEBUG": marker("1"), "REGION": marker("eu-west-1"),
                   "N": marker(5)}


def test_credential_key_holding_a_structure_is_hidden_entirely():
    redacted = Redactor().document({"inferenceGatewayApiKey": {"a": ["x", {"b": "y"}], "n": 3}})
    assert redacted == {"inferenceGatewayApiKey": {"a": [marker("x"), {"b": marker("y")}], "n": marker(3)}}


def test_null_and_boolean_credentials_are_shown_as_is():
    document = {"inferenceGatewayApiKey": None, "clientSecret": True, "password": False}
    assert Redactor().document(document) == document


@pytest.mark.parametrize("key", sorted(HEADER_KEYS))
def test_header_keys_in_string_form_are_hidden_whole(key):
    value = "Authorization=Bearer %s,X-Route=eu" % MCP_TOKEN
    assert Redactor().document({key: value}) == {key: marker(value)}
    assert Redactor().document({key: "  "}) == {key: "  "}


def test_header_list_items_with_credential_names_are_hidden():
    document = {"inferenceGatewayHeaders": ["Authorization: Bearer " + MCP_TOKEN, "X-Route: eu"]}
    redacted = Redactor().document(document)
    assert redacted["inferenceGatewayHeaders"][0] == "Authorization: " + marker("Authorization: Bearer " + MCP_TOKEN)
    assert redacted["inferenceGatewayHeaders"][1] == "X-Route: eu"


def test_declared_secret_values_are_hidden_anywhere(redactor):
    document = {"a": API_KEY, "b": ["x", OTHER_KEY], "c": {"note": "key is %s here" % CLIENT_SECRET},
                "unrelated": "plain", "n": 1, "t": True, "z": None}
    redacted = redactor.document(document)
    assert redacted["a"] == marker(API_KEY)
    assert redacted["b"] == ["x", marker(OTHER_KEY)]
    assert redacted["c"]["note"] == "key is %s here" % marker(CLIENT_SECRET)
    assert (redacted["unrelated"], redacted["n"], redacted["t"], redacted["z"]) == ("plain", 1, True, None)
    assert_no_secret(redacted)


def test_anthropic_style_keys_are_hidden_without_being_declared():
    key = "sk-ant-api03-" + "A1b2C3d4E5f6G7h8"
    redacted = Redactor().document({"note": "use %s please" % key, "list": [key]})
    assert redacted == {"note": "use %s please" % marker(key), "list": [marker(key)]}


def test_short_sk_strings_are_not_keys():
    assert Redactor().document({"model": "sk-short", "slug": "task-sk-1"}) == {"model": "sk-short", "slug": "task-sk-1"}


def test_url_passwords_are_hidden_url_kept():
    redacted = Redactor().document({"egressProxyUrl": "http://proxy:hunter2@proxy.corp:3128/",
                                    "inferenceGatewayBaseUrl": "https://api.aiohub.org"})
    assert redacted["egressProxyUrl"] == "http://%s@proxy.corp:3128/" % marker("proxy:hunter2")
    assert redacted["inferenceGatewayBaseUrl"] == "https://api.aiohub.org"


def test_markers_are_not_redacted_twice():
    already = marker(API_KEY)
    assert Redactor([API_KEY]).document({"a": already}) == {"a": already}


def test_document_returns_a_copy(redactor):
    document = {"inferenceGatewayApiKey": API_KEY, "l": [{"password": "p"}]}
    redactor.document(document)
    assert document == {"inferenceGatewayApiKey": API_KEY, "l": [{"password": "p"}]}


def test_non_container_documents():
    assert Redactor([API_KEY]).document(API_KEY) == marker(API_KEY)
    assert Redactor().document(7) == 7
    assert Redactor().document(None) is None


def test_numeric_secret_in_credential_name_is_shown():
    """Documented behaviour: only string values under credential names are hidden (catalogue keys: any value)."""
    assert Redactor().document({"password": 1234}) == {"password": 1234}


def test_marker_shaped_text_cannot_smuggle_a_secret(redactor):
    document = {"note": "<redacted:%s>" % API_KEY}
    assert_no_secret(redactor.document(document))


def test_secret_used_as_a_key_is_hidden(redactor):
    document = {"inferenceCustomHeaders": {API_KEY: "x"}, "note": {"see " + OTHER_KEY: 1}}
    assert_no_secret(redactor.document(document))


def test_header_list_item_name_is_scrubbed(redactor):
    document = {"inferenceGatewayHeaders": ["%s-Token: x" % API_KEY]}
    assert_no_secret(redactor.document(document))


# --- free text --------------------------------------------------------------------------------------

def test_text_replaces_declared_secrets_keys_and_url_passwords(redactor):
    text = ("failed with %s and %s; proxy https://bob:pa55@proxy.example.com; key sk-ant-api03-zzzzzzzzzzzzzzzzzz"
            % (API_KEY, CLIENT_SECRET))
    scrubbed = redactor.text(text)
    assert_no_secret(scrubbed)
    assert "pa55" not in scrubbed and "zzzzzzzzzzzzzzzzzz" not in scrubbed
    assert marker(API_KEY) in scrubbed and marker(CLIENT_SECRET) in scrubbed
    assert "https://%s@proxy.example.com" % marker("bob:pa55") in scrubbed


def test_text_longest_secret_first():
    short, long_ = "abcd1234", "abcd1234-and-more"
    scrubbed = Redactor([short, long_]).text("x %s y" % long_)
    assert scrubbed == "x %s y" % marker(long_)


def test_text_leaves_other_values_and_types_alone():
    assert Redactor([API_KEY]).text("nothing secret here: https://api.aiohub.org/path") == \
        "nothing secret here: https://api.aiohub.org/path"
    assert Redactor([API_KEY]).text(None) is None
    assert Redactor([API_KEY]).text(5) == 5


def test_empty_and_non_string_declared_values_are_ignored():
    redactor = Redactor(["", None, 5, API_KEY, API_KEY])
    assert redactor.secret_values == [API_KEY]
    assert redactor.text("a b") == "a b"


def test_url_password_with_at_sign_is_hidden_whole():
    scrubbed = Redactor().text("https://user:p@ssw0rd@proxy.example.com/")
    assert "ssw0rd" not in scrubbed


# --- secret_values_in ---------------------------------------------------------------------------------

def test_secret_values_in_finds_what_document_hides():
    document = {"inferenceGatewayApiKey": API_KEY, "x": {"clientSecret": CLIENT_SECRET, "tokenUrl": "https://t"},
                "managedMcpServers": [{"env": {"ANY": MCP_TOKEN}}], "inferenceBedrockBearerToken": {"n": [OTHER_KEY]},
                "empty": {"password": ""}}
    assert sorted(secret_values_in(document)) == sorted([API_KEY, CLIENT_SECRET, MCP_TOKEN, OTHER_KEY])


def test_secret_values_in_covers_header_forms():
    document = {"otlpHeaders": "Authorization=Bearer " + MCP_TOKEN,
                "inferenceGatewayHeaders": ["Authorization: Bearer " + API_KEY]}
    found = " ".join(secret_values_in(document))
    assert MCP_TOKEN in found and API_KEY in found


def test_redacted_document_is_still_json():
    redacted = Redactor([API_KEY]).document({"a": API_KEY, "b": [1, 2.5, None]})
    assert json.loads(json.dumps(redacted)) == redacted
