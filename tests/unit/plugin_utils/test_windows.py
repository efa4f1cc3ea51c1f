# -*- coding: utf-8 -*-
# Copyright (c) 2026, aiohub.claude_desktop contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Windows hosts: the real ``enterprise_config`` action plugin against a faithful fake of the host.

Every test runs ``ActionModule.run`` (argument and settings validation, the Windows dispatch, the final
scrub) with only ``_execute_module``'s wire replaced (``windows_fake.py``): the real
``_update_module_args`` runs, and the fake answers like ``ansible.windows.slurp`` and
``ansible.windows.win_powershell`` do, emulating the collection's two PowerShell scripts on a model.
"""

from __future__ import annotations

import base64
import json
import re

import hashlib

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.plan import Write, entry_id_for
from ansible_collections.aiohub.claude_desktop.plugins.module_utils.redact import Redactor
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils import windows_scripts as scripts
from ansible_collections.aiohub.claude_desktop.plugins.plugin_utils.windows import (
    Profile, WindowsRunner, WindowsTaskError, forced_no_log, parse_discovery,
)

from .windows_fake import INHERITED, FakeWindowsHost, make_action, owner_only, run_task

API_KEY = "sk-aiohub-windows-test-0123456789abcdefXYZ"
OLD_KEY = "sk-aiohub-old-key-9876543210fedcbaQRS"
SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": "https://api.aiohub.org",
    "inferenceGatewayApiKey": API_KEY,
    "coworkEgressAllowedHosts": ["docs.aiohub.org"],
}
ALICE_CONFIG = "C:\\Users\\alice\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json"
BOB_CONFIG = "C:\\Users\\bob\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json"
ALICE_LIBRARY = "C:\\Users\\alice\\AppData\\Local\\Claude-3p\\configLibrary"
MSIX = "Claude_pzs8sxrjxfjjc"
STORE = "AnthropicPBC.Claude_fnn82j28hfe8t"
BOB_MSIX_CONFIG = ("C:\\Users\\bob\\AppData\\Local\\Packages\\%s\\LocalCache\\Roaming\\Claude-3p\\"
                   "claude_desktop_config.json" % MSIX)
CAROL_CONFIG = "C:\\Users\\carol\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json"
ALICE_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
ENTRY = entry_id_for("Managed by Ansible")


def task(**extra):
    args = {"users": ["all"], "settings": dict(SETTINGS)}
    args.update(extra)
    return args


def as_json(data):
    return json.loads(data.decode("utf-8"))


def document_bytes(document):
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


@pytest.fixture
def host():
    fake = FakeWindowsHost()
    fake.add_profile("alice", rid=1001)
    fake.add_profile("bob", rid=1002)
    return fake


def calls_of(action, kind):
    return [call for call in action.calls if getattr(call, "is_" + kind)]


def by_path(result):
    return dict((item["path"], item) for item in result["results"])


# --- secrets: every form a key could leak in -------------------------------------------------------

def secret_forms(secret):
    """The secret, and the part of its base64 encoding that depends on it alone, at each of the 3 alignments."""
    raw = secret.encode("utf-8")
    return [secret] + [base64.b64encode(b"\0" * shift + raw).decode("ascii")[4:-4] for shift in range(3)]


def assert_no_secret(action, result, host, secrets=(API_KEY,)):
    exposed = {
        "returned result": json.dumps(result),
        "event log": json.dumps(host.event_log),
        "arguments echoed back": json.dumps([reply.get("invocation") for reply in action.replies]),
    }
    for index, call in enumerate(action.calls):
        exposed["visible arguments of call %d (%s)" % (index, call.module_name)] = json.dumps(call.visible_args())
    for secret in secrets:
        for form in secret_forms(secret):
            for where, text in exposed.items():
                assert form not in text, "a form of a secret leaked into the %s" % where


# --- discovery and users ---------------------------------------------------------------------------

def test_one_discovery_call_with_exact_arguments(host):
    result, action = run_task(host, task(layout="both"))
    discovery = action.calls[0]
    assert discovery.is_discovery
    assert [call for call in action.calls if call.is_discovery] == [discovery]
    assert discovery.module_args["parameters"] == {"Directories": [
        "AppData\\Roaming\\Claude-3p",
        "AppData\\Local\\Packages\\%s" % MSIX,
        "AppData\\Local\\Packages\\%s\\LocalCache\\Roaming\\Claude-3p" % MSIX,
        "AppData\\Local\\Packages\\%s" % STORE,
        "AppData\\Local\\Packages\\%s\\LocalCache\\Roaming\\Claude-3p" % STORE,
        "AppData\\Local\\Claude-3p\\configLibrary",
    ]}
    assert discovery.module_args["error_action"] == "stop"
    assert discovery.module_args["_ansible_no_log"] is False  # names only: nothing to hide
    assert set(discovery.module_args) - {key for key in discovery.module_args if key.startswith("_ansible_")} == {
        "script", "parameters", "error_action"}
    assert not result.get("failed"), result.get("msg")


def test_system_service_default_and_public_profiles_are_skipped(host):
    host.profile_list.append({"sid": "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
                              "path": "C:\\Windows\\ServiceProfiles\\MSSQLSERVER", "account": None})
    host.add_dir("C:\\Users\\Public")
    host.profile_list.append({"sid": "S-1-5-21-1111111111-2222222222-3333333333-1500", "path": "C:\\Users\\Public",
                              "account": None})
    host.add_dir("C:\\Users\\Default")
    host.profile_list.append({"sid": "S-1-5-21-1111111111-2222222222-3333333333-1501", "path": "C:\\Users\\Default",
                              "account": None})
    host.profile_list.append({"sid": "S-1-5-21-1111111111-2222222222-3333333333-1001.bak",
                              "path": "C:\\Users\\alice", "account": None})
    host.profile_list.append({"sid": "S-1-5-21-1111111111-2222222222-3333333333-1600",
                              "path": "C:\\Users\\gone", "account": "WIN1\\gone"})  # profile folder deleted
    result, _action = run_task(host, task())
    assert [item["user"] for item in result["results"]] == ["alice", "bob"]
    assert [item["home"] for item in result["results"]] == ["C:\\Users\\alice", "C:\\Users\\bob"]
    assert not host.read("C:\\Users\\Public\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json")
    assert not any("systemprofile" in path or "ServiceProfiles" in path for path in host.files())


def test_entra_id_accounts_are_real_users(host):
    # Entra-joined (Azure AD) accounts have S-1-12-1-... SIDs: the normal case on Intune fleets.
    host.add_profile("erin", domain="AzureAD", sid="S-1-12-1-3141592653-1234567890-2718281828-1618033988")
    result, _action = run_task(host, task())
    assert [item["user"] for item in result["results"]] == ["alice", "bob", "erin"]
    assert host.read("C:\\Users\\erin\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json")


def test_named_users_resolved_from_the_same_discovery(host):
    host.add_profile("carol", rid=1003, domain="CORP")
    result, action = run_task(host, task(users=["ALICE", "CORP\\carol"]))
    assert [item["user"] for item in result["results"]] == ["alice", "carol"]
    assert len(calls_of(action, "discovery")) == 1
    assert host.read(ALICE_CONFIG) and host.read(CAROL_CONFIG)
    assert not host.read(BOB_CONFIG)


def test_unknown_user_is_an_error_for_that_name_only(host):
    result, action = run_task(host, task(users=["alice", "mallory"]))
    mallory = [item for item in result["results"] if item["user"] == "mallory"]
    assert len(mallory) == 1 and mallory[0]["status"] == "error" and mallory[0]["path"] is None
    assert "win1" in mallory[0]["error"] and "mallory" in mallory[0]["error"] and "alice, bob" in mallory[0]["error"]
    assert result["failed"] is True
    assert result["msg"].startswith(
        "1 of 2 user location(s) failed: host win1, user mallory: no user profile for 'mallory'")
    assert host.read(ALICE_CONFIG) is not None
    assert result["summary"] == {"in_sync": 0, "drifted": 0, "missing": 1, "error": 1}


def test_two_accounts_with_one_short_name(host):
    host.add_profile("alice", rid=2001, domain="CORP", path="C:\\Users\\alice.CORP")
    result, _action = run_task(host, task())
    assert [item["user"] for item in result["results"]] == ["WIN1\\alice", "bob", "CORP\\alice"]
    result, _action = run_task(host, task(users=["alice"]))
    assert "matches 2 profiles (WIN1\\alice, CORP\\alice)" in result["results"][0]["error"]


def test_profile_without_resolvable_account_uses_its_folder_name(host):
    host.add_profile("olduser", rid=1700, resolvable=False)
    result, _action = run_task(host, task(users=["olduser"]))
    assert result["results"][0]["user"] == "olduser"
    assert result["results"][0]["status"] == "missing"


def test_a_profile_that_cannot_be_inspected_is_an_error_for_that_user_only(host):
    host.profile_errors[ALICE_SID] = "Access to the path 'C:\\Users\\alice\\AppData' is denied."
    result, action = run_task(host, task())
    alice, bob = result["results"]
    assert alice["error"] == ("host win1, user alice: cannot inspect the profile C:\\Users\\alice: Access to the "
                              "path 'C:\\Users\\alice\\AppData' is denied.")
    assert bob["files_written"] == [BOB_CONFIG]
    assert [call.module_args["parameters"]["Path"] for call in calls_of(action, "write")] == [BOB_CONFIG]


def test_not_an_administrator_manages_only_its_own_profile(host):
    host.is_admin = False
    host.current_sid = "S-1-5-21-1111111111-2222222222-3333333333-1002"
    result, _action = run_task(host, task())
    assert [item["user"] for item in result["results"]] == ["bob"]
    result, action = run_task(host, task(users=["alice"]))
    assert "without administrator rights" in result["results"][0]["error"]
    assert not [call for call in action.calls if call.is_write]


# --- config_file: reads, writes, ACLs --------------------------------------------------------------

def test_missing_file_is_created_owner_only_with_the_engines_bytes(host):
    result, action = run_task(host, task(users=["alice"]))
    assert result["changed"] is True and result["results"][0]["status"] == "missing"
    writes = calls_of(action, "write")
    assert len(writes) == 1 and not calls_of(action, "read")
    args = writes[0].module_args
    assert args["parameters"] == {
        "Path": ALICE_CONFIG, "ProfilePath": "C:\\Users\\alice",
        "UserSid": ALICE_SID, "Operation": "write", "ExpectedSha256": ""}
    assert [item["name"] for item in args["sensitive_parameters"]] == ["Content"]
    assert args["_ansible_no_log"] is True and args["_ansible_check_mode"] is False
    written = host.read(ALICE_CONFIG)
    assert base64.b64decode(args["sensitive_parameters"][0]["value"]) == written
    assert not written.startswith(b"\xef\xbb\xbf") and written.endswith(b"}\n")
    assert as_json(written) == {"enterpriseConfig": SETTINGS}
    sid = ALICE_SID
    assert host.acl(ALICE_CONFIG) == owner_only(sid)
    assert host.acl("C:\\Users\\alice\\AppData\\Roaming\\Claude-3p") == owner_only(sid)
    temp_prefix = "C:\\Users\\alice\\AppData\\Roaming\\Claude-3p\\.claude_desktop_config.json."
    assert host.temp_files and all(path.startswith(temp_prefix) for path in host.temp_files)
    assert result["results"][0]["files_written"] == [ALICE_CONFIG]
    assert any("owner-only ACL (alice, SYSTEM, Administrators)" in note for note in result["results"][0]["notes"])


def test_existing_file_keeps_its_acl_and_other_keys(host):
    before = document_bytes({"mcpServers": {"files": {"command": "mcp-files"}},
                             "enterpriseConfig": {"disableAutoUpdates": True}})
    host.add_file(ALICE_CONFIG, before)
    result, action = run_task(host, task(users=["alice"]))
    item = result["results"][0]
    assert item["status"] == "drifted" and item["changed_keys"]["added"] == list(SETTINGS)
    assert [call.module_args["src"] for call in calls_of(action, "read")] == [ALICE_CONFIG]
    assert calls_of(action, "read")[0].module_args["_ansible_no_log"] is True
    write = calls_of(action, "write")[0].module_args["parameters"]
    assert write["ExpectedSha256"] == hashlib.sha256(before).hexdigest()
    after = as_json(host.read(ALICE_CONFIG))
    assert after["mcpServers"] == {"files": {"command": "mcp-files"}}
    assert after["enterpriseConfig"] == dict({"disableAutoUpdates": True}, **SETTINGS)
    assert host.acl(ALICE_CONFIG) == INHERITED


@pytest.mark.parametrize("bom", [False, True])
def test_slurped_content_with_and_without_bom(host, bom):
    current = document_bytes({"enterpriseConfig": SETTINGS})
    host.add_file(ALICE_CONFIG, (b"\xef\xbb\xbf" if bom else b"") + current)
    result, action = run_task(host, task(users=["alice"]))
    item = result["results"][0]
    assert len(calls_of(action, "read")) == 1
    if bom:
        assert item["status"] == "drifted" and item["changed"]
        assert item["notes"] == ["rewritten without its UTF-8 byte-order mark"]
        assert host.read(ALICE_CONFIG) == current
        assert len(calls_of(action, "write")) == 1
    else:
        assert item["status"] == "in_sync" and not item["changed"] and not result["changed"]
        assert not calls_of(action, "write")


def test_second_run_is_unchanged_and_writes_nothing(host):
    run_task(host, task(layout="both"))
    result, action = run_task(host, task(layout="both"))
    assert result["changed"] is False
    assert result["summary"] == {"in_sync": 4, "drifted": 0, "missing": 0, "error": 0}
    assert not calls_of(action, "write")
    # 1 discovery + 1 config file + _meta.json + our entry, for each of the two users
    assert [call.module_name for call in action.calls] == ["ansible.windows.win_powershell"] + \
        ["ansible.windows.slurp"] * 6


def test_call_count_is_one_discovery_one_read_per_file_one_write_per_change(host):
    host.add_file(ALICE_CONFIG, document_bytes({"enterpriseConfig": SETTINGS}))          # in sync
    host.add_file(BOB_CONFIG, document_bytes({"enterpriseConfig": {"inferenceProvider": "vertex"}}))  # drifted
    host.add_profile("carol", rid=1003)                                                   # missing
    result, action = run_task(host, task())
    assert [item["status"] for item in result["results"]] == ["in_sync", "drifted", "missing"]
    assert len(calls_of(action, "discovery")) == 1
    assert [call.module_args["src"] for call in calls_of(action, "read")] == [ALICE_CONFIG, BOB_CONFIG]
    assert [call.module_args["parameters"]["Path"] for call in calls_of(action, "write")] == [
        BOB_CONFIG, "C:\\Users\\carol\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json"]
    assert len(action.calls) == 5


def test_check_mode_reads_but_never_writes(host):
    host.add_file(BOB_CONFIG, document_bytes({"enterpriseConfig": {"inferenceProvider": "vertex"}}))
    result, action = run_task(host, task(layout="both"), check_mode=True, diff=True)
    assert result["changed"] is True
    assert not calls_of(action, "write")
    assert all(call.module_args["_ansible_check_mode"] is True for call in action.calls)
    assert [call.module_name for call in action.calls] == ["ansible.windows.win_powershell", "ansible.windows.slurp"]
    assert host.files() == [BOB_CONFIG]
    assert all(item["files_written"] == [] for item in result["results"])
    assert len(result["diff"]) == 6  # alice: file + entry + _meta.json, bob: the same
    assert_no_secret(action, result, host)


def test_discovery_runs_in_check_mode_because_the_script_supports_should_process(host):
    assert "[CmdletBinding(SupportsShouldProcess)]" in scripts.DISCOVERY
    # win_powershell skips a script without it in check mode: the write script must never claim it
    assert "[CmdletBinding()]" in scripts.WRITE and "[CmdletBinding(Supports" not in scripts.WRITE
    result, _action = run_task(host, task(), check_mode=True)
    assert not result.get("failed") and len(result["results"]) == 2


def test_diff_is_redacted_and_names_user_and_path(host):
    host.add_file(ALICE_CONFIG, document_bytes({"enterpriseConfig": {"inferenceGatewayApiKey": OLD_KEY}}))
    result, action = run_task(host, task(users=["alice"]), diff=True)
    diff = result["diff"][0]
    assert diff["before_header"] == "alice: %s" % ALICE_CONFIG
    assert "<redacted:" in diff["before"] and "<redacted:" in diff["after"]
    assert_no_secret(action, result, host, secrets=(API_KEY, OLD_KEY))
    assert "diff" not in run_task(host, task(users=["alice"]))[0]


def test_corrupt_file_is_an_error_for_that_user_and_is_left_alone(host):
    host.add_file(ALICE_CONFIG, b'{"enterpriseConfig": {"inferenceProvider": ')
    result, action = run_task(host, task())
    alice, bob = result["results"]
    assert alice["status"] == "error" and not alice["changed"] and alice["files_written"] == []
    assert alice["error"].startswith("host win1, user alice: %s is not valid JSON" % ALICE_CONFIG)
    assert "fix or delete it" in alice["error"]
    assert host.read(ALICE_CONFIG) == b'{"enterpriseConfig": {"inferenceProvider": '
    assert [call.module_args["parameters"]["Path"] for call in calls_of(action, "write")] == [BOB_CONFIG]
    assert bob["status"] == "missing" and host.read(BOB_CONFIG)
    assert result["failed"] is True and result["msg"].startswith(
        "1 of 2 user location(s) failed: host win1, user alice: ")


def test_read_only_symlinked_or_huge_files_are_refused(host):
    host.add_file(ALICE_CONFIG, document_bytes({}), readonly=True)
    host.add_file(BOB_CONFIG, document_bytes({}), link=True)
    host.add_profile("carol", rid=1003)
    carol = "C:\\Users\\carol\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json"
    host.add_file(carol, b" " * 2048)
    result, action = run_task(host, task(max_file_size=1024))
    alice, bob, carol_result = result["results"]
    assert "read-only (ReadOnly attribute)" in alice["error"] and "attrib -R" in alice["error"]
    assert "is a symbolic link; refusing to follow links" in bob["error"]
    assert "2048 bytes, more than max_file_size (1024)" in carol_result["error"]
    assert not calls_of(action, "read") and not calls_of(action, "write")


def test_junction_in_the_path_is_refused(host):
    host.add_link("C:\\Users\\alice\\AppData\\Roaming\\Claude-3p")
    result, action = run_task(host, task(users=["alice"]))
    error = result["results"][0]["error"]
    assert "C:\\Users\\alice\\AppData\\Roaming\\Claude-3p is a junction or symbolic link" in error
    assert not calls_of(action, "write")


def test_file_changed_between_read_and_write_is_not_overwritten(host):
    original = document_bytes({"enterpriseConfig": {}})
    host.add_file(ALICE_CONFIG, original)

    def app_rewrites(path):
        host.add_file(path, document_bytes({"enterpriseConfig": {"inferenceProvider": "bedrock"}}))

    host.after_read = app_rewrites
    result, _action = run_task(host, task(users=["alice"]))
    assert "changed while the task ran (is Claude Desktop running?)" in result["results"][0]["error"]
    assert as_json(host.read(ALICE_CONFIG))["enterpriseConfig"] == {"inferenceProvider": "bedrock"}


def test_write_failure_is_reported_per_user_and_others_carry_on(host):
    host.fail_write = "Access to the path 'C:\\Users\\alice\\AppData\\Roaming\\Claude-3p' is denied."
    result, _action = run_task(host, task())
    alice, bob = result["results"]
    assert alice["error"] == ("host win1, user alice: cannot write %s: Access to the path "
                              "'C:\\Users\\alice\\AppData\\Roaming\\Claude-3p' is denied." % ALICE_CONFIG)
    assert alice["files_written"] == [] and bob["files_written"] == [BOB_CONFIG]


def test_backup_is_owner_only_named_like_posix_and_holds_no_managed_key(host):
    host.add_file(ALICE_CONFIG, document_bytes({"enterpriseConfig": {"inferenceGatewayApiKey": OLD_KEY},
                                                "preferences": {"theme": "dark"}}))
    result, action = run_task(host, task(users=["alice"], backup=True))
    backup = result["results"][0]["backup_file"]
    assert re.match(re.escape(ALICE_CONFIG) + r"\.4242\.\d{8}-\d{6}\.bak$", backup)
    kept = as_json(host.read(backup))
    assert kept["preferences"] == {"theme": "dark"}
    assert kept["enterpriseConfig"]["inferenceGatewayApiKey"].startswith("<redacted:")
    assert host.acl(backup) == owner_only(ALICE_SID)
    names = [item["name"] for item in calls_of(action, "write")[0].module_args["sensitive_parameters"]]
    assert names == ["Content", "BackupContent"]
    assert_no_secret(action, result, host, secrets=(API_KEY, OLD_KEY))


def test_per_user_settings_match_user_names_case_insensitively(host):
    args = task(user_settings={"Bob": {"inferenceGatewayApiKey": "sk-aiohub-bob-only-key-00000000000"}})
    result, action = run_task(host, args)
    assert as_json(host.read(BOB_CONFIG))["enterpriseConfig"]["inferenceGatewayApiKey"] == \
        "sk-aiohub-bob-only-key-00000000000"
    assert as_json(host.read(ALICE_CONFIG))["enterpriseConfig"]["inferenceGatewayApiKey"] == API_KEY
    assert_no_secret(action, result, host, secrets=(API_KEY, "sk-aiohub-bob-only-key-00000000000"))


def test_deployment_mode_and_removal(host):
    host.add_file(ALICE_CONFIG, document_bytes({"enterpriseConfig": dict(SETTINGS, disableAutoUpdates=True)}))
    result, _action = run_task(host, task(users=["alice"], remove=["disableAutoUpdates"], deployment_mode="3p"))
    assert result["results"][0]["changed_keys"] == {"added": [], "changed": [], "removed": ["disableAutoUpdates"]}
    document = as_json(host.read(ALICE_CONFIG))
    assert document["deploymentMode"] == "3p" and "disableAutoUpdates" not in document["enterpriseConfig"]


# --- MSIX ------------------------------------------------------------------------------------------

def test_msix_package_adds_the_virtualised_location_and_says_why(host):
    host.add_profile("carol", rid=1003, msix=[MSIX, STORE])
    host.add_dir("C:\\Users\\bob\\AppData\\Local\\Packages\\%s" % MSIX)
    result, _action = run_task(host, task())
    paths = [item["path"] for item in result["results"]]
    carol_store = ("C:\\Users\\carol\\AppData\\Local\\Packages\\%s\\LocalCache\\Roaming\\Claude-3p\\"
                   "claude_desktop_config.json" % STORE)
    assert paths == [ALICE_CONFIG, BOB_CONFIG, BOB_MSIX_CONFIG,
                     "C:\\Users\\carol\\AppData\\Roaming\\Claude-3p\\claude_desktop_config.json",
                     "C:\\Users\\carol\\AppData\\Local\\Packages\\%s\\LocalCache\\Roaming\\Claude-3p\\"
                     "claude_desktop_config.json" % MSIX, carol_store]
    msix = by_path(result)[BOB_MSIX_CONFIG]
    assert msix["layout"] == "config_file" and msix["files_written"] == [BOB_MSIX_CONFIG]
    assert "MSIX package %s is installed for this user" % MSIX in msix["reason"]
    assert "virtualised" in msix["reason"]
    assert by_path(result)[BOB_CONFIG]["reason"] == "per-user configuration file (%APPDATA%\\Claude-3p)"
    assert as_json(host.read(BOB_MSIX_CONFIG)) == {"enterpriseConfig": SETTINGS}
    assert as_json(host.read(carol_store)) == {"enterpriseConfig": SETTINGS}


def test_no_msix_location_without_the_package_or_for_the_library_layout(host):
    host.add_dir("C:\\Users\\bob\\AppData\\Local\\Packages\\%s" % MSIX)
    result, _action = run_task(host, task(layout="config_library"))
    assert [item["layout"] for item in result["results"]] == ["config_library", "config_library"]
    assert not any("Packages" in path for path in host.files())


def test_existing_msix_copy_is_read_and_merged(host):
    host.add_file(BOB_MSIX_CONFIG, document_bytes({"enterpriseConfig": {"inferenceProvider": "vertex"},
                                                   "preferences": {"x": 1}}))
    result, action = run_task(host, task(users=["bob"]))
    assert [call.module_args["src"] for call in calls_of(action, "read")] == [BOB_MSIX_CONFIG]
    assert by_path(result)[BOB_MSIX_CONFIG]["status"] == "drifted"
    assert as_json(host.read(BOB_MSIX_CONFIG))["preferences"] == {"x": 1}


# --- config_library --------------------------------------------------------------------------------

FOREIGN = "0d7d7b8e-1111-4c6d-8e7f-90a1b2c3d4e5"


def seed_library(host, meta=None, foreign=True):
    if foreign:
        host.add_file("%s\\%s.json" % (ALICE_LIBRARY, FOREIGN), document_bytes({"inferenceProvider": "anthropic"}))
    meta = meta if meta is not None else {"appliedId": FOREIGN, "entries": [{"id": FOREIGN, "name": "Default"}]}
    host.add_file("%s\\_meta.json" % ALICE_LIBRARY, meta if isinstance(meta, bytes) else document_bytes(meta))


def test_library_keeps_foreign_entries_and_applies_ours(host):
    seed_library(host)
    result, action = run_task(host, task(users=["alice"], layout="config_library"))
    item = result["results"][0]
    assert item["path"] == ALICE_LIBRARY and item["entry_id"] == ENTRY
    assert item["notes"][0] == "applied entry switched from %s to %s" % (FOREIGN, ENTRY)
    assert [call.module_args["src"] for call in calls_of(action, "read")] == ["%s\\_meta.json" % ALICE_LIBRARY]
    assert [call.module_args["parameters"]["Path"] for call in calls_of(action, "write")] == [
        "%s\\%s.json" % (ALICE_LIBRARY, ENTRY), "%s\\_meta.json" % ALICE_LIBRARY]
    meta = as_json(host.read("%s\\_meta.json" % ALICE_LIBRARY))
    assert meta == {"appliedId": ENTRY, "entries": [{"id": FOREIGN, "name": "Default"},
                                                    {"id": ENTRY, "name": "Managed by Ansible"}]}
    assert as_json(host.read("%s\\%s.json" % (ALICE_LIBRARY, FOREIGN))) == {"inferenceProvider": "anthropic"}
    assert as_json(host.read("%s\\%s.json" % (ALICE_LIBRARY, ENTRY))) == SETTINGS
    assert host.acl("%s\\_meta.json" % ALICE_LIBRARY) == INHERITED
    assert host.acl("%s\\%s.json" % (ALICE_LIBRARY, ENTRY)) == owner_only(ALICE_SID)
    again, action = run_task(host, task(users=["alice"], layout="config_library"))
    assert again["changed"] is False and not calls_of(action, "write") and len(calls_of(action, "read")) == 2


@pytest.mark.parametrize("meta", [
    b"{not json",
    {"entries": "nope"},
    {"appliedId": "6f1c2d3e-0000-4c6d-8e7f-90a1b2c3d4e5", "entries": []},  # applied entry without its file
])
def test_corrupt_or_inconsistent_meta_is_an_error_and_nothing_is_written(host, meta):
    seed_library(host, meta=meta, foreign=False)
    result, action = run_task(host, task(users=["alice"], layout="config_library"))
    item = result["results"][0]
    assert item["status"] == "error" and "_meta.json" in item["error"]
    assert item["error"].startswith("host win1, user alice: %s\\_meta.json" % ALICE_LIBRARY)
    assert not calls_of(action, "write")
    assert result["failed"] is True


def test_library_absent_deletes_our_entry_and_re_applies_a_foreign_one(host):
    seed_library(host)
    run_task(host, task(users=["alice"], layout="config_library"))
    result, action = run_task(host, {"users": ["alice"], "layout": "config_library", "state": "absent"})
    writes = calls_of(action, "write")
    operations = [(call.module_args["parameters"]["Operation"], call.module_args["parameters"]["Path"])
                  for call in writes]
    assert operations == [("write", "%s\\_meta.json" % ALICE_LIBRARY),
                          ("delete", "%s\\%s.json" % (ALICE_LIBRARY, ENTRY))]
    assert "sensitive_parameters" not in writes[1].module_args
    assert writes[1].module_args["parameters"]["ExpectedSha256"]
    assert host.read("%s\\%s.json" % (ALICE_LIBRARY, ENTRY)) is None
    assert as_json(host.read("%s\\_meta.json" % ALICE_LIBRARY))["appliedId"] == FOREIGN
    assert result["results"][0]["files_written"] == ["%s\\_meta.json" % ALICE_LIBRARY,
                                                     "%s\\%s.json" % (ALICE_LIBRARY, ENTRY)]


def test_state_absent_on_a_host_without_files_changes_nothing(host):
    result, action = run_task(host, {"users": ["all"], "layout": "both", "state": "absent"})
    assert result["changed"] is False and not calls_of(action, "write") and host.files() == []


# --- managed policy, running app, redirection ------------------------------------------------------

def test_machine_policy_is_reported_and_warned_but_still_written(host):
    host.machine_policy = {"inferenceProvider": "String", "disableAutoUpdates": "DWord", "ignored": "MultiString"}
    result, _action = run_task(host, task())
    for item in result["results"]:
        assert item["managed_override"] is True
        assert item["managed_sources"] == [{"source": "HKLM\\SOFTWARE\\Policies\\Claude",
                                            "keys": ["inferenceProvider"]}]
        assert item["files_written"]
    assert sum("managed configuration takes precedence" in warning for warning in result["warnings"]) == 2


def test_update_keys_alone_do_not_take_over(host):
    host.machine_policy = {"disableAutoUpdates": "DWord", "autoUpdaterEnforcementHours": "String"}
    result, _action = run_task(host, task())
    assert not any(item["managed_override"] for item in result["results"])


def test_user_policy_is_read_from_the_loaded_hive_only(host):
    sid = host.add_profile("carol", rid=1003, loaded=False)
    host.user_policy[sid] = {"inferenceProvider": "String"}
    bob_sid = "S-1-5-21-1111111111-2222222222-3333333333-1002"
    host.user_policy[bob_sid] = {"": "String"}  # the key's default value counts as policy present
    result, _action = run_task(host, task())
    alice, bob, carol = result["results"]
    assert not alice["managed_override"]
    assert bob["managed_sources"] == [{"source": "HKU\\%s\\SOFTWARE\\Policies\\Claude" % bob_sid,
                                       "keys": ["(default)"]}]
    assert not carol["managed_override"]
    assert "not logged on" in carol["notes"][0]


def test_fail_on_managed_stops_before_anything_is_read(host):
    host.machine_policy = {"inferenceGatewayBaseUrl": "String"}
    result, action = run_task(host, task(fail_on_managed=True))
    assert result["failed"] is True
    assert all(item["status"] == "error" and "fail_on_managed" in item["error"] for item in result["results"])
    assert [call.module_name for call in action.calls] == ["ansible.windows.win_powershell"]
    assert not any("managed configuration takes precedence" in warning for warning in result["warnings"])


def test_running_app_is_reported_with_a_warning(host):
    host.running.add("S-1-5-21-1111111111-2222222222-3333333333-1002")
    result, _action = run_task(host, task())
    assert [item["app_running"] for item in result["results"]] == [False, True]
    assert [warning for warning in result["warnings"] if "is running" in warning] == [
        "user bob: Claude Desktop is running; it reads its configuration only at launch, so the user must quit it "
        "fully and reopen it (the module never stops the app)"]
    assert result["results"][1]["files_written"] == [BOB_CONFIG]


def test_running_app_is_detected_in_check_mode_too(host):
    """win_powershell passes -WhatIf in check mode; the process-owner query must not honour it."""
    host.running.add(ALICE_SID)
    result, _action = run_task(host, task(), check_mode=True)
    assert [item["app_running"] for item in result["results"]] == [True, False]


def test_process_check_failure_is_a_warning(host):
    host.running_error = "Access denied"
    result, _action = run_task(host, task())
    assert "win1: could not check whether Claude Desktop is running: Access denied" in result["warnings"]


def test_redirected_appdata_is_noted(host):
    bob_sid = "S-1-5-21-1111111111-2222222222-3333333333-1002"
    host.shell_folders[bob_sid] = {"appdata": "\\\\files\\redirect\\bob\\AppData\\Roaming",
                                   "local_appdata": "%USERPROFILE%\\AppData\\Local"}
    host.shell_folders[ALICE_SID] = {
        "appdata": "%userprofile%\\AppData\\Roaming", "local_appdata": "%USERPROFILE%\\AppData\\Local"}
    result, _action = run_task(host, task(layout="both"))
    assert not any("redirected" in note for item in result["results"][:2] for note in item["notes"])
    assert any("%APPDATA% is redirected to \\\\files\\redirect\\bob" in note for note in result["results"][2]["notes"])
    assert [warning for warning in result["warnings"] if "redirected" in warning][0].startswith("user bob: %APPDATA%")


# --- secrets ---------------------------------------------------------------------------------------

def test_no_secret_in_any_argument_reply_event_log_or_returned_field(host):
    host.add_file(ALICE_CONFIG, document_bytes({"enterpriseConfig": {"inferenceGatewayApiKey": OLD_KEY}}))
    host.add_file(BOB_CONFIG, b"{ corrupt " + OLD_KEY.encode())
    host.add_dir("C:\\Users\\bob\\AppData\\Local\\Packages\\%s" % MSIX)
    seed_library(host)
    result, action = run_task(host, task(layout="both", backup=True), diff=True)
    assert result["failed"] is True  # bob's corrupt file
    writes = calls_of(action, "write")
    assert writes and all(call.module_args["_ansible_no_log"] is True for call in writes)
    assert all(call.module_args["_ansible_no_log"] is True for call in calls_of(action, "read"))
    # only the discovery call (names, no contents) may log its invocation to the event log
    assert len(host.event_log) == 1 and "Directories" in host.event_log[0]
    for reply in action.replies:
        for item in (reply.get("invocation") or {}).get("module_args", {}).get("sensitive_parameters") or ():
            assert item["value"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert_no_secret(action, result, host, secrets=(API_KEY, OLD_KEY))


def test_event_log_masks_content_even_without_forced_no_log(host):
    """Ansible.Basic masks sensitive_parameters values on its own; forcing no_log is a second layer."""
    reply = host.execute("ansible.windows.win_powershell", {
        "_ansible_no_log": False, "_ansible_check_mode": False,
        "script": scripts.WRITE, "error_action": "stop",
        "parameters": {"Path": ALICE_CONFIG, "ProfilePath": "C:\\Users\\alice", "UserSid": "S-1-5-21-1-1-1-1001",
                       "Operation": "write", "ExpectedSha256": ""},
        "sensitive_parameters": [{"name": "Content", "value": base64.b64encode(API_KEY.encode()).decode()}]})
    assert not reply.get("failed"), reply
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in host.event_log[-1]
    assert base64.b64encode(API_KEY.encode()).decode() not in host.event_log[-1]


def test_forced_no_log_is_restored_for_the_tasks_own_result(host):
    host.add_file(ALICE_CONFIG, document_bytes({}))
    result, action = run_task(host, task(users=["alice"]))
    assert action.no_log_seen == [(False, False), (True, True), (True, True)]
    assert action._task.no_log is False and action._play_context.no_log is False
    with pytest.raises(RuntimeError):
        with forced_no_log(action):
            raise RuntimeError("boom")
    assert action._task.no_log is False and action._play_context.no_log is False


def test_secret_in_a_script_error_is_scrubbed(host):
    host.fail_write = "cannot write because of %s" % API_KEY
    result, action = run_task(host, task(users=["alice"]))
    assert "<redacted:" in result["results"][0]["error"]
    assert_no_secret(action, result, host)


# --- malformed replies and unsupported options -----------------------------------------------------

@pytest.mark.parametrize("override, problem", [
    ("not json", "result: not JSON"),
    (json.dumps({"format": 2, "profiles": []}), "unknown format 2"),
    (json.dumps({"format": 1, "current_sid": "S-1-5-21-1-2-3-500", "is_admin": True, "machine_policy": None,
                 "running_error": None,
                 "profiles": [{"sid": "S-1-5-21-1-2-3-1001", "path": "C:\\Users\\x", "details": True}]}),
     "profiles[0].dirs: missing"),
    (json.dumps({"format": 1, "current_sid": "x", "is_admin": "yes", "machine_policy": None, "running_error": None,
                 "profiles": []}), "result.is_admin: expected bool"),
    ({}, "expected the JSON text"),
])
def test_malformed_discovery_fails_the_host_clearly(host, override, problem):
    host.discovery_override = override
    result, action = run_task(host, task())
    assert result["failed"] is True and result["results"] == []
    assert result["msg"].startswith("win1: the discovery script returned malformed data")
    assert problem in result["msg"]
    assert "nothing was read or written" in result["msg"]
    assert len(action.calls) == 1


def test_discovery_failure_reports_the_script_error():
    reply = {"failed": True, "changed": False, "result": {}, "output": [], "error": [
        {"output": "x", "exception": {"message": "Requested registry access is not allowed.",
                                      "type": "System.Security.SecurityException"}}]}
    with pytest.raises(WindowsTaskError, match="win1: discovering user profiles failed: Requested registry access"):
        parse_discovery(reply, "win1")


def test_unexpected_write_reply_is_an_error(host):
    action = make_action(host, {})
    runner = WindowsRunner(action, {"inventory_hostname": "win1"}, {"layout": "config_file"}, {}, {},
                           Redactor([API_KEY]))
    host.execute = lambda name, args: {"changed": True, "result": {"path": "C:\\elsewhere", "operation": "write"}}
    profile = Profile(ALICE_SID, "C:\\Users\\alice", details=True, exists=True)
    with pytest.raises(WindowsTaskError, match="cannot tell whether the write of .* succeeded"):
        runner._write(profile, ALICE_CONFIG, Write("claude_desktop_config.json", b"{}\n"))


def test_path_option_is_refused_on_windows(host):
    result, action = run_task(host, {"path": "C:\\x\\claude_desktop_config.json", "settings": dict(SETTINGS)})
    assert result["failed"] is True and "not supported on Windows hosts" in result["msg"]
    assert action.calls == []


def test_settings_validation_fails_before_any_call(host):
    result, action = run_task(host, task(settings={"inferenceProvider": "gateway",
                                                   "inferenceGatewayBaseUrl": "http://api.aiohub.org"}))
    assert result["failed"] is True and action.calls == []


def test_credentials_found_in_a_users_file_are_masked_everywhere_in_the_diff(host):
    legacy = "legacy-gateway-token-Qw7Er9Ty"  # not key-shaped: only knowing it as a credential masks it
    host.add_file(ALICE_CONFIG, document_bytes({"enterpriseConfig": {"inferenceGatewayApiKey": legacy},
                                                "preferences": {"lastPastedText": legacy}}))
    result, action = run_task(host, task(users=["alice"]), diff=True)
    assert json.loads(result["diff"][0]["before"])["preferences"]["lastPastedText"].startswith("<redacted:")
    assert_no_secret(action, result, host, secrets=(API_KEY, legacy))
