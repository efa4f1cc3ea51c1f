"""A fleet of SSH hosts for multi-host tests, from Python (wraps ``tests/fleet/fleet.sh``).

Each host is a network namespace with its own overlay root, users under ``/Users`` and sshd, reached
over SSH on a link-local /30 (see ``tests/fleet/fleet.sh``). Use it as a context manager or through
:func:`fleet_fixture`::

    fleet = fleet_fixture(3, net="auto", users=("alice", "bob"))      # a module-scoped pytest fixture

    def test_something(fleet):
        result = fleet.playbook(playbook_path, extra_vars={...})
        assert result.returncode == 0, result.stdout + result.stderr
        assert fleet.stat(2, fleet.config_file("bob"))["mode"] == 0o600
        fleet.write_file(1, fleet.config_file("alice"), b"{}", user="alice")
        fleet.stop_sshd(3)                                               # host 3 becomes unreachable

One fleet per /24: ``net="auto"`` picks a free 169.254.X.0/24 (X in 100-159); a given ``net`` waits while
another fleet holds it. Hosts are addressed by index (1..n), name (``fleet-h2``) or :class:`FleetHost`.
Needs root, ``unshare``, ``nsenter``, ``ip`` and ``openssh-server``; :func:`skip_reason` tells why not.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal as signals
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import leakscan

REPO = Path(__file__).resolve().parents[2]
FLEET_SH = REPO / "tests" / "fleet" / "fleet.sh"
DEFAULT_NET = "169.254.77"
DEFAULT_PREFIX = "fleet-h"
DEFAULT_USERS = ("alice", "bob")
AUTO_OCTETS = range(100, 160)
EX_BUSY = 75  # fleet.sh: the /24 is held by another fleet
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MODULE_LOG = "var/log/fleet-modules.log"

_LAYOUT_DIRS = {
    "linux": (".config", "Claude-3p"),
    "macos": ("Library", "Application Support", "Claude-3p"),
}


def skip_reason():
    """Why a fleet cannot run here (``None`` when it can)."""
    if os.geteuid() != 0:
        return "the SSH fleet needs root (network namespaces, overlay mounts)"
    for tool in ("ip", "unshare", "nsenter", "setsid", "flock", "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            return "the SSH fleet needs %r (apt-get install openssh-client iproute2 util-linux)" % tool
    if not os.access("/usr/sbin/sshd", os.X_OK):
        return "the SSH fleet needs sshd (apt-get install -y --no-install-recommends openssh-server)"
    return None


@dataclass(frozen=True)
class FleetHost:
    index: int
    name: str
    address: str
    dir: Path

    @property
    def upper(self):
        """The host's private filesystem layer as the machine sees it (files the host created or changed).

        Read-only for tests: overlayfs does not allow changing it while the host runs (use ``run_on``)."""
        return self.dir / "upper"

    def __str__(self):
        return self.name


class FleetError(RuntimeError):
    pass


class Fleet:
    """``n`` SSH hosts; ``up()``/``down()`` or ``with Fleet(...) as fleet:``."""

    def __init__(self, n=3, net=DEFAULT_NET, prefix=None, users=DEFAULT_USERS, base=None, group="fleet",
                 count_modules=False, timeout=60, wait_for_net=600):
        self.n = n
        self.requested_net = net
        self.net = None if net == "auto" else net
        self._prefix = prefix
        self.users = tuple(users)
        self._base = Path(base) if base else None
        self._own_base = base is None
        self.group = group
        self.count_modules = count_modules
        self.timeout = timeout
        self.wait_for_net = wait_for_net
        self.hosts = []
        self.info = {}

    @classmethod
    def existing(cls, base):
        """The running fleet that ``fleet.sh up`` made with ``FLEET_BASE=base`` (e.g. by a Molecule
        scenario). The caller does not own it: do not call ``down()`` unless you mean it."""
        info = json.loads((Path(base) / "fleet.json").read_text())
        fleet = cls(len(info["hosts"]), net=info["net"], prefix=info["prefix"], users=info["users"], base=base,
                    group=info["group"], count_modules=info["python_interpreter"].endswith("fleet-python3"))
        fleet.info = info
        fleet.hosts = [FleetHost(h["index"], h["name"], h["address"], Path(h["dir"])) for h in info["hosts"]]
        return fleet

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.down()

    @property
    def prefix(self):
        if self._prefix:
            return self._prefix
        if self.net == DEFAULT_NET:
            return DEFAULT_PREFIX
        return "f%s-h" % self.net.rsplit(".", 1)[1]

    @property
    def base(self):
        if self._base is None:
            # Short: ssh control sockets live under it (unix socket paths are limited to 108 bytes).
            self._base = Path(tempfile.mkdtemp(prefix="fleet-", dir="/tmp"))
        return self._base

    def env(self):
        """The ``FLEET_*`` variables that select this fleet for ``fleet.sh``."""
        return {
            "FLEET_BASE": str(self.base),
            "FLEET_PREFIX": self.prefix,
            "FLEET_NET": self.net,
            "FLEET_USERS": " ".join(self.users),
            "FLEET_GROUP": self.group,
            "FLEET_COUNT_MODULES": "1" if self.count_modules else "0",
            "FLEET_TIMEOUT": str(self.timeout),
        }

    def fleet_sh(self, *args, check=True, timeout=None):
        env = dict(os.environ)
        env.update(self.env())
        result = subprocess.run(["bash", str(FLEET_SH)] + [str(a) for a in args], env=env, capture_output=True,
                                text=True, timeout=timeout or self.timeout + 120, check=False)
        if check and result.returncode != 0:
            raise FleetError("fleet.sh %s failed (rc %d):\n%s%s" % (
                " ".join(map(str, args)), result.returncode, result.stdout, result.stderr))
        return result

    def up(self):
        reason = skip_reason()
        if reason:
            raise FleetError(reason)
        try:
            if self.requested_net == "auto":
                self._up_auto()
            else:
                self._up_waiting()
        except BaseException:
            self.down()
            raise
        attached = self.existing(self.base)
        self.info, self.hosts = attached.info, attached.hosts
        return self

    def _up_auto(self):
        used = _nets_in_use()
        for octet in AUTO_OCTETS:
            net = "169.254.%d" % octet
            if net in used:
                continue
            self.net = net
            result = self.fleet_sh("up", self.n, check=False)
            if result.returncode == 0:
                return
            if result.returncode != EX_BUSY:
                raise FleetError("fleet.sh up %d failed (rc %d):\n%s" % (self.n, result.returncode, result.stderr))
        raise FleetError("no free 169.254.X.0/24 for a fleet (X in %d-%d)" % (AUTO_OCTETS[0], AUTO_OCTETS[-1]))

    def _up_waiting(self):
        deadline = time.monotonic() + self.wait_for_net
        while True:
            result = self.fleet_sh("up", self.n, check=False)
            if result.returncode == 0:
                return
            if result.returncode != EX_BUSY or time.monotonic() > deadline:
                raise FleetError("fleet.sh up %d failed (rc %d):\n%s" % (self.n, result.returncode, result.stderr))
            time.sleep(1)

    def down(self):
        if self.net is None:
            return
        self.fleet_sh("down", check=False)
        self.hosts = []
        if self._own_base and self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)

    # -- addressing --------------------------------------------------------------------------

    def host(self, host):
        if isinstance(host, FleetHost):
            return host
        for candidate in self.hosts:
            if host in (candidate.index, candidate.name, candidate.address):
                return candidate
        raise KeyError("no fleet host %r (hosts: %s)" % (host, ", ".join(self.names)))

    @property
    def names(self):
        return [h.name for h in self.hosts]

    @property
    def addresses(self):
        return {h.name: h.address for h in self.hosts}

    @property
    def inventory(self):
        return self.base / "inventory.ini"

    @property
    def inventory_yaml(self):
        return self.base / "inventory.yml"

    @property
    def ssh_config(self):
        return self.base / "ssh_config"

    def testinfra_hosts(self, hosts=None):
        """``--hosts`` for testinfra's ``ssh://`` backend (use with ``--ssh-config=fleet.ssh_config``)."""
        return ",".join("ssh://%s" % self.host(h).name for h in (hosts or self.hosts))

    # -- paths of the app's files on a (Linux) host --------------------------------------------

    @staticmethod
    def home(user):
        return "/Users/%s" % user

    def app_dir(self, user, platform="linux"):
        return "/".join((self.home(user),) + _LAYOUT_DIRS[platform])

    def config_file(self, user, platform="linux"):
        return self.app_dir(user, platform) + "/claude_desktop_config.json"

    def library_dir(self, user, platform="linux"):
        return self.app_dir(user, platform) + "/configLibrary"

    # -- running things on a host ------------------------------------------------------------

    def init_pid(self, host):
        host = self.host(host)
        try:
            return int((host.dir / "init.pid").read_text())
        except (OSError, ValueError):
            raise FleetError("host %s is not running" % host.name) from None

    def _enter(self, host, cmd, user=None, env=None, pid_namespace=True):
        """argv that runs ``cmd`` (a shell string or an argv list) inside ``host``'s namespaces.

        Without ``pid_namespace`` nothing forks: the command keeps the pid of the process started here.
        """
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        if user:
            argv = ["setpriv", "--reuid", user, "--regid", user, "--init-groups", "--"] + argv
        variables = {"PATH": HOST_PATH, "HOME": self.home(user) if user else "/root", "LANG": "C.UTF-8"}
        variables.update(env or {})
        namespaces = ["--mount", "--uts", "--net", "--root", "--wd"] + (["--pid"] if pid_namespace else [])
        return (["nsenter", "--target", str(self.init_pid(host))] + namespaces + ["--", "env", "-i"]
                + ["%s=%s" % kv for kv in variables.items()] + argv)

    def run_on(self, host, cmd, user=None, input=None, check=True, timeout=120, env=None):
        """Run ``cmd`` (a shell string or an argv list) inside ``host``, as root or as ``user``.

        Enters the host's namespaces directly (no SSH), so it works while the host's sshd is down, and
        mounts made this way (a small tmpfs as a full home, a read-only bind) are what sshd sessions see.
        Returns the ``CompletedProcess``; ``input`` may be ``str`` or ``bytes`` (then stdout is bytes).
        """
        text = not isinstance(input, bytes)
        result = subprocess.run(self._enter(host, cmd, user, env), input=input, capture_output=True, text=text,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise FleetError("on %s: %r failed (rc %d): %s" % (
                self.host(host).name, cmd, result.returncode, result.stderr))
        return result

    def popen_on(self, host, cmd, user=None, env=None, **popen_kwargs):
        """Start ``cmd`` inside ``host`` without waiting (e.g. a concurrent writer); returns a ``Popen``.

        It runs in the host's mount and network namespaces (not its pid namespace) in a session of its
        own: ``.kill()``/``.terminate()`` signal that whole session, children included. ``down()`` kills
        whatever still runs in the host.
        """
        popen_kwargs.setdefault("stdout", subprocess.DEVNULL)
        popen_kwargs.setdefault("stderr", subprocess.DEVNULL)
        popen_kwargs.setdefault("stdin", subprocess.DEVNULL)
        return _SessionPopen(self._enter(host, cmd, user, env, pid_namespace=False), start_new_session=True,
                             **popen_kwargs)

    def ssh(self, host, cmd, check=False, timeout=60):
        """Run ``cmd`` on ``host`` over SSH as root (the way Ansible reaches it)."""
        return subprocess.run(["ssh", "-F", str(self.ssh_config), self.host(host).name, cmd], capture_output=True,
                              text=True, check=check, timeout=timeout)

    def read_file(self, host, path, user=None):
        """The bytes of ``path`` on ``host`` (read as ``user`` when given)."""
        return self.run_on(host, ["cat", "--", path], user=user, input=b"").stdout

    def read_json(self, host, path):
        return json.loads(self.read_file(host, path).decode("utf-8"))

    def exists(self, host, path):
        return self.run_on(host, ["test", "-e", path], check=False).returncode == 0

    def write_file(self, host, path, content, user=None, mode=0o600, make_dirs=True):
        """Write ``content`` (bytes, str or a JSON-able dict/list) to ``path`` on ``host`` as ``user``.

        As a user the file (and missing parent directories, ``0700``) belong to that user, the way the
        app would create them. Returns ``path``.
        """
        if isinstance(content, (dict, list)):
            content = json.dumps(content, indent=2)
        if isinstance(content, str):
            content = content.encode("utf-8")
        script = 'umask 077; %s cat > "$1" && chmod %o "$1"' % (
            'mkdir -p -- "$(dirname -- "$1")" &&' if make_dirs else "", mode)
        self.run_on(host, ["sh", "-c", script, "write_file", path], user=user, input=content)
        return path

    def remove(self, host, path):
        self.run_on(host, ["rm", "-rf", "--", path])

    def stat(self, host, path):
        """``{"uid", "gid", "user", "group", "mode", "size", "type"}`` of ``path`` on ``host`` (no symlink following)."""
        out = self.run_on(host, ["stat", "-c", "%u %g %U %G %a %s %F", "--", path]).stdout.split(" ", 6)
        return {"uid": int(out[0]), "gid": int(out[1]), "user": out[2], "group": out[3], "mode": int(out[4], 8),
                "size": int(out[5]), "type": out[6].strip()}

    def uid(self, host, user):
        return int(self.run_on(host, ["id", "-u", user]).stdout)

    # -- failures on purpose -------------------------------------------------------------------

    def stop_sshd(self, host):
        """Kill every sshd process of ``host`` (listener and open sessions): it refuses connections."""
        self.fleet_sh("stop-sshd", self.host(host).index)

    def start_sshd(self, host):
        self.fleet_sh("start-sshd", self.host(host).index)

    def link_down(self, host):
        """Take ``host``'s link down: connections to it time out instead of being refused."""
        self.fleet_sh("link-down", self.host(host).index)

    def link_up(self, host):
        self.fleet_sh("link-up", self.host(host).index)

    def close_connections(self):
        """Close the controller's persistent SSH connections (ControlMaster) to every host."""
        for sock in Path(self.info["control_dir"]).glob("*"):
            subprocess.run(["ssh", "-o", "ControlPath=%s" % sock, "-O", "exit", "fleet-host"], capture_output=True,
                           timeout=30, check=False)

    # -- counting module executions (count_modules=True) --------------------------------------

    def module_executions(self, host):
        """Module names run on ``host`` through the inventory's interpreter, oldest first.

        Needs ``count_modules=True``: the inventory then uses ``/usr/local/bin/fleet-python3``, which
        logs each module execution (its name, never its arguments) on the host.
        """
        if not self.count_modules:
            raise FleetError("module_executions() needs Fleet(count_modules=True)")
        # Through the host: files of a mounted overlay must not be changed behind its back.
        text = self.run_on(host, ["sh", "-c", 'cat "$1" 2>/dev/null || true', "log", "/" + MODULE_LOG]).stdout
        return [line.split(" ", 2)[2] for line in text.splitlines() if line.count(" ") >= 2]

    def reset_module_executions(self):
        for host in self.hosts:
            self.run_on(host, ["rm", "-f", "/" + MODULE_LOG])

    # -- ansible -------------------------------------------------------------------------------

    def playbook(self, playbook, *args, extra_vars=None, env=None, check=False, diff=False, verbosity=0,
                 limit=None, forks=None, inventory=None, timeout=900):
        """Run ``ansible-playbook`` against the fleet; returns the ``CompletedProcess`` (text)."""
        argv = [_ansible_tool("ansible-playbook"), "-i", str(inventory or self.inventory), str(playbook)]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        if limit:
            argv += ["--limit", limit if isinstance(limit, str) else ",".join(self.host(h).name for h in limit)]
        if forks:
            argv += ["--forks", str(forks)]
        argv += [str(a) for a in args]
        merged = dict(os.environ)
        merged.update(env or {})
        result = subprocess.run(argv, capture_output=True, text=True, env=merged, timeout=timeout, check=False)
        return leakscan.record(result, "ansible-playbook %s" % os.path.basename(str(playbook)))


class _SessionPopen(subprocess.Popen):
    """A Popen whose kill()/terminate() reach its whole session (the process started its own)."""

    def send_signal(self, signal):
        if self.returncode is None:
            try:
                os.killpg(self.pid, signal)
            except ProcessLookupError:
                pass

    def terminate(self):
        self.send_signal(signals.SIGTERM)

    def kill(self):
        self.send_signal(signals.SIGKILL)


def _ansible_tool(name):
    """The tool next to the running Python (the project's venv), else from PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def lock_path(net):
    """The lock fleet.sh holds on ``net`` while a fleet lives there."""
    directory = "/run/lock" if os.path.isdir("/run/lock") else "/tmp"
    return os.path.join(directory, "aiohub-fleet-%s.lock" % net)


def free_net(octets=AUTO_OCTETS):
    """A 169.254.X (X in ``octets``) that no fleet and no interface of this machine uses right now."""
    used = _nets_in_use()
    for octet in octets:
        net = "169.254.%d" % octet
        if net in used:
            continue
        fd = os.open(lock_path(net), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        finally:
            os.close(fd)  # closing drops the lock: fleet.sh takes it for good
        return net
    raise FleetError("no free 169.254.X.0/24 for a fleet (X in %d-%d)" % (octets[0], octets[-1]))


def _nets_in_use():
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=False).stdout
    nets = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3].startswith("169.254."):
            nets.add(fields[3].rsplit(".", 1)[0])
    return nets


def fleet_fixture(n=3, scope="module", **kwargs):
    """A pytest fixture (assign it to a name in a test module or conftest) yielding a running Fleet.

    Skips when the fleet cannot run here (see :func:`skip_reason`); the fleet is torn down after the
    last test of ``scope``, also when tests fail.
    """
    import pytest

    @pytest.fixture(scope=scope)
    def _fleet():
        reason = skip_reason()
        if reason:
            pytest.skip(reason)
        with Fleet(n, **kwargs) as fleet:
            yield fleet

    return _fleet
