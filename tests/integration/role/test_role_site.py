"""The role in a site playbook: converge, idempotence, check/diff, no key in -vvvv output, rollback.

What most users do: add ``- role: aiohub.claude_desktop.cowork`` with three variables to a play they
already have and run it; then run it again and see nothing change.
"""

from __future__ import annotations

import os
import stat

from tests.integration.role.conftest import (
    EGRESS, KEY, OTHER_KEY, USERS, applied_entry, assert_no_key, assert_ok, enterprise, files_of, library_entries,
    output, recap, run, site_play, snapshot, write_yaml,
)


def three_variables(gateway, key=KEY):
    return {"cowork_gateway_base_url": gateway.url, "cowork_gateway_api_key": key,
            "cowork_egress_allowed_hosts": EGRESS}


def expected_settings(gateway, key=KEY):
    return {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": gateway.url, "inferenceGatewayApiKey": key,
            "inferenceGatewayAuthScheme": "bearer", "coworkEgressAllowedHosts": EGRESS}


def test_site_playbook_with_three_variables_converges_then_reports_no_change(box, gateway):
    playbook = write_yaml(box, "site.yml", [site_play(three_variables(gateway))])

    first = run(box, playbook)
    assert_ok(first)
    assert recap(first)["localhost"]["changed"] == 1  # one module call writes every user
    for user in USERS:
        assert enterprise(box, user) == expected_settings(gateway)
        assert applied_entry(box, user) == expected_settings(gateway)
        for path in files_of(box, user):
            info = os.stat(path)
            assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, box.uid(user)), path
    assert gateway.count(KEY) == 1

    before = snapshot(box)
    second = run(box, playbook)
    assert_ok(second)
    assert recap(second)["localhost"]["changed"] == 0
    assert snapshot(box) == before
    assert gateway.count(KEY) == 2  # once per run


def test_check_diff_writes_nothing_and_shows_the_key_only_as_a_fingerprint(box, gateway):
    box.write_config("alice", {"preferences": {"theme": "dark"},
                               "enterpriseConfig": {"inferenceGatewayApiKey": OTHER_KEY}})
    before = snapshot(box)
    playbook = write_yaml(box, "site.yml", [site_play(three_variables(gateway))])

    result = run(box, playbook, "--check", "--diff")
    assert_ok(result)
    assert recap(result)["localhost"]["changed"] == 1
    assert snapshot(box) == before
    assert not box.config_file("bob").exists() and not box.library_dir("alice").exists()
    text = output(result)
    assert '-    "inferenceGatewayApiKey": "<redacted:' in text and '+    "inferenceGatewayApiKey": "<redacted:' in text
    assert "+    \"coworkEgressAllowedHosts\"" in text
    assert_no_key(result)
    assert gateway.count(KEY) == 1  # the preflight is a read-only GET and runs in check mode too


def test_vvvv_output_of_a_key_rotation_and_of_a_rejected_key_never_shows_a_key(box, gateway):
    box.write_config("alice", {"enterpriseConfig": {"inferenceGatewayApiKey": OTHER_KEY,
                                                    "inferenceGatewayBaseUrl": gateway.url}})
    rotate = write_yaml(box, "rotate.yml", [site_play(dict(three_variables(gateway),
                                                           cowork_user_api_keys={"bob": OTHER_KEY}))])
    rotated = run(box, rotate, "-vvvv", "--diff")
    assert_ok(rotated)
    assert enterprise(box, "alice")["inferenceGatewayApiKey"] == KEY
    assert enterprise(box, "bob")["inferenceGatewayApiKey"] == OTHER_KEY
    assert "<redacted:" in rotated.stdout

    gateway.keys = {OTHER_KEY}  # KEY is now revoked
    rejected = run(box, rotate, "-vvvv", "--diff")
    assert rejected.returncode == 2
    assert "answered HTTP 401" in rejected.stdout
    for result in (rotated, rejected):
        assert_no_key(result)


def test_state_absent_removes_only_what_the_role_manages(box, gateway):
    box.write_config("alice", {"preferences": {"theme": "dark"},
                               "enterpriseConfig": {"disableAutoUpdates": True}})
    site = write_yaml(box, "site.yml", [site_play(dict(three_variables(gateway), cowork_models=["claude-sonnet-4-6"],
                                                       cowork_settings={"modelDiscoveryEnabled": False}))])
    assert_ok(run(box, site))
    assert enterprise(box, "alice")["modelDiscoveryEnabled"] is False
    gateway.reset()

    remove = write_yaml(box, "remove.yml", [site_play({"cowork_state": "absent",
                                                       "cowork_settings": {"modelDiscoveryEnabled": False}})])
    removed = run(box, remove, "--diff")
    assert_ok(removed)
    assert recap(removed)["localhost"]["changed"] == 1  # one task: the keys of the files and the library entries
    assert box.read_config("alice") == {"preferences": {"theme": "dark"},
                                        "enterpriseConfig": {"disableAutoUpdates": True}}
    for user in ("bob", "carol"):
        assert box.read_config(user) == {}  # enterpriseConfig emptied, so removed
    for user in USERS:
        entries = library_entries(box, user)
        assert list(entries) == ["_meta.json"] and entries["_meta.json"].get("entries") == []
        assert "appliedId" not in entries["_meta.json"] or entries["_meta.json"]["appliedId"] is None
    assert gateway.count() == 0  # a rollback needs no key and asks no gateway
    assert_no_key(removed)


def test_rollback_of_a_host_that_has_nothing_of_the_role_changes_nothing(box):
    box.write_config("alice", {"preferences": {"theme": "dark"}})
    box.write_config("bob", {})
    before = snapshot(box)
    remove = write_yaml(box, "remove.yml", [site_play({"cowork_state": "absent"})])
    result = run(box, remove, "--diff")
    assert_ok(result)
    assert snapshot(box) == before
    assert recap(result)["localhost"]["changed"] == 0
