"""Local users that exist only for the commands a test runs through them.

Each ``Sandbox`` writes its own ``passwd``/``group`` files (the host's system accounts plus the test
users, uids from 2001) and runs commands inside a private mount namespace where those files are
bind-mounted over ``/etc/passwd`` and ``/etc/group``. So ``users: all`` on localhost sees exactly the
test users, whose homes live under the test's temporary directory, and nothing touches the real
accounts of the machine. Needs root (the tests run as root in CI).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import leakscan

REPO = Path(__file__).resolve().parents[2]
FIRST_UID = 2001
SYSTEM_UID_LIMIT = 1000

_LAYOUT_DIRS = {
    "linux": (".config", "Claude-3p"),
    "macos": ("Library", "Application Support", "Claude-3p"),
}


def require_sandbox():
    """Skip the calling test when a sandbox cannot be made here (it needs root and ``unshare``)."""
    import shutil
    import pytest
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare (the sandbox bind-mounts its own /etc/passwd)")


def _system_lines(path):
    keep = []
    for line in Path(path).read_text().splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[2].isdigit() and (int(fields[2]) < SYSTEM_UID_LIMIT or int(fields[2]) == 65534):
            keep.append(line)
    return keep


class Sandbox:
    def __init__(self, root, users=("alice", "bob"), platform="linux", shell="/bin/bash", shared_gid=None):
        """``shared_gid``: give every user that primary group (as ``staff`` on a Mac) instead of its own."""
        self.root = Path(root)
        self.platform = platform
        self.homes = self.root / "homes"
        self.homes.mkdir(parents=True, exist_ok=True)
        self.users = {}
        passwd = _system_lines("/etc/passwd")
        group = _system_lines("/etc/group")
        for index, name in enumerate(users):
            uid = FIRST_UID + index
            home = self.homes / name
            home.mkdir(exist_ok=True)
            gid = shared_gid or uid
            os.chown(home, uid, gid)
            os.chmod(home, 0o750)
            self.users[name] = (uid, home)
            passwd.append("%s:x:%d:%d::%s:%s" % (name, uid, gid, home, shell))
            if not shared_gid:
                group.append("%s:x:%d:" % (name, uid))
        if shared_gid:
            group.append("staff-test:x:%d:" % shared_gid)
        self.passwd = self.root / "passwd"
        self.group = self.root / "group"
        self.passwd.write_text("\n".join(passwd) + "\n")
        self.group.write_text("\n".join(group) + "\n")
        self.inventory = self.root / "inventory.ini"
        self.inventory.write_text(
            "[workstations]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)

    # -- paths -------------------------------------------------------------------------------

    def uid(self, user):
        return self.users[user][0]

    def home(self, user):
        return self.users[user][1]

    def app_dir(self, user):
        return self.home(user).joinpath(*_LAYOUT_DIRS[self.platform])

    def config_file(self, user):
        return self.app_dir(user) / "claude_desktop_config.json"

    def library_dir(self, user):
        return self.app_dir(user) / "configLibrary"

    def write_config(self, user, content, mode=0o600):
        """Plant a config file owned by the user (``content``: dict, str or bytes)."""
        path = self.config_file(user)
        self.make_dirs(user, path.parent)
        if isinstance(content, dict):
            content = json.dumps(content, indent=2)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        os.chown(path, self.uid(user), self.uid(user))
        os.chmod(path, mode)
        return path

    def make_dirs(self, user, path):
        path = Path(path)
        home = self.home(user)
        current = home
        for part in path.relative_to(home).parts:
            current = current / part
            if not current.exists() and not current.is_symlink():
                current.mkdir()
                os.chown(current, self.uid(user), self.uid(user))
        return path

    def read_config(self, user):
        return json.loads(self.config_file(user).read_text(encoding="utf-8"))

    # -- running -----------------------------------------------------------------------------

    def wrap(self, argv):
        """``argv`` run in a private mount namespace that sees the sandbox's users."""
        script = "mount --bind %s /etc/passwd && mount --bind %s /etc/group && exec \"$@\"" % (
            shlex.quote(str(self.passwd)), shlex.quote(str(self.group)))
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sandbox"] + list(argv)

    def run(self, argv, env=None, check=False, timeout=600):
        merged = dict(os.environ)
        merged.update(env or {})
        result = subprocess.run(self.wrap(argv), capture_output=True, text=True, env=merged, check=check,
                                timeout=timeout, cwd=str(self.root))
        if os.path.basename(str(argv[0])).startswith("ansible"):
            leakscan.record(result, " ".join(os.path.basename(str(arg)) for arg in argv[:4]))
        return result

    def playbook(self, playbook, *args, extra_vars=None, env=None, check=False, diff=False, verbosity=0,
                 timeout=600):
        argv = ["ansible-playbook", "-i", str(self.inventory), str(playbook)]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        argv += list(args)
        return self.run(argv, env=env, timeout=timeout)

    def write_playbook(self, name, tasks, hosts="workstations", gather_facts=False):
        """Write a one-play playbook with ``tasks`` (a list of dicts) and return its path."""
        import yaml
        play = [{"name": name, "hosts": hosts, "gather_facts": gather_facts, "tasks": tasks}]
        path = self.root / ("%s.yml" % name.replace(" ", "_"))
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        return path
