"""The Molecule ``fleet`` scenario (``molecule test -s fleet``) as part of ``pytest tests/integration``.

Three network-namespace SSH hosts, an OpenBao dev server, the role converging them with keys from the
vault, idempotence, testinfra over SSH, drift on one host and user, a corrupt config on another, and
the tear-down (see molecule/fleet/molecule.yml). Run on a free /24, a free port and a fresh token so
that it never collides with a fleet another test or a developer has up.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.fleet import REPO, free_net, skip_reason
from tests.support.secret_stores import free_port

pytestmark = [pytest.mark.fleet, pytest.mark.slow]

MOLECULE = Path(sys.executable).parent / "molecule"


def stop_openbao(base):
    """The scenario's OpenBao, if molecule could not stop it (pid file written by create.yml)."""
    pid_file = Path(base) / "openbao" / "openbao.pid"
    try:
        pid = int(pid_file.read_text())
        if b"bao\0server\0-dev" in Path("/proc/%d/cmdline" % pid).read_bytes():
            os.kill(pid, 9)
    except (OSError, ValueError):
        pass


def leftovers(prefix, port):
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split()
    found += [name for name in netns if name.startswith(prefix)]
    listening = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True, text=True, check=False).stdout
    if listening.strip():
        found.append("something still listens on 127.0.0.1:%d" % port)
    return found


def test_molecule_fleet_scenario(tmp_path):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if not MOLECULE.exists() and not shutil.which("molecule"):
        pytest.skip("molecule is not installed (tests/requirements.txt)")
    net = free_net()
    prefix = "mf%s-h" % net.rsplit(".", 1)[1]
    base = tempfile.mkdtemp(prefix="mfleet-", dir="/tmp")  # short: ssh control sockets live there
    port = free_port()
    env = dict(os.environ)
    env.update({
        "FLEET_NET": net,
        "FLEET_PREFIX": prefix,
        "FLEET_BASE": base,
        "FLEET_BAO_PORT": str(port),
        "FLEET_BAO_TOKEN": "root-" + secrets.token_hex(12),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_FORCE_COLOR": "0",
        "NO_COLOR": "1",
        "PY_COLORS": "0",
    })
    molecule = str(MOLECULE) if MOLECULE.exists() else "molecule"
    try:
        result = subprocess.run([molecule, "test", "-s", "fleet"], cwd=str(REPO), env=env, capture_output=True,
                                text=True, timeout=1200, check=False)
    finally:
        # molecule destroys on failure too; this is for a timeout or a crash of molecule itself.
        remaining = leftovers(prefix, port)
        if remaining:
            stop_openbao(base)
            subprocess.run(["bash", str(REPO / "tests" / "fleet" / "fleet.sh"), "down"], env=env,
                           capture_output=True, timeout=120, check=False)
        shutil.rmtree(base, ignore_errors=True)
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, output[-15000:]
    for step in ("create", "converge", "idempotence", "verify", "side_effect", "destroy"):
        assert "%s: Executed: Successful" % step in output, step
    assert not remaining, remaining
