"""The configLibrary layout on SSH hosts: foreign entries survive, a corrupt ``_meta.json`` is refused untouched.

Same module, real SSH hosts in network namespaces: what the localhost tests prove for one host must hold
host by host over the wire, and a bad library on one host must not stop the others.
"""

import json
import uuid

import pytest
import yaml

from tests.support.fleet import fleet_fixture

pytestmark = pytest.mark.fleet

fleet = fleet_fixture(2, net="auto", users=("alice", "bob"))

API_KEY = "sk-aiohub-fleet-library-6e1d0c9b8a7f6e5d"
FOREIGN_ID = "3c1b9a7e-5d4f-4e2a-9b8c-7d6e5f4a3b2c"
ENTRY_NAME = "Fleet gateway"
OUR_ID = str(uuid.uuid5(uuid.UUID("6b0c5f4e-3f0a-5c1e-9a57-61696f687562"), ENTRY_NAME))
CORRUPT_META = b'{"appliedId": "%s", "entries": [' % FOREIGN_ID.encode()


def playbook(tmp_path):
    path = tmp_path / "library.yml"
    path.write_text(yaml.safe_dump([{
        "name": "configLibrary on the fleet", "hosts": "fleet", "gather_facts": False,
        "tasks": [{"name": "Own one library entry per user", "aiohub.claude_desktop.enterprise_config": {
            "users": "all", "layout": "config_library", "entry_name": ENTRY_NAME,
            "settings": {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": "https://api.aiohub.org",
                         "inferenceGatewayApiKey": "{{ lookup('env', 'FLEET_LIBRARY_KEY') }}"}}}],
    }], sort_keys=False))
    return path


def test_library_on_the_fleet(fleet, tmp_path):
    first, second = fleet.hosts
    library = fleet.library_dir("alice")
    fleet.write_file(first, library + "/_meta.json",
                     {"appliedId": FOREIGN_ID, "entries": [{"id": FOREIGN_ID, "name": "Default"}]}, user="alice")
    fleet.write_file(first, library + "/%s.json" % FOREIGN_ID, {"inferenceProvider": "anthropic"}, user="alice")
    fleet.write_file(second, fleet.library_dir("bob") + "/_meta.json", CORRUPT_META, user="bob")
    env = {"FLEET_LIBRARY_KEY": API_KEY}

    result = fleet.playbook(playbook(tmp_path), env=env, verbosity=3)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert API_KEY not in output
    assert "host %s, user bob: %s/_meta.json is not valid JSON" % (second.name, fleet.library_dir("bob")) in output

    assert fleet.read_file(second, fleet.library_dir("bob") + "/_meta.json") == CORRUPT_META
    assert not fleet.exists(second, fleet.library_dir("bob") + "/%s.json" % OUR_ID)
    meta = fleet.read_json(first, library + "/_meta.json")
    assert meta["appliedId"] == OUR_ID
    assert meta["entries"] == [{"id": FOREIGN_ID, "name": "Default"}, {"id": OUR_ID, "name": ENTRY_NAME}]
    assert fleet.read_json(first, library + "/%s.json" % FOREIGN_ID) == {"inferenceProvider": "anthropic"}
    for host, user in ((first, "alice"), (first, "bob"), (second, "alice")):
        entry_path = fleet.library_dir(user) + "/%s.json" % OUR_ID
        assert fleet.read_json(host, entry_path)["inferenceGatewayApiKey"] == API_KEY
        info = fleet.stat(host, entry_path)
        assert (info["user"], info["mode"]) == (user, 0o600)

    fleet.remove(second, fleet.library_dir("bob") + "/_meta.json")
    converged = fleet.playbook(playbook(tmp_path), env=env)
    assert converged.returncode == 0, converged.stdout[-3000:]
    again = fleet.playbook(playbook(tmp_path), env=env)
    assert again.returncode == 0 and "changed=0" in again.stdout and "changed=1" not in again.stdout
    assert json.loads(fleet.read_file(second, fleet.library_dir("bob") + "/_meta.json"))["appliedId"] == OUR_ID
