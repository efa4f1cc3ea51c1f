"""Verify the default scenario: both users' files hold the settings, keep their other keys, are 0600 and theirs."""

import json

import pytest

USERS = ("cowork_demo_a", "cowork_demo_b")
HOME_BASE = "/tmp/aiohub-molecule"
API_KEY = "sk-aiohub-molecule-0000000000000000"


def config_path(user):
    return "%s/%s/.config/Claude-3p/claude_desktop_config.json" % (HOME_BASE, user)


@pytest.mark.parametrize("user", USERS)
def test_file_is_owner_only_and_owned_by_the_user(host, user):
    config = host.file(config_path(user))
    assert config.is_file
    assert config.user == user
    assert config.group == user
    assert config.mode == 0o600
    assert host.file(config_path(user).rsplit("/", 1)[0]).user == user


@pytest.mark.parametrize("user", USERS)
def test_enterprise_config_holds_the_gateway_settings(host, user):
    document = json.loads(host.file(config_path(user)).content_string)
    enterprise = document["enterpriseConfig"]
    assert enterprise["inferenceProvider"] == "gateway"
    assert enterprise["inferenceGatewayBaseUrl"] == "https://api.aiohub.org"
    assert enterprise["inferenceGatewayApiKey"] == API_KEY
    assert enterprise["coworkEgressAllowedHosts"] == ["docs.aiohub.org", "*.example.com"]


def test_other_keys_are_kept_in_place(host):
    text = host.file(config_path(USERS[0])).content_string
    document = json.loads(text)
    assert list(document) == ["mcpServers", "preferences", "enterpriseConfig"]
    assert document["mcpServers"] == {"files": {"command": "/usr/local/bin/mcp-files", "args": ["--root", "/srv"]}}
    assert document["preferences"] == {"theme": "dark"}
    assert list(document["enterpriseConfig"])[0] == "disableAutoUpdates"
    assert document["enterpriseConfig"]["disableAutoUpdates"] is True


@pytest.mark.parametrize("user", USERS)
def test_file_is_canonical_json(host, user):
    raw = host.file(config_path(user)).content
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"}\n")
    assert raw.decode("utf-8") == json.dumps(json.loads(raw), indent=2, ensure_ascii=False) + "\n"
