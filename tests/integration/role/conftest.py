"""Fixtures and helpers of the role tests: real ansible-playbook runs of aiohub.claude_desktop.cowork.

One sandbox (private users alice, bob and carol in a mount namespace, tests/support/sandbox.py) and one
fake gateway on 127.0.0.1 (tests/support/fake_gateway.py) per test module; each test starts from empty
homes and a gateway with no recorded requests. Multi-host tests use inventory hosts h1..h3, all local
connections to this machine, each owning one user, so hosts never write the same file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys

import pytest
import yaml

from tests.support.fake_gateway import FakeGateway
from tests.support.sandbox import Sandbox, require_sandbox

ROLE = "aiohub.claude_desktop.cowork"
KEY = "sk-aiohub-role-test-7c1e9a3f5b2d4e6a8c0b"
OTHER_KEY = "sk-aiohub-role-other-0a1b2c3d4e5f60718293"
BAD_KEY = "sk-aiohub-role-revoked-9f8e7d6c5b4a39281706"
ALL_KEYS = (KEY, OTHER_KEY, BAD_KEY)
USERS = ("alice", "bob", "carol")
HOST_USERS = {"h1": "alice", "h2": "bob", "h3": "carol"}
EGRESS = ["docs.aiohub.org", "*.example.com"]
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>ok=.*)$")
FATAL_LINE = re.compile(r"^fatal: \[(?P<host>[^\]]+)\]: FAILED! => (?P<result>\{.*\})\s*$")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    require_sandbox()
    return Sandbox(tmp_path_factory.mktemp("role"), users=USERS, platform="linux")


@pytest.fixture
def box(sandbox):
    """The module's sandbox with empty homes."""
    for user in USERS:
        shutil.rmtree(sandbox.home(user) / ".config", ignore_errors=True)
    return sandbox


@pytest.fixture(scope="module")
def gateway_server():
    with FakeGateway(keys=[KEY, OTHER_KEY]) as server:
        yield server


@pytest.fixture
def gateway(gateway_server):
    """The module's gateway, with no recorded request and default behaviour."""
    gateway_server.reset()
    gateway_server.keys = {KEY, OTHER_KEY}
    gateway_server.status = None
    gateway_server.key_status = {}
    gateway_server.delay = 0
    return gateway_server


# -- writing playbooks and inventories ---------------------------------------------------------------

def write_yaml(box, name, document):
    path = box.root / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def site_play(role_vars, hosts="workstations", name="Site", tasks_after=None):
    """The play a user adds to a site playbook: the role with a few variables."""
    play = {"name": name, "hosts": hosts, "gather_facts": False,
            "roles": [dict({"role": ROLE}, **role_vars)]}
    if tasks_after:
        play["tasks"] = tasks_after
    return play


def fleet_inventory(box, host_vars=None, common=None):
    """h1..h3 (group ``fleet`` and ``cowork_hosts``), each managing its own user."""
    hosts = {}
    for host, user in HOST_USERS.items():
        hosts[host] = dict({"cowork_users": [user]}, **(host_vars or {}).get(host, {}))
    group_vars = dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable}, **(common or {}))
    inventory = {"all": {"children": {"fleet": {"hosts": hosts, "vars": group_vars},
                                      "cowork_hosts": {"children": {"fleet": {}}}}}}
    return write_yaml(box, "fleet.yml", inventory)


# -- running ------------------------------------------------------------------------------------------

def run(box, playbook, *args, inventory=None, extra_vars=None, env=None, timeout=300):
    argv = ["ansible-playbook", "-i", str(inventory or box.inventory), str(playbook)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    argv += list(args)
    return box.run(argv, env=env, timeout=timeout)


def output(result):
    return result.stdout + result.stderr


def recap(result):
    """{host: {ok: n, changed: n, failed: n, ...}} from the PLAY RECAP."""
    text = result.stdout.split("PLAY RECAP")[-1]
    found = {}
    for line in text.splitlines():
        match = RECAP_LINE.match(line.strip())
        if match:
            found[match.group("host")] = {key: int(value) for key, value in
                                          (item.split("=") for item in match.group("counts").split())}
    return found


def failures(result):
    """{host: failure message} of the hosts that failed (default callback, no -v)."""
    found = {}
    for line in result.stdout.splitlines():
        match = FATAL_LINE.match(line)
        if match:
            found.setdefault(match.group("host"), json.loads(match.group("result")).get("msg", ""))
    return found


def assert_ok(result):
    assert result.returncode == 0, output(result)[-8000:]


def assert_no_key(result, keys=ALL_KEYS):
    text = output(result)
    leaked = [key[:14] + "..." for key in keys if key in text]
    assert not leaked, "API key(s) %s in the output" % leaked


# -- looking at the users' files ----------------------------------------------------------------------

def enterprise(box, user):
    path = box.config_file(user)
    return json.loads(path.read_text())["enterpriseConfig"] if path.exists() else None


def library_entries(box, user):
    """{entry file name: document} of the user's configLibrary, _meta.json included."""
    directory = box.library_dir(user)
    if not directory.is_dir():
        return {}
    return {path.name: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def applied_entry(box, user):
    entries = library_entries(box, user)
    meta = entries.get("_meta.json", {})
    return entries.get("%s.json" % meta.get("appliedId")) if meta.get("appliedId") else None


def files_of(box, user):
    found = []
    for root, _dirs, names in os.walk(box.home(user)):
        found.extend(os.path.join(root, name) for name in names)
    return sorted(found)


def snapshot(box):
    """Bytes, mode and mtime of every file under the homes."""
    state = {}
    for user in USERS:
        for path in files_of(box, user):
            info = os.lstat(path)
            state[path] = (open(path, "rb").read(), stat.S_IMODE(info.st_mode), info.st_mtime_ns)
    return state
