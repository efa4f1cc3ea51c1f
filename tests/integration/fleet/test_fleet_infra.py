"""The SSH fleet itself (tests/fleet/fleet.sh, tests/support/fleet.py), which the multi-host suites rely on.

Hosts are isolated from each other and from the machine, reachable the way Ansible and testinfra
reach them, count module executions, can lose their sshd or their link on purpose, and every trace of a
fleet goes away with ``down`` - also the traces of a bring-up that crashed half way.
"""

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.fleet import EX_BUSY, FLEET_SH, Fleet, FleetError, fleet_fixture, free_net, lock_path

pytestmark = pytest.mark.fleet

fleet = fleet_fixture(3, net="auto", users=("alice", "bob", "carol"), count_modules=True)
ANSIBLE = str(Path(sys.executable).parent / "ansible")


def ansible_ping(fleet, inventory=None, pattern="fleet"):
    return subprocess.run([ANSIBLE, "-i", str(inventory or fleet.inventory), pattern, "-m", "ansible.builtin.ping"],
                          capture_output=True, text=True, timeout=300, check=False)


def traces(prefix, base):
    netns = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split()
             if n.startswith(prefix)]
    links = [line for line in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout.splitlines()
             if ": v%s" % prefix in line]
    return netns, links, Path(base).exists()


def test_hosts_are_separate_machines_with_their_own_users(fleet):
    assert [h.address for h in fleet.hosts] == ["%s.%d" % (fleet.net, 4 * i - 2) for i in (1, 2, 3)]
    for host in fleet.hosts:
        result = fleet.ssh(host, "hostname; ls /Users; id -u alice; ps -eo comm= | sort -u")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.split()
        assert lines[0] == host.name
        assert lines[1:4] == ["alice", "bob", "carol"]
        assert "fleet-init" in lines and "ansible-playbook" not in lines  # its own pid namespace
    fleet.write_file(1, "/Users/alice/only-on-host-1", "x", user="alice")
    assert fleet.exists(1, "/Users/alice/only-on-host-1")
    assert not fleet.exists(2, "/Users/alice/only-on-host-1")
    assert not Path("/Users/alice/only-on-host-1").exists()  # nothing lands on the machine
    # The machine's own root home (dotfiles, tools) is not visible in a host.
    assert fleet.run_on(1, "ls -A /root").stdout.split() == [".bashrc", ".profile", ".ssh"]


def test_write_file_as_a_user_gives_the_user_owner_only_files(fleet):
    path = fleet.config_file("bob")
    fleet.write_file(2, path, {"enterpriseConfig": {}}, user="bob")
    assert fleet.read_json(2, path) == {"enterpriseConfig": {}}
    assert fleet.stat(2, path) == dict(fleet.stat(2, path), user="bob", group="bob", mode=0o600)
    assert fleet.stat(2, fleet.app_dir("bob"))["mode"] == 0o700
    with pytest.raises(FleetError):
        fleet.write_file(2, "/Users/alice/not-bobs", "x", user="bob")  # bob cannot write into alice's home
    fleet.remove(2, fleet.app_dir("bob"))


def test_ansible_reaches_every_host_with_pipelining_and_strict_host_keys(fleet):
    fleet.reset_module_executions()
    for inventory in (fleet.inventory, fleet.inventory_yaml):
        result = ansible_ping(fleet, inventory)
        assert result.returncode == 0, result.stdout + result.stderr
    for host in fleet.hosts:
        assert fleet.module_executions(host) == ["ansible.modules.ping"] * 2
    ssh_config = fleet.ssh_config.read_text()
    assert "StrictHostKeyChecking yes" in ssh_config and "ControlMaster auto" in ssh_config
    assert "ansible_ssh_pipelining=true" in fleet.inventory.read_text()
    assert "[cowork_hosts:children]" in fleet.inventory.read_text()


def test_a_host_whose_sshd_is_stopped_is_unreachable_until_started(fleet):
    down = fleet.hosts[1]
    fleet.stop_sshd(down)
    try:
        started = time.monotonic()
        result = fleet.ssh(down, "true")
        assert result.returncode == 255 and "refused" in result.stderr
        assert time.monotonic() - started < 5
        assert fleet.run_on(down, "echo inside").stdout == "inside\n"  # the host itself still runs
        ping = ansible_ping(fleet)
        assert ping.returncode == 4, ping.stdout
        assert "%s | UNREACHABLE!" % down.name in ping.stdout
        assert all("%s | SUCCESS" % h.name in ping.stdout for h in fleet.hosts if h != down)
    finally:
        fleet.start_sshd(down)
    assert fleet.ssh(down, "true").returncode == 0


def test_a_host_with_its_link_down_times_out(fleet):
    host = fleet.hosts[2]
    fleet.link_down(host)
    try:
        result = subprocess.run(["ssh", "-F", str(fleet.ssh_config), "-o", "ConnectTimeout=1", "-o",
                                 "ControlMaster=no", "-o", "ControlPath=none", host.name, "true"],
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 255 and "timed out" in result.stderr
    finally:
        fleet.link_up(host)
    assert fleet.ssh(host, "true").returncode == 0


def test_a_second_fleet_on_the_same_net_is_refused(fleet, tmp_path):
    env = dict(os.environ, FLEET_NET=fleet.net, FLEET_PREFIX="intruder-h", FLEET_BASE=str(tmp_path / "b"))
    result = subprocess.run(["bash", str(FLEET_SH), "up", "1"], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == EX_BUSY
    assert "used by another fleet (prefix=%s" % fleet.prefix in result.stderr
    assert traces("intruder-h", tmp_path / "b")[:2] == ([], [])
    assert fleet.ssh(1, "true").returncode == 0


def test_down_removes_everything_also_after_a_crash_half_way(tmp_path):
    net = free_net()
    small = Fleet(1, net=net, prefix="crash-h", base=str(tmp_path / "crash"))
    small.up()
    # What a bring-up killed half way leaves: a namespace, a veth pair and a state directory of host 2.
    subprocess.run(["ip", "netns", "add", "crash-h2"], check=True)
    subprocess.run(["ip", "link", "add", "vcrash-h2", "type", "veth", "peer", "name", "eth0", "netns", "crash-h2"],
                   check=True)
    (tmp_path / "crash" / "h2" / "upper").mkdir(parents=True)
    assert sorted(traces("crash-h", tmp_path / "crash")[0]) == ["crash-h1", "crash-h2"]

    small.down()
    small.down()  # idempotent

    assert traces("crash-h", tmp_path / "crash") == ([], [], False)
    with open(lock_path(net), "a") as lock:  # the /24 is free again
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_fleet_json_describes_the_fleet(fleet):
    info = json.loads((fleet.base / "fleet.json").read_text())
    assert info["users"] == ["alice", "bob", "carol"]
    assert [h["name"] for h in info["hosts"]] == fleet.names
    assert info["python_interpreter"] == "/usr/local/bin/fleet-python3"
