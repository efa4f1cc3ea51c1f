# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""``.mobileconfig`` and ``.reg`` exports: structure, round trips, determinism, placeholders.

The profile is parsed back with ``plistlib`` and compared with the documented structure, exactly. The
``.reg`` text is parsed back with ``parse_reg`` below, a small independent reader of the regedit 5.00
format (quoted strings with ``\\\\``/``\\"`` escapes, ``dword:``, ``hex(n):`` with ``\\`` continuations,
``@`` for the default value), written from the format's description rather than from the exporter.
"""

from __future__ import annotations

import json
import plistlib
import re
import subprocess
import uuid

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.aiohub.claude_desktop.plugins.filter import mdm as filters
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.policy_encoding import (
    PREFERENCE_DOMAIN, PolicyEncodingError, decode_settings, encode_settings,
)
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import mdm_export

from tests.unit.conftest import API_KEY, CLIENT_SECRET, MCP_TOKEN, assert_no_secret

SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": "https://api.aiohub.org",
    "inferenceGatewayApiKey": API_KEY,
    "inferenceGatewayAuthScheme": "bearer",
    "inferenceModels": ["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}],
    "coworkEgressAllowedHosts": ["docs.aiohub.org", "*.example.com"],
    "disableDeploymentModeChooser": True,
    "autoUpdaterEnforcementHours": 24,
    "banner": {"enabled": True, "text": "Société \"Générale\" \\ test"},
    "organizationInstructions": "Line one\r\nLine two",
    "managedMcpServers": [{"name": "files", "url": "https://mcp.example.com", "env": {"FILES_TOKEN": MCP_TOKEN},
                           "oauth": {"clientId": "files-app", "clientSecret": CLIENT_SECRET}}],
}
OUTER_KEYS = {"PayloadContent", "PayloadDescription", "PayloadDisplayName", "PayloadIdentifier", "PayloadScope",
              "PayloadType", "PayloadUUID", "PayloadVersion"}
INNER_KEYS = {"PayloadDisplayName", "PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion"}
UUID_TEXT = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")


# --- a small, independent .reg reader -------------------------------------------------------------

def _unquote(text, start):
    """(string, index after the closing quote) of the quoted .reg string starting at text[start] == '"'."""
    assert text[start] == '"', text
    out, index = [], start + 1
    while text[index] != '"':
        if text[index] == "\\":
            index += 1
            assert text[index] in '\\"', "only \\\\ and \\\" are escapes in a .reg string: %r" % text
        out.append(text[index])
        index += 1
    return "".join(out), index + 1


def _hex_bytes(text):
    return bytes(int(item, 16) for item in text.split(",") if item)


def parse_reg(text):
    """{key path: {value name: (type, data)}} of a regedit 5.00 file given as text (CRLF line ends)."""
    assert "\n" not in text.replace("\r\n", ""), "every line must end in CRLF"
    lines = text.split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    logical, pending = [], None
    for line in lines[1:]:
        if pending is not None:
            line = pending + line.lstrip(" ")
            pending = None
        if line.endswith("\\") and not line.endswith('"'):
            pending = line[:-1]
            continue
        logical.append(line)
    keys, current = {}, None
    for line in logical:
        if not line:
            continue
        if line.startswith("["):
            assert line.endswith("]")
            current = keys.setdefault(line[1:-1], {})
            continue
        if line.startswith("@="):
            name, rest = "", line[2:]
        else:
            name, end = _unquote(line, 0)
            assert line[end] == "="
            rest = line[end + 1:]
        if rest.startswith('"'):
            data, end = _unquote(rest, 0)
            assert end == len(rest), "nothing may follow a quoted value: %r" % line
            current[name] = ("REG_SZ", data)
        elif rest.startswith("dword:"):
            current[name] = ("REG_DWORD", int(rest[6:], 16))
        elif rest.startswith("hex(1):"):
            raw = _hex_bytes(rest[7:])
            assert raw.endswith(b"\x00\x00")
            current[name] = ("REG_SZ", raw[:-2].decode("utf-16-le"))
        elif rest.startswith("hex(2):"):
            current[name] = ("REG_EXPAND_SZ", _hex_bytes(rest[7:])[:-2].decode("utf-16-le"))
        elif rest.startswith("hex(7):"):
            items = _hex_bytes(rest[7:]).decode("utf-16-le").split("\x00")
            current[name] = ("REG_MULTI_SZ", items[:-2])
        elif rest.startswith("hex(b):"):
            current[name] = ("REG_QWORD", int.from_bytes(_hex_bytes(rest[7:]), "little"))
        elif rest.startswith("hex:"):
            current[name] = ("REG_BINARY", _hex_bytes(rest[4:]).hex())
        else:
            raise AssertionError("unknown value form %r" % line)
    return keys


# --- .mobileconfig ---------------------------------------------------------------------------------

def test_profile_has_exactly_the_documented_structure():
    text = mdm_export.mobileconfig(SETTINGS, identifier="org.example.claude-desktop.finance",
                                   display_name="Claude Desktop (Finance)", organization="Example Corp",
                                   scope="System", include_secrets=True)
    profile = plistlib.loads(text.encode("utf-8"))

    assert set(profile) == OUTER_KEYS | {"PayloadOrganization"}
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    assert profile["PayloadIdentifier"] == "org.example.claude-desktop.finance"
    assert profile["PayloadDisplayName"] == "Claude Desktop (Finance)"
    assert profile["PayloadScope"] == "System"
    assert profile["PayloadOrganization"] == "Example Corp"
    assert profile["PayloadDescription"] == mdm_export.DEFAULT_DESCRIPTION
    assert UUID_TEXT.match(profile["PayloadUUID"])

    payload, = profile["PayloadContent"]
    assert set(payload) == INNER_KEYS | set(SETTINGS)
    assert payload["PayloadType"] == PREFERENCE_DOMAIN == "com.anthropic.claudefordesktop"
    assert payload["PayloadIdentifier"] == "org.example.claude-desktop.finance.com.anthropic.claudefordesktop"
    assert payload["PayloadVersion"] == 1
    assert payload["PayloadDisplayName"] == "Claude Desktop (Finance)"
    assert UUID_TEXT.match(payload["PayloadUUID"]) and payload["PayloadUUID"] != profile["PayloadUUID"]

    values = dict((key, value) for key, value in payload.items() if not key.startswith("Payload"))
    assert all(isinstance(value, str) for value in values.values()), "every setting must be a <string>"
    # XML normalises line ends: a CRLF inside a string arrives as LF (every XML plist reader does this).
    expected = dict(SETTINGS, organizationInstructions="Line one\nLine two")
    assert values == encode_settings(expected)
    assert decode_settings(values) == expected
    assert values["inferenceModels"] == '["claude-sonnet-4-6",{"name":"claude-opus-4-7","supports1m":true}]'
    assert values["disableDeploymentModeChooser"] == "true"
    assert values["autoUpdaterEnforcementHours"] == "24"
    assert '<string>["docs.aiohub.org","*.example.com"]</string>' in text


def test_profile_uuids_are_uuid5_of_the_identifiers():
    profile = plistlib.loads(mdm_export.mobileconfig(SETTINGS, identifier="org.example.a").encode())
    namespace = mdm_export.PROFILE_NAMESPACE
    assert profile["PayloadUUID"] == str(uuid.uuid5(namespace, "org.example.a")).upper()
    assert profile["PayloadContent"][0]["PayloadUUID"] == str(
        uuid.uuid5(namespace, "org.example.a.com.anthropic.claudefordesktop")).upper()
    other = plistlib.loads(mdm_export.mobileconfig(SETTINGS, identifier="org.example.b").encode())
    assert other["PayloadUUID"] != profile["PayloadUUID"]


def test_same_inputs_give_byte_identical_profiles_and_reg_files():
    reordered = dict(reversed(list(SETTINGS.items())))
    first = mdm_export.mobileconfig(SETTINGS, identifier="org.example.x")
    assert first == mdm_export.mobileconfig(dict(SETTINGS), identifier="org.example.x")
    assert first == mdm_export.mobileconfig(reordered, identifier="org.example.x"), "keys are sorted in a profile"
    assert mdm_export.reg(SETTINGS) == mdm_export.reg(dict(SETTINGS))
    changed = dict(SETTINGS, autoUpdaterEnforcementHours=12)
    assert mdm_export.mobileconfig(changed, identifier="org.example.x") != first


def test_profile_scope_user_and_no_organization_by_default():
    profile = plistlib.loads(mdm_export.mobileconfig({"inferenceProvider": "gateway"}, scope="user").encode())
    assert profile["PayloadScope"] == "User"
    assert set(profile) == OUTER_KEYS
    assert profile["PayloadIdentifier"] == mdm_export.DEFAULT_IDENTIFIER
    with pytest.raises(mdm_export.ExportError, match="scope must be System"):
        mdm_export.mobileconfig({}, scope="device")
    with pytest.raises(mdm_export.ExportError, match="identifier must be"):
        mdm_export.mobileconfig({}, identifier="")


def test_payload_keys_cannot_be_smuggled_in_as_settings():
    with pytest.raises(mdm_export.ExportError, match="PayloadScope: keys starting with Payload are reserved"):
        mdm_export.mobileconfig({"PayloadScope": "User"})


def test_credentials_become_placeholders_unless_included():
    profile = plistlib.loads(mdm_export.mobileconfig(SETTINGS).encode())
    payload = profile["PayloadContent"][0]
    assert payload["inferenceGatewayApiKey"] == "PLACEHOLDER"
    servers = json.loads(payload["managedMcpServers"])
    assert servers[0]["env"] == {"FILES_TOKEN": "PLACEHOLDER"}
    assert servers[0]["oauth"] == {"clientId": "files-app", "clientSecret": "PLACEHOLDER"}
    assert payload["inferenceGatewayBaseUrl"] == "https://api.aiohub.org"
    assert_no_secret(mdm_export.mobileconfig(SETTINGS))
    assert_no_secret(mdm_export.reg(SETTINGS))
    assert_no_secret(mdm_export.reg(SETTINGS, placeholder="<set in Intune>"))
    assert '"inferenceGatewayApiKey"="<set in Intune>"' in mdm_export.reg(SETTINGS, placeholder="<set in Intune>")

    included = mdm_export.mobileconfig(SETTINGS, include_secrets=True)
    assert API_KEY in included and CLIENT_SECRET in included and MCP_TOKEN in included
    assert SETTINGS["managedMcpServers"][0]["env"]["FILES_TOKEN"] == MCP_TOKEN, "the input is never modified"


def test_dotted_keys_are_refused_in_exports():
    with pytest.raises(PolicyEncodingError, match="dotted sub-keys"):
        mdm_export.mobileconfig({"inferenceGatewayOidc.clientId": "x"})
    with pytest.raises(PolicyEncodingError, match="dotted sub-keys"):
        mdm_export.reg({"inferenceGatewayOidc.clientId": "x"})


# --- .reg ----------------------------------------------------------------------------------------------

def test_reg_parses_back_to_the_same_values_in_hklm():
    text = mdm_export.reg(SETTINGS, include_secrets=True)
    keys = parse_reg(text)
    assert list(keys) == ["HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude"]
    values = keys["HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude"]
    assert list(values) == list(SETTINGS), "values directly under the key, in settings order"
    assert all(kind == "REG_SZ" for kind, _data in values.values())
    assert dict((name, data) for name, (_kind, data) in values.items()) == encode_settings(SETTINGS)
    assert decode_settings(dict((name, data) for name, (_kind, data) in values.items())) == SETTINGS


def test_reg_layout_escapes_and_line_ends():
    text = mdm_export.reg(SETTINGS)
    assert text.startswith("Windows Registry Editor Version 5.00\r\n\r\n"
                           "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude]\r\n"
                           '"inferenceProvider"="gateway"\r\n')
    assert text.endswith("\r\n\r\n")
    assert '"inferenceModels"="[\\"claude-sonnet-4-6\\",{\\"name\\":\\"claude-opus-4-7\\",\\"supports1m\\":true}]"' \
        in text.split("\r\n")
    assert '"banner"="{\\"enabled\\":true,\\"text\\":\\"Société \\\\\\"Générale\\\\\\" \\\\\\\\ test\\"}"' \
        in text.split("\r\n")
    assert '"disableDeploymentModeChooser"="true"' in text.split("\r\n")
    assert "hex(7)" not in text and "dword:" not in text


def test_a_string_with_line_breaks_is_written_as_hex1_like_regedit():
    text = mdm_export.reg({"organizationInstructions": "Line one\r\nLine two"})
    line = [item for item in text.split("\r\n") if item.startswith('"organizationInstructions"')][0]
    assert line.startswith('"organizationInstructions"=hex(1):4c,00,69,00')
    physical = text.split("\r\n")
    assert all(len(item) <= 80 for item in physical), "regedit wraps hex data at 80 columns"
    continued = [item for item in physical if item.endswith("\\")]
    assert continued and all(item.endswith(",\\") for item in continued)
    assert parse_reg(text)["HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude"]["organizationInstructions"] == (
        "REG_SZ", "Line one\r\nLine two")


def test_reg_for_hkcu_and_bad_hives():
    text = mdm_export.reg({"inferenceProvider": "gateway"}, hive="HKCU")
    assert "[HKEY_CURRENT_USER\\SOFTWARE\\Policies\\Claude]" in text
    with pytest.raises(mdm_export.ExportError, match="hive must be HKLM"):
        mdm_export.reg({}, hive="HKU")


def test_reg_bytes_are_what_regedit_writes():
    data = mdm_export.reg_bytes(mdm_export.reg(SETTINGS))
    assert data[:2] == b"\xff\xfe", "UTF-16 little-endian byte-order mark"
    assert data[2:4] == b"W\x00"
    text = data.decode("utf-16")  # the BOM selects the byte order and is dropped
    assert text == mdm_export.reg(SETTINGS)
    assert parse_reg(text)["HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude"]["banner"][1].startswith('{"enabled"')


def test_reg_value_lines_of_every_type_parse_back():
    entries = [("", "REG_SZ", "default"), ("dw", "REG_DWORD", 4294967295), ("qw", "REG_QWORD", 2 ** 40),
               ("ex", "REG_EXPAND_SZ", "%APPDATA%\\Claude"), ("ms", "REG_MULTI_SZ", ["a", "b"]),
               ("bin", "REG_BINARY", "00ff10"), ('we"ird\\name', "REG_SZ", "x")]
    text = mdm_export.reg_text("HKEY_USERS\\S-1-5-21-1-2-3-1001\\SOFTWARE\\Policies\\Claude", entries)
    parsed = parse_reg(text)["HKEY_USERS\\S-1-5-21-1-2-3-1001\\SOFTWARE\\Policies\\Claude"]
    assert parsed == dict((name, (kind, data)) for name, kind, data in entries)
    assert '@="default"' in text.split("\r\n")
    assert '"dw"=dword:ffffffff' in text.split("\r\n")


# --- the filters ------------------------------------------------------------------------------------

def test_filters_validate_and_prefix_their_errors():
    with pytest.raises(AnsibleFilterError, match=r"^to_reg: settings: 1 problem"):
        filters.to_reg({"disableAutoUpdates": "yes"})
    with pytest.raises(AnsibleFilterError, match="to_mobileconfig: expects a dictionary"):
        filters.to_mobileconfig(["inferenceProvider"])
    with pytest.raises(AnsibleFilterError, match="to_reg: encoding must be 'text'"):
        filters.to_reg({}, encoding="utf-8")
    with pytest.raises(AnsibleFilterError, match="to_mobileconfig: .*dotted sub-keys"):
        filters.to_mobileconfig({"inferenceGatewayOidc.clientId": "x"}, validate=False)


def test_filters_return_text_or_regedit_bytes():
    text = filters.to_reg(SETTINGS)
    assert isinstance(text, str) and not text.startswith("\ufeff")
    data = filters.to_reg(SETTINGS, encoding="utf-16")
    assert isinstance(data, bytes) and data.decode("utf-16") == text
    assert plistlib.loads(filters.to_mobileconfig(SETTINGS, identifier="org.example.y").encode())[
        "PayloadIdentifier"] == "org.example.y"


def test_including_secrets_warns(monkeypatch):
    warnings = []
    monkeypatch.setattr(filters.display, "warning", warnings.append)
    filters.to_mobileconfig(SETTINGS)
    assert not [text for text in warnings if "credentials are written" in text]
    filters.to_mobileconfig(SETTINGS, include_secrets=True)
    assert any("to_mobileconfig: credentials are written into the file" in text for text in warnings)


def test_filters_render_with_ansible_doc():
    for name in ("to_mobileconfig", "to_reg"):
        result = subprocess.run(["ansible-doc", "-t", "filter", "--json", "aiohub.claude_desktop.%s" % name],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)["aiohub.claude_desktop.%s" % name]["doc"]
        assert doc["name"] == name and "_input" in doc["options"] and doc["version_added"] == "1.0.0"
