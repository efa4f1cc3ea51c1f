"""The cowork role with cowork_mode: managed, on localhost (private test users, scratch managed preferences).

The same variables must give the same values whether the role writes managed preferences or
playbooks/export_mdm.yml writes a profile: the plist written here is compared with the exported payload.
"""

from __future__ import annotations

import plistlib
import re

import yaml

from tests.integration.mdm.conftest import (
    API_KEY, OTHER_KEY, PLIST, REPO, assert_ok, file_facts, read_plist, recap, snapshot,
)
from tests.support.fake_gateway import FakeGateway

ROLE_VARS = {
    "cowork_mode": "managed",
    "cowork_verify_gateway": False,
    "cowork_gateway_api_key": API_KEY,
    "cowork_models": ["claude-sonnet-4-6", {"name": "claude-opus-4-7", "supports1m": True}],
    "cowork_egress_allowed_hosts": ["docs.aiohub.org"],
    "cowork_settings": {"disableDeploymentModeChooser": True, "autoUpdaterEnforcementHours": 24},
}


def role_play(sandbox, name, prefs_dir, **overrides):
    variables = dict(ROLE_VARS, cowork_managed_preferences_dir=str(prefs_dir))
    variables.update(overrides)
    play = [{"name": name, "hosts": "workstations", "gather_facts": False, "tasks": [
        {"name": "Apply the cowork role", "ansible.builtin.include_role": {"name": "aiohub.claude_desktop.cowork"},
         "vars": variables}]}]
    path = sandbox.root / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def test_managed_mode_writes_what_the_export_writes_and_is_idempotent(sandbox, prefs_dir):
    playbook = role_play(sandbox, "managed", prefs_dir)

    first = sandbox.playbook(playbook)
    assert_ok(first)
    written = read_plist(prefs_dir / PLIST)
    assert file_facts(prefs_dir / PLIST) == (0, 0, 0o644)

    out = sandbox.root / "mdm"
    inventory = sandbox.root / "export-inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"mac1": {"ansible_host": "169.254.79.244"}},
                                                 "vars": dict(ROLE_VARS)}}))
    exported = sandbox.run(["ansible-playbook", "-i", str(inventory), str(REPO / "playbooks" / "export_mdm.yml"),
                            "-e", "cowork_export_dir=%s" % out, "-e", "cowork_export_include_secrets=true"])
    assert_ok(exported)
    payload = plistlib.loads((out / "mac1.mobileconfig").read_bytes())["PayloadContent"][0]
    assert written == dict((key, value) for key, value in payload.items() if not key.startswith("Payload"))
    assert written["inferenceGatewayApiKey"] == API_KEY
    assert written["autoUpdaterEnforcementHours"] == "24"

    before = snapshot(prefs_dir)
    second = sandbox.playbook(playbook, diff=True)
    assert_ok(second)
    assert recap(second.stdout)["changed"] == "0"
    assert snapshot(prefs_dir) == before


def test_values_no_longer_wanted_are_removed_and_check_mode_shows_it_without_keys(sandbox, prefs_dir):
    assert_ok(sandbox.playbook(role_play(sandbox, "converge", prefs_dir)))
    stored = read_plist(prefs_dir / PLIST)
    stored["handAdded"] = "x"
    with open(prefs_dir / PLIST, "wb") as handle:
        plistlib.dump(stored, handle)
    smaller = role_play(sandbox, "smaller", prefs_dir, cowork_models=[], cowork_gateway_api_key=OTHER_KEY)

    before = snapshot(prefs_dir)
    check = sandbox.playbook(smaller, check=True, diff=True)
    assert_ok(check)
    assert snapshot(prefs_dir) == before
    assert API_KEY not in check.stdout and OTHER_KEY not in check.stdout
    assert "&lt;redacted:" in check.stdout  # the diff is the plist as XML

    assert_ok(sandbox.playbook(smaller))
    written = read_plist(prefs_dir / PLIST)
    assert "inferenceModels" not in written and "handAdded" not in written
    assert written["inferenceGatewayApiKey"] == OTHER_KEY

    kept = role_play(sandbox, "kept", prefs_dir, cowork_managed_exclusive=False, cowork_models=[])
    with open(prefs_dir / PLIST, "wb") as handle:
        plistlib.dump(dict(written, handAdded="x"), handle)
    assert_ok(sandbox.playbook(kept))
    assert read_plist(prefs_dir / PLIST)["handAdded"] == "x"


def test_per_user_keys_need_per_user_policy(sandbox, prefs_dir):
    keys = {"alice": API_KEY, "bob": OTHER_KEY}
    machine = role_play(sandbox, "machine_keys", prefs_dir, cowork_users=["alice", "bob"], cowork_user_api_keys=keys)
    result = sandbox.playbook(machine)
    assert result.returncode != 0
    assert "machine policy (cowork_managed_scope: machine) is the same for every user" in result.stdout
    assert not prefs_dir.exists()

    users = role_play(sandbox, "user_keys", prefs_dir, cowork_managed_scope="user", cowork_users=["alice", "bob"],
                      cowork_user_api_keys=keys)
    assert_ok(sandbox.playbook(users))
    for user, key in keys.items():
        assert read_plist(prefs_dir / user / PLIST)["inferenceGatewayApiKey"] == key
        assert file_facts(prefs_dir / user / PLIST) == (0, sandbox.uid(user), 0o640)

    rollback = role_play(sandbox, "rollback", prefs_dir, cowork_managed_scope="user", cowork_users=["alice", "bob"],
                         cowork_user_api_keys=keys, cowork_state="absent")
    assert_ok(sandbox.playbook(rollback))
    assert not (prefs_dir / "alice" / PLIST).exists() and not (prefs_dir / "bob" / PLIST).exists()


def test_a_key_the_gateway_rejects_stops_the_host_before_any_policy_is_written(sandbox, prefs_dir):
    with FakeGateway(keys=[OTHER_KEY]) as gateway:
        playbook = role_play(sandbox, "rejected", prefs_dir, cowork_verify_gateway=True,
                             cowork_gateway_base_url=gateway.url)
        rejected = sandbox.playbook(playbook, verbosity=4)
        assert rejected.returncode == 2
        preflight_task = rejected.stdout.split("Check the API keys and ask the gateway whether it accepts them]", 1)
        assert len(preflight_task) == 2, rejected.stdout[-3000:]
        output_of_preflight = re.split(r"\n(?:TASK|PLAY RECAP) ", preflight_task[1], 1)[0]
        assert "fatal: [" in output_of_preflight and "answered HTTP 401" in output_of_preflight
        assert not (prefs_dir / PLIST).exists()
        assert gateway.count(API_KEY) == 1

        accepted = sandbox.playbook(role_play(sandbox, "accepted", prefs_dir, cowork_verify_gateway=True,
                                              cowork_gateway_base_url=gateway.url,
                                              cowork_gateway_api_key=OTHER_KEY))
        assert_ok(accepted)
        assert read_plist(prefs_dir / PLIST)["inferenceGatewayApiKey"] == OTHER_KEY
        assert gateway.count(OTHER_KEY) == 1
    for result in (rejected, accepted):
        assert API_KEY not in result.stdout + result.stderr and OTHER_KEY not in result.stdout + result.stderr
