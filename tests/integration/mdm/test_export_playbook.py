"""playbooks/export_mdm.yml: real ansible-playbook runs on the controller, never contacting the hosts.

The inventory's hosts are unreachable on purpose (link-local addresses nobody answers, a WinRM host): the
playbook must only write files on the controller. The API key variable is a lookup that fails when it is
evaluated, to prove that exporting with placeholders needs no access to the vault.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import stat
import subprocess
import sys

import pytest
import yaml

from tests.integration.mdm.conftest import API_KEY, REPO, assert_ok, recap
from tests.support import leakscan
from tests.unit.plugin_utils.test_mdm_export import parse_reg

PLAYBOOK = REPO / "playbooks" / "export_mdm.yml"
HKLM = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Claude"
HKCU = "HKEY_CURRENT_USER\\SOFTWARE\\Policies\\Claude"
ORGANIZATION = '{"cowork_export_organization": "Example Corp"}'
UNREADABLE_KEY = "{{ lookup('ansible.builtin.file', '/nonexistent/vault/aiohub-api-key') }}"


def inventory(tmp_path, api_key=UNREADABLE_KEY, mac2_vars=None):
    document = {"all": {
        "vars": {"cowork_gateway_api_key": api_key, "cowork_models": ["claude-sonnet-4-6", "claude-opus-4-7"],
                 "cowork_egress_allowed_hosts": ["docs.aiohub.org", "*.example.com"],
                 "cowork_settings": {"disableDeploymentModeChooser": True,
                                     "managedMcpServers": [{"name": "files", "url": "https://mcp.example.com",
                                                            "oauth": {"clientId": "files",
                                                                      "clientSecret": "cs-export-test-secret-1"}}]}},
        "children": {
            "macs": {"hosts": {"mac1": {"ansible_host": "169.254.79.241"},
                               "mac2": dict({"ansible_host": "169.254.79.242"}, **(mac2_vars or {}))},
                     "vars": {"cowork_export_name": "macs"}},
            "windows": {"hosts": {"win1": {"ansible_host": "169.254.79.243", "ansible_connection": "winrm",
                                           "ansible_shell_type": "powershell"}},
                        "vars": {"cowork_managed_scope": "user",
                                 "cowork_gateway_base_url": "https://gw.example.com:8443"}},
        }}}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def export(tmp_path, inventory_path, *args, env=None):
    argv = [str(__import__("pathlib").Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_path),
            str(PLAYBOOK)] + list(args)
    merged = dict(os.environ)
    merged.update(env or {})
    result = subprocess.run(argv, capture_output=True, text=True, env=merged, cwd=str(tmp_path), timeout=600,
                            check=False)
    return leakscan.record(result, "export_mdm.yml")


def digests(folder):
    return dict((path.name, hashlib.sha256(path.read_bytes()).hexdigest()) for path in sorted(folder.iterdir()))


def test_one_profile_reg_and_allowlist_per_export_name_byte_identical_on_rerun(tmp_path):
    out = tmp_path / "mdm"
    inv = inventory(tmp_path)

    first = export(tmp_path, inv, "-e", "cowork_export_dir=%s" % out, "-e", ORGANIZATION)
    assert_ok(first)
    assert sorted(path.name for path in out.iterdir()) == [
        "macs-egress-allowlist.txt", "macs.mobileconfig", "macs.reg",
        "win1-egress-allowlist.txt", "win1.mobileconfig", "win1.reg"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in out.iterdir())

    profile = plistlib.loads((out / "macs.mobileconfig").read_bytes())
    assert profile["PayloadIdentifier"] == "org.aiohub.claude-desktop.macs"
    assert (profile["PayloadScope"], profile["PayloadOrganization"]) == ("System", "Example Corp")
    payload = profile["PayloadContent"][0]
    assert payload["PayloadType"] == "com.anthropic.claudefordesktop"
    settings = dict((key, value) for key, value in payload.items() if not key.startswith("Payload"))
    expected = {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": "https://api.aiohub.org",
        "inferenceGatewayApiKey": "PLACEHOLDER",
        "inferenceGatewayAuthScheme": "bearer",
        "inferenceModels": '["claude-sonnet-4-6","claude-opus-4-7"]',
        "coworkEgressAllowedHosts": '["docs.aiohub.org","*.example.com"]',
        "disableDeploymentModeChooser": "true",
        "managedMcpServers": '[{"name":"files","url":"https://mcp.example.com","oauth":{"clientId":"files",'
                             '"clientSecret":"PLACEHOLDER"}}]',
    }
    assert settings == expected

    raw = (out / "macs.reg").read_bytes()
    assert raw[:2] == b"\xff\xfe", "UTF-16 LE with a byte-order mark, as regedit writes version 5.00 files"
    machine = parse_reg(raw.decode("utf-16"))
    assert list(machine) == [HKLM]
    assert dict((name, data) for name, (_kind, data) in machine[HKLM].items()) == settings
    assert list(machine[HKLM]) == list(expected), "registry values in the role's key order"

    user = parse_reg((out / "win1.reg").read_bytes().decode("utf-16"))
    assert list(user) == [HKCU]
    assert user[HKCU]["inferenceGatewayBaseUrl"] == ("REG_SZ", "https://gw.example.com:8443")
    assert plistlib.loads((out / "win1.mobileconfig").read_bytes())["PayloadScope"] == "User"

    assert (out / "macs-egress-allowlist.txt").read_text() == "api.aiohub.org\ndocs.aiohub.org\n*.example.com\n"
    assert (out / "win1-egress-allowlist.txt").read_text() == "gw.example.com:8443\ndocs.aiohub.org\n*.example.com\n"
    assert "cs-export-test-secret-1" not in first.stdout

    before = digests(out)
    second = export(tmp_path, inv, "-e", "cowork_export_dir=%s" % out, "-e", ORGANIZATION)
    assert_ok(second)
    assert all(recap(second.stdout, host)["changed"] == "0" for host in ("mac1", "mac2", "win1"))
    assert digests(out) == before


def test_secrets_only_when_asked_with_a_warning_and_never_in_output(tmp_path):
    out = tmp_path / "mdm"
    inv = inventory(tmp_path, api_key="{{ lookup('ansible.builtin.env', 'MDM_EXPORT_TEST_KEY') }}")

    result = export(tmp_path, inv, "-e", "cowork_export_dir=%s" % out, "-e", "cowork_export_include_secrets=true",
                    "-vvvv", env={"MDM_EXPORT_TEST_KEY": API_KEY})

    assert_ok(result)
    assert "[WARNING]: to_mobileconfig: credentials are written into the file" in result.stdout + result.stderr
    assert "anyone who can read the file, the MDM console" in result.stdout + result.stderr
    for secret in (API_KEY, "cs-export-test-secret-1"):
        assert secret not in result.stdout and secret not in result.stderr
    payload = plistlib.loads((out / "macs.mobileconfig").read_bytes())["PayloadContent"][0]
    assert payload["inferenceGatewayApiKey"] == API_KEY
    assert "cs-export-test-secret-1" in payload["managedMcpServers"]
    assert parse_reg((out / "win1.reg").read_bytes().decode("utf-16"))[HKCU]["inferenceGatewayApiKey"] == (
        "REG_SZ", API_KEY)


def test_hosts_sharing_an_export_name_must_agree(tmp_path):
    out = tmp_path / "mdm"
    inv = inventory(tmp_path, mac2_vars={"cowork_models": ["claude-haiku-4-5"]})

    result = export(tmp_path, inv, "-e", "cowork_export_dir=%s" % out)

    assert result.returncode != 0
    assert "Hosts that share a cowork_export_name must have the same settings" in result.stdout
    assert "macs (mac1, mac2)" in result.stdout
    assert not out.exists(), "nothing is written when the export is ambiguous"


@pytest.mark.parametrize("extra,message", [
    ([], "Set cowork_export_dir to the output folder on the controller"),
    (["-e", "cowork_export_dir={out}", "-e", "cowork_export_name=../etc"], "must be a plain file name"),
    (["-e", "cowork_export_dir={out}", "-e", '{{"cowork_settings": {{"inferenceGatewayOidc.clientId": "x"}}}}'],
     "dotted sub-keys"),
])
def test_bad_export_options_fail_with_a_clear_message(tmp_path, extra, message):
    out = tmp_path / "mdm"
    result = export(tmp_path, inventory(tmp_path), *[item.format(out=out) for item in extra])
    assert result.returncode != 0
    assert message in result.stdout
    assert not out.exists()
