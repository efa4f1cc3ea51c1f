"""managed_policy across the netns SSH fleet (tests/support/fleet.py): two hosts reached over SSH, the way a
real fleet is. The hosts are Debian, so managed preferences go to a scratch folder on each host (the
module refuses the macOS default there); everything else is what runs on a Mac: the module over SSH,
root-owned plists, per-user groups, idempotence across hosts, check mode, no key in -vvvv output.
"""

from __future__ import annotations

import plistlib

import pytest
import yaml

from tests.integration.mdm.conftest import API_KEY, OTHER_KEY, PLIST, assert_ok, gateway_settings, recap
from tests.support.fleet import fleet_fixture

pytestmark = [pytest.mark.fleet, pytest.mark.slow]

# The range and name prefix reserved for these tests.
fleet = fleet_fixture(2, net="169.254.79", prefix="mdm-h", users=("alice", "bob"))
PREFS = "/var/lib/aiohub-test/Managed Preferences"


def playbook(tmp_path, name, tasks):
    path = tmp_path / ("%s.yml" % name)
    path.write_text(yaml.safe_dump([{"name": name, "hosts": "fleet", "gather_facts": False, "tasks": tasks}],
                                   sort_keys=False))
    return path


def policy(**arguments):
    arguments["managed_preferences_dir"] = PREFS
    return {"name": "Claude Desktop managed policy", "aiohub.claude_desktop.managed_policy": arguments}


def plist_on(fleet, host, path):
    return plistlib.loads(fleet.read_file(host, path))


def test_machine_and_per_user_policy_over_ssh(fleet, tmp_path):
    fleet.run_on(1, ["mkdir", "-p", "/var/lib/aiohub-test"])
    fleet.run_on(2, ["mkdir", "-p", "/var/lib/aiohub-test"])
    settings = gateway_settings()
    machine = playbook(tmp_path, "machine", [policy(settings=settings)])

    first = fleet.playbook(machine, diff=True, verbosity=4)
    assert_ok(first)
    assert API_KEY not in first.stdout and API_KEY not in first.stderr
    for host in fleet.hosts:
        assert recap(first.stdout, host.name)["changed"] == "1"
        stored = plist_on(fleet, host, "%s/%s" % (PREFS, PLIST))
        assert stored["inferenceGatewayApiKey"] == API_KEY
        assert stored["disableDeploymentModeChooser"] == "true"
        facts = fleet.stat(host, "%s/%s" % (PREFS, PLIST))
        assert (facts["uid"], facts["gid"], facts["mode"]) == (0, 0, 0o644)

    second = fleet.playbook(machine)
    assert_ok(second)
    assert all(recap(second.stdout, host.name)["changed"] == "0" for host in fleet.hosts)

    before = fleet.read_file(1, "%s/%s" % (PREFS, PLIST))
    check = fleet.playbook(playbook(tmp_path, "check", [policy(settings=gateway_settings(OTHER_KEY))]),
                           check=True, diff=True)
    assert_ok(check)
    assert OTHER_KEY not in check.stdout and API_KEY not in check.stdout
    assert fleet.read_file(1, "%s/%s" % (PREFS, PLIST)) == before

    per_user = playbook(tmp_path, "per_user", [policy(
        scope="user", users=["alice", "bob"], settings={"inferenceProvider": "gateway",
                                                        "inferenceGatewayBaseUrl": "https://api.aiohub.org"},
        user_settings={"alice": {"inferenceGatewayApiKey": API_KEY}, "bob": {"inferenceGatewayApiKey": OTHER_KEY}})])
    assert_ok(fleet.playbook(per_user, limit=[2]))
    for user, key in (("alice", API_KEY), ("bob", OTHER_KEY)):
        path = "%s/%s/%s" % (PREFS, user, PLIST)
        assert plist_on(fleet, 2, path)["inferenceGatewayApiKey"] == key
        facts = fleet.stat(2, path)
        assert (facts["uid"], facts["group"], facts["mode"]) == (0, user, 0o640)
        assert fleet.run_on(2, ["test", "-r", path], user=user, check=False).returncode == 0
    assert fleet.run_on(2, ["test", "-r", "%s/alice/%s" % (PREFS, PLIST)], user="bob", check=False).returncode != 0
    assert not fleet.exists(1, "%s/alice" % PREFS), "--limit kept host 1 out"
