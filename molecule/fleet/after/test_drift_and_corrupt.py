"""Run by side_effect.yml on the converged fleet: drift seen on exactly one host and user, then a corrupt config.

Uses the scenario's own inventory, converge playbook and environment (Molecule passes them down:
MOLECULE_INVENTORY_FILE, MOLECULE_SCENARIO_DIRECTORY, ANSIBLE_CONFIG, VAULT_ADDR/VAULT_TOKEN, FLEET_BASE)
and tests/support/fleet.py to edit files on the hosts as their users.
"""

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.fleet import Fleet
from tests.support.secret_stores import find_leaks

FLEET = Fleet.existing(os.environ["FLEET_BASE"])
INVENTORY = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)  # the directory molecule passes
CONVERGE = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"
KEY_PATHS = ("cowork/gateway", "cowork/users/bob")
ACTION = "aiohub.claude_desktop.enterprise_config"
DRIFT_URL = "https://gateway.bob.example"


def vault_api_key(path):
    request = urllib.request.Request("%s/v1/secret/data/%s" % (os.environ["VAULT_ADDR"], path),
                                     headers={"X-Vault-Token": os.environ["VAULT_TOKEN"]})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        return json.load(response)["data"]["data"]["api_key"]


API_KEYS = [vault_api_key(path) for path in KEY_PATHS]


def converge(*args):
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY, str(CONVERGE), "-v"] + list(args)
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")  # molecule forces colour
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env, check=False)
    leaks = find_leaks(API_KEYS, {"stdout": result.stdout, "stderr": result.stderr})
    assert not leaks, "API keys in the output: %r" % leaks
    return result


def task_results(result):
    """``{host: (status, result, [diff headers])}`` for the enterprise_config task of a ``-v`` run
    (ansible-core 2.19 prints failures on stderr)."""
    found = _task_results(result.stdout)
    found.update(_task_results(result.stderr))
    return found


def _task_results(output):
    found = {}
    pending = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("--- before: "):
            pending.append(line[len("--- before: "):])
            continue
        match = re.match(r"^(ok|changed|fatal): \[([^\]]+)\](?:: FAILED!)? => (.*)$", line)
        if not match:
            continue
        status, host, text = match.groups()
        if text == "{":
            end = next(i for i in range(index + 1, len(lines)) if lines[i] == "}")
            text = "\n".join(["{"] + lines[index + 1:end + 1])
        result = json.loads(text)
        if "results" in result and "summary" in result:  # the module's result
            found[host] = (status, result, pending)
        pending = []
    return found


def recap(output):
    found = {}
    for line in output.split("PLAY RECAP", 1)[1].splitlines():
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match:
            found[match.group(1)] = {k: int(v) for k, v in (item.split("=") for item in match.group(2).split())}
    return found


@pytest.fixture(scope="module")
def hosts():
    assert len(FLEET.hosts) >= 3
    return FLEET.hosts


@pytest.fixture
def restore(hosts):
    """Files to put back after the test (``(host, user, path)``), then converge those hosts again."""
    planted = []
    yield planted
    for host, user, path in planted:
        FLEET.remove(host, path)
    if planted:
        names = sorted({host.name for host, _user, _path in planted})
        result = converge("--limit", ",".join(names))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_local_edit_is_drift_on_exactly_that_host_and_user(hosts):
    edited, user = hosts[1], "bob"
    path = FLEET.config_file(user)
    document = FLEET.read_json(edited, path)
    document["enterpriseConfig"]["inferenceGatewayBaseUrl"] = DRIFT_URL
    FLEET.write_file(edited, path, json.dumps(document, indent=2) + "\n", user=user)
    before = FLEET.read_file(edited, path)

    result = converge("--check", "--diff")

    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    outcomes = task_results(result)
    assert sorted(outcomes) == sorted(h.name for h in hosts), result.stdout[-5000:]
    drifted = [(host, item["user"], item["layout"]) for host, (_s, res, _d) in outcomes.items()
               for item in res["results"] if item["status"] != "in_sync"]
    assert drifted == [(edited.name, user, "config_file")]
    for host, (status, res, diffs) in outcomes.items():
        if host == edited.name:
            assert status == "changed"
            item = next(i for i in res["results"] if i["user"] == user and i["layout"] == "config_file")
            assert item["changed_keys"] == {"added": [], "changed": ["inferenceGatewayBaseUrl"], "removed": []}
            assert diffs == ["%s: %s" % (user, path)]
        else:
            assert (status, diffs) == ("ok", []), host
    assert DRIFT_URL in result.stdout  # the diff shows what changed...
    assert {h: c["changed"] for h, c in recap(result.stdout).items()} == {
        h.name: int(h == edited) for h in hosts}
    assert FLEET.read_file(edited, path) == before  # ...and check mode wrote nothing


def test_corrupt_config_fails_its_host_clearly_while_the_others_converge(hosts, restore):
    broken, user = hosts[2], "alice"
    path = FLEET.config_file(user)
    corrupt = b'{"enterpriseConfig": {"inferenceProvider": "gateway",\n'
    FLEET.write_file(broken, path, corrupt, user=user)
    restore.append((broken, user, path))

    result = converge()

    assert result.returncode == 2, result.stdout[-5000:]
    summary = recap(result.stdout)
    assert summary[broken.name]["failed"] == 1
    assert all(summary[h.name]["failed"] == 0 and summary[h.name]["unreachable"] == 0
               for h in hosts if h != broken), summary
    outcomes = task_results(result)
    status, res, _diffs = outcomes[broken.name]
    assert status == "fatal"
    errors = {(item["user"], item["layout"]): item["error"] for item in res["results"] if item["error"]}
    assert list(errors) == [(user, "config_file")], res["results"]
    message = res["msg"]
    assert broken.name in message and user in message and path in message and "JSON" in message, message
    # The corrupt file is left as it was; the other user of that host is in sync.
    assert FLEET.read_file(broken, path) == corrupt
    assert all(item["status"] == "in_sync" for item in res["results"] if item["user"] != user)
    for host in hosts:
        if host != broken:
            assert outcomes[host.name][0] in ("ok", "changed"), host
