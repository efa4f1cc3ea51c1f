"""Benchmark the collection on a fleet of SSH hosts, against the floor (ping) and a hand-rolled baseline.

Brings up ``--hosts`` network-namespace SSH hosts with ``--users`` users each (tests/fleet/fleet.sh, on
169.254.80.0/24 by default), then, on the same inventory with the same forks and pipelining on, times
``--reps`` repetitions (medians reported) of:

  (a)  floor: ``ansible -m ansible.builtin.ping`` over the fleet
  (b)  the role's first converge (every user's file is reset to the same pre-existing file before it)
  (c)  a rerun with nothing to change
  (d)  the drift run: playbooks/drift.yml with ``--check --diff`` and the drift_report callback, on a
       fleet where every user's key was rotated and an egress host added by hand (every file drifted)
  (e1) the hand-rolled BASELINE (benchmarks/baseline/): first run, (e2) rerun, (e3) ``--check --diff``
       on the same drifted fleet

then one counting run of each of (b)-(e3): module executions per host (logged on the host by the
fleet's counting interpreter) and remote commands per host (ssh/sftp invocations, logged by wrappers
the ssh connection plugin is pointed at), for 1 user and for all users; and the engine alone
(benchmarks/engine.py). Prints a table with the ratios and the targets, and writes everything to
benchmarks/results/<time>.json.

    benchmarks/run [--hosts 20] [--users 5] [--forks 10] [--reps 3] [--skip-baseline] ...
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

import engine  # noqa: E402
from tests.support.fleet import MODULE_LOG, Fleet  # noqa: E402
from tests.support.leakscan import LeakScan  # noqa: E402

NET = "169.254.80"
PREFIX = "bench-h"
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
API_KEY = "sk-aiohub-bench-live-9d41c7a2e85f4b36a0c1"
OLD_API_KEY = "sk-aiohub-bench-rotated-31b8e0f6c2d94a57b1e9"
GATEWAY = "https://api.aiohub.org"
SETTINGS = {
    "inferenceProvider": "gateway",
    "inferenceGatewayBaseUrl": GATEWAY,
    "inferenceGatewayApiKey": API_KEY,
    "inferenceGatewayAuthScheme": "bearer",
    "inferenceModels": ["claude-sonnet-4-6", "claude-opus-4-7"],
    "coworkEgressAllowedHosts": ["docs.aiohub.org", "*.example.com"],
}
DRIFT_PLAYBOOK = REPO / "playbooks" / "drift.yml"
TOOLS = BENCH / "tools"

TARGETS = (
    ("b", "a", "<=", 2.0, "(b) first converge <= 2.0 x ping"),
    ("c", "a", "<=", 1.5, "(c) rerun <= 1.5 x ping"),
    ("d", "a", "<=", 1.5, "(d) drift run <= 1.5 x ping"),
    ("e1", "b", ">=", 8.0, "(e1)/(b) baseline first run >= 8 x role"),
)

# Runs as root inside each host: gives every user the same file (seed: a pre-existing config without
# our keys, Claude-3p/ otherwise empty; drift: our keys with the API key rotated and one egress host
# added by hand). The JSON spec arrives on stdin.
RESET_SCRIPT = r"""
import json, os, pwd, shutil, sys
spec = json.load(sys.stdin)
for user in spec["users"]:
    entry = pwd.getpwnam(user)
    config_dir = os.path.join(entry.pw_dir, ".config")
    app_dir = os.path.join(config_dir, "Claude-3p")
    if spec["mode"] == "seed":
        shutil.rmtree(app_dir, ignore_errors=True)
    os.makedirs(app_dir, exist_ok=True)
    for directory in (config_dir, app_dir):
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        os.chmod(directory, 0o700)
    path = os.path.join(app_dir, "claude_desktop_config.json")
    with open(path + ".bench", "w") as handle:
        handle.write(spec["content"])
    os.chown(path + ".bench", entry.pw_uid, entry.pw_gid)
    os.chmod(path + ".bench", 0o600)
    os.rename(path + ".bench", path)
"""


# -- facts about the machine ------------------------------------------------------------------------

def machine_facts():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    ansible_version = subprocess.run([tool("ansible"), "--version"], capture_output=True, text=True, check=False).stdout
    ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False).stderr.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": _os_release(),
        "python": platform.python_version(),
        "ansible_core": ansible_version.splitlines()[0] if ansible_version else "unknown",
        "openssh": ssh_version,
    }


def _os_release():
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def load_snapshot():
    """Load average and the busiest processes of the whole machine (other users included)."""
    top = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True, check=False,
                         text=True).stdout.splitlines()[:5]
    return {"loadavg": list(os.getloadavg()), "top": [line.strip() for line in top]}


def machine_busy_seconds():
    """CPU seconds the whole machine spent busy since boot (every process, every core)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def foreign_cpu_seconds():
    """CPU seconds used so far by the processes of other people on this machine: every process in this
    network namespace (fleet hosts live in their own) that is not this benchmark or one of its children,
    with the time of their reaped children. Sampled before and after a run, the difference is the load
    others put on the machine during it."""
    own_netns = os.readlink("/proc/self/ns/net")
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if os.readlink("/proc/%s/ns/net" % entry) != own_netns:
                continue
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(value) for value in fields[11:15])   # utime stime cutime cstime
    ours = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in ours and pid not in ours:
                ours.add(pid)
                changed = True
    ancestors, pid = set(), os.getpid()
    while pid in parents and pid not in ancestors:
        ancestors.add(pid)
        pid = parents[pid]
    return dict((pid, ticks) for pid, ticks in times.items() if pid not in ours and pid not in ancestors)


def foreign_cpu_delta(before):
    after = foreign_cpu_seconds()
    ticks = sum(after[pid] - before[pid] for pid in after if pid in before and after[pid] >= before[pid])
    return ticks / os.sysconf("SC_CLK_TCK")


def tool(name):
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


# -- one ansible run ----------------------------------------------------------------------------------

class Run(object):
    """One timed ansible(-playbook) run: wall time, controller CPU, machine CPU, recap, output."""

    RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

    def __init__(self, label, argv, env, returncode, stdout, stderr, wall, cpu, machine_cpu, others_cpu=0.0):
        self.label = label
        self.argv = argv
        self.env = env
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.wall = wall
        self.cpu = cpu
        self.machine_cpu = machine_cpu
        self.others_cpu = others_cpu

    def recap(self):
        return dict((m.group(1), {"ok": int(m.group(2)), "changed": int(m.group(3)),
                                  "unreachable": int(m.group(4)), "failed": int(m.group(5))})
                    for m in self.RECAP.finditer(self.stdout))

    def changed_hosts(self):
        return sum(1 for item in self.recap().values() if item["changed"])

    def key_hits(self, *keys):
        """Plain occurrences of the keys; when there is none, the places holding an encoded form (base64, hex,
        escapes), so a leak is counted whatever form it took."""
        text = self.stdout + self.stderr
        plain = sum(text.count(key) for key in keys)
        return plain or len(LeakScan(keys).run(self, "run"))

    def summary(self):
        return {"wall": self.wall, "cpu": self.cpu, "machine_cpu": self.machine_cpu, "others_cpu": self.others_cpu,
                "rc": self.returncode}


def run_ansible(label, argv, env=None, timeout=3600):
    merged = dict(os.environ)
    merged.update(env or {})
    if not merged.get("ANSIBLE_CALLBACKS_ENABLED"):
        merged.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    foreign = foreign_cpu_seconds()
    busy = machine_busy_seconds()
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=merged, timeout=timeout, check=False)
    wall = time.monotonic() - started
    busy = machine_busy_seconds() - busy
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(label, argv, env or {}, proc.returncode, proc.stdout, proc.stderr, wall, cpu, busy,
               foreign_cpu_delta(foreign))


# -- the benchmark --------------------------------------------------------------------------------------

class Bench(object):

    def __init__(self, args):
        self.args = args
        self.users = list(NAMES[:args.users]) + ["user%02d" % i for i in range(len(NAMES) + 1, args.users + 1)]
        self.fleet = Fleet(args.hosts, net=args.net, prefix=args.prefix, users=self.users, base=args.base,
                           timeout=120)
        self.workdir = Path(tempfile.mkdtemp(prefix="aiohub-bench-"))
        self.runs = {}
        self.counts = {}
        self.notes = []

    # -- files on the hosts ------------------------------------------------------------------------

    def seed_document(self):
        document = engine.ordinary_document()
        document["mcpServers"]["filesystem"]["args"][-1] = "~/Documents"
        document["mcpServers"]["sqlite"]["args"][-1] = "~/test.db"
        return document

    def drifted_document(self):
        document = self.seed_document()
        drifted = dict(SETTINGS)
        drifted["inferenceGatewayApiKey"] = OLD_API_KEY
        drifted["coworkEgressAllowedHosts"] = SETTINGS["coworkEgressAllowedHosts"] + ["pastebin.com"]
        document["enterpriseConfig"] = drifted
        return document

    def reset(self, mode):
        """Every user of every host gets the seed (``seed``) or the drifted file (``drift``)."""
        document = self.seed_document() if mode == "seed" else self.drifted_document()
        spec = json.dumps({"mode": mode, "users": self.users, "content": json.dumps(document, indent=2) + "\n"})

        def one(host):
            self.fleet.run_on(host, ["python3", "-c", RESET_SCRIPT], input=spec)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(one, self.fleet.hosts))

    # -- command lines -----------------------------------------------------------------------------

    def base_env(self):
        env = {
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_FORKS": str(self.args.forks),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CALLBACKS_ENABLED": "",
            "BENCH_API_KEY": API_KEY,
        }
        if self.args.profile_tasks:
            env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
        if self.args.roles_path:
            env["ANSIBLE_ROLES_PATH"] = self.args.roles_path
        return env

    def role_vars(self, users=None):
        variables = {
            "cowork_gateway_base_url": GATEWAY,
            "cowork_gateway_api_key": "{{ lookup('ansible.builtin.env', 'BENCH_API_KEY') }}",
            "cowork_gateway_auth_scheme": "bearer",
            "cowork_models": SETTINGS["inferenceModels"],
            "cowork_egress_allowed_hosts": SETTINGS["coworkEgressAllowedHosts"],
            "cowork_layout": self.args.layout,
            "cowork_verify_gateway": False,
        }
        if users:
            variables["cowork_users"] = users
        if self.args.role:
            variables["bench_role"] = self.args.role
        return variables

    def baseline_vars(self, users=None):
        settings = dict(SETTINGS, inferenceGatewayApiKey="{{ lookup('ansible.builtin.env', 'BENCH_API_KEY') }}")
        variables = {"baseline_settings": settings}
        if users:
            variables["baseline_users"] = users
        return variables

    def playbook_argv(self, playbook, variables, extra=(), counting=False):
        argv = [tool("ansible-playbook"), "-i", str(self.fleet.inventory), "--forks", str(self.args.forks),
                str(playbook), "-e", json.dumps(variables)]
        if counting:
            argv += ["-e", json.dumps(self.counting_vars())]
        return argv + list(extra)

    def ping_argv(self, counting=False):
        argv = [tool("ansible"), "-i", str(self.fleet.inventory), "--forks", str(self.args.forks), "cowork_hosts",
                "-m", "ansible.builtin.ping"]
        if counting:
            argv += ["-e", json.dumps(self.counting_vars())]
        return argv

    def counting_vars(self):
        return {
            "ansible_python_interpreter": "/usr/local/bin/fleet-python3",
            "ansible_ssh_executable": str(TOOLS / "ssh"),
            "ansible_sftp_executable": str(TOOLS / "sftp"),
            "ansible_scp_executable": str(TOOLS / "scp"),
        }

    def scenario(self, name, users=None, counting=False):
        """(argv, env, setup, check) for one scenario."""
        env = self.base_env()
        converge = BENCH / "playbooks" / "role.yml"
        baseline = BENCH / "baseline" / "converge.yml"
        if name == "a":
            return self.ping_argv(counting), env, None, self.expect_ok
        if name == "b":
            return self.playbook_argv(converge, self.role_vars(users), counting=counting), env, "seed", \
                self.expect_changed
        if name == "c":
            return self.playbook_argv(converge, self.role_vars(users), counting=counting), env, None, \
                self.expect_unchanged
        if name == "d":
            report_dir = self.workdir / "drift-report"
            env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(
                item for item in (env["ANSIBLE_CALLBACKS_ENABLED"], "aiohub.claude_desktop.drift_report") if item)
            env["AIOHUB_DRIFT_REPORT_DIR"] = str(report_dir)
            playbook = Path(self.args.drift_playbook) if self.args.drift_playbook else DRIFT_PLAYBOOK
            expected_users = len(users) if users else len(self.users)
            return self.playbook_argv(playbook, self.role_vars(users), ["--check", "--diff"], counting=counting), \
                env, "drift", lambda run: self.expect_drift(run, expected_users)
        if name == "e1":
            return self.playbook_argv(baseline, self.baseline_vars(users), counting=counting), env, "seed", \
                self.expect_changed
        if name == "e2":
            return self.playbook_argv(baseline, self.baseline_vars(users), counting=counting), env, None, \
                self.expect_unchanged
        if name == "e3":
            return self.playbook_argv(baseline, self.baseline_vars(users), ["--check", "--diff"],
                                      counting=counting), env, "drift", self.expect_changed
        raise ValueError(name)

    # -- expectations (a benchmark of a broken run is worthless) -------------------------------

    def _fail(self, run, why):
        log = self.workdir / ("%s-failed.log" % run.label)
        log.write_text("%s\n\nSTDOUT\n%s\nSTDERR\n%s" % (" ".join(run.argv), run.stdout, run.stderr))
        raise SystemExit("benchmark run %s: %s (rc %d); output in %s" % (run.label, why, run.returncode, log))

    def expect_ok(self, run):
        if run.returncode != 0:
            self._fail(run, "failed")
        hosts = len(self.fleet.hosts)
        answered = len(run.recap()) if "PLAY RECAP" in run.stdout else run.stdout.count(" | SUCCESS")
        if answered != hosts:
            self._fail(run, "%d of %d hosts answered" % (answered, hosts))

    def expect_changed(self, run):
        self.expect_ok(run)
        if run.changed_hosts() != len(self.fleet.hosts):
            self._fail(run, "expected every host to change, %d did" % run.changed_hosts())

    def expect_unchanged(self, run):
        self.expect_ok(run)
        if run.changed_hosts():
            self._fail(run, "expected no change, %d host(s) changed" % run.changed_hosts())

    def expect_drift(self, run, users):
        # playbooks/drift.yml exits 2 when its drift gate finds drift, which is the point here; its summary (and
        # the callback's) must count every host and every user as drifted.
        hosts = len(self.fleet.hosts)
        if run.returncode not in (0, 2):
            self._fail(run, "the drift run failed")
        if not re.search(r"\b%d drifted \(%d users\)" % (hosts, hosts * users), run.stdout):
            self._fail(run, "the drift run did not report %d drifted hosts with %d users" % (hosts, hosts * users))
        if any(item["unreachable"] for item in run.recap().values()):
            self._fail(run, "unreachable hosts")
        report = self.workdir / "drift-report" / "drift.json"
        if not report.exists():
            self._fail(run, "the drift_report callback wrote no drift.json")
        hosts_in_report = json.loads(report.read_text())["hosts"]
        drifted = [(host, user) for host, entry in hosts_in_report.items() if entry["status"] == "drifted"
                   for user, data in entry["users"].items() if data["status"] == "drifted"]
        if len(drifted) != hosts * users:
            self._fail(run, "drift.json names %d drifted users, expected %d" % (len(drifted), hosts * users))
        report.unlink()                     # each run of (d) must write its own

    # -- running --------------------------------------------------------------------------------

    def prepare(self, setup):
        if setup:
            self.reset(setup)
        if not self.args.warm:
            self.fleet.close_connections()

    def timed(self, name, rep):
        argv, env, setup, check = self.scenario(name)
        self.prepare(setup)
        run = run_ansible("%s-%d" % (name, rep), argv, env)
        check(run)
        run.api_key_hits = run.key_hits(API_KEY, OLD_API_KEY)
        self.runs.setdefault(name, []).append(run)
        if self.args.profile_tasks:
            (self.workdir / ("%s-%d.log" % (name, rep))).write_text(run.stdout)
        print("  %-3s rep %d: %7.2f s wall, %6.2f s controller CPU, %6.2f s machine CPU, %6.2f s CPU of others, "
              "%d API key hit(s)" % (name, rep, run.wall, run.cpu, run.machine_cpu, run.others_cpu, run.api_key_hits),
              flush=True)
        return run

    def counted(self, name, users):
        """Module executions and remote commands per host of one run of ``name`` for ``users``."""
        argv, env, setup, check = self.scenario(name, users=users, counting=True)
        if name in ("c", "e2"):
            # A rerun counts what a rerun does: converge first (uncounted).
            first = "b" if name == "c" else "e1"
            f_argv, f_env, f_setup, f_check = self.scenario(first, users=users)
            self.prepare(f_setup)
            f_check(run_ansible("count-setup", f_argv, f_env))
        self.prepare(setup)
        self.reset_module_log()
        ssh_log = self.workdir / "remote-commands.log"
        ssh_log.unlink(missing_ok=True)
        env = dict(env, BENCH_REMOTE_LOG=str(ssh_log))
        run = run_ansible("count-%s" % name, argv, env)
        check(run)
        logs = dict((host.name, self.module_log(host)) for host in self.fleet.hosts)
        modules = [len(names) for names in logs.values()]
        remote = dict((host.address, 0) for host in self.fleet.hosts)
        if ssh_log.exists():
            for line in ssh_log.read_text().splitlines():
                for address in re.findall(r"%s\.\d+" % re.escape(self.args.net), line):
                    if address in remote:
                        remote[address] += 1
                        break
        names = logs[self.fleet.hosts[0].name]
        return {"modules_per_host": statistics.median(modules), "modules_max": max(modules),
                "remote_per_host": statistics.median(remote.values()), "remote_max": max(remote.values()),
                "module_names": names}

    @staticmethod
    def module_log(host):
        """Module names the counting interpreter logged on ``host`` (oldest first)."""
        try:
            lines = (host.upper / MODULE_LOG).read_text().splitlines()
        except FileNotFoundError:
            return []
        return [line.split(" ", 2)[2] for line in lines if line.count(" ") >= 2]

    def reset_module_log(self):
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda host: self.fleet.run_on(host, ["rm", "-f", "/" + MODULE_LOG]), self.fleet.hosts))

    def run(self):
        args = self.args
        self.facts = machine_facts()
        self.load_before = load_snapshot()
        print("machine: %s, %d cores; load %s" % (self.facts["cpu"], self.facts["cores"],
                                                  " ".join("%.2f" % x for x in self.load_before["loadavg"])))
        if args.patch:
            self.notes.append("timed with proposal(s) applied to a copy of the role and the drift playbook: %s"
                              % ", ".join(args.patch))
        elif args.role:
            self.notes.append("(b)-(c) timed the role %s from %s, not aiohub.claude_desktop.cowork"
                              % (args.role, args.roles_path))
        if args.drift_playbook and not args.patch:
            self.notes.append("(d) timed %s, not playbooks/drift.yml" % args.drift_playbook)
        started = time.monotonic()
        self.fleet.up()
        self.fleet_up_seconds = time.monotonic() - started
        print("fleet: %d hosts x %d users up in %.1f s (%s)" % (
            len(self.fleet.hosts), len(self.users), self.fleet_up_seconds, self.fleet.inventory))
        try:
            order = ["a", "b", "c", "d"] + ([] if args.skip_baseline else ["e1", "e2", "e3"])
            if args.only:
                order = [name for name in order if name in args.only]
            for rep in range(1, args.reps + 1):
                for name in order:
                    self.timed(name, rep)
            if not args.skip_counts:
                self.count_round_trips(order)
            self.load_after = load_snapshot()
        finally:
            if args.keep_fleet:
                print("fleet kept: %s" % " ".join("%s=%s" % kv for kv in self.fleet.env().items()))
            else:
                self.fleet.down()
        self.engine = None if args.skip_engine else engine.measure()
        return self.report()

    def count_round_trips(self, order):
        print("counting module executions and remote commands per host ...", flush=True)
        for users in ([self.users[0]], self.users):
            key = "%d user%s" % (len(users), "" if len(users) == 1 else "s")
            for name in order:
                self.counts.setdefault(name, {})[key] = self.counted(name, users if len(users) < len(self.users)
                                                                     else None)

    # -- report ---------------------------------------------------------------------------------

    def medians(self):
        return dict((name, {
            "wall": statistics.median(run.wall for run in runs),
            "wall_min": min(run.wall for run in runs),
            "wall_max": max(run.wall for run in runs),
            "cpu": statistics.median(run.cpu for run in runs),
            "machine_cpu": statistics.median(run.machine_cpu for run in runs),
            "others_cpu": statistics.median(run.others_cpu for run in runs),
            "others_cpu_max": max(run.others_cpu for run in runs),
            "api_key_hits": max(run.api_key_hits for run in runs),
            "reps": len(runs),
        }) for name, runs in self.runs.items())

    def report(self):
        medians = self.medians()
        targets = []
        for name, base, op, limit, text in TARGETS:
            if name not in medians or base not in medians:
                continue
            ratio = medians[name]["wall"] / medians[base]["wall"]
            met = ratio <= limit if op == "<=" else ratio >= limit
            targets.append({"target": text, "ratio": ratio, "met": met})
        counts_all = "%d users" % len(self.users) if len(self.users) > 1 else "1 user"
        trips = dict((name, (by_users.get("1 user", {}).get("remote_per_host"),
                             by_users.get(counts_all, {}).get("remote_per_host")))
                     for name, by_users in self.counts.items())
        modules = dict((name, (by_users.get("1 user", {}).get("modules_max"),
                               by_users.get(counts_all, {}).get("modules_max")))
                       for name, by_users in self.counts.items())
        independent = all(one == many and modules[name][0] == modules[name][1]
                          for name, (one, many) in trips.items() if name in ("b", "c", "d"))
        if trips:
            targets.append({"target": "round trips per host independent of the number of users (b)-(d)",
                            "ratio": None, "met": independent})
        role_runs = [name for name in ("a", "b", "c", "d") if name in medians]
        if role_runs:
            hits = max(medians[name]["api_key_hits"] for name in role_runs)
            targets.append({"target": "no API key in the output of (a)-(d)", "ratio": hits, "met": hits == 0})
        if self.engine:
            ordinary = self.engine[0]
            worst = max(ordinary["first_ms"], ordinary["rerun_ms"], ordinary["drift_diff_ms"])
            targets.append({"target": "engine < 5 ms per ordinary user file", "ratio": worst, "met": worst < 5.0})
        result = {
            "when": datetime.datetime.now().isoformat(timespec="seconds"),
            "hosts": len(self.fleet.info.get("hosts", [])) or self.args.hosts,
            "users_per_host": len(self.users),
            "forks": self.args.forks,
            "reps": self.args.reps,
            "layout": self.args.layout,
            "connections": ("warm (ControlMaster kept)" if self.args.warm
                            else "cold (ControlMaster closed before each run)"),
            "facts": self.facts,
            "load_before": self.load_before,
            "load_after": getattr(self, "load_after", None),
            "fleet_up_seconds": self.fleet_up_seconds,
            "medians": medians,
            "runs": dict((name, [run.summary() for run in runs]) for name, runs in self.runs.items()),
            "counts": self.counts,
            "engine": self.engine,
            "targets": targets,
            "notes": self.notes,
        }
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        out = out_dir / ("%s-%dx%d.json" % (time.strftime("%Y%m%d-%H%M%S"), result["hosts"], len(self.users)))
        out.write_text(json.dumps(result, indent=2) + "\n")
        print()
        print_report(result, sys.stdout)
        print("\nresults: %s" % out)
        shutil.rmtree(self.workdir, ignore_errors=True)
        return 0 if all(item["met"] for item in targets) else 1


LABELS = {
    "a": "(a) floor: ansible -m ping",
    "b": "(b) role, first converge",
    "c": "(c) role, rerun (no change)",
    "d": "(d) drift run (--check --diff, report)",
    "e1": "(e1) BASELINE, first run",
    "e2": "(e2) BASELINE, rerun",
    "e3": "(e3) BASELINE, --check --diff",
}


def print_report(result, out):
    medians = result["medians"]
    floor = medians.get("a", {}).get("wall")
    users_key = "%d users" % result["users_per_host"] if result["users_per_host"] > 1 else "1 user"
    out.write("%d hosts x %d users, forks %d, pipelining, %s, medians of %d\n\n" % (
        result["hosts"], result["users_per_host"], result["forks"], result["connections"], result["reps"]))
    out.write("| run | wall s, median (min-max) | x ping | baseline / role | controller CPU s (x ping) "
              "| machine CPU s | others' CPU s, max | modules/host (1 user / %s) "
              "| remote commands/host (1 user / %s) | API key in output |\n" % (users_key, users_key))
    out.write("|---|---|---|---|---|---|---|---|---|---|\n")
    pairs = {"e1": "b", "e2": "c", "e3": "d"}
    floor_cpu = medians.get("a", {}).get("cpu")
    for name in ("a", "b", "c", "d", "e1", "e2", "e3"):
        if name not in medians:
            continue
        item = medians[name]
        counts = result["counts"].get(name, {})
        one, many = counts.get("1 user", {}), counts.get(users_key, {})
        versus = ""
        if name in pairs and pairs[name] in medians:
            versus = "%.1f" % (item["wall"] / medians[pairs[name]]["wall"])
        out.write("| %s | %.2f (%.2f-%.2f) | %s | %s | %.1f (%s) | %.1f | %.1f | %s / %s | %s / %s | %d |\n" % (
            LABELS[name], item["wall"], item["wall_min"], item["wall_max"],
            "%.2f" % (item["wall"] / floor) if floor else "-", versus, item["cpu"],
            "%.2f" % (item["cpu"] / floor_cpu) if floor_cpu else "-", item["machine_cpu"],
            item.get("others_cpu_max", 0.0),
            _num(one.get("modules_per_host")), _num(many.get("modules_per_host")),
            _num(one.get("remote_per_host")), _num(many.get("remote_per_host")), item["api_key_hits"]))
    if result.get("engine"):
        out.write("\n")
        engine.print_table(result["engine"], out)
    out.write("\nTargets:\n")
    for item in result["targets"]:
        value = "" if item["ratio"] is None else " (%.2f)" % item["ratio"]
        out.write("  [%s] %s%s\n" % ("met" if item["met"] else "MISSED", item["target"], value))
    for note in result["notes"]:
        out.write("  note: %s\n" % note)
    out.write("load average before the fleet came up (1, 5, 15 min): %s; the CPU other processes used during each run "
              "is in the column \"others' CPU\"\n" % " ".join("%.2f" % x for x in result["load_before"]["loadavg"]))


def _num(value):
    if value is None:
        return "-"
    return "%g" % value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--hosts", type=int, default=20, help="fleet size (default 20, at most 63)")
    parser.add_argument("--users", type=int, default=5, help="users per host (default 5)")
    parser.add_argument("--forks", type=int, default=10, help="ansible forks (default 10)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each timed run (default 3)")
    parser.add_argument("--layout", default="config_file", choices=["config_file", "config_library", "both"],
                        help="cowork_layout (default config_file: the same work as the baseline)")
    parser.add_argument("--net", default=NET, help="fleet network, first three octets (default %s)" % NET)
    parser.add_argument("--prefix", default=PREFIX, help="fleet host name prefix (default %s)" % PREFIX)
    parser.add_argument("--base", default=None, help="fleet state directory (default: a new one under /tmp)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the hand-rolled baseline (e)")
    parser.add_argument("--skip-counts", action="store_true", help="do not count module executions/round trips")
    parser.add_argument("--skip-engine", action="store_true", help="do not time the engine alone")
    parser.add_argument("--warm", action="store_true",
                        help="keep SSH ControlMaster connections between runs (default: close them before each run)")
    parser.add_argument("--profile-tasks", action="store_true",
                        help="enable ansible.posix.profile_tasks in every timed run (adds its own overhead)")
    parser.add_argument("--keep-fleet", action="store_true", help="leave the fleet running at the end")
    parser.add_argument("--role", default=None,
                        help="time this role instead of aiohub.claude_desktop.cowork in (b)-(c) (a proposed variant)")
    parser.add_argument("--roles-path", default=None, help="ANSIBLE_ROLES_PATH for --role")
    parser.add_argument("--drift-playbook", default=None,
                        help="time this playbook as (d) instead of playbooks/drift.yml (e.g. a proposed variant)")
    parser.add_argument("--patch", action="append", default=[], metavar="DIFF",
                        help="time the role and the drift playbook with this change applied (a unified diff, "
                             "paths relative to the repository; repeatable): a patched "
                             "copy of roles/cowork runs as the role 'cowork' and a patched playbooks/drift.yml as (d); "
                             "the working tree is not touched")
    parser.add_argument("--only", type=lambda text: text.split(","), default=None,
                        help="comma-separated runs to time, e.g. a,b,c (default: all)")
    parser.add_argument("--scale", type=lambda text: [int(n) for n in text.split(",")], default=None,
                        help="fleet sizes to compare, e.g. 20,40,60: times --only (default a,b,c,d) on each size, "
                             "without baseline, counts and engine, and prints how the run grows with the fleet")
    return parser.parse_args(argv)


def run_scale(args):
    """How far the fleet goes: the same runs on several fleet sizes, one after the other."""
    rows = []
    for size in args.scale:
        sized = argparse.Namespace(**vars(args))
        sized.hosts, sized.skip_baseline, sized.skip_counts, sized.skip_engine = size, True, True, True
        sized.only = args.only or ["a", "b", "c", "d"]
        print("\n=== %d hosts ===" % size, flush=True)
        bench = Bench(sized)
        bench.run()
        medians = bench.medians()
        rows.append((size, medians, max(item.get("others_cpu_max", 0.0) for item in medians.values())))
    print("\nScale: %d users per host, forks %d, medians of %d" % (args.users, args.forks, args.reps))
    names = [name for name in ("a", "b", "c", "d", "e1") if name in rows[0][1]]
    print("| hosts | " + " | ".join("%s: wall s (x ping) / controller CPU s" % LABELS[name] for name in names)
          + " | others' CPU s, max |")
    print("|---" * (len(names) + 2) + "|")
    for size, medians, others in rows:
        cells = ["%.2f (%.2f) / %.1f" % (
            medians[name]["wall"], medians[name]["wall"] / medians["a"]["wall"], medians[name]["cpu"])
            for name in names]
        print("| %d | %s | %.1f |" % (size, " | ".join(cells), others))
    if len(rows) > 1:
        small, first = rows[0][:2]
        large, last = rows[-1][:2]
        print("\nmarginal controller CPU per added host (%d -> %d hosts): " % (small, large) + ", ".join(
            "%s %.0f ms" % (name, 1000.0 * (last[name]["cpu"] - first[name]["cpu"]) / (large - small))
            for name in names))
    return 0


def apply_patches(args):
    """Copy roles/cowork and playbooks/drift.yml to a temp tree, apply ``--patch`` diffs there, and point the
    benchmark at the copies. Returns the temp directory (removed by the caller)."""
    tree = Path(tempfile.mkdtemp(prefix="aiohub-bench-patched-"))
    shutil.copytree(REPO / "roles" / "cowork", tree / "roles" / "cowork")
    shutil.copytree(REPO / "playbooks", tree / "playbooks")
    for diff in args.patch:
        proc = subprocess.run(["patch", "-p1", "-d", str(tree), "-i", str(Path(diff).resolve())], capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0:
            shutil.rmtree(tree, ignore_errors=True)
            raise SystemExit("%s does not apply to the current tree:\n%s%s" % (diff, proc.stdout, proc.stderr))
    drift = tree / "playbooks" / "drift.yml"
    drift.write_text(drift.read_text().replace("name: aiohub.claude_desktop.cowork", "name: cowork"))
    args.role, args.roles_path, args.drift_playbook = "cowork", str(tree / "roles"), str(drift)
    return tree


def main(argv=None):
    args = parse_args(argv)
    patched = apply_patches(args) if args.patch else None
    try:
        return run_mode(args)
    finally:
        if patched:
            shutil.rmtree(patched, ignore_errors=True)


def run_mode(args):
    if not args.net.startswith("169.254."):
        raise SystemExit("--net must be a 169.254.x link-local network")
    if args.scale:
        return run_scale(args)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
