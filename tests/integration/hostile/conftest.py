"""The hostile-conditions suite: one SSH fleet for the module, a fresh state per test, and the checks every
case shares (other hosts and users finish, no partial or temp file anywhere, errors that say host, user,
path and cause, no secret in any output, report or backup).

Fleet: 4 hosts (``host-h1``..``host-h4``) on a free 169.254.X.0/24, users alice, bob and carol on each.
Every user starts from the same file: MCP servers, preferences and an ``enterpriseConfig`` that points at
an old gateway with an old key, so every run changes every file and (``cowork_backup: true``) backs it
up, and backups are where an old key would leak.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ansible_collections.aiohub.claude_desktop.plugins.module_utils.posix_fs import TEMP_SUFFIX
from tests.support.fleet import FleetError, fleet_fixture
from tests.support.leakscan import LeakScan

HERE = Path(__file__).resolve().parent
CONVERGE = HERE / "converge.yml"
CALLBACKS = HERE / "callback_plugins"

PREFIX = "host-h"
HOSTS = 4
USERS = ("alice", "bob", "carol")

API_KEY = "sk-aiohub-hostile-default-6c2e8f1a9b3d5074"
CAROL_KEY = "sk-aiohub-hostile-carol-e41f7a2c9d0b3856"
OLD_KEY = "sk-aiohub-hostile-old-rotated-7b9d3f1e5a2c"
MCP_TOKEN = "ghp_hostileHostileHostile0123456789ab"
API_KEYS = (API_KEY, CAROL_KEY, OLD_KEY)
ALL_SECRETS = API_KEYS + (MCP_TOKEN,)

OLD_GATEWAY = "https://old-gateway.example.com"
GATEWAY = "https://api.aiohub.org"
EGRESS = ["docs.aiohub.org", "*.example.com"]
MODELS = ["claude-sonnet-4-6", "claude-opus-4-7"]
ENTRY_FILE = "configLibrary"

# Keys reach the role through lookups of the controller's environment, like a vault lookup: a key given
# with -e would be in ansible-playbook's own -vvvv output.
ROLE_VARS = {
    "cowork_gateway_api_key": "{{ lookup('ansible.builtin.env', 'HOSTILE_API_KEY') }}",
    "cowork_user_api_keys": {"carol": "{{ lookup('ansible.builtin.env', 'HOSTILE_CAROL_KEY') }}"},
    "cowork_gateway_base_url": GATEWAY,
    "cowork_models": MODELS,
    "cowork_egress_allowed_hosts": EGRESS,
    "cowork_layout": "both",
    "cowork_backup": True,
    "cowork_verify_gateway": False,
}


def expected_key(user):
    return CAROL_KEY if user == "carol" else API_KEY


def seed_document(user):
    return {
        "mcpServers": {
            "filesystem": {"command": "npx",
                           "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/%s/Documents" % user]},
            "github": {"command": "github-mcp", "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": MCP_TOKEN}},
        },
        "preferences": {"menuBarEnabled": True, "quickEntryShortcut": "off"},
        "enterpriseConfig": {
            "inferenceProvider": "gateway",
            "inferenceGatewayBaseUrl": OLD_GATEWAY,
            "inferenceGatewayApiKey": OLD_KEY,
        },
    }


def seed_bytes(user):
    return (json.dumps(seed_document(user), indent=2) + "\n").encode("utf-8")


# -- host-side scripts (run as root inside a host through nsenter) ---------------------------------------

# Puts every user back to the seed file: unmounts what a test mounted under /Users, removes the app
# directories (also symlinks planted in their place) and writes the seed as the user would.
RESET_SCRIPT = r"""
import json, os, pwd, shutil, subprocess, sys
spec = json.load(sys.stdin)
mounts = [line.split()[1] for line in open("/proc/self/mounts")]
for point in sorted((m for m in mounts if m.startswith("/Users/")), key=len, reverse=True):
    subprocess.run(["umount", "-l", point], check=False)
for user, content in spec["files"].items():
    entry = pwd.getpwnam(user)
    home = entry.pw_dir
    for path in (home + "/.config/Claude-3p", home + "/.config"):
        if os.path.islink(path):
            os.unlink(path)
    shutil.rmtree(home + "/.config/Claude-3p", ignore_errors=True)
    for name in os.listdir(home):
        if name.startswith("hostile-"):
            os.unlink(os.path.join(home, name))
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o755)
    app = home + "/.config/Claude-3p"
    os.makedirs(app, exist_ok=True)
    for directory in (home + "/.config", app):
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        os.chmod(directory, 0o700)
    path = app + "/claude_desktop_config.json"
    with open(path, "w") as handle:
        handle.write(content)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    os.chmod(path, 0o600)
"""

# Everything below each user's app directory (no symlink followed) and every temp file of the module
# anywhere a write could have landed. Prints JSON.
INSPECT_SCRIPT = r"""
import base64, hashlib, json, os, stat, sys
spec = json.load(sys.stdin)

def describe(path):
    info = os.lstat(path)
    item = {"mode": stat.S_IMODE(info.st_mode), "uid": info.st_uid, "size": info.st_size}
    if stat.S_ISLNK(info.st_mode):
        item.update(type="symlink", target=os.readlink(path))
    elif stat.S_ISDIR(info.st_mode):
        item.update(type="dir")
    elif stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            head = handle.read(spec["inline"])
            digest.update(head)
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        item.update(type="file", sha256=digest.hexdigest())
        if info.st_size <= spec["inline"]:
            item["content"] = base64.b64encode(head).decode("ascii")
    else:
        item.update(type="other")
    return item

def etc_entry(name):
    info = os.lstat(os.path.join("/etc", name))
    return [name, info.st_ino, info.st_size, info.st_mtime_ns]   # a file written through a link changes these

result = {"users": {}, "temp_files": [], "etc": sorted(etc_entry(name) for name in os.listdir("/etc"))}
for user in spec["users"]:
    app = "/Users/%s/.config/Claude-3p" % user
    tree = {}
    if os.path.lexists(app):
        tree["."] = describe(app)
        if tree["."]["type"] == "dir":
            for directory, dirs, files in os.walk(app):
                for name in dirs + files:
                    path = os.path.join(directory, name)
                    try:
                        tree[os.path.relpath(path, app)] = describe(path)
                    except FileNotFoundError:  # a concurrent writer's temp file, gone since the listing
                        continue
    result["users"][user] = tree
for root in spec["temp_roots"]:
    for directory, dirs, files in os.walk(root):
        result["temp_files"].extend(os.path.join(directory, name) for name in dirs + files
                                    if name.endswith(spec["temp_suffix"]))
print(json.dumps(result))
"""


class Snapshot(object):
    """What a host's users have on disk: {user: {relative path: {type, mode, uid, size, sha256, content}}}."""

    def __init__(self, host, data):
        self.host = host
        self.users = data["users"]
        self.temp_files = data["temp_files"]
        self.etc = data["etc"]

    def file(self, user, relative="claude_desktop_config.json"):
        return self.users[user].get(relative)

    def content(self, user, relative="claude_desktop_config.json"):
        item = self.file(user, relative)
        if item is None or "content" not in item:
            return None
        return base64.b64decode(item["content"])

    def document(self, user, relative="claude_desktop_config.json"):
        data = self.content(user, relative)
        return None if data is None else json.loads(data.decode("utf-8"))

    def files(self, user):
        return dict((path, item) for path, item in self.users[user].items() if item["type"] == "file")


class Run(object):
    """One ansible-playbook run: output, per-host task results, the report directory."""

    def __init__(self, completed, results, report_dir, elapsed):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = results
        self.report_dir = report_dir
        self.elapsed = elapsed

    @property
    def output(self):
        return self.stdout + self.stderr

    def host_status(self, host):
        """The worst status of ``host``'s tasks: unreachable > failed > changed > ok; None when absent."""
        statuses = [item["status"] for item in self.results.get(host, [])]
        for status in ("unreachable", "failed", "changed", "ok"):
            if status in statuses:
                return status
        return None

    def module_result(self, host):
        """The enterprise_config task's result on ``host`` (the last one that ran), or None."""
        for item in reversed(self.results.get(host, [])):
            if item["action"].endswith("enterprise_config") and item["status"] != "skipped":
                return item
        return None

    def user_results(self, host, user):
        item = self.module_result(host)
        if item is None:
            return []
        return [entry for entry in item["result"].get("results") or [] if entry.get("user") == user]

    def fatal_lines(self, host):
        """Ansible's reports that ``host`` failed or was unreachable, each with its result (at -v and more
        the result follows as an indented JSON block up to a closing brace in column 0)."""
        start = re.compile(r"^(fatal|failed): \[%s\]" % re.escape(host))
        blocks, current = [], None
        for line in self.stdout.splitlines():
            if current is not None:
                current.append(line)
                if line == "}" or not line.strip():
                    blocks.append("\n".join(current))
                    current = None
            elif start.match(line):
                current = [line]
                if not line.rstrip().endswith("{"):
                    blocks.append(line)
                    current = None
        if current is not None:
            blocks.append("\n".join(current))
        return blocks


class Hostile(object):
    """The suite's view of the fleet: reset, inspect, run, and the shared assertions."""

    def __init__(self, fleet, workdir):
        self.fleet = fleet
        self.workdir = Path(workdir)
        self.names = [host.name for host in fleet.hosts]
        self.scan_outputs = LeakScan(ALL_SECRETS)
        self.scan_files = LeakScan(API_KEYS)
        self.runs = []

    # -- state on the hosts ------------------------------------------------------------------

    def for_each_host(self, func, hosts=None):
        hosts = hosts or self.fleet.hosts
        with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            return dict(zip([self.fleet.host(h).name for h in hosts], pool.map(func, hosts)))

    def reset(self):
        """Every host: sshd running, no test mount, every user back to the seed file."""
        for line in self.fleet.fleet_sh("status", check=False).stdout.splitlines():
            fields = line.split("\t")
            if len(fields) == 3 and fields[2] != "up (sshd running)" and fields[0] in self.names:
                self.fleet.start_sshd(fields[0])
        spec = json.dumps({"files": dict((user, seed_bytes(user).decode("utf-8")) for user in USERS)})
        self.for_each_host(lambda host: self.fleet.run_on(host, ["python3", "-c", RESET_SCRIPT], input=spec))
        self.fleet.close_connections()

    def inspect(self, hosts=None):
        spec = json.dumps({"users": list(USERS), "inline": 3 << 20, "temp_suffix": TEMP_SUFFIX,
                           "temp_roots": ["/Users", "/etc", "/tmp", "/root"]})

        def one(host):
            out = self.fleet.run_on(host, ["python3", "-c", INSPECT_SCRIPT], input=spec, timeout=300).stdout
            return Snapshot(self.fleet.host(host).name, json.loads(out))

        return self.for_each_host(one, hosts)

    # -- running the role ----------------------------------------------------------------------

    def env(self, run_dir):
        return {
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "hostile_results,aiohub.claude_desktop.drift_report",
            "AIOHUB_DRIFT_REPORT_DIR": str(run_dir / "report"),
            "HOSTILE_RESULTS_FILE": str(run_dir / "results.json"),
            "HOSTILE_API_KEY": API_KEY,
            "HOSTILE_CAROL_KEY": CAROL_KEY,
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_FORKS": "4",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_TIMEOUT": "10",
        }

    def argv(self, playbook=CONVERGE, check=False, diff=True, extra_vars=None):
        variables = dict(ROLE_VARS)
        variables.update(extra_vars or {})
        argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(self.fleet.inventory),
                str(playbook), "-vvvv", "-e", json.dumps(variables)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        return argv

    def new_run_dir(self):
        run_dir = self.workdir / ("run-%d" % (len(self.runs) + 1))
        run_dir.mkdir(parents=True)
        return run_dir

    def start(self, playbook=CONVERGE, check=False, extra_vars=None, diff=True):
        """Start ansible-playbook in the background (own process group); finish it with ``finish``."""
        run_dir = self.new_run_dir()
        env = dict(os.environ)
        env.update(self.env(run_dir))
        proc = subprocess.Popen(self.argv(playbook, check, diff, extra_vars), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        proc.run_dir = run_dir
        proc.started = time.monotonic()
        return proc

    def finish(self, proc, timeout=600):
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            stdout, stderr = proc.communicate()
        completed = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        results_file = proc.run_dir / "results.json"
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        run = Run(completed, results, proc.run_dir / "report", time.monotonic() - proc.started)
        self.runs.append(run)
        self.scan_run(run, "run %d" % len(self.runs))
        return run

    def run(self, playbook=CONVERGE, check=False, extra_vars=None, diff=True):
        return self.finish(self.start(playbook, check, extra_vars, diff))

    # -- shared checks ---------------------------------------------------------------------------

    def scan_run(self, run, label):
        self.scan_outputs.data(run.stdout, "%s: stdout (-vvvv)" % label)
        self.scan_outputs.data(run.stderr, "%s: stderr (-vvvv)" % label)
        self.scan_outputs.file(run.report_dir.parent / "results.json", "%s: task results" % label)
        if run.report_dir.exists():
            self.scan_outputs.tree(run.report_dir, "%s: drift report" % label)

    def scan_hosts(self, snapshots):
        """Backups and every other non-config file the run left in users' directories, and the hosts' logs."""
        for name, snapshot in snapshots.items():
            for user in USERS:
                for path, item in snapshot.files(user).items():
                    if path.endswith(".bak") or not path.endswith(".json"):
                        data = snapshot.content(user, path)
                        if data is not None:
                            self.scan_files.data(data, "%s: %s's %s" % (name, user, path))
            self.scan_outputs.tree(self.fleet.host(name).upper / "var" / "log", "%s: /var/log" % name)

    def assert_no_leak(self, snapshots=None):
        self.scan_hosts(snapshots or self.inspect())
        self.scan_outputs.assert_clean("the -vvvv output, task results and drift reports")
        self.scan_files.assert_clean("backups and other files on the hosts")

    def assert_intact(self, before, after):
        """No partial or truncated file anywhere: each config file parses or is byte-for-byte what it was; no
        temp file is left; /etc is untouched."""
        for name, snapshot in after.items():
            assert not snapshot.temp_files, "%s: temp files left behind: %s" % (name, snapshot.temp_files)
            assert snapshot.etc == before[name].etc, "%s: /etc changed" % name
            for user in USERS:
                for path, item in snapshot.files(user).items():
                    if not path.endswith(".json"):
                        continue
                    old = before[name].file(user, path)
                    if old is not None and old.get("sha256") == item.get("sha256"):
                        continue
                    data = snapshot.content(user, path)
                    assert data is not None, "%s: %s's %s changed and is too large to be ours" % (name, user, path)
                    try:
                        document = json.loads(data.decode("utf-8"))
                    except ValueError as exc:
                        raise AssertionError("%s: %s's %s is neither intact nor valid JSON: %s"
                                             % (name, user, path, exc))
                    assert isinstance(document, dict), "%s: %s's %s is not a JSON object" % (name, user, path)

    def assert_converged(self, snapshots, run, except_for=()):
        """Every (host, user) not in ``except_for`` has our settings, in the file and in the library entry;
        ``except_for`` holds (host, user) pairs, or (host, None) for a whole host."""
        skipped = set(except_for)
        for name, snapshot in snapshots.items():
            if (name, None) in skipped:
                continue
            for user in USERS:
                if (name, user) in skipped:
                    continue
                where = "%s/%s" % (name, user)
                document = snapshot.document(user)
                assert document is not None, "%s: no config file" % where
                ours = document.get("enterpriseConfig", {})
                assert ours.get("inferenceGatewayApiKey") == expected_key(user), \
                    "%s: not converged (run rc %d):\n%s" % (where, run.returncode, run_tail(run))
                assert ours.get("inferenceGatewayBaseUrl") == GATEWAY, where
                assert ours.get("coworkEgressAllowedHosts") == EGRESS, where
                assert document["mcpServers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"] == MCP_TOKEN, where
                library = [path for path in snapshot.files(user)
                           if path.startswith("configLibrary/") and path.endswith(".json")
                           and not path.endswith("_meta.json")]
                assert library, "%s: no configLibrary entry" % where
                entry = snapshot.document(user, library[0])
                assert entry.get("inferenceGatewayApiKey") == expected_key(user), where
                for entries in run.user_results(name, user):
                    assert not entries.get("error"), "%s: %s" % (where, entries.get("error"))

    def assert_untouched(self, before, after, host, user, paths=None):
        """The user's files (``paths`` relative to the app directory; default: all) are byte-for-byte what
        they were, with the same mode; with ``paths=None`` no file was added either."""
        old, new = before[host].users[user], after[host].users[user]
        if paths is None:
            assert sorted(new) == sorted(old), "%s/%s: files changed: %s -> %s" % (
                host, user, sorted(old), sorted(new))
            paths = list(old)
        for path in paths:
            assert (path in new) == (path in old), "%s/%s: %s appeared or vanished" % (host, user, path)
            if path in old:
                assert new[path].get("sha256") == old[path].get("sha256"), "%s/%s: %s changed" % (host, user, path)
                assert new[path].get("mode") == old[path].get("mode"), "%s/%s: mode of %s changed" % (
                    host, user, path)

    def assert_error_names(self, run, host, user, path, cause):
        """Ansible's failure line for ``host`` names the user, the path and the cause (a regex)."""
        lines = run.fatal_lines(host)
        assert lines, "%s did not fail:\n%s" % (host, run_tail(run))
        found = [line for line in lines if user in line and path in line and re.search(cause, line)]
        assert found, "no failure of %s names user %r, path %r and cause %r:\n%s" % (
            host, user, path, cause, "\n".join(line[:2000] for line in lines))
        errors = [entry.get("error") or "" for entry in run.user_results(host, user)]
        assert any(path in error and re.search(cause, error) for error in errors), \
            "%s/%s: per-user results do not carry the error: %r" % (host, user, errors)


def run_tail(run, lines=60):
    return "\n".join(run.output.splitlines()[-lines:])


def app_dir(user):
    return "/Users/%s/.config/Claude-3p" % user


def config_path(user):
    return app_dir(user) + "/claude_desktop_config.json"


# net="auto": a free 169.254.X.0/24, so the suite can run next to other fleets (and the benchmarks).
fleet = fleet_fixture(HOSTS, net="auto", prefix=PREFIX, users=USERS, count_modules=True, timeout=60)


@pytest.fixture
def hostile(fleet, tmp_path):
    """A fresh state on every host; after the test, sshd runs again and test mounts are gone."""
    suite = Hostile(fleet, tmp_path)
    suite.reset()
    try:
        yield suite
        suite.assert_no_leak()      # every run of every case, even one whose test forgot to ask
    finally:
        try:
            suite.reset()
        except FleetError:
            pass
